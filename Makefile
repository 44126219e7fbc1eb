# Troupe's developer entry points. `make demo` runs it; `make test` tests it.

GO         ?= go
BIN        := $(CURDIR)/bin
TOOLS      := $(BIN)/tools
PROTO_DIR  := internal/api/apipb

# Pinned protoc plugins: `make proto` must reproduce the committed code byte
# for byte, so never float these.
PROTOC_GEN_GO      := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1

DEMO_TIMEOUT := 120

# Exits 0 when every unit of every application in the status JSON on stdin is
# workload active and agent idle, 1 otherwise (including unparsable input).
define DEMO_READY_PY
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
units = {}
for app in (doc.get("applications") or {}).values():
    units.update(app.get("units") or {})
ok = bool(units) and all(
    (u.get("workload-status") or {}).get("current") == "active"
    and (u.get("juju-status") or {}).get("current") == "idle"
    for u in units.values())
sys.exit(0 if ok else 1)
endef
export DEMO_READY_PY

.PHONY: all build hooktool demo test lint bench bench-micro fuzz proto clean lxd-setup lxd-image chaos

all: build

# Static (CGO_ENABLED=0, and -static for the C client): the LXD provider
# pushes trouped and hooktool into containers, whose libc need not be the
# host's.
#
# bin/hooktool, run on every hook tool call, is the native client
# (cmd/hooktool/native, libc only; needs cc and a static libc: gcc and
# libc6-dev). HOOKTOOL=go ships the Go reference client (cmd/hooktool)
# instead, for a machine without a C toolchain; it starts about 2x slower.
CC             ?= cc
HOOKTOOL       ?= native
HOOKTOOL_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -static -s
build: hooktool
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ ./cmd/troupe ./cmd/trouped ./cmd/troupe-mountns
	CGO_ENABLED=0 $(GO) build -o $(BIN)/pebble github.com/canonical/pebble/cmd/pebble

# hooktool builds $(BIN)/hooktool alone; internal/hooktool's tests build
# the native client with it, so they test exactly what ships.
hooktool:
	mkdir -p $(BIN)
ifeq ($(HOOKTOOL),go)
	CGO_ENABLED=0 $(GO) build -o $(BIN)/hooktool ./cmd/hooktool
else
	$(CC) $(HOOKTOOL_CFLAGS) -o $(BIN)/hooktool cmd/hooktool/native/hooktool.c
endif

# LXD for the lxd cloud (as root): install, start and initialise LXD, then
# build and import the machine image (troupe/debian-bookworm). Idempotent.
lxd-setup:
	scripts/lxd/setup.sh

lxd-image: lxd-setup
	scripts/lxd/build-image.sh

demo: build
	@set -eu; \
	home=$$(mktemp -d); \
	export TROUPE_HOME="$$home"; \
	echo "TROUPE_HOME=$$home"; \
	bin/troupe bootstrap; \
	bin/troupe deploy ./testcharms/hello -n 3; \
	echo "waiting up to $(DEMO_TIMEOUT)s for every unit to be active and idle..."; \
	deadline=$$(( $$(date +%s) + $(DEMO_TIMEOUT) )); \
	until bin/troupe status --format=json 2>/dev/null | python3 -c "$$DEMO_READY_PY"; do \
		if [ "$$(date +%s)" -ge "$$deadline" ]; then \
			bin/troupe status || true; \
			echo "demo: units not active/idle after $(DEMO_TIMEOUT)s; logs are under $$home"; \
			echo "clean up with: TROUPE_HOME=$$home bin/troupe destroy-controller --yes"; \
			exit 1; \
		fi; \
		sleep 1; \
	done; \
	bin/troupe status; \
	echo; \
	echo "Clean up with:"; \
	echo "  TROUPE_HOME=$$home bin/troupe destroy-controller --yes"

test:
	$(GO) test -count=1 -timeout 40m ./...

# chaos runs the seeded chaos suite (tests/chaos_test.go, TestChaos): a
# controller and 4 machine agents behind toxiproxy links, user operations
# under faults drawn from SEED for DURATION seconds, then convergence,
# invariant checks, the AC5 measurements and a report. Same SEED, same
# fault schedule. With LXD usable (make lxd-image) it adds a machine in
# an LXD container and its fault kinds (container-freeze, nic-cut); the
# report says when there was none. `make test` runs the short default
# (seed 1, 60 s, no LXD).
SEED     ?= 1
DURATION ?= 180

chaos:
	TROUPE_CHAOS_SEED=$(SEED) TROUPE_CHAOS_DURATION=$(DURATION) TROUPE_CHAOS_MEASURE=1 TROUPE_CHAOS_LXD=auto \
		$(GO) test -count=1 -v -timeout 30m -run '^TestChaos$$' ./tests/

lint:
	@files=$$(git ls-files --cached --others --exclude-standard -- '*.go'); \
	unformatted=$$(gofmt -l $$files); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...

# bench runs the scenarios of issue 9 and writes BENCHMARKS.md: the hook
# tool (internal/hooktool), the mutating API call p99 (controller), issue
# 3's unit-status and idle-entity memory benchmarks (actors/model), and,
# with the built binaries on the local provider, settle / memory / fan-out /
# reconnect (tests/bench). Each result is divided by a floor measured in
# the same run. BENCH_N lists the settle sizes (the largest also runs the
# other local scenarios): `make bench BENCH_N=10` for a quick run.
# BENCH_PROFILE=1 also writes CPU and block profiles of the API benchmark
# under bin/bench/. Outputs of each step are kept in bin/bench/*.txt; the
# report is written even when a step fails, which then fails the target.
BENCH_N       ?= 10,100,500
BENCH_PROFILE ?=
BENCH_OUT     := $(BIN)/bench
bench: build
	@set -u; rm -rf $(BENCH_OUT); mkdir -p $(BENCH_OUT); start=$$(date +%s); fail=0; \
	prof=""; if [ -n "$(BENCH_PROFILE)" ]; then \
		prof="-o $(BENCH_OUT)/controller.test -cpuprofile $(BENCH_OUT)/api.cpu.prof -blockprofile $(BENCH_OUT)/api.block.prof"; fi; \
	echo "bench: 2. hook-tool call (internal/hooktool)"; \
	$(GO) test -run '^$$' -bench '^BenchmarkHookToolCall$$' -benchtime 1x -count 1 -timeout 5m ./internal/hooktool \
		>$(BENCH_OUT)/hooktool.txt 2>&1 || fail=1; cat $(BENCH_OUT)/hooktool.txt; \
	echo "bench: 4. mutating API call p99 (controller)"; \
	$(GO) test -run '^$$' -bench '^BenchmarkMutatingAPICallP99$$' -benchtime 1x -count 1 -timeout 5m $$prof ./controller \
		>$(BENCH_OUT)/api.txt 2>&1 || fail=1; cat $(BENCH_OUT)/api.txt; \
	echo "bench: issue 3, unit status through an actor vs etcd, memory per idle unit entity (actors/model)"; \
	$(GO) test -run '^$$' -bench '^(BenchmarkUnitStatusActorVsEtcd|BenchmarkIdleUnitEntityMemory)$$' -benchtime 1x -count 1 -timeout 5m ./actors/model \
		>$(BENCH_OUT)/core.txt 2>&1 || fail=1; cat $(BENCH_OUT)/core.txt; \
	echo "bench: 1, 3, 5, 6 on the local provider, BENCH_N=$(BENCH_N) (tests/bench)"; \
	lprof=""; if [ -n "$(BENCH_PROFILE)" ]; then lprof="TROUPE_PPROF=1 BENCH_PROF_DIR=$(abspath $(BENCH_OUT))"; fi; \
	env $$lprof BENCH_N=$(BENCH_N) BENCH_BIN=$(BIN) $(GO) test -run '^$$' -bench '^BenchmarkLocal$$' -benchtime 1x -count 1 -timeout 14m -v ./tests/bench \
		>$(BENCH_OUT)/local.txt 2>&1 || fail=1; cat $(BENCH_OUT)/local.txt; \
	$(GO) run ./tests/bench/report -o BENCHMARKS.md -duration "$$(( $$(date +%s) - start ))s" -notes tests/bench/notes.md \
		$(BENCH_OUT)/hooktool.txt $(BENCH_OUT)/api.txt $(BENCH_OUT)/core.txt $(BENCH_OUT)/local.txt || fail=1; \
	echo "bench: wrote BENCHMARKS.md in $$(( $$(date +%s) - start ))s"; \
	exit $$fail

# bench-micro runs every package's micro-benchmarks once.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 25m ./...

# fuzz runs every native Go fuzz target for FUZZTIME each (the seed
# corpora are in each package's testdata/fuzz/<FuzzName>/).
FUZZTIME ?= 10s
FUZZ_TARGETS = \
	FuzzParseMeta:./internal/charm FuzzParseConfig:./internal/charm \
	FuzzParseActions:./internal/charm FuzzParseManifest:./internal/charm \
	FuzzUnpack:./internal/charm \
	FuzzParse:./internal/bundle FuzzRun:./internal/hookcmds \
	FuzzDecodeRequest:./controller/apiserver FuzzParse:./internal/cmdline

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name $$pkg ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

proto:
	GOBIN=$(TOOLS) $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(TOOLS) $(GO) install $(PROTOC_GEN_GO_GRPC)
	protoc \
		--plugin=protoc-gen-go=$(TOOLS)/protoc-gen-go \
		--plugin=protoc-gen-go-grpc=$(TOOLS)/protoc-gen-go-grpc \
		--proto_path=$(PROTO_DIR) \
		--go_out=$(PROTO_DIR) --go_opt=paths=source_relative \
		--go-grpc_out=$(PROTO_DIR) --go-grpc_opt=paths=source_relative \
		troupe.proto

clean:
	rm -rf $(BIN)
