#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-policyd's socketmap tables answer Postfix from the cache: relay
# (active inbound domains), transport (the preferred SMTP server) and
# forward (forwarding rules: exact, plus-addressing, catch-all, only active
# and verified). Raw netstrings over inet: and unix: sockets, then Postfix's
# own client, postmap -q socketmap:..., against each table.
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, free_port, run, tmpdir, wait_for, write_conf

DOMAINS = """
[outbound shop.example]
status = compliant

[inbound shop.example]
status = active
delivery = forward
forward = support -> team@helpdesk.example
          sales -> alice@crm.example, bob@crm.example
          old -> gone@example.org inactive
          new -> pending@example.org unverified
          * -> inbox@helpdesk.example
forward_dns_verified = yes

[inbound nocatch.example]
status = active
delivery = forward
forward = info -> owner@example.org
forward_dns_verified = yes

[inbound unready.example]
status = active
delivery = forward
forward = info -> owner@example.org
forward_dns_verified = no

[inbound mx.example]
status = active
delivery = smtp
smtp_servers = mail2.mx.example:2525:20, mail1.mx.example:25:10:tls, mail3.mx.example:26:10

[inbound off.example]
status = disabled
delivery = smtp
smtp_servers = mail.off.example:25

[inbound hook.example]
status = active
delivery = webhook
webhook_url = https://hooks.example.net/in
"""


def ns(s):
    b = s.encode()
    return b"%d:%s," % (len(b), b)


def read_ns(sock, buf=b""):
    """One netstring reply (payload), and what is left; None when the peer closed."""
    while True:
        colon = buf.find(b":")
        if colon > 0:
            n = int(buf[:colon])
            if len(buf) >= colon + n + 2:
                return buf[colon + 1:colon + 1 + n].decode(), buf[colon + n + 2:]
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk


def ask(sock, map_, key):
    sock.sendall(ns("%s %s" % (map_, key)))
    return read_ns(sock)[0]


def closed(sock):
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


t = T()
d = tmpdir()
with open(os.path.join(d, "domains.conf"), "w") as f:
    f.write(DOMAINS)
port = free_port()
usock = os.path.join(d, "socketmap.sock")
conf = write_conf(os.path.join(d, "sendgate.conf"), {
    "general": {"cache_path": os.path.join(d, "cache")},
    "static": {"enabled": "yes", "file": os.path.join(d, "domains.conf")},
    "policyd": {"policy_socket": "unix:" + usock.replace("socketmap", "policy"),
                "socketmap_socket": "inet:127.0.0.1:%d" % port}})
t.is_(run([bin_path("sendgatectl"), "-c", conf, "cache", "load"]).returncode, 0, "cache loaded")
logpath = os.path.join(d, "policyd.log")
logf = open(logpath, "w")
proc = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", conf], stdout=logf,
                        stderr=subprocess.STDOUT)


def log():
    with open(logpath, errors="replace") as f:
        return f.read()


try:
    t.ok(wait_for(lambda: "ready" in log() or proc.poll() is not None, 20), "daemon ready")
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    expect = [
        ("relay", "shop.example", "OK shop.example", "relay: an active inbound domain"),
        ("relay", "Shop.Example", "OK shop.example", "relay: case does not matter"),
        ("relay", "off.example", "NOTFOUND ", "relay: a disabled domain is not relayed"),
        ("relay", "unknown.example", "NOTFOUND ", "relay: an unknown domain"),
        ("transport", "mx.example", "OK smtp:[mail1.mx.example]:25",
         "transport: lowest priority number, first listed among equals"),
        ("transport", "user@mx.example", "OK smtp:[mail1.mx.example]:25",
         "transport: Postfix asks with the recipient address (socketmap: whole keys only)"),
        ("transport", "*", "NOTFOUND ", "transport: the wildcard key"),
        ("transport", "shop.example", "NOTFOUND ", "transport: forward domains have none"),
        ("transport", "hook.example", "NOTFOUND ", "transport: webhook domains have none"),
        ("transport", "off.example", "NOTFOUND ", "transport: disabled domain"),
        ("forward", "support@shop.example", "OK team@helpdesk.example", "forward: exact rule"),
        ("forward", "support+billing@shop.example", "OK team@helpdesk.example",
         "forward: plus-addressing"),
        ("forward", "sales@shop.example", "OK alice@crm.example,bob@crm.example",
         "forward: several destinations, comma-separated"),
        ("forward", "old@shop.example", "OK inbox@helpdesk.example",
         "forward: an inactive rule is skipped, the catch-all applies"),
        ("forward", "new@shop.example", "OK inbox@helpdesk.example",
         "forward: an unverified destination is skipped"),
        ("forward", "anyone@shop.example", "OK inbox@helpdesk.example", "forward: catch-all"),
        ("forward", "anyone@nocatch.example", "NOTFOUND ", "forward: no rule, no catch-all"),
        ("forward", "info@unready.example", "NOTFOUND ",
         "forward: nothing while the domain's DNS is not verified"),
        ("forward", "info@mx.example", "NOTFOUND ", "forward: an smtp domain"),
    ]
    for m, k, want, desc in expect:
        t.is_(ask(s, m, k), want, desc)
    got = ask(s, "virtual", "x@y")
    t.ok(got.startswith("PERM "), "an unknown map name: PERM (%s)" % got)
    got = ask(s, "relay", "")
    t.ok(got is not None and got.startswith("PERM "), "no key: PERM, the connection stays")
    # pipelined and split
    s.sendall(ns("relay shop.example") + ns("forward support@shop.example") + ns("relay x.example"))
    a, rest = read_ns(s)
    b, rest = read_ns(s, rest)
    c, rest = read_ns(s, rest)
    t.is_([a, b, c], ["OK shop.example", "OK team@helpdesk.example", "NOTFOUND "],
          "three pipelined lookups, three answers in order")
    for byte in ns("relay shop.example"):
        s.send(bytes([byte]))
    t.is_(read_ns(s)[0], "OK shop.example", "a lookup sent one byte at a time")
    s.close()

    # broken netstrings close the connection (the framing is lost); others carry on
    other = socket.create_connection(("127.0.0.1", port), timeout=20)
    for desc, data in [("a leading zero", b"018:relay shop.example,"),
                       ("a length over max_netstring", b"99999999999:"),
                       ("a bad terminator", b"18:relay shop.example;"),
                       ("no length", b":relay x,"),
                       ("binary garbage", bytes(range(256)))]:
        c = socket.create_connection(("127.0.0.1", port), timeout=20)
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        t.ok(closed(c), "%s: connection closed without a reply" % desc)
        c.close()
    t.ok(proc.poll() is None, "the daemon survived")
    t.is_(ask(other, "relay", "shop.example"), "OK shop.example", "another client is still served")
    other.close()
    t.like(log(), "netstring length has a leading zero", "the reason is logged")

    # Postfix's own socketmap client
    pfdir = os.path.join(d, "postfix")
    os.makedirs(pfdir)
    with open(os.path.join(pfdir, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\n")
    for m, k, want in [("relay", "shop.example", "shop.example"),
                       ("transport", "mx.example", "smtp:[mail1.mx.example]:25"),
                       ("forward", "sales@shop.example", "alice@crm.example,bob@crm.example")]:
        r = run(["postmap", "-c", pfdir, "-q", k, "socketmap:inet:127.0.0.1:%d:%s" % (port, m)])
        t.is_((r.returncode, r.stdout.strip()), (0, want), "postmap -q %s socketmap:...:%s" % (k, m))
    r = run(["postmap", "-c", pfdir, "-q", "nobody@nocatch.example",
             "socketmap:inet:127.0.0.1:%d:forward" % port])
    t.is_(r.returncode, 1, "postmap -q: not found is exit status 1")
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    logf.close()
t.is_(rc, 0, "clean exit")
t.done()
