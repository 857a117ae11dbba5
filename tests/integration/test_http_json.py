#!/usr/bin/python3
"""Integration tests of HTTP/JSON on the admin listener (POST
/v1/{Service}/{Method}, server/admin/gateway.h), driven with Debian's curl:

- every unary method of the API answers over HTTP (success, or the error the
  same request gets over gRPC), and the list here covers every unary method
  the protos declare;
- Recommend and GetProfile answer what gRPC answers (json_format of the gRPC
  response), GetServerStats counts the HTTP calls;
- the mapping at the edge: lowerCamelCase and declared names, int64 as
  strings, enums by name or number, unknown fields and bad JSON named;
- streaming: SelectAudience as a JSON array equal to the gRPC stream,
  StreamEvents refused pointing at RecordEvents;
- errors as {"code", "message", "http_status"} with google.rpc's HTTP
  statuses, 405 for GET, 404 for unknown methods, 413 above the body limit,
  deadlines from X-Patron-Timeout-Ms / grpc-timeout;
- with --auth-file: no token 401, a token without the scope 403, health
  without a token, the right token 200;
- with --access-log: one line per HTTP call, peer "http:...", the handler's
  request id and the traceparent's trace id.

    /usr/bin/python3 tests/integration/test_http_json.py --build BUILD_DIR \
        --proto proto [unittest args]

A missing curl fails the test (scripts/install-deps.sh installs it).
"""
import json
import math
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest, wait_until  # noqa: E402
from google.protobuf import json_format  # noqa: E402

CURL = "/usr/bin/curl"
MAX_BODY = 16 * 1024 * 1024
TOKEN_ALL = "admin-0c6d1b5e9a7f44aa"
TOKEN_REC = "shop-7f2e9c1d3b5a4e66"
AS_OF = h.BASE_MS + 30 * 86400 * 1000  # profiles as of a fixed time, for equal answers

# A body for every unary method, and the HTTP statuses it may get on the
# trained fixture (each a success or the meaningful error gRPC would give).
UNARY_CALLS = [
    ("patron.v1.Recommender/Recommend", {"customerId": "cust-00", "k": 3}, {200}),
    ("patron.v1.Recommender/SimilarItems", {"itemId": "books-00", "k": 3}, {200}),
    ("patron.v1.Recommender/RankItems",
     {"customerId": "cust-00", "itemIds": ["books-01", "toys-02"]}, {200}),
    ("patron.v1.Recommender/ComplementaryItems", {"itemIds": ["books-00"], "k": 3}, {200}),
    ("patron.v1.Events/RecordEvents",
     {"events": [{"eventId": "http-1", "customerId": "cust-00", "itemId": "books-03",
                  "type": "EVENT_TYPE_VIEW", "timeUnixMs": str(h.BASE_MS + 10 ** 9)}]},
     {200}),
    ("patron.v1.Profiles/GetProfile", {"customerId": "cust-00"}, {200}),
    ("patron.v1.Profiles/SetCustomerAttributes",
     {"attributes": {"customerId": "cust-02", "birthMonth": 5, "region": "north"}}, {200}),
    ("patron.v1.Profiles/RedeemPoints",
     {"customerId": "cust-00", "redemptionId": "r-1", "points": "999999999"}, {400}),
    ("patron.v1.Profiles/ListPointsLedger", {"customerId": "cust-00", "pageSize": 2}, {200}),
    ("patron.v1.Profiles/AdjustPoints",
     {"customerId": "cust-00", "adjustmentId": "http-adj-1", "delta": "5", "reason": "http"},
     {200}),
    ("patron.v1.Profiles/ListRewards", {"customerId": "cust-00"}, {200}),
    ("patron.v1.Profiles/SetPreferences",
     {"customerId": "cust-04", "source": "http-test",
      "preferences": {"sms": "CONSENT_STATE_WITHDRAWN", "timeZone": "Europe/Berlin",
                      "quietHours": "22:00-07:00"}}, {200}),
    ("patron.v1.Profiles/ListConsentChanges", {"customerId": "cust-04"}, {200}),
    ("patron.v1.Profiles/CheckContact",
     {"customerId": "cust-04", "channel": "CHANNEL_EMAIL", "kind": "CONTACT_KIND_COUPON"},
     {200}),
    ("patron.v1.Profiles/RecordContact",
     {"customerId": "cust-04", "messageId": "http-1", "channel": "CHANNEL_PUSH"}, {400}),
    ("patron.v1.Profiles/RecordSignup",
     {"customerId": "cust-05", "referralCode": "ZZZZZZZZZZ", "deviceId": "phone-5"}, {404}),
    ("patron.v1.Profiles/ExportCustomer", {"customerId": "cust-03"}, {200}),
    ("patron.v1.Profiles/DeleteCustomer", {"customerId": "cust-39"}, {200}),
    ("patron.v1.Profiles/MergeCustomers",
     {"sourceCustomerId": "cust-38", "targetCustomerId": "cust-37", "requestId": "m-1"}, {200}),
    ("patron.v1.Experiments/CreateExperiment",
     {"experiment": {"experimentId": "exp-http", "trafficFraction": 1,
                     "arms": [{"armId": "a", "weight": 0.5}, {"armId": "b", "weight": 0.5}]}},
     {200}),
    ("patron.v1.Experiments/UpdateExperiment",
     {"experiment": {"experimentId": "no-such-exp", "trafficFraction": 1,
                     "arms": [{"armId": "a", "weight": 0.5}, {"armId": "b", "weight": 0.5}]}},
     {404}),
    ("patron.v1.Experiments/ListExperiments", {}, {200}),
    ("patron.v1.Experiments/GetAssignment", {"customerId": "cust-00"}, {200}),
    ("patron.v1.Experiments/GetExperimentResults", {"experimentId": "no-such-exp"}, {404}),
    ("patron.v1.Admin/UpsertItems",
     {"items": [{"itemId": "books-99", "title": "New", "category": "books", "price": 9.5,
                 "inStock": True}]}, {200}),
    ("patron.v1.Admin/GetModelInfo", {}, {200}),
    ("patron.v1.Admin/ReloadModel", {}, {200}),
    ("patron.v1.Admin/GetServerStats", {}, {200}),
    ("patron.v1.Admin/GetProgramme", {}, {200}),
    ("patron.v1.Admin/SetProgramme", {"text": "tier = vip 0 0 0\n", "expectedVersion": "5"},
     {400}),  # stale: FAILED_PRECONDITION, nothing stored
    ("patron.v1.Admin/ListProgrammeVersions", {"pageSize": 5}, {200}),
    ("patron.v1.Admin/RollbackProgramme", {"toVersion": "9"}, {404}),
    ("patron.v1.Coupons/UpsertCoupon",
     {"coupon": {"couponId": "c-http", "campaignId": "spring",
                 "kind": "COUPON_KIND_FIXED_AMOUNT",
                 "benefits": [{"kind": "BENEFIT_KIND_AMOUNT", "amount": 2}],
                 "validFromUnixMs": str(h.BASE_MS),
                 "validUntilUnixMs": str(h.BASE_MS + 10 ** 12),
                 "campaignBudget": 100, "perCustomerLimit": 1}}, {200}),
    ("patron.v1.Coupons/TargetCoupons", {"customerId": "cust-00"}, {200}),
    ("patron.v1.Coupons/RecordRedemption",
     {"redemptionId": "rd-1", "customerId": "cust-00", "couponId": "no-such-coupon",
      "discount": 1, "timeUnixMs": str(h.BASE_MS + 10 ** 9)}, {200, 400, 404}),
    ("grpc.health.v1.Health/Check", {}, {200}),
]


def curl(port, path, body=None, token=None, headers=(), method="POST", data_file=None):
    """(HTTP status, parsed JSON or None, raw text) of one curl request."""
    args = [CURL, "-sS", "--noproxy", "*", "-X", method, "-o", "-", "-w", "\n%{http_code}",
            "-H", "Content-Type: application/json"]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    for hd in headers:
        args += ["-H", hd]
    if data_file:
        args += ["--data-binary", "@" + data_file]
    elif body is not None:
        args += ["--data-binary", "@-"]
    args.append("http://127.0.0.1:%d/v1/%s" % (port, path))
    text = body if isinstance(body, str) else json.dumps(body) if body is not None else None
    p = subprocess.run(args, input=text, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("curl failed (%d): %s" % (p.returncode, p.stderr))
    out, _, status = p.stdout.rpartition("\n")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return int(status), doc, out


def close(a, b, path=""):
    """a == b, with floats equal to 6 significant digits (float32 fields)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            raise AssertionError("%s: keys %s vs %s" % (path, sorted(a), sorted(b)))
        for k in a:
            close(a[k], b[k], path + "." + k)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise AssertionError("%s: %d vs %d elements" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, "%s[%d]" % (path, i))
    elif isinstance(a, float) or isinstance(b, float):
        if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12):
            raise AssertionError("%s: %r vs %r" % (path, a, b))
    elif a != b:
        raise AssertionError("%s: %r vs %r" % (path, a, b))


def without_request_id(doc):
    doc = json.loads(json.dumps(doc))
    doc.get("provenance", {}).pop("requestId", None)
    return doc


class HttpTest(ServerTest):
    """A patrond with --admin-listen 127.0.0.1:0; self.admin is its port."""

    def server_options(self):
        self.admin_port_file = os.path.join(self.dir, "admin-port")
        return {"extra_args": ["--admin-listen", "127.0.0.1:0",
                               "--admin-port-file", self.admin_port_file]}

    def setUp(self):
        self.assertTrue(os.access(CURL, os.X_OK), "curl missing: run scripts/install-deps.sh")
        super().setUp()

        def port():
            try:
                with open(self.admin_port_file) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                return None
        self.admin = wait_until(port, 10, what="the admin port file")

    def post(self, path, body=None, **kw):
        return curl(self.admin, path, {} if body is None else body, **kw)

    def assertError(self, got, status, code, *needles):
        st, doc, raw = got
        self.assertEqual(st, status, raw)
        self.assertIsNotNone(doc, raw)
        self.assertEqual(doc["code"], code, raw)
        self.assertEqual(doc["http_status"], status, raw)
        for n in needles:
            self.assertIn(n, doc["message"])


class UnaryTests(HttpTest):
    trained = True

    def test_every_unary_method(self):
        declared = set()
        for mod in (h.pb.rec, h.pb.events, h.pb.profiles, h.pb.experiments, h.pb.admin,
                    h.pb.coupons, h.pb.health):
            for svc in mod.DESCRIPTOR.services_by_name.values():
                for m in svc.methods:
                    if not m.client_streaming and not m.server_streaming:
                        declared.add("%s/%s" % (svc.full_name, m.name))
        self.assertEqual(declared, {p for p, _, _ in UNARY_CALLS},
                         "UNARY_CALLS must cover every unary method")
        for path, body, ok in UNARY_CALLS:
            st, doc, raw = self.post(path, body)
            self.assertIn(st, ok, "%s: %s" % (path, raw))
            self.assertIsInstance(doc, dict, raw)
            if st != 200:
                self.assertEqual(doc["http_status"], st)
                self.assertTrue(doc["message"], raw)

    def test_same_answers_as_grpc(self):
        for cust in ("cust-00", "cust-17", "unknown-customer"):
            req = h.pb.rec.RecommendRequest(customer_id=cust, k=5, include_item_details=True)
            grpc_doc = json_format.MessageToDict(self.srv.call(
                "/patron.v1.Recommender/Recommend", req, h.pb.rec.RecommendResponse))
            st, doc, raw = self.post("patron.v1.Recommender/Recommend",
                                     json_format.MessageToJson(req))
            self.assertEqual(st, 200, raw)
            close(without_request_id(doc), without_request_id(grpc_doc))
            self.assertRegex(doc["provenance"]["requestId"], h.HEX32)
        for cust in ("cust-00", "cust-01", "cust-30"):
            req = h.pb.profiles.GetProfileRequest(customer_id=cust, as_of_unix_ms=AS_OF)
            grpc_doc = json_format.MessageToDict(self.srv.call(
                "/patron.v1.Profiles/GetProfile", req, h.pb.profiles.GetProfileResponse))
            st, doc, raw = self.post("patron.v1.Profiles/GetProfile",
                                     {"customer_id": cust, "asOfUnixMs": AS_OF})
            self.assertEqual(st, 200, raw)
            close(doc, grpc_doc)
            self.assertIsInstance(doc["profile"]["firstPurchaseUnixMs"], str)  # int64: a string

    def test_http_calls_are_counted(self):
        for _ in range(3):
            self.assertEqual(self.post("patron.v1.Profiles/GetProfile",
                                       {"customerId": "cust-00"})[0], 200)
        self.assertEqual(self.post("patron.v1.Profiles/GetProfile", {"bogus": 1})[0], 400)
        stats = self.srv.call("/patron.v1.Admin/GetServerStats",
                              h.pb.admin.GetServerStatsRequest(), h.pb.admin.GetServerStatsResponse)
        m = next(m for m in stats.methods if m.method == "/patron.v1.Profiles/GetProfile")
        self.assertEqual((m.calls, m.errors), (4, 1))

    def test_the_mapping_at_the_edge(self):
        ev = {"eventId": "e-edge", "customer_id": "cust-05", "itemId": "books-04",
              "type": 3, "time_unix_ms": h.BASE_MS + 5 * 10 ** 8, "quantity": "2",
              "unitPrice": "12.5"}
        st, doc, raw = self.post("patron.v1.Events/RecordEvents", {"events": [ev]})
        self.assertEqual(st, 200, raw)
        self.assertEqual(doc.get("accepted"), 1, raw)
        export = self.srv.call("/patron.v1.Profiles/ExportCustomer",
                               h.pb.profiles.ExportCustomerRequest(customer_id="cust-05"),
                               h.pb.profiles.ExportCustomerResponse)
        got = [e for e in export.events if e.event_id == "e-edge"]
        self.assertEqual(len(got), 1)
        self.assertEqual((got[0].type, got[0].time_unix_ms, got[0].quantity,
                          got[0].unit_price),
                         (h.pb.common.EVENT_TYPE_PURCHASE, h.BASE_MS + 5 * 10 ** 8, 2, 12.5))
        self.assertError(self.post("patron.v1.Events/RecordEvents",
                                   {"events": [{"eventId": "x", "colour": "red"}]}),
                         400, "INVALID_ARGUMENT", 'events[0]: unknown field "colour"')
        self.assertError(self.post("patron.v1.Events/RecordEvents",
                                   {"events": [{"timeUnixMs": "soon"}]}),
                         400, "INVALID_ARGUMENT", "events[0].timeUnixMs: expected an integer")
        self.assertError(self.post("patron.v1.Events/RecordEvents",
                                   {"events": [{"type": "EVENT_TYPE_BUY"}]}),
                         400, "INVALID_ARGUMENT", "events[0].type", "EVENT_TYPE_BUY")
        self.assertError(self.post("patron.v1.Recommender/Recommend", '{"customerId": "c1",'),
                         400, "INVALID_ARGUMENT", "invalid JSON", "byte 20")
        # the handler's own checks still apply: k over its limit
        self.assertError(self.post("patron.v1.Recommender/Recommend",
                                   {"customerId": "cust-00", "k": 100000}),
                         400, "INVALID_ARGUMENT", "k")

    def test_streams(self):
        req = h.pb.profiles.SelectAudienceRequest(limit=5, as_of_unix_ms=AS_OF)
        fn = self.srv.channel.unary_stream(
            "/patron.v1.Profiles/SelectAudience",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.profiles.SelectAudienceResponse.FromString)
        grpc_docs = [json_format.MessageToDict(m) for m in fn(req, timeout=10)]
        st, doc, raw = self.post("patron.v1.Profiles/SelectAudience", {"limit": "5", "asOfUnixMs": str(AS_OF)})
        self.assertEqual(st, 200, raw)
        self.assertIsInstance(doc, list)
        self.assertEqual(len(doc), 5)
        close(doc, grpc_docs)
        st, doc, raw = self.post("patron.v1.Profiles/SelectAudience",
                                 {"expression": "no_such_field > 1"})
        self.assertEqual(st, 400, raw)
        # a stream of changes answers what it has at once
        self.assertEqual(self.post("grpc.health.v1.Health/Watch", {})[:2],
                         (200, [{"status": "SERVING"}]))
        self.assertError(self.post("patron.v1.Profiles/SelectAudience", {},
                                   headers=["X-Patron-Timeout-Ms: 0"]),
                         504, "DEADLINE_EXCEEDED")
        self.assertError(self.post("patron.v1.Events/StreamEvents", {"events": []}),
                         501, "UNIMPLEMENTED", "/v1/patron.v1.Events/RecordEvents")

    def test_http_errors(self):
        self.assertError(curl(self.admin, "patron.v1.Admin/GetModelInfo", method="GET"),
                         405, "UNIMPLEMENTED", "POST")
        self.assertError(self.post("patron.v1.Admin/NoSuchMethod"), 404, "NOT_FOUND",
                         "/patron.v1.Admin/NoSuchMethod")
        self.assertError(self.post("no.Such/Thing"), 404, "NOT_FOUND")
        big = os.path.join(self.dir, "big.json")
        with open(big, "w") as f:
            f.write('{"customerId": "%s"}' % ("x" * MAX_BODY))
        self.assertError(curl(self.admin, "patron.v1.Recommender/Recommend", data_file=big),
                         413, "RESOURCE_EXHAUSTED", "exceeds")
        # deadlines
        self.assertError(self.post("patron.v1.Admin/GetModelInfo",
                                   headers=["X-Patron-Timeout-Ms: 0"]),
                         504, "DEADLINE_EXCEEDED")
        self.assertEqual(self.post("patron.v1.Admin/GetModelInfo",
                                   headers=["grpc-timeout: 5S"])[0], 200)
        self.assertError(self.post("patron.v1.Admin/GetModelInfo",
                                   headers=["X-Patron-Timeout-Ms: soon"]),
                         400, "INVALID_ARGUMENT", "X-Patron-Timeout-Ms")


class AuthTests(HttpTest):
    trained = True

    def server_options(self):
        opts = super().server_options()
        tokens = os.path.join(self.dir, "tokens")
        with open(tokens, "w") as f:
            f.write("admin %s *\nshop %s patron.v1.Recommender\n" % (TOKEN_ALL, TOKEN_REC))
        os.chmod(tokens, 0o600)
        opts["extra_args"] += ["--auth-file", tokens]
        opts["token"] = TOKEN_ALL
        return opts

    def test_tokens_and_scopes(self):
        rec = {"customerId": "cust-00", "k": 2}
        self.assertError(self.post("patron.v1.Recommender/Recommend", rec),
                         401, "UNAUTHENTICATED", "needs a token")
        self.assertError(self.post("patron.v1.Recommender/Recommend", rec,
                                   token="not-a-known-token-at-all"),
                         401, "UNAUTHENTICATED", "unknown token")
        self.assertEqual(self.post("patron.v1.Recommender/Recommend", rec,
                                   token=TOKEN_REC)[0], 200)
        self.assertError(self.post("patron.v1.Profiles/DeleteCustomer",
                                   {"customerId": "cust-00"}, token=TOKEN_REC),
                         403, "PERMISSION_DENIED", "may not call")
        st, doc, raw = self.post("patron.v1.Profiles/DeleteCustomer",
                                 {"customerId": "cust-00"}, token=TOKEN_ALL)
        self.assertEqual(st, 200, raw)
        self.assertIn("audit: /patron.v1.Profiles/DeleteCustomer by 'admin' over HTTP: OK",
                      self.srv.log_tail(200))
        st, doc, raw = self.post("patron.v1.Profiles/ExportCustomer",
                                 {"customerId": "cust-01"},
                                 headers=["X-Api-Key: " + TOKEN_ALL])
        self.assertEqual(st, 200, raw)
        self.assertEqual(self.post("grpc.health.v1.Health/Check", {})[:2],
                         (200, {"status": "SERVING"}))


class AccessLogTests(HttpTest):
    trained = True

    def server_options(self):
        opts = super().server_options()
        opts["extra_args"] += ["--access-log", "--log-format", "json"]
        return opts

    def test_access_lines(self):
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        st, doc, raw = self.post("patron.v1.Recommender/Recommend",
                                 {"customerId": "cust-00", "k": 2},
                                 headers=["traceparent: 00-%s-00f067aa0ba902b7-01" % trace])
        self.assertEqual(st, 200, raw)

        def line():
            for text in self.srv.log_tail(50).splitlines():
                try:
                    rec = json.loads(text)
                except ValueError:
                    continue
                if rec.get("msg") == "access" and rec.get("trace_id") == trace:
                    return rec
            return None
        rec = wait_until(line, 5, what="the access line")
        self.assertEqual(rec["method"], "/patron.v1.Recommender/Recommend")
        self.assertEqual(rec["status"], "OK")
        self.assertTrue(rec["peer"].startswith("http:ipv4:127.0.0.1:"), rec)
        self.assertEqual(rec["request_id"], doc["provenance"]["requestId"])
        self.assertEqual(rec["model_version"], 1)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_http_json")
