#!/bin/sh
# build.sh OUT_DIR - builds OUT_DIR/patron-example offline from Debian's Go
# packages: protoc (protobuf-compiler), protoc-gen-go (APIv2),
# protoc-gen-go-grpc, golang-google-grpc-dev and golang-google-protobuf-dev
# under /usr/share/gocode, in GOPATH mode (Debian ships sources, not
# modules). The API's code is generated into OUT_DIR/gopath at its
# go_package path, github.com/patron/patron/gen/go/patron/v1. Exit 77 when a
# package is missing (scripts/install-deps.sh installs them).
set -eu
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "SKIP: $tool missing (apt-get install golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev)"
        exit 77
    }
done
[ -d /usr/share/gocode/src/google.golang.org/grpc ] || {
    echo "SKIP: /usr/share/gocode lacks google.golang.org/grpc (apt-get install golang-google-grpc-dev)"
    exit 77
}
rm -rf "$OUT/gopath"
mkdir -p "$OUT/gopath/src" "$OUT/cache"
protoc -I "$SRC/proto" --go_out="$OUT/gopath/src" --go-grpc_out="$OUT/gopath/src" \
    "$SRC"/proto/patron/v1/*.proto
cd "$HERE"
GO111MODULE=off GOPATH="$OUT/gopath:/usr/share/gocode" GOCACHE="$OUT/cache" GOFLAGS= \
    go build -o "$OUT/patron-example" .
echo "built $OUT/patron-example"
