#!/bin/sh
# Soak test on loopback: patrond under mixed traffic (Recommend, SimilarItems,
# RankItems, TargetCoupons) plus event ingestion for MINUTES minutes, with a
# retrain and SIGHUP model swap halfway. Every ROUND seconds it prints the
# round's QPS, p99 and errors and patrond's resident memory, and at the end
# the memory growth after warm-up: a leak shows as steady growth, a healthy
# server levels off. Bounded in time; stops by itself.
# Usage: bench/soak.sh BUILD_DIR [MINUTES (default 2)]
set -eu
BUILD=${1:-build}
MINUTES=${2:-2}
ROUND=10
W=$(mktemp -d /tmp/patron-soak-XXXXXX)
PID=
trap 'kill $PID 2>/dev/null || true; rm -rf "$W"' EXIT

"$BUILD/bench/shopsim" --out "$W/sample" --items 20000 --customers 10000 --days 90 >/dev/null
"$BUILD/server/patron" import --data "$W/db" --items "$W/sample/items.csv" \
    --events "$W/sample/events.csv" >/dev/null
"$BUILD/server/patron" train --data "$W/db" --threads 2 | tail -1
"$BUILD/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
    --threads 2 --poll-seconds 0 2>"$W/log" &
PID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ADDR="127.0.0.1:$(cat "$W/port")"
# Anonymous memory (heap, models) and file-backed (LMDB's mapped pages,
# which grow with the data ingested and are the kernel's to drop).
rss_mb() { awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {printf "%.1f %.1f", a / 1024, f / 1024}' "/proc/$PID/status"; }

rounds=$((MINUTES * 60 / ROUND))
[ "$rounds" -ge 2 ] || rounds=2
echo "soak: $rounds rounds of ${ROUND} s against $ADDR (patrond pid $PID)"
printf '%5s %8s %9s %8s %9s %9s\n' round qps p99_ms errors anon_mb lmdb_mb
r=1
while [ $r -le $rounds ]; do
    if [ $r -eq $((rounds / 2 + 1)) ]; then
        # Halfway: retrain on everything ingested so far and swap it in.
        "$BUILD/server/patron" train --data "$W/db" --threads 1 >/dev/null 2>&1 &&
            kill -HUP $PID
    fi
    "$BUILD/bench/loadgen_ingest" --addr "$ADDR" --streams 1 --events 20000 \
        --batch 200 --customers 10000 --items 20000 >/dev/null 2>&1 &
    ING=$!
    "$BUILD/bench/loadgen" --addr "$ADDR" --concurrency 2 --duration $ROUND \
        --customers 10000 --items 20000 --mix recommend=6,similar=1,rank=1,target=2 \
        --seed $r >"$W/round.$r" 2>&1 || true
    wait $ING || true
    qps=$(awk '/QPS/ {for (i = 1; i <= NF; i++) if ($i ~ /^QPS/) print $(i - 1)}' "$W/round.$r" | head -1)
    p99=$(awk '/^latency/ {for (i = 1; i <= NF; i++) if ($i == "p99") printf "%.2f", $(i + 1) / 1000}' "$W/round.$r")
    err=$(awk '/errors/ {for (i = 1; i <= NF; i++) if ($i ~ /^errors/) {v = $(i + 1); gsub(/[^0-9]/, "", v); print v}}' "$W/round.$r" | head -1)
    rss=$(rss_mb)
    echo "$rss" >>"$W/rss"
    printf '%5d %8s %9s %8s %9s %9s\n' $r "${qps:-?}" "${p99:-?}" "${err:-?}" $rss
    r=$((r + 1))
done
awk 'NR == 2 {first = $1} {last = $1; if ($1 > max) max = $1; file = $2}
     END {printf "anonymous memory after warm-up (round 2): %.1f MB, at the end: %.1f MB (%+.1f%%), peak %.1f MB; LMDB pages mapped at the end: %.1f MB\n",
                 first, last, 100 * (last - first) / first, max, file}' "$W/rss"
echo "events stored: $(du -m "$W/db/data.mdb" | cut -f1) MB data file"
grep -c "model version" "$W/log" | awk '{print "models loaded: " $1}'
kill -TERM $PID
wait $PID && echo "patrond exited 0 after SIGTERM"
