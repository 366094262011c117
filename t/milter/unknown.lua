-- SPDX-License-Identifier: BSD-2-Clause
-- a domain no provider knows: handling.unknown_domain (-D expect=accept|reject)
dofile(dir .. "/common.lua")
run(function()
    local conn = open("192.0.2.10")
    local reply, stage = send(conn, "<someone@unknown.example>", {"<customer@example.org>"},
        {{"From", "someone@unknown.example"}}, "hello\r\n", "alice")
    if expect == "reject" then
        check(stage == "eom" and reply == SMFIR_REPLYCODE, "unknown domain refused")
        check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
            "domain unknown.example is not registered with any sending provider"), "550 text")
    else
        check(stage == "eom" and reply == SMFIR_CONTINUE, "unknown domain accepted")
        check(not mt.eom_check(conn, MT_HDRADD, "X-Sendgate-Tracked"), "and left untouched")
    end
    mt.disconnect(conn)
end)
