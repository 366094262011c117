# SPDX-License-Identifier: BSD-2-Clause
# milter/: sendgate-milter (the rewrite engine lives in milter/rewrite/)
PROGS += sendgate-milter
sendgate-milter_SRCS := milter/main.c milter/listener.c milter/testmode.c milter/callbacks.c \
        milter/mlt.c milter/state.c milter/msg.c milter/reply.c milter/body.c milter/apply.c \
        milter/tracking.c
sendgate-milter_PKGS := milter

# the rewrite engine: pure code over buffers, in the core so the unit
# tests, the fuzzer and the benchmark link it without libmilter
CORE_SRCS += milter/rewrite/rewrite.c milter/rewrite/mime.c milter/rewrite/html.c \
        milter/rewrite/enc.c
UNIT_TESTS += t/unit/test_rewrite.c
FUZZERS += fuzz/rewrite.c
TEST_PROGS += bench_rewrite
bench_rewrite_SRCS := bench/rewrite_main.c
BENCHES += bench/rewrite bench/smtp

# the callbacks through the mlt wrapper layer (the test sets up state.c as main.c does)
UNIT_TESTS += t/unit/test_milter_cb.c
test_milter_cb_SRCS := milter/callbacks.c milter/mlt.c milter/state.c milter/msg.c milter/reply.c \
        milter/body.c milter/apply.c milter/tracking.c
