#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# What an operator sees before and after starting sendgate:
# `sendgatectl check-config` warns, with the key, the file and line and the
# fix, about the traps of milter and policy deployments (a socket outside
# Postfix's chroot, a socket directory or socket the postfix user cannot
# use, secret files others may replace or the daemons' user cannot read, a
# cache a root command left unwritable), fails on key files the daemons
# refuse (exit 78), and is quiet about a correct set-up; `sendgatectl status` shows each provider's
# refresh state and whether each daemon answers its own protocol (milter
# option negotiation, a policy request, a socketmap lookup, GET /healthz),
# with exit status 69 when one does not.
import json
import os
import pwd
import grp
import re
import socket
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, TOP, T, bin_path, free_port, run, tmpdir, wait_for, write_conf  # noqa: E402

t = T()
try:
    pwd.getpwnam("postfix")
    have_postfix = True
except KeyError:
    have_postfix = False
if os.geteuid() != 0 or not have_postfix:
    if IN_CI:
        t.bail("needs root and the postfix user (package postfix)")
    print("1..0 # SKIP needs root and the postfix user")
    sys.exit(0)

CTL = bin_path("sendgatectl")
d = tmpdir()
os.chmod(d, 0o755)
nobody = pwd.getpwnam("nobody")
postfix_gid = grp.getgrnam("postfix").gr_gid

# a Postfix configuration of our own (postconf reads MAIL_CONFIG): the queue
# directory is d/spool and master.cf runs smtpd chrooted, as Debian's does
pfconf = os.path.join(d, "pfconf")
spool = os.path.join(d, "spool")
os.makedirs(pfconf)
os.makedirs(spool)
with open(os.path.join(pfconf, "main.cf"), "w") as f:
    f.write("compatibility_level = 3.6\nqueue_directory = %s\n" % spool)
with open(os.path.join(pfconf, "master.cf"), "w") as f:
    f.write("smtp      inet  n       -       y       -       -       smtpd\n"
            "cleanup   unix  n       -       y       -       0       cleanup\n")
ENV = {"MAIL_CONFIG": pfconf}


def check(conf):
    r = run([CTL, "-c", conf, "check-config"], env=ENV)
    return r.returncode, r.stdout + r.stderr


def warnings_for(out, key):
    return [l for l in out.splitlines() if ": warning: %s:" % key in l]


# --- a broken set-up ---------------------------------------------------------
bad = os.path.join(d, "bad")
os.makedirs(os.path.join(bad, "cache"))
sockdir = os.path.join(spool, "sendgate-bad")
os.makedirs(sockdir)
os.chmod(sockdir, 0o700)  # root only: postfix cannot search it
keyfile = os.path.join(bad, "k1.key")
r = run([CTL, "-c", "/dev/null", "token", "genkey", keyfile])
t.is_(r.returncode, 0, "token genkey writes a key file")
os.chmod(keyfile, 0o644)  # others may read the signing key
key2 = os.path.join(bad, "k2.key")
run([CTL, "-c", "/dev/null", "token", "genkey", "--id", "2", key2])
os.chmod(key2, 0o660)  # the group may replace it
key3 = os.path.join(bad, "k3.key")
run([CTL, "-c", "/dev/null", "token", "genkey", "--id", "3", key3])  # root 0600: nobody cannot read
with open(os.path.join(bad, "cache", "data.mdb"), "w") as f:
    f.write("")  # a cache file root created, 0644
os.chmod(os.path.join(bad, "cache"), 0o777)
badconf = write_conf(os.path.join(bad, "sendgate.conf"), {
    "general": {"user": "nobody", "cache_path": os.path.join(bad, "cache")},
    "policyd": {"policy_socket": "unix:%s/policy.sock" % sockdir,
                "socketmap_socket": "unix:%s/smap.sock" % bad},
    "trackd": {"stats_path": os.path.join(bad, "stats")},
    "tracking": {"key_files": "%s, %s, %s" % (keyfile, key2, key3)},
})
rc, out = check(badconf)
t.is_(rc, 78, "check-config: key files the daemons refuse are errors, exit status 78")
t.like(out, "%s: 2 errors: the daemons would refuse this configuration" % badconf,
       "check-config says how many errors")
w = warnings_for(out, "policyd.policy_socket")
t.ok(any("user postfix cannot search directory %s" % sockdir in l and "0700" in l for l in w),
     "a socket directory postfix cannot search is named, with owner and mode")
t.ok(all(l.startswith(badconf + ":6: warning:") for l in w),
     "the warnings name the file and the line of the key (%s:6)" % badconf)
w = warnings_for(out, "policyd.socketmap_socket")
t.ok(any("outside Postfix's queue directory %s" % spool in l and "chroot" in l and
         "unix:%s/sendgate/smap.sock" % spool in l for l in w),
     "a socket outside the chrooted queue directory, with the path to use instead")
t.ok(any("user nobody cannot write into directory %s" % bad in l and "fix: chown nobody:nogroup %s" % bad in l
         for l in w), "the daemons' user must be able to create the socket: chown named")
e = [l for l in out.splitlines() if l.startswith(badconf + ":13: tracking.key_files: ")]
t.ok(any(keyfile + " has mode 0644: others may read it" in l and
         "fix: chmod 0640 " + keyfile in l for l in e),
     "a key file others may read: an error at the key's line, chmod 0640")
t.ok(any(key2 + " has mode 0660: the group may change it" in l and "fix: chmod 0640 " + key2 in l
         for l in e), "a key file the group may replace: an error, chmod 0640")
w = warnings_for(out, "tracking.key_files")
t.ok(any(key3 in l and "user nobody cannot read it" in l and
         "chgrp nogroup %s && chmod g+r %s" % (key3, key3) in l for l in w),
     "a key file the daemons' user cannot read: chgrp and chmod g+r")
w = warnings_for(out, "general.cache_path")
t.ok(any("data.mdb is not writable by user nobody" in l and "chown -R nobody:" in l for l in w),
     "a cache file left by a root command: chown -R")

# --- a correct set-up -----------------------------------------------------------
good = os.path.join(d, "good")
os.makedirs(good)
gsock = os.path.join(spool, "sendgate")
os.makedirs(gsock)
os.chown(gsock, nobody.pw_uid, postfix_gid)
os.chmod(gsock, 0o750)
os.makedirs(os.path.join(good, "state"))
os.chown(os.path.join(good, "state"), nobody.pw_uid, nobody.pw_gid)
gkey = os.path.join(good, "k1.key")
run([CTL, "-c", "/dev/null", "token", "genkey", gkey])
os.chown(gkey, 0, grp.getgrnam("nogroup").gr_gid)
os.chmod(gkey, 0o640)
tok = os.path.join(good, "mailtrap.token")
with open(tok, "w") as f:
    f.write("0123456789abcdef\n")
os.chown(tok, 0, grp.getgrnam("nogroup").gr_gid)
os.chmod(tok, 0o640)
goodconf = write_conf(os.path.join(good, "sendgate.conf"), {
    "general": {"user": "nobody", "cache_path": os.path.join(good, "state", "cache")},
    "mailtrap": {"api_token_file": tok},
    "milter": {"socket": "unix:%s/milter.sock" % gsock},
    "policyd": {"policy_socket": "unix:%s/policy.sock" % gsock,
                "socketmap_socket": "unix:%s/socketmap.sock" % gsock,
                "socket_group": "postfix", "socket_mode": "0660"},
    "trackd": {"stats_path": os.path.join(good, "state", "stats")},
    "tracking": {"key_files": gkey},
})
rc, out = check(goodconf)
t.is_(rc, 0, "check-config of a correct set-up: exit status 0")
quiet = [l for l in out.splitlines() if re.search(
    r"warning: (policyd\.|tracking\.|mailtrap\.|general\.cache_path|trackd\.stats_path)", l)]
t.is_(quiet, [], "no warning about sockets, keys, secrets or state when they are right")
os.chmod(tok, 0o660)
rc, out = check(goodconf)
t.ok(any("may be replaced by group or others" in l for l in warnings_for(out, "mailtrap.api_token_file")),
     "a secret file the group may write is reported")
os.chmod(tok, 0o640)
os.chmod(gsock, 0o700)
rc, out = check(goodconf)
t.ok(any("user postfix cannot search directory %s" % gsock in l and "chmod g+x %s" % gsock in l
         for l in warnings_for(out, "policyd.policy_socket")),
     "postfix in the directory's group without g+x: chmod g+x")
os.chmod(gsock, 0o750)

# socket_group = postfix under the packaged units (user sendgate, general.user
# empty): the daemon cannot chgrp its socket to a group it is not in
try:
    pwd.getpwnam("sendgate")
except KeyError:  # the account the package creates (and keeps on purge)
    run(["systemd-sysusers", os.path.join(TOP, "packaging", "sysusers", "sendgate.conf")])
grpconf = write_conf(os.path.join(good, "group.conf"), {
    "policyd": {"policy_socket": "unix:%s/policy.sock" % gsock, "socket_group": "postfix"}})
rc, out = check(grpconf)
w = warnings_for(out, "policyd.socket_group")
t.ok(len(w) == 1 and w[0].startswith(grpconf + ":3:") and "not in group postfix" in w[0] and
     "leave socket_group empty" in w[0],
     "socket_group = postfix under the packaged units: will not start, leave it empty")

# --- sendgatectl status -----------------------------------------------------------
class FakeMilter(threading.Thread):
    """Answers SMFIC_OPTNEG as libmilter does (version 6), then reads until quit."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(4)

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                hdr = self.recv_exact(c, 5)
                if len(hdr) == 5 and hdr[4:5] == b"O":
                    self.recv_exact(c, 12)
                    c.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1ff, 0x0))
                self.recv_exact(c, 5)  # SMFIC_QUIT, or the client's close

    @staticmethod
    def recv_exact(c, n):
        data = b""
        while len(data) < n:
            chunk = c.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data


stdir = os.path.join(d, "status")
os.makedirs(stdir)
with open(os.path.join(stdir, "domains.conf"), "w") as f:
    f.write("[outbound shop.example]\nstatus = compliant\n\n"
            "[outbound other.example]\nstatus = unverified_dns\n\n"
            "[inbound shop.example]\nstatus = active\ndelivery = smtp\n"
            "smtp_servers = 127.0.0.1:25\n")
skey = os.path.join(stdir, "k1.key")
run([CTL, "-c", "/dev/null", "token", "genkey", skey])
port = free_port()
stconf = write_conf(os.path.join(stdir, "sendgate.conf"), {
    "general": {"cache_path": os.path.join(stdir, "cache")},
    "static": {"enabled": "yes", "file": os.path.join(stdir, "domains.conf")},
    "milter": {"socket": "unix:%s/milter.sock" % stdir},
    "policyd": {"policy_socket": "unix:%s/policy.sock" % stdir,
                "socketmap_socket": "unix:%s/socketmap.sock" % stdir},
    "trackd": {"listen": "inet:127.0.0.1:%d" % port, "stats_path": os.path.join(stdir, "stats")},
    "tracking": {"key_files": skey},
})
t.is_(run([CTL, "-c", stconf, "cache", "load"]).returncode, 0, "static domains loaded")
procs = []
try:
    milter = FakeMilter(os.path.join(stdir, "milter.sock"))
    milter.start()
    logs = {}
    for prog in ("sendgate-policyd", "sendgate-trackd"):
        logs[prog] = open(os.path.join(stdir, prog + ".log"), "w")
        procs.append(subprocess.Popen([bin_path(prog), "-f", "-c", stconf], stdout=logs[prog],
                                      stderr=subprocess.STDOUT))
    up = wait_for(lambda: os.path.exists(os.path.join(stdir, "socketmap.sock")) and
                  run([CTL, "-c", stconf, "status", "trackd"]).returncode == 0, 20)
    t.ok(up, "sendgate-policyd and sendgate-trackd are up")
    r = run([CTL, "-c", stconf, "status"])
    t.is_(r.returncode, 0, "status: exit status 0 when every daemon answers")
    out = r.stdout
    t.ok(re.search(r"^static\s+yes\s+2\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+s\s+0\s+-$", out, re.M),
         "status: the static provider's last refresh, age, failures and domain counts")
    t.ok(re.search(r"^mailtrap\s+no\s+0\s+0\s+never", out, re.M), "status: a provider never refreshed")
    t.ok(re.search(r"^milter\s+unix:\S+milter.sock\s+answers: milter protocol 6", out, re.M),
         "status: the milter answered the option negotiation")
    t.ok(re.search(r"^policy\s+\S+\s+answers: action=DUNNO", out, re.M),
         "status: the policy service answered a request with an action= line")
    t.ok(re.search(r"^socketmap\s+\S+\s+answers: relay lookup of \S+ gives \"NOTFOUND ?\"", out, re.M),
         "status: the socketmap service answered a lookup")
    t.ok(re.search(r"^trackd\s+inet:127.0.0.1:%d\s+answers: GET /healthz: HTTP/1.[01] 200" % port,
                   out, re.M), "status: sendgate-trackd answered /healthz")
    if r.returncode:
        t.diag(out)
    r = run([CTL, "-c", stconf, "--json", "status"])
    j = json.loads(r.stdout)
    t.ok(j["providers"]["static"]["enabled"] and j["providers"]["static"]["cached_outbound"] == 2
         and j["providers"]["static"]["stale"] is False and j["problems"] == 0
         and all(s["state"] == "ok" for s in j["services"].values()),
         "status --json: the same as one object")
    procs[0].terminate()
    procs[0].wait(10)
    r = run([CTL, "-c", stconf, "status"])
    t.is_(r.returncode, 69, "status: exit status 69 (EX_UNAVAILABLE) when a daemon is down")
    t.ok(re.search(r"^policy\s+\S+\s+not answering: connect: ", r.stdout, re.M),
         "status: the policy service is shown as not answering, with the reason")
    r = run([CTL, "-c", stconf, "status", "milter", "trackd"])
    t.is_(r.returncode, 0, "status milter trackd: only the named services are probed")
    t.ok(re.search(r"^policy\s+\S+\s+not probed", r.stdout, re.M), "the others are 'not probed'")
    r = run([CTL, "-c", stconf, "status", "nosuch"])
    t.is_(r.returncode, 64, "status with an unknown service name: usage error")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
t.done()
