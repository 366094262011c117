#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# DKIM survives: a real Postfix with smtpd_milters = sendgate-milter, then
# OpenDKIM (Debian's opendkim, signing shop.example with a key made here by
# opendkim-genkey), as conf/postfix/main.cf.sendgate says. The message
# captured at the sink has its links rewritten, the pixel and the
# List-Unsubscribe headers, and its DKIM signature verifies (python3-dkim,
# with the public key from opendkim-genkey's TXT record), List-Unsubscribe
# and List-Unsubscribe-Post included in the signed headers. A signed message
# re-injected through the same chain is not rewritten again.
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, T, free_port, tmpdir  # noqa: E402
from sgmilter import Milter, setup_cache, endpoint_up  # noqa: E402

t = T()
NEED = ("postfix", "swaks", "smtp-sink", "opendkim", "opendkim-genkey")
missing = [p for p in NEED if not shutil.which(p)]
try:
    import dkim  # noqa: F401
except ImportError:
    missing.append("python3-dkim")
if missing or os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root and %s" % (", ".join(missing) or "root"))
    print("1..0 # SKIP needs root and %s" % (", ".join(missing) or "root"))
    sys.exit(0)
import dkim  # noqa: E402
from pfharness import Postfix  # noqa: E402

d = tmpdir()
# OpenDKIM refuses files under a directory others may write (/tmp): its
# configuration and key live in a private directory under /run
import atexit  # noqa: E402
import tempfile  # noqa: E402
keydir = tempfile.mkdtemp(prefix="sgtest-dkim.", dir="/run")
atexit.register(shutil.rmtree, keydir, True)
r = subprocess.run(["opendkim-genkey", "-b", "2048", "-D", keydir, "-d", "shop.example", "-s", "sg"],
                   capture_output=True, text=True)
t.is_(r.returncode, 0, "opendkim-genkey made a key for shop.example")
os.chmod(os.path.join(keydir, "sg.private"), 0o600)
with open(os.path.join(keydir, "sg.txt")) as f:
    txt = "".join(re.findall(r'"([^"]*)"', f.read()))
dport = free_port()
dconf = os.path.join(keydir, "opendkim.conf")
with open(dconf, "w") as f:
    f.write("""Syslog no
Mode s
Domain shop.example
Selector sg
KeyFile %s
Socket inet:%d@127.0.0.1
InternalHosts 127.0.0.1
Canonicalization relaxed/simple
SignHeaders From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Content-Transfer-Encoding,List-Unsubscribe,List-Unsubscribe-Post
OversignHeaders From,List-Unsubscribe,List-Unsubscribe-Post
""" % (os.path.join(keydir, "sg.private"), dport))
dlog = open(os.path.join(d, "opendkim.log"), "w")
odk = subprocess.Popen(["opendkim", "-f", "-x", dconf], stdout=dlog, stderr=subprocess.STDOUT)
end = time.time() + 15
while time.time() < end and not endpoint_up("inet:127.0.0.1:%d" % dport) and odk.poll() is None:
    time.sleep(0.1)
t.ok(endpoint_up("inet:127.0.0.1:%d" % dport), "OpenDKIM listens")


def dns(name, timeout=5):
    return txt.encode() if name in (b"sg._domainkey.shop.example.", b"sg._domainkey.shop.example") else None


sock = os.path.join(d, "milter.sock")
conf = setup_cache(d, extra={"milter": {"socket": "unix:" + sock, "socket_group": "postfix"}})
html = ('<html><body><p>Hello, see <a href="https://example.org/offer?id=7&amp;x=1">the offer</a> '
        'and <a href="https://example.net/more">more</a>.</p></body></html>')
try:
    with Milter(conf, "unix:" + sock) as m:
        pf = Postfix(d, milters="unix:%s, inet:127.0.0.1:%d" % (sock, dport))
        pf.start()
        try:
            r = pf.swaks("--from", "news@shop.example", "--to", "someone@customer.example",
                         "--header", "From: Shop <news@shop.example>", "--header", "Subject: dkim test",
                         "--add-header", "MIME-Version: 1.0",
                         "--add-header", "Content-Type: text/html; charset=utf-8", "--body", html)
            t.is_(r.returncode, 0, "accepted through sendgate-milter then OpenDKIM")
            msgs = pf.wait_sink(1)
            data = msgs[0].data if msgs else b""
            # smtp-sink's dump starts with its own envelope lines: the message follows them
            msg = data[data.index(b"\n", data.find(b"X-Rcpt-Args")) + 1:] if b"X-Rcpt-Args" in data else data
            t.like(msg.decode(errors="replace"), "https://links.shop.example/c/",
                   "the links are rewritten to the tracking host")
            t.ok(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in msg, "List-Unsubscribe-Post added")
            t.ok(b"DKIM-Signature:" in msg, "OpenDKIM signed it")
            sig = re.search(rb"DKIM-Signature:(.*?)\r?\n(?![ \t])", msg, re.S)
            h = re.sub(rb"\s", b"", re.search(rb"\bh=([^;]*)", sig.group(1)).group(1)).lower() if sig else b""
            t.ok(b"list-unsubscribe" in h and b"list-unsubscribe-post" in h,
                 "the signature covers List-Unsubscribe and List-Unsubscribe-Post (h=%s)" % h.decode())
            ok = dkim.verify(msg, dnsfunc=dns)
            t.ok(ok, "the DKIM signature verifies on the rewritten message (bh matches the new body)")
            if not ok:
                t.diag(msg.decode(errors="replace")[:3000])
                t.diag(open(os.path.join(d, "opendkim.log")).read()[-2000:])

            # the signed, tracked message passes the chain again: not rewritten twice
            again = os.path.join(d, "again.eml")
            with open(again, "wb") as f:
                f.write(msg)
            r = pf.swaks("--from", "news@shop.example", "--to", "someone@customer.example",
                         "--data", again)
            msgs = pf.wait_sink(2)
            second = msgs[1].data if len(msgs) > 1 else b""
            t.ok(second.count(b"links.shop.example/c/") == msg.count(b"links.shop.example/c/") and
                 second.count(b"X-Sendgate-Tracked") == 1,
                 "re-injected: the links are not wrapped twice, one marker header")
        finally:
            pf.stop()
        t.like(m.logtext(), "body=rewritten links=2", "the milter logged two rewritten links")
finally:
    odk.send_signal(signal.SIGTERM)
    try:
        odk.wait(10)
    except subprocess.TimeoutExpired:
        odk.kill()
t.done()
