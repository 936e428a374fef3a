# shoplist build. Every target installs what it needs on a fresh Debian machine.
GO      ?= go
BIN     := bin
CMDS    := client proxy server service bench
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo NOT_ROOT)
APT_PKGS := libzmq3-dev pkg-config tmux

.PHONY: all deps build run service test chaos vet fuzz clean

all: build

# deps checks for libzmq (cgo, for pebbe/zmq4) and tmux (the TUI's end-to-end
# test); when either is missing it installs them with apt-get if we are root,
# and otherwise stops with the exact command to run.
deps:
	@if pkg-config --exists libzmq 2>/dev/null && command -v tmux >/dev/null 2>&1; then \
		exit 0; \
	elif [ -z "$(SUDO)" ]; then \
		echo "deps: installing $(APT_PKGS) with apt-get"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PKGS); \
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
