#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-trackd exposed directly, plain and in its TLS mode, cannot be
# starved by connections that never finish a request. A request (or a TLS
# handshake) trickling in one byte every 2 s is closed at
# trackd.request_timeout, although connection_timeout, an idle timeout, never
# fires on it; a slow but timely request and a kept-alive connection are still
# served. With 4,000 idle and 300 trickling connections open, from one address
# or from hundreds, a real click from another address gets its 302 in under a
# second: a flood only ever displaces its own oldest connections. With too few
# file descriptors for max_connections it serves what fits and says so.
# Loopback only (127.0.0.0/8 source addresses), bounded counts and time.
import os
import resource
import select
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import BUILD, T  # noqa: E402
from trackdtest import Trackd  # noqa: E402

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IDLE = 4000
TRICKLE = 300
EVERY = 2.0      # seconds between two bytes of a trickling connection
DEADLINE = 3     # request_timeout of the short-deadline daemons, seconds
SLACK = 2.5      # allowed past the deadline: sweep period, scheduling, a loaded machine
NEED_FDS = IDLE + TRICKLE + 1000

t = T()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < NEED_FDS:
    resource.setrlimit(resource.RLIMIT_NOFILE,
                       (NEED_FDS if hard == resource.RLIM_INFINITY else min(NEED_FDS, hard), hard))
if not t.ok(resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= NEED_FDS,
            "the test may open %d sockets (RLIMIT_NOFILE)" % NEED_FDS):
    t.bail("the hard RLIMIT_NOFILE (%s) is below %d: raise it for the test user" % (hard, NEED_FDS))


def addrs(prefix, n):
    """n loopback source addresses prefix.1 .. prefix.n (prefix like '127.0.2')."""
    return ["%s.%d" % (prefix, i) for i in range(1, n + 1)]


def open_many(port, sources, per_source, timeout=20):
    """per_source non-blocking TCP connections from each source address; returns the
    sockets and how many handshakes completed (a flood does not wait for accept)."""
    socks = []
    for src in sources:
        for _ in range(per_source):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
    byfd = {s.fileno(): s for s in socks}
    p = select.poll()
    for fd in byfd:
        p.register(fd, select.POLLOUT)
    pending = set(byfd)
    end = time.monotonic() + timeout
    while pending and time.monotonic() < end:
        for fd, _ in p.poll(200):
            pending.discard(fd)
            p.unregister(fd)
    return socks, len(socks) - len(pending)


def close_all(socks):
    for s in socks:
        s.close()


class Trickle:
    """Send each socket its data one byte every EVERY seconds, in a thread, and note
    when trackd ends each connection (seconds after start())."""

    def __init__(self, socks, data):
        self.socks = socks
        self.data = data
        self.closed = {}
        self.sent = [0] * len(socks)
        self.halt = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)

    def send_round(self):
        for i, s in enumerate(self.socks):
            if i not in self.closed and self.sent[i] < len(self.data[i]):
                try:
                    s.send(self.data[i][self.sent[i]:self.sent[i] + 1])
                    self.sent[i] += 1
                except OSError:
                    pass  # seen as closed by the poll

    def start(self, t0=None):
        """t0: when the connections were opened (trackd's deadline runs from its accept)."""
        self.t0 = time.monotonic() if t0 is None else t0
        self.send_round()
        self.th.start()

    def run(self):
        p = select.poll()
        idx = {}
        for i, s in enumerate(self.socks):
            p.register(s, select.POLLIN)
            idx[s.fileno()] = i
        due = self.t0 + EVERY
        while not self.halt.is_set() and len(self.closed) < len(self.socks):
            wait = max(0.0, min(due - time.monotonic(), 0.05))
            for fd, _ in p.poll(wait * 1000):
                i = idx[fd]
                try:
                    got = self.socks[i].recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    got = b""
                if not got:
                    self.closed[i] = time.monotonic() - self.t0
                    p.unregister(fd)
            if time.monotonic() >= due:
                self.send_round()
                due += EVERY

    def wait_all_closed(self, limit):
        end = self.t0 + limit
        while len(self.closed) < len(self.socks) and time.monotonic() < end:
            time.sleep(0.05)
        return dict(self.closed)

    def stop(self):
        self.halt.set()
        self.th.join(10)
        close_all(self.socks)


def client_hello():
    """The first flight of a real TLS client, to be trickled byte by byte."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="t.example")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def click(td, path, src):
    """(status, seconds, Location) of one click with curl from source address src."""
    r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "--interface", src, "--max-time", "10",
                        "-A", FIREFOX, "-w", "%{http_code} %{time_total} %{redirect_url}",
                        td.url(path)], capture_output=True, text=True)
    parts = r.stdout.split(" ", 2)
    if len(parts) != 3 or not parts[0].isdigit():
        return 0, 99.0, ""
    return int(parts[0]), float(parts[1]), parts[2]


def closed_by(metrics, reason):
    return (metrics or {}).get('sendgate_trackd_connections_closed_total{reason="%s"}' % reason, 0)


def seen(td):
    """Connections trackd has accepted and not closed normally: those it holds plus those
    it closed itself (minus the one asking)."""
    m = td.metrics() or {}
    return (m.get("sendgate_trackd_connections_open", 0) - 1
            + sum(closed_by(m, r) for r in ("deadline", "full", "per_address")))


def wait_seen(td, n, timeout=20):
    """Wait until trackd has accepted n connections (a flood goes through the listen queue)."""
    end = time.monotonic() + timeout
    got = seen(td)
    while got < n and time.monotonic() < end:
        time.sleep(0.2)
        got = seen(td)
    return got


def check_deadline(td, what, socks, data, t0):
    """Every connection of a Trickle (opened at t0) ends at request_timeout, not before,
    not much after."""
    tr = Trickle(socks, data)
    tr.start(t0)
    closed = tr.wait_all_closed(DEADLINE + SLACK + 1)
    tr.stop()
    times = sorted(closed.values())
    t.is_(len(closed), len(socks), "%d %s, one byte every %.0f s: all closed by trackd"
          % (len(socks), what, EVERY))
    t.ok(times and times[0] >= DEADLINE - 0.1 and times[-1] <= DEADLINE + SLACK,
         "at request_timeout = %d s (closed after %s s), not held past connection_timeout"
         % (DEADLINE, "%.1f-%.1f" % (times[0], times[-1]) if times else "-"))


sent = str(int(time.time()) - 3600)

# --- plain HTTP, short deadline: trickles, slow but timely clients, one-address flood ---
td = Trackd(t, trackd={"request_timeout": "%ds" % DEADLINE, "connection_timeout": "4s",
                       "max_connections": "300", "max_connections_per_ip": "16"})
link = td.make("click", "--domain", "example.com", "--msgref", "F1", "--url",
               "https://shop.example/", "--issued", sent)

t0 = time.monotonic()
socks, up = open_many(td.port, addrs("127.0.4", 20), 1)
t.is_(up, 20, "20 connections from 20 addresses")
slow_head = b"GET /healthz HTTP/1.1\r\nHost: t.example\r\nX-Pad: " + b"a" * 200
slow_body = (b"POST " + td.make("unsubscribe", "--domain", "example.com", "--msgref", "F1",
                                "--rcpt", "a@b.example").encode() + b" HTTP/1.1\r\nHost: t\r\n"
             b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\n")
data = [slow_head] * 15 + [slow_body + b"List-Unsubscribe=One-Click" + b"&" * 374] * 5
for i in range(15, 20):  # the headers of the slow bodies arrive at once, the body trickles
    socks[i].setblocking(True)
    socks[i].sendall(slow_body)
    socks[i].setblocking(False)
    data[i] = data[i][len(slow_body):]
check_deadline(td, "trickling requests (15 in the headers, 5 in a POST body)", socks, data, t0)
t.is_(td.suppressed(), [], "the trickled unsubscribe POSTs changed nothing")


def exchange(sock, req):
    sock.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got.split(b" ", 2)[1] if got.count(b" ") >= 2 else b""


s = socket.create_connection(("127.0.0.1", td.port), timeout=10)
for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: t.example\r\n", b"\r\n"):
    s.sendall(part)
    time.sleep(0.7)
got = s.recv(4096)
t.like(got.decode("latin-1"), " 200 ", "a request sent in three pieces over 2 s: answered")
code = exchange(s, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
time.sleep(DEADLINE - 1)
code2 = exchange(s, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
t.is_((code, code2), (b"200", b"200"),
      "kept alive: each request gets request_timeout from the previous answer (%d s after "
      "connecting, more than request_timeout, still served)" % (DEADLINE + 1))
s.close()

base = seen(td)
flood, up = open_many(td.port, ["127.0.1.1"], IDLE)
t.is_(up, IDLE, "%d idle connections from one address (127.0.1.1)" % IDLE)
t.ok(wait_seen(td, base + IDLE) >= base + IDLE, "trackd accepted every one of them")
code, secs, loc = click(td, link, "127.0.9.1")
t.ok(code == 302 and loc == "https://shop.example/" and secs < 1.0,
     "meanwhile a click from another address: %d in %.3f s (under 1 s)" % (code, secs))
code, secs, loc = click(td, link, "127.0.1.1")
t.ok(code == 302 and secs < 1.0,
     "and a click from the flooding address itself: %d in %.3f s" % (code, secs))
m = td.metrics()
t.ok(closed_by(m, "per_address") >= IDLE - 16 - 300,
     "the flood displaced only its own connections: %d closed at max_connections_per_ip"
     % closed_by(m, "per_address"))
t.ok(0 < (m or {}).get("sendgate_trackd_connections_open", -1) <= 300,
     "connections held stay within max_connections")
close_all(flood)
t.ok(td.stop(), "SIGTERM: clean exit, no sanitizer report")

# --- TLS (trackd exposed directly), long deadline: the table stays full of the flood ---
tls = Trackd(t, start=False, trackd={"max_connections": "300", "max_connections_per_ip": "16",
                                     "request_timeout": "60s", "connection_timeout": "60s"})
cert, key = os.path.join(tls.dir, "cert.pem"), os.path.join(tls.dir, "key.pem")
r = subprocess.run([os.path.join(BUILD, "t", "tools", "selfsigned"), cert, key],
                   capture_output=True)
t.is_(r.returncode, 0, "a self-signed certificate for the test")
tls.scheme = "https"
tls.write_conf(["k1"], {"tls_cert_file": cert, "tls_key_file": key})
tls.start()
link = tls.make("click", "--domain", "example.com", "--msgref", "F2", "--url",
                "https://shop.example/tls", "--issued", sent)
code, secs, _ = click(tls, link, "127.0.9.2")
t.is_(code, 302, "HTTPS click before the flood: 302")

t0 = time.monotonic()
base = seen(tls)
flood, up = open_many(tls.port, addrs("127.0.2", 250), IDLE // 250)
t.is_(up, IDLE, "%d idle connections from 250 addresses" % IDLE)
hello = client_hello()
t.ok(len(hello) > 100, "a real TLS ClientHello of %d bytes to trickle" % len(hello))
tsocks, up = open_many(tls.port, addrs("127.0.3", 20), TRICKLE // 20)
t.is_(up, TRICKLE, "%d more from 20 addresses trickle a ClientHello, a byte every 2 s" % TRICKLE)
tr = Trickle(tsocks, [hello] * len(tsocks))
tr.start()
t.ok(wait_seen(tls, base + IDLE + TRICKLE) >= base + IDLE + TRICKLE,
     "trackd accepted every one of them")
m = tls.metrics()
t.is_((m or {}).get("sendgate_trackd_connections_open"), 300,
      "every slot of max_connections = 300 is taken")
code, secs, loc = click(tls, link, "127.0.9.3")
t.ok(code == 302 and loc == "https://shop.example/tls" and secs < 1.0,
     "a real click from another address: %d in %.3f s (under 1 s)" % (code, secs))
for i in range(4, 9):
    code, secs, _ = click(tls, link, "127.0.9.%d" % i)
    if not t.ok(code == 302 and secs < 1.0, "click from 127.0.9.%d: %d in %.3f s" % (i, code, secs)):
        break
m = tls.metrics()
t.ok(closed_by(m, "full") >= IDLE + TRICKLE - 300,
     "the flood displaced itself, oldest first: %d closed at max_connections"
     % closed_by(m, "full"))
t.is_(closed_by(m, "deadline"), 0, "(no deadline involved: request_timeout = 60 s)")
alive = len(tsocks) - len(tr.closed)
t.ok(0 < alive <= 300, "%d of the trickling connections are still held, none past the limit"
     % alive)
tr.stop()
close_all(flood)
t.ok(time.monotonic() - t0 < 40, "the TLS flood phase took %.1f s" % (time.monotonic() - t0))
t.ok(tls.stop(), "SIGTERM: clean exit, no sanitizer report")

# --- TLS, short deadline: a trickled handshake is closed at request_timeout ---
hs = Trackd(t, start=False, trackd={"request_timeout": "%ds" % DEADLINE,
                                    "connection_timeout": "4s"})
hs.scheme = "https"
hs.write_conf(["k1"], {"tls_cert_file": cert, "tls_key_file": key})
hs.start()
t0 = time.monotonic()
socks, up = open_many(hs.port, addrs("127.0.5", 10), 1)
t.is_(up, 10, "10 TLS connections")
check_deadline(hs, "trickled TLS handshakes", socks, [hello] * 10, t0)
link = hs.make("click", "--domain", "example.com", "--msgref", "F3", "--url",
               "https://shop.example/", "--issued", sent)
code, secs, _ = click(hs, link, "127.0.9.9")
t.is_(code, 302, "and clicks are served as before")
t.ok(hs.stop(), "SIGTERM: clean exit, no sanitizer report")

# --- too few file descriptors for max_connections: serve what fits, and say so ---
few = Trackd(t, start=False, trackd={"max_connections": "4096", "threads": "2"})
few.start(preexec=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512)))
t.like(few.logtext(), "serving 300 at once",
       "max_connections = 4096 under a hard limit of 512 descriptors: 300 served, with a warning")
socks, up = open_many(few.port, addrs("127.0.6", 10), 50)
link = few.make("click", "--domain", "example.com", "--msgref", "F4", "--url",
                "https://shop.example/", "--issued", sent)
code, secs, _ = click(few, link, "127.0.9.10")
t.ok(code == 302 and secs < 1.0,
     "500 idle connections against those 300 slots: a click still gets its 302 (%.3f s)" % secs)
m = few.metrics() or {}
t.ok(m.get("sendgate_trackd_connections_open", 0) <= 300 and closed_by(m, "full") > 0
     and "resource limit" not in few.logtext() and "accepting" not in few.logtext(),
     "never more connections than descriptors allow (no accept failing for want of one)")
close_all(socks)
t.ok(few.stop(), "SIGTERM: clean exit, no sanitizer report")
t.done()
