# SPDX-License-Identifier: BSD-2-Clause
"""trackdtest - start a real sendgate-trackd for the t/6*-trackd-*.t black-box tests.

    from trackdtest import Trackd
    td = Trackd(t)                      # keys, config, daemon on a free port, READY=1 seen
    path = td.make("click", "--domain", "example.com", "--msgref", "M1", "--url", url)
    code, headers, body = td.curl(path)
    td.events()                         # the events file as a list of dicts
    td.stop()                           # SIGTERM; exit status and sanitizer report checked

Everything lives in a temporary directory; the daemon is killed at exit even
when a test fails. curl (Debian's) is the HTTP client, as an operator would use.
"""
import atexit
import json
import os
import signal
import socket
import subprocess
import time

from sgtest import bin_path, free_port, run, tmpdir, wait_for, write_conf


class Trackd:
    def __init__(self, t, trackd=None, general=None, keys=("k1",), start=True):
        self.t = t
        self.dir = tmpdir("sgtrackd-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "sendgate.conf")
        self.events_path = os.path.join(self.dir, "events.log")
        self.proc = None
        self.scheme = "http"  # "https" when the daemon serves TLS itself (curl then takes -k)
        self.log = os.path.join(self.dir, "trackd.log")
        self.notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(20)
        self.trackd = {"listen": "inet:127.0.0.1:%d" % self.port,
                       "events_file": self.events_path,
                       "stats_path": os.path.join(self.dir, "stats"),
                       "connection_timeout": "10s"}
        self.trackd.update(trackd or {})
        self.general = {"cache_path": os.path.join(self.dir, "cache")}
        self.general.update(general or {})
        for i, k in enumerate(keys):
            self.genkey(k, i + 1)
        self.write_conf(keys)
        atexit.register(self.kill)
        if start:
            self.start()

    def key_path(self, name):
        return os.path.join(self.dir, name + ".key")

    def genkey(self, name, key_id):
        r = run([bin_path("sendgatectl"), "-c", "/dev/null", "token", "genkey", "--id",
                 str(key_id), self.key_path(name)])
        assert r.returncode == 0, r.stderr

    def write_conf(self, keys, trackd=None):
        tr = dict(self.trackd)
        tr.update(trackd or {})
        write_conf(self.conf, {"general": self.general, "trackd": tr,
                               "tracking": {"key_files": ", ".join(self.key_path(k) for k in keys)}})

    def start(self, expect_ready=True, preexec=None):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen([bin_path("sendgate-trackd"), "-f", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=self.logf, env=env,
                                     preexec_fn=preexec)
        if expect_ready:
            ok = self.wait_notify("READY=1")
            self.t.ok(ok, "sendgate-trackd started and said READY=1")
            if not ok:
                self.t.diag(self.logtext())
        return self.proc

    def wait_notify(self, what):
        end = time.time() + 20
        while time.time() < end:
            try:
                msg = self.notify.recv(4096).decode()
            except socket.timeout:
                return False
            if what in msg.split("\n"):
                return True
        return False

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)
        return self.wait_notify("RELOADING=1") and self.wait_notify("READY=1")

    def stop(self):
        """SIGTERM; returns True when it exited 0 without a sanitizer report."""
        if self.proc is None:
            return True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self.proc = None
        self.logf.close()
        text = self.logtext()
        clean = rc == 0 and "Sanitizer" not in text and "runtime error" not in text
        if not clean:
            self.t.diag("exit %s; log:\n%s" % (rc, text[-4000:]))
        return clean

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def logtext(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def ctl(self, *args):
        return run([bin_path("sendgatectl"), "-c", self.conf] + list(args))

    def make(self, purpose, *args):
        """A token path (/c/TOKEN, ...) made by sendgatectl token make."""
        r = self.ctl("token", "make", purpose, *args)
        assert r.returncode == 0, r.stderr
        tok = r.stdout.strip()
        return {"click": "/c/", "open": "/o/", "unsubscribe": "/u/"}[purpose] + tok

    def curl(self, path, *opts, binary=False):
        """(status, {header: value} lowercased names, body) of one request with curl."""
        hdr = os.path.join(self.dir, "h.txt")
        body = os.path.join(self.dir, "b.bin")
        r = subprocess.run(["curl", "-sk", "-D", hdr, "-o", body, "-w", "%{http_code}",
                            "--max-time", "20"] + list(opts) + [self.url(path)],
                           capture_output=True, text=True)
        headers = {}
        try:
            with open(hdr, encoding="latin-1") as f:
                for line in f:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
            with open(body, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        code = int(r.stdout) if r.stdout.strip().isdigit() else 0
        return code, headers, data if binary else data.decode("utf-8", "replace")

    def curl_many(self, paths, *opts):
        """Status and redirect target of many URLs in one curl (one kept-alive connection)."""
        urls = []
        for p in paths:
            urls += ["-o", "/dev/null", self.url(p)]
        r = subprocess.run(["curl", "-s", "-w", "%{http_code} %{redirect_url}\\n",
                            "--max-time", "60"] + list(opts) + urls,
                           capture_output=True, text=True)
        out = []
        for line in r.stdout.splitlines():
            code, _, loc = line.partition(" ")
            out.append((int(code), loc))
        return out

    def metrics(self):
        """/metrics as {'name{labels}': value}, or None when it does not parse."""
        code, _, body = self.curl("/metrics")
        if code != 200:
            return None
        return parse_prometheus(body)

    def written(self):
        m = self.metrics() or {}
        return m.get("sendgate_trackd_events_written_total", -1)

    def events(self, expect=None):
        """The events file as dicts, once the writer has written what it counted
        (and, with expect, at least that many)."""
        def settled():
            n = self.written()
            lines = self.lines()
            return n == len(lines) and (expect is None or n >= expect)
        wait_for(settled, timeout=10)
        return [json.loads(line) for line in self.lines()]

    def lines(self):
        try:
            with open(self.events_path) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def suppressed(self):
        """The keys of the cache's suppress database, as 'domain recipient' strings (mdb_dump)."""
        r = run(["mdb_dump", "-p", "-s", "suppress", self.general["cache_path"]])
        keys = []
        if r.returncode != 0:
            return keys
        body = r.stdout.split("HEADER=END\n", 1)[-1].split("DATA=END", 1)[0].splitlines()
        for key in body[0::2]:
            keys.append(key.strip().replace("\\00", " "))
        return keys


def parse_prometheus(text):
    """Prometheus text format 0.0.4: HELP/TYPE comments and 'name{labels} value' samples."""
    import re
    out = {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                        r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.eE+]+|NaN)$')
    for line in text.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = sample.match(line)
        if not m:
            return None
        v = float(m.group(3))
        out[m.group(1) + (m.group(2) or "")] = int(v) if v.is_integer() else v
    return out
