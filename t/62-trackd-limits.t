#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-trackd under bad input and odd configurations: oversized request
# lines, headers and bodies and malformed requests get a 4xx and the daemon
# keeps serving; idle half-open connections do not lock it up; a reload with a
# broken configuration keeps the running one; unsafe key files stop it from
# starting; it serves HTTPS itself when given a certificate; privacy = drop
# keeps neither address nor user agent.
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import BUILD, T
from trackdtest import Trackd

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

t = T()
td = Trackd(t, trackd={"max_request_size": "4k", "max_connections": "64"})
sent = str(int(time.time()) - 3600)
click = td.make("click", "--domain", "example.com", "--msgref", "L1", "--url", "https://x.example/",
                "--issued", sent)


def healthy():
    code, _, body = td.curl("/healthz")
    return code == 200 and body == "ok\n" and td.proc.poll() is None


def raw(data, read=True):
    s = socket.create_connection(("127.0.0.1", td.port), timeout=10)
    try:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                break
        return out
    except OSError:
        return b""
    finally:
        s.close()


def status_of(resp):
    parts = resp.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


code, _, _ = td.curl("/c/" + "A" * 6000)
t.ok(400 <= code < 500, "a request line over max_request_size: %d" % code)
code, _, _ = td.curl(click, "-H", "X-Big: " + "b" * 6000)
t.ok(400 <= code < 500, "headers over max_request_size: %d" % code)
big = os.path.join(td.dir, "big.bin")
with open(big, "wb") as f:
    f.write(b"List-Unsubscribe=One-Click&" + b"x" * 9000)
unsub = td.make("unsubscribe", "--domain", "example.com", "--msgref", "L1", "--rcpt", "a@b.example")
code, _, _ = td.curl(unsub, "--data-binary", "@" + big)
t.is_(code, 413, "a POST body over max_request_size: 413")
code, _, _ = td.curl(unsub, "--data-binary", "@" + big, "-H", "Transfer-Encoding: chunked")
t.is_(code, 413, "a chunked POST body over max_request_size: 413")
t.ok(healthy(), "still serving")

st = status_of(raw(b"BLAH\r\n\r\n"))
t.ok(st == 0 or 400 <= st < 500, "a request line that is not HTTP: closed (or 4xx)")
t.is_(status_of(raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")), 400,
      "a header line without a colon: 400")
t.ok(400 <= status_of(raw(b"GET /healthz HTTP/1.1\r\n\r\n")) < 500,
     "HTTP/1.1 without Host: 4xx")
t.ok(400 <= status_of(raw(b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n")) < 600,
     "an unknown HTTP version: refused")
raw(os.urandom(3000), read=False)
raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(500))
t.is_(status_of(raw(b"PUT /c/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")), 405,
      "PUT on a token URL: 405")
code, _, _ = td.curl("/c/%00%ff%2e%2e%2f")
t.is_(code, 404, "escaped junk as a token: 404")
code, _, _ = td.curl("/../../etc/passwd", "--path-as-is")
t.is_(code, 404, "path traversal: 404")
t.ok(healthy(), "still serving after garbage")

idle = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", td.port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
    idle.append(s)
t.ok(healthy(), "40 half-sent requests do not stop others being served")
for s in idle:
    s.close()
code, h, _ = td.curl(click, "-A", FIREFOX)
t.is_(code, 302, "clicks still redirect")

# a broken configuration on reload: the running one stays
with open(td.conf, "a") as f:
    f.write("\n[trackd]\nno_such_key = 1\n")
td.proc.send_signal(signal.SIGHUP)
t.ok(td.wait_notify("READY=1"), "reload with errors answers READY=1 again")
code, _, _ = td.curl(click, "-A", FIREFOX)
t.is_(code, 302, "and keeps serving with the old keys")
t.like(td.logtext(), "keeping the running one", "the log says the new configuration was refused")
t.ok(td.stop(), "SIGTERM: clean exit")

# unsafe key files: refused at start
bad = Trackd(t, start=False)
os.chmod(bad.key_path("k1"), 0o644)
p = bad.start(expect_ready=False)
try:
    rc = p.wait(20)
except subprocess.TimeoutExpired:
    p.kill()
    rc = -1
bad.proc = None
t.is_(rc, 78, "a world-readable token key file: start refused (EX_CONFIG)")
t.like(bad.logtext(), "k1.key has mode 0644: others may read it", "the log says why")
t.like(bad.logtext(), "fix: chmod 0640 ", "and how to fix it")

# HTTPS without a proxy, and privacy = drop
tls = Trackd(t, start=False, trackd={"privacy": "drop"})
cert, key = os.path.join(tls.dir, "cert.pem"), os.path.join(tls.dir, "key.pem")
r = subprocess.run([os.path.join(BUILD, "t", "tools", "selfsigned"), cert, key], capture_output=True)
t.is_(r.returncode, 0, "a self-signed certificate for the test")
tls.write_conf(["k1"], {"tls_cert_file": cert, "tls_key_file": key})
tls.start()
click2 = tls.make("click", "--domain", "example.com", "--msgref", "S1", "--url",
                  "https://secure.example/", "--issued", sent)
out = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                      "-A", FIREFOX, "https://127.0.0.1:%d%s" % (tls.port, click2)],
                     capture_output=True, text=True).stdout
t.is_(out, "302 https://secure.example/", "tls_cert_file: the click works over HTTPS")
out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      "http://127.0.0.1:%d/healthz" % tls.port], capture_output=True, text=True).stdout
t.ok(out != "200", "plain HTTP is not served on the TLS port")
ev = []
end = time.time() + 10
while not ev and time.time() < end:
    ev = tls.lines()
    time.sleep(0.05)
ev = [json.loads(x) for x in ev]
t.ok(len(ev) == 1 and ev[0]["client"] is None and ev[0]["ua"] is None and ev[0]["bot"] is None,
     "privacy = drop: no address, no user agent in the event")
t.ok(tls.stop(), "SIGTERM: clean exit")

# IPv6 and IPv4 on one socket: inet6:[::]
v6 = Trackd(t, start=False)
v6.trackd["listen"] = "inet6:[::]:%d" % v6.port
v6.write_conf(["k1"])
v6.start()
for host in ("127.0.0.1", "[::1]"):
    out = subprocess.run(["curl", "-sg", "http://%s:%d/healthz" % (host, v6.port)],
                         capture_output=True, text=True).stdout
    t.is_(out, "ok\n", "listen = inet6:[::]:port answers on %s" % host)
t.ok(v6.stop(), "SIGTERM: clean exit")

badtls = Trackd(t, start=False)
badtls.write_conf(["k1"], {"tls_cert_file": cert, "tls_key_file": key})
os.chmod(key, 0o644)
p = badtls.start(expect_ready=False)
try:
    rc = p.wait(20)
except subprocess.TimeoutExpired:
    p.kill()
    rc = -1
badtls.proc = None
t.is_(rc, 78, "a world-readable TLS key: start refused")
t.done()
