#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-milter against miltertest (OpenDKIM's MTA simulator, the real
# milter protocol): allowed domain with BCC, blocked (550), under review
# (451), unknown domain per the handling table, inbound mail left alone.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, TOP, run, tmpdir
from sgmilter import Milter, setup_cache

t = T()
d = tmpdir()
scripts = os.path.join(TOP, "t", "milter")


def miltertest(script, sock, **defs):
    argv = ["miltertest", "-D", "sock=" + sock, "-D", "dir=" + scripts]
    for k, v in defs.items():
        argv += ["-D", "%s=%s" % (k, v)]
    r = run(argv + ["-s", os.path.join(scripts, script)], timeout=60)
    return r.returncode, r.stdout + r.stderr


cases = [
    ("allowed.lua", {}, "allowed domain: verified BCC added (MT_RCPTADD), pending not, no Bcc: header"),
    ("blocked.lua", {}, "blocked domain: 550 5.7.1 with the reason (MT_SMTPREPLY)"),
    ("review.lua", {}, "domain under review: 451 4.7.1 (MT_SMTPREPLY)"),
    ("unknown.lua", {"expect": "accept"}, "unknown domain accepted by default (handling.unknown_domain)"),
    ("inbound.lua", {}, "inbound connection accepted untouched at MAIL FROM"),
]
sock = "unix:%s/milter.sock" % d
conf = setup_cache(d, extra={"milter": {"socket": sock}})
with Milter(conf, sock) as m:
    for script, defs, desc in cases:
        rc, out = miltertest(script, sock, **defs)
        if not t.ok(rc == 0, desc):
            t.diag(out)
            t.diag(m.logtext()[-3000:])
        if script == "allowed.lua":
            log = m.logtext()
            t.like(log, "added BCC recipient <archive@shop.example> NOTIFY=NEVER",
                   "the verified BCC address was added with NOTIFY=NEVER (SMFIR_ADDRCPT_PAR)")
            t.ok("audit@shop.example" not in log, "the pending BCC address was not added")

# the same unknown domain with handling.unknown_domain = reject
d2 = tmpdir()
sock2 = "unix:%s/milter.sock" % d2
conf2 = setup_cache(d2, extra={"milter": {"socket": sock2}, "handling": {"unknown_domain": "reject"}})
with Milter(conf2, sock2) as m:
    rc, out = miltertest("unknown.lua", sock2, expect="reject")
    if not t.ok(rc == 0, "unknown domain refused with 550 5.7.1 when handling.unknown_domain = reject"):
        t.diag(out)
t.done()
