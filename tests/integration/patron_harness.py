"""Harness for Patron's integration tests: builds the Python message classes
from the .proto files at test time, starts/stops the real `patrond`, and
makes raw unary gRPC calls with python3-grpcio (no grpc_tools, no generated
stubs: only `protoc --python_out` message classes).

Nothing generated is kept: the protos are compiled into a temporary
directory that is removed at exit.
"""
import argparse
import atexit
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc  # noqa: F401  (a missing python3-grpcio must fail, not skip)

HEALTH_PROTO = "/usr/share/grpc-proto/grpc/health/v1/health.proto"
REFLECTION_PROTO = "/usr/share/grpc-proto/grpc/reflection/v1/reflection.proto"
RPC_TIMEOUT = 5.0  # seconds, on every call unless a test says otherwise

# Filled by configure().
BUILD_DIR = None
PATROND = None
PATRON = None
pb = None  # namespace with the generated modules, see _Messages


class _Messages:
    """The generated modules: pb.common, pb.events, pb.admin, pb.rec, pb.health, ..."""


def configure(build_dir, proto_dir, patron=None, patrond=None):
    """Compiles the protos and locates the binaries. Raises on any problem."""
    global BUILD_DIR, PATROND, PATRON, pb
    BUILD_DIR = os.path.abspath(build_dir)
    PATROND = patrond or os.path.join(BUILD_DIR, "server", "patrond")
    PATRON = patron or os.path.join(BUILD_DIR, "server", "patron")
    if not os.access(PATROND, os.X_OK):
        raise RuntimeError("patrond not found at %s (build the patrond target)" % PATROND)
    protoc = shutil.which("protoc")
    if not protoc:
        raise RuntimeError("protoc not found on PATH")
    gen = tempfile.mkdtemp(prefix="patron-it-pb-")
    atexit.register(shutil.rmtree, gen, True)
    protos = sorted(
        os.path.join("patron", "v1", f)
        for f in os.listdir(os.path.join(proto_dir, "patron", "v1"))
        if f.endswith(".proto"))
    subprocess.run([protoc, "-I", proto_dir, "--python_out", gen] + protos, check=True)
    # The health proto lives under grpc/health/v1, but a generated package
    # named `grpc` would shadow grpcio itself: compile a copy at top level
    # (the proto package, and so the wire names, stay grpc.health.v1).
    hdir = os.path.join(gen, "_health")
    os.mkdir(hdir)
    shutil.copy(HEALTH_PROTO, os.path.join(hdir, "patron_it_health.proto"))
    shutil.copy(REFLECTION_PROTO, os.path.join(hdir, "patron_it_reflection.proto"))
    subprocess.run([protoc, "-I", hdir, "--python_out", gen, "patron_it_health.proto",
                    "patron_it_reflection.proto"], check=True)
    sys.path.insert(0, gen)
    m = _Messages()
    m.common = importlib.import_module("patron.v1.common_pb2")
    m.events = importlib.import_module("patron.v1.events_pb2")
    m.admin = importlib.import_module("patron.v1.admin_pb2")
    m.rec = importlib.import_module("patron.v1.recommender_pb2")
    m.profiles = importlib.import_module("patron.v1.profiles_pb2")
    m.coupons = importlib.import_module("patron.v1.coupons_pb2")
    m.experiments = importlib.import_module("patron.v1.experiments_pb2")
    m.health = importlib.import_module("patron_it_health_pb2")
    m.reflection = importlib.import_module("patron_it_reflection_pb2")
    pb = m


# ---- processes -------------------------------------------------------------------

def wait_until(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value; returns it or raises."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def run_patron(*args, timeout=30):
    """Runs the `patron` CLI; returns CompletedProcess, raises if it fails."""
    if not os.access(PATRON, os.X_OK):
        raise AssertionError("patron CLI not found at %s (build the patron target)" % PATRON)
    p = subprocess.run([PATRON] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("patron %s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
    return p


def train(data_dir, iterations=10, factors=16, seed=7):
    return run_patron("train", "--data", data_dir, "--iterations", iterations,
                      "--factors", factors, "--seed", seed, "--threads", 2)


_STARTS = 0


class Server:
    """One patrond process on 127.0.0.1:<ephemeral> with a channel to it."""

    def __init__(self, data_dir, workdir, threads=2, poll_seconds=0, drain_ms=5000,
                 extra_args=(), tls_ca=None, token=None):
        """extra_args go to patrond; tls_ca (a PEM file) makes the channel
        TLS; token is sent as a bearer token with every call."""
        self.extra_args = list(extra_args)
        self.tls_ca = tls_ca
        self.token = token
        self.data_dir = data_dir
        self.workdir = workdir
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.drain_ms = drain_ms
        self.proc = None
        self.channel = None
        self.port = None
        self.starts = 0

    # -- lifecycle

    def start(self, timeout=10):
        global _STARTS
        self.starts += 1
        _STARTS += 1  # unique names even when servers share a workdir
        port_file = os.path.join(self.workdir, "port.%d" % _STARTS)
        self.log_path = os.path.join(self.workdir, "patrond.%d.log" % _STARTS)
        if os.path.exists(port_file):
            os.unlink(port_file)
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [PATROND, "--data", self.data_dir, "--listen", "127.0.0.1:0",
                 "--port-file", port_file, "--threads", str(self.threads),
                 "--poll-seconds", str(self.poll_seconds),
                 "--drain-ms", str(self.drain_ms)] + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("patrond exited with %s during start-up\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            try:
                with open(port_file) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                return None

        self.port = wait_until(ready, timeout, what="patrond's port file")
        self.addr = "127.0.0.1:%d" % self.port
        self.channel = self.new_channel()
        grpc.channel_ready_future(self.channel).result(timeout=timeout)
        return self

    def new_channel(self, tls_ca=None):
        # Loopback only; no proxies from the environment.
        options = [("grpc.enable_http_proxy", 0)]
        ca = tls_ca or self.tls_ca
        if ca:
            with open(ca, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
            return grpc.secure_channel(self.addr, creds, options=options)
        return grpc.insecure_channel(self.addr, options=options)

    def close_channel(self):
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit code."""
        self.close_channel()
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        """SIGKILL (idempotent); used by tearDown and the durability test."""
        self.close_channel()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    # -- calls

    def call(self, path, request, response_cls, timeout=RPC_TIMEOUT, channel=None,
             token=None):
        """Unary call; returns the response or raises grpc.RpcError. token
        (default: the server's) is sent as "authorization: Bearer ..."."""
        ch = channel or self.channel
        fn = ch.unary_unary(path,
                            request_serializer=lambda m: m.SerializeToString(),
                            response_deserializer=response_cls.FromString)
        token = token or self.token
        md = [("authorization", "Bearer " + token)] if token else None
        return fn(request, timeout=timeout, metadata=md)

    def call_raw(self, path, body, timeout=RPC_TIMEOUT):
        """Unary call with raw request bytes; returns raw response bytes."""
        fn = self.channel.unary_unary(path, request_serializer=None,
                                      response_deserializer=None)
        return fn(body, timeout=timeout)

    # Typed shortcuts.
    def health(self, service="", **kw):
        return self.call("/grpc.health.v1.Health/Check",
                         pb.health.HealthCheckRequest(service=service),
                         pb.health.HealthCheckResponse, **kw)

    def recommend(self, customer_id, k, include_purchased=False, **kw):
        return self.call("/patron.v1.Recommender/Recommend",
                         pb.rec.RecommendRequest(customer_id=customer_id, k=k,
                                                 include_purchased=include_purchased),
                         pb.rec.RecommendResponse, **kw)

    def record_events(self, events, **kw):
        return self.call("/patron.v1.Events/RecordEvents",
                         pb.events.RecordEventsRequest(events=events),
                         pb.events.RecordEventsResponse, **kw)

    def upsert_items(self, items, **kw):
        return self.call("/patron.v1.Admin/UpsertItems",
                         pb.admin.UpsertItemsRequest(items=items),
                         pb.admin.UpsertItemsResponse, **kw)

    def model_info(self, **kw):
        return self.call("/patron.v1.Admin/GetModelInfo",
                         pb.admin.GetModelInfoRequest(), pb.admin.ModelInfo, **kw)

    def reload_model(self, **kw):
        return self.call("/patron.v1.Admin/ReloadModel",
                         pb.admin.ReloadModelRequest(), pb.admin.ModelInfo, **kw)


def rpc_error(fn, *args, **kw):
    """Calls fn and returns the grpc.RpcError it raises (fails if none)."""
    try:
        fn(*args, **kw)
    except grpc.RpcError as e:
        return e
    raise AssertionError("expected an RPC error, the call succeeded")


def run_suite(description, label):
    """The command line every suite shares: --build/--proto (and optional
    binaries), then unittest's own arguments. Exits 0 only if all passed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--build", required=True, help="CMake build directory")
    ap.add_argument("--proto", required=True, help="the repository's proto directory")
    ap.add_argument("--patron", help="patron CLI (default BUILD/server/patron)")
    ap.add_argument("--patrond", help="patrond (default BUILD/server/patrond)")
    args, rest = ap.parse_known_args()
    configure(args.build, args.proto, patron=args.patron, patrond=args.patrond)
    t0 = time.monotonic()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    sys.stderr.write("%s: %.1f s\n" % (label, time.monotonic() - t0))
    sys.exit(0 if prog.result.wasSuccessful() else 1)
