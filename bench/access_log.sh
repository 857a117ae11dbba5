#!/bin/sh
# Cost of the access log (--access-log, issue 13): one shop and model as in
# bench/serving.sh (100,000 items, 20,000 customers, exact search), served
# by patrond without and with `--access-log --log-format json` (lines to a
# file), alternated off/on/off/on in the same run so drift on a shared
# machine hits both; bench/loadgen drives Recommend k=20 with 4 connections
# for S seconds per leg. Prints each leg, then QPS and p50/p99 per setting
# (mean of its legs) and the on/off ratios.
# Usage: bench/access_log.sh BUILD_DIR [SECONDS_PER_LEG]
set -eu
BUILD=${1:-build}
SECS=${2:-10}
W=$(mktemp -d /tmp/patron-accesslog-XXXXXX)
PID=
trap 'if [ -n "$PID" ]; then kill $PID 2>/dev/null || true; fi; rm -rf "$W"' EXIT

"$BUILD/bench/shopsim" --out "$W/sample" --items 100000 --customers 20000 --days 120
"$BUILD/server/patron" import --data "$W/db" --items "$W/sample/items.csv" \
    --events "$W/sample/events.csv" >/dev/null
"$BUILD/server/patron" train --data "$W/db" --threads 2 | tail -1

# leg NAME [patrond flags...]: one patrond, one loadgen run, its summary.
leg() {
    name=$1
    shift
    rm -f "$W/port"
    "$BUILD/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
        --threads 2 --ann-min-items 0 "$@" 2>"$W/log.$name" &
    PID=$!
    i=0
    while [ ! -s "$W/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    "$BUILD/bench/loadgen" --addr "127.0.0.1:$(cat "$W/port")" --concurrency 4 \
        --duration "$SECS" --customers 20000 --items 100000 --mix recommend=1 >"$W/out"
    kill -TERM $PID
    wait $PID
    PID=
    qps=$(sed -n 's/.*: \([0-9.]*\) QPS.*/\1/p' "$W/out")
    p50=$(sed -n 's/^latency us: p50 \([0-9]*\) .*/\1/p' "$W/out")
    p99=$(sed -n 's/^latency us: .* p99 \([0-9]*\) .*/\1/p' "$W/out")
    lines=$(grep -c '"msg":"access"' "$W/log.$name" || true)
    echo "$name $qps $p50 $p99 $lines" >>"$W/legs"
    printf '%-4s %8s QPS  p50 %6s us  p99 %6s us  access lines %s\n' "$name" "$qps" "$p50" \
        "$p99" "$lines"
}

echo "== Recommend k=20, exact search, 4 connections, ${SECS} s per leg"
leg off
leg on --access-log --log-format json
leg off
leg on --access-log --log-format json
awk '
    { n[$1]++; q[$1] += $2; a[$1] += $3; b[$1] += $4 }
    END {
        for (k in n) { q[k] /= n[k]; a[k] /= n[k]; b[k] /= n[k] }
        printf "without --access-log: %.0f QPS  p50 %.0f us  p99 %.0f us\n", q["off"], a["off"], b["off"]
        printf "with    --access-log: %.0f QPS  p50 %.0f us  p99 %.0f us\n", q["on"], a["on"], b["on"]
        printf "ratio on/off: QPS %.3f  p50 %.3f  p99 %.3f\n", q["on"] / q["off"], a["on"] / a["off"], b["on"] / b["off"]
    }' "$W/legs"
echo "== a logged line:"
grep -m1 '"msg":"access"' "$W/log.on"
