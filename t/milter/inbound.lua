-- SPDX-License-Identifier: BSD-2-Clause
-- a client that is neither internal nor authenticated (mail from the
-- Internet): accepted untouched at MAIL FROM, even from a blocked domain
dofile(dir .. "/common.lua")
run(function()
    local conn = open("203.0.113.5")
    local reply, stage = send(conn, "<hello@unverified.example>", {"<postmaster@example.org>"},
        {{"From", "hello@unverified.example"}}, "hello\r\n", nil)
    check(stage == "mail" and reply == SMFIR_ACCEPT, "inbound mail accepted at MAIL FROM")
    mt.disconnect(conn)
end)
