-- SPDX-License-Identifier: BSD-2-Clause
-- common.lua - helpers for sendgate's miltertest scripts (loaded with dofile)
-- Scripts get -D sock=unix:/path -D dir=<this directory>; each ends with
-- os.exit(0) when every check held, else prints "ERROR: ..." and exits 1.
-- POSTFIX-HARNESS.md P4/P5: steps the milter negotiated away are skipped
-- (mt.test_option), errors are printed (Debian's miltertest exits silently),
-- and no reply may exceed about 1 KB.

-- actions an MTA without SMFIF_ADDRCPT_PAR offers: the milter must then add
-- BCC recipients with plain smfi_addrcpt, which MT_RCPTADD can check
ACTIONS = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT

function check(cond, what)
    if not cond then error("check failed: " .. what, 2) end
end

function open(client_ip)
    local conn = mt.connect(sock, 20, 0.25)
    check(conn ~= nil, "connect to " .. sock)
    check(mt.negotiate(conn, nil, ACTIONS, nil) == nil, "negotiate")
    if not mt.test_option(conn, SMFIP_NOCONNECT) then
        check(mt.conninfo(conn, "client.example.net", client_ip) == nil, "conninfo")
        check(mt.getreply(conn) == SMFIR_CONTINUE, "connect -> continue")
    end
    return conn
end

-- send a whole message; returns the milter's reply to end of message, or the
-- reply that ended the transaction earlier (with the stage's name)
function send(conn, from, rcpts, headers, body, auth)
    mt.macro(conn, SMFIC_MAIL, "i", "LUATEST01", "{auth_authen}", auth or "")
    check(mt.mailfrom(conn, from) == nil, "mailfrom")
    if mt.getreply(conn) ~= SMFIR_CONTINUE then return mt.getreply(conn), "mail" end
    for _, r in ipairs(rcpts) do
        check(mt.rcptto(conn, r) == nil, "rcptto")
        if mt.getreply(conn) ~= SMFIR_CONTINUE then return mt.getreply(conn), "rcpt" end
    end
    if not mt.test_option(conn, SMFIP_NODATA) then
        check(mt.data(conn) == nil, "data")
    end
    for _, h in ipairs(headers) do
        check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
    end
    check(mt.eoh(conn) == nil, "eoh")
    check(mt.bodystring(conn, body) == nil, "body")
    check(mt.eom(conn) == nil, "eom")
    return mt.getreply(conn), "eom"
end

function run(fn)
    local ok, err = pcall(fn)
    if not ok then
        print("ERROR: " .. tostring(err))
        os.exit(1)
    end
    os.exit(0)
end
