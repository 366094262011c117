#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# A configured feature that cannot work stops the daemon with exit status
# 78 (EX_CONFIG) and the fix in the message, so systemd's
# RestartPreventExitStatus=78 keeps it from restarting in a loop; it never
# starts half-working. The daemons run as the packaged units run them
# (user sendgate, no capabilities):
#   * socket_group = a group user sendgate is not in (the old advice,
#     postfix or smmsp): sendgate-milter and sendgate-policyd exit 78;
#   * tracking.key_files the milter cannot read, or that do not exist, or
#     default_host without key files: the milter exits 78 naming the command
#     that fixes it; without both, tracking is off and it starts;
#   * a key file that becomes unreadable: SIGHUP is refused and the milter
#     keeps serving with the keys it has.
import json
import os
import pwd
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T, bin_path, run, tmpdir, wait_for  # noqa: E402

t = T()
if os.geteuid() != 0:
    t.bail("needs root (to run the daemons as user sendgate)")
run(["systemd-sysusers", os.path.join(TOP, "packaging", "sysusers", "sendgate.conf")])
pw = pwd.getpwnam("sendgate")

d = tmpdir("sgexit-")
work = os.path.join(d, "w")
os.mkdir(work, 0o750)
os.chown(work, pw.pw_uid, pw.pw_gid)
key = os.path.join(d, "token-1.key")
run([bin_path("sendgatectl"), "token", "genkey", key])
os.chown(key, 0, pw.pw_gid)
os.chmod(key, 0o640)
SETPRIV = ["setpriv", "--reuid=sendgate", "--regid=sendgate", "--init-groups", "--"]


def conf(name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("[general]\nstate_dir = %s\n[milter]\nsocket = unix:%s/milter.sock\n"
                "[policyd]\npolicy_socket = unix:%s/policy.sock\nsocketmap_socket =\n%s"
                % (work, work, work, text))
    return path


def start_fails(prog, path):
    """Run the daemon as user sendgate; (exit status, output) when it stops by itself."""
    try:
        r = subprocess.run(SETPRIV + [bin_path(prog), "-f", "-c", path], capture_output=True,
                           text=True, timeout=20)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        return None, "still running after 20 s: %s" % (e.stderr or b"").decode(errors="replace")


for prog, section in (("sendgate-milter", "milter"), ("sendgate-policyd", "policyd")):
    path = conf(prog + "-group.conf", "[%s]\nsocket_group = postfix\n" % section)
    rc, out = start_fails(prog, path)
    t.is_(rc, 78, "%s: socket_group = postfix, user sendgate not in it: exit 78" % prog)
    t.like(out, "%s.socket_group = postfix: user sendgate is not in group postfix" % section,
           "%s: the message says why" % prog)
    t.like(out, "fix: leave %s.socket_group empty" % section, "%s: and the fix" % prog)
    t.ok(not os.path.exists(os.path.join(work, section if section == "milter" else "policy") +
                            ".sock"), "%s: no socket left behind" % prog)

unreadable = os.path.join(d, "root-only.key")
run([bin_path("sendgatectl"), "token", "genkey", unreadable])  # root:root 0600
rc, out = start_fails("sendgate-milter", conf("k1.conf", "[tracking]\nkey_files = %s\n" % unreadable))
t.is_(rc, 78, "milter: a key file user sendgate cannot read: exit 78")
t.like(out, "tracking.key_files: %s: cannot open: Permission denied; the milter" % unreadable, "the message names the file")
t.like(out, "fix: chgrp sendgate %s && chmod 0640 %s" % (unreadable, unreadable),
       "and the command that fixes it")
missing = os.path.join(d, "nowhere.key")
rc, out = start_fails("sendgate-milter", conf("k2.conf", "[tracking]\nkey_files = %s\n" % missing))
t.is_(rc, 78, "milter: a key file that does not exist: exit 78")
t.like(out, "fix: sendgatectl token genkey %s" % missing, "with the command that creates it")
rc, out = start_fails("sendgate-milter", conf("k3.conf", "[tracking]\ndefault_host = t.example\n"))
t.is_(rc, 78, "milter: default_host without key files: exit 78")
t.like(out, "tracking.default_host = t.example, but tracking.key_files is empty",
       "the message says tracking cannot sign")

# tracking off (no key files, no default_host): the milter starts; then keys, and a reload
# that cannot read them is refused while the milter keeps serving
path = conf("ok.conf", "")
log_path = os.path.join(d, "milter.log")
log = open(log_path, "w")
m = subprocess.Popen(SETPRIV + [bin_path("sendgate-milter"), "-f", "-c", path], stdout=log,
                     stderr=subprocess.STDOUT)
sock = os.path.join(work, "milter.sock")


def logtext():
    with open(log_path, errors="replace") as f:
        return f.read()


try:
    # READY (the log line) first, as systemd allows a reload only after READY=1
    t.ok(wait_for(lambda: "ready on" in logtext() or m.poll() is not None, 20) and
         m.poll() is None, "milter without key files or default_host: tracking off, it starts")
    time.sleep(0.2)
    t.like(logtext(), "tracking is off", "and says tracking is off")
    with open(path, "a") as f:
        f.write("[tracking]\nkey_files = %s\n" % key)
    m.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: "configuration reloaded" in logtext(), 15), "a reload with a readable key")
    os.chmod(key, 0o600)  # root:sendgate 0600: user sendgate can no longer read it
    m.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: "reload refused" in logtext(), 15),
         "the key unreadable: the reload is refused")
    t.like(logtext(), "tracking.key_files: %s: cannot open: Permission denied; the milter" % key, "naming the key file")
    for _ in range(5):  # one reload after another: never a stop
        m.send_signal(signal.SIGHUP)
        time.sleep(0.05)
    t.ok(wait_for(lambda: logtext().count("reload refused") >= 2, 15) and m.poll() is None,
         "SIGHUP again and again: still running (libmilter's own thread never stops it)")
    r = run([bin_path("sendgatectl"), "-c", path, "--json", "status", "milter"])
    state = json.loads(r.stdout)["services"]["milter"]["state"] if r.stdout.startswith("{") else r.stdout
    t.is_(state, "ok", "the milter keeps serving with the configuration it has (status: option "
          "negotiation answered)")
finally:
    if m.poll() is None:
        m.send_signal(signal.SIGTERM)
        try:
            m.wait(15)
        except subprocess.TimeoutExpired:
            m.kill()
            m.wait()
    log.close()
t.is_(m.returncode, 0, "it stops with status 0")
t.ok("Sanitizer" not in logtext() and "runtime error" not in logtext(), "no sanitizer report")
t.done()
