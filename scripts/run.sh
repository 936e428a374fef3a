#!/bin/sh
# run.sh is `make run`: it starts the service (one proxy, five storage
# servers, data in $DATA) in the background, waits for its ready line, opens
# the terminal UI connected to it, and stops the service when the UI exits.
# The service's output goes to $DATA/service.log.
#
# Environment: BIN (default bin), DATA (default ./data), SERVICE_FLAGS,
# CLIENT_FLAGS (e.g. CLIENT_FLAGS="--data /tmp/alice").
set -eu
BIN=${BIN:-bin}
DATA=${DATA:-./data}
SERVICE_FLAGS=${SERVICE_FLAGS:-}
CLIENT_FLAGS=${CLIENT_FLAGS:-}

mkdir -p "$DATA"
log="$DATA/service.log"
: >"$log"
# shellcheck disable=SC2086 # the flags are meant to split
"$BIN/service" --data "$DATA" $SERVICE_FLAGS >"$log" 2>&1 &
pid=$!
stop() {
	if kill -0 "$pid" 2>/dev/null; then
		echo "run: stopping the service"
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "run: starting the service (log: $log)"
tries=0
until grep -q '^ready: clients connect to ' "$log"; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "run: the service failed to start:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	tries=$((tries + 1))
	if [ "$tries" -gt 600 ]; then
		echo "run: the service was not ready after 60s; see $log" >&2
		exit 1
	fi
	sleep 0.1
done
endpoint=$(sed -n 's/^ready: clients connect to //p' "$log" | head -n 1)
echo "run: service ready at $endpoint; opening the terminal UI"
# shellcheck disable=SC2086
"$BIN/client" --proxy "$endpoint" $CLIENT_FLAGS
