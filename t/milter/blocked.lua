-- SPDX-License-Identifier: BSD-2-Clause
-- a domain the provider says may not send: 550 5.7.1 with the reason
dofile(dir .. "/common.lua")
run(function()
    local conn = open("192.0.2.10")
    local reply, stage = send(conn, "<hello@unverified.example>", {"<customer@example.org>"},
        {{"From", "hello@unverified.example"}}, "hello\r\n", "alice")
    check(stage == "eom" and reply == SMFIR_REPLYCODE, "blocked: refused at end of message")
    check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
        "domain unverified.example is not allowed to send: DNS records not verified; " ..
        "publish the records shown on the provider's Domains page (unverified_dns)"),
        "550 5.7.1 reply with the reason")
    check(not mt.eom_check(conn, MT_RCPTADD, "<archive@unverified.example>"), "nothing added to a refused message")
    check(not mt.eom_check(conn, MT_HDRADD, "X-Sendgate-Tracked"), "no marker on a refused message")
    mt.disconnect(conn)
end)
