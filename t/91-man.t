#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The manual pages an operator reads: every page exists and formats without
# a single groff or man warning; sendgate.conf(5) is generated from
# conf/sections (never stale) and documents exactly the keys of the code's
# table; sendgatectl(8) has a subsection with an example for every command
# `sendgatectl help` lists and none for a command that does not exist; each
# daemon's page documents every option its usage message shows, its
# signals and its files.
import os
import json
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, TOP, T, bin_path, run  # noqa: E402

t = T()
missing = [p for p in ("groff", "man") if not shutil.which(p)]
if missing:
    if IN_CI:
        t.bail("needs %s (groff-base, man-db: scripts/deps)" % ", ".join(missing))
    print("1..0 # SKIP needs groff and man")
    sys.exit(0)

MAN = os.path.join(TOP, "packaging", "man")
PAGES = ["sendgate-milter.8", "sendgate-policyd.8", "sendgate-trackd.8", "sendgatectl.8",
         "sendgate.conf.5"]
ENV = {"LC_ALL": "C.UTF-8", "MANWIDTH": "80", "MANROFFSEQ": ""}


def read(page):
    with open(os.path.join(MAN, page)) as f:
        return f.read()


def rendered(page):
    r = run(["man", "-l", os.path.join(MAN, page)], env=ENV)
    return re.sub(r".\x08", "", r.stdout)


present = []
for page in PAGES:
    path = os.path.join(MAN, page)
    if not t.ok(os.path.exists(path), "%s exists" % page):
        continue
    present.append(page)
    r = run(["groff", "-ww", "-mandoc", "-z", path], env=ENV)
    t.ok(r.returncode == 0 and r.stderr == "", "%s: groff -ww -mandoc -z: no warnings" % page)
    if r.stderr:
        t.diag(r.stderr)
    r = run(["man", "--warnings", "-l", path], env=ENV)
    t.ok(r.returncode == 0 and r.stderr == "", "%s: man --warnings: no warnings" % page)
    if r.stderr:
        t.diag(r.stderr)
    src = read(page)
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"):
        t.ok(re.search(r'^\.SH "?%s"?\s*$' % sec, src, re.M), "%s has a %s section" % (page, sec))

# sendgate.conf(5): generated, and the key table exactly
r = run([os.path.join(TOP, "scripts", "gen-man-conf"), "--check"])
t.is_(r.returncode, 0, "sendgate.conf.5 is up to date with conf/sections (scripts/gen-man-conf)")
if r.stderr:
    t.diag(r.stderr)
r = run([bin_path("sendgatectl"), "-c", "/dev/null", "show-config", "-d", "--json"])
table = {"%s.%s" % (sec, key) for sec, keys in json.loads(r.stdout).items() for key in keys}
t.ok(len(table) > 20, "the key table has %d keys" % len(table))
documented, section = set(), None
if "sendgate.conf.5" in present:
    for line in read("sendgate.conf.5").splitlines():
        m = re.match(r'^\.SS "\[(\w+)\]"$', line)
        if m:
            section = m.group(1)
            continue
        if line.startswith(".SH"):
            section = None
        m = re.match(r"^\\fB(\w+)\\fR = ", line)
        if m and section:
            documented.add("%s.%s" % (section, m.group(1)))
t.is_(sorted(table - documented), [], "sendgate.conf(5) documents every key of the table")
t.is_(sorted(documented - table), [], "sendgate.conf(5) documents no key the code does not have")
text = rendered("sendgate.conf.5") if "sendgate.conf.5" in present else ""
for head in ("HANDLING", "STATIC DOMAINS FILE"):
    t.like(text, "\n%s\n" % head, "sendgate.conf(5) explains %s" % head.lower())

# sendgatectl(8): every command, with an example
r = run([bin_path("sendgatectl"), "help"])
commands = []
inside = False
for line in r.stdout.splitlines():
    if line.startswith("commands:"):
        inside = True
    elif inside and line.startswith("  ") and line.strip():
        commands.append(re.split(r"\s{2,}", line.strip())[0])
    elif inside and not line.strip() and commands:
        break
t.ok(len(commands) >= 10, "sendgatectl help lists %d commands" % len(commands))
if "sendgatectl.8" in present:
    src = read("sendgatectl.8")
    subs = {}
    cur = None
    for line in src.splitlines():
        m = re.match(r'^\.SS "?([^"]+?)"?\s*$', line)
        if m:
            cur = m.group(1).replace("\\-", "-")
            subs[cur] = ""
        elif line.startswith(".SH"):
            cur = None
        elif cur:
            subs[cur] += line.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "") \
                .replace("\\fI", "") + "\n"
    names = {s.split(" [")[0].split(" -")[0].strip(): s for s in subs}
    for cmd in commands:
        head = next((s for s in subs if s == cmd or s.startswith(cmd + " ")), None)
        ok = head is not None and re.search(r"sendgatectl (\S+ )*%s\b" % re.escape(cmd), subs[head])
        t.ok(ok, "sendgatectl(8) documents '%s' with an example" % cmd)
    known = set(commands)
    extra = [s for s in subs if not any(s == c or s.startswith(c + " ") for c in known)
             and s not in ("Global options", "Exit status", "Examples")]
    t.is_(extra, [], "sendgatectl(8) documents no command that does not exist")

# daemons: options from the usage message, signals, files
SIGNALS = {"sendgate-milter": ["SIGHUP", "SIGTERM"], "sendgate-policyd": ["SIGHUP", "SIGUSR1", "SIGTERM"],
           "sendgate-trackd": ["SIGHUP", "SIGTERM"]}
for d, sigs in SIGNALS.items():
    page = d + ".8"
    if page not in present:
        continue
    src = read(page).replace("\\-", "-")
    prog = bin_path(d)
    if not t.ok(os.path.exists(prog), "%s is built" % d):
        continue
    r = run([prog, "-h"])
    usage = r.stdout + r.stderr
    opts = sorted(set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", usage)))
    t.ok(opts, "%s -h shows its options (%s)" % (d, " ".join(opts)))
    undocumented = [o for o in opts if not re.search(r"\\fB%s\b|^\.B[IR]? %s\b" %
                                                    (re.escape(o), re.escape(o)), src, re.M)]
    t.is_(undocumented, [], "%s(8) documents every option of its usage message" % d)
    for s in sigs:
        t.like(src, s, "%s(8) explains %s" % (d, s))
    t.like(src, "/etc/sendgate/sendgate.conf", "%s(8) names its configuration file" % d)
t.done()
