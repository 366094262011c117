#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate is BSD-2-Clause: LICENSE at the top carries the text, every
# source file says so in an SPDX line near its top, and debian/copyright
# says the same in Debian's machine-readable format, so a packager or a
# licence scanner (licensecheck, reuse) finds one answer everywhere.
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T, run  # noqa: E402

TAG = "SPDX-License-Identifier: BSD-2-Clause"
t = T()


def tracked():
    """tracked files; without git (an unpacked tarball), the tree minus build output"""
    if shutil.which("git") and os.path.isdir(os.path.join(TOP, ".git")):
        r = run(["git", "-C", TOP, "ls-files"])
        if r.returncode == 0:
            return sorted(f for f in r.stdout.split("\n") if f)
    found = []
    for root, dirs, files in os.walk(TOP):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
        found += [os.path.relpath(os.path.join(root, f), TOP) for f in files]
    return sorted(found)


def is_source(f):
    """code and build files: what a licence covers (not data, prose or fixtures)"""
    if f.startswith(("fuzz/corpus/", "t/fixtures/")):
        return False
    if f.endswith((".c", ".h", ".def", ".py", ".t", ".mk", ".lua", ".sh", ".8", ".5", ".5.in")):
        return True
    if os.path.basename(f) in ("Makefile", "rules") or f.endswith((".postinst", ".postrm")):
        return True
    try:
        with open(os.path.join(TOP, f), "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


files = [f for f in tracked() if is_source(f)]
t.ok(len(files) > 200, "found the source files (%d)" % len(files))
missing = []
for f in files:
    with open(os.path.join(TOP, f), "rb") as fh:
        head = fh.read(600).decode("utf-8", "replace")
    if TAG not in head:
        missing.append(f)
t.is_(missing, [], "every source file carries '%s' in its first lines" % TAG)

with open(os.path.join(TOP, "LICENSE")) as fh:
    lic = fh.read()
t.like(lic, "BSD 2-Clause License", "LICENSE is the BSD 2-Clause licence")
t.like(lic, "Redistributions in binary form must reproduce", "LICENSE has both conditions")
t.ok("3." not in lic, "LICENSE has no third clause (BSD-2, not BSD-3)")

with open(os.path.join(TOP, "debian", "copyright")) as fh:
    cp = fh.read()
t.like(cp, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
       "debian/copyright is machine-readable (DEP-5)")
t.ok(re.search(r"^Files: \*\nCopyright: .+\nLicense: BSD-2-Clause$", cp, re.M) is not None,
     "debian/copyright: Files: * is BSD-2-Clause")
t.ok(re.search(r"^License: BSD-2-Clause\n \S", cp, re.M) is not None,
     "debian/copyright carries the licence text in a stand-alone License paragraph")
t.ok("unlicensed" not in cp, "debian/copyright no longer says 'unlicensed'")
# the text in debian/copyright is LICENSE's conditions, word for word
words = lambda s: re.sub(r"\s+", " ", re.sub(r"^ \.$", "", s, flags=re.M)).strip()
cond = lic[lic.index("Redistribution and use"):]
t.ok(words(cond) in words(cp), "debian/copyright's text is LICENSE's, word for word")
t.done()
