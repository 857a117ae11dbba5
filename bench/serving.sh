#!/bin/sh
# End-to-end serving benchmark on loopback: a 100,000-item simulated shop,
# trained, served by patrond, driven by bench/loadgen (skewed customers) and
# cross-checked with h2load (Debian nghttp2-client) sending one fixed
# Recommend request. Usage: bench/serving.sh BUILD_DIR [exact|ann]
set -eu
BUILD=${1:-build}
MODE=${2:-ann}
W=$(mktemp -d /tmp/patron-serving-XXXXXX)
trap 'kill $PID 2>/dev/null || true; rm -rf "$W"' EXIT
PID=

"$BUILD/bench/shopsim" --out "$W/sample" --items 100000 --customers 20000 --days 120
"$BUILD/server/patron" import --data "$W/db" --items "$W/sample/items.csv" \
    --events "$W/sample/events.csv" >/dev/null
"$BUILD/server/patron" train --data "$W/db" --threads 2 | tail -1
ANN="--ann-min-items 0"
[ "$MODE" = ann ] && ANN="--ann-min-items 50000 --ann-probes 16"
# shellcheck disable=SC2086
"$BUILD/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
    --threads 2 $ANN 2>"$W/log" &
PID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ADDR="127.0.0.1:$(cat "$W/port")"
cat "$W/log"
echo "== loadgen: Recommend k=20, Zipf customers, 4 connections, 10 s"
"$BUILD/bench/loadgen" --addr "$ADDR" --concurrency 4 --duration 10 \
    --customers 20000 --items 100000 --mix recommend=1
echo "== loadgen: mixed recommend/similar/rank, 10 s"
"$BUILD/bench/loadgen" --addr "$ADDR" --concurrency 4 --duration 10 \
    --customers 20000 --items 100000 --mix recommend=8,similar=1,rank=1
if command -v h2load >/dev/null; then
    echo "== h2load: one fixed Recommend request (customer c000123), 4 connections"
    # gRPC framing: 1 byte flags, 4 bytes big-endian length, then protobuf:
    # field 1 (customer_id) "c000123", field 2 (k) 20.
    printf '\000\000\000\000\013\012\007c000123\020\024' >"$W/req.bin"
    h2load -n 50000 -c 4 -m 1 -d "$W/req.bin" -H 'content-type: application/grpc' \
        -H 'te: trailers' "http://$ADDR/patron.v1.Recommender/Recommend" |
        grep -E "finished in|requests:|status codes|time for request"
fi
kill -TERM $PID
wait $PID
