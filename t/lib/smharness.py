# SPDX-License-Identifier: BSD-2-Clause
"""smharness - a throw-away Sendmail 8.17 on loopback for sendgate's tests.

Debian's sendmail-bin conflicts with postfix (both provide
mail-transport-agent), so Sendmail is never installed: its packages
(sendmail-bin, sendmail-base, sendmail-cf and libwrap0, which sendmail
links) are fetched with `apt-get download` into a cache directory that
survives `make clean` ($SG_DEB_CACHE, default /var/cache/sendgate-test/debs;
`apt-get update` first when the archive does not know them yet) and
unpacked with `dpkg -x` into the test's scratch directory.

    from smharness import Sendmail
    sm = Sendmail(workdir, mc_lines=["include(`/path/sendgate.mc')dnl"])
    sm.start()                       # sendmail -bd on 127.0.0.1:sm.port
    r = sm.swaks("--from", ..., "--to", ...)
    msgs = sm.wait_sink(1)           # pfharness.SinkMessage objects
    sm.stop()

The traps this works around (all met in practice):
  * the packaged binary is setgid mail, so the loader ignores
    LD_LIBRARY_PATH (libwrap0 is only unpacked): a plain copy is run;
  * an unqualified host name (no dot, no DNS) makes every start sleep 60 s
    before the .cf is read: sendmail runs in a UTS namespace of its own
    (unshare -u) with a qualified name, the machine's name is untouched;
  * Sendmail refuses a milter socket below a world-writable directory
    such as /tmp: callers put the socket under /run;
  * cf.m4 adds an MSA listener on port 587: FEATURE(no_default_msa);
  * no DNS: accept_unresolvable_domains, nocanonify, a private service
    switch and hosts file, and the smart host by address.
Needs root (sendmail -bd, unshare -u), m4, swaks, smtp-sink (postfix),
dpkg and apt-get.
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import time

from pfharness import SinkMessage, free_port, pid_alive, port_open

DEBS = ("sendmail-bin", "sendmail-base", "sendmail-cf", "libwrap0")
DEB_CACHE = os.environ.get("SG_DEB_CACHE") or "/var/cache/sendgate-test/debs"
HOSTNAME = "mx.sendmail.example"


def fetch_debs(cache=DEB_CACHE):
    """The .deb files of DEBS in cache (downloaded when missing); raises with apt's output."""
    os.makedirs(cache, exist_ok=True)

    def have():
        return [glob.glob(os.path.join(cache, "%s_*.deb" % p)) for p in DEBS]

    if all(have()):
        return sorted(f for fs in have() for f in fs)
    log = ""
    for attempt in ("download", "update"):
        if attempt == "update":
            r = subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True,
                               timeout=300)
            log += r.stdout + r.stderr
        r = subprocess.run(["apt-get", "download"] + list(DEBS), cwd=cache, capture_output=True,
                           text=True, timeout=300)
        log += r.stdout + r.stderr
        if r.returncode == 0 and all(have()):
            return sorted(f for fs in have() for f in fs)
    raise RuntimeError("apt-get download %s failed:\n%s" % (" ".join(DEBS), log[-3000:]))


class Sendmail:
    def __init__(self, workdir, mc_lines, port=None, sink_port=None):
        self.dir = os.path.abspath(os.path.join(workdir, "sendmail"))
        self.root = os.path.join(self.dir, "root")
        self.mc_lines = list(mc_lines)
        self.port = port or free_port()
        self.sink_port = sink_port or free_port()
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self.pid_file = os.path.join(self.dir, "sendmail.pid")
        self.sink_proc = None

    # -- installation --------------------------------------------------------
    def unpack(self):
        """Fetch and unpack the packages; returns the sendmail binary (a plain copy)."""
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in ("root", "bin", "q", "sink"):
            os.makedirs(os.path.join(self.dir, d))
        os.chmod(os.path.join(self.dir, "q"), 0o700)
        nobody = pwd.getpwnam("nobody")
        os.chown(os.path.join(self.dir, "sink"), nobody.pw_uid, nobody.pw_gid)
        for deb in fetch_debs():
            r = subprocess.run(["dpkg", "-x", deb, self.root], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("dpkg -x %s: %s" % (deb, r.stderr))
        self.binary = os.path.join(self.dir, "bin", "sendmail")
        shutil.copyfile(os.path.join(self.root, "usr", "libexec", "sendmail", "sendmail"),
                        self.binary)
        os.chmod(self.binary, 0o755)
        self.env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(self.root, "usr", "lib",
                                                                 "x86_64-linux-gnu"))
        return self.binary

    def write_config(self):
        """sendmail.mc: a loopback relay to smtp-sink, then the caller's lines; m4 -> .cf"""
        d = self.dir
        with open(os.path.join(d, "hosts"), "w") as f:
            f.write("127.0.0.1 %s localhost\n" % HOSTNAME)
        with open(os.path.join(d, "service.switch"), "w") as f:
            f.write("hosts files\naliases files\n")
        q = "`%s'"
        lines = [
            "divert(-1)",
            "dnl throw-away Sendmail for sendgate's tests: loopback, everything in " + d,
            "divert(0)dnl",
            "include(%s)dnl" % (q % os.path.join(self.root, "usr/share/sendmail/cf/m4/cf.m4")),
            "VERSIONID(`sendgate test')dnl",
            "OSTYPE(`linux')dnl",
            "define(`confDOMAIN_NAME', %s)dnl" % (q % HOSTNAME),
            "define(`confDONT_PROBE_INTERFACES', `True')dnl",
            "define(`QUEUE_DIR', %s)dnl" % (q % os.path.join(d, "q")),
            "define(`STATUS_FILE', %s)dnl" % (q % os.path.join(d, "statistics")),
            "define(`ALIAS_FILE', `')dnl",
            "define(`confPID_FILE', %s)dnl" % (q % self.pid_file),
            "define(`confSERVICE_SWITCH_FILE', %s)dnl" % (q % os.path.join(d, "service.switch")),
            "define(`confHOSTS_FILE', %s)dnl" % (q % os.path.join(d, "hosts")),
            "define(`confMILTER_LOG_LEVEL', `14')dnl",
            "define(`confTO_IDENT', `0s')dnl",
            "define(`confDELIVERY_MODE', `interactive')dnl",
            "define(`SMART_HOST', `esmtp:[127.0.0.1]')dnl",
            "define(`ESMTP_MAILER_ARGS', `TCP $h %d')dnl" % self.sink_port,
            "define(`RELAY_MAILER_ARGS', `TCP $h %d')dnl" % self.sink_port,
            "define(`LOCAL_MAILER_PATH', `/bin/false')dnl",
            "FEATURE(`accept_unresolvable_domains')dnl",
            "FEATURE(`nocanonify')dnl",
            "FEATURE(`no_default_msa')dnl",
            "DAEMON_OPTIONS(`Port=%d, Addr=127.0.0.1, Name=MTA')dnl" % self.port,
        ] + self.mc_lines + ["MAILER(`local')dnl", "MAILER(`smtp')dnl"]
        mc = os.path.join(d, "sendmail.mc")
        with open(mc, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = subprocess.run(["m4", mc], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("m4 %s: %s" % (mc, r.stderr))
        with open(self.cf, "w") as f:
            f.write(r.stdout)
        return r.stdout

    def sendmail_argv(self, *args):
        """sendmail ARGS in its own UTS namespace with a qualified host name."""
        return ["unshare", "-u", "sh", "-c", 'hostname "$0" && exec "$@"', HOSTNAME,
                self.binary, "-C", self.cf] + list(args)

    # -- lifecycle -----------------------------------------------------------
    def start(self, timeout=30):
        self.unpack()
        self.write_config()
        self.sink_out = open(os.path.join(self.dir, "sink.out"), "w")
        self.sink_proc = subprocess.Popen(
            ["smtp-sink", "-u", "nobody", "-4", "-h", "sink.sendmail.example", "-d",
             os.path.join(self.dir, "sink", "%Y%m%d%H%M%S."), "127.0.0.1:%d" % self.sink_port,
             "64"], stdout=self.sink_out, stderr=subprocess.STDOUT)
        r = subprocess.run(self.sendmail_argv("-bd", "-q30m"), capture_output=True, text=True,
                           env=self.env, timeout=timeout)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError("sendmail -bd exited %d: %s%s" % (r.returncode, r.stdout, r.stderr))
        end = time.time() + timeout
        while time.time() < end:
            if port_open(self.port) and port_open(self.sink_port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sendmail did not listen on 127.0.0.1:%d" % self.port)

    def daemon_pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.daemon_pid()
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            end = time.time() + 10
            while pid_alive(pid) and time.time() < end:
                time.sleep(0.02)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.sink_proc:
            self.sink_proc.terminate()
            try:
                self.sink_proc.wait(5)
            except subprocess.TimeoutExpired:
                self.sink_proc.kill()
                self.sink_proc.wait()
            self.sink_proc = None
            self.sink_out.close()

    # -- using it ------------------------------------------------------------
    def swaks(self, *args, timeout=60):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.port, "--helo", "client.sendmail.example",
                "--timeout", "30"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def sink_files(self):
        return sorted(glob.glob(os.path.join(self.dir, "sink", "*")))

    def wait_sink(self, n, timeout=20):
        end = time.time() + timeout
        while time.time() < end and len(self.sink_files()) < n:
            time.sleep(0.05)
        time.sleep(0.1)
        return [SinkMessage(p) for p in self.sink_files()]
