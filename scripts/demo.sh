#!/bin/sh
# The main job end to end: simulate a shop, import it, train, serve over gRPC
# and ask for recommendations. Usage: scripts/demo.sh BUILD_DIR
set -eu
BUILD=${1:-build}
BIN="$BUILD/server"
DEMO=demo-data
rm -rf "$DEMO"
mkdir -p "$DEMO"

echo "== 1. simulate a shop (deterministic, seed 42)"
"$BUILD/bench/shopsim" --out "$DEMO/sample"

echo "== 2. import items and events into LMDB"
"$BIN/patron" import --data "$DEMO/db" --items "$DEMO/sample/items.csv" \
    --events "$DEMO/sample/events.csv"
# the members' signups, check-ins, reviews and shares: they earn points only
"$BIN/patron" import --data "$DEMO/db" --events "$DEMO/sample/programme_events.csv"

echo "== 3. train implicit ALS and publish model version 1"
"$BIN/patron" train --data "$DEMO/db"

echo "== 4. serve on 127.0.0.1 (ephemeral port), with the loyalty programme of deploy/programme.example"
"$BIN/patrond" --data "$DEMO/db" --listen 127.0.0.1:0 --port-file "$DEMO/port" \
    --profiles deploy/programme.example 2>"$DEMO/patrond.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
i=0
while [ ! -s "$DEMO/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ADDR="127.0.0.1:$(cat "$DEMO/port")"
"$BIN/patron" health --addr "$ADDR"
"$BIN/patron" model-info --addr "$ADDR"

echo "== 5. recommendations over gRPC"
# Two of the most active customers, a light one, and one the shop never saw.
# Beside each list, the categories the customer actually bought from, read
# straight from the CSV files, so the answers can be judged at a glance.
history() {
    awk -v who="$1" '
        function csv(line, f,   n, i, c, q, cur) {
            n = 0; cur = ""; q = 0
            for (i = 1; i <= length(line); i++) {
                c = substr(line, i, 1)
                if (q && c == "\"" && substr(line, i + 1, 1) == "\"") { cur = cur c; i++ }
                else if (c == "\"") q = !q
                else if (c == "," && !q) { f[++n] = cur; cur = "" }
                else cur = cur c
            }
            f[++n] = cur
            return n
        }
        FNR == 1 { next }
        FILENAME ~ /items/ { csv($0, f); cat[f[1]] = f[3]; next }
        { csv($0, f) }
        f[2] == who && f[4] == "purchase" { n[cat[f[3]]]++; total++ }
        END {
            if (!total) { print "  history: no purchases"; exit }
            printf "  history: %d purchases:", total
            for (c in n) printf " %s %d;", c, n[c]
            printf "\n"
        }' "$DEMO/sample/items.csv" "$DEMO/sample/events.csv"
}
for user in $(cut -d, -f2 "$DEMO/sample/events.csv" | tail -n +2 | sort | uniq -c |
              sort -rn | awk 'NR==1 || NR==2 || NR==200 {print $2}') new-visitor-1; do
    "$BIN/patron" recommend --addr "$ADDR" --user "$user" -k 5
    history "$user"
    [ "$user" = new-visitor-1 ] || last_known=$user
done
echo "-- $last_known again, with variety: at most 2 per category, diversity 0.3"
"$BIN/patron" recommend --addr "$ADDR" --user "$last_known" -k 5 --max-per-category 2 --diversity 0.3

echo "== 6. one member's programme view on the simulated year's last day"
# The shop's data ends with 2024, so the view is as of then. A tier perk is an
# entitlement: free shipping every month for gold and platinum members,
# granted whatever the uplift model predicts.
AS_OF=2024-12-31T12:00:00Z
"$BIN/patron" coupon upsert --addr "$ADDR" --id gold-shipping --campaign tier-perks \
    --kind free-shipping --benefit shipping,amount=6 --budget 20000 \
    --from 2024-01-01T00:00:00Z --until 2026-01-01T00:00:00Z --per-customer 24 \
    --tiers gold,platinum --guaranteed month
member=$(cut -d, -f2 "$DEMO/sample/events.csv" | tail -n +2 | sort | uniq -c | sort -rn |
         awk 'NR==1 {print $2}')
echo "-- $member: tier, progress and points"
"$BIN/patron" profile --addr "$ADDR" --user "$member" --as-of "$AS_OF"
echo "-- $member: the ledger's last rows"
"$BIN/patron" points --addr "$ADDR" --user "$member" --as-of "$AS_OF" --tail 8
echo "-- $member: entitlements beside the targeted coupon decision"
"$BIN/patron" coupon target --addr "$ADDR" --user "$member" --as-of "$AS_OF" \
    --request-id demo-1

echo "== 7. stop the server (SIGTERM drains in-flight calls)"
kill -TERM $PID
wait $PID
trap - EXIT
cat "$DEMO/patrond.log"
echo "demo done: data in $DEMO/, server log above"
