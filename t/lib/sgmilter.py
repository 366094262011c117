# SPDX-License-Identifier: BSD-2-Clause
"""sgmilter - start and stop sendgate-milter for the black-box tests.

    from sgmilter import setup_cache, Milter
    d = tmpdir()
    conf = setup_cache(d, extra={"milter": {"socket": "unix:%s/m.sock" % d}})
    with Milter(conf, "unix:%s/m.sock" % d) as m:
        ...

setup_cache writes a sendgate.conf whose cache is filled by the static
provider from conf/demo/domains.conf (or the given domains file) with
`sendgatectl cache load`, as an operator would, with a fresh token key
(d/token-1.key) in [tracking] key_files.
"""
import os
import signal
import socket
import subprocess
import time

from sgtest import TOP, bin_path, run, write_conf


def setup_cache(d, domains=None, extra=None):
    key = os.path.join(d, "token-1.key")
    if not os.path.exists(key):
        r = run([bin_path("sendgatectl"), "token", "genkey", key])
        if r.returncode != 0:
            raise RuntimeError("token genkey failed: " + r.stderr)
    sections = {
        "tracking": {"key_files": key},
        "general": {"cache_path": os.path.join(d, "cache"), "state_dir": d},
        "static": {"enabled": "yes",
                   "file": domains or os.path.join(TOP, "conf", "demo", "domains.conf")},
        "handling": {"demo_recipients": "owner@trial.example"},
    }
    for sec, keys in (extra or {}).items():
        sections.setdefault(sec, {}).update(keys)
    path = write_conf(os.path.join(d, "sendgate.conf"), sections)
    r = run([bin_path("sendgatectl"), "-c", path, "cache", "load"])
    if r.returncode != 0:
        raise RuntimeError("cache load failed: " + r.stderr)
    return path


def endpoint_up(spec):
    """Something accepts connections on unix:/path or inet:host:port."""
    try:
        if spec.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(0.2)
            s.connect(spec[5:])
        else:
            host, port = spec[5:].rsplit(":", 1)
            s = socket.create_connection((host, int(port)), timeout=0.2)
        s.close()
        return True
    except OSError:
        return False


class Milter:
    """sendgate-milter -f on a socket; stderr kept in a log file."""

    def __init__(self, conf, sock, binary=None, args=(), argv=None):
        self.conf, self.sock = conf, sock
        self.binary = binary or bin_path("sendgate-milter")
        self.args = list(args)
        self.argv = argv  # another milter's whole command line (bench/smtp's floor)
        self.proc = None
        self.log_path = conf + ".milter.log"

    def start(self, timeout=10):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv or [self.binary, "-f", "-c", self.conf] + self.args,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("sendgate-milter exited %d:\n%s" % (self.proc.returncode, self.logtext()))
            if endpoint_up(self.sock):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sendgate-milter did not listen on %s:\n%s" % (self.sock, self.logtext()))

    def stop(self):
        """SIGTERM; libmilter notices within its 5 s poll (POSTFIX-HARNESS P9)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(12)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def logtext(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
