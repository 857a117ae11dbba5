#!/bin/sh
# Durable ingestion on loopback, beside the disk's own limit, in one run:
#   1. bench_fsync: fsynced LMDB commits/s on the file system of the store
#      (again at the end: other work on the machine moves it);
#   2. RecordEvents with one event per call from 1, 8 and 32 connections;
#   3. StreamEvents with 1000-event messages from 2 streams.
# For each: events/s, and events per commit from patrond's /metrics
# (patron_store_group_commits_total before and after). The disk's rate times
# events per commit is the most the store could take at that grouping.
# Each RecordEvents load runs for SECONDS (default 3.5), the stream for
# 100,000 events: about 20 s in all on a quiet machine. The load generator
# shares the machine with patrond.
# Usage: bench/ingest.sh BUILD_DIR [SECONDS]
set -eu
BUILD=${1:-build}
SECS=${2:-3.5}
W=$(mktemp -d /tmp/patron-ingest-XXXXXX)
PID=
trap 'kill $PID 2>/dev/null || true; rm -rf "$W"' EXIT

# 500 items i00000..i00499, the ids loadgen_ingest sends.
{
    echo "item_id,title,category,price,unit_cost,in_stock"
    i=0
    while [ $i -lt 500 ]; do printf 'i%05d,item %d,cat%d,9.5,4,1\n' $i $i $((i % 20)); i=$((i + 1)); done
} >"$W/items.csv"
"$BUILD/server/patron" import --data "$W/db" --items "$W/items.csv" >/dev/null
"$BUILD/bench/bench_fsync" "$W" 2
"$BUILD/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
    --admin-listen 127.0.0.1:0 --admin-port-file "$W/aport" \
    --threads 2 --poll-seconds 0 2>"$W/log" &
PID=$!
i=0
while { [ ! -s "$W/port" ] || [ ! -s "$W/aport" ]; } && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ADDR="127.0.0.1:$(cat "$W/port")"
METRICS="http://127.0.0.1:$(cat "$W/aport")/metrics"

commits() { curl -sf "$METRICS" | awk '$1 == "patron_store_group_commits_total" {print $2}'; }

# run LABEL loadgen_ingest-arguments...: one line of figures.
run() {
    label=$1
    shift
    before=$(commits)
    out=$("$BUILD/bench/loadgen_ingest" --addr "$ADDR" --seconds "$SECS" "$@") || { echo "$label: FAILED: $out"; return; }
    after=$(commits)
    echo "$out" | awk -v label="$label" -v c=$((after - before)) '{
        for (i = 1; i <= NF; i++) {
            if ($i == "events" && $(i + 1) == "in") n = $(i - 1);
            if ($i == "s" && $(i + 1) == "=") secs = $(i - 1);
            if ($i == "events/s") eps = $(i - 1);
        }
        printf "%-34s %9s events/s  %8d commits  %7.1f events/commit  (%s events in %s s)\n",
               label, eps, c, c ? n / c : 0, n, secs
    }'
}

echo "patrond: 2 request workers; load generator on the same machine"
run "RecordEvents, 1 event, 1 conn" --unary --batch 1 --streams 1 --events 1000000
run "RecordEvents, 1 event, 8 conns" --unary --batch 1 --streams 8 --events 1000000
run "RecordEvents, 1 event, 32 conns" --unary --batch 1 --streams 32 --events 1000000
# A stream's messages are queued by gRPC (client and HTTP/2 windows) far
# faster than the store commits them: its length is set in events, not
# seconds (100 messages).
run "StreamEvents, 1000/msg, 2 streams" --streams 2 --batch 1000 --events 100000
kill -TERM $PID
wait $PID && echo "patrond exited 0 after SIGTERM"
# The disk's rate again: other work on the machine moves it.
"$BUILD/bench/bench_fsync" "$W" 2
