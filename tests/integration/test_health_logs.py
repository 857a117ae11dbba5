#!/usr/bin/python3
"""Integration tests of probes and logs: every service reflection lists has a
health status (never NOT_FOUND), with and without a model; Health/Watch
streams the changes (model published, draining); --log-format json makes
every stderr line, gRPC core's included, one JSON object; --access-log
writes one line per call with its method, status, time, peer, provenance
and W3C trace id, and no customer id.

    /usr/bin/python3 tests/integration/test_health_logs.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

Every call and stream has a timeout; every server is killed in tearDown.
"""
import json
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, rpc_error, setup_through_api  # noqa: E402

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = "00-%s-00f067aa0ba902b7-01" % TRACE_ID
WATCH = "/grpc.health.v1.Health/Watch"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def reflected_services(srv):
    """The service names patrond's reflection lists."""
    R = h.pb.reflection
    fn = srv.channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=R.ServerReflectionResponse.FromString)
    out = list(fn(iter([R.ServerReflectionRequest(list_services="")]), timeout=10))
    return [s.name for s in out[0].list_services_response.service]


def watch(srv, service, timeout=60):
    """A Health/Watch stream (an iterator of HealthCheckResponse)."""
    fn = srv.channel.unary_stream(
        WATCH, request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=h.pb.health.HealthCheckResponse.FromString)
    return fn(h.pb.health.HealthCheckRequest(service=service), timeout=timeout)


def status_name(v):
    return h.pb.health.HealthCheckResponse.ServingStatus.Name(v)


class HealthWithoutModelTests(ServerTest):

    def assertEveryServiceAnswers(self):
        services = reflected_services(self.srv)
        # The services table feeds both; these are the ones a hand-kept list
        # once missed or that probes ask for by name.
        for name in ("patron.v1.Coupons", "grpc.health.v1.Health",
                     "grpc.reflection.v1.ServerReflection",
                     "grpc.reflection.v1alpha.ServerReflection"):
            self.assertIn(name, services)
        got = {}
        for name in services + [""]:
            try:
                got[name] = status_name(self.srv.health(name).status)
            except h.grpc.RpcError as e:
                self.fail("health of %r: %s %s" % (name, e.code(), e.details()))
            self.assertIn(got[name], ("SERVING", "NOT_SERVING"), name)
        return got

    def test_every_reflected_service_has_a_status(self):
        got = self.assertEveryServiceAnswers()
        self.assertEqual(got[""], "NOT_SERVING")
        self.assertEqual(got["patron.v1.Recommender"], "NOT_SERVING")
        self.assertEqual(got["grpc.health.v1.Health"], "SERVING")
        self.assertEqual(got["patron.v1.Events"], "SERVING")

    def test_watch_sees_the_model_then_draining(self):
        whole = watch(self.srv, "")
        events = watch(self.srv, "patron.v1.Events")
        self.assertEqual(status_name(next(whole).status), "NOT_SERVING")
        self.assertEqual(status_name(next(events).status), "SERVING")
        # A model is published (patron train beside the server) and loaded.
        setup_through_api(self, self.srv)
        h.train(self.data)
        self.assertEqual(self.srv.reload_model().version, 1)
        self.assertEqual(status_name(next(whole).status), "SERVING")
        got = self.assertEveryServiceAnswers()
        self.assertEqual(set(got.values()), {"SERVING"})
        # A second version swapped in changes nothing a probe sees: the next
        # message is the drain's.
        h.train(self.data, seed=8)
        self.assertEqual(self.srv.reload_model().version, 2)
        self.srv.signal(signal.SIGTERM)
        self.assertEqual(status_name(next(whole).status), "NOT_SERVING")
        self.assertEqual(status_name(next(events).status), "NOT_SERVING")
        self.assertEqual(list(whole), [])  # ... and the stream ends
        self.assertEqual(list(events), [])
        self.assertEqual(whole.code(), SC.OK)
        self.assertEqual(self.srv.proc.wait(timeout=30), 0)

    def test_watch_unknown_service_and_cancel(self):
        unknown = watch(self.srv, "no.such.Service")
        self.assertEqual(status_name(next(unknown).status), "SERVICE_UNKNOWN")
        unknown.cancel()
        self.assertEqual(unknown.code(), SC.CANCELLED)
        # Check still answers NOT_FOUND for it, and the server goes on.
        self.assertStatus(rpc_error(self.srv.health, "no.such.Service"), SC.NOT_FOUND)
        self.assertServing("patron.v1.Events", True)


class HealthWithModelTests(ServerTest):
    trained = True

    def test_every_reflected_service_serves(self):
        for name in reflected_services(self.srv) + [""]:
            self.assertServing(name, True)

    def test_watch_with_a_deadline_ends_at_it(self):
        w = watch(self.srv, "", timeout=0.5)
        self.assertEqual(status_name(next(w).status), "SERVING")
        e = rpc_error(lambda: list(w))
        self.assertStatus(e, SC.DEADLINE_EXCEEDED)
        self.assertServing("", True)


class JsonAccessLogTests(ServerTest):
    trained = True

    def server_options(self):
        # GRPC_VERBOSITY=debug: gRPC core logs at start and per connection,
        # so its own lines are in the file for the format check.
        return {"extra_args": ["--log-format", "json", "--access-log"],
                "env": {"GRPC_VERBOSITY": "debug"}}

    def lines(self):
        with open(self.srv.log_path, "rb") as f:
            raw = f.read().decode("utf-8")  # strict: a bad byte fails here
        out = []
        for n, line in enumerate(raw.splitlines(), 1):
            try:
                obj = json.loads(line)
            except ValueError as e:
                self.fail("stderr line %d is not JSON (%s): %r" % (n, e, line))
            self.assertIsInstance(obj, dict, line)
            self.assertRegex(obj.get("ts", ""), ISO_MS, line)
            self.assertIn(obj.get("level"), ("debug", "info", "warn", "error"), line)
            self.assertIsInstance(obj.get("msg"), str, line)
            out.append(obj)
        return out

    def test_every_line_is_json_and_calls_are_logged(self):
        customers = ["cust-03", "cust-17", "cust-29"]
        X = h.pb.experiments
        self.srv.call("/patron.v1.Experiments/CreateExperiment", X.CreateExperimentRequest(
            experiment=X.Experiment(
                experiment_id="blend-test", traffic_fraction=1.0,
                arms=[X.Arm(arm_id="control", weight=0.5, model_version=1),
                      X.Arm(arm_id="popular", weight=0.5, popularity_blend=1.0)])),
            X.CreateExperimentResponse)
        md = [("traceparent", TRACEPARENT)]
        fn = self.srv.channel.unary_unary(
            "/patron.v1.Recommender/Recommend",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.rec.RecommendResponse.FromString)
        traced = fn(h.pb.rec.RecommendRequest(customer_id=customers[0], k=5), timeout=5,
                    metadata=md)
        plain = self.srv.recommend(customers[1], 3)
        rpc_error(self.srv.recommend, customers[2], 0)  # INVALID_ARGUMENT
        rpc_error(self.srv.call_raw, "/patron.v1.Nope/Nothing", b"")
        w = watch(self.srv, "")
        next(w)
        w.cancel()
        self.assertEqual(self.srv.stop(), 0)
        lines = self.lines()

        self.assertTrue(any(o.get("source") == "grpc" for o in lines),
                        "no gRPC core line came through the logger")
        access = [o for o in lines if o["msg"] == "access"]
        by_method = {}
        for o in access:
            for k in ("method", "status", "ms", "peer", "request_id", "model_version",
                      "experiment", "arm", "trace_id"):
                self.assertIn(k, o, o)
            self.assertIsInstance(o["ms"], (int, float))
            self.assertGreaterEqual(o["ms"], 0)
            self.assertRegex(o["peer"], r"^ipv4:127\.0\.0\.1:\d+$")
            by_method.setdefault(o["method"], []).append(o)

        recs = by_method["/patron.v1.Recommender/Recommend"]
        self.assertEqual(len(recs), 3)
        first = next(o for o in recs if o["request_id"] == traced.provenance.request_id)
        self.assertEqual((first["status"], first["model_version"], first["trace_id"]),
                         ("OK", 1, TRACE_ID))
        self.assertEqual((first["experiment"], first["arm"]),
                         ("blend-test", traced.provenance.arm_id))
        self.assertIn(first["arm"], ("control", "popular"))
        second = next(o for o in recs if o["request_id"] == plain.provenance.request_id)
        self.assertEqual((second["status"], second["trace_id"]), ("OK", ""))
        bad = [o for o in recs if o["status"] == "INVALID_ARGUMENT"]
        self.assertEqual(len(bad), 1)
        self.assertEqual(bad[0]["request_id"], "")
        self.assertEqual(by_method["/patron.v1.Nope/Nothing"][0]["status"], "UNIMPLEMENTED")
        self.assertEqual(by_method[WATCH][0]["status"], "CANCELLED")

        # No customer id or recommended item id anywhere on stderr.
        with open(self.srv.log_path, encoding="utf-8") as f:
            text = f.read()
        for c in customers:
            self.assertNotIn(c, text)
        for item in [i.item_id for i in traced.items] + [i.item_id for i in plain.items]:
            self.assertNotIn(item, text)


class TextLogTests(ServerTest):
    """Without flags: the text format, no access lines."""

    def test_text_lines_without_access_log(self):
        self.srv.health("")
        self.assertEqual(self.srv.stop(), 0)
        with open(self.srv.log_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z patrond "
                                   r"(debug|info|warn|error) ")
            self.assertNotIn(" access method=", line)


def main():
    h.run_suite(__doc__.splitlines()[0], 'health and logs integration suite')


if __name__ == "__main__":
    main()
