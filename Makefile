# leakd: build, test, demo and benchmark.
#   make            build build/leakd
#   make demo       install deps, build, run leakd on a small leaking Python program
#   make check      install deps, build, check the code map's layer rules (make layers),
#                   run unit and integration tests, the unit
#                   tests again under ASan+UBSan (make asan, in build-asan/), every
#                   fuzz target for 10 s (make fuzz FUZZ_S=10), and leakd under
#                   ASan+UBSan on three integration cases (make asan-integration)
#   make fuzz       libFuzzer targets in tests/fuzz/, FUZZ_S seconds each (60)
#   make bench      overhead ratios (alloc loop, server): untraced vs leakd modes vs tracemalloc; census and holder search by heap size
#   make install    DESTDIR/PREFIX honoured
#   make deb        the Debian package build/deb/leakd_VERSION_ARCH.deb (debian/, debhelper)
# V=1 shows the commands.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
DESTDIR  ?=
ARCH     := x86

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -Iinclude -I$(BUILD) -D_GNU_SOURCE
LDLIBS   := -lbpf -lelf -lz -lcapstone -lsystemd -lmicrohttpd -lpthread -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(BUILD) \
	      -I/usr/include/x86_64-linux-gnu -Wall -Wno-unused-function

# src/LAYER/MODULE.c, one folder per layer (docs/architecture.md); main.c is the program.
SRCS      := $(wildcard src/*/*.c)
HDRS      := $(wildcard include/leakd/*.h include/leakd/*/*.h)
LIB_OBJS  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out src/app/main.c,$(SRCS)))
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test-deps demo check layers unit unit-bins integration bench install clean lint asan \
	asan-integration fuzz fuzz-bins deb

all: $(BUILD)/leakd

deps:
	$(Q)scripts/install-deps.sh build

test-deps:
	$(Q)scripts/install-deps.sh test

$(BUILD) $(BUILD)/obj $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "leakd needs a kernel with BTF (/sys/kernel/btf/vmlinux)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c include/leakd/abi.h $(wildcard bpf/*.h) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Skeletons first: the attach module includes them.
$(BUILD)/obj/%.o: src/%.c $(HDRS) $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/leakd: $(BUILD)/obj/app/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(LIB_OBJS) -o $@ $(LDLIBS) -lcriterion

# The layout table against the interpreters' DWARF (libdw, libdw-dev).
$(BUILD)/tests/test_pylayout_dwarf: LDLIBS += -ldw

$(BUILD)/probe_cost: tests/bench/probe_cost.c $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# base/hashmap against agg's former live table and uthash (uthash-dev), on
# trace mode's alloc/free pattern; the figures are quoted in base/hashmap.h.
$(BUILD)/hashmap_bench: tests/bench/hashmap_bench.c $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# The stack walker's end-to-end check (tests/integration/pystack.sh).
$(BUILD)/pystack_check: tests/integration/pystack_check.c $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# Writes fuzz_census's seeds from real processes (tests/fuzz/make_census_seeds.sh).
$(BUILD)/make_census_seed: tests/fuzz/make_census_seed.c tests/fuzz/memimage.h $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz $< $(LIB_OBJS) -o $@ $(LDLIBS)

# docs/architecture.md's code map against every #include (tests/layers/).
layers:
	$(Q)tests/layers/run.sh

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do \
		LEAKD_FIXTURES=tests/fixtures $$t --jobs 2 || fail=1; \
	done; exit $$fail

# The matrix also covers trixie's 3.13 and sid's 3.14, fetched into a cache
# (the fetcher says so and exits 0 when the archive is out of reach).
# Without pyenv's 3.11.7, the self-built kind is CPython built once from Debian's source
# (scripts/build-python.sh: a few minutes cold, cached in /var/cache/leakd-test/cpython).
# The self-built 3.11 the integration matrix and test_pylayout_dwarf need:
# pyenv's 3.11.7, else scripts/build-python.sh's (cached after the first).
SELF_BUILT_PYTHON = test -x "$${PYENV_ROOT:-/root/.pyenv}/versions/3.11.7/bin/python3.11" || scripts/build-python.sh >/dev/null

# The package is built first: deb/package checks it, and systemd/nspawn installs it in a
# Debian 12 root booted under systemd (scripts/nspawn-root.sh: debootstrap, a few minutes
# cold, cached in /var/cache/leakd-test/nspawn).
integration: $(BUILD)/leakd $(BUILD)/pystack_check
	$(Q)scripts/fetch-pythons.sh $(BUILD)/pythons
	$(Q)$(SELF_BUILT_PYTHON)
	$(Q)deb=$$(scripts/build-deb.sh $(BUILD)) && LEAKD_DEB=$$deb tests/integration/run.sh $(BUILD)/leakd

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(BUILD)/leakd

check: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory layers
	$(Q)$(SELF_BUILT_PYTHON)
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory asan
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_S=10
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory asan-integration

# The unit tests once more, built with AddressSanitizer and UBSan in their
# own directory; scripts/asan-unit.sh fails on any sanitizer report. CFLAGS
# goes through the environment so the flags above are still appended to it.
ASAN_BUILD  ?= build-asan
ASAN_CFLAGS ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
asan:
	$(Q)CFLAGS='$(ASAN_CFLAGS)' $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) unit-bins
	$(Q)scripts/asan-unit.sh $(ASAN_BUILD)/tests

# leakd itself under ASan+UBSan on a small integration set (scripts/asan-integration.sh:
# root, BPF and Debian's python3.11 as for make integration).
asan-integration:
	$(Q)CFLAGS='$(ASAN_CFLAGS)' $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) all
	$(Q)scripts/asan-integration.sh $(ASAN_BUILD)/leakd

# libFuzzer targets: the library objects built by clang with coverage
# instrumentation and ASan+UBSan in their own directory, one binary per
# tests/fuzz/fuzz_*.c; scripts/fuzz.sh runs each FUZZ_S seconds from its seed
# corpus in tests/fuzz/corpus/ and fails on a crash (kept in FUZZ_BUILD/crashes).
FUZZ_BUILD  ?= build-fuzz
FUZZ_CFLAGS ?= -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=all
FUZZ_S      ?= 60
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

$(BUILD)/fuzz:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(LIB_OBJS) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(LIB_OBJS) -o $@ $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

# clang prints the runtime's full path only when the file is there.
FUZZ_RT = $(shell $(CLANG) -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
fuzz:
	$(Q)test -e "$(FUZZ_RT)" || { echo "make fuzz: clang's libFuzzer runtime is missing (libclang-rt-dev; scripts/install-deps.sh test)" >&2; exit 1; }
	$(Q)CFLAGS='$(FUZZ_CFLAGS)' $(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(CLANG) fuzz-bins
	$(Q)scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_S)

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/probe_cost $(BUILD)/pystack_check
	$(Q)PROBE_COST=$(BUILD)/probe_cost PYSTACK_CHECK=$(BUILD)/pystack_check scripts/bench.sh $(BUILD)/leakd
	$(Q)scripts/bench-heap.sh $(BUILD)/leakd

# The unit goes where systemd looks for units of this PREFIX (/usr/local/lib/
# systemd/system and /usr/lib/systemd/system are both on its search path), so
# /etc/systemd/system stays the admin's; its ExecStart follows PREFIX. The
# config lives in /etc whatever PREFIX is, and an existing one is kept: the
# shipped defaults also go to share/doc/leakd for comparison.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -Dm755 $(BUILD)/leakd $(DESTDIR)$(PREFIX)/bin/leakd
	install -Dm644 docs/leakd.8 $(DESTDIR)$(PREFIX)/share/man/man8/leakd.8
	sed 's|^ExecStart=/usr/local/bin/leakd |ExecStart=$(PREFIX)/bin/leakd |' systemd/leakd.service > $(BUILD)/leakd.service
	install -Dm644 $(BUILD)/leakd.service $(DESTDIR)$(SYSTEMD_UNIT_DIR)/leakd.service
	install -Dm644 systemd/leakd.conf $(DESTDIR)$(PREFIX)/share/doc/leakd/leakd.conf
	install -Dm644 docs/alerts.yml $(DESTDIR)$(PREFIX)/share/doc/leakd/alerts.yml
	test -e $(DESTDIR)/etc/leakd/leakd.conf || install -Dm644 systemd/leakd.conf $(DESTDIR)/etc/leakd/leakd.conf

# Built from a copy of the tree in $(BUILD)/deb (scripts/build-deb.sh), with the
# version from debian/changelog; tests/integration/deb_package.sh checks it.
deb:
	$(Q)scripts/install-deps.sh deb
	$(Q)scripts/build-deb.sh $(BUILD)

lint:
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Iinclude -I$(BUILD) \
		-DLIBBPF_OPTS\(t,n,...\)="struct t n = {__VA_ARGS__}" src

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
