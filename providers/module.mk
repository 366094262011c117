# SPDX-License-Identifier: BSD-2-Clause
# providers/: where domain data comes from (static file; JetEmail and Mailtrap APIs)
CORE_SRCS += providers/static.c
UNIT_TESTS += t/unit/test_static.c
# the API clients (libcurl + cJSON) and the refresher: in the core library so
# sendgate-policyd, sendgatectl and the unit tests all link them
CORE_SRCS += providers/http.c providers/pjson.c providers/items.c \
             providers/jetnorm.c providers/jetemail.c providers/jetreq.c \
             providers/mtnorm.c providers/mailtrap.c providers/mtreq.c \
             providers/refresh.c providers/refstats.c
CORE_PKGS += libcurl
UNIT_TESTS += t/unit/test_http_err.c t/unit/test_jet_norm.c t/unit/test_jet_req.c \
              t/unit/test_mt_norm.c
# bench/normalise: JSON to committed records for 10,000 domains (helper built as a test tool)
TEST_PROGS += bench_normalise
bench_normalise_SRCS := bench/normalise_main.c
bench_normalise_PKGS := lmdb
BENCHES += bench/normalise
