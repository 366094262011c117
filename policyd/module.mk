# policyd/: sendgate-policyd, the Postfix policy and socketmap server (it
# runs the refresher, providers/refresh.c).
# The protocol modules are pure and live in the core library so the unit
# tests link them; the daemon's shell (event loop, lifecycle) is the program.
CORE_SRCS += policyd/policy.c policyd/netstring.c policyd/smap.c \
             policyd/inbound.c policyd/decide.c
PROGS += sendgate-policyd
sendgate-policyd_SRCS := policyd/main.c policyd/server.c
sendgate-policyd_PKGS :=
sendgate-policyd_LIBS := -lm
UNIT_TESTS += t/unit/test_policy.c t/unit/test_netstring.c t/unit/test_smap.c \
              t/unit/test_policy_decide.c
BENCHES += bench/policy
