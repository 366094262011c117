#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Every configuration key exists for the user only if it is documented:
# conf/sendgate.conf must document exactly the keys of the code's table,
# each with the default the code really uses, and must be up to date with
# its fragments in conf/sections/.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, TOP, bin_path, run

t = T()
r = run([bin_path("sendgatectl"), "-c", "/dev/null", "show-config", "-d", "--json"])
t.is_(r.returncode, 0, "sendgatectl show-config -d runs")
table = {"%s.%s" % (sec, key): val
         for sec, keys in json.loads(r.stdout).items() for key, val in keys.items()}
t.ok(len(table) > 20, "the key table has %d keys" % len(table))

documented = {}
section = None
with open(os.path.join(TOP, "conf", "sendgate.conf")) as f:
    for line in f:
        m = re.match(r"^\[(\w+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^# (\w+) =(?: (.*))?$", line.rstrip("\n"))
        if m and section:
            documented["%s.%s" % (section, m.group(1))] = (m.group(2) or "").strip()

missing = sorted(set(table) - set(documented))
extra = sorted(set(documented) - set(table))
t.is_(missing, [], "every key of the table is documented in conf/sendgate.conf")
t.is_(extra, [], "every documented key exists in the table")
wrong = ["%s: documented '%s', code '%s'" % (k, documented[k], table[k])
         for k in sorted(set(table) & set(documented)) if documented[k] != table[k]]
t.is_(wrong, [], "documented defaults are the code's defaults")

r = run([os.path.join(TOP, "scripts", "assemble-conf"), "--check"])
t.is_(r.returncode, 0, "conf/sendgate.conf is assembled from conf/sections (make conf)")

# the sample, uncommented, is itself a valid configuration
r = run([bin_path("sendgatectl"), "-c", os.path.join(TOP, "conf", "sendgate.conf"), "check-config"])
t.is_(r.returncode, 0, "the shipped sample passes check-config")
t.done()
