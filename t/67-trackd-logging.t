#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-trackd logs like the other daemons (lib/log.c): with -f -s to
# syslog, facility mail by default or general.syslog_facility, as
# "sendgate-trackd[pid]: text"; with -f on standard error, "prog[pid]: text";
# on standard error that is systemd's journal stream ($JOURNAL_STREAM names
# its device and inode) each line starts with the sd-daemon(3) priority,
# <3> error, <4> warning, <6> info, without the program name journald adds
# itself, exactly as sendgate-milter and sendgate-policyd print them.
#
# The syslog socket is private: trackd runs in its own mount namespace
# (unshare) whose /dev is a directory of this test holding "log", a datagram
# socket the test reads, next to the real device nodes.
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, tmpdir, write_conf
from trackdtest import Trackd

PLAIN_HTTP = {"base_url": "http://api.example/v1"}  # a warning every program reports
SYSLOG_RE = re.compile(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d sendgate-trackd\[(\d+)\]: (.*)$")
LOG_MAIL, LOG_LOCAL3 = 2 << 3, 19 << 3
LOG_ERR, LOG_WARNING, LOG_INFO = 3, 4, 6

# a private /dev with "log" in it, then trackd (unshare execs it: the pid is trackd's)
PRIVATE_DEV = r'''
set -e
mount --make-rprivate /
mount --rbind /dev "$SG_REALDEV"
for n in null zero full random urandom tty; do ln -s "$SG_REALDEV/$n" "$SG_DEV/$n"; done
ln -s /proc/self/fd "$SG_DEV/fd"
ln -s "$SG_LOGSOCK" "$SG_DEV/log"
mount --bind "$SG_DEV" /dev
exec "$@"
'''

t = T()


def journal_run(argv, stderr_path, env=None):
    """argv with stderr on a file that $JOURNAL_STREAM names; its lines."""
    with open(stderr_path, "w") as f:
        st = os.fstat(f.fileno())
        e = dict(os.environ if env is None else env, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f,
                       env=e, timeout=60)
    return read_lines(stderr_path)


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def first(lines, prefix, needle):
    """The first line starting with prefix and containing needle, or None."""
    return next((ln for ln in lines if ln.startswith(prefix) and needle in ln), None)


# --- standard error, journal stream: trackd's error, warning and info lines
td = Trackd(t, start=False)
td.write_conf(("k1",))
with open(td.conf, "a") as f:
    f.write("[jetemail]\nbase_url = %s\n" % PLAIN_HTTP["base_url"])
with open(td.log, "w") as f:
    st = os.fstat(f.fileno())
os.environ["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
td.start()  # appends to td.log: the same file, so the same device and inode
del os.environ["JOURNAL_STREAM"]
good_conf = open(td.conf).read()
with open(td.conf, "a") as f:
    f.write("[general]\nbogus_key = 1\n")
t.ok(td.reload(), "a reload with a broken configuration is refused, trackd keeps serving")
with open(td.conf, "w") as f:
    f.write(good_conf)
t.ok(td.stop(), "trackd stopped cleanly")
tlines = read_lines(td.log)
want = {"error": "<3>error: ", "warning": "<4>warning: ", "info": "<6>"}
t.ok(first(tlines, want["info"], "listening on inet:127.0.0.1:") is not None,
     "journal stream: the info line 'listening on' starts with <6>")
t.ok(first(tlines, want["warning"], "plain http") is not None,
     "journal stream: the configuration warning starts with <4>warning:")
t.ok(first(tlines, want["error"], "reload: configuration has errors") is not None,
     "journal stream: the refused reload's error starts with <3>error:")
t.is_([ln for ln in tlines if not re.match(r"^<[0-7]>", ln)], [],
      "journal stream: every line starts with a <N> priority")
t.is_([ln for ln in tlines if "sendgate-trackd" in ln], [],
      "journal stream: no line repeats the program name (journald adds it)")

# --- the same severities from the milter (test mode) and policyd (--once)
d = tmpdir("sglog-")
conf = os.path.join(d, "w.conf")
write_conf(conf, {"general": {"cache_path": os.path.join(d, "cache")}, "jetemail": PLAIN_HTTP})
msg = os.path.join(d, "m.eml")
with open(msg, "w") as f:
    f.write("From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhi\r\n")
mlines = journal_run([bin_path("sendgate-milter"), "-c", conf, "-t", msg, "--from",
                      "a@example.com", "--rcpt", "b@example.org"], os.path.join(d, "milter.err"))
plines = journal_run([bin_path("sendgate-policyd"), "-f", "--once", "-c", conf],
                     os.path.join(d, "policyd.err"))
bad = os.path.join(d, "bad.conf")
write_conf(bad, {"general": {"bogus_key": "1"}})
mbad = journal_run([bin_path("sendgate-milter"), "-f", "-c", bad], os.path.join(d, "mbad.err"))
tbad = journal_run([bin_path("sendgate-trackd"), "-f", "-c", bad], os.path.join(d, "tbad.err"))


def prio(line):
    m = re.match(r"^(<\d>(?:error: |warning: )?)", line or "")
    return m.group(1) if m else None


t.is_([prio(first(mlines, "<", "plain http")), prio(first(plines, "<", "plain http")),
       prio(first(tlines, "<", "plain http"))], [want["warning"]] * 3,
      "a configuration warning: <4>warning: from the milter, policyd and trackd alike")
t.is_([prio(first(mbad, "<", "unknown key")), prio(first(tbad, "<", "unknown key")),
       prio(first(plines, "<", "--once: no provider"))], [want["error"]] * 3,
      "an error: <3>error: from the milter, policyd and trackd alike")
t.is_([prio(first(mlines, "<", "tracking is off")), prio(first(tlines, "<", "listening on"))],
      [want["info"]] * 2, "an info line: <6> from the milter and trackd alike")
t.is_([ln for ln in mlines + plines + mbad + tbad
       if re.search(r"sendgate-(milter|policyd|trackd)\[", ln)], [],
      "journal stream: neither daemon repeats its program name")

# --- standard error without the journal: the plain format as before
plain = os.path.join(d, "plain.err")
with open(plain, "w") as f:
    subprocess.run([bin_path("sendgate-trackd"), "-f", "-c", bad], stdout=subprocess.DEVNULL,
                   stderr=f, env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"},
                   timeout=60)
pl = read_lines(plain)
t.ok(pl and all(re.match(r"^sendgate-trackd\[\d+\]: error: ", ln) for ln in pl),
     "standard error: 'sendgate-trackd[pid]: error: text' as before")
t.ok(first(pl, "sendgate-trackd[", "unknown key 'bogus_key'") is not None,
     "standard error: the configuration error is there")
# a JOURNAL_STREAM naming another file is not the journal (a redirected stderr)
with open(os.path.join(d, "other"), "w") as o:
    st = os.fstat(o.fileno())
with open(plain, "w") as f:
    subprocess.run([bin_path("sendgate-trackd"), "-f", "-c", bad], stdout=subprocess.DEVNULL,
                   stderr=f, env=dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino)),
                   timeout=60)
t.ok(all(ln.startswith("sendgate-trackd[") for ln in read_lines(plain)),
     "standard error redirected away from the journal stream: the plain format")


# --- syslog (-f -s) through a private /dev/log
def syslog_run(general, expect_fac):
    tdl = Trackd(t, general=general, start=False)
    devdir = os.path.join(tdl.dir, "dev")
    realdev = os.path.join(tdl.dir, "realdev")
    os.mkdir(devdir)
    os.mkdir(realdev)
    with open(tdl.conf, "a") as f:
        f.write("[jetemail]\nbase_url = %s\n" % PLAIN_HTTP["base_url"])
    sock_path = os.path.join(tdl.dir, "log.sock")
    logsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    logsock.bind(sock_path)
    logsock.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=tdl.notify_path, SG_DEV=devdir, SG_REALDEV=realdev,
               SG_LOGSOCK=sock_path)
    env.pop("JOURNAL_STREAM", None)
    unshare = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    tdl.logf = open(tdl.log, "a")
    tdl.proc = subprocess.Popen(unshare + ["sh", "-c", PRIVATE_DEV, "sh", bin_path("sendgate-trackd"),
                                           "-f", "-s", "-c", tdl.conf],
                                stdout=subprocess.DEVNULL, stderr=tdl.logf, env=env)
    ready = tdl.wait_notify("READY=1")
    t.ok(ready, "sendgate-trackd -f -s started in its namespace and said READY=1")
    if not ready:
        t.diag(tdl.logtext())
    code, _, _ = tdl.curl("/healthz")
    t.is_(code, 200, "it serves")
    pid = tdl.proc.pid
    with open(tdl.conf, "a") as f:
        f.write("[general]\nbogus_key = 1\n")
    t.ok(tdl.reload(), "a broken configuration on reload is refused")
    t.ok(tdl.stop(), "stopped cleanly")
    msgs = []
    while True:
        try:
            msgs.append(logsock.recv(8192).decode("utf-8", "replace").rstrip("\n"))
        except socket.timeout:
            break
    logsock.close()
    parsed = [SYSLOG_RE.match(m) for m in msgs]
    t.ok(msgs and all(parsed), "every syslog message is '<PRI>date sendgate-trackd[pid]: text'")
    if not all(parsed):
        t.diag("\n".join(msgs))
    parsed = [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in parsed if m]
    t.ok(parsed and all(p == pid for _, p, _ in parsed), "with trackd's own pid")

    def pri_of(needle):
        return next((p for p, _, text in parsed if needle in text), None)

    t.is_(pri_of("listening on inet:127.0.0.1:"), expect_fac | LOG_INFO,
          "'listening on' at info, facility %d" % (expect_fac >> 3))
    t.is_(pri_of("stopping"), expect_fac | LOG_INFO, "'stopping' at info")
    # read before the configuration is, so always with the default facility (as the milter)
    t.is_(pri_of("plain http"), LOG_MAIL | LOG_WARNING,
          "the start-up configuration warning at warning, facility mail")
    t.is_(pri_of("reload: configuration has errors"), expect_fac | LOG_ERR,
          "the refused reload at error")
    t.ok(any(text.startswith("error: ") and "reload: configuration has errors" in text
             for _, _, text in parsed), "the error text starts with 'error: ' as on stderr")
    t.is_(tdl.logtext().strip(), "", "nothing on standard error")


syslog_run(None, LOG_MAIL)
syslog_run({"syslog_facility": "local3"}, LOG_LOCAL3)
t.done()
