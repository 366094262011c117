#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# `make install` and `make uninstall` (scripts/install-tree): a DESTDIR
# install writes exactly the files `install-tree --list` names, plus the
# configuration and the state directory; the unit files point at the
# installed programs and configuration whatever PREFIX is; systemd, sysusers
# and tmpfiles files land where systemd reads them; a second install keeps
# an edited configuration; uninstall removes every installed file and keeps
# the configuration and the state.
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import BUILD, TOP, T, run, tmpdir  # noqa: E402

t = T()
TREE = os.path.join(TOP, "scripts", "install-tree")
BIN = os.path.join(BUILD, "bin")
progs = sorted(p for p in os.listdir(BIN) if p.startswith("sendgate"))
t.ok("sendgatectl" in progs, "programs to install: %s" % " ".join(progs))


def tree_env(prefix, extra=None):
    e = {"PREFIX": prefix, "SG_PROGS": " ".join(progs)}
    for k in ("SBINDIR", "MANDIR", "DOCDIR", "SYSTEMDUNITDIR", "SYSUSERSDIR", "TMPFILESDIR"):
        e[k] = ""  # unset whatever the caller's environment says
    e.update(extra or {})
    env = dict(os.environ)
    for k, v in e.items():
        if v == "":
            env.pop(k, None)
        else:
            env[k] = v
    return env


def files_under(root):
    out = set()
    for d, dirs, files in os.walk(root):
        for f in files:
            out.add("/" + os.path.relpath(os.path.join(d, f), root))
    return out


def tree(args, prefix, extra=None):
    return subprocess.run([TREE] + args, capture_output=True, text=True, env=tree_env(prefix, extra))


d = tmpdir()
dest = os.path.join(d, "root")
r = tree(["--list"], "/usr")
listed = set(r.stdout.split())
t.is_(r.returncode, 0, "install-tree --list runs")
r = tree([dest, BIN], "/usr")
t.is_(r.returncode, 0, "install-tree DESTDIR BUILDBIN (make install DESTDIR=... PREFIX=/usr)")
if r.returncode:
    t.diag(r.stderr)
got = files_under(dest)
conf = {"/etc/sendgate/sendgate.conf", "/etc/sendgate/domains.conf"}
t.is_(sorted(got - conf), sorted(listed), "the installed files are exactly those --list names")
t.is_(sorted(got & conf), sorted(conf), "the configuration is installed")
t.ok(os.path.isdir(os.path.join(dest, "var/lib/sendgate")), "the state directory is created")
for p in progs:
    t.ok("/usr/sbin/" + p in listed, "%s goes to /usr/sbin" % p)
expect = {
    "/usr/share/man/man5/sendgate.conf.5", "/usr/share/man/man8/sendgatectl.8",
    "/usr/lib/sysusers.d/sendgate.conf", "/usr/lib/tmpfiles.d/sendgate.conf",
    "/usr/share/doc/sendgate/examples/postfix/main.cf.sendgate",
    "/usr/share/doc/sendgate/examples/sendgate.conf",
}
unitdir = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                         capture_output=True, text=True).stdout.strip() or "/usr/lib/systemd/system"
for u in ("sendgate-milter", "sendgate-policyd", "sendgate-trackd"):
    expect.add("%s/%s.service" % (unitdir, u))
t.is_(sorted(expect - listed), [], "man pages, units (in %s), sysusers.d, tmpfiles.d and the "
      "Postfix snippet are installed" % unitdir)
modes = {f: stat.S_IMODE(os.stat(dest + f).st_mode) for f in got}
t.is_(sorted(f for f, m in modes.items() if m != (0o755 if f.startswith("/usr/sbin/") else 0o644)), [],
      "programs 0755, everything else 0644")
with open(os.path.join(dest, unitdir.lstrip("/"), "sendgate-policyd.service")) as f:
    t.like(f.read(), "ExecStart=/usr/sbin/sendgate-policyd -f -s -c /etc/sendgate/sendgate.conf",
           "PREFIX=/usr: the unit runs /usr/sbin/sendgate-policyd")

# an edited configuration survives a second install; uninstall keeps it
with open(os.path.join(dest, "etc/sendgate/sendgate.conf"), "a") as f:
    f.write("\n[handling]\nunknown_domain = reject\n")
r = tree([dest, BIN], "/usr")
t.like(r.stdout, "kept existing", "a second install says it kept the configuration")
with open(os.path.join(dest, "etc/sendgate/sendgate.conf")) as f:
    t.like(f.read(), "unknown_domain = reject", "the edited configuration is kept")
r = tree(["--uninstall", dest], "/usr")
t.is_(r.returncode, 0, "install-tree --uninstall (make uninstall)")
t.is_(sorted(files_under(dest)), sorted(conf), "uninstall removes every installed file, "
      "keeps the configuration")
t.ok(os.path.isdir(os.path.join(dest, "var/lib/sendgate")), "uninstall keeps the state")
t.ok(not os.path.exists(os.path.join(dest, "usr/share/doc/sendgate")),
     "uninstall removes the documentation directory")

# PREFIX=/usr/local: units name /usr/local/sbin, systemd finds them under /usr/local/lib
dest2 = os.path.join(d, "local")
r = tree([dest2, BIN], "/usr/local")
t.is_(r.returncode, 0, "install with PREFIX=/usr/local")
unit = os.path.join(dest2, "usr/local/lib/systemd/system/sendgate-milter.service")
t.ok(os.path.exists(unit), "units in /usr/local/lib/systemd/system")
if os.path.exists(unit):
    with open(unit) as f:
        t.like(f.read(), "ExecStart=/usr/local/sbin/sendgate-milter -f -s -c /etc/sendgate/sendgate.conf",
               "the unit runs /usr/local/sbin/sendgate-milter")
r = tree([dest2, BIN], "/usr/local", {"SG_CONFDIR": "/opt/sg/etc"})
unit = os.path.join(dest2, "usr/local/lib/systemd/system/sendgate-trackd.service")
with open(unit) as f:
    t.like(f.read(), "-c /opt/sg/etc/sendgate.conf", "SG_CONFDIR moves the unit's -c FILE too")
t.done()
