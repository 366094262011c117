# SPDX-License-Identifier: BSD-2-Clause
# policyd/: sendgate-policyd, the Postfix policy and socketmap server (it
# runs the refresher, providers/refresh.c).
# The protocol modules (policy, netstring, smap, inbound, decide) are pure
# so the unit tests and the fuzzers link them beside the core library; the
# daemon's shell (event loop, lifecycle) is main.c and server.c.
PROGS += sendgate-policyd
sendgate-policyd_SRCS := policyd/main.c policyd/server.c policyd/policy.c policyd/netstring.c \
        policyd/smap.c policyd/inbound.c policyd/decide.c policyd/pmetrics.c lib/metrics_http.c
sendgate-policyd_PKGS := libmicrohttpd
sendgate-policyd_LIBS := -lm
UNIT_TESTS += t/unit/test_policy.c t/unit/test_netstring.c t/unit/test_smap.c \
              t/unit/test_policy_decide.c
test_policy_SRCS := policyd/policy.c
test_netstring_SRCS := policyd/netstring.c
test_smap_SRCS := policyd/smap.c policyd/inbound.c
test_policy_decide_SRCS := policyd/decide.c policyd/inbound.c policyd/policy.c policyd/smap.c
BENCHES += bench/policy
