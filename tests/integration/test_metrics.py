#!/usr/bin/python3
"""Integration tests of patrond's admin HTTP listener (--admin-listen):
/healthz, /readyz (503 before a model, 200 after), 404/405, the /metrics
exposition checked by value and by Prometheus' own `promtool check metrics`,
and a real Debian `prometheus` scraping it (up == 1, patron_rpc_calls_total
rising after calls, read back through its HTTP API).

    /usr/bin/python3 tests/integration/test_metrics.py --build BUILD_DIR \
        --proto proto [unittest args, e.g. -v or a test name]

HTTP is urllib's (no third-party client). Every wait is bounded; every
process (patrond, prometheus) is killed at the end of its test. A missing
prometheus or promtool fails the test (scripts/install-deps.sh installs
them); nothing skips.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, rpc_error, wait_until  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# Unbuffered proxies from the environment must not see loopback requests.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(port, path, method="GET", timeout=5):
    """(status, headers, body text) of one request to 127.0.0.1:port."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=b"x" if method in ("POST", "PUT") else None)
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def parse(text):
    """{(name, frozenset of (label, value)): value} of an exposition; checks
    that every sample's family was announced by # TYPE before it."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, "no # TYPE before %r" % line
        key = (name, frozenset(LABEL.findall(labels or "")))
        assert key not in samples, "duplicate series %r" % line
        samples[key] = float(value)
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def series(samples, name):
    """[(labels dict, value)] of every sample named name."""
    return [(dict(k[1]), v) for k, v in samples.items() if k[0] == name]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AdminTest(ServerTest):
    """A patrond with --admin-listen 127.0.0.1:0; self.admin is its port."""

    def server_options(self):
        self.admin_port_file = os.path.join(self.dir, "admin-port")
        return {"extra_args": ["--admin-listen", "127.0.0.1:0",
                               "--admin-port-file", self.admin_port_file]}

    def setUp(self):
        super().setUp()

        def port():
            try:
                with open(self.admin_port_file) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                return None
        self.admin = wait_until(port, 10, what="the admin port file")

    def metrics(self):
        status, headers, body = http(self.admin, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"], CONTENT_TYPE)
        return parse(body)

    def assertPromtoolAccepts(self):
        self.assertTrue(os.access(PROMTOOL, os.X_OK),
                        "%s missing: apt-get install prometheus" % PROMTOOL)
        text = http(self.admin, "/metrics")[2]
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout + p.stderr, "", "promtool lint findings")


class ProbeTests(AdminTest):
    """A data directory with no model yet."""

    def test_routes_and_probes_before_a_model(self):
        self.assertEqual(http(self.admin, "/healthz")[::2], (200, "ok\n"))
        status, _, body = http(self.admin, "/readyz")
        self.assertEqual((status, body), (503, "not ready: no model loaded\n"))
        self.assertEqual(http(self.admin, "/nope")[0], 404)
        self.assertEqual(http(self.admin, "/metrics/")[0], 404)
        status, headers, _ = http(self.admin, "/metrics", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        self.assertEqual(http(self.admin, "/healthz", method="HEAD")[::2], (200, ""))
        m = self.metrics()
        self.assertEqual(value(m, "patron_model_version"), 0)
        self.assertIsNone(value(m, "patron_model_age_seconds"))
        self.assertGreater(value(m, "patron_store_bytes_used"), 0)
        self.assertGreaterEqual(value(m, "patron_store_map_limit_bytes"),
                                value(m, "patron_store_map_bytes"))
        self.assertGreater(value(m, "process_open_fds"), 3)
        self.assertGreater(value(m, "process_resident_memory_bytes"), 1 << 20)
        self.assertLess(abs(value(m, "process_start_time_seconds") - time.time()), 600)
        (labels, one), = series(m, "patron_build_info")
        self.assertEqual(one, 1)
        self.assertRegex(labels["version"], r"^\d+\.\d+\.\d+$")
        self.assertRegex(labels["commit"], r"^[A-Za-z0-9._+-]+$")
        self.assertPromtoolAccepts()

    def test_ready_once_a_model_is_loaded_and_events_are_counted(self):
        h.setup_through_api(self, self.srv)
        self.assertEqual(http(self.admin, "/readyz")[0], 503)
        h.train(self.data)
        self.srv.reload_model()
        self.assertEqual(http(self.admin, "/readyz")[::2], (200, "ready\n"))
        m = self.metrics()
        self.assertEqual(value(m, "patron_model_version"), 1)
        self.assertEqual(value(m, "patron_model_items"), h.CATALOG_SIZE)
        self.assertGreaterEqual(value(m, "patron_model_age_seconds"), 0)
        by_type = {}
        for e in h.SHOP.events:
            t = h.pb.common.EventType.Name(e.type).replace("EVENT_TYPE_", "").lower()
            by_type[t] = by_type.get(t, 0) + 1
        for t in ("view", "cart", "purchase", "refund"):
            self.assertEqual(value(m, "patron_events_ingested_total", type=t),
                             by_type.get(t, 0), t)
        self.assertEqual(value(m, "patron_events_rejected_total"), 0)
        # One event dated 1970 and one duplicate: one rejected, nothing stored.
        bad = h.pb.common.Event(event_id="too-old", customer_id="c", item_id=h.ALL_ITEMS[0],
                                type=h.pb.common.EVENT_TYPE_VIEW, time_unix_ms=1000)
        r = self.srv.record_events([bad, h.SHOP.events[0]])
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, 1, 1))
        m2 = self.metrics()
        self.assertEqual(value(m2, "patron_events_rejected_total"), 1)
        self.assertEqual(value(m2, "patron_events_ingested_total", type="view"),
                         by_type.get("view", 0))
        self.assertPromtoolAccepts()


    def test_readyz_says_draining_while_in_flight_calls_finish(self):
        # A StreamEvents call the client keeps open holds the drain.
        release, sent = threading.Event(), threading.Event()

        def messages():
            yield h.pb.events.RecordEventsRequest(events=[])
            sent.set()
            release.wait(15)
        fn = self.srv.channel.stream_unary(
            "/patron.v1.Events/StreamEvents",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.events.RecordEventsResponse.FromString)
        call = fn.future(messages(), timeout=20)
        self.assertTrue(sent.wait(5))
        self.srv.signal(signal.SIGTERM)

        def draining():
            try:
                return http(self.admin, "/readyz")[::2] == (503, "not ready: draining\n")
            except OSError:
                return False
        wait_until(draining, 5, interval=0.02, what="/readyz: draining")
        self.assertEqual(http(self.admin, "/healthz")[0], 200)  # alive while draining
        release.set()
        call.exception(timeout=10)  # finished, one way or the other
        self.assertEqual(self.srv.proc.wait(timeout=15), 0, self.srv.log_tail())
        with self.assertRaises(OSError):  # the admin listener closed with patrond
            http(self.admin, "/healthz", timeout=2)


class CountingTests(AdminTest):
    trained = True

    def test_calls_by_code_and_latency_histogram(self):
        for i in range(7):
            self.srv.recommend("cust-%02d" % i, 5)
        self.assertStatus(rpc_error(self.srv.recommend, "cust-00", 100000), SC.INVALID_ARGUMENT)
        self.assertStatus(rpc_error(self.srv.call_raw, "/no.such.Service/Method", b""),
                          SC.UNIMPLEMENTED)
        m = self.metrics()
        rec = "/patron.v1.Recommender/Recommend"
        self.assertEqual(value(m, "patron_rpc_calls_total", method=rec, code="OK"), 7)
        self.assertEqual(value(m, "patron_rpc_calls_total", method=rec,
                               code="INVALID_ARGUMENT"), 1)
        self.assertEqual(value(m, "patron_rpc_calls_total", method="(unknown)",
                               code="UNIMPLEMENTED"), 1)
        self.assertEqual(value(m, "patron_rpc_calls_total",
                               method="/patron.v1.Admin/UpsertItems", code="OK"), 0)
        buckets = sorted((float(l["le"]), v) for l, v in series(
            m, "patron_rpc_duration_seconds_bucket") if l["method"] == rec)
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "buckets are cumulative")
        self.assertEqual(buckets[-1], (float("inf"), 8))
        self.assertEqual(value(m, "patron_rpc_duration_seconds_count", method=rec), 8)
        self.assertGreater(value(m, "patron_rpc_duration_seconds_sum", method=rec), 0)
        # The same bounds on every method, so replicas' buckets sum.
        les = {}
        for l, _ in series(m, "patron_rpc_duration_seconds_bucket"):
            les.setdefault(l["method"], set()).add(l["le"])
        self.assertEqual(len(set(map(frozenset, les.values()))), 1)
        self.assertEqual(len(les), len([1 for l, _ in series(
            m, "patron_rpc_duration_seconds_count")]))

    def test_coupon_decisions_budgets_and_exposures(self):
        X, C = h.pb.experiments, h.pb.coupons
        self.srv.call("/patron.v1.Experiments/CreateExperiment", X.CreateExperimentRequest(
            experiment=X.Experiment(
                experiment_id="blend-test", traffic_fraction=1.0,
                arms=[X.Arm(arm_id="control", weight=0.5, model_version=1),
                      X.Arm(arm_id="popular", weight=0.5, popularity_blend=1.0)])),
            X.CreateExperimentResponse)
        now = int(time.time() * 1000)
        coupon = C.Coupon(coupon_id="five-off", campaign_id="spring \"sale\"",
                          kind=C.COUPON_KIND_FIXED_AMOUNT,
                          benefits=[C.CouponBenefit(kind=C.BENEFIT_KIND_AMOUNT, amount=5)],
                          valid_from_unix_ms=now - 86_400_000,
                          valid_until_unix_ms=now + 86_400_000,
                          campaign_budget=250, per_customer_limit=1)
        self.srv.call("/patron.v1.Coupons/UpsertCoupon", C.UpsertCouponRequest(coupon=coupon),
                      C.UpsertCouponResponse)
        custs = sorted(h.SHOP.taste)[:10]
        for c in custs:
            self.srv.recommend(c, 3)
        for i, c in enumerate(custs[:4]):
            self.srv.call("/patron.v1.Coupons/TargetCoupons",
                          C.TargetCouponsRequest(customer_id=c, request_id="req-%d" % i),
                          C.TargetCouponsResponse)
        # A replay: the same decision, not a new one.
        self.srv.call("/patron.v1.Coupons/TargetCoupons",
                      C.TargetCouponsRequest(customer_id=custs[0], request_id="req-0"),
                      C.TargetCouponsResponse)
        m = self.metrics()
        self.assertEqual(sum(v for _, v in series(m, "patron_coupon_decisions_total")), 4)
        self.assertEqual(len(series(m, "patron_coupon_decisions_total")), 8)
        campaign = 'spring \\"sale\\"'  # as escaped in the text; parse keeps it raw
        self.assertEqual(value(m, "patron_coupon_budget_limit", campaign=campaign), 250)
        spent = value(m, "patron_coupon_budget_spent", campaign=campaign)
        committed = value(m, "patron_coupon_budget_committed", campaign=campaign)
        self.assertEqual(spent, 0)
        self.assertLessEqual(committed, 250)
        grants = sum(v for l, v in series(m, "patron_coupon_decisions_total")
                     if l["outcome"].startswith("grant"))
        self.assertEqual(committed, 5 * grants)
        arms = {l["arm"]: v for l, v in series(m, "patron_experiment_exposures_total")
                if l["experiment"] == "blend-test"}
        self.assertEqual(set(arms) - {"control", "popular"}, set())
        # 10 Recommend + 5 TargetCoupons responses, each under one arm.
        self.assertEqual(sum(arms.values()), 15)
        self.assertEqual(value(m, "patron_experiment_exposures_uncounted_total"), 0)
        self.assertPromtoolAccepts()


class TokenReloadTests(AdminTest):
    """A failed token reload is loud in the log and visible in /metrics."""

    def server_options(self):
        opts = super().server_options()
        self.tokens = os.path.join(self.dir, "tokens")
        with open(self.tokens, "w") as f:
            f.write("admin admin-0c6d1b5e9a7f44 *\n")
        os.chmod(self.tokens, 0o600)
        opts["extra_args"] += ["--auth-file", self.tokens]
        return opts

    def reloads(self):
        m = self.metrics()
        return (value(m, "patron_auth_reload_failures_total"),
                value(m, "patron_auth_last_reload_success"), value(m, "patron_auth_tokens"))

    def test_failed_reload_shows_in_metrics(self):
        self.assertEqual(self.reloads(), (0, 1, 1))
        os.chmod(self.tokens, 0o644)
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self.reloads() == (1, 0, 0), 5, interval=0.05,
                   what="the failed reload in /metrics")
        self.assertIn("tokens not reloaded", self.srv.log_tail())
        os.chmod(self.tokens, 0o600)
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self.reloads() == (1, 1, 1), 5, interval=0.05,
                   what="the good reload in /metrics")


class TriggerMetricsTests(AdminTest):
    """patron_triggers_total counts what the contact policy made of each
    firing: a cart of a customer who withdrew every channel is suppressed,
    another is logged."""

    def server_options(self):
        opts = super().server_options()
        opts["extra_args"] += self.settings_options(
            "trigger = cart cart_abandoned 1s\ntrigger_scan_seconds = 1\n")["extra_args"]
        return opts

    def test_logged_and_suppressed_are_counted(self):
        P, E = h.pb.profiles, h.pb.common
        W = P.CONSENT_STATE_WITHDRAWN
        self.srv.upsert_items(h.Shop.catalog())
        self.srv.call("/patron.v1.Profiles/SetPreferences", P.SetPreferencesRequest(
            customer_id="optout", source="test",
            preferences=P.ContactPreferences(email=W, sms=W, push=W, in_app=W)),
            P.SetPreferencesResponse)
        t = int(time.time() * 1000) - 60_000
        r = self.srv.record_events([
            E.Event(event_id="m%d" % i, customer_id=c, item_id=h.item_id("garden", i),
                    type=E.EVENT_TYPE_CART, time_unix_ms=t, quantity=1, unit_price=5.0)
            for i, c in enumerate(["optout", "plain"])])
        self.assertEqual(r.accepted, 2, list(r.errors))

        def counted():
            m = self.metrics()
            got = {o: value(m, "patron_triggers_total", outcome=o)
                   for o in ("logged", "deferred", "suppressed")}
            return got if got["logged"] == 1 and got["suppressed"] == 1 else None
        got = wait_until(counted, 10, what="both carts decided")
        self.assertEqual(got["deferred"], 0)


class PrometheusTests(AdminTest):
    """Debian's prometheus scrapes /metrics every second."""

    def start_prometheus(self):
        self.assertTrue(os.access(PROMETHEUS, os.X_OK),
                        "%s missing: apt-get install prometheus" % PROMETHEUS)
        self.prom_port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: patrond\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % self.admin)
        log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.prom = subprocess.Popen(
            [PROMETHEUS, "--config.file", config,
             "--storage.tsdb.path", os.path.join(self.dir, "tsdb"),
             "--web.listen-address", "127.0.0.1:%d" % self.prom_port],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.addCleanup(self.stop_prometheus)

    def stop_prometheus(self):
        if self.prom.poll() is None:
            self.prom.kill()
        self.prom.wait(timeout=10)
        if self._failed():
            with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
                sys.stderr.write("\n--- prometheus log ---\n%s\n" % f.read()[-4000:])

    def query(self, expr):
        """The value of instant query expr, or None (no result, or
        prometheus not answering yet)."""
        if self.prom.poll() is not None:
            raise AssertionError("prometheus exited with %s" % self.prom.returncode)
        url = "/api/v1/query?query=" + urllib.parse.quote(expr)
        try:
            status, _, body = http(self.prom_port, url, timeout=2)
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            return None
        if status != 200:
            return None
        result = json.loads(body)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def test_prometheus_scrapes_patrond(self):
        self.start_prometheus()
        up = 'up{job="patrond"}'
        wait_until(lambda: self.query(up) == 1, 30, interval=0.25, what="up == 1")
        calls = ('patron_rpc_calls_total{job="patrond",'
                 'method="/grpc.health.v1.Health/Check",code="OK"}')
        before = wait_until(lambda: self.query(calls) is not None and [self.query(calls)],
                            30, interval=0.25, what="a scraped patron_rpc_calls_total")[0]
        for _ in range(5):
            self.srv.health("")
        wait_until(lambda: (self.query(calls) or 0) >= before + 5, 30, interval=0.25,
                   what="patron_rpc_calls_total to rise by 5")
        self.assertEqual(self.query(up), 1)
        self.assertEqual(self.query('patron_build_info{job="patrond"}'), 1)
        # The scrape itself found nothing malformed.
        self.assertEqual(self.query('scrape_samples_post_metric_relabeling{job="patrond"}')
                         > 100, True)


if __name__ == "__main__":
    h.run_suite("patrond admin HTTP: probes and Prometheus metrics", "test_metrics")
