# SPDX-License-Identifier: BSD-2-Clause
# cache/: the LMDB environments (the provider cache, trackd's statistics), record codecs,
# suppressions, revocations and the verdict
CORE_SRCS += cache/record.c cache/codec.c cache/envcheck.c cache/lmdbenv.c cache/cache.c cache/txn.c cache/store.c \
             cache/verdict.c cache/json.c cache/suppress.c cache/revoke.c cache/trackstats.c
CORE_PKGS += lmdb libcjson
UNIT_TESTS += t/unit/test_codec.c t/unit/test_cache.c t/unit/test_verdict.c t/unit/test_envcheck.c \
              t/unit/test_cache_damage.c t/unit/test_lmdbenv.c
# bench/cache: cache_get_outbound lookups/s beside plain mdb_get (helper built as a test tool)
TEST_PROGS += bench_cache
bench_cache_SRCS := bench/cache_main.c
bench_cache_PKGS := lmdb
BENCHES += bench/cache
