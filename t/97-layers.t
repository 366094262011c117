#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The floor plan holds (doc/hacking.md): scripts/check-layers finds an
# include that crosses the layer table, a core-library source outside the
# library layers and an over-long or over-complex function in the rewrite
# engine, each with its file and line, on small trees written here; it
# passes a clean tree and only notes a long function elsewhere; and the
# real tree passes it.
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T, run, tmpdir  # noqa: E402

t = T()
if not shutil.which("pmccabe"):  # make check installs it first (scripts/deps)
    t.bail("pmccabe is missing (package pmccabe: scripts/deps)")
CHECK = os.path.join(TOP, "scripts", "check-layers")
BASE = tmpdir("sg97-")

# a tiny tree laid out as the table wants it
CLEAN = {
    "Makefile": "CORE_SRCS :=\ninclude $(sort $(wildcard */module.mk))\n",
    "lib/module.mk": "CORE_SRCS += lib/buf.c\n",
    "cache/module.mk": "# the cache\nCORE_SRCS += cache/cache.c \\\n   providers/api.c\n",
    "milter/module.mk": "CORE_SRCS += milter/rewrite/rewrite.c\n",
    "lib/buf.h": "int buf_len(void);\n",
    "lib/buf.c": '#include "lib/buf.h"\n\nint buf_len(void) { return 0; }\n',
    "cache/cache.h": '#include "lib/buf.h"\n',
    "cache/cache.c": '#include "cache/cache.h"\n#include "lib/buf.h"\n',
    "providers/api.h": '#include "cache/cache.h"\n',
    "providers/api.c": '#include "providers/api.h"\n#include "lib/buf.h"\n',
    "milter/rewrite/rewrite.h": '#include "lib/buf.h"\n',
    "milter/rewrite/rewrite.c": '#include "milter/rewrite/rewrite.h"\n',
    "milter/milter.h": '#include "milter/rewrite/rewrite.h"\n',
    "milter/main.c": '#include "milter/milter.h"\n#include "providers/api.h"\n'
                     '#include "cache/cache.h"\n#include <stdio.h>\n',
    "policyd/server.h": "int server_run(void);\n",
    "policyd/main.c": '/* see\n * #include "trackd/x.h" in a comment\n */\n'
                      '#include "server.h"\n#include "policyd/server.h"\n',
    "trackd/httpd.h": "int httpd_run(void);\n",
    "ctl/main.c": '#include "lib/buf.h"\n#  include "providers/api.h"\n',
}


def long_fn(name, lines):
    body = "".join("\ty += x * %d;\n" % i for i in range(lines))
    return "int %s(int x);\nint %s(int x)\n{\n\tint y = 0;\n%s\treturn y;\n}\n" % (name, name, body)


def complex_fn(name, branches):
    body = "".join("\tif (x == %d)\n\t\ty++;\n" % i for i in range(branches))
    return "int %s(int x);\nint %s(int x)\n{\n\tint y = 0;\n%s\treturn y;\n}\n" % (name, name, body)


def tree(name, changes):
    """CLEAN with `changes` applied (None removes a file); returns its path."""
    root = os.path.join(BASE, name)
    files = dict(CLEAN)
    files.update(changes)
    for rel, text in files.items():
        if text is None:
            continue
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return root


def check(root, *args):
    r = run([CHECK, "--root", root] + list(args))
    return r.returncode, r.stdout.splitlines(), r.stderr


def found(lines, want, desc):
    good = t.ok(want in lines, desc)
    if not good:
        t.diag("wanted the line: %s" % want)
        t.diag("\n".join(lines))
    return good


# a clean tree passes, and says what it read
rc, out, err = check(tree("clean", {}))
t.is_(rc, 0, "a tree laid out as the table wants passes")
t.ok(out and out[-1].startswith("check-layers: ok:"), "the clean tree gets a one-line summary")
if rc != 0:
    t.diag("\n".join(out) + err)
rc, out, err = check(tree("clean", {}), "--quiet")
t.ok(rc == 0 and out == [], "--quiet says nothing about a clean tree")

# a library file including a program's header
rc, out, err = check(tree("lib-prog", {"lib/buf.c": '#include "lib/buf.h"\n\n#include "policyd/server.h"\n'}))
t.is_(rc, 1, "lib/ including a program header fails")
found(out, "lib/buf.c:3: lib/ may not include policyd/server.h", "... naming the file, the line and the header")
t.is_(len([x for x in out if "may not" in x]), 1, "... and only that include")
t.like(out[-1] if out else "", "check-layers: 1 violation (includes 1,", "... counted in the summary")

# the cache reaching up to a provider, a header reaching up too
rc, out, err = check(tree("cache-up", {"cache/cache.h": '#include "lib/buf.h"\n#include "providers/api.h"\n'}))
t.is_(rc, 1, "cache/ including providers/ fails")
found(out, "cache/cache.h:2: cache/ may not include providers/api.h", "... in a header too")

# one program including another program's header (both spellings)
rc, out, err = check(tree("prog-prog", {
    "ctl/main.c": '#include "lib/buf.h"\n#include "trackd/httpd.h"\n',
    "milter/main.c": '#include "milter/milter.h"\n#include "../policyd/server.h"\n'}))
t.is_(rc, 1, "a program including another program's header fails")
found(out, "ctl/main.c:2: ctl/ may not include trackd/httpd.h", "... ctl/ into trackd/")
found(out, "milter/main.c:2: milter/ may not include policyd/server.h", "... a relative path resolved as the compiler does")

# the rewrite engine: lib/ but no configuration, no cache
rc, out, err = check(tree("rw-conf", {
    "lib/conf.h": "struct conf;\n",
    "milter/rewrite/rewrite.c": '#include "milter/rewrite/rewrite.h"\n#include "lib/conf.h"\n'
                                '#include "cache/cache.h"\n'}))
t.is_(rc, 1, "the rewrite engine including the configuration or the cache fails")
found(out, "milter/rewrite/rewrite.c:2: milter/rewrite/ may not include lib/conf.h", "... lib/conf.h")
found(out, "milter/rewrite/rewrite.c:3: milter/rewrite/ may not include cache/cache.h", "... cache/")

# a test header is no layer's business
rc, out, err = check(tree("lib-t", {"lib/buf.c": '#include "t/lib/tap.h"\n'}))
found(out, "lib/buf.c:1: lib/ may not include t/lib/tap.h", "a layer including a test header fails")

# the core library holding a program's module
rc, out, err = check(tree("core-prog", {"policyd/module.mk": "# the daemon\nCORE_SRCS += policyd/server.c\n"}))
t.is_(rc, 1, "a program source in CORE_SRCS fails")
found(out, "policyd/module.mk:2: the core library (CORE_SRCS) may not hold policyd/server.c",
      "... naming the fragment and line that adds it")

# function size: a violation in the rewrite engine, a note elsewhere
rc, out, err = check(tree("rw-long", {"milter/rewrite/rewrite.c": long_fn("rw_long", 90)}))
t.is_(rc, 1, "an over-long function in milter/rewrite/ fails")
t.ok(any(x.startswith("milter/rewrite/rewrite.c:2: milter/rewrite/ function rw_long: ")
         and "lines (limit 80)" in x for x in out), "... with its file, line and length")
rc, out, err = check(tree("rw-complex", {"milter/rewrite/rewrite.c": complex_fn("rw_branchy", 35)}))
t.is_(rc, 1, "an over-complex function in milter/rewrite/ fails")
found(out, "milter/rewrite/rewrite.c:2: milter/rewrite/ function rw_branchy: complexity 36 (limit 30)",
      "... with its complexity")
rc, out, err = check(tree("rw-ok", {"milter/rewrite/rewrite.c": long_fn("rw_a", 70) + complex_fn("rw_b", 29)}))
t.is_(rc, 0, "functions within the limits in milter/rewrite/ pass")
rc, out, err = check(tree("elsewhere", {"milter/main.c": long_fn("main_long", 90),
                                        "cache/cache.c": complex_fn("cache_branchy", 35)}))
t.is_(rc, 0, "long or complex functions outside milter/rewrite/ do not fail")
t.ok(any(x.startswith("milter/main.c:2: note: function main_long: ") for x in out),
     "... the long one is reported as a note")
found(out, "cache/cache.c:2: note: function cache_branchy: complexity 36 (limit 30)",
      "... so is the complex one")
rc, out, err = check(tree("elsewhere", {}), "--quiet")
t.ok(rc == 0 and out == [], "--quiet leaves the notes out")

# usage
r = run([CHECK, "--help"])
t.ok(r.returncode == 0 and "layer" in r.stdout and "--root" in r.stdout, "--help explains the checks")
r = run([CHECK, "--bogus"])
t.is_(r.returncode, 2, "an unknown argument is a usage error")
rc, out, err = check(tree("no-make", {"Makefile": None}))
t.ok(rc == 2 and "no Makefile" in err, "a tree make cannot read is an error, not a pass")

# the real tree
rc, out, err = check(TOP, "--quiet")
t.is_(rc, 0, "the sendgate tree keeps its floor plan (scripts/check-layers)")
if rc != 0:
    t.diag("\n".join(out) + err)
t.done()
