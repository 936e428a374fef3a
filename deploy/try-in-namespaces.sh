#!/usr/bin/env bash
# try-in-namespaces.sh follows docs/DEPLOYMENT.md on one machine, with Linux
# network namespaces standing in for the machines: three proxies, five
# storage servers, an operator and two clients, each in a namespace of its
# own on one bridge, addresses in 198.18.1.0/24 (a range set aside for
# benchmarks; nothing is sent anywhere else). It needs root and iproute2,
# and the binaries of `make build` in bin/. It removes everything it made
# when it ends, whether it succeeds or not.
#
# Usage: sudo deploy/try-in-namespaces.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
WORK=${1:-$(mktemp -d /tmp/shoplist-deploy.XXXXXX)}
PREFIX=shopdep
NET=198.18.1
BRIDGE=${PREFIX}-br
NAMESPACES=()
PIDS=()

log() { echo "try: $*"; }

cleanup() {
	local code=$?
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	for ns in "${NAMESPACES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	ip link del "$BRIDGE" 2>/dev/null || true
	if [ "$code" -ne 0 ]; then
		log "FAILED (exit $code); logs are in $WORK"
	fi
	exit "$code"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "try: needs root and iproute2 (ip netns)" >&2
	exit 2
fi
for b in proxy server client; do
	[ -x "$BIN/$b" ] || { echo "try: $BIN/$b missing: run make build" >&2; exit 2; }
done

# Leftovers of an earlier run that was killed.
for ns in $(ip netns list | awk '{print $1}' | grep "^${PREFIX}-" || true); do
	ip netns pids "$ns" | xargs -r kill -9 || true
	ip netns del "$ns"
done
for link in $(ip -br link | awk '{print $1}' | cut -d@ -f1 | grep "^${PREFIX}-" || true); do ip link del "$link" || true; done

# machine NAME LAST_OCTET: a namespace joined to the bridge at $NET.LAST_OCTET.
machine() {
	local name=$PREFIX-$1 ip=$NET.$2
	ip netns add "$name"
	NAMESPACES+=("$name")
	ip link add "$name" type veth peer name eth0 netns "$name"
	ip link set "$name" master "$BRIDGE" up
	ip -n "$name" addr add "$ip/24" dev eth0
	ip -n "$name" link set eth0 up
	ip -n "$name" link set lo up
}

# on NAME CMD...: runs CMD on machine NAME.
on() { local name=$PREFIX-$1; shift; ip netns exec "$name" "$@"; }

# start NAME LOG CMD...: runs CMD on machine NAME in the background (ip
# netns exec becomes CMD, so $! is its process).
start() {
	local name=$PREFIX-$1 out=$2; shift 2
	ip netns exec "$name" "$@" >"$out" 2>"$out.err" &
	PIDS+=($!)
}

# wait_for FILE PATTERN: until FILE holds PATTERN, at most 30 s.
wait_for() {
	for _ in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "try: no '$2' in $1 after 30s:" >&2
	tail -n 20 "$1" "$1.err" >&2 || true
	return 1
}

ip link add "$BRIDGE" type bridge
ip link set "$BRIDGE" up
machine p1 11; machine p2 12; machine p3 13
for i in 1 2 3 4 5; do machine "s$i" "2$i"; done
machine op 31; machine alice 41; machine bob 42
log "machines: p1-p3 at $NET.11-13, s1-s5 at $NET.21-25, op, alice and bob; work in $WORK"

# 2. The first proxy founds the group.
mkdir -p "$WORK"
start p1 "$WORK/p1.log" "$BIN/proxy" --data "$WORK/p1" --listen 0.0.0.0:5555 --advertise "$NET.11" --admin 0.0.0.0:5559
wait_for "$WORK/p1.log" "proxy ready"
log "p1: $(cat "$WORK/p1.log")"

# 3. Credentials for the other proxies and the operator.
on p1 "$BIN/proxy" issue --data "$WORK/p1" --out "$WORK/p2-credentials"
on p1 "$BIN/proxy" issue --data "$WORK/p1" --out "$WORK/p3-credentials"
on p1 "$BIN/proxy" issue --data "$WORK/p1" --operator --out "$WORK/operator-credentials"

# 4. The other proxies join.
for i in 2 3; do
	start "p$i" "$WORK/p$i.log" "$BIN/proxy" --data "$WORK/p$i" --credentials "$WORK/p$i-credentials" \
		--listen 0.0.0.0:5555 --advertise "$NET.1$i" --admin 0.0.0.0:5559 --join "$NET.11:5559"
	wait_for "$WORK/p$i.log" "proxy ready"
	log "p$i: $(cat "$WORK/p$i.log")"
done
ADMIN=$NET.11:5559,$NET.12:5559,$NET.13:5559
OP=(--admin "$ADMIN" --credentials "$WORK/operator-credentials")

# 5. Storage servers: every proxy's backend= from its ready line.
for i in 1 2 3; do sed -n 's/.* backend=\([^ ]*\).*/\1/p' "$WORK/p$i.log"; done >"$WORK/proxies"
for i in 1 2 3 4 5; do
	start "s$i" "$WORK/s$i.log" "$BIN/server" --data "$WORK/s$i" --id "s$i" --proxy "@$WORK/proxies"
	for _ in $(seq 100); do [ -f "$WORK/s$i/curve/server.pub" ] && break; sleep 0.1; done
	on op "$BIN/proxy" admit --id "s$i" --key "@$WORK/s$i/curve/server.pub" "${OP[@]}"
done
ring=""
for _ in $(seq 300); do
	ring=$(on op "$BIN/proxy" status "${OP[@]}" | grep '^ring:' || true)
	case $ring in *" 5 active"*) break ;; esac
	sleep 0.1
done
case $ring in *" 5 active"*) ;; *) echo "try: the ring is not five servers: $ring" >&2; exit 1 ;; esac
log "five servers admitted and in the ring"

# 6. Clients, each on its own machine, given every proxy's endpoint.
ENDPOINTS=$(on op "$BIN/proxy" status --endpoints "${OP[@]}")
log "clients are given $ENDPOINTS"
id=$(on alice "$BIN/client" --data "$WORK/alice" --proxy "$ENDPOINTS" new "Groceries")
on alice "$BIN/client" --data "$WORK/alice" add "$id" milk 2
on bob "$BIN/client" --data "$WORK/bob" --proxy "$ENDPOINTS" join "$id"
shown=$(on bob "$BIN/client" --data "$WORK/bob" show "$id")
echo "$shown"
echo "$shown" | grep -q "milk  2 wanted" || { echo "try: bob does not see alice's milk" >&2; exit 1; }

# Operating: the status an operator sees.
status=$(on op "$BIN/proxy" status "${OP[@]}")
echo "$status" | sed -n '1,7p'
up=$(echo "$status" | grep -c '^  proxy-.* up ' || true)
[ "$up" = 3 ] || { echo "try: $up of 3 proxies up in the status" >&2; exit 1; }
log "ok: three proxies and five servers on eight machines, a list shared between two clients"
