# nagare — `make run` and `make test` are all the set-up anyone needs.
#
#   make            build build/nagare
#   make run        install what is missing, build, serve on the default store
#   make test       install, build, run unit, integration, crash and short fuzz tests
#   make sanitize   ASan/UBSan build of everything, then the unit and integration tests
#   make fuzz       build the libFuzzer drivers (FUZZ_SECONDS=N make fuzz-run runs them)
#   make bench      nagare against its peers and the loopback HTTP ceiling
#   make format     clang-format every C file (make test checks it)

CC       ?= cc
BUILD    ?= build
PKGS     := libuv jansson sqlite3 openssl libzip
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(CI),true)
WARN     += -Werror
endif
OPT      ?= -O2 -g
CFLAGS   += -std=gnu11 $(OPT) $(WARN) -Isrc -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# jemalloc: glibc's malloc spent a quarter of the server's CPU in its slow
# paths (hundreds of small JSON nodes per batch request overflow its per-thread
# caches). Linked statically from Debian's libjemalloc-dev: the shared library
# drags in libstdc++ and cost 2 ms of start-up. Sanitizer and fuzz builds keep
# the libc allocator that ASan replaces.
ALLOC_LIBS ?= -Wl,-Bstatic -ljemalloc_pic -Wl,-Bdynamic -ldl
BASE_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm
LDLIBS   += $(ALLOC_LIBS) $(BASE_LIBS)

LIB_SRCS := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 5

.PHONY: all deps run test unit integration crash sanitize fuzz fuzz-run bench format format-check clean

all: $(BUILD)/nagare $(BUILD)/lambda-echo $(BUILD)/lambda-noop

deps:
	@tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# One relocatable object rather than an ar archive: ar keeps basenames only,
# and two folders may hold files of the same name.
$(BUILD)/libnagare.o: $(LIB_OBJS)
	@rm -f $@
	ld -r -o $@ $^

$(BUILD)/nagare: $(BUILD)/src/main.o $(BUILD)/libnagare.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# runtimes/c: the C client of the Lambda Runtime API and its example functions (`provided`
# bootstraps: echo answers with its event, noop with null).
$(BUILD)/lambda-%: runtimes/c/example/%.c runtimes/c/lambda_runtime.c runtimes/c/lambda_runtime.h
	$(CC) $(CFLAGS) -Iruntimes/c -o $@ $< runtimes/c/lambda_runtime.c -lhttp_parser

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnagare.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libnagare.o $(LDLIBS) -lcmocka

run: deps all
	$(BUILD)/nagare serve

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all
	@tests/integration/run.sh $(BUILD)/nagare

crash: all
	@tests/integration/crash.sh $(BUILD)/nagare

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory fuzz-run
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory crash

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang ALLOC_LIBS= \
	    OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    all unit
	@ASAN_OPTIONS=detect_leaks=1 tests/integration/run.sh build/asan/nagare

fuzz:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang ALLOC_LIBS= \
	    OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build/fuzz/libnagare.o
	@mkdir -p build/fuzz/bin
	@set -e; for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
	    clang -std=gnu11 -O1 -g -Isrc -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	    $$(pkg-config --cflags $(PKGS)) $$f build/fuzz/libnagare.o $(BASE_LIBS) \
	    -o build/fuzz/bin/$$n; done

fuzz-run: fuzz
	@set -e; for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); c=fuzz/corpus/$${n#fuzz_}; \
	    mkdir -p build/fuzz/work/$$n; echo "== fuzz $$n ($(FUZZ_SECONDS)s)"; \
	    build/fuzz/bin/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	    build/fuzz/work/$$n $$c 2>&1 | tail -n 2; done

bench: deps all
	@bench/run.sh $(BUILD)/nagare

C_FILES = $$(find src tests fuzz bench runtimes -name '*.[ch]' -not -path '*/node_modules/*')

format:
	clang-format -i $(C_FILES)

format-check:
	@clang-format --dry-run --Werror $(C_FILES) && echo "format: clean"

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
