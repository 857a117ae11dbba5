#!/bin/sh
# patron recommend-batch over a whole audience (issue 16: 100,000 customers
# in under a minute): a shopsim shop of CUSTOMERS simulated customers (the
# default 111,000 leaves about 100,000 with events in the store) and 20,000
# items, trained, served by one patrond (2 threads); the audience is every
# stored customer (SelectAudience with an empty expression), k = 10, CSV to
# a file; the time includes selecting the audience.
# Runs --workers 1 then --workers 4 (the default) in the same run, and
# prints customers/s, rows and the ratio.
# Usage: bench/recommend_batch.sh BUILD_DIR [CUSTOMERS]
set -eu
BUILD=${1:-build}
CUSTOMERS=${2:-111000}
W=$(mktemp -d /tmp/patron-batch-XXXXXX)
PID=
trap 'if [ -n "$PID" ]; then kill $PID 2>/dev/null || true; fi; rm -rf "$W"' EXIT

"$BUILD/bench/shopsim" --out "$W/sample" --items 20000 --customers "$CUSTOMERS" --days 90 >/dev/null
"$BUILD/server/patron" import --data "$W/db" --items "$W/sample/items.csv" \
    --events "$W/sample/events.csv" >/dev/null
"$BUILD/server/patron" train --data "$W/db" --threads 2 | tail -1
"$BUILD/server/patrond" --data "$W/db" --listen 127.0.0.1:0 --port-file "$W/port" \
    --threads 2 2>"$W/log" &
PID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ADDR=127.0.0.1:$(cat "$W/port")

for workers in 1 4; do
    start=$(date +%s.%N)
    "$BUILD/server/patron" recommend-batch --addr "$ADDR" --expr "" -k 10 \
        --workers $workers >"$W/rows.$workers.csv" 2>"$W/err.$workers"
    end=$(date +%s.%N)
    rows=$(($(wc -l <"$W/rows.$workers.csv") - 1))
    n=$(sed -n 's/^recommend-batch: \([0-9]*\) of .*/\1/p' "$W/err.$workers" | tail -1)
    echo "$workers $start $end $rows $n" >>"$W/legs"
    tail -1 "$W/err.$workers"
done
awk '
    { s[$1] = $3 - $2; r[$1] = $4; n[$1] = $5 }
    END {
        printf "workers 1: %d customers in %.1f s, %.0f customers/s, %d rows\n", n[1], s[1], n[1] / s[1], r[1]
        printf "workers 4: %d customers in %.1f s, %.0f customers/s, %d rows\n", n[4], s[4], n[4] / s[4], r[4]
        printf "ratio 4/1: %.2f\n", s[1] / s[4]
    }' "$W/legs"
kill -TERM $PID
wait $PID || true
PID=
