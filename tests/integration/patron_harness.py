"""Harness for Patron's integration tests: builds the Python message classes
from the .proto files at test time, starts/stops the real `patrond`, and
makes raw unary gRPC calls with python3-grpcio (no grpc_tools, no generated
stubs: only `protoc --python_out` message classes).

The shared fixtures live here too: the shop (a catalog and customers with
clear tastes), a data dir trained once per process from it, and ServerTest,
the base class giving each test its own temp dir and patrond. A suite uses
them with `from patron_harness import setUpModule, tearDownModule`.

Nothing generated is kept: the protos are compiled into a temporary
directory that is removed at exit.
"""
import argparse
import atexit
import importlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import grpc  # noqa: F401
except ImportError as e:  # CI installs python3-grpcio: missing means FAIL, not skip
    sys.stderr.write("FAIL: /usr/bin/python3 lacks grpc (%s): apt-get install python3-grpcio\n" % e)
    sys.exit(1)

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
    m.triggers = importlib.import_module("patron.v1.triggers_pb2")
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


# The patronds a suite started and has not stopped: killed when the test
# process exits, also on SIGTERM (ctest's timeout), so a failed or
# timed-out suite leaves none behind. (A parent-death signal does not
# survive patrond's exec on these machines, and setting it needs a
# preexec_fn, which makes Python fork() a process running gRPC's threads:
# the client crashed with SIGSEGV now and then in that fork.)
_RUNNING = set()


def _kill_running():
    for srv in list(_RUNNING):
        srv.kill()


def _exit_on_sigterm(signum, frame):
    sys.exit(128 + signum)  # runs atexit


atexit.register(_kill_running)
signal.signal(signal.SIGTERM, _exit_on_sigterm)


class Server:
    """One patrond process on 127.0.0.1:<ephemeral> with a channel to it."""

    def __init__(self, data_dir, workdir, threads=2, poll_seconds=0, drain_ms=5000,
                 extra_args=(), tls_ca=None, token=None, prefix=(),
                 tls_client=None, init=True, env=None, listen="127.0.0.1:0"):
        """extra_args go to patrond; init passes --init (create the store
        when data_dir holds none; patrond refuses such a dir without it); tls_ca (a PEM file) makes the channel
        TLS; tls_client (certificate, key: PEM files) is the channel's client
        certificate for mutual TLS; token is sent as a bearer token with
        every call; prefix is a command that execs patrond with its arguments
        (e.g. prlimit to lower its RLIMIT_NOFILE); env (a dict) is added to patrond's environment;
        listen is --listen (a fixed port for a client started first)."""
        self.listen = listen
        self.prefix = list(prefix)
        self.env = dict(os.environ, **env) if env else None
        self.extra_args = list(extra_args) + (["--init"] if init else [])
        self.tls_ca = tls_ca
        self.tls_client = tls_client
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
                self.prefix + [PATROND, "--data", self.data_dir, "--listen", self.listen,
                 "--port-file", port_file, "--threads", str(self.threads),
                 "--poll-seconds", str(self.poll_seconds),
                 "--drain-ms", str(self.drain_ms)] + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env)
        finally:
            log.close()
        _RUNNING.add(self)

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

    def new_channel(self, tls_ca=None, tls_client=None):
        # Loopback only; no proxies from the environment.
        options = [("grpc.enable_http_proxy", 0)]
        ca = tls_ca or self.tls_ca
        client = tls_client or self.tls_client
        if ca:
            with open(ca, "rb") as f:
                roots = f.read()
            cert = key = None
            if client:
                with open(client[0], "rb") as f:
                    cert = f.read()
                with open(client[1], "rb") as f:
                    key = f.read()
            creds = grpc.ssl_channel_credentials(root_certificates=roots, private_key=key,
                                                 certificate_chain=cert)
            return _seed_capture(grpc.secure_channel(self.addr, creds, options=options))
        return _seed_capture(grpc.insecure_channel(self.addr, options=options))

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
        code = self.proc.wait(timeout=timeout)
        _RUNNING.discard(self)
        return code

    def kill(self):
        """SIGKILL (idempotent); used by tearDown and the durability test."""
        self.close_channel()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        _RUNNING.discard(self)

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
        """The served model's ModelInfo (GetModelInfoResponse.model)."""
        return self.call("/patron.v1.Admin/GetModelInfo",
                         pb.admin.GetModelInfoRequest(), pb.admin.GetModelInfoResponse,
                         **kw).model

    def reload_model(self, **kw):
        """ReloadModel; the ModelInfo of the version now served."""
        return self.call("/patron.v1.Admin/ReloadModel",
                         pb.admin.ReloadModelRequest(), pb.admin.ReloadModelResponse,
                         **kw).model


# ---- seed capture for the fuzzers (tests/fuzz/seeds.sh) ------------------------------

SEED_DIR = os.environ.get("PATRON_FUZZ_SEEDS")


def _seed_bytes(req):
    return req if isinstance(req, bytes) else req.SerializeToString()


def _seed_write(method, data):
    """Keeps one request (or a stream's frames) as SEED_DIR/<pkg.Service.Method>/<hash>."""
    import hashlib
    d = os.path.join(SEED_DIR, method.lstrip("/").replace("/", "."))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


class _SeedCapture(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Writes every request a test sends, as the fuzz drivers read them: a
    unary request's bytes, or a client stream's messages each behind its
    varint length (tests/fuzz/fuzz_common.h)."""

    def intercept_unary_unary(self, cont, details, request):
        if not isinstance(request, bytes):  # raw bytes: a test's deliberately bad body
            _seed_write(details.method, _seed_bytes(request))
        return cont(details, request)

    intercept_unary_stream = intercept_unary_unary

    def _frames(self, method, it):
        frames = []
        try:
            for req in it:
                b = _seed_bytes(req)
                frames.append(_varint(len(b)) + b)
                yield req
        finally:
            _seed_write(method, b"".join(frames))

    def intercept_stream_unary(self, cont, details, it):
        return cont(details, self._frames(details.method, it))

    intercept_stream_stream = intercept_stream_unary


def _seed_capture(channel):
    return grpc.intercept_channel(channel, _SeedCapture()) if SEED_DIR else channel


def rpc_error(fn, *args, **kw):
    """Calls fn and returns the grpc.RpcError it raises (fails if none)."""
    try:
        fn(*args, **kw)
    except grpc.RpcError as e:
        return e
    raise AssertionError("expected an RPC error, the call succeeded")


# ---- shared fixtures ---------------------------------------------------------------

SC = grpc.StatusCode
HEX32 = re.compile(r"^[0-9a-f]{32}$")

# ---- the shop: a catalog and customers with clear tastes ------------------------

BASE_MS = 1_700_000_000_000
# Customers per category: the flagship item (<cat>-00) of each category is
# bought by every customer of that category, so popularity is
# books-00 > garden-00 > kitchen-00 > toys-00 > everything else.
CATEGORIES = [("books", 16), ("garden", 10), ("kitchen", 8), ("toys", 6)]
ITEMS_PER_CATEGORY = 15
REFUNDER = "cust-01"  # buys one extra item and refunds it


def item_id(cat, j):
    return "%s-%02d" % (cat, j)


ALL_ITEMS = [item_id(c, j) for c, _ in CATEGORIES for j in range(ITEMS_PER_CATEGORY)]
CATALOG_SIZE = len(ALL_ITEMS)


def category_of(item):
    return item.rsplit("-", 1)[0]


class Shop:
    """Deterministic events; remembers each customer's taste and net purchases."""

    def __init__(self, seed=20240601):
        rng = random.Random(seed)
        self.events = []
        self.taste = {}    # customer -> category
        self.bought = {}   # customer -> set of items net of refunds
        self.refunded = {}  # customer -> item bought then refunded
        n = 0
        t = BASE_MS
        for cat, n_customers in CATEGORIES:
            for _ in range(n_customers):
                cust = "cust-%02d" % n
                n += 1
                self.taste[cust] = cat
                others = rng.sample(range(1, ITEMS_PER_CATEGORY), 2)
                buys = [item_id(cat, 0)] + [item_id(cat, j) for j in others]
                views = [item_id(cat, j) for j in rng.sample(range(1, ITEMS_PER_CATEGORY), 4)]
                for it in views:
                    t += 60_000
                    self.add(cust, it, pb.common.EVENT_TYPE_VIEW, t)
                for it in buys:
                    t += 60_000
                    self.add(cust, it, pb.common.EVENT_TYPE_PURCHASE, t, price=12.5)
                self.bought[cust] = set(buys)
                if cust == REFUNDER:
                    extra = next(item_id(cat, j) for j in range(1, ITEMS_PER_CATEGORY)
                                 if item_id(cat, j) not in self.bought[cust])
                    t += 60_000
                    self.add(cust, extra, pb.common.EVENT_TYPE_PURCHASE, t, price=12.5)
                    t += 60_000
                    self.add(cust, extra, pb.common.EVENT_TYPE_REFUND, t, price=12.5)
                    self.refunded[cust] = extra

    def add(self, cust, item, etype, t, price=0.0):
        self.events.append(pb.common.Event(
            event_id="ev-%05d" % len(self.events), customer_id=cust, item_id=item,
            type=etype, time_unix_ms=t, quantity=1, unit_price=price))

    @staticmethod
    def catalog():
        rng = random.Random(7)
        return [pb.common.Item(item_id=it, title="Item " + it, category=category_of(it),
                                 price=round(rng.uniform(2, 80), 2),
                                 unit_cost=1.0, in_stock=True)
                for it in ALL_ITEMS]


SHOP = None


def setup_through_api(test, srv):
    """UpsertItems the catalog and RecordEvents the shop's history, checking
    every acknowledgement. Returns nothing; the data is in srv's data dir."""
    r = srv.upsert_items(Shop.catalog())
    test.assertEqual((r.inserted, r.updated), (CATALOG_SIZE, 0))
    events = SHOP.events
    for i in range(0, len(events), 50):
        batch = events[i:i + 50]
        r = srv.record_events(batch)
        test.assertEqual((r.accepted, r.duplicates, r.rejected), (len(batch), 0, 0),
                         list(r.errors))


# ---- fixtures ----------------------------------------------------------------------

TMP_ROOT = None
_TRAINED = None  # data dir with the shop and model version 1, no server on it


def setUpModule():
    global TMP_ROOT, SHOP
    TMP_ROOT = tempfile.mkdtemp(prefix="patron-it-")
    SHOP = Shop()


def tearDownModule():
    shutil.rmtree(TMP_ROOT, ignore_errors=True)


def trained_data_dir():
    """Builds (once) a data dir through the API and trains model version 1."""
    global _TRAINED
    if _TRAINED is None:
        d = os.path.join(TMP_ROOT, "trained-fixture")
        os.mkdir(d)
        srv = Server(d, TMP_ROOT)
        try:
            srv.start()
            setup_through_api(unittest.TestCase(), srv)  # for its assertions
            code = srv.stop()
            if code != 0:
                raise AssertionError("patrond exited %s\n%s" % (code, srv.log_tail()))
        finally:
            srv.kill()
        train(d)
        _TRAINED = d
    return _TRAINED

class ServerTest(unittest.TestCase):
    """Each test gets a fresh temp dir and its own patrond (killed in tearDown)."""

    trained = False   # start from a copy of the trained fixture
    poll_seconds = 0  # models load only on start, SIGHUP or ReloadModel

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix=self._testMethodName[:40] + "-", dir=TMP_ROOT)
        self.data = os.path.join(self.dir, "data")
        if self.trained:
            os.mkdir(self.data)
            # Only data.mdb: the lock file belongs to a (stopped) process.
            shutil.copy(os.path.join(trained_data_dir(), "data.mdb"), self.data)
        self.srv = Server(self.data, self.dir, poll_seconds=self.poll_seconds,
                          **self.server_options())
        self.addCleanup(self._cleanup)
        self.srv.start()

    def server_options(self):
        """Extra Server() arguments (patrond flags, TLS, token)."""
        return {}

    def settings_options(self, text, name="settings.conf"):
        """server_options for a patrond reading the settings file (--profiles)
        whose content is text, written to the test's dir as name."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return {"extra_args": ["--profiles", path]}

    def assert_settings_refused(self, text, expected, name="bad.conf"):
        """A patrond given the settings file text (written as name) exits
        during start-up, and what it says contains expected (e.g.
        "bad.conf:2: trigger: unknown kind")."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        d = tempfile.mkdtemp(prefix="refused-", dir=self.dir)
        bad = Server(os.path.join(d, "data"), d, extra_args=["--profiles", path])
        with self.assertRaises(AssertionError) as ctx:
            bad.start()
        bad.kill()
        self.assertIn(expected, str(ctx.exception))

    def _cleanup(self):
        self.srv.kill()
        if self._failed():
            sys.stderr.write("\n--- patrond log (%s) ---\n%s\n" % (self.id(), self.srv.log_tail()))

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in result.failures + result.errors)

    # -- assertions

    def assertStatus(self, err, code, *details):
        self.assertIsInstance(err, grpc.RpcError)
        self.assertEqual(err.code(), code, err.details())
        for d in details:
            self.assertIn(d, err.details() or "")

    def assertServing(self, service, serving):
        want = (pb.health.HealthCheckResponse.SERVING if serving
                else pb.health.HealthCheckResponse.NOT_SERVING)
        got = self.srv.health(service).status
        self.assertEqual(got, want, "health of %r: %s" % (
            service, pb.health.HealthCheckResponse.ServingStatus.Name(got)))

    def assertPersonalized(self, resp, k, version=1, reason=None):
        self.assertEqual(len(resp.items), k)
        self.assertTrue(resp.personalized)
        self.assertEqual(resp.provenance.model_version, version)
        self.assertRegex(resp.provenance.request_id, HEX32)
        self.assertEqual({i.reason for i in resp.items},
                         {reason or pb.common.REASON_PERSONALIZED})
        ids = [i.item_id for i in resp.items]
        self.assertEqual(len(set(ids)), len(ids), "duplicate items: %s" % ids)
        scores = [i.score for i in resp.items]
        self.assertEqual(scores, sorted(scores, reverse=True), "not ordered by score")

    # -- calls

    def rec(self, **fields):
        return self.srv.call("/patron.v1.Recommender/Recommend",
                             pb.rec.RecommendRequest(**fields), pb.rec.RecommendResponse)


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
