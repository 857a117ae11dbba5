#!/bin/sh
# Head-of-line blocking by audience streams (issue 20 item 8), on loopback:
# a simulated shop (20,000 customers), trained, served by patrond with 2
# request workers; bench/loadgen measures Recommend latency alone, then
# again while a client runs SelectAudience over every customer in a loop
# (reading each stream to the end). Prints both loadgen reports.
# Usage: bench/audience_hol.sh BUILD_DIR [PATROND_BUILD_DIR]
#   BUILD_DIR provides shopsim and loadgen; PATROND_BUILD_DIR (default the
#   same) the patron and patrond under test, e.g. an older build to compare.
set -eu
BUILD=${1:-build}
SRV=${2:-$BUILD}
CUSTOMERS=${CUSTOMERS:-20000}
SECONDS_EACH=${SECONDS_EACH:-15}
W=$(mktemp -d /tmp/patron-hol-XXXXXX)
PID=
LOOP=
trap 'kill $LOOP $PID 2>/dev/null || true; rm -rf "$W"' EXIT

"$BUILD/bench/shopsim" --out "$W/sample" --items 2000 --customers "$CUSTOMERS" --days 120 >/dev/null
"$SRV/server/patron" import --data "$W/db" --items "$W/sample/items.csv" \
    --events "$W/sample/events.csv" >/dev/null
"$SRV/server/patron" train --data "$W/db" --threads 2 | tail -1
"$SRV/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
    --threads 2 2>"$W/log" &
PID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ADDR="127.0.0.1:$(cat "$W/port")"

echo "== Recommend alone: 2 connections, $SECONDS_EACH s"
"$BUILD/bench/loadgen" --addr "$ADDR" --concurrency 2 --duration "$SECONDS_EACH" \
    --customers "$CUSTOMERS" --items 2000 --mix recommend=1

# SelectAudience with an empty expression (every customer): its request is
# zero bytes, so no generated code is needed.
/usr/bin/python3 - "$ADDR" "$W/streams" <<'EOF' &
import sys, time, grpc
ch = grpc.insecure_channel(sys.argv[1])
call = ch.unary_stream("/patron.v1.Profiles/SelectAudience",
                       request_serializer=None, response_deserializer=None)
n = 0
t0 = time.monotonic()
while time.monotonic() - t0 < 600:
    for _ in call(b"", timeout=120):
        pass
    n += 1
    with open(sys.argv[2], "w") as f:
        f.write("%d streams, %.2f s each\n" % (n, (time.monotonic() - t0) / n))
EOF
LOOP=$!
sleep 1
echo "== Recommend while SelectAudience runs in a loop: 2 connections, $SECONDS_EACH s"
"$BUILD/bench/loadgen" --addr "$ADDR" --concurrency 2 --duration "$SECONDS_EACH" \
    --customers "$CUSTOMERS" --items 2000 --mix recommend=1
kill $LOOP 2>/dev/null || true
wait $LOOP 2>/dev/null || true
LOOP=
echo "== SelectAudience loop: $(cat "$W/streams" 2>/dev/null || echo 'no stream finished')"
kill -TERM $PID
wait $PID || true
PID=
