#!/bin/sh
# HTTP/JSON overhead against gRPC on one patrond, on loopback: a simulated
# shop (10,000 items, 5,000 customers, 90 days), trained, served with
# --admin-listen; bench/loadgen_http sends the same Recommend (k=20) and
# GetProfile requests over gRPC and then over POST /v1/... with 1 and 4
# connections, 5 s per protocol and case, and prints req/s, p50, p99 and
# the HTTP/gRPC ratios. patrond runs 4 gRPC workers, so 4 gRPC connections
# are served in parallel as the admin listener's 4 connection threads are.
# The client shares the machine: gRPC's is the C core (client.h), HTTP's a
# bare socket, so on few cores gRPC's client costs it more of the CPU.
# Usage: bench/http_json.sh BUILD_DIR
set -eu
BUILD=${1:-build}
W=$(mktemp -d /tmp/patron-httpjson-XXXXXX)
trap 'kill $PID 2>/dev/null || true; rm -rf "$W"' EXIT
PID=

"$BUILD/bench/shopsim" --out "$W/sample" --items 10000 --customers 5000 --days 90 >/dev/null
"$BUILD/server/patron" import --data "$W/db" --items "$W/sample/items.csv" \
    --events "$W/sample/events.csv" >/dev/null
"$BUILD/server/patron" train --data "$W/db" --threads 2 | tail -1
"$BUILD/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
    --admin-listen 127.0.0.1:0 --admin-port-file "$W/admin-port" --threads 4 2>"$W/log" &
PID=$!
i=0
while { [ ! -s "$W/port" ] || [ ! -s "$W/admin-port" ]; } && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
ADDR="127.0.0.1:$(cat "$W/port")"
HTTP="127.0.0.1:$(cat "$W/admin-port")"
for method in recommend profile; do
    for c in 1 4; do
        echo "== $method, $c connection(s)"
        "$BUILD/bench/loadgen_http" --addr "$ADDR" --http "$HTTP" --method "$method" \
            --concurrency $c --duration 5 --customers 5000
    done
done
kill -TERM $PID
wait $PID
