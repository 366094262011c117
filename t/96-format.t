#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The C sources follow .clang-format: every tracked .c and .h file, as
# clang-format 14 (Debian 12) formats it, so that a reformatting never
# hides a change in a later diff.
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T, run  # noqa: E402

t = T()
if not shutil.which("clang-format"):  # make check installs it first (scripts/deps)
    t.bail("clang-format is missing (package clang-format: scripts/deps)")


def sources():
    """tracked .c/.h files; without git (an unpacked tarball), the tree minus build output"""
    if shutil.which("git") and os.path.isdir(os.path.join(TOP, ".git")):
        r = run(["git", "-C", TOP, "ls-files", "*.c", "*.h"])
        if r.returncode == 0:
            return sorted(f for f in r.stdout.split("\n") if f)
    found = []
    for root, dirs, files in os.walk(TOP):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build")) and d != "corpus"]
        found += [os.path.relpath(os.path.join(root, f), TOP) for f in files
                  if f.endswith((".c", ".h"))]
    return sorted(found)


files = sources()
t.ok(len(files) > 50, "found the C sources (%d files)" % len(files))
for f in files:
    r = subprocess.run(["clang-format", "--dry-run", "-Werror", f], cwd=TOP,
                       capture_output=True, text=True)
    t.ok(r.returncode == 0, "%s follows .clang-format" % f)
    if r.returncode != 0:
        t.diag("\n".join(r.stderr.splitlines()[:6]))
        t.diag("fix: clang-format -i %s (or make format)" % f)
t.done()
