#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The systemd units, sysusers.d and tmpfiles.d files an operator installs:
# each unit is rated "OK" or better by `systemd-analyze security` (exposure
# at most 2.5), runs the daemon in the foreground as user sendgate with an
# empty capability set and the hardening block, orders the milter and the
# policy daemon before Postfix, can only write the socket directory inside
# Postfix's chroot and its own state, reloads with SIGHUP, restarts on
# failure but not on a configuration error; the sysusers.d file creates the
# user and the tmpfiles.d file the directories with the documented owners
# and modes (in a scratch root, so the test changes nothing on the machine).
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, TOP, T, run  # noqa: E402

t = T()
if not shutil.which("systemd-analyze"):
    if IN_CI:
        t.bail("systemd-analyze is missing (package systemd, scripts/deps)")
    print("1..0 # SKIP needs systemd-analyze (package systemd)")
    sys.exit(0)

UNITS = os.path.join(TOP, "packaging", "systemd")
DAEMONS = ["sendgate-milter", "sendgate-policyd", "sendgate-trackd"]
MAX_EXPOSURE = 2.5


def unit_keys(path):
    """[(section, key, value)] of a unit file, in order."""
    out, sec = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^\[(\w+)\]$", line)
            if m:
                sec = m.group(1)
                continue
            k, _, v = line.partition("=")
            out.append((sec, k, v))
    return out


def one(keys, name):
    vals = [v for s, k, v in keys if k == name]
    return vals[-1] if vals else None


HARDENING = {
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "SystemCallArchitectures": "native",
    "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes", "RestrictRealtime": "yes",
    "RestrictNamespaces": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "ProtectClock": "yes",
    "ProtectHostname": "yes", "ProtectProc": "invisible", "ProcSubset": "pid",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
}

for d in DAEMONS:
    path = os.path.join(UNITS, d + ".service")
    if not t.ok(os.path.exists(path), "%s.service exists" % d):
        continue
    r = run(["systemd-analyze", "security", "--offline=true", "--no-pager", path])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout + r.stderr)
    t.ok(m is not None, "%s: systemd-analyze security rates the unit" % d)
    if m:
        t.diag("%s: exposure %s %s" % (d, m.group(1), m.group(2)))
        t.ok(float(m.group(1)) <= MAX_EXPOSURE,
             "%s: exposure %s is 'OK' or better (<= %.1f)" % (d, m.group(1), MAX_EXPOSURE))
        with open(path) as f:
            t.like(f.read(), "rates this unit %s OK" % m.group(1),
                   "%s: the figure in the unit's comment is the measured one" % d)
    keys = unit_keys(path)
    argv = (one(keys, "ExecStart") or "").split()
    t.ok(argv[:1] == ["/usr/sbin/" + d] and "-f" in argv and
         argv[-2:] == ["-c", "/etc/sendgate/sendgate.conf"],
         "%s: ExecStart runs /usr/sbin/%s in the foreground (-f) with -c /etc/sendgate/sendgate.conf" % (d, d))
    t.is_(one(keys, "Type"), "notify", "%s: Type=notify (the daemon sends READY=1)" % d)
    t.is_(one(keys, "ExecReload"), "/bin/kill -HUP $MAINPID", "%s: reload is SIGHUP" % d)
    t.is_(one(keys, "Restart"), "on-failure", "%s: Restart=on-failure" % d)
    t.is_(one(keys, "RestartPreventExitStatus"), "78", "%s: no restart loop on EX_CONFIG" % d)
    t.is_((one(keys, "User"), one(keys, "Group")), ("sendgate", "sendgate"), "%s: runs as sendgate" % d)
    t.is_(one(keys, "StateDirectory"), "sendgate", "%s: StateDirectory=sendgate" % d)
    t.ok(one(keys, "RuntimeDirectory") == "sendgate" and one(keys, "RuntimeDirectoryPreserve") == "yes",
         "%s: shared RuntimeDirectory kept while another daemon runs" % d)
    t.ok(one(keys, "UMask") in ("0027", "0077", "0007"), "%s: UMask keeps files from others" % d)
    wrong = {k: one(keys, k) for k, v in HARDENING.items() if one(keys, k) != v}
    t.is_(wrong, {}, "%s: the hardening block is complete" % d)
    t.ok("@system-service" in [v for s, k, v in keys if k == "SystemCallFilter"],
         "%s: SystemCallFilter=@system-service" % d)
    rw = one(keys, "ReadWritePaths")
    if d == "sendgate-trackd":
        t.is_(rw, None, "%s: writes nothing outside its state directory" % d)
        t.ok("postfix.service" not in (one(keys, "Before") or ""), "%s: not tied to Postfix" % d)
    else:
        t.is_(rw, "-/var/spool/postfix/sendgate", "%s: may write only the socket directory "
              "inside Postfix's chroot" % d)
        t.is_(one(keys, "Before"), "postfix.service", "%s: starts before Postfix" % d)
    if d == "sendgate-milter":
        t.is_((one(keys, "IPAddressAllow"), one(keys, "IPAddressDeny")), ("localhost", "any"),
              "milter: no network beyond loopback")
    else:
        t.is_(one(keys, "IPAddressDeny"), None,
              "%s: network open (%s)" % (d, "provider APIs" if d == "sendgate-policyd" else "clicks"))

# sysusers.d and tmpfiles.d, applied to a scratch root
root = tempfile.mkdtemp(prefix="sgunits-")
try:
    for sub, src in (("usr/lib/sysusers.d", "sysusers"), ("usr/lib/tmpfiles.d", "tmpfiles")):
        os.makedirs(os.path.join(root, sub))
        shutil.copy(os.path.join(TOP, "packaging", src, "sendgate.conf"), os.path.join(root, sub))
    os.makedirs(os.path.join(root, "etc"))
    r = run(["systemd-sysusers", "--root=" + root, "sendgate.conf"])
    t.is_(r.returncode, 0, "systemd-sysusers accepts packaging/sysusers/sendgate.conf")
    with open(os.path.join(root, "etc", "passwd")) as f:
        pw = [l.split(":") for l in f.read().splitlines() if l.startswith("sendgate:")]
    t.ok(len(pw) == 1 and pw[0][5] == "/var/lib/sendgate" and pw[0][6] == "/usr/sbin/nologin",
         "system user sendgate, home /var/lib/sendgate, no login shell")
    uid = int(pw[0][2]) if pw else -1
    t.ok(0 < uid < 1000, "sendgate is a system account (uid %d)" % uid)
    r = run(["systemd-tmpfiles", "--root=" + root, "--create", "sendgate.conf"])
    t.is_(r.returncode, 0, "systemd-tmpfiles accepts packaging/tmpfiles/sendgate.conf")
    for d in ("run/sendgate", "var/lib/sendgate", "var/spool/postfix/sendgate"):
        p = os.path.join(root, d)
        st = os.stat(p) if os.path.isdir(p) else None
        t.ok(st is not None and st.st_uid == uid and st.st_gid == uid and
             (st.st_mode & 0o7777) == 0o750, "/%s: sendgate:sendgate 0750" % d)
finally:
    shutil.rmtree(root, ignore_errors=True)
t.done()
