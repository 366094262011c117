#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# A damaged cache never fails open and never crashes. A good cache is built
# with `sendgatectl cache load` (the static provider), then damaged each way
# a disk, an operator or a full file system damages it: zero length, cut to
# 16 KiB and to half, random bytes, scrambled meta pages (random, and with
# LMDB's magic but lying page numbers), data.mdb a directory, data.mdb a
# symbolic link, a garbage lock.mdb. For each: sendgatectl cache dump, cache
# get, status and check-config say what is wrong (exit 69, never a signal);
# sendgate-milter -t tempfails mail from a blocked and from an allowed domain
# (handling.cache_error; reject with cache_error = reject), never accepts;
# sendgate-policyd starts, moves the damaged file aside, answers
# handling.cache_error while it has no data, and answers right once a
# refresh succeeds; sendgatectl cache load, refresh and policyd --once
# rebuild it too. A cache that lost its data is not a cache without
# domains; a file cut under a running policyd does not kill it; and
# sendgate-trackd with damaged statistics or a damaged provider cache still
# starts and redirects (every kind of damaged statistics file).
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, run, tmpdir, wait_for, write_conf  # noqa: E402
from trackdtest import Trackd  # noqa: E402

t = T()
d = tmpdir()
CTL = bin_path("sendgatectl")
CACHE = os.path.join(d, "cache")
DATA = os.path.join(CACHE, "data.mdb")
GOOD_DOMAINS = os.path.join(d, "domains.conf")
BROKEN_DOMAINS = os.path.join(d, "broken.conf")
PSIZE = os.sysconf("SC_PAGESIZE")

with open(GOOD_DOMAINS, "w") as f:
    f.write("[outbound bad.example]\nstatus = unverified_dns\n\n"
            "[outbound good.example]\nstatus = compliant\n\n")
    for i in range(400):  # enough records for a file of many pages
        f.write("[outbound filler-%03d.example]\nstatus = compliant\n\n" % i)
with open(BROKEN_DOMAINS, "w") as f:
    f.write("[outbound broken\n")


def conf(name, static_file=GOOD_DOMAINS, handling=None, policy_sock=None):
    secs = {"general": {"cache_path": CACHE},
            "static": {"enabled": "yes", "file": static_file},
            "milter": {"socket": "unix:" + os.path.join(d, "m.sock")},
            "policyd": {"policy_socket": "unix:" + (policy_sock or os.path.join(d, "p.sock")),
                        "socketmap_socket": ""},
            "trackd": {"stats_path": os.path.join(d, "stats")}}
    if handling:
        secs["handling"] = handling
    return write_conf(os.path.join(d, name + ".conf"), secs)


CFG = conf("main")
CFG_REJECT = conf("reject", handling={"cache_error": "reject"})

r = run([CTL, "-c", CFG, "cache", "load"])
t.is_(r.returncode, 0, "a good cache loaded with the static provider")
with open(DATA, "rb") as f:
    GOOD = f.read()
t.ok(len(GOOD) > 16384 * 2, "it spans %d pages" % (len(GOOD) // PSIZE))


def newest_meta():
    t0, = struct.unpack_from("<Q", GOOD, 16 + 128)
    t1, = struct.unpack_from("<Q", GOOD, PSIZE + 16 + 128)
    return PSIZE if t1 > t0 else 0


def restore():
    """The good data.mdb back, nothing else in the cache directory."""
    subprocess.run(["rm", "-rf", CACHE])
    os.makedirs(CACHE)
    with open(DATA, "wb") as f:
        f.write(GOOD)


def damage(kind):
    """Damage the cache in place; returns what the messages must say."""
    restore()
    rnd = random.Random(25)
    if kind == "zero length":
        open(DATA, "w").close()
        return "data.mdb is empty (0 bytes)"
    if kind == "cut to 16 KiB":
        os.truncate(DATA, 16384)
        return "data.mdb is truncated: 16384 bytes"
    if kind == "cut to half":
        os.truncate(DATA, len(GOOD) // 2)
        return "data.mdb is truncated: %d bytes" % (len(GOOD) // 2)
    if kind == "random bytes":
        with open(DATA, "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(len(GOOD))))
        return "not an LMDB data file"
    if kind == "scrambled meta pages":
        with open(DATA, "r+b") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(2 * PSIZE)))
        return "not an LMDB data file"
    if kind == "meta pages that lie":
        with open(DATA, "r+b") as f:  # LMDB's magic kept; the main root past the last page
            for m in (0, PSIZE):
                f.seek(m + 16 + 24 + 48 + 40)
                f.write(struct.pack("<Q", 1 << 20))
        return "the main tree's root page 1048576"
    if kind == "data.mdb a directory":
        os.unlink(DATA)
        os.mkdir(DATA)
        return "data.mdb is a directory"
    if kind == "data.mdb a symbolic link":
        target = os.path.join(d, "elsewhere.mdb")
        with open(target, "wb") as f:
            f.write(GOOD)
        os.unlink(DATA)
        os.symlink(target, DATA)
        return "data.mdb is a symbolic link (to %s)" % target
    raise ValueError(kind)


def signalled(r):
    return r.returncode < 0


def milter(cfg, sender):
    msg = os.path.join(d, "msg.eml")
    with open(msg, "w") as f:
        f.write("From: <%s>\nTo: <x@y.example>\nSubject: test\n\nbody\n" % sender)
    return run([bin_path("sendgate-milter"), "-c", cfg, "-t", msg, "--from", sender,
                "--rcpt", "x@y.example", "--client-ip", "127.0.0.1"], timeout=60)


def asides():
    return sorted(n for n in os.listdir(CACHE) if n.startswith("data.mdb.damaged-"))


def ask(sock, sender):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.connect(sock)
        s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=%s\n"
                   "recipient=x@y.example\n\n" % sender).encode())
        out = b""
        while not out.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        return out.decode().strip()
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()


class Policyd:
    def __init__(self, cfg, sock):
        self.sock = sock
        self.log = cfg + ".log"
        self.logf = open(self.log, "w")
        self.p = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", cfg],
                                  stdout=self.logf, stderr=subprocess.STDOUT)
        self.up = wait_for(lambda: os.path.exists(sock) or self.p.poll() is not None, 20) and \
            self.p.poll() is None

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()
        return self.p.returncode


TEMPFAIL_BAD = "action=451 4.7.1 sending rules for domain bad.example cannot be read"
TEMPFAIL_GOOD = "action=451 4.7.1 sending rules for domain good.example cannot be read"
KINDS = ["zero length", "cut to 16 KiB", "cut to half", "random bytes", "scrambled meta pages",
         "meta pages that lie", "data.mdb a directory", "data.mdb a symbolic link"]

for kind in KINDS:
    says = damage(kind)
    t.diag("---- %s" % kind)
    r = run([CTL, "-c", CFG, "cache", "dump"])
    t.ok(r.returncode == 69 and "is damaged: " in r.stderr and says in r.stderr,
         "%s: cache dump exits 69 and says %r" % (kind, says))
    if r.returncode != 69 or signalled(r):
        t.diag(r.stderr)
    r = run([CTL, "-c", CFG, "cache", "get", "bad.example"])
    t.ok(r.returncode == 69 and says in r.stderr and r.stdout == "",
         "%s: cache get exits 69, says so, prints no record" % kind)
    r = run([CTL, "-c", CFG, "--json", "status"])
    try:
        import json
        st = json.loads(r.stdout)["cache"]
    except (ValueError, KeyError):
        st = {}
    t.ok(r.returncode == 69 and st.get("ok") is False and says in st.get("error", ""),
         "%s: status: cache not ok, %r" % (kind, st.get("error")))
    r = run([CTL, "-c", CFG, "status"])
    t.like(r.stdout, "the daemons answer handling.cache_error (tempfail)",
           "%s: status says what the daemons answer" % kind)
    if kind in ("zero length", "meta pages that lie"):  # (it runs postconf: seconds each)
        r = run([CTL, "-c", CFG, "check-config"])
        t.ok(r.returncode == 0 and "warning: general.cache_path: %s is damaged" % CACHE in r.stdout
             and says in r.stdout, "%s: check-config warns about the cache" % kind)
    for sender in ("a@bad.example", "a@good.example"):
        r = milter(CFG, sender)
        out = r.stdout + r.stderr
        t.ok(not signalled(r) and "TEMPFAIL 451 4.7.1 sending rules for domain %s cannot be read"
             % sender.split("@")[1] in out and "\nACCEPT" not in "\n" + out,
             "%s: milter -t tempfails %s (handling.cache_error), never accepts" % (kind, sender))
    r = milter(CFG_REJECT, "a@good.example")
    t.ok(not signalled(r) and "REJECT 550 5.7.1 sending rules for domain good.example cannot be "
         "read" in r.stdout + r.stderr, "%s: with cache_error = reject, a reject" % kind)
    t.is_(asides(), [], "%s: no reader moved anything" % kind)

    # sendgate-policyd: the static file is broken, so the rebuilt cache stays empty
    sock = os.path.join(d, "p.sock")
    pd = Policyd(conf("pd", static_file=BROKEN_DOMAINS, policy_sock=sock), sock)
    t.ok(pd.up, "%s: sendgate-policyd starts" % kind)
    t.ok(ask(sock, "a@bad.example").startswith(TEMPFAIL_BAD) and
         ask(sock, "a@good.example").startswith(TEMPFAIL_GOOD),
         "%s: policyd answers handling.cache_error (451) for blocked and allowed senders" % kind)
    log = pd.text()
    t.ok("is damaged" in log and says in log and "moved it to %s/data.mdb.damaged-" % CACHE in log,
         "%s: policyd logs the damage and where it moved the file" % kind)
    t.ok("has no data from static" in log, "%s: and that the new cache has no data" % kind)
    t.is_(len(asides()), 1, "%s: the damaged file is kept aside" % kind)
    conf("pd", static_file=GOOD_DOMAINS, policy_sock=sock)  # the provider is back
    pd.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    pd.p.send_signal(signal.SIGUSR1)
    t.ok(wait_for(lambda: ask(sock, "a@bad.example").startswith("action=550 5.7.1 domain "
                                                                 "bad.example is not allowed"),
                  20) and ask(sock, "a@good.example") == "action=DUNNO",
         "%s: a refresh that succeeds makes the answers right again" % kind)
    t.is_(pd.stop(), 0, "%s: policyd stops cleanly (no signal death)" % kind)
    if kind == "data.mdb a symbolic link":
        with open(os.path.join(d, "elsewhere.mdb"), "rb") as f:
            t.ok(f.read() == GOOD, "the link was moved aside, its target left alone")

# ---- a garbage lock.mdb nobody holds: LMDB rebuilds it, everything works ----------
restore()
with open(os.path.join(CACHE, "lock.mdb"), "wb") as f:
    f.write(bytes(random.Random(7).getrandbits(8) for _ in range(8192)))
r = run([CTL, "-c", CFG, "cache", "get", "bad.example"])
t.ok(r.returncode == 0 and '"send_status":\t"blocked"' in r.stdout,
     "garbage lock.mdb: cache get reads the domain")
r = milter(CFG, "a@bad.example")
t.like(r.stdout + r.stderr, "REJECT 550 5.7.1 domain bad.example is not allowed",
       "garbage lock.mdb: milter -t rejects the blocked domain")
r = milter(CFG, "a@good.example")
t.like(r.stdout + r.stderr, "ACCEPT", "garbage lock.mdb: and accepts the allowed one")

# ---- the writers that rebuild: cache load, refresh, policyd --once -------------------
for how, argv in (("sendgatectl cache load", [CTL, "-c", CFG, "cache", "load"]),
                  ("sendgatectl refresh", [CTL, "-c", CFG, "refresh"]),
                  ("sendgate-policyd --once", [bin_path("sendgate-policyd"), "-c", CFG, "--once"])):
    damage("cut to half")
    r = run(argv)
    t.ok(r.returncode == 0 and "moved it to %s/data.mdb.damaged-" % CACHE in r.stderr and
         len(asides()) == 1, "%s moves a damaged cache aside, loudly, and fills a new one" % how)
    r = run([CTL, "-c", CFG, "cache", "get", "bad.example"])
    t.ok(r.returncode == 0 and '"blocked"' in r.stdout, "%s: the domain is back" % how)

# ---- lost data: a sound, empty cache is not "no domains" -------------------------
subprocess.run(["rm", "-rf", CACHE])
sock = os.path.join(d, "p.sock")
pd = Policyd(conf("pd", static_file=BROKEN_DOMAINS, policy_sock=sock), sock)
t.ok(pd.up and ask(sock, "a@bad.example").startswith(TEMPFAIL_BAD),
     "a new cache never filled: policyd answers handling.cache_error, not DUNNO")
t.like(pd.text(), "has no data from static (never refreshed into this cache",
       "and logs why")
r = run([CTL, "-c", CFG, "--json", "status"])
t.ok(r.returncode == 69 and "no data from static" in r.stdout,
     "status: the cache has no data from static")
r = run([CTL, "-c", CFG, "check-config"])
t.like(r.stdout, "%s has no data from static: never refreshed into this cache, or lost" % CACHE,
       "check-config says the cache has never been filled or lost its data")
r = milter(CFG, "a@bad.example")
t.like(r.stdout + r.stderr, "TEMPFAIL 451 4.7.1 sending rules for domain bad.example",
       "the milter tempfails it too")
r = run([CTL, "-c", CFG, "cache", "get", "bad.example"])
t.ok(r.returncode == 69 and "no data from static" in r.stderr,
     "cache get: not 'not in the cache' but 'no data from static' (exit 69)")
t.is_(pd.stop(), 0, "policyd stops cleanly")

# ---- a file cut under a running policyd -------------------------------------------
restore()
pd = Policyd(conf("pd", static_file=GOOD_DOMAINS, policy_sock=sock), sock)
t.ok(pd.up and ask(sock, "a@bad.example").startswith("action=550 5.7.1"),
     "policyd on a good cache rejects the blocked domain")
wait_for(lambda: "static: loaded" in pd.text(), 20)  # its first refresh done: readers detect
os.truncate(DATA, 16384)
answers = [ask(sock, "a@bad.example") for _ in range(3)]
t.ok(pd.p.poll() is None and all(a.startswith(TEMPFAIL_BAD) or a.startswith("action=550 5.7.1")
                                  for a in answers),
     "data.mdb cut to 16 KiB under it: still up, tempfail or reject, never DUNNO (%s)"
     % answers[0])
if not t.ok(wait_for(lambda: asides() and ask(sock, "a@bad.example").startswith(
        "action=550 5.7.1 domain bad.example is not allowed"), 20),
        "its refresher moves the damaged file aside and refills the cache at once"):
    t.diag("%s\n%s\n%s" % (os.listdir(CACHE), ask(sock, "a@bad.example"), pd.text()[-3000:]))
t.like(pd.text(), "vanished while it was read (SIGBUS)" if "SIGBUS" in pd.text() else "shrank",
       "the log says what happened")
t.is_(pd.stop(), 0, "policyd stops cleanly")

# ---- sendgate-trackd with damaged statistics ------------------------------------------
td = Trackd(t)
path = td.make("click", "--domain", "example.com", "--msgref", "M1", "--url",
               "https://example.com/landing")
t.is_(td.curl(path)[0], 302, "trackd: a click redirects")
t.ok(td.stop(), "trackd stops")
stats = os.path.join(td.dir, "stats")


def damage_stats(kind):
    f = os.path.join(stats, "data.mdb")
    if kind == "zero length":
        os.truncate(f, 0)
    elif kind == "cut to one page":
        os.truncate(f, PSIZE)
    elif kind == "random bytes":
        with open(f, "wb") as fp:
            fp.write(bytes(random.Random(3).getrandbits(8) for _ in range(4 * PSIZE)))
    elif kind == "a directory":
        os.unlink(f)
        os.mkdir(f)
    else:  # a symbolic link to a sound statistics file elsewhere
        os.rename(f, os.path.join(d, "stats-elsewhere.mdb"))
        os.symlink(os.path.join(d, "stats-elsewhere.mdb"), f)


for kind in ("zero length", "cut to one page", "random bytes", "a directory",
             "a symbolic link"):
    damage_stats(kind)
    r = td.ctl("stats")
    t.ok(r.returncode == 69 and "are damaged" in r.stderr and not signalled(r),
         "stats %s: sendgatectl stats exits 69 and says they are damaged" % kind)
    td.start()
    code, hdrs, _ = td.curl(path)
    t.ok(code == 302 and hdrs.get("location") == "https://example.com/landing",
         "stats %s: trackd starts and the click still redirects" % kind)
    t.like(td.logtext(), "moved them to %s/data.mdb.damaged-" % stats,
           "stats %s: the damaged statistics are moved aside, logged" % kind)
    t.ok(td.stop(), "stats %s: trackd stops cleanly" % kind)
    r = td.ctl("--json", "stats", "example.com")
    t.ok(r.returncode == 0 and '"clicks":\t1' in r.stdout,
         "stats %s: counting started again (1 click since)" % kind)
# a damaged provider cache does not stop the links either (trackd reopens it)
tcache = os.path.join(td.dir, "cache", "data.mdb")
os.truncate(tcache, 0)
td.start()
t.is_(td.curl(path)[0], 302, "trackd with a damaged provider cache starts, the click redirects")
t.like(td.logtext(), "data.mdb is empty (0 bytes)", "and it says what is wrong with the cache")
t.ok(td.stop(), "and stops cleanly")
t.is_(os.path.getsize(tcache), 0, "trackd never rebuilds the provider cache (policyd does)")
# statistics that cannot even be rebuilt: trackd runs without them
subprocess.run(["rm", "-rf", stats])
with open(stats, "w") as f:
    f.write("not a directory\n")
td.start()
t.is_(td.curl(path)[0], 302, "stats_path not a directory: trackd starts, the click redirects")
t.like(td.logtext(), "statistics are not kept (the events file still records every event)",
       "and it says the statistics are not kept")
t.ok(td.stop(), "and stops cleanly")
t.done()
