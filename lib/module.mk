# SPDX-License-Identifier: BSD-2-Clause
# lib/: shared building blocks linked into every program
CORE_SRCS += lib/buf.c lib/log.c lib/conf.c lib/conf_check.c lib/domain.c lib/endpoint.c \
             lib/addr.c lib/inifile.c lib/rfile.c lib/netlist.c \
             lib/daemon.c lib/redirect.c lib/token.c lib/errbuf.c lib/metrics.c
CORE_PKGS += inih libidn2 libcrypto
UNIT_TESTS += t/unit/test_buf.c t/unit/test_domain.c t/unit/test_addr.c \
              t/unit/test_endpoint.c t/unit/test_conf.c t/unit/test_inifile.c \
              t/unit/test_netlist.c t/unit/test_token.c \
              t/unit/test_errbuf.c t/unit/test_metrics.c
FUZZERS += fuzz/addr.c
