#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The operator's side of tracking tokens and sendgate-trackd: sendgatectl token
# genkey writes a 0600 key file and never overwrites one; token decode shows a
# token's fields and says why it does not verify; token make refuses URLs too
# long to track; revocations can be listed and taken back; sendgatectl stats
# takes time windows. The daemon detaches with a pid file when not given -f,
# and drops to general.user after opening its files.
import json
import os
import pwd
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, run, wait_for
from trackdtest import Trackd

t = T()
td = Trackd(t, start=False)
k1 = td.key_path("k1")
t.is_(stat.S_IMODE(os.stat(k1).st_mode), 0o600, "token genkey: mode 0600")
with open(k1) as f:
    line = [x for x in f.read().splitlines() if x and not x.startswith("#")]
t.ok(len(line) == 1 and line[0].split()[0] == "1" and len(line[0].split()[1]) == 64,
     "one line: key id and 32 random bytes in hex")
r = td.ctl("token", "genkey", k1)
t.ok(r.returncode != 0 and "exists" in r.stderr, "genkey never overwrites a key file")
r = td.ctl("token", "genkey", os.path.join(td.dir, "next.key"))
t.like(r.stdout, "key id 2", "without --id: the next id the configured keys do not use")

sent = int(time.time()) - 60
path = td.make("click", "--domain", "Example.COM", "--msgref", "D1", "--link", "7", "--rcpt",
               "x@example.org", "--issued", str(sent), "--url", "https://example.net/a?b=c")
r = td.ctl("--json", "token", "decode", "https://t.example.com" + path + "?utm=1")
d = json.loads(r.stdout or "{}")
t.is_(r.returncode, 0, "decode of a whole tracking URL: valid")
t.is_((d.get("purpose"), d.get("key_id"), d.get("msgref"), d.get("link"), d.get("issued"),
       d.get("domain"), d.get("rcpt"), d.get("url")),
      ("click", 1, "D1", 7, sent, "example.com", "x@example.org", "https://example.net/a?b=c"),
      "decode shows every field")
tok = path[3:]
bad = tok[:8] + ("A" if tok[8] != "A" else "B") + tok[9:]
r = td.ctl("token", "decode", bad)
t.ok(r.returncode != 0 and "bad_mac" in r.stdout, "a tampered token: bad_mac")
other = Trackd(t, start=False, keys=("k9",))
other.genkey("k9x", 9)
other.write_conf(["k9x"])
r = other.ctl("token", "decode", tok)
t.ok(r.returncode != 0 and "unknown_key" in r.stdout, "another installation's keys: unknown_key")
r = td.ctl("token", "decode", "!!!")
t.ok(r.returncode != 0 and "malformed" in r.stdout, "garbage: malformed")
td.ctl("token", "revoke", "D1")
r = td.ctl("token", "decode", tok)
t.ok(r.returncode != 0 and "revoked" in r.stdout, "a revoked message's token: says so")
r = td.ctl("--json", "token", "revoked")
t.is_([x["name"] for x in json.loads(r.stdout or "[]")], ["D1"], "token revoked --json lists it")
r = td.ctl("token", "unrevoke", "D1")
t.is_(r.returncode, 0, "token unrevoke")
t.is_(td.ctl("token", "decode", tok).returncode, 0, "valid again")
r = td.ctl("token", "make", "click", "--domain", "example.com", "--msgref", "L", "--url",
           "https://example.com/" + "a" * 1100)
t.ok(r.returncode != 0 and r.stdout == "", "a URL too long to track: no token")
r = td.ctl("token", "make", "click", "--domain", "example.com", "--msgref", "L",
           "--host", "t.example.com", "--url", "https://example.com/")
t.ok(r.stdout.startswith("https://t.example.com/c/"), "--host prints the whole tracking URL")
r = td.ctl("stats", "--since", "yesterday")
t.is_(r.returncode, 64, "stats: a bad --since is a usage error")

# detached, with a pid file, as general.user
user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
pidf = os.path.join(td.dir, "trackd.pid")
os.chmod(td.dir, 0o755)
td.general["user"] = user
td.write_conf(["k1"], {"pid_file": pidf})
r = run([bin_path("sendgate-trackd"), "-c", td.conf])
t.is_(r.returncode, 0, "without -f: the parent exits 0 once detached")
t.ok(wait_for(lambda: os.path.exists(pidf) and open(pidf).read().strip().isdigit(), 20),
     "the pid file appears")
pid = int(open(pidf).read().strip()) if os.path.exists(pidf) else 0


def healthz():
    return subprocess.run(["curl", "-s", td.url("/healthz")], capture_output=True,
                          text=True).stdout == "ok\n"


t.ok(wait_for(healthz, 20), "the detached daemon serves")
uid = pwd.getpwnam(user).pw_uid
try:
    with open("/proc/%d/status" % pid) as f:
        uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
except OSError:
    uids = []
t.is_(set(uids), {str(uid)}, "runs as general.user = %s (real, effective, saved)" % user)
code, _, _ = td.curl(td.make("click", "--domain", "example.com", "--msgref", "P1", "--url",
                             "https://example.net/"))
t.is_(code, 302, "clicks work after the privilege drop")
u = td.make("unsubscribe", "--domain", "example.com", "--msgref", "P1", "--rcpt", "z@example.org")
code, _, body = td.curl(u, "--data-raw", "List-Unsubscribe=One-Click")
t.ok(code == 200 and "is unsubscribed" in body, "and unsubscriptions are still written to the cache")
t.is_(pwd.getpwuid(os.stat(os.path.join(td.dir, "stats", "data.mdb")).st_uid).pw_name, user,
      "the statistics belong to that user")
if pid:
    os.kill(pid, signal.SIGTERM)
t.ok(wait_for(lambda: not os.path.exists("/proc/%d" % pid), 20), "SIGTERM stops it")
t.done()
