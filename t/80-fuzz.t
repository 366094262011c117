#!/bin/sh
# The libFuzzer harnesses build and run clean for a few seconds each
# (`make fuzz` runs them longer): a parser change that crashes on odd
# input, or breaks a harness's property, fails here first.
set -u
top=${SG_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if make -C "$top" -s fuzz FUZZ_TIME=${SG_FUZZ_TIME:-5} BUILD="${SG_FUZZ_BUILD:-build}" >"$log" 2>&1; then
    n=$(grep -c '^== ' "$log")
    echo "ok 1 - $n fuzz harnesses built and ran clean"
else
    echo "not ok 1 - make fuzz failed"
    sed 's/^/# /' "$log" | tail -n 40
fi
echo "1..1"
