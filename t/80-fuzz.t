#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The libFuzzer harnesses build and run clean for a few seconds each
# (`make fuzz` runs them longer): a parser change that crashes on odd input,
# or breaks a harness's property, fails here first. One line per harness,
# for every harness `make fuzz` lists (FUZZERS) and every fuzz/*.c file (so a
# harness dropped from FUZZERS fails too): it built, libFuzzer exited 0, it
# ran at least MIN_RUNS inputs, and it left no crash-, leak-, timeout- or
# oom- reproducer. The figures come from scripts/fuzz-run's "fuzz-result:"
# lines, which read libFuzzer's own stat::number_of_executed_units.
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T  # noqa: E402

# at SG_FUZZ_TIME=5 the slowest harness runs some 10,000 inputs on a busy
# 2-core machine: 1,000 fails a harness that barely started, not a slow one
MIN_RUNS = 1000
secs = os.environ.get("SG_FUZZ_TIME", "5")
build = os.environ.get("SG_FUZZ_BUILD", "build")

t = T()
on_disk = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(TOP, "fuzz", "*.c")))
p = subprocess.run(["make", "-C", TOP, "-s", "fuzz", "FUZZ_TIME=" + secs,
                    "FUZZ_MIN_RUNS=%d" % MIN_RUNS, "BUILD=" + build],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
log = p.stdout
m = re.search(r"^fuzz-harnesses: *(.*)$", log, re.M)
listed = m.group(1).split() if m else []
t.ok(m is not None and listed, "make fuzz names its harnesses (%s)" % " ".join(listed))
t.is_(sorted(set(on_disk) - set(listed)), [], "every fuzz/*.c harness is in FUZZERS")

results = {}
for line in re.findall(r"^fuzz-result: (.*)$", log, re.M):
    name, _, rest = line.partition(" ")
    results[name] = dict(kv.split("=", 1) for kv in rest.split())
for name in sorted(set(listed) | set(on_disk)):
    r = results.get(name)
    runs = int(r["runs"]) if r and r.get("runs", "").isdigit() else 0
    good = (r is not None and r.get("built") == "yes" and r.get("exit") == "0" and
            runs >= MIN_RUNS and r.get("reproducers") == "0" and r.get("verdict") == "ok")
    desc = ("%s: built, exited 0 after %d inputs (%s/s, at least %d), no reproducer" %
            (name, runs, r.get("exec_per_sec", "?") if r else "?", MIN_RUNS))
    if not t.ok(good, desc):
        t.diag("result: %r" % (r,))
        block = re.search(r"^== %s:.*?(?=^== |\Z)" % re.escape(name), log, re.M | re.S)
        t.diag(block.group(0)[-3000:] if block else
               "\n".join(l for l in log.splitlines() if name in l)[-3000:] or "(no output about it)")
t.is_(p.returncode, 0, "make fuzz exits 0")
if p.returncode != 0:
    t.diag(log[-3000:])
t.done()
