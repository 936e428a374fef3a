# shoplist build. Every target installs what it needs on a fresh Debian machine.
GO      ?= go
BIN     := bin
CMDS    := client proxy server service bench
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo NOT_ROOT)
APT_PKGS := libzmq3-dev pkg-config tmux

.PHONY: all deps netdeps build run service test chaos partition vet fuzz clean

all: build

# deps checks for libzmq (cgo, for pebbe/zmq4) and tmux (the TUI's end-to-end
# test); when either is missing it installs them with apt-get if we are root,
# and otherwise stops with the exact command to run.
deps:
	@if pkg-config --exists libzmq 2>/dev/null && command -v tmux >/dev/null 2>&1; then \
		exit 0; \
	elif [ -z "$(SUDO)" ]; then \
		echo "deps: installing $(APT_PKGS) with apt-get"; \
		for try in 1 2 3 4 5 6 7 8 9 10; do \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 install -y -q $(APT_PKGS) && exit 0; \
			echo "deps: apt-get failed (another apt holding its lock?); trying again in 10s ($$try of 10)"; \
			sleep 10; \
		done; \
		exit 1; \
	else \
		echo "deps: libzmq or tmux is missing; run: sudo apt-get update && sudo apt-get install -y $(APT_PKGS)" >&2; \
		exit 1; \
	fi

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

# run is the main job: it starts the cluster (one proxy, five storage servers,
# data in ./data, log in ./data/service.log) in the background and opens the
# terminal UI on the default client data directory; quitting the UI stops the
# cluster. SERVICE_FLAGS and CLIENT_FLAGS pass flags, e.g.
# make run SERVICE_FLAGS="--listen 127.0.0.1:6555" CLIENT_FLAGS="--data /tmp/alice".
SERVICE_FLAGS ?=
CLIENT_FLAGS  ?=
run: build
	@BIN=$(BIN) SERVICE_FLAGS="$(SERVICE_FLAGS)" CLIENT_FLAGS="$(CLIENT_FLAGS)" ./scripts/run.sh

# service runs the cluster alone in the foreground; Ctrl-C stops it.
service: build
	$(BIN)/service $(SERVICE_FLAGS)

vet: deps
	$(GO) vet ./...

test: deps vet
	$(GO) test -race -count=1 ./...

# chaos runs the chaos test (package chaos, build tag chaos, so not part of
# test): 3 proxies and 5 servers as processes, 10 writing clients for
# CHAOS_DURATION while servers and the leader proxy are SIGKILLed and
# restarted and others paused, then the convergence checks; it prints its
# figures. About CHAOS_DURATION plus two minutes. CHAOS_SEED=n replays a
# fault schedule; CHAOS_KEEP=dir keeps the data and log; CHAOS_HORIZON
# (default 40s) is the servers' tombstone horizon, short so that lists are
# compacted under faults (it must exceed the longest a replica lags).
CHAOS_DURATION ?= 60s
chaos: deps
	CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -tags chaos -count=1 -v -timeout 30m -run '^TestChaos$$' ./testing/chaos/

# netdeps makes sure the partition test has the ip command (iproute2:
# network namespaces, veths, bridges); when it is missing it installs it
# with apt-get if we are root, retrying while another apt holds its lock,
# and otherwise says so (the test then skips: it needs root anyway).
netdeps:
	@if command -v ip >/dev/null 2>&1; then \
		exit 0; \
	elif [ -z "$(SUDO)" ]; then \
		echo "netdeps: installing iproute2 with apt-get"; \
		for try in 1 2 3 4 5 6 7 8 9 10; do \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 install -y -q iproute2 && exit 0; \
			echo "netdeps: apt-get failed (another apt holding its lock?); trying again in 10s ($$try of 10)"; \
			sleep 10; \
		done; \
		exit 1; \
	else \
		echo "netdeps: ip (iproute2) is missing and we are not root: the partition test will skip" >&2; \
	fi

# partition runs the network partition test (package partition, build tag
# partition, so not part of test), as root: 3 proxies, 5 servers and 3
# client groups, each in a network namespace of its own on bridges the
# test makes (198.18.0.0/24), the proxies and servers being the binaries
# of build; six schedules of partitions (the leader proxy cut from the
# others, a server isolated, a minority of servers cut off, clients cut
# from their proxy, the network split in two, a flapping link), each on a
# fresh cluster while 10 writers and 3 devices write, each judged like the
# chaos test after the heal; it prints figures per schedule. About four
# minutes. PARTITION_DURATION is how long each partition holds;
# PARTITION_SEED=n replays the schedules (PARTITION_SCHEDULES=2,5 runs
# some); PARTITION_KEEP=dir keeps the data and log. Without root or network
# namespaces it skips, saying why.
PARTITION_DURATION ?= 15s
partition: build netdeps
	PARTITION_DURATION=$(PARTITION_DURATION) PARTITION_BIN=$(CURDIR)/$(BIN) $(GO) test -tags partition -count=1 -v -timeout 30m -run '^TestPartition$$' ./testing/partition/

# fuzz runs every fuzz target for FUZZTIME each (default 30s).
FUZZTIME ?= 30s
fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf $(BIN)
