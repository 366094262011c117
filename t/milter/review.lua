-- SPDX-License-Identifier: BSD-2-Clause
-- a domain under review: 451 4.7.1, try again later
dofile(dir .. "/common.lua")
run(function()
    local conn = open("192.0.2.10")
    local reply, stage = send(conn, "<hello@review.example>", {"<customer@example.org>"},
        {{"From", "hello@review.example"}}, "hello\r\n", "alice")
    check(stage == "eom" and reply == SMFIR_REPLYCODE, "under review: refused at end of message")
    check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1",
        "domain review.example is not allowed to send yet: compliance review in progress, " ..
        "usually a few minutes (under_review); try again later"), "451 4.7.1 reply")
    mt.disconnect(conn)
end)
