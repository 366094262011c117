# SPDX-License-Identifier: BSD-2-Clause
# mk/fuzz.mk - libFuzzer harnesses (called by `make fuzz`)
#
# Every harness fuzz/<name>.c listed in FUZZERS is linked with the core
# sources and its own fuzz_<name>_SRCS, the program sources it needs (both
# compiled with -fsanitize=fuzzer-no-link,address,undefined), and
# run for FUZZ_TIME seconds by scripts/fuzz-run over a scratch copy of
# fuzz/corpus/<name>/, so the committed seeds are never polluted. (gcc checks
# -Wformat-nonliteral in the main build; clang is stricter about va_list
# helpers, so it is off here.) Each harness is built and run on its own, and
# fails when it does not build, when libFuzzer exits non-zero (a crash, a
# sanitizer report, a failed property, a harness that cannot start), when it
# ran fewer than FUZZ_MIN_RUNS inputs, or when it left a crash-, leak-,
# timeout- or oom- reproducer. Every harness runs even after one failed;
# each prints a "fuzz-result:" line with its run count (t/80-fuzz.t reads
# them) and `make fuzz` fails if any failed.
#
#   make fuzz                      every harness, 30 s each
#   make fuzz FUZZ_TIME=600        longer
#   make -f mk/fuzz.mk ... FUZZERS=fuzz/policy.c   one harness
include mk/dirs.mk
include mk/flags.mk

CLANG ?= clang
PKG_CONFIG ?= pkg-config
FUZZ_TIME ?= 30
FUZZ_MIN_RUNS ?= 1000
FUZZ_DIR := $(BUILD)/fuzz
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(BASE_CFLAGS) -Wno-unknown-warning-option -Wno-format-nonliteral -g -O1 -fno-omit-frame-pointer \
        $(shell $(PKG_CONFIG) --cflags $(CORE_PKGS))
FUZZ_LIBS := $(shell $(PKG_CONFIG) --libs $(CORE_PKGS)) -lm
CORE_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS))
FUZZ_BINS := $(patsubst fuzz/%.c,$(FUZZ_DIR)/bin/%,$(FUZZERS))

.PHONY: run build
run:
	@echo "fuzz-harnesses: $(notdir $(FUZZ_BINS))"
	@failed=""; for b in $(FUZZ_BINS); do \
	    n=$${b##*/}; \
	    if ! $(MAKE) -s -f mk/fuzz.mk $$b; then \
	        echo "fuzz-result: $$n built=no exit=- runs=0 exec_per_sec=0 reproducers=0 verdict=FAILED"; \
	        echo "FAILED: $$n: did not build"; failed="$$failed $$n"; continue; \
	    fi; \
	    scripts/fuzz-run $$b $(FUZZ_DIR)/work/$$n fuzz/corpus/$$n $(FUZZ_TIME) $(FUZZ_MIN_RUNS) || \
	        failed="$$failed $$n"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed"; exit 1; fi; \
	echo "fuzz: every harness ran clean"

build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

# one link rule per harness: fuzz/<name>.c, its fuzz_<name>_SRCS objects, the core
define FUZZ_BIN
$(FUZZ_DIR)/bin/$(1): fuzz/$(1).c $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(fuzz_$(1)_SRCS)) \
		$(FUZZ_DIR)/libcore.a
	@mkdir -p $$(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(SAN) -fsanitize=fuzzer $$^ $(FUZZ_LIBS) -o $$@
endef
$(foreach f,$(FUZZERS),$(eval $(call FUZZ_BIN,$(basename $(notdir $(f))))))
