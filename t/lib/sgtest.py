# SPDX-License-Identifier: BSD-2-Clause
"""sgtest - TAP output and fixtures for sendgate's black-box tests (Python).

Usage in a t/*.t file (shebang #!/usr/bin/python3, Debian's Python: it has
python3-dkim and the standard library only):

    import sys, os; sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
    from sgtest import T, bin_path, tmpdir, write_conf
    t = T()
    t.ok(cond, "what a user cares about")
    t.is_(got, want, "description")
    t.done()          # prints the plan, exits non-zero if anything failed

Binaries come from $SG_BUILD/bin (make check sets it to the sanitizer
build); run by hand a test falls back to build/san.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("SG_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SG_BUILD") or os.path.join(TOP, "build", "san")
IN_CI = os.environ.get("CI") == "true"


def bin_path(prog):
    """Absolute path of a built program (sendgatectl, sendgate-milter, ...)."""
    return os.path.join(BUILD, "bin", prog)


class T:
    """A TAP producer; the plan is printed by done()."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        sys.stdout.reconfigure(line_buffering=True)

    def ok(self, cond, desc):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, desc))
        if not cond:
            self.failed += 1
        return bool(cond)

    def is_(self, got, want, desc):
        good = self.ok(got == want, desc)
        if not good:
            self.diag("     got: %r" % (got,))
            self.diag("expected: %r" % (want,))
        return good

    def like(self, got, needle, desc):
        good = self.ok(needle in (got or ""), desc)
        if not good:
            self.diag("%r does not contain %r" % ((got or "")[:2000], needle))
        return good

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line)

    def bail(self, msg):
        print("Bail out! " + msg)
        sys.exit(255)

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def tmpdir(prefix="sgtest-"):
    """A fresh directory, removed at exit unless SG_KEEP=1 (for debugging)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    if os.environ.get("SG_KEEP") != "1":
        import atexit
        atexit.register(shutil.rmtree, d, True)
    return d


def write_conf(path, sections):
    """Write a sendgate.conf from {"section": {"key": "value"}} (values as written)."""
    with open(path, "w") as f:
        for sec, keys in sections.items():
            f.write("[%s]\n" % sec)
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    return path


def run(argv, input=None, timeout=60, env=None):
    """Run a command; returns CompletedProcess with text stdout/stderr."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=e)


def wait_for(pred, timeout=10.0, step=0.05):
    """Poll pred() until true or timeout; returns the last value."""
    end = time.time() + timeout
    v = pred()
    while not v and time.time() < end:
        time.sleep(step)
        v = pred()
    return v


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p
