#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-policyd keeps the cache fresh without ever making Postfix wait:
# --once refreshes every enabled provider and says with its exit status
# whether that worked; the daemon's refresher fills an empty cache at start,
# SIGUSR1 refreshes at once, and answers keep coming while a provider API
# is slow. Against the static provider and the fake provider API (t/fakeapi.py).
import os
import signal
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import T, bin_path, run, tmpdir, wait_for, write_conf  # noqa: E402
from fakeapi import FakeAPI  # noqa: E402

EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL, EX_CONFIG = 65, 69, 75, 78

t = T()
d = tmpdir()
domains = os.path.join(d, "domains.conf")


def write_domains(status):
    with open(domains, "w") as f:
        f.write("[outbound shop.example]\nstatus = %s\n\n[inbound shop.example]\nstatus = active\n"
                "delivery = forward\nforward = support -> team@helpdesk.example\n"
                "forward_dns_verified = yes\n" % status)


def conf(name, sections):
    base = {"general": {"cache_path": os.path.join(d, name + "-cache")}}
    base.update(sections)
    return write_conf(os.path.join(d, name + ".conf"), base)


def once(cfg):
    return run([bin_path("sendgate-policyd"), "-c", cfg, "--once"], timeout=120)


# ---- --once -------------------------------------------------------------------
write_domains("compliant")
cfg = conf("s", {"static": {"enabled": "yes", "file": domains}})
r = once(cfg)
t.is_(r.returncode, 0, "--once with the static provider: exit 0")
t.like(r.stderr, "static: ok", "the report names the provider")
t.is_(run([bin_path("sendgatectl"), "-c", cfg, "cache", "get", "shop.example"]).returncode, 0,
      "and the cache holds its domain")
with open(domains, "a") as f:
    f.write("[outbound broken\n")
r = once(cfg)
t.is_(r.returncode, EX_DATAERR, "--once with a broken static file: EX_DATAERR")
t.like(r.stderr, "domains.conf:", "the reason names file and line")
r = once(conf("none", {}))
t.is_(r.returncode, EX_CONFIG, "--once with no provider enabled: EX_CONFIG")

api = FakeAPI("basic.json")
try:
    tok = os.path.join(d, "jet.token")
    with open(tok, "w") as f:
        f.write("api_test\n")
    os.chmod(tok, 0o600)
    jcfg = conf("j", {"jetemail": {"enabled": "yes", "base_url": api.url, "api_token_file": tok},
                      "refresh": {"backoff_min": "10s"}})
    r = once(jcfg)
    t.is_(r.returncode, 0, "--once against the JetEmail API: exit 0")
    t.like(r.stderr, "jetemail: ok", "reported")
    api.fail("GET", "^/outbound/domains$", status=500, times=1)
    r = once(jcfg)
    t.is_(r.returncode, EX_UNAVAILABLE, "a provider answering 500: EX_UNAVAILABLE")
    t.like(r.stderr, "500", "with the HTTP status in the reason")
    t.is_(run([bin_path("sendgatectl"), "-c", jcfg, "cache", "get", "shop.example"]).returncode,
          0, "the previous data is kept")
    api.fail("GET", "^/outbound/domains$", status=429, retry_after="600", times=1)
    once(jcfg)
    r = once(jcfg)
    t.is_(r.returncode, EX_TEMPFAIL,
          "inside the provider's Retry-After nothing is sent: EX_TEMPFAIL")

    # ---- the daemon: answers never wait for a provider ----------------------
    sock = os.path.join(d, "slow.sock")
    api.reset()
    api.fail("GET", "^/outbound/domains$", mode="slow", delay=60)
    scfg = conf("slow", {"jetemail": {"enabled": "yes", "base_url": api.url,
                                      "api_token_file": tok},
                         "policyd": {"policy_socket": "unix:" + sock, "socketmap_socket": ""}})
    logpath = os.path.join(d, "slow.log")
    with open(logpath, "w") as logf:
        p = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", scfg], stdout=logf,
                             stderr=subprocess.STDOUT)
    try:
        t.ok(wait_for(lambda: os.path.exists(sock) and
                      any(q["path"] == "/outbound/domains" for q in api.requests()), 20),
             "the refresher is waiting on a slow provider")
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(20)
        c.connect(sock)
        c.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@shop.example\n"
                  b"recipient=b@c.example\n\n")
        # a new cache JetEmail has never filled: handling.cache_error (tempfail), not "unknown"
        t.like(c.recv(200).decode(), "action=451 4.7.1 sending rules for domain shop.example "
               "cannot be read", "a policy request is answered meanwhile (never filled: tempfail)")
        c.close()
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
    t.is_(rc, 0, "SIGTERM during a slow refresh: a clean, prompt exit")
finally:
    api.stop()

# ---- the daemon: the refresher fills the cache, SIGUSR1 refreshes now ---------
write_domains("compliant")
sock = os.path.join(d, "policy.sock")
dcfg = conf("d", {"static": {"enabled": "yes", "file": domains},
                  "policyd": {"policy_socket": "unix:" + sock, "socketmap_socket": ""}})
logpath = os.path.join(d, "d.log")
with open(logpath, "w") as logf:
    p = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", dcfg], stdout=logf,
                         stderr=subprocess.STDOUT)


def answer():
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(20)
    try:
        c.connect(sock)
        c.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@shop.example\n"
                  b"recipient=support@shop.example\n\n")
        return c.recv(4096).decode()
    except OSError:
        return ""
    finally:
        c.close()


def log():
    with open(logpath, errors="replace") as f:
        return f.read()


try:
    t.ok(wait_for(lambda: "static: loaded" in log(), 20),
         "at start the refresher loads the static provider into an empty cache")
    t.is_(answer(), "action=DUNNO\n\n", "and the answers use it (forward rule, allowed sender)")
    write_domains("suspended")
    p.send_signal(signal.SIGUSR1)
    t.ok(wait_for(lambda: answer().startswith("action=550 5.7.1 domain shop.example"), 20),
         "SIGUSR1: refreshed now, the new status is enforced")
    t.like(log(), "SIGUSR1", "logged")
finally:
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
t.is_(rc, 0, "clean exit")
t.done()
