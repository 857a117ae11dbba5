#!/bin/sh
# build.sh OUT_DIR - builds the TypeScript example in OUT_DIR (a copy, so a
# build directory can hold it): `npm ci` from the lockfile, only when the
# lockfile changed since the last install (node_modules is the cache),
# then `npm run gen` (types from the .proto files) and `npm run build`
# (tsc). Run it with: PATRON_PROTO_DIR=proto node OUT_DIR/dist/patron_example.js
# Exit 77 when node or npm is missing (scripts/install-deps.sh installs them).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "SKIP: $tool missing (apt-get install nodejs npm)"
        exit 77
    }
done
mkdir -p "$1/src"
OUT=$(cd "$1" && pwd)
cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/tsconfig.json" "$OUT/"
cp "$HERE/src/patron_example.ts" "$OUT/src/"
cd "$OUT"
if ! cmp -s package-lock.json node_modules/.patron-lock 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.patron-lock
fi
rm -rf src/gen dist
PATRON_PROTO_DIR="$SRC/proto" npm run --silent gen >/dev/null
npm run --silent build
echo "built $OUT/dist/patron_example.js"
