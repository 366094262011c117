#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The whole tracking loop with the real programs: a message rewritten by
# `sendgate-milter -t` carries links that the running sendgate-trackd
# redirects to their original URLs, a pixel it answers with a GIF, and a
# List-Unsubscribe URL whose RFC 8058 one-click POST it records; from then
# on the recipient is refused for that sending domain, and only that one,
# by the milter (550 5.7.1) and by sendgate-policyd (REJECT at RCPT TO).
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, free_port, tmpdir  # noqa: E402
from sgmilter import endpoint_up, setup_cache  # noqa: E402

t = T()
d = tmpdir()
dom = os.path.join(d, "domains.conf")
with open(dom, "w") as f:
    f.write("[outbound mail.example]\nstatus = compliant\nclick_tracking = yes\nopen_tracking = yes\n"
            "unsubscribe = yes\ntracking_host = t.mail.example\n\n"
            "[outbound other.example]\nstatus = compliant\n")
port = free_port()
psock = os.path.join(d, "policy.sock")
conf = setup_cache(d, domains=dom, extra={
    "trackd": {"listen": "inet:127.0.0.1:%d" % port, "events_file": os.path.join(d, "events.log"),
               "stats_path": os.path.join(d, "stats")},
    "policyd": {"policy_socket": "unix:" + psock, "socketmap_socket": ""}})
LINK = "https://example.org/offer?id=7&x=1"
msg = os.path.join(d, "m.eml")
with open(msg, "wb") as f:
    f.write(("From: News <news@mail.example>\r\nTo: jane@customer.example\r\nSubject: e2e\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             '<html><body><p><a href="%s">offer</a></p></body></html>\r\n' % LINK.replace("&", "&amp;")).encode())


def milter_t(sender_domain, rcpt):
    path = os.path.join(d, "m-%s.eml" % sender_domain)
    with open(msg, "rb") as f, open(path, "wb") as g:
        g.write(f.read().replace(b"news@mail.example", ("news@%s" % sender_domain).encode()))
    p = subprocess.run([bin_path("sendgate-milter"), "-c", conf, "-t", path, "--from",
                        "news@%s" % sender_domain, "--rcpt", rcpt, "--auth", "alice"],
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def http(path, method="GET", data=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method, data=data,
                                 headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) e2e"})
    try:
        r = urllib.request.build_opener(NoRedirect).open(req, timeout=10)
        return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def policy(sender, rcpt):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(psock)
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=%s\nrecipient=%s\n"
               "client_address=127.0.0.1\nsasl_username=alice\n\n" % (sender, rcpt)).encode())
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode().strip()


trackd = subprocess.Popen([bin_path("sendgate-trackd"), "-f", "-c", conf],
                          stdout=open(os.path.join(d, "trackd.out"), "w"), stderr=subprocess.STDOUT)
policyd = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", conf],
                           stdout=open(os.path.join(d, "policyd.out"), "w"), stderr=subprocess.STDOUT)
try:
    end = time.time() + 20
    while time.time() < end and not (endpoint_up("inet:127.0.0.1:%d" % port) and endpoint_up("unix:" + psock)):
        time.sleep(0.05)
    t.ok(endpoint_up("inet:127.0.0.1:%d" % port), "sendgate-trackd listens")
    t.ok(endpoint_up("unix:" + psock), "sendgate-policyd listens")

    rc, out, err = milter_t("mail.example", "jane@customer.example")
    t.is_(rc, 0, "sendgate-milter -t rewrote the message")
    m = re.search(r'href="https://t\.mail\.example(/c/[A-Za-z0-9_-]+)"', out)
    t.ok(m, "the link points at the domain's tracking host")
    code, hdrs, _ = http(m.group(1) if m else "/c/x")
    t.is_((code, hdrs.get("Location")), (302, LINK), "trackd redirects the milter's link to the original URL")
    code, hdrs, _ = http((m.group(1) if m else "/c/x")[:-2] + "AA")
    t.is_((code, hdrs.get("Location")), (404, None), "a tampered link is a 404, never a redirect")
    p = re.search(r'<img src="https://t\.mail\.example(/o/[A-Za-z0-9_-]+)"', out)
    code, hdrs, body = http(p.group(1) if p else "/o/x")
    t.ok(code == 200 and body[:6] in (b"GIF89a", b"GIF87a"), "the pixel is answered with a GIF")
    u = re.search(r"^List-Unsubscribe: <https://t\.mail\.example(/u/[A-Za-z0-9_-]+)>", out, re.M)
    t.ok(u, "List-Unsubscribe names the recipient's unsubscribe URL")
    t.like(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "RFC 8058 one-click header")

    t.like(policy("news@mail.example", "jane@customer.example"), "action=DUNNO",
           "before: sendgate-policyd lets jane receive mail.example's mail")
    code, _, _ = http(u.group(1) if u else "/u/x", "POST", b"List-Unsubscribe=One-Click")
    t.is_(code, 200, "the one-click POST is recorded (200)")

    rc, out, err = milter_t("mail.example", "jane@customer.example")
    t.like(err, "REJECT 550 5.7.1", "after: the milter refuses mail from mail.example to jane")
    rc, out, err = milter_t("other.example", "jane@customer.example")
    t.ok("REJECT" not in err and "ACCEPT" in err, "mail from other.example to jane still passes the milter")
    t.like(policy("news@mail.example", "jane@customer.example"),
           "action=550 5.7.1 recipient jane@customer.example has unsubscribed from mail from domain mail.example",
           "after: sendgate-policyd rejects jane at RCPT TO for mail.example")
    t.like(policy("news@other.example", "jane@customer.example"), "action=DUNNO",
           "and lets other.example's mail to jane through")
    with open(os.path.join(d, "events.log")) as f:
        kinds = [re.search(r'"kind":"(\w+)"', l).group(1) for l in f if '"kind"' in l]
    t.is_(sorted(set(kinds)), ["click", "open", "unsubscribe"], "trackd recorded the click, open and unsubscribe")
finally:
    for p in (trackd, policyd):
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
t.done()
