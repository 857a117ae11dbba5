#!/bin/sh
# Usage: run.sh FUZZER REPLAY CORPUS_DIR SECONDS [libFuzzer flags...]
# Runs the libFuzzer program FUZZER on a copy of the named-target corpus in
# CORPUS_DIR (REPLAY --emit writes it in libFuzzer's form) for SECONDS
# seconds: fails on any crash, leak, sanitizer report, timeout (a hang) or
# out-of-memory, leaving the input in $PATRON_FUZZ_ARTIFACTS (default: a
# temp dir it names). New inputs found along the way are discarded.
set -eu
fuzzer=$1 replay=$2 corpus=$3 seconds=$4
shift 4
work=$(mktemp -d "${TMPDIR:-/tmp}/patron-fuzzrun-XXXXXX")
artifacts=${PATRON_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$artifacts"
trap 'rm -rf "$work/corpus"' EXIT
"$replay" --emit "$work/corpus" "$corpus" >/dev/null
status=0
"$fuzzer" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "run.sh: $fuzzer failed (exit $status); reproducer(s) in $artifacts:" >&2
    ls -l "$artifacts" >&2
    exit "$status"
fi
[ -n "${PATRON_FUZZ_ARTIFACTS:-}" ] || rm -rf "$work"
