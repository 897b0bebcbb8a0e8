# Tessera's entry points. `make serve` and `make test` set up a fresh Debian 12
# machine (scripts/setup.sh), build, and run; `make build` only builds.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_RUNS  ?= 100000
IMAGES     ?= images
PORT       ?= 8080
HOST       ?= 127.0.0.1
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local

CMAKE_COMMON = -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

# ccache hashes paths relative to the checkout, so that every clone of the
# repository (CI clones into a fresh folder each time) shares one cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all setup build asan fuzz-build fuzz test unit e2e serve demo format clean bench install

all: build

setup:
	@scripts/setup.sh

build:
	@cmake -S . -B $(BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# $(DESTDIR)$(PREFIX)/bin/tessera and the iipsrv name,
# $(DESTDIR)$(PREFIX)/lib/iipimage-server/iipsrv.fcgi -> ../../bin/tessera.
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# The libFuzzer targets of fuzz/: clang, the core under ASan + UBSan.
fuzz-build:
	@cmake -S . -B $(FUZZ_BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON > /dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Each target for FUZZ_RUNS inputs from a fixed seed (scripts/fuzz.sh); what
# fails is kept in $(FUZZ_BUILD)/fuzz-crashes.
fuzz: setup fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_RUNS)

# The core and its unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DTESSERA_SANITIZE=ON -DTESSERA_UNIT_ONLY=ON > /dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

test: setup
	@$(MAKE) --no-print-directory build asan fuzz-build
	@echo "== unit and end-to-end tests (Release) =="
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@echo "== unit tests under ASan + UBSan =="
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)
	@echo "== fuzzing: $(FUZZ_RUNS) inputs per target (libFuzzer, ASan + UBSan) =="
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_RUNS)

# Micro-benchmarks, then Tessera against iipsrv under load (bench/http_bench.py);
# writes docs/benchmarks.md. BENCH_ARGS passes options, e.g.
# BENCH_ARGS="--workloads hot,tiles --duration 5".
BENCH_CACHE ?= $(HOME)/.cache/tessera-bench
BENCH_ARGS  ?=
bench: setup
	@scripts/bench-setup.sh
	@$(MAKE) --no-print-directory build
	@cmake --build $(BUILD) --target micro_bench
	@python3 bench/http_bench.py --cache $(BENCH_CACHE) --images-only
	@echo "== micro-benchmarks =="
	@TESSERA_BENCH_IMAGES=$(BENCH_CACHE)/images $(BUILD)/micro_bench --benchmark_min_time=0.3
	@echo "== Tessera and iipsrv under load =="
	@python3 bench/http_bench.py --build $(BUILD) --cache $(BENCH_CACHE) $(BENCH_ARGS)

demo: setup build
	@scripts/demo-image.sh $(IMAGES) $(BUILD)/tessera

serve: setup build demo
	@$(BUILD)/tessera serve $(IMAGES) --host $(HOST) --port $(PORT)

format:
	@find src tests bench fuzz -name '*.[ch]pp' -print0 | xargs -0 -r clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
