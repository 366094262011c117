# SPDX-License-Identifier: BSD-2-Clause
"""pfharness - a throw-away Postfix on loopback for sendgate's integration tests.

A complete, independent Postfix instance (`postfix -c DIR`) with its own
main.cf, master.cf (no chroot), queue and log file under a temporary
directory, listening on 127.0.0.1:<smtpd_port> and relaying everything to
Postfix's own smtp-sink on 127.0.0.1:<sink_port>, which dumps each message
it receives into a file. Started and stopped in about a second; nothing
outside the directory is written. Recipe and traps:
/work/shared/docs/POSTFIX-HARNESS.md (P2 absolute -c path, P3 nested
braces, P6 count with dumps not -M, P7 maillog_file, P8 zombies, P13
chroot, P14 relay vs recipient restrictions, P15 milter_default_action,
P16 smtp-sink -u).

    from pfharness import Postfix
    pf = Postfix(workdir, milters="unix:/path/milter.sock",
                 policy="unix:/path/policy.sock", main_extra={"key": "value"})
    pf.start()
    try:
        r = pf.swaks("--from", "a@x.example", "--to", "b@y.example")
        msgs = pf.wait_sink(1)          # [SinkMessage(mail_from, rcpts, data)]
    finally:
        pf.stop()

Needs root (the Postfix master) and the packages postfix and swaks.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {run}/spool
data_directory = {run}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.harness.invalid
mydomain = harness.invalid
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 local delivery disabled in harness
alias_maps =
alias_database =
relay_domains =
relayhost = [127.0.0.1]:{sink_port}
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_banner = $myhostname ESMTP harness
biff = no
append_dot_mydomain = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = {run}/maillog
maillog_file_prefixes = {run}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = {recipient_restrictions}
smtpd_milters = {milters}
non_smtpd_milters = {non_smtpd_milters}
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
smtpd_client_event_limit_exceptions = $mynetworks
"""

MASTER_CF = """\
127.0.0.1:{smtpd_port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
proxywrite unix - - n -  1 proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def pid_alive(pid):
    """True while pid runs and is not a zombie (P8: PID 1 may reap late)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class SinkMessage:
    """One message as smtp-sink dumped it: envelope from its X-* lines, then the data."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            raw = f.read()
        self.mail_from = None
        self.rcpts = []
        lines = raw.split(b"\n")
        i = 0
        while i < len(lines) and lines[i].startswith(b"X-"):
            line = lines[i].rstrip(b"\r")
            if line.startswith(b"X-Mail-Args: "):
                self.mail_from = line[13:].split(b" ")[0].decode().strip("<>")
            elif line.startswith(b"X-Rcpt-Args: "):
                self.rcpts.append(line[13:].split(b" ")[0].decode().strip("<>"))
            i += 1
        # the data follows; smtp-sink prepends its own Received: header
        self.data = b"\n".join(lines[i:])

    def header(self, name):
        """Values of a header field in the received data (unfolded)."""
        import email
        msg = email.message_from_bytes(self.data)
        return msg.get_all(name) or []


class Postfix:
    def __init__(self, workdir, milters="", non_smtpd_milters="", policy=None,
                 recipient_restrictions=None, main_extra=None, smtpd_port=None,
                 sink_port=None, sink_dump=True):
        self.run = os.path.abspath(os.path.join(workdir, "postfix"))
        self.smtpd_port = smtpd_port or free_port()
        self.sink_port = sink_port or free_port()
        self.milters = milters
        self.non_smtpd_milters = non_smtpd_milters
        if recipient_restrictions is None:
            recipient_restrictions = "permit"
            if policy:
                recipient_restrictions = (
                    "check_policy_service { %s, timeout=10s, "
                    "{ default_action = 451 4.3.5 harness policy service unavailable } }" % policy)
        self.recipient_restrictions = recipient_restrictions
        self.main_extra = main_extra or {}
        self.sink_dump = sink_dump
        self.sink_proc = None
        self.started = False

    # -- lifecycle ---------------------------------------------------------
    def write_config(self):
        shutil.rmtree(self.run, ignore_errors=True)
        for d in ("etc", "spool", "data", "sink"):
            os.makedirs(os.path.join(self.run, d))
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.run, "data"), pw.pw_uid, pw.pw_gid)
        nobody = pwd.getpwnam("nobody")
        os.chown(os.path.join(self.run, "sink"), nobody.pw_uid, nobody.pw_gid)
        main = MAIN_CF.format(run=self.run, sink_port=self.sink_port, milters=self.milters,
                              non_smtpd_milters=self.non_smtpd_milters,
                              recipient_restrictions=self.recipient_restrictions)
        # one line per parameter: an overriding second entry makes every Postfix
        # process warn at start, which can fill postlogd's datagram queue
        lines = main.splitlines()
        for k, v in self.main_extra.items():
            entry = "%s = %s" % (k, v)
            for i, l in enumerate(lines):
                if l.split("=", 1)[0].strip() == k:
                    lines[i] = entry
                    break
            else:
                lines.append(entry)
        main = "\n".join(lines) + "\n"
        with open(os.path.join(self.run, "etc", "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(self.run, "etc", "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtpd_port=self.smtpd_port))

    def start_sink(self):
        args = ["smtp-sink", "-c", "-u", "nobody", "-4", "-h", "sink.harness.invalid"]
        if self.sink_dump:
            args += ["-d", os.path.join(self.run, "sink", "%Y%m%d%H%M%S.")]
        args += ["127.0.0.1:%d" % self.sink_port, "256"]
        self.sink_out = open(os.path.join(self.run, "sink.out"), "w")
        self.sink_proc = subprocess.Popen(args, stdout=self.sink_out, stderr=subprocess.STDOUT)

    def start(self, timeout=15):
        self.write_config()
        self.start_sink()
        r = subprocess.run(["postfix", "-c", os.path.join(self.run, "etc"), "start"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError("postfix start failed: %s%s\n%s" % (r.stdout, r.stderr, self.maillog()))
        self.started = True
        end = time.time() + timeout
        while time.time() < end:
            if port_open(self.smtpd_port) and port_open(self.sink_port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("postfix or smtp-sink did not start listening\n" + self.maillog())

    def master_pid(self):
        try:
            with open(os.path.join(self.run, "spool", "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.master_pid()
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGTERM)  # what `postfix abort` does
            end = time.time() + 10
            while pid_alive(pid) and time.time() < end:
                time.sleep(0.02)
        # master's children exit with it; make sure nothing from this instance lingers
        subprocess.run(["pkill", "-f", "-TERM", "-c", os.path.join(self.run, "etc")],
                       capture_output=True)
        if self.sink_proc:
            self.sink_proc.terminate()
            try:
                self.sink_proc.wait(5)
            except subprocess.TimeoutExpired:
                self.sink_proc.kill()
            self.sink_proc = None
            self.sink_out.close()
        self.started = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- observing ---------------------------------------------------------
    def maillog(self):
        try:
            with open(os.path.join(self.run, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def fatal_lines(self):
        """Lines Postfix logs when its own configuration is broken (P3)."""
        return [l for l in self.maillog().splitlines()
                if "fatal:" in l or "panic:" in l or "bad command startup" in l]

    def sink_files(self):
        return sorted(glob.glob(os.path.join(self.run, "sink", "*")))

    def sink_messages(self):
        return [SinkMessage(p) for p in self.sink_files()]

    def wait_sink(self, n, timeout=20):
        """Wait until n messages reached the sink; returns them (maybe fewer on timeout)."""
        end = time.time() + timeout
        while time.time() < end and len(self.sink_files()) < n:
            time.sleep(0.05)
        time.sleep(0.1)  # let the last dump finish writing
        return self.sink_messages()

    def queue_ids(self):
        r = subprocess.run(["postqueue", "-c", os.path.join(self.run, "etc"), "-j"],
                           capture_output=True, text=True)
        return [l for l in r.stdout.splitlines() if l.strip()]

    def flush_queue(self):
        subprocess.run(["postsuper", "-c", os.path.join(self.run, "etc"), "-d", "ALL"],
                       capture_output=True)

    # -- sending -----------------------------------------------------------
    def swaks(self, *args, timeout=60):
        """Run swaks against this instance; returns CompletedProcess (text).

        swaks exit codes: 0 ok, 23 failure after MAIL, 24 after RCPT, 26 after DATA."""
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.smtpd_port, "--helo",
                "client.harness.invalid", "--timeout", "30"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def smtp_source(self, *args, timeout=600):
        argv = ["smtp-source"] + list(args) + ["127.0.0.1:%d" % self.smtpd_port]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
