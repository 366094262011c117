# SPDX-License-Identifier: BSD-2-Clause
# fuzz/: libFuzzer harnesses over the parsers that meet untrusted bytes
# (`make fuzz`; see mk/fuzz.mk). Components may add their own harnesses to
# FUZZERS from their module.mk.
FUZZERS += fuzz/policy.c fuzz/netstring.c fuzz/codec.c fuzz/token.c fuzz/provider_json.c
# the program sources a harness needs beyond the core library (mk/fuzz.mk)
fuzz_policy_SRCS := policyd/policy.c
fuzz_netstring_SRCS := policyd/netstring.c policyd/smap.c
