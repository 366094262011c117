# SPDX-License-Identifier: BSD-2-Clause
# Compiler flags shared by the Makefile and mk/fuzz.mk.
VERSION := 0.1.0
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' \
        -DSG_CONFDIR='"$(SG_CONFDIR)"' -DSG_STATEDIR='"$(SG_STATEDIR)"' \
        -DSG_RUNDIR='"$(SG_RUNDIR)"' -I. -pthread $(WARN)
