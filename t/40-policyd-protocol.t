#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-policyd speaks the Postfix policy protocol as Postfix expects:
# one answer per request, persistent and pipelined connections, no answer
# at all (a closed connection) for a malformed request, and it keeps
# serving everybody else whatever one client sends. Raw sockets against the
# real daemon on temporary sockets.
import os
import resource
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, run, tmpdir, wait_for, write_conf

DOMAINS = """
[outbound shop.example]
status = compliant

[outbound unverified.example]
status = unverified_dns

[outbound review.example]
status = under_review

[inbound shop.example]
status = active
delivery = forward
forward = support -> team@helpdesk.example
          old -> gone@example.org inactive
forward_dns_verified = yes
"""


class Policyd:
    """The real daemon in the foreground on sockets in a temporary directory."""

    def __init__(self, d, policyd_keys=None, name="p"):
        self.d = d
        self.sock = os.path.join(d, name + "-policy.sock")
        self.conf = os.path.join(d, name + ".conf")
        self.logpath = os.path.join(d, name + ".log")
        keys = {"policy_socket": "unix:" + self.sock, "socketmap_socket": ""}
        keys.update(policyd_keys or {})
        write_conf(self.conf, {
            "general": {"cache_path": os.path.join(d, "cache"), "log_level": "info"},
            "static": {"enabled": "yes", "file": os.path.join(d, "domains.conf")},
            "policyd": keys})
        self.proc = None

    def start(self):
        self.logf = open(self.logpath, "w")
        self.proc = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        if not wait_for(lambda: "ready" in self.log() or self.proc.poll() is not None, 20):
            raise RuntimeError("policyd did not start:\n" + self.log())
        return self

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def connect(self):
        """A client connection; a full listen queue (EAGAIN on unix sockets) is retried."""
        for _ in range(2000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            try:
                s.connect(self.sock)
                return s
            except BlockingIOError:
                s.close()
                time.sleep(0.01)
        raise RuntimeError("listen queue full for 20s")


def request(**attrs):
    a = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
         "client_address": "192.0.2.10", "client_name": "client.example.net",
         "sender": "a@shop.example", "recipient": "b@customer.example", "queue_id": "",
         "sasl_username": "", "instance": "1.2.3"}
    a.update(attrs)
    return "".join("%s=%s\n" % kv for kv in a.items()).encode() + b"\n"


def read_answers(s, n):
    """Read until n complete answers ("action=...\\n\\n") arrived; None if the peer closed."""
    data = b""
    while data.count(b"\n\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    return [a.decode() for a in data.split(b"\n\n")[:n]]


def closed_without_answer(s):
    """The daemon closed (or reset: it had unread bytes) without sending anything."""
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


t = T()
d = tmpdir()
with open(os.path.join(d, "domains.conf"), "w") as f:
    f.write(DOMAINS)
p = Policyd(d)
r = run([bin_path("sendgatectl"), "-c", p.conf, "cache", "load"])
t.is_(r.returncode, 0, "the static domains load into the cache")
p.start()
try:
    # ---- answers ----------------------------------------------------------
    s = p.connect()
    s.sendall(request())
    t.is_(read_answers(s, 1), ["action=DUNNO"], "an allowed sender: action=DUNNO")
    s.sendall(request(sender="x@unverified.example"))
    a = read_answers(s, 1)[0]
    t.ok(a.startswith("action=550 5.7.1 domain unverified.example is not allowed to send: "),
         "a blocked sender: 550 5.7.1 and the milter's text (%s)" % a)
    t.like(a, "(unverified_dns)", "the reply names the provider's status")
    s.sendall(request(sender="x@review.example"))
    t.ok(read_answers(s, 1)[0].startswith("action=451 4.7.1 domain review.example"),
         "a pending sender: 451 4.7.1")
    s.sendall(request(recipient="old@shop.example", sender="x@elsewhere.example"))
    t.is_(read_answers(s, 1)[0],
          "action=550 5.1.1 no such recipient: old@shop.example has no active, verified "
          "forwarding rule", "an inbound address without an active rule: 550 5.1.1")
    s.sendall(request(**{"x_new_attribute_postfix_9": "whatever", "ccert_subject": "="}))
    t.is_(read_answers(s, 1), ["action=DUNNO"], "unknown attributes are ignored")

    # ---- one connection, many requests -------------------------------------
    for i in range(200):
        s.sendall(request(sender="u%d@shop.example" % i))
        if read_answers(s, 1) != ["action=DUNNO"]:
            break
    t.is_(i, 199, "200 requests on one persistent connection")
    s.sendall(request() + request(sender="x@unverified.example") + request())
    got = read_answers(s, 3)
    t.ok(got[0] == "action=DUNNO" and got[1].startswith("action=550") and got[2] == "action=DUNNO",
         "three pipelined requests: three answers, in order")
    req = request(sender="x@unverified.example")
    for b in req:
        s.send(bytes([b]))
    t.ok(read_answers(s, 1)[0].startswith("action=550"), "a request sent one byte at a time")
    s.close()

    # ---- malformed input: no answer, connection closed, others unaffected ---
    bystander = p.connect()
    bystander.sendall(request()[:40])  # half a request, finished later
    cases = [
        ("a line without '='", b"request=smtpd_access_policy\nthis is not an attribute\n\n"),
        ("binary garbage (a TLS hello)", bytes(range(0, 256)) + b"\n\n"),
        ("an HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("an over-long attribute line", b"request=smtpd_access_policy\nsender=" + b"a" * 9000),
        ("a request over max_request_size", b"x=1234567890\n" * 2000),
        ("a lone blank line", b"\n"),
        ("a wrong request type", b"request=junk\nsender=a@b.example\n\n"),
    ]
    for desc, data in cases:
        c = p.connect()
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        t.ok(closed_without_answer(c), "%s: closed without an answer" % desc)
        c.close()
    t.ok(p.alive(), "the daemon survived every malformed input")
    t.like(p.log(), "malformed request (attribute line without '=')",
           "the reason is logged")
    t.like(p.log(), "malformed request (attribute line too long)", "over-long line logged")
    bystander.sendall(request()[40:])
    t.is_(read_answers(bystander, 1), ["action=DUNNO"],
          "a connection open all along is still served")
    bystander.close()

    # answers to requests before a malformed one still go out
    c = p.connect()
    c.sendall(request() + b"garbage\n\n")
    data = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    t.is_(data, b"action=DUNNO\n\n", "pipelined good + bad: the good one answered, then closed")
    c.close()

    # a request without its blank line stays unanswered until the peer leaves
    c = p.connect()
    c.sendall(request()[:-1])
    c.settimeout(0.5)
    try:
        got = c.recv(100)
    except socket.timeout:
        got = None
    t.is_(got, None, "a request without its blank line gets no answer yet")
    c.close()

    # ---- thousands of concurrent connections -------------------------------
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    n = min(2000, want - 100)
    conns = [p.connect() for _ in range(n)]
    for c in conns:
        c.sendall(request())
    ok = sum(1 for c in conns if read_answers(c, 1) == ["action=DUNNO"])
    t.is_(ok, n, "%d concurrent connections, each answered" % n)
    for c in conns:
        c.close()
finally:
    rc = p.stop()
t.is_(rc, 0, "SIGTERM: clean exit")
t.ok(not os.path.exists(p.sock), "the unix socket is removed at exit")

# ---- limits: max_connections and idle_timeout ------------------------------
q = Policyd(d, {"max_connections": "3", "idle_timeout": "2s"}, name="q").start()
try:
    held = [q.connect() for _ in range(3)]
    for c in held:
        c.sendall(request())
        read_answers(c, 1)
    extra = q.connect()
    t.ok(closed_without_answer(extra), "beyond max_connections a connection is closed at once")
    t.ok(wait_for(lambda: "max_connections limit" in q.log(), 10),
         "the connection limit is logged")
    held[0].settimeout(30)
    t.ok(wait_for(lambda: closed_without_answer(held[0]), 30),
         "an idle connection is closed after idle_timeout")
    for c in held:
        c.close()
    c = q.connect()
    c.sendall(request())
    t.is_(read_answers(c, 1), ["action=DUNNO"], "slots free again: served")
    c.close()
finally:
    q.stop()
t.done()
