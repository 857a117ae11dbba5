#!/bin/sh
# Installs the Debian 12 packages Patron needs, only if some are missing.
set -eu
PKGS="gcc make cmake pkg-config libgrpc-dev protobuf-c-compiler libprotobuf-c-dev
liblmdb-dev libopenblas-dev zlib1g-dev grpc-proto protobuf-compiler python3 python3-grpcio
python3-protobuf lmdb-utils openssl libprotobuf-dev libjson-c-dev"
# patrond's admin HTTP listener, and Prometheus for its integration test
PKGS="$PKGS libmicrohttpd-dev prometheus"
# curl drives the HTTP/JSON integration test (tests/integration/test_http_json.py)
PKGS="$PKGS curl"
# Packaging tests: systemd-analyze verify (and man for its man: check),
# groff for the man pages, nginx for several replicas behind grpc_pass.
PKGS="$PKGS systemd man-db groff-base nginx-light"
# numpy trains the small ALS whose factors `patron import-model`'s integration
# test imports and checks against (tests/integration/test_import_model.py).
PKGS="$PKGS python3-numpy"
# `patron experiment report --html`'s test renders the page in headless chromium.
PKGS="$PKGS chromium"
# The fuzz build (make test-fuzz): clang with libFuzzer and the sanitizer runtimes.
PKGS="$PKGS clang-14 libclang-rt-14-dev"
# The client examples (clients/): Python stubs from Debian's gRPC plugin; Go
# offline from Debian's sources (protoc-gen-go is APIv2; naming golang-github-
# golang-protobuf-1-5-dev keeps apt from choosing 1.3 for grpc); PHP over the
# HTTP/JSON gateway.
PKGS="$PKGS protobuf-compiler-grpc golang-go protoc-gen-go protoc-gen-go-grpc
golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
php-cli php-curl"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
# buf (proto lint and breaking-change check) comes from npm (tools/package.json).
# Debian's nodejs and npm only when there is no npm at all: a NodeSource
# nodejs carries its own npm, which Debian's npm package would conflict with.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    echo "installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi
# npm tools, pinned by tools/package-lock.json, into tools/node_modules.
TOOLS="$(dirname "$0")/../tools"
if [ ! -x "$TOOLS/node_modules/.bin/buf" ]; then
    echo "installing: buf (npm ci in tools/)"
    npm ci --prefix "$TOOLS" --no-audit --no-fund --loglevel=error
fi
