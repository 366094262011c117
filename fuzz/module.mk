# fuzz/: libFuzzer harnesses over the parsers that meet untrusted bytes
# (`make fuzz`; see mk/fuzz.mk). Components may add their own harnesses to
# FUZZERS from their module.mk.
FUZZERS += fuzz/policy.c fuzz/netstring.c fuzz/codec.c fuzz/token.c fuzz/provider_json.c
