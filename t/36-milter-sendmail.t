#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-milter behind a real Sendmail 8.17 (Debian's packages, unpacked,
# not installed: sendmail-bin conflicts with postfix; t/lib/smharness.py),
# configured with the shipped conf/sendmail/sendgate.mc, on loopback:
#
#   * sendmail.cf gets the snippet's INPUT_MAIL_FILTER line as written;
#   * sendgate.conf is the snippet's "sendgate.conf to match" block, which
#     check-config accepts without a warning: a Sendmail-only site has no
#     policy sockets, and its milter socket is judged by Sendmail's rules
#     ([milter] mta = sendmail), not Postfix's;
#   * as the packaged units run them (user sendgate, socket_group empty),
#     sendgate-policyd only refreshes the cache and the milter serves
#     Sendmail: a blocked domain gets 550 5.7.1 after DATA, the verified
#     BCC is added with NOTIFY=NEVER, links are rewritten and signed, an
#     unknown domain passes untouched, the milter's log line starts with
#     Sendmail's queue id;
#   * with the milter down, F=T makes Sendmail answer 4xx: nothing passes
#     unchecked.
#
# Substituted for the throw-away server, and nothing else: the socket path
# /run/sendgate/milter.sock (the snippet's S= and socket = lines) becomes a
# fresh directory under /run, sendgate:sendgate 0750 like /run/sendgate
# (not under /tmp: Sendmail refuses a socket below a world-writable
# directory). The test adds the state directory, the static provider and
# the tracking key, which the snippet leaves to the operator.
import atexit
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T, bin_path, run, tmpdir, wait_for  # noqa: E402

t = T()
NEED = ("m4", "swaks", "smtp-sink", "unshare", "dpkg", "apt-get", "setpriv", "systemd-sysusers")
missing = [p for p in NEED if not shutil.which(p)]
if missing or os.geteuid() != 0:
    t.bail("needs root and %s (scripts/deps)" % (", ".join(missing) or "root"))
from smharness import Sendmail  # noqa: E402

MC = os.path.join(TOP, "conf", "sendmail", "sendgate.mc")
SHIPPED_SOCK = "/run/sendgate/milter.sock"
# the packaged units' User=sendgate, created from the shipped sysusers.d file as the
# package does (it stays, as Debian keeps system users; t/95-package.t makes it too)
r = run(["systemd-sysusers", os.path.join(TOP, "packaging", "sysusers", "sendgate.conf")])
if r.returncode != 0:
    t.bail("systemd-sysusers: %s" % r.stderr)
pw = pwd.getpwnam("sendgate")

d = tmpdir("sgsendmail-")
rundir = tempfile.mkdtemp(prefix="sgtest-sm-", dir="/run")
atexit.register(shutil.rmtree, rundir, True)
os.chown(rundir, pw.pw_uid, pw.pw_gid)
os.chmod(rundir, 0o750)
sock = os.path.join(rundir, "milter.sock")
state = os.path.join(d, "state")
os.mkdir(state, 0o750)
os.chown(state, pw.pw_uid, pw.pw_gid)

with open(MC) as f:
    mc_text = f.read()
t.ok(SHIPPED_SOCK in mc_text, "the shipped sendgate.mc names %s" % SHIPPED_SOCK)


def conf_block(text):
    """The snippet's "sendgate.conf to match" block, without its dnl prefixes."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("dnl sendgate.conf to match"):
            inside = True
        elif inside and line.startswith("dnl    "):
            out.append(line[len("dnl    "):])
        elif inside:
            break
    return "\n".join(out) + "\n"


block = conf_block(mc_text)
t.ok("mta = sendmail" in block and "socket = unix:" + SHIPPED_SOCK in block,
     "sendgate.mc carries the sendgate.conf lines to match")
key = os.path.join(d, "token-1.key")
run([bin_path("sendgatectl"), "token", "genkey", key])
os.chown(key, 0, pw.pw_gid)
os.chmod(key, 0o640)
dom = os.path.join(d, "domains.conf")
with open(dom, "w") as f:
    f.write("[outbound shop.example]\nstatus = compliant\nopen_tracking = yes\n"
            "click_tracking = yes\nbcc = archive@shop.example\n\n"
            "[outbound blocked.example]\nstatus = suspended\n"
            "reason = domain suspended by the provider\n")
conf = os.path.join(d, "sendgate.conf")
with open(conf, "w") as f:
    f.write(block.replace(SHIPPED_SOCK, sock))
    f.write("\n[general]\nstate_dir = %s\nprovider_order = static\n\n[static]\nenabled = yes\n"
            "file = %s\n\n[refresh]\ninterval = 1h\n\n[tracking]\ndefault_host = t.shop.example\n"
            "key_files = %s\n" % (state, dom, key))

r = run([bin_path("sendgatectl"), "-c", conf, "check-config"])
t.is_(r.returncode, 0, "check-config accepts a Sendmail-only configuration (no policy sockets)")
t.is_([l for l in r.stdout.splitlines() if "warning" in l], [],
      "check-config: no warning (the socket is judged by Sendmail's rules, not Postfix's)")
bad = os.path.join(d, "bad.conf")
with open(bad, "w") as f:
    f.write(block.replace(SHIPPED_SOCK, os.path.join(d, "milter.sock")))
r = run([bin_path("sendgatectl"), "-c", bad, "check-config"])
t.like(r.stdout, "Sendmail refuses a milter socket below the group- or world-writable directory /tmp",
       "check-config: a socket below /tmp is one Sendmail refuses")


def as_sendgate(argv, log):
    """A daemon as the packaged unit runs it: user and group sendgate."""
    return subprocess.Popen(["setpriv", "--reuid=sendgate", "--regid=sendgate", "--init-groups",
                             "--"] + argv, stdout=log, stderr=subprocess.STDOUT)


def text(path):
    with open(path, errors="replace") as f:
        return f.read()


def stop(p, timeout=15):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


plog_path, mlog_path = os.path.join(d, "policyd.log"), os.path.join(d, "milter.log")
plog, mlog = open(plog_path, "w"), open(mlog_path, "w")
policyd = as_sendgate([bin_path("sendgate-policyd"), "-f", "-c", conf], plog)
milter = None
sm = None
try:
    got = wait_for(lambda: run([bin_path("sendgatectl"), "-c", conf, "cache", "get",
                                "shop.example"]).returncode == 0 or policyd.poll() is not None, 30)
    t.ok(got and policyd.poll() is None,
         "sendgate-policyd without policy sockets runs, and its refresher fills the cache")
    t.like(text(plog_path), "only refreshing the cache", "it says it only refreshes the cache")

    milter = as_sendgate([bin_path("sendgate-milter"), "-f", "-c", conf], mlog)
    up = wait_for(lambda: os.path.exists(sock) or milter.poll() is not None, 20)
    t.ok(up and milter.poll() is None, "sendgate-milter runs as user sendgate on " + sock)
    if milter.poll() is not None:
        t.diag(text(mlog_path))
    st = os.stat(sock) if os.path.exists(sock) else None
    t.ok(st and st.st_uid == pw.pw_uid and st.st_gid == pw.pw_gid and (st.st_mode & 0o777) == 0o660,
         "the socket is sendgate:sendgate 0660 (socket_group left empty)")

    snippet = os.path.join(d, "sendgate.mc")
    with open(snippet, "w") as f:
        f.write(mc_text.replace(SHIPPED_SOCK, sock))
    sm = Sendmail(d, ["include(`%s')dnl" % snippet])
    t0 = time.time()
    sm.start()
    t.diag("sendmail up in %.1f s" % (time.time() - t0))
    with open(sm.cf) as f:
        cf = f.read()
    t.ok(re.search(r"^Xsendgate, S=local:%s, F=T, T=C:10s;S:30s;R:30s;E:5m$" % re.escape(sock), cf,
                   re.M), "sendmail.cf has the snippet's milter line (Xsendgate ... F=T)")
    t.ok(re.search(r"^O InputMailFilters=sendgate$", cf, re.M), "and uses it (InputMailFilters)")

    r = sm.swaks("--from", "news@blocked.example", "--to", "you@customer.example",
                 "--header", "From: News <news@blocked.example>", "--header", "Subject: blocked")
    t.is_(r.returncode, 26, "a blocked domain's message is refused after DATA (swaks 26)")
    t.like(r.stdout, "550 5.7.1 domain blocked.example is not allowed to send",
           "Sendmail answers the milter's 550 5.7.1 with the reason")

    html = '<p>See <a href="https://shop.example/offer?id=7">the offer</a></p>'
    r = sm.swaks("--from", "news@shop.example", "--to", "you@customer.example",
                 "--header", "From: News <news@shop.example>", "--header", "Subject: allowed",
                 "--add-header", "MIME-Version: 1.0", "--add-header", "Content-Type: text/html",
                 "--body", html)
    t.is_(r.returncode, 0, "an allowed domain's message is accepted")
    msgs = sm.wait_sink(1)
    raw = open(msgs[0].path, "rb").read().decode(errors="replace") if msgs else ""
    t.ok(re.search(r"^X-Rcpt-Args: <archive@shop\.example> NOTIFY=NEVER", raw, re.M),
         "the verified BCC archive@shop.example is added with NOTIFY=NEVER")
    t.ok(re.search(r"^X-Rcpt-Args: <you@customer\.example>", raw, re.M), "the recipient is kept")
    m = re.search(r'href="(https://t\.shop\.example/c/[A-Za-z0-9_-]+)"', raw)
    t.ok(m and "https://shop.example/offer" not in raw, "the link is rewritten to the tracking host")
    r = run([bin_path("sendgatectl"), "-c", conf, "token", "decode", m.group(1) if m else "x"])
    t.ok(r.returncode == 0 and "https://shop.example/offer?id=7" in r.stdout,
         "the token is signed with the configured key and holds the original URL")
    t.ok(re.search(r'<img src="https://t\.shop\.example/o/', raw), "the open pixel is added")
    q = re.search(r"by mx\.sendmail\.example \(8[^)]*\)\s+with ESMTP id (\w+)", raw)
    qid = q.group(1) if q else "?"
    t.ok(re.search(r"^sendgate-milter\[\d+\]: %s: from=<news@shop\.example> .*bcc_added=1"
                   % re.escape(qid), text(mlog_path), re.M),
         "the milter's log line starts with Sendmail's queue id %s" % qid)

    r = sm.swaks("--from", "news@unknown.example", "--to", "you@customer.example",
                 "--header", "Subject: unknown", "--body", html)
    msgs = sm.wait_sink(2)
    other = [open(x.path, "rb").read().decode(errors="replace") for x in msgs
             if b"Subject: unknown" in open(x.path, "rb").read()]
    t.ok(r.returncode == 0 and other and "https://shop.example/offer" in other[0] and
         "archive@" not in other[0], "an unknown domain's message passes untouched")

    t.is_(stop(milter), 0, "the milter stops on SIGTERM with status 0")
    t.ok("runtime error" not in text(mlog_path) and "Sanitizer" not in text(mlog_path),
         "no sanitizer report from the milter")
    before = len(sm.sink_files())
    r = sm.swaks("--from", "news@shop.example", "--to", "you@customer.example",
                 "--header", "Subject: milter down")
    t.ok(r.returncode != 0 and re.search(r"^<\*\* +4\d\d 4\.\d\.\d", r.stdout, re.M),
         "with the milter down, F=T: Sendmail answers 4xx")
    t.diag([l for l in r.stdout.splitlines() if l.startswith("<**")][:1])
    time.sleep(0.5)
    t.is_(len(sm.sink_files()), before, "and nothing passes unchecked")
finally:
    if sm:
        sm.stop()
    for p in (milter, policyd):
        if p is not None:
            stop(p)
    plog.close()
    mlog.close()
t.done()
