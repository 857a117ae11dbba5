#!/bin/sh
# The fuzz drivers (tests/fuzz/) at length: every target of every driver
# (each method's decoder, each method's handler, each kind of stored
# record) fuzzed on its own (PATRON_FUZZ_ONLY) for RUNS inputs, starting
# from its seeds, under ASan+UBSan. Prints one row per target: inputs run
# (counted by the driver), inputs its code accepted, execs/s, and crashes
# (a crash, leak, sanitizer report, invariant, timeout or OOM stops that
# target's run; its reproducer is kept under $OUT).
#
# Usage: bench/fuzz.sh [FUZZ_BUILD_DIR]    (default build-fuzz: `make build-fuzz`)
# Environment: RUNS (default 1000000), DRIVERS (default "records decode
# handlers"), ONLY (a space-separated list of targets; default all),
# RUNS_handlers (RUNS for the handler driver only), MAX_LEN (4096),
# OUT (where reproducers and logs go; default a temp dir, printed).
set -eu
BUILD=${1:-build-fuzz}
RUNS=${RUNS:-1000000}
DRIVERS=${DRIVERS:-"records decode handlers"}
MAX_LEN=${MAX_LEN:-4096}
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/patron-fuzzbench-XXXXXX")}
mkdir -p "$OUT"

seeds_of() {
    case $1 in records) echo "$SRC/tests/fuzz/corpus/records" ;;
               *) echo "$SRC/tests/fuzz/corpus/requests" ;; esac
}

printf '%-9s %-62s %10s %10s %8s %7s\n' driver target inputs accepted execs/s crashes
for d in $DRIVERS; do
    fuzzer="$BUILD/tests/fuzz/fuzz_$d"
    replay="$BUILD/tests/fuzz/fuzz_${d}_replay"
    [ -x "$fuzzer" ] || { echo "no $fuzzer: build with make build-fuzz" >&2; exit 2; }
    runs=$RUNS
    [ "$d" = handlers ] && runs=${RUNS_handlers:-$RUNS}
    for t in $("$replay" --list); do
        if [ -n "${ONLY:-}" ]; then
            case " $ONLY " in *" $t "*) ;; *) continue ;; esac
        fi
        w="$OUT/$d/$t"
        mkdir -p "$w/seeds" "$w/artifacts"
        [ -d "$(seeds_of "$d")/$t" ] && ln -sfn "$(seeds_of "$d")/$t" "$w/seeds/$t"
        rm -rf "$w/corpus"
        "$replay" --emit "$w/corpus" "$w/seeds" >/dev/null 2>&1
        start=$(date +%s.%N)
        crashes=0
        # -runs counts the empty input libFuzzer tries first: one more
        PATRON_FUZZ_ONLY=$t "$fuzzer" "$w/corpus" -runs=$((runs + 1)) -max_len="$MAX_LEN" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$w/artifacts/" >"$w/log" 2>&1 || crashes=1
        end=$(date +%s.%N)
        line=$(grep "^fuzz-stats $t " "$w/log" | tail -1)
        inputs=$(echo "$line" | awk '{print $3}')
        ok=$(echo "$line" | awk '{print $4}')
        rate=$(awk -v n="${inputs:-0}" -v a="$start" -v b="$end" \
            'BEGIN { printf "%.0f", (b > a) ? n / (b - a) : 0 }')
        printf '%-9s %-62s %10s %10s %8s %7s\n' "$d" "$t" "${inputs:-0}" "${ok:-0}" \
            "$rate" "$crashes"
        [ "$crashes" -eq 0 ] || grep -m3 "ERROR\|runtime error\|invariant\|Test unit" "$w/log" >&2
        rm -rf "$w/corpus"
    done
done
echo "logs and reproducers: $OUT"
