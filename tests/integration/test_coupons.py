#!/usr/bin/python3
"""Integration tests of patron.v1.Coupons: the real patrond on an ephemeral
loopback port, driven by python3-grpcio with message classes generated from
proto/ at test time (see patron_harness.py).

    /usr/bin/python3 tests/integration/test_coupons.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

Every call has a timeout, every server is killed in tearDown, every decision
uses a fixed as_of time, so the holdout and exploration draws (hashes of
customer id and day) are the same on every run.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from patron_harness import Server, rpc_error  # noqa: E402

SC = grpc.StatusCode
DAY = 86_400_000
BASE_MS = 1_700_000_000_000
AS_OF = BASE_MS + 10 * DAY
SVC = "/patron.v1.Coupons/"


def fixed_coupon(coupon_id, campaign, budget, amount=2.0, **kw):
    """A fixed-amount coupon whose value is positive under the default priors;
    the campaign is nearly over, so pacing does not hold it back."""
    c = h.pb.coupons
    return c.Coupon(coupon_id=coupon_id, campaign_id=campaign,
                    kind=c.COUPON_KIND_FIXED_AMOUNT,
                    benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=amount)],
                    valid_from_unix_ms=AS_OF - 30 * DAY, valid_until_unix_ms=AS_OF + DAY,
                    campaign_budget=budget, per_customer_limit=1, **kw)


def patron_status(*args):
    """Runs the `patron` CLI expecting it may fail; returns CompletedProcess."""
    return subprocess.run([h.PATRON] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=30)


class CouponTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="patron-it-coupons-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.data = os.path.join(self.dir, "data")
        self.srv = Server(self.data, self.dir)
        self.addCleanup(self._cleanup)
        self.srv.start()

    def _cleanup(self):
        self.srv.kill()

    # -- calls

    def upsert(self, coupon, **kw):
        c = h.pb.coupons
        return self.srv.call(SVC + "UpsertCoupon", c.UpsertCouponRequest(coupon=coupon),
                             c.UpsertCouponResponse, **kw).coupon

    def target(self, customer_id, request_id="", as_of=AS_OF, channel=None, **kw):
        req = h.pb.coupons.TargetCouponsRequest(customer_id=customer_id, request_id=request_id,
                                                as_of_unix_ms=as_of, **kw)
        return self.srv.call(SVC + "TargetCoupons", req, h.pb.coupons.TargetCouponsResponse,
                             channel=channel)

    def redeem(self, redemption_id, customer_id, coupon_id, discount):
        req = h.pb.coupons.RecordRedemptionRequest(
            redemption_id=redemption_id, customer_id=customer_id, coupon_id=coupon_id,
            discount=discount, time_unix_ms=AS_OF + 1000)
        return self.srv.call(SVC + "RecordRedemption", req,
                             h.pb.coupons.RecordRedemptionResponse)

    def audience(self, campaign_id, budget):
        fn = self.srv.channel.unary_stream(
            SVC + "SelectCampaignAudience",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.coupons.SelectCampaignAudienceResponse.FromString)
        req = h.pb.coupons.SelectCampaignAudienceRequest(campaign_id=campaign_id, budget=budget,
                                                         as_of_unix_ms=AS_OF)
        return list(fn(req, timeout=h.RPC_TIMEOUT))

    def shop(self, customers):
        """Two items and three orders of 3 x 20.00 per customer before AS_OF."""
        common = h.pb.common
        self.srv.upsert_items([common.Item(item_id="book-1", category="books", price=20,
                                           unit_cost=12),
                               common.Item(item_id="toy-1", category="toys", price=30,
                                           unit_cost=20)])
        events = []
        for i, cust in enumerate(customers):
            for j in range(3):
                events.append(common.Event(
                    event_id="%s-%d" % (cust, j), customer_id=cust, item_id="book-1",
                    type=common.EVENT_TYPE_PURCHASE, time_unix_ms=BASE_MS + (i + 3 * j) * DAY // 4,
                    quantity=3, unit_price=20))
        resp = self.srv.record_events(events)
        self.assertEqual(resp.accepted, len(events))

    def assertStatus(self, err, code, *details):
        self.assertIsInstance(err, grpc.RpcError)
        self.assertEqual(err.code(), code, err.details())
        for d in details:
            self.assertIn(d, err.details() or "")

    def holdout_split(self, prefix, n):
        """Decides for n unknown customers; returns (held out, others)."""
        held, others = [], []
        for i in range(n):
            cust = "%s-%03d" % (prefix, i)
            r = self.target(cust, request_id="probe-%s" % cust)
            (held if r.decision.outcome == h.pb.common.COUPON_OUTCOME_NONE_HOLDOUT
             else others).append((cust, r))
        return held, others

    # -- UpsertCoupon

    def test_upsert_validates_and_names_the_field(self):
        c = h.pb.coupons
        good = fixed_coupon("fix2", "spring", 100)
        self.assertEqual(self.upsert(good), good)
        bad = fixed_coupon("pct", "spring", 100)
        del bad.benefits[:]
        bad.kind = c.COUPON_KIND_PERCENT_OFF
        bad.benefits.append(c.CouponBenefit(kind=c.BENEFIT_KIND_PERCENT, percent=0.2))
        self.assertStatus(rpc_error(self.upsert, bad), SC.INVALID_ARGUMENT, "cap")
        no_benefit = fixed_coupon("none", "spring", 100)
        del no_benefit.benefits[:]
        self.assertStatus(rpc_error(self.upsert, no_benefit), SC.INVALID_ARGUMENT, "benefits")
        seg = fixed_coupon("seg", "spring", 100, eligible_segments=["no-such-segment"])
        self.assertStatus(rpc_error(self.upsert, seg), SC.INVALID_ARGUMENT,
                          "eligible_segments[0]")
        nobudget = fixed_coupon("nb", "spring", 0)
        self.assertStatus(rpc_error(self.upsert, nobudget), SC.INVALID_ARGUMENT, "budget")
        unknown_kind = fixed_coupon("uk", "spring", 100)
        unknown_kind.kind = c.COUPON_KIND_UNSPECIFIED
        self.assertStatus(rpc_error(self.upsert, unknown_kind), SC.INVALID_ARGUMENT, "kind")
        self.assertStatus(rpc_error(self.upsert, fixed_coupon("", "spring", 100)),
                          SC.INVALID_ARGUMENT, "coupon_id")

    def test_unset_enums_are_refused_naming_the_field(self):
        """Every enum's zero is UNSPECIFIED: a value left unset is refused,
        never read as the first real value."""
        c, P = h.pb.coupons, h.pb.profiles
        kind = fixed_coupon("uk", "spring", 100)
        kind.ClearField("kind")
        self.assertStatus(rpc_error(self.upsert, kind), SC.INVALID_ARGUMENT,
                          "coupon.kind: must be one of the CouponKind values")
        benefit = fixed_coupon("ub", "spring", 100)
        benefit.benefits[0].ClearField("kind")
        self.assertStatus(rpc_error(self.upsert, benefit), SC.INVALID_ARGUMENT,
                          "coupon.benefits[0].kind")
        stage = fixed_coupon("us", "spring", 100,
                             eligible_stages=[P.LIFECYCLE_STAGE_NEW, P.LIFECYCLE_STAGE_UNSPECIFIED])
        self.assertStatus(rpc_error(self.upsert, stage), SC.INVALID_ARGUMENT,
                          "coupon.eligible_stages[1]")
        # The request's one field missing altogether.
        self.assertStatus(rpc_error(self.srv.call, SVC + "UpsertCoupon", c.UpsertCouponRequest(),
                                    c.UpsertCouponResponse),
                          SC.INVALID_ARGUMENT, "coupon: required")
        # Prospects have a stage of their own, and a coupon may target them.
        prospects = fixed_coupon("pr", "spring", 100,
                                 eligible_stages=[P.LIFECYCLE_STAGE_PROSPECT])
        self.assertEqual(self.upsert(prospects), prospects)
        _, others = self.holdout_split("pros", 3)
        self.assertTrue(any(r.decision.coupon_id == "pr" for _, r in others))

    def test_a_grant_shows_its_outcome_in_json(self):
        """proto3 JSON leaves zero values out: with GRANT = 0 a grant had no
        outcome at all. Now every decision names it."""
        self.shop(["dora"])
        self.upsert(fixed_coupon("fix2", "spring", 100))
        grant = self.target("dora", request_id="json-1")
        doc = json.loads(json_format.MessageToJson(grant))
        self.assertEqual(doc["decision"]["outcome"], "COUPON_OUTCOME_GRANT", doc)
        none = self.target("dora", request_id="json-2")  # she holds it already
        doc = json.loads(json_format.MessageToJson(none))
        self.assertTrue(doc["decision"]["outcome"].startswith("COUPON_OUTCOME_NONE_"), doc)

    # -- TargetCoupons

    def test_customer_with_history_gets_coupon_with_numbers(self):
        self.shop(["dora"])
        self.upsert(fixed_coupon("fix2", "spring", 100))
        r = self.target("dora", request_id="req-dora-1")
        self.assertTrue(r.known_customer)
        d = r.decision
        self.assertEqual(d.coupon_id, "fix2", d.reason)
        self.assertEqual(d.campaign_id, "spring")
        self.assertEqual(d.outcome, h.pb.common.COUPON_OUTCOME_GRANT)
        self.assertAlmostEqual(d.basket, 60.0)  # 3 orders of 3 x 20
        self.assertGreater(d.value, 0)
        self.assertAlmostEqual(d.max_cost, 2.0)
        self.assertAlmostEqual(d.discount, 2.0)
        self.assertGreater(d.assignment_probability, 0.9)
        self.assertTrue(d.reason)
        self.assertEqual(r.provenance.request_id, "req-dora-1")
        # A retry of the same request: the logged decision, nothing granted twice.
        again = self.target("dora", request_id="req-dora-1")
        self.assertTrue(again.replayed)
        self.assertEqual(again.decision, d)
        # A new request: dora holds an active copy, so no second one.
        other = self.target("dora", request_id="req-dora-2")
        self.assertEqual(other.decision.coupon_id, "")
        # Without a request id the server makes one (32 hex characters).
        gen = self.target("dora")
        self.assertEqual(len(gen.provenance.request_id), 32)
        # The same request id for another customer is refused.
        self.assertStatus(rpc_error(self.target, "bob", request_id="req-dora-1"),
                          SC.ALREADY_EXISTS, "request_id")

    def test_experiment_arm_without_coupons(self):
        """An experiment arm with coupons off decides "no coupon" for its
        customers, names the experiment and arm, and logs the exposure."""
        X = h.pb.experiments
        custs = ["arm-%02d" % i for i in range(20)]
        self.shop(custs)
        self.upsert(fixed_coupon("fix-arm", "arms", 1000))
        exp = X.Experiment(experiment_id="coupons-ab", traffic_fraction=1.0,
                           arms=[X.Arm(arm_id="coupons", weight=0.5),
                                 X.Arm(arm_id="none", weight=0.5, coupons_off=True)])
        self.srv.call("/patron.v1.Experiments/CreateExperiment",
                      X.CreateExperimentRequest(experiment=exp), X.CreateExperimentResponse)
        seen = set()
        for cust in custs:
            r = self.target(cust, request_id="arm-req-" + cust, as_of=0)
            self.assertEqual(r.provenance.experiment_id, "coupons-ab")
            seen.add(r.provenance.arm_id)
            if r.provenance.arm_id == "none":
                self.assertEqual(r.decision.coupon_id, "", r.decision.reason)
                self.assertIn("experiment arm", r.decision.reason)
        self.assertEqual(seen, {"coupons", "none"})
        res = self.srv.call("/patron.v1.Experiments/GetExperimentResults",
                            X.GetExperimentResultsRequest(experiment_id="coupons-ab"),
                            X.GetExperimentResultsResponse)
        self.assertEqual(sum(a.customers for a in res.arms), len(custs))
        self.assertEqual(sum(a.exposures for a in res.arms), len(custs))

    def test_holdout_customers_never_get_coupons(self):
        self.upsert(fixed_coupon("fix2", "spring", 1000))
        held, others = self.holdout_split("h", 200)
        self.assertGreater(len(held), 0)          # 5% of 200, deterministic
        self.assertLess(len(held), 30)
        self.assertTrue(any(r.decision.coupon_id for _, r in others))
        for cust, r in held:
            self.assertEqual(r.decision.coupon_id, "")
            self.assertEqual(r.decision.assignment_probability, 1.0)
            self.assertIn("holdout", r.decision.reason)
            # Same answer on any later request and day.
            again = self.target(cust, as_of=AS_OF + 3 * DAY // 2)
            self.assertEqual(again.decision.outcome, h.pb.common.COUPON_OUTCOME_NONE_HOLDOUT)

    def test_unknown_customer_is_decided_as_a_prospect(self):
        # Documented: an unknown customer is a prospect with no history, so a
        # first visit may get a coupon (a welcome pack); the response says
        # known_customer = false.
        self.upsert(fixed_coupon("fix2", "spring", 100))
        _, others = self.holdout_split("new", 5)
        self.assertTrue(others)
        for _, r in others:
            self.assertFalse(r.known_customer)
            self.assertAlmostEqual(r.decision.basket, 40.0)  # default basket
        self.assertStatus(rpc_error(self.target, ""), SC.INVALID_ARGUMENT, "customer_id")

    def test_cart_with_unknown_item_is_invalid(self):
        self.shop(["dora"])
        self.upsert(fixed_coupon("fix2", "spring", 100))
        line = h.pb.coupons.CartLine(item_id="no-such-item", quantity=1, unit_price=5)
        self.assertStatus(rpc_error(self.target, "dora", cart=[line]), SC.INVALID_ARGUMENT,
                          "cart[0].item_id")
        ok = h.pb.coupons.CartLine(item_id="toy-1", quantity=1, unit_price=30, unit_cost=20)
        r = self.target("dora", cart=[ok])
        self.assertAlmostEqual(r.decision.basket, 30.0)  # the cart, not her 60

    def test_malformed_bodies_are_invalid_argument(self):
        for method in ("TargetCoupons", "UpsertCoupon", "RecordRedemption"):
            err = rpc_error(self.srv.call_raw, SVC + method, b"\xff\xff\xff")
            self.assertStatus(err, SC.INVALID_ARGUMENT)

    def test_concurrent_grants_never_overrun_the_budget_and_survive_restart(self):
        # 21 fits ten grants of 2.00, not eleven: zero overruns means exactly ten.
        self.upsert(fixed_coupon("fix2", "tight", 21))
        results, errors = [], []
        lock = threading.Lock()

        def worker(t):
            ch = self.srv.new_channel()
            try:
                for i in range(10):
                    r = self.target("load-%d-%d" % (t, i), request_id="load-%d-%d" % (t, i),
                                    channel=ch)
                    with lock:
                        results.append(r)
            except grpc.RpcError as e:
                with lock:
                    errors.append(e)
            finally:
                ch.close()

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 80)
        granted = [r for r in results if r.decision.coupon_id]
        total = sum(r.decision.max_cost for r in granted)
        self.assertLessEqual(total, 21.0)
        self.assertEqual(len(granted), 10)
        cust = granted[0].provenance.request_id  # request id = customer id here

        # Restart: the accounting is in LMDB.
        self.assertEqual(self.srv.stop(), 0)
        self.srv.start()
        late = self.target("late-customer", request_id="late")
        self.assertEqual(late.decision.coupon_id, "")
        r = self.redeem("red-1", cust, "fix2", 1.5)
        self.assertFalse(r.duplicate)
        self.assertAlmostEqual(r.campaign_budget, 21.0)
        self.assertAlmostEqual(r.campaign_spent, 1.5)
        self.assertAlmostEqual(r.campaign_committed, 18.0)  # nine grants still open

    # -- RecordRedemption

    def test_redemption_is_idempotent_and_checks_the_grant(self):
        self.shop(["dora"])
        self.upsert(fixed_coupon("fix2", "spring", 100))
        self.assertStatus(rpc_error(self.redeem, "red-0", "dora", "fix2", 2.0),
                          SC.NOT_FOUND, "coupon_id")
        self.assertEqual(self.target("dora", request_id="ra").decision.coupon_id, "fix2")
        self.assertStatus(rpc_error(self.redeem, "red-x", "dora", "fix2", 5.0),
                          SC.INVALID_ARGUMENT, "discount")
        first = self.redeem("red-1", "dora", "fix2", 2.0)
        self.assertFalse(first.duplicate)
        self.assertAlmostEqual(first.campaign_spent, 2.0)
        self.assertAlmostEqual(first.campaign_committed, 0.0)
        second = self.redeem("red-1", "dora", "fix2", 2.0)
        self.assertTrue(second.duplicate)
        self.assertAlmostEqual(second.campaign_spent, 2.0)
        self.assertStatus(rpc_error(self.redeem, "red-2", "dora", "fix2", 2.0), SC.NOT_FOUND)
        # Issue 20, item 10: dora's id reused for another customer's grant
        # is refused (it answered duplicate and recorded nothing).
        self.shop(["emil"])
        self.assertEqual(self.target("emil", request_id="re").decision.coupon_id, "fix2")
        self.assertStatus(rpc_error(self.redeem, "red-1", "emil", "fix2", 2.0),
                          SC.ALREADY_EXISTS, "redemption_id")
        r = self.redeem("red-1e", "emil", "fix2", 2.0)
        self.assertFalse(r.duplicate)
        self.assertAlmostEqual(r.campaign_spent, 4.0)
        self.assertStatus(rpc_error(self.redeem, "red-3", "nobody", "fix2", 1.0), SC.NOT_FOUND)
        self.assertStatus(rpc_error(self.redeem, "", "dora", "fix2", 1.0),
                          SC.INVALID_ARGUMENT, "redemption_id")
        self.assertStatus(rpc_error(self.redeem, "red\t9", "dora", "fix2", 1.0),
                          SC.INVALID_ARGUMENT, "redemption_id", "control characters")
        self.assertStatus(rpc_error(self.redeem, "red-9", "do\x1bra", "fix2", 1.0),
                          SC.INVALID_ARGUMENT, "customer_id", "control characters")

    # -- SelectCampaignAudience

    def test_campaign_audience_ranked_and_cut_at_budget(self):
        customers = ["aud-%02d" % i for i in range(12)]
        self.shop(customers)
        self.upsert(fixed_coupon("aud2", "aud", 1000))
        members = self.audience("aud", 5.0)
        self.assertEqual(len(members), 2)  # 2 x 2.00 fits 5, a third would not
        profits = [m.expected_incremental_profit for m in members]
        self.assertEqual(profits, sorted(profits, reverse=True))
        self.assertLessEqual(members[-1].cumulative_max_cost, 5.0)
        for m in members:
            self.assertIn(m.customer_id, customers)
            self.assertEqual(m.coupon_id, "aud2")
            self.assertGreater(m.expected_incremental_profit, 0)
        everyone = self.audience("aud", 0)  # the campaign's remaining budget
        self.assertGreater(len(everyone), 2)
        self.assertLessEqual(len(everyone), len(customers))
        err = rpc_error(self.audience, "no-such-campaign", 5.0)
        self.assertStatus(err, SC.NOT_FOUND, "campaign_id")

    # -- the CLI

    def test_train_and_eval_uplift_from_offer_log(self):
        self.shop(["dora", "bob", "carol"])
        self.upsert(fixed_coupon("fix2", "spring", 100))
        self.holdout_split("t", 30)
        self.target("dora", request_id="cli-a")
        later = AS_OF + 8 * DAY
        out = h.run_patron("train-uplift", "--data", self.data, "--as-of", later).stdout
        self.assertIn("offers 31:", out)  # 30 probes and dora
        self.assertIn("stored", out)
        ev = h.run_patron("eval-uplift", "--data", self.data, "--as-of", later,
                          "--budgets", "10,50").stdout
        # Out of sample by default: a customer-hash split, sizes printed, the
        # model fitted on the train side and the three policies on the test side.
        self.assertIn("test share 0.30", ev)
        split = {}
        for line in ev.splitlines():
            m = re.match(r"\s*(train|test)\s+split: (\d+) offers from (\d+) customers", line)
            if m:
                split[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        self.assertEqual(set(split), {"train", "test"}, ev)
        self.assertEqual(split["train"][0] + split["test"][0], 31)
        self.assertEqual(split["train"][1] + split["test"][1], 31)  # one offer each
        self.assertGreater(split["test"][0], 0)
        self.assertIn("evaluated on the test split", ev)
        for what in ("AUUC", "uplift model", "propensity", "coupon to everyone",
                     "budget 10.00 (test split)", "budget 50.00 (test split)"):
            self.assertIn(what, ev)
        self.assertNotIn("IN SAMPLE", ev)
        # The split is a function of the customer ids: the same on a rerun.
        again = h.run_patron("eval-uplift", "--data", self.data, "--as-of", later,
                             "--budgets", "10,50").stdout
        self.assertEqual(again, ev)
        both = h.run_patron("eval-uplift", "--data", self.data, "--as-of", later,
                            "--in-sample", "--test-share", "0.5").stdout
        self.assertIn("test share 0.50", both)
        self.assertIn("IN SAMPLE (optimistic)", both)
        # Flags of the other command, and shares outside (0, 1), are usage errors.
        for bad in (("--test-share", "1"), ("--test-share", "0"), ("--per-coupon",)):
            r = patron_status("eval-uplift", "--data", self.data, *bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))

    def test_train_uplift_per_coupon(self):
        self.upsert(fixed_coupon("fix2", "spring", 1000))
        self.upsert(fixed_coupon("fix3", "spring", 1000, amount=3.0))
        self.holdout_split("pc", 120)
        later = AS_OF + 8 * DAY
        out = h.run_patron("train-uplift", "--data", self.data, "--as-of", later,
                           "--per-coupon").stdout
        self.assertIn('uplift model "default" stored', out)
        # 120 offers cannot give any coupon 200 rows per arm: both skipped, by name.
        for cid in ("fix2", "fix3"):
            self.assertRegex(out, r'coupon "%s": \d+ treated / \d+ control rows, fewer than '
                                  r"200 per arm: skipped \(uses the default model\)" % cid)
        counts = {}
        for m in re.finditer(r'coupon "(\w+)": (\d+) treated / (\d+) control', out):
            counts[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        treated = sum(t for t, _ in counts.values())
        control = counts["fix2"][1]
        self.assertEqual(counts["fix3"][1], control)  # the control rows are shared
        self.assertGreater(control, 0)
        self.assertIn("offers 120: treated %d" % treated, out)
        # A lower bar fits and stores each coupon that meets it.
        low = min(min(t for t, _ in counts.values()), control)
        out = h.run_patron("train-uplift", "--data", self.data, "--as-of", later,
                           "--per-coupon", "--min-rows", str(low)).stdout
        for cid, (t, c) in counts.items():
            self.assertIn('uplift model "%s" stored (%d treated, %d control rows)'
                          % (cid, t, c), out)
        # Decisions now use the per-coupon models; the service still answers.
        r = self.target("pc-new", request_id="pc-after")
        self.assertTrue(r.decision.reason)
        r = patron_status("train-uplift", "--data", self.data, "--min-rows", "5")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--per-coupon", r.stderr)


def main():
    h.run_suite(__doc__.splitlines()[0], "coupon integration suite")


if __name__ == "__main__":
    main()
