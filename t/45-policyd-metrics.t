#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-policyd's /metrics (policyd.metrics_listen): what an operator asks
# at 3 a.m., counted exactly. The daemon refreshes from the fake provider API
# (t/fakeapi.py), answers policy requests of each action and socketmap lookups
# of each map and result, then a refresh ends in a 429 with Retry-After; the
# scrape must show every one of those, pass `promtool check metrics`, refuse
# a client outside metrics_allow with 403, and survive oversized and
# malformed HTTP requests. sendgatectl status shows the same numbers.
import http.client
import os
import re
import signal
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import T, bin_path, free_port, run, tmpdir, wait_for, write_conf  # noqa: E402
from fakeapi import FakeAPI  # noqa: E402

ALLOWED = "127.0.0.1"  # in metrics_allow; 127.0.0.3 is not

t = T()
d = tmpdir()
psock = os.path.join(d, "policy.sock")
msock = os.path.join(d, "socketmap.sock")
port = free_port()


def ns(s):
    b = s.encode()
    return b"%d:%s," % (len(b), b)


def policy(sender, rcpt="someone@elsewhere.example"):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(20)
    try:
        c.connect(psock)
        c.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=%s\n"
                   "recipient=%s\n\n" % (sender, rcpt)).encode())
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode()
    finally:
        c.close()


def smap(payloads):
    """Send netstrings on one connection; the raw replies."""
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(20)
    c.connect(msock)
    out = []
    try:
        for p in payloads:
            c.sendall(ns(p))
            data = b""
            while not data.endswith(b","):
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            out.append(data.decode())
    finally:
        c.close()
    return out


def scrape(source=ALLOWED, method="GET", path="/metrics"):
    h = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(source, 0))
    try:
        h.request(method, path)
        r = h.getresponse()
        return r.status, r.read().decode(), dict(r.getheaders())
    finally:
        h.close()


def series(text):
    """{'name{labels}': value} of every sample."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = int(v)
    return out


def raw(data, read=True):
    """Send raw bytes to the metrics port; what came back (b'' when closed)."""
    c = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=(ALLOWED, 0))
    try:
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        got = b""
        while read:
            try:
                chunk = c.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            got += chunk
        return got
    finally:
        c.close()


api = FakeAPI("basic.json")
tok = os.path.join(d, "jet.token")
with open(tok, "w") as f:
    f.write("api_test\n")
os.chmod(tok, 0o600)
domains = os.path.join(d, "domains.conf")
with open(domains, "w") as f:
    f.write("[inbound fwd.example]\nstatus = active\ndelivery = forward\n"
            "forward = support -> team@helpdesk.example\nforward_dns_verified = yes\n")
conf = write_conf(os.path.join(d, "sendgate.conf"), {
    "general": {"cache_path": os.path.join(d, "cache")},
    "handling": {"unknown_domain": "tempfail"},
    "static": {"enabled": "yes", "file": domains},
    "jetemail": {"enabled": "yes", "base_url": api.url, "api_token_file": tok,
                 "request_budget": "100", "budget_window": "1d"},
    "refresh": {"interval": "1h", "jitter": "0"},
    "policyd": {"policy_socket": "unix:" + psock, "socketmap_socket": "unix:" + msock,
                "metrics_listen": "inet:127.0.0.1:%d" % port, "metrics_allow": ALLOWED}})
logpath = os.path.join(d, "policyd.log")
logf = open(logpath, "w")
proc = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", conf], stdout=logf,
                        stderr=subprocess.STDOUT)


def log():
    with open(logpath, errors="replace") as f:
        return f.read()


try:
    t.ok(wait_for(lambda: "jetemail: refreshed" in log() and os.path.exists(msock), 30),
         "policyd started and refreshed from the fake API")
    t.like(log(), "metrics listening on inet:127.0.0.1:%d" % port, "the listener is logged")
    jet_requests = len(api.requests())

    # ---- policy requests: each action ---------------------------------------------
    t.is_(policy("a@shop.example"), "action=DUNNO\n\n", "an active domain: accepted")
    t.is_(policy("b@shop.example"), "action=DUNNO\n\n", "again")
    t.like(policy("a@off.example"), "action=550 ", "a disabled domain: rejected")
    t.like(policy("a@pending.example"), "action=451 ", "a pending domain: tempfail")
    t.like(policy("a@nowhere.example"), "action=451 ", "an unknown domain: tempfail (as set)")

    # ---- socketmap lookups: each map, each result ---------------------------------
    replies = smap(["relay in-smtp.example", "relay nowhere.example",
                    "transport someone@in-smtp.example", "forward support@fwd.example",
                    "forward nobody@nowhere.example", "bogus key", "relay"])
    t.like(replies[0], "OK in-smtp.example", "relay: a known inbound domain")
    t.like(replies[1], "NOTFOUND", "relay: an unknown one")
    t.like(replies[2], "OK ", "transport of an smtp domain")
    t.like(replies[3], "OK team@helpdesk.example", "forward rule")
    t.like(replies[4], "NOTFOUND", "forward: nothing")
    t.like(replies[5], "PERM", "an unknown map: PERM")
    t.like(replies[6], "PERM", "a request without a key: PERM")

    # ---- a refresh that ends in a 429 with Retry-After ----------------------------
    api.fail("GET", "^/outbound/domains$", status=429, retry_after="600", times=1)
    proc.send_signal(signal.SIGUSR1)
    t.ok(wait_for(lambda: "refresh failed" in log() and log().count("static: loaded") == 2, 30),
         "SIGUSR1: the static file loaded again, the JetEmail refresh got a 429")
    jet_requests = len(api.requests())

    # ---- the scrape -----------------------------------------------------------------
    status, body, headers = scrape()
    t.is_(status, 200, "GET /metrics from an allowed client: 200")
    t.like(headers.get("Content-Type", ""), "text/plain; version=0.0.4",
           "Prometheus text format 0.0.4")
    m = series(body)
    P = "sendgate_policyd_"
    for action, n in (("accept", 2), ("reject", 1), ("tempfail", 2)):
        t.is_(m.get(P + 'policy_requests_total{action="%s"}' % action), n,
              "policy requests: %s %d" % (action, n))
    want = {("relay", "ok"): 1, ("relay", "notfound"): 1, ("transport", "ok"): 1,
            ("forward", "ok"): 1, ("forward", "notfound"): 1, ("other", "perm"): 2}
    for mp in ("relay", "transport", "forward", "other"):
        for res in ("ok", "notfound", "temp", "timeout", "perm"):
            key = P + 'socketmap_lookups_total{map="%s",result="%s"}' % (mp, res)
            if (mp, res) in want or res in ("ok", "perm"):
                t.is_(m.get(key), want.get((mp, res), 0), "socketmap %s %s" % (mp, res))
    t.is_(m.get(P + "connections_open"), 0, "connections open: none now")
    t.is_(m.get(P + "connections_total"), 6, "connections accepted: 5 policy + 1 socketmap")
    jet = 'provider="jetemail"'
    t.is_(m.get(P + 'refresh_runs_total{%s,result="ok"}' % jet), 1, "refreshes ok: 1")
    t.is_(m.get(P + 'refresh_runs_total{%s,result="failed"}' % jet), 1, "refreshes failed: 1")
    t.is_(m.get(P + 'refresh_runs_total{provider="static",result="ok"}'), 2,
          "static refreshes ok: 2")
    t.is_(m.get(P + 'refresh_runs_total{provider="mailtrap",result="ok"}'), 0,
          "a provider not enabled: no runs")
    t.is_(m.get(P + "refresh_http_429_total{%s}" % jet), 1, "429s: 1")
    t.is_(m.get(P + "refresh_retry_after_waits_total{%s}" % jet), 1, "Retry-After waits: 1")
    t.is_(m.get(P + "refresh_budget_requests_left{%s}" % jet), 100 - jet_requests,
          "request budget left: 100 less the %d requests sent" % jet_requests)
    t.is_(m.get(P + 'refresh_budget_requests_left{provider="mailtrap"}'), -1,
          "no request to a provider: budget unknown (-1)")
    t.is_(m.get(P + "refresh_consecutive_failures{%s}" % jet), 1, "consecutive failures: 1")
    last = m.get(P + "refresh_last_success_time_seconds{%s}" % jet, 0)
    nxt = m.get(P + "refresh_next_attempt_time_seconds{%s}" % jet, 0)
    t.ok(last > 1700000000, "last successful refresh time is set")
    t.ok(nxt >= last + 590, "next attempt after the Retry-After (600 s)")
    t.ok(0 <= m.get(P + "cache_age_seconds{%s}" % jet, -1) < 120, "cache age: fresh")
    t.ok(P + 'cache_age_seconds{provider="mailtrap"}' not in m,
         "no cache age for a provider never refreshed")
    t.is_(m.get(P + 'cache_records{%s,table="outbound"}' % jet), 5, "records: 5 outbound")
    t.is_(m.get(P + 'cache_records{%s,table="inbound"}' % jet), 4, "records: 4 inbound")
    t.is_(m.get(P + 'cache_records{provider="static",table="inbound"}'), 1,
          "static records: 1 inbound")
    t.is_(m.get(P + "cache_readable"), 1, "the cache is readable")

    prom = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                          text=True, timeout=60)
    t.is_(prom.returncode, 0, "promtool check metrics passes")
    if prom.returncode:
        t.diag(prom.stdout + prom.stderr)
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            if kind == "counter" and not name.endswith("_total"):
                t.ok(False, "counter %s ends in _total" % name)

    # ---- refusals ---------------------------------------------------------------------
    status, body, _ = scrape(source="127.0.0.3")
    t.is_(status, 403, "a client outside metrics_allow: 403")
    t.ok("sendgate_" not in body, "and no numbers")
    t.is_(scrape(path="/other")[0], 404, "another path: 404")
    t.is_(scrape(method="POST")[0], 405, "POST: 405")
    status, body, headers = scrape(method="HEAD")
    t.is_((status, body), (200, ""), "HEAD: 200 without a body")
    big = raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    t.ok(big == b"" or re.match(rb"HTTP/1\.[01] 4\d\d", big) is not None,
         "an oversized request: a 4xx or the connection closed")
    bad = raw(b"\x00\x01GARBAGE \xff\r\n\r\n")
    t.ok(bad == b"" or re.match(rb"HTTP/1\.[01] 4\d\d", bad) is not None,
         "a malformed request: a 4xx or the connection closed")
    raw(b"GET /metr", read=False)  # a half request, dropped
    t.is_(proc.poll(), None, "policyd still runs")
    status, body, _ = scrape()
    t.is_(status, 200, "and still answers /metrics")
    t.is_(series(body).get(P + 'policy_requests_total{action="accept"}'), 2,
          "with the same counts")
    t.is_(policy("a@shop.example"), "action=DUNNO\n\n", "and policy requests")

    # ---- sendgatectl status shows the same numbers ------------------------------------
    r = run([bin_path("sendgatectl"), "-c", conf, "status", "metrics"])
    t.is_(r.returncode, 0, "sendgatectl status metrics: exit 0")
    t.like(r.stdout, "answers: GET /metrics: HTTP/1.1 200", "the metrics probe answers")
    t.like(r.stdout, "policy requests: accept 3, reject 1, tempfail 2",
           "sendgatectl status: policy requests by action")
    t.like(r.stdout, "socketmap lookups: relay ok 1, relay notfound 1, transport ok 1, "
           "forward ok 1, forward notfound 1, other perm 2", "socketmap lookups by map and result")
    t.like(r.stdout, "jetemail refreshes: 1 ok, 1 failed, 0 deferred; 429s 1, "
           "Retry-After waits 1; budget left %d" % (100 - jet_requests), "refresh counts")
    t.like(r.stdout, "static refreshes: 2 ok, 0 failed, 0 deferred; 429s 0, "
           "Retry-After waits 0\n", "static: no budget (no requests)")
    r = run([bin_path("sendgatectl"), "-c", conf, "--json", "status", "metrics"])
    t.like(r.stdout, '"sendgate_policyd_policy_requests_total{action=\\"accept\\"}":\t3',
           "--json: every series")

    # ---- a reload keeps the listener as it is ------------------------------------
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("metrics_allow = %s" % ALLOWED, "metrics_allow = 127.0.0.3"))
    proc.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: "reloaded" in log(), 20), "SIGHUP: reloaded")
    t.like(log(), "changes to metrics_listen or metrics_allow take effect at the next restart",
           "a changed metrics_allow: the operator is told it waits for a restart")
    t.is_(scrape()[0], 200, "the running listener keeps its allow list")
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    api.stop()
    logf.close()
t.is_(rc, 0, "clean exit")
t.done()
