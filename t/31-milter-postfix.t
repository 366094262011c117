#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-milter behind a real Postfix (smtpd_milters, protocol 6, smtpd
# running as the postfix user): a message from an allowed domain reaches
# the next hop with the verified BCC recipient added and nothing else
# visible; a blocked domain is refused with 550 5.7.1 at the end of DATA
# and nothing is delivered; with domain_source = envelope the refusal comes
# at MAIL FROM; over an inet socket too; with the milter gone, Postfix
# answers 4xx (milter_default_action = tempfail) and delivers nothing.
import os
import shutil
import stat
import sys
import grp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, T, free_port, tmpdir  # noqa: E402
from sgmilter import Milter, setup_cache  # noqa: E402

t = T()
missing = [p for p in ("postfix", "swaks", "smtp-sink") if not shutil.which(p)]
if missing or os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root and %s" % (", ".join(missing) or "root"))
    print("1..0 # SKIP needs root and postfix, swaks (run make check as root)")
    sys.exit(0)
from pfharness import Postfix  # noqa: E402

HTML = "<html><body><p>Hello, <a href=\"https://example.org/x\">x</a></p></body></html>"


def send(pf, sender, rcpt, from_hdr=None, *extra):
    return pf.swaks("--from", sender, "--to", rcpt,
                    "--header", "From: %s" % (from_hdr or sender), "--header", "Subject: t31",
                    *extra)


# --- unix socket, From: header ----------------------------------------------------
d = tmpdir()
sock = os.path.join(d, "milter.sock")
conf = setup_cache(d, extra={"milter": {"socket": "unix:" + sock, "socket_group": "postfix",
                                        "socket_mode": "0660"}})
with Milter(conf, "unix:" + sock) as m:
    st = os.stat(sock)
    t.ok(stat.S_ISSOCK(st.st_mode) and (st.st_mode & 0o777) == 0o660 and
         st.st_gid == grp.getgrnam("postfix").gr_gid,
         "the milter socket is srw-rw---- with group postfix (smtpd runs as postfix)")
    pf = Postfix(d, milters="unix:" + sock)
    pf.start()
    try:
        r = send(pf, "news@shop.example", "customer@example.org", "Shop <news@shop.example>")
        t.is_(r.returncode, 0, "allowed domain: accepted (250 after DATA)")
        msgs = pf.wait_sink(1)
        t.is_(len(msgs), 1, "it reaches the next hop")
        rcpts = sorted(msgs[0].rcpts) if msgs else []
        t.is_(rcpts, ["archive@shop.example", "customer@example.org"],
              "the verified BCC address was added as a recipient, the pending one was not")
        t.is_(msgs[0].header("Bcc") if msgs else None, [], "no Bcc: header appears")
        t.ok(msgs and b"t31" in msgs[0].data, "the message itself is intact")

        # the BCC address is not added twice when it is already a recipient
        r = pf.swaks("--from", "news@shop.example", "--to",
                     "customer@example.org,archive@shop.example",
                     "--header", "From: news@shop.example")
        msgs = pf.wait_sink(2)
        t.is_(sorted(msgs[1].rcpts) if len(msgs) > 1 else None,
              ["archive@shop.example", "customer@example.org"],
              "a BCC address that is already a recipient is not added again")

        r = send(pf, "news@shop.example", "customer@example.org", "hello@unverified.example")
        t.is_(r.returncode, 26, "blocked From: domain: refused after DATA")
        t.like(r.stdout, "550 5.7.1 domain unverified.example is not allowed to send",
               "with 550 5.7.1 naming the domain and the reason")
        t.like(r.stdout, "(unverified_dns)", "and the provider's status")
        t.is_(len(pf.wait_sink(3, timeout=2)), 2, "nothing from the blocked domain was delivered")

        r = send(pf, "news@shop.example", "customer@example.org", "hi@review.example")
        t.is_(r.returncode, 26, "domain under review: refused after DATA")
        t.like(r.stdout, "451 4.7.1", "with a temporary 451 4.7.1")

        # the envelope domain does not matter with domain_source = header
        r = send(pf, "bounce@unverified.example", "customer@example.org", "news@shop.example")
        t.is_(r.returncode, 0, "domain_source = header: the From: domain decides, not MAIL FROM")
        t.is_(pf.fatal_lines(), [], "no fatal errors in Postfix's log")
        log = m.logtext()
        t.like(log, "added BCC recipient <archive@shop.example> NOTIFY=NEVER",
               "the milter logged the added BCC with NOTIFY=NEVER (Postfix offered ADDRCPT_PAR)")
    finally:
        pf.stop()

    # --- the milter is gone: Postfix defers -------------------------------------------
    m.stop()
    pf = Postfix(os.path.join(d, "down"), milters="unix:" + sock)
    os.makedirs(os.path.join(d, "down"), exist_ok=True)
    pf.start()
    try:
        r = send(pf, "news@shop.example", "customer@example.org")
        t.ok(r.returncode != 0 and "451 4.7.1" in r.stdout,
             "milter unreachable: 451 4.7.1 (milter_default_action = tempfail), no mail passes "
             "unchecked")
        t.is_(len(pf.wait_sink(1, timeout=2)), 0, "nothing was delivered")
    finally:
        pf.stop()

# --- inet socket, envelope sender ---------------------------------------------------
d2 = tmpdir()
port = free_port()
conf2 = setup_cache(d2, extra={"milter": {"socket": "inet:127.0.0.1:%d" % port,
                                          "domain_source": "envelope"}})
with Milter(conf2, "inet:127.0.0.1:%d" % port) as m:
    pf = Postfix(d2, milters="inet:127.0.0.1:%d" % port)
    pf.start()
    try:
        r = send(pf, "hello@unverified.example", "customer@example.org")
        t.is_(r.returncode, 23, "domain_source = envelope: a blocked sender is refused at MAIL FROM")
        t.like(r.stdout, "550 5.7.1 domain unverified.example is not allowed to send",
               "with the same 550 5.7.1 text")
        r = send(pf, "news@shop.example", "customer@example.org", "x@unverified.example")
        t.is_(r.returncode, 0, "domain_source = envelope: the From: header does not matter")
        msgs = pf.wait_sink(1)
        t.is_(sorted(msgs[0].rcpts) if msgs else None,
              ["archive@shop.example", "customer@example.org"],
              "over inet: the verified BCC is added")
        r = send(pf, "<>", "customer@example.org", "x@shop.example")
        t.is_(r.returncode, 0, "the null sender is accepted (handling.null_sender default)")
    finally:
        pf.stop()
    t.ok("TCP_NODELAY" not in m.logtext(),
         "the inet listener got TCP_NODELAY (accepted connections inherit it: no 40 ms Nagle stalls)")
t.done()
