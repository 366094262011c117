# SPDX-License-Identifier: BSD-2-Clause
# sendgate top-level Makefile (GNU make, no autotools).
#
#   make            release build into build/rel/ (binaries in build/rel/bin)
#   make san        ASan+UBSan build into build/san/ (what the tests run)
#   make check      install deps (scripts/deps), build san, run every test with prove
#   make demo       install deps, build, run the demo on the embedded defaults
#   make bench      release build, run every benchmark (figure beside its baseline)
#   make fuzz       libFuzzer harnesses (clang), short runs over the seed corpora
#   make install    DESTDIR/PREFIX aware; FHS paths (see mk/dirs.mk)
#   make uninstall  removes what install put in place
#   make clean      removes build/
#
# Components describe themselves in */module.mk fragments: each adds its sources
# to CORE_SRCS (the static library every program links), declares PROGS with
# <prog>_SRCS and <prog>_PKGS, adds unit tests to UNIT_TESTS (with <test>_SRCS for program sources a test
# needs beyond the core), test-only helper
# programs to TEST_PROGS (built into $(BUILD)/<variant>/t/tools, never
# installed), benchmarks to BENCHES and libFuzzer harnesses to FUZZERS (with
# fuzz_<name>_SRCS for the program sources a harness needs beyond the core).

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

include mk/dirs.mk

include mk/flags.mk
REL_CFLAGS := -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
        -fno-sanitize-recover=undefined
REL_LDFLAGS := -pie -Wl,-z,relro,-z,now
SAN_LDFLAGS := -fsanitize=address,undefined

CORE_SRCS :=
PROGS :=
TEST_PROGS :=
UNIT_TESTS :=
UNIT_PKGS :=
BENCHES :=
FUZZERS :=
# each component's fragment (lib, cache, providers, milter, ...)
include $(sort $(wildcard */module.mk))

pkg_cflags = $(if $(1),$(shell $(PKG_CONFIG) --cflags $(1)))
pkg_libs = $(if $(1),$(shell $(PKG_CONFIG) --libs $(1)))
ALL_PKGS := $(sort $(CORE_PKGS) $(foreach p,$(PROGS) $(TEST_PROGS),$($(p)_PKGS)) $(UNIT_PKGS))
PKG_CFLAGS := $(call pkg_cflags,$(ALL_PKGS))

# variant template: $(1) = name (rel|san), $(2) = extra cflags, $(3) = ldflags
define VARIANT
$(1)_DIR := $(BUILD)/$(1)
$(1)_CORE_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(CORE_SRCS))
$(1)_CORE_LIB := $(BUILD)/$(1)/libsendgate.a

$(BUILD)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $(BASE_CFLAGS) $(2) $$(PKG_CFLAGS) $$(CPPFLAGS) $$(CFLAGS) -MMD -MP -c $$< -o $$@

$$($(1)_CORE_LIB): $$($(1)_CORE_OBJS)
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^

$(foreach p,$(PROGS),
$(BUILD)/$(1)/bin/$(p): $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$$($(p)_SRCS)) $$($(1)_CORE_LIB)
	@mkdir -p $$(@D)
	$$(CC) $(3) $$(LDFLAGS) -pthread -o $$@ $$^ $$(call pkg_libs,$$($(p)_PKGS) $(CORE_PKGS)) $$($(p)_LIBS)
)

$(foreach t,$(UNIT_TESTS),
$(BUILD)/$(1)/t/$(basename $(notdir $(t))).t: $(BUILD)/$(1)/obj/$(t:.c=.o) \
		$$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$$($(basename $(notdir $(t)))_SRCS)) $$($(1)_CORE_LIB)
	@mkdir -p $$(@D)
	$$(CC) $(3) $$(LDFLAGS) -pthread -o $$@ $$^ $$(call pkg_libs,$(ALL_PKGS)) -lm
)

$(foreach p,$(TEST_PROGS),
$(BUILD)/$(1)/t/tools/$(p): $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$$($(p)_SRCS)) $$($(1)_CORE_LIB)
	@mkdir -p $$(@D)
	$$(CC) $(3) $$(LDFLAGS) -pthread -o $$@ $$^ $$(call pkg_libs,$$($(p)_PKGS) $(CORE_PKGS)) $$($(p)_LIBS)
)

$(1)_BINS := $(foreach p,$(PROGS),$(BUILD)/$(1)/bin/$(p))
$(1)_TOOLS := $(foreach p,$(TEST_PROGS),$(BUILD)/$(1)/t/tools/$(p))
$(1)_TESTS := $(foreach t,$(UNIT_TESTS),$(BUILD)/$(1)/t/$(basename $(notdir $(t))).t)
endef

$(eval $(call VARIANT,rel,$(REL_CFLAGS),$(REL_LDFLAGS)))
$(eval $(call VARIANT,san,$(SAN_CFLAGS),$(SAN_LDFLAGS)))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: all san deps check test demo bench fuzz install uninstall clean format \
        format-check unit conf

all: $(rel_BINS) $(rel_TOOLS)

san: $(san_BINS) $(san_TESTS) $(san_TOOLS)

deps:
	@scripts/deps

# The test command from the README: everything under prove, sanitizers on.
export ASAN_OPTIONS := abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
check: deps
	$(MAKE) san
	SG_BUILD=$(abspath $(BUILD)/san) SG_TOP=$(CURDIR) prove $(PROVE_FLAGS) $(san_TESTS) $(sort $(wildcard t/*.t))

# unit tests only (fast inner loop)
unit: san
	SG_BUILD=$(abspath $(BUILD)/san) SG_TOP=$(CURDIR) prove $(PROVE_FLAGS) $(san_TESTS)

demo: deps
	$(MAKE) all
	SG_BUILD=$(abspath $(BUILD)/rel) scripts/demo

bench:
	scripts/deps --all
	$(MAKE) all
	SG_BUILD=$(abspath $(BUILD)/rel) SG_TOP=$(CURDIR) scripts/bench $(BENCHES)

# libFuzzer harnesses (clang), each run FUZZ_TIME seconds over fuzz/corpus/<name>;
# fuzz_<name>_SRCS are the program sources a harness needs beyond the core
fuzz: deps
	$(MAKE) -f mk/fuzz.mk FUZZERS="$(FUZZERS)" CORE_SRCS="$(CORE_SRCS)" \
	        CORE_PKGS="$(CORE_PKGS)" BUILD=$(BUILD) \
	        $(foreach f,$(FUZZERS),fuzz_$(basename $(notdir $(f)))_SRCS="$(fuzz_$(basename $(notdir $(f)))_SRCS)")

install: all
	$(SG_DIRS_ENV) SG_PROGS="$(PROGS)" scripts/install-tree "$(DESTDIR)" "$(BUILD)/rel/bin"

uninstall:
	$(SG_DIRS_ENV) SG_PROGS="$(PROGS)" scripts/install-tree --uninstall "$(DESTDIR)"

# conf/sendgate.conf is assembled from conf/sections/*.conf
conf:
	scripts/assemble-conf

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
