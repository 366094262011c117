-- SPDX-License-Identifier: BSD-2-Clause
-- an authenticated client, an allowed domain: the verified BCC address is
-- added (see the log check in t/30), the pending one is not, no Bcc: header, tracking marker added
dofile(dir .. "/common.lua")
run(function()
    local conn = open("192.0.2.10")
    local reply, stage = send(conn, "<news@shop.example>", {"<customer@example.org>"},
        {{"From", "Shop News <news@shop.example>"}, {"To", "customer@example.org"},
         {"Subject", "offers"}}, "hello\r\n", "alice")
    check(stage == "eom" and reply == SMFIR_CONTINUE, "allowed: accepted at end of message")
    -- miltertest always offers SMFIF_ADDRCPT_PAR, so the milter adds with
    -- ESMTP arguments (SMFIR_ADDRCPT_PAR), which MT_RCPTADD does not see:
    -- t/30-miltertest.t checks the milter's log line for the added address
    check(not mt.eom_check(conn, MT_RCPTADD, "<audit@shop.example>"), "pending BCC not added")
    check(not mt.eom_check(conn, MT_HDRADD, "Bcc"), "no Bcc: header")
    check(mt.eom_check(conn, MT_HDRADD, "X-Sendgate-Tracked"), "tracking marker header")
    mt.disconnect(conn)
end)
