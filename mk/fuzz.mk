# mk/fuzz.mk - libFuzzer harnesses (called by `make fuzz`)
#
# Every harness fuzz/<name>.c listed in FUZZERS is linked with the core
# sources (compiled with -fsanitize=fuzzer-no-link,address,undefined) and
# run for FUZZ_TIME seconds over a scratch copy of fuzz/corpus/<name>/, so
# the committed seeds are never polluted. (gcc checks -Wformat-nonliteral in
# the main build; clang is stricter about va_list helpers, so it is off here.) A crash, a sanitizer report or a
# failed property stops the run with libFuzzer's reproducer file.
#
#   make fuzz                      every harness, 30 s each
#   make fuzz FUZZ_TIME=600        longer
#   make -f mk/fuzz.mk ... FUZZERS=fuzz/policy.c   one harness
include mk/dirs.mk
include mk/flags.mk

CLANG ?= clang
PKG_CONFIG ?= pkg-config
FUZZ_TIME ?= 30
FUZZ_DIR := $(BUILD)/fuzz
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(BASE_CFLAGS) -Wno-unknown-warning-option -Wno-format-nonliteral -g -O1 -fno-omit-frame-pointer \
        $(shell $(PKG_CONFIG) --cflags $(CORE_PKGS))
FUZZ_LIBS := $(shell $(PKG_CONFIG) --libs $(CORE_PKGS)) -lm
CORE_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS))
FUZZ_BINS := $(patsubst fuzz/%.c,$(FUZZ_DIR)/bin/%,$(FUZZERS))

.PHONY: run build
run: build
	@set -e; for b in $(FUZZ_BINS); do \
	    n=$$(basename $$b); w=$(FUZZ_DIR)/work/$$n; rm -rf $$w; mkdir -p $$w/corpus; \
	    if [ -d fuzz/corpus/$$n ]; then cp -r fuzz/corpus/$$n/. $$w/corpus/; fi; \
	    echo "== $$n: $(FUZZ_TIME) s"; \
	    (cd $$w && $(CURDIR)/$$b -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	        -max_len=65536 corpus) 2>&1 | grep -E "^(INFO: seed corpus|#[0-9]+ *DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Done)" || true; \
	    if [ -n "$$(find $$w -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*')" ]; then \
	        echo "FAILED: $$n: reproducer in $$w"; exit 1; fi; \
	done; echo "fuzz: every harness ran clean"

build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/bin/%: fuzz/%.c $(FUZZ_DIR)/libcore.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(SAN) -fsanitize=fuzzer $< $(FUZZ_DIR)/libcore.a $(FUZZ_LIBS) -o $@
