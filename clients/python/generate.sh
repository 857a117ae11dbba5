#!/bin/sh
# generate.sh OUT_DIR - Python message classes and gRPC stubs for the
# Patron API and the standard health service, with Debian's protoc
# (protobuf-compiler) and gRPC Python plugin (protobuf-compiler-grpc), whose
# output matches Debian's python3-protobuf and python3-grpcio. Exit 77 when
# one is missing (scripts/install-deps.sh installs them).
#
#   patron/v1/*_pb2.py, *_pb2_grpc.py   from proto/patron/v1
#   grpc_health/v1/health_pb2*.py       grpc.health.v1 (the layout of PyPI's
#                                       grpcio-health-checking: a generated
#                                       grpc/ package would hide grpcio's)
set -eu
OUT=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PLUGIN=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}
HEALTH=${HEALTH_PROTO:-/usr/share/grpc-proto/grpc/health/v1/health.proto}
for f in protoc "$PLUGIN" "$HEALTH"; do
    command -v "$f" >/dev/null 2>&1 || [ -e "$f" ] || {
        echo "SKIP: $f missing (apt-get install protobuf-compiler protobuf-compiler-grpc grpc-proto)"
        exit 77
    }
done
mkdir -p "$OUT/grpc_health/v1" "$OUT/.health/grpc_health/v1"
cp "$HEALTH" "$OUT/.health/grpc_health/v1/health.proto"
protoc -I "$SRC/proto" --python_out="$OUT" --grpc_python_out="$OUT" \
    --plugin=protoc-gen-grpc_python="$PLUGIN" "$SRC"/proto/patron/v1/*.proto
protoc -I "$OUT/.health" --python_out="$OUT" --grpc_python_out="$OUT" \
    --plugin=protoc-gen-grpc_python="$PLUGIN" "$OUT/.health/grpc_health/v1/health.proto"
rm -rf "$OUT/.health"
