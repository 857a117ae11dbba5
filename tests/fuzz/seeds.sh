#!/bin/sh
# Usage: tests/fuzz/seeds.sh BUILD_DIR
# Regenerates the checked-in seed corpus (tests/fuzz/corpus/) from the
# integration tests, with a normal build in BUILD_DIR:
#  1. runs the integration suites with PATRON_FUZZ_SEEDS set, so
#     patron_harness.py writes every request they send (by method);
#  2. seeds.py keeps a few per method (corpus/requests/<method>/);
#  3. replays those through the handler driver on a kept store
#     (PATRON_FUZZ_WORKDIR) and keeps a few stored records per kind from it
#     (corpus/records/<kind>/);
#  4. writes records of the trigger tables, which that store never holds
#     (the fixture defines no trigger rules), and items with loyalty terms
#     (the fixture's have none), from their protos.
# Regression inputs (corpus/*/<target>/crash-* and leak-*) are kept; the
# rest is replaced.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/patron-seeds-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for suite in recommend catalog_models events profiles_erasure experiments admin_ops coupons points \
        health_logs; do
    echo "seeds: integration_$suite"
    PATRON_FUZZ_SEEDS="$tmp/raw" /usr/bin/python3 "$src/tests/integration/test_$suite.py" \
        --build "$build" --proto "$src/proto" >"$tmp/$suite.log" 2>&1 ||
        { tail -20 "$tmp/$suite.log"; echo "seeds: integration_$suite failed"; exit 1; }
done

for kind in requests records; do
    find "$here/corpus/$kind" -type f ! -name 'crash-*' ! -name 'leak-*' -delete 2>/dev/null ||
        true
done
# methods patrond does not serve (calls testing UNIMPLEMENTED) seed nothing
for d in "$tmp/raw"/*; do
    "$build/tests/fuzz/fuzz_decode_replay" --list | grep -qx "$(basename "$d")" || rm -rf "$d"
done
python3 "$here/seeds.py" requests "$tmp/raw" "$here/corpus/requests"
PATRON_FUZZ_WORKDIR="$tmp/store" "$build/tests/fuzz/fuzz_handlers_replay" \
    "$here/corpus/requests" >/dev/null 2>"$tmp/replay.log" ||
    { tail -20 "$tmp/replay.log"; exit 1; }
mdb_dump -a "$tmp/store" >"$tmp/store.dump"
python3 "$here/seeds.py" records "$tmp/store.dump" "$here/corpus/records"
python3 "$here/seeds.py" triggers "$src/proto" "$here/corpus/records"
python3 "$here/seeds.py" items "$src/proto" "$here/corpus/records"
