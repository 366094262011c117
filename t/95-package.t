#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages, from build to purge, as an operator meets them:
#
#  1. `dpkg-buildpackage -us -uc -b` builds the four packages from a copy of
#     the tree (the checkout stays clean; artifacts in a temporary directory);
#  2. lintian reports no error and no warning that is not overridden with
#     its reason (debian/*.lintian-overrides);
#  3. the packages hold exactly the tree `make install PREFIX=/usr` writes
#     (scripts/install-tree --list), apart from Debian's documentation
#     directory name, compression and copyright/changelog;
#  4. `dpkg -i` installs them next to Postfix: user sendgate, postfix in
#     group sendgate, state, run and socket directories with their owners
#     and modes, conffiles, units, and the message naming the Postfix
#     snippet (main.cf untouched);
#  5. each daemon starts from its installed unit's ExecStart, as the unit's
#     User=/Group= with its UMask=, and sends READY=1 to $NOTIFY_SOCKET;
#     `sendgatectl status` sees all four answer, `sendgatectl check-config`
#     finds nothing wrong with the installed layout;
#  6. a real Postfix configured with the shipped main.cf snippet (milter and
#     policy lines verbatim, sockets in the installed directory) relays a
#     message through the installed milter, refuses a blocked sender, and
#     the tracked link works through the installed sendgate-trackd;
#  7. `dpkg --purge` removes everything but what Debian policy keeps (the
#     system user and group).
# The packages are purged at the end even when something failed, so the
# machine is left as it was for the other tests. Needs root (CI runs it so).
import glob
import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, TOP, T, free_port, run, tmpdir, wait_for  # noqa: E402

t = T()
NEED = ("dpkg-buildpackage", "lintian", "dpkg", "postfix", "swaks", "smtp-sink", "setpriv", "git")
missing = [p for p in NEED if not shutil.which(p)]
if missing or os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root and %s (scripts/deps)" % (", ".join(missing) or "root"))
    print("1..0 # SKIP needs root and %s" % (", ".join(missing) or "root"))
    sys.exit(0)
from pfharness import Postfix  # noqa: E402

PKGS = ["sendgate-common", "sendgate-milter", "sendgate-policyd", "sendgate-trackd"]
DAEMONS = ["sendgate-policyd", "sendgate-milter", "sendgate-trackd"]
SOCKDIR = "/var/spool/postfix/sendgate"
SNIPPET = "/usr/share/doc/sendgate-common/examples/postfix/main.cf.sendgate"
PROGS = ["sendgate-milter", "sendgate-policyd", "sendgate-trackd", "sendgatectl"]
TRACK_HOST = "t.shop.example"


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return r.returncode == 0 and r.stdout.endswith(" installed")


def purge_all():
    present = [p for p in PKGS if run(["dpkg-query", "-W", "-f=${Status}", p]).returncode == 0
               and "not-installed" not in run(["dpkg-query", "-W", "-f=${Status}", p]).stdout]
    if present:
        return run(["dpkg", "--purge"] + present, timeout=300)
    return None


def copy_tree(dst):
    """The source tree as git sees it (tracked and new files, nothing ignored)."""
    r = run(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    names = [n for n in r.stdout.split("\0") if n] if r.returncode == 0 else []
    if not names:  # not a git checkout: everything but the build directories
        for d, dirs, files in os.walk(TOP):
            dirs[:] = [x for x in dirs if not (d == TOP and x in ("build", ".git"))]
            names += [os.path.relpath(os.path.join(d, f), TOP) for f in files]
    for n in names:
        src = os.path.join(TOP, n)
        if not os.path.isfile(src) or n.startswith("build/"):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(n)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, n))


def deb_files(deb):
    """{path: kind} of a .deb's data (kind: f file, l symlink)."""
    out = {}
    p = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        kind = line[0]
        path = line.split(None, 5)[5].split(" -> ")[0]
        path = path[1:] if path.startswith("./") else path
        path = "/" + path.lstrip("/")
        if kind != "d":
            out[path] = "l" if kind == "l" else "f"
    return out


def snippet_params(path):
    """main.cf parameters of the shipped snippet (comments dropped, continuations joined)."""
    params, key = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                params[key] += " " + line.strip()
            else:
                key, _, val = line.partition("=")
                key = key.strip()
                params[key] = val.strip()
    return params


class SnippetPostfix(Postfix):
    """The harness Postfix with the snippet's parameters replacing its own (one
    line per parameter: overriding entries make Postfix log warnings), and the
    relative unix:sendgate/... paths resolving to the installed socket directory
    as they do in the real queue directory."""

    def __init__(self, workdir, params, **kw):
        self.snippet = params
        super().__init__(workdir, **kw)

    def write_config(self):
        super().write_config()
        main = os.path.join(self.run, "etc", "main.cf")
        with open(main) as f:
            lines = f.read().splitlines()
        done = set()
        for i, line in enumerate(lines):
            k = line.split("=", 1)[0].strip()
            if k in self.snippet:
                lines[i] = "%s = %s" % (k, self.snippet[k])
                done.add(k)
        lines += ["%s = %s" % (k, v) for k, v in self.snippet.items() if k not in done]
        with open(main, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.symlink(SOCKDIR, os.path.join(self.run, "spool", "sendgate"))


class Daemon:
    """A daemon started from its installed unit, as systemd would start it."""

    def __init__(self, name, workdir):
        self.name = name
        self.unit = self.read_unit("/lib/systemd/system/%s.service" % name)
        self.argv = shlex.split(self.unit.get("ExecStart", ""))
        self.notify_path = os.path.join(workdir, name + ".notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        os.chmod(self.notify_path, 0o666)
        self.notify.settimeout(0.2)
        self.messages = []
        self.out = open(os.path.join(workdir, name + ".out"), "w+")
        self.err = open(os.path.join(workdir, name + ".log"), "w+")
        self.proc = None

    @staticmethod
    def read_unit(path):
        keys = {}
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith(("#", "[")) and "=" in line:
                    k, v = line.split("=", 1)
                    keys[k] = v
        return keys

    def start(self):
        user, group = self.unit.get("User"), self.unit.get("Group")
        argv = ["setpriv", "--reuid=" + user, "--regid=" + group, "--init-groups", "--"] + self.argv
        umask = int(self.unit.get("UMask", "0022"), 8)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET": self.notify_path,
               "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err, env=env,
                                     preexec_fn=lambda: os.umask(umask), cwd="/")

    def ready(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end and self.proc.poll() is None:
            try:
                self.messages.append(self.notify.recv(4096).decode())
            except socket.timeout:
                pass
            if any("READY=1" in m.split("\n") for m in self.messages):
                return True
        return False

    def log(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def output(self):
        self.out.flush()
        self.out.seek(0)
        return self.out.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        return self.proc.returncode if self.proc else None


def as_sendgate(argv):
    return run(["setpriv", "--reuid=sendgate", "--regid=sendgate", "--init-groups", "--"] + argv)


d = tmpdir("sgpkg-")
out_dir = os.path.join(d, "out")
src = os.path.join(out_dir, "sendgate")
daemons = []
pf = None
purge_all()  # a run that died half-way may have left them installed
try:
    # 1. build, in a copy --------------------------------------------------------
    copy_tree(src)
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, capture_output=True,
                       text=True, timeout=1800,
                       env=dict(os.environ, DEB_BUILD_OPTIONS="parallel=%d" % (os.cpu_count() or 1)))
    with open(os.path.join(d, "build.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    if not t.ok(r.returncode == 0, "dpkg-buildpackage -us -uc -b builds the packages"):
        t.diag((r.stdout + r.stderr)[-4000:])
        t.bail("no packages to test")
    debs = {p: glob.glob(os.path.join(out_dir, "%s_*.deb" % p)) for p in PKGS}
    t.ok(all(len(v) == 1 for v in debs.values()), "one .deb per package: %s" %
         " ".join(os.path.basename(v[0]) for v in debs.values() if v))
    debs = {p: v[0] for p, v in debs.items()}
    t.ok(not os.path.exists(os.path.join(TOP, "debian", "tmp")) and
         not glob.glob(os.path.join(os.path.dirname(TOP), "sendgate*_*.deb")),
         "the build left the checkout alone (artifacts in %s)" % out_dir)
    with open(os.path.join(d, "build.log")) as f:
        log = f.read()
    t.ok(all(f in log for f in ("-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-Wl,-z,relro",
                                "-Wl,-z,now", "-Werror=format-security", "-fPIE", "-pie")),
         "built with the hardening=+all flags (stack protector, fortify, relro, bindnow, PIE)")

    # 2. lintian ------------------------------------------------------------------------
    changes = glob.glob(os.path.join(out_dir, "*.changes"))
    r = run(["lintian", "--no-tag-display-limit", changes[0]], timeout=600)
    tags = [l for l in r.stdout.splitlines() if re.match(r"^[EW]: ", l)]
    t.is_([l for l in tags if l.startswith("E:")], [], "lintian: no errors")
    t.is_([l for l in tags if l.startswith("W:")], [],
          "lintian: no warnings beyond the overridden ones (debian/*.lintian-overrides)")

    # 3. the same tree as make install PREFIX=/usr ------------------------------------------
    env = dict(os.environ, PREFIX="/usr", SG_PROGS=" ".join(PROGS))
    for k in ("SBINDIR", "MANDIR", "DOCDIR", "SYSTEMDUNITDIR", "SYSUSERSDIR", "TMPFILESDIR"):
        env.pop(k, None)
    listed = set(subprocess.run([os.path.join(TOP, "scripts", "install-tree"), "--list"],
                                capture_output=True, text=True, env=env).stdout.split())
    want = {p.replace("/usr/share/doc/sendgate/", "/usr/share/doc/sendgate-common/")
            for p in listed} | {"/etc/sendgate/sendgate.conf", "/etc/sendgate/domains.conf"}
    got, debian_only = set(), set()
    for p, deb in debs.items():
        for path, kind in deb_files(deb).items():
            if path in ("/usr/share/doc/sendgate-common/copyright",
                        "/usr/share/doc/sendgate-common/changelog.Debian.gz",
                        "/usr/share/lintian/overrides/" + p) or \
                    (kind == "l" and path == "/usr/share/doc/" + p):
                debian_only.add(path)
                continue
            got.add(path[:-3] if path.endswith(".gz") and path[:-3] in want else path)
    t.is_(sorted(got - want), [], "the packages hold nothing make install does not write")
    t.is_(sorted(want - got), [], "the packages hold everything make install writes")
    t.is_(len(debian_only), 9, "plus Debian's copyright, changelog, doc links and lintian "
          "overrides only")
    common = deb_files(debs["sendgate-common"])
    t.ok(SNIPPET in common, "the Postfix snippet is in sendgate-common, uncompressed")
    for dm in DAEMONS:
        t.ok("/usr/sbin/" + dm in deb_files(debs[dm]) and
             "/lib/systemd/system/%s.service" % dm in deb_files(debs[dm]),
             "%s holds its program and unit" % dm)
        r = run(["dpkg-deb", "-f", debs[dm], "Depends"])
        t.like(r.stdout, "sendgate-common (= ", "%s depends on the same sendgate-common" % dm)

    # 4. install ----------------------------------------------------------------------
    t.ok(installed("postfix"), "postfix is installed (scripts/deps)")
    if os.path.exists("/etc/postfix/main.cf"):
        with open("/etc/postfix/main.cf", "rb") as f:
            main_before = f.read()
    else:
        main_before = None
    r = run(["dpkg", "-i"] + [debs[p] for p in PKGS], timeout=600)
    if not t.is_(r.returncode, 0, "dpkg -i installs the four packages"):
        t.diag(r.stdout + r.stderr)
        t.bail("not installed")
    t.like(r.stdout, SNIPPET, "the installation names the Postfix snippet")
    after = open("/etc/postfix/main.cf", "rb").read() if os.path.exists("/etc/postfix/main.cf") else None
    t.ok(after == main_before, "main.cf was not touched")
    pw = pwd.getpwnam("sendgate")
    t.ok(pw.pw_uid < 1000 and pw.pw_shell == "/usr/sbin/nologin", "system user sendgate")
    t.ok("postfix" in grp.getgrnam("sendgate").gr_mem, "postfix is in group sendgate")
    for path, mode in (("/var/lib/sendgate", 0o750), ("/run/sendgate", 0o750), (SOCKDIR, 0o750)):
        st = os.stat(path) if os.path.isdir(path) else None
        t.ok(st and st.st_uid == pw.pw_uid and st.st_gid == pw.pw_gid and
             (st.st_mode & 0o7777) == mode, "%s: sendgate:sendgate %04o" % (path, mode))
    r = run(["dpkg-query", "-W", "-f=${Conffiles}", "sendgate-common"])
    t.ok("/etc/sendgate/sendgate.conf" in r.stdout and "/etc/sendgate/domains.conf" in r.stdout,
         "/etc/sendgate/sendgate.conf and domains.conf are conffiles")
    for dm in ("sendgate-milter", "sendgate-policyd"):
        t.ok(os.path.islink("/etc/systemd/system/multi-user.target.wants/%s.service" % dm),
             "%s is enabled" % dm)
    t.ok(not os.path.exists("/etc/systemd/system/multi-user.target.wants/sendgate-trackd.service"),
         "sendgate-trackd is not enabled before it has token keys")
    r = run(["systemd-analyze", "verify", "--man=no"] +
            ["/lib/systemd/system/%s.service" % dm for dm in DAEMONS])
    t.is_(r.stdout + r.stderr, "", "systemd-analyze verify: the installed units are clean")

    # 5. configure as the operator would, start from the units ------------------------------
    with open("/etc/sendgate/domains.conf", "w") as f:
        f.write("[outbound shop.example]\nstatus = compliant\nclick_tracking = yes\n"
                "open_tracking = yes\ntracking_host = %s\n\n"
                "[outbound blocked.example]\nstatus = unverified_dns\n" % TRACK_HOST)
    r = run(["sendgatectl", "token", "genkey", "/etc/sendgate/token-1.key"])
    t.is_(r.returncode, 0, "sendgatectl token genkey /etc/sendgate/token-1.key")
    os.chown("/etc/sendgate/token-1.key", 0, pw.pw_gid)
    os.chmod("/etc/sendgate/token-1.key", 0o640)
    track_port = free_port()
    with open("/etc/sendgate/sendgate.conf", "a") as f:
        f.write("\n[static]\nenabled = yes\n\n[tracking]\nkey_files = /etc/sendgate/token-1.key\n"
                "\n[trackd]\nlisten = inet:127.0.0.1:%d\n" % track_port)
    r = run(["sendgatectl", "check-config"])
    t.is_(r.returncode, 0, "the installed configuration plus the test settings passes check-config")
    t.is_([l for l in r.stdout.splitlines() if "warning" in l], [],
          "check-config finds nothing wrong with the installed files and sockets")
    for name in DAEMONS:
        dm = Daemon(name, d)
        daemons.append(dm)
        t.ok(dm.argv[:1] == ["/usr/sbin/" + name] and dm.unit.get("User") == "sendgate",
             "%s: ExecStart %s, User=%s" % (name, " ".join(dm.argv), dm.unit.get("User")))
        dm.start()
        ok = dm.ready()
        t.ok(ok, "%s started from its unit sends READY=1 (Type=%s)" % (name, dm.unit.get("Type")))
        if not ok:
            t.diag(dm.log())
        if name == "sendgate-policyd":
            r = as_sendgate(["sendgatectl", "cache", "load"])
            t.is_(r.returncode, 0, "sendgatectl cache load (as sendgate) loads the domains")
    for sock in ("milter.sock", "policy.sock", "socketmap.sock"):
        p = os.path.join(SOCKDIR, sock)
        st = os.lstat(p) if os.path.exists(p) else None
        t.ok(st and st.st_uid == pw.pw_uid and st.st_gid == pw.pw_gid and (st.st_mode & 0o777) == 0o660,
             "%s: socket sendgate:sendgate 0660" % p)
    r = run(["sendgatectl", "status"])
    t.is_(r.returncode, 0, "sendgatectl status: every installed daemon answers")
    if r.returncode:
        t.diag(r.stdout)
    t.ok(re.search(r"^static\s+yes\s+2\s+0\s+\d{4}-", r.stdout, re.M), "status: static provider loaded")

    # 6. Postfix with the shipped snippet ------------------------------------------------------
    params = snippet_params(SNIPPET)
    t.ok("smtpd_milters" in params, "the shipped snippet sets smtpd_milters")
    milters = params.pop("smtpd_milters", "unix:sendgate/milter.sock")
    t.like(milters, "unix:sendgate/milter.sock", "the snippet's milter is the installed socket "
           "(relative to the queue directory, so a chrooted smtpd reaches it)")
    non_smtpd = params.pop("non_smtpd_milters", "")
    rr = params.pop("smtpd_recipient_restrictions", None)
    params.pop("mynetworks", None)
    pf = SnippetPostfix(d, params, milters=milters, non_smtpd_milters=non_smtpd,
                        recipient_restrictions=rr)
    pf.start()
    t.is_(pf.fatal_lines(), [], "Postfix starts with the snippet, no fatal errors")
    html = ('<html><body><p>Hello, see <a href="http://example.org/page?id=7">our page</a>.</p>'
            '</body></html>')
    r = pf.swaks("--from", "news@shop.example", "--to", "someone@customer.example",
                 "--header", "From: News <news@shop.example>", "--header", "Subject: package test",
                 "--add-header", "MIME-Version: 1.0",
                 "--add-header", "Content-Type: text/html; charset=utf-8", "--body", html)
    t.is_(r.returncode, 0, "a message from an allowed domain is accepted through the milter")
    if r.returncode:
        t.diag(r.stdout[-2000:] + pf.maillog()[-2000:])
    msgs = pf.wait_sink(1)
    t.is_(len(msgs), 1, "it reaches the sink")
    data = msgs[0].data.decode(errors="replace") if msgs else ""
    t.ok("X-Sendgate-Tracked" in data or "https://%s/c/" % TRACK_HOST in data,
         "the installed milter processed it (X-Sendgate-Tracked marker or a tracked link)")
    m = re.search(r"https://%s/c/([A-Za-z0-9_-]+)" % re.escape(TRACK_HOST), data)
    t.ok(m is not None, "the link is rewritten to https://%s/c/TOKEN" % TRACK_HOST)
    if m:
        req = urllib.request.Request("http://127.0.0.1:%d/c/%s" % (track_port, m.group(1)),
                                     method="GET")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        try:
            resp = urllib.request.build_opener(NoRedirect).open(req, timeout=10)
            code, loc = resp.status, resp.headers.get("Location")
        except urllib.error.HTTPError as e:
            code, loc = e.code, e.headers.get("Location")
        t.is_((code, loc), (302, "http://example.org/page?id=7"),
              "the installed sendgate-trackd redirects the click to the original link")
        t.ok(wait_for(lambda: '"kind":"click"' in daemons[2].output(), 10),
             "the click is an event line on trackd's standard output (the journal)")
    r = pf.swaks("--from", "news@blocked.example", "--to", "someone@customer.example")
    t.ok(r.returncode in (24, 26) and "5.7.1" in r.stdout and "blocked.example" in r.stdout,
         "a blocked sender is refused with 5.7.1 naming the domain")
    t.is_(pf.fatal_lines(), [], "no fatal errors in Postfix's log")
finally:
    if pf:
        pf.stop()
    codes = {}
    for dm in daemons:
        codes[dm.name] = dm.stop()
        dm.notify.close()

# daemons stop cleanly on SIGTERM (what systemctl stop sends)
for name, code in codes.items():
    t.is_(code, 0, "%s stops with exit status 0 on SIGTERM" % name)

# 7. purge (always) -------------------------------------------------------------------
r = purge_all()
t.ok(r is not None and r.returncode == 0, "dpkg --purge removes the four packages")
t.ok(not any(installed(p) for p in PKGS), "no sendgate package is left installed")
left = [p for p in ["/etc/sendgate", "/var/lib/sendgate", SOCKDIR, "/run/sendgate",
                    "/usr/share/doc/sendgate-common", "/etc/systemd/system/multi-user.target.wants/"
                    "sendgate-milter.service"] +
        ["/usr/sbin/" + p for p in PROGS] +
        ["/lib/systemd/system/%s.service" % p for p in DAEMONS] +
        ["/usr/lib/sysusers.d/sendgate.conf", "/usr/lib/tmpfiles.d/sendgate.conf"]
        if os.path.lexists(p)]
t.is_(left, [], "purge removes configuration, state, sockets, programs and units")
try:
    pwd.getpwnam("sendgate")
    kept = True
except KeyError:
    kept = False
t.ok(kept, "the system user sendgate is kept (Debian policy: system accounts stay)")
t.ok("postfix" not in grp.getgrnam("sendgate").gr_mem if kept else True,
     "postfix is no longer in group sendgate")
t.done()
