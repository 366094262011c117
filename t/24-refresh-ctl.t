#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The operator's handles on the refresher: sendgatectl refresh for one or
# all providers with sysexits codes and --json, --daemon to make a running
# sendgate-policyd refresh (SIGUSR1 to its pid file), TLS verified against
# the system store or refresh.ca_file, and check-config catching [refresh],
# [jetemail] and [mailtrap] settings that cannot work or break a provider's
# rate limit.
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import BUILD, T, bin_path, run, tmpdir, wait_for  # noqa: E402
from fakeapi import FakeAPI, provider_conf  # noqa: E402

EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_CONFIG = 64, 65, 69, 78
t = T()
d = tmpdir()


def ctl(cfg, *args):
    return run([bin_path("sendgatectl"), "-c", cfg] + list(args))


def conf(name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("[general]\ncache_path = %s\n\n%s" % (os.path.join(d, name + ".cache"), text))
    return path


# ---- refresh: words, exit codes, the static provider ---------------------------
domains = os.path.join(d, "domains.conf")
with open(domains, "w") as f:
    f.write("[outbound shop.example]\nstatus = compliant\n")
scfg = conf("static.conf", "[static]\nenabled = yes\nfile = %s\n" % domains)
r = ctl(scfg, "refresh")
t.ok(r.returncode == 0 and "static: ok" in r.stdout, "refresh: the static file is a provider too")
r = ctl(scfg, "--json", "refresh", "static")
j = json.loads(r.stdout or "{}")
t.ok(r.returncode == 0 and j.get("meta", {}).get("static", {}).get("outbound_domains") == 1,
     "--json: every provider's meta after the refresh")
r = ctl(scfg, "refresh", "jetemail")
t.is_(r.returncode, EX_CONFIG, "a provider that is not enabled: 78")
r = ctl(scfg, "refresh", "sendgrid")
t.is_(r.returncode, EX_USAGE, "an unknown provider: 64")
with open(domains, "a") as f:
    f.write("[outbound bad\n")
r = ctl(scfg, "refresh")
t.ok(r.returncode == EX_DATAERR and "domains.conf" in r.stderr,
     "a broken static file: 65 with file:line")
r = ctl(conf("none.conf", ""), "refresh")
t.ok(r.returncode == EX_CONFIG and "no provider is enabled" in r.stderr,
     "nothing enabled: 78 and says so")

# ---- --daemon: SIGUSR1 to the pid file's process --------------------------------
pidf = os.path.join(d, "policyd.pid")
mark = os.path.join(d, "usr1")
p = subprocess.Popen(["/usr/bin/python3", "-c",
                      "import os, signal, sys, time\n"
                      "signal.signal(signal.SIGUSR1, lambda *a: open(sys.argv[1], 'w').close())\n"
                      "open(sys.argv[2], 'w').write(str(os.getpid()))\n"
                      "time.sleep(30)\n", mark, pidf])
try:
    wait_for(lambda: os.path.exists(pidf) and open(pidf).read().strip(), 10)
    dcfg = conf("daemon.conf", "[policyd]\npid_file = %s\n" % pidf)
    r = ctl(dcfg, "refresh", "--daemon")
    t.is_(r.returncode, 0, "refresh --daemon: exit 0")
    t.ok(wait_for(lambda: os.path.exists(mark), 10), "the daemon got SIGUSR1")
finally:
    p.kill()
    p.wait()
t.is_(ctl(conf("nopid.conf", ""), "refresh", "--daemon").returncode, EX_CONFIG,
      "--daemon without policyd.pid_file: 78")
t.is_(ctl(dcfg, "refresh", "--daemon", "jetemail").returncode, EX_USAGE,
      "--daemon refreshes everything: no provider word")

# ---- TLS: verified, with the system store or refresh.ca_file ---------------------
cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
tool = os.path.join(BUILD, "t", "tools", "selfsigned")
t.is_(run([tool, cert, key, "localhost"]).returncode, 0, "a self-signed certificate")
api = FakeAPI("basic.json", tls=(cert, key))
try:
    t.ok(api.url.startswith("https://"), "the fake API speaks HTTPS")
    tcfg = provider_conf(d, api, {"mailtrap": {"enabled": "no"}}, name="tls.conf")
    r = ctl(tcfg, "refresh", "jetemail")
    t.ok(r.returncode == EX_UNAVAILABLE and "certificate" in r.stderr.lower(),
         "an unknown CA is refused (verification is on)")
    t.is_([q for q in api.requests()], [], "and no request reached the API")
    tcfg = provider_conf(d, api, {"mailtrap": {"enabled": "no"},
                                  "refresh": {"ca_file": cert}}, name="tls-ca.conf")
    r = ctl(tcfg, "refresh", "jetemail", "--force")
    t.is_(r.returncode, 0, "with refresh.ca_file naming its CA: refreshed over HTTPS")
finally:
    api.stop()

# ---- redirects are not followed ---------------------------------------------------
api = FakeAPI("basic.json")
try:
    rcfg = provider_conf(d, api, {"mailtrap": {"enabled": "no"}}, name="redir.conf")
    api.fail("GET", "^/outbound/domains$", status=302,
             headers={"Location": "http://127.0.0.1:1/elsewhere"}, body={})
    r = ctl(rcfg, "refresh", "jetemail")
    t.ok(r.returncode == EX_UNAVAILABLE and "HTTP 302" in r.stderr,
         "a redirect is an error, never followed")
finally:
    api.stop()

# ---- check-config: what cannot work, and what breaks a rate limit ------------------
def check(text):
    """check-config's verdict; its report goes to stdout, load errors to stderr"""
    r = ctl(conf("check.conf", text), "check-config")
    r.stderr = r.stdout + r.stderr
    return r


r = check("[jetemail]\nrequest_budget = 300\nbudget_window = 1m\n"
          "base_url = http://api.example.com\n\n"
          "[mailtrap]\nrequest_budget = 200\nbudget_window = 10s\n")
t.is_(r.returncode, 0, "budgets over the limits and plain http are warnings, not errors")
t.like(r.stderr, "300 per 60s is more than JetEmail allows", "a JetEmail budget over 240/min")
t.like(r.stderr, "200 per 10s is more than Mailtrap allows", "a Mailtrap budget over 150/10s")
t.like(r.stderr, "unencrypted", "plain http to a remote API")
r = check("[refresh]\nbackoff_min = 10m\nbackoff_max = 1m\n")
t.ok(r.returncode != 0 and "backoff_max" in r.stderr, "backoff_max below backoff_min: an error")
r = check("[refresh]\nconnect_timeout = 1m\ntimeout = 10s\n")
t.ok(r.returncode != 0 and "connect_timeout" in r.stderr, "connect_timeout over timeout: an error")
r = check("[refresh]\nca_file = %s\n" % os.path.join(d, "missing.pem"))
t.ok(r.returncode != 0 and "ca_file" in r.stderr, "an unreadable ca_file: an error")
r = check("[mailtrap]\npath_style = sideways\n")
t.ok(r.returncode != 0 and "auto domains account" in r.stderr, "path_style outside its words")
r = check("[jetemail]\nenabled = yes\n")
t.ok(r.returncode != 0 and "no API token" in r.stderr, "enabled without a token: an error")
t.done()
