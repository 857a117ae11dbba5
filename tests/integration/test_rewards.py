#!/usr/bin/python3
"""Integration tests of manual point adjustments and the rewards catalog
against the real patrond:

    /usr/bin/python3 tests/integration/test_rewards.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

AdjustPoints writes a stored adjustment: an adjust row in ListPointsLedger
with the reason as its note, idempotent by adjustment_id, a negative one
refused (never clamped) when the balance is smaller, erased, exported and
merged with the customer. RedeemPoints with a reward_id buys a reward of
the settings file's catalog: a coupon (granted in the same transaction as
the points are spent; refused, spending nothing, when its campaign cannot
pay), cash at its rate above its minimum, a tier held for its days
(GetProfile shows it); 8 concurrent redemptions never overdraw; ListRewards
says what a customer affords. Bad requests get INVALID_ARGUMENT or
NOT_FOUND naming the field. The balance equals the sum of the ledger after
every operation.
"""
import concurrent.futures
import os
import sys
import time

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, rpc_error  # noqa: E402

SETTINGS = """\
points_rule = visit check_in points 100
"""
WHO = "rita"


class PointsClient:
    """The Profiles points calls, shared by the suites below."""

    def P(self):
        return h.pb.profiles

    def check_in(self, who, eid, n=1):
        E = h.pb.common.Event
        now = int(time.time() * 1000) - 60_000
        evs = [E(event_id="%s-%d" % (eid, i), customer_id=who, time_unix_ms=now + i,
                 type=h.pb.common.EVENT_TYPE_CHECK_IN) for i in range(n)]
        r = self.srv.record_events(evs)
        self.assertEqual((r.accepted, r.rejected), (n, 0), list(r.errors))

    def adjust(self, aid, delta, reason="goodwill", who=WHO, operator_id="ops-1"):
        P = self.P()
        return self.srv.call("/patron.v1.Profiles/AdjustPoints",
                             P.AdjustPointsRequest(customer_id=who, adjustment_id=aid,
                                                   delta=delta, reason=reason,
                                                   operator_id=operator_id),
                             P.AdjustPointsResponse)

    def redeem(self, rid, points=0, who=WHO, **kw):
        P = self.P()
        return self.srv.call("/patron.v1.Profiles/RedeemPoints",
                             P.RedeemPointsRequest(customer_id=who, redemption_id=rid,
                                                   points=points, **kw),
                             P.RedeemPointsResponse)

    def ledger(self, who=WHO):
        P = self.P()
        return self.srv.call("/patron.v1.Profiles/ListPointsLedger",
                             P.ListPointsLedgerRequest(customer_id=who, page_size=1000),
                             P.ListPointsLedgerResponse)

    def assert_balance_is_ledger(self, who=WHO, expect=None):
        """The balance is the sum of the ledger's deltas, row by row."""
        led = self.ledger(who)
        running = 0
        for r in led.rows:
            running += r.delta
            self.assertEqual(r.balance, running)
        self.assertEqual(led.balance, running)
        if expect is not None:
            self.assertEqual(led.balance, expect)
        return led


class AdjustTests(PointsClient, ServerTest):
    def server_options(self):
        return self.settings_options(SETTINGS)

    def setUp(self):
        super().setUp()
        self.check_in(WHO, "v", 2)   # 200 points

    def test_adjust_rows_and_idempotency(self):
        P = self.P()
        a = self.adjust("adj-1", 50, "late delivery")
        self.assertEqual((a.balance, a.duplicate, a.delta), (250, False, 50))
        self.assert_balance_is_ledger(expect=250)
        # A retry changes nothing and answers the first delta.
        again = self.adjust("adj-1", 70, "late delivery")
        self.assertEqual((again.balance, again.duplicate, again.delta), (250, True, 50))
        d = self.adjust("adj-2", -120, "double credit")
        self.assertEqual((d.balance, d.duplicate), (130, False))
        led = self.assert_balance_is_ledger(expect=130)
        rows = [(P.PointsReason.Name(r.reason), r.rule, r.source_id, r.delta, r.note)
                for r in led.rows]
        self.assertEqual(rows[-2:], [("POINTS_REASON_ADJUST", "", "adj-1", 50, "late delivery"),
                                     ("POINTS_REASON_ADJUST", "", "adj-2", -120,
                                      "double credit")])
        # Never below zero: refused, not clamped, nothing written.
        err = rpc_error(self.adjust, "adj-3", -131, "too much")
        self.assertStatus(err, SC.FAILED_PRECONDITION, "delta", "130")
        self.assert_balance_is_ledger(expect=130)
        self.assertEqual(self.adjust("adj-4", -130, "all of it").balance, 0)
        self.assert_balance_is_ledger(expect=0)
        p = self.srv.call("/patron.v1.Profiles/GetProfile",
                          P.GetProfileRequest(customer_id=WHO), P.GetProfileResponse).profile
        self.assertEqual(p.points, 0)

    def test_ids_shared_with_redemptions(self):
        self.redeem("r-1", 10)
        self.assertStatus(rpc_error(self.adjust, "r-1", 5), SC.ALREADY_EXISTS,
                          "adjustment_id")
        self.adjust("a-1", 5)
        self.assertStatus(rpc_error(self.redeem, "a-1", 5), SC.ALREADY_EXISTS,
                          "redemption_id")
        self.assert_balance_is_ledger(expect=195)

    def test_export_erase_and_merge(self):
        P = self.P()
        self.adjust("adj-1", 40, "survey bonus", operator_id="anna")
        ex = self.srv.call("/patron.v1.Profiles/ExportCustomer",
                           P.ExportCustomerRequest(customer_id=WHO),
                           P.ExportCustomerResponse)
        got = [(x.redemption_id, x.points, x.adjust, x.reason, x.operator_id)
               for x in ex.points_redemptions]
        self.assertEqual(got, [("adj-1", 0, 40, "survey bonus", "anna")])
        # Merge: the adjustment moves with the ledger.
        self.check_in("anon", "w", 1)
        self.adjust("adj-anon", 7, "app install", who="anon")
        self.srv.call("/patron.v1.Profiles/MergeCustomers",
                      P.MergeCustomersRequest(source_customer_id="anon",
                                              target_customer_id=WHO),
                      P.MergeCustomersResponse)
        led = self.assert_balance_is_ledger(expect=200 + 40 + 100 + 7)
        self.assertIn("adj-anon", [r.source_id for r in led.rows])
        # A retry through the merged id is a duplicate on the survivor.
        r = self.adjust("adj-anon", 7, "app install", who="anon")
        self.assertEqual((r.duplicate, r.resolved_customer_id), (True, WHO))
        # Erasure removes it.
        self.srv.call("/patron.v1.Profiles/DeleteCustomer",
                      P.DeleteCustomerRequest(customer_id=WHO), P.DeleteCustomerResponse)
        self.assertStatus(rpc_error(self.ledger), SC.NOT_FOUND, "customer_id")

    def test_bad_requests(self):
        for kw, field in [(dict(aid="", delta=5), "adjustment_id"),
                          (dict(aid="x", delta=0), "delta"),
                          (dict(aid="x", delta=10**12), "delta"),
                          (dict(aid="x", delta=-10**12), "delta"),
                          (dict(aid="x", delta=5, reason=""), "reason"),
                          (dict(aid="x", delta=5, reason="r" * 201), "reason"),
                          (dict(aid="x", delta=5, who=""), "customer_id"),
                          (dict(aid="x", delta=5, operator_id="a\x01b"), "operator_id")]:
            self.assertStatus(rpc_error(self.adjust, **kw), SC.INVALID_ARGUMENT, field)
        self.assertStatus(rpc_error(self.adjust, "x", 5, who="nobody"), SC.NOT_FOUND,
                          "customer_id")
        self.assert_balance_is_ledger(expect=200)


REWARD_SETTINGS = """\
tier = basic 0 0 0
tier = gold 5000 50 0
tier_window_days = 30
tier_grace_days = 10
points_rule = visit check_in points 100
reward = gift coupon gift5 cost 300
reward = broke coupon poor5 cost 100
reward = cash cash rate 0.01 min 200 step 100
reward = goldpass tier gold cost 400 days 30
"""
DAY = 86400_000


class RewardTests(PointsClient, ServerTest):
    def server_options(self):
        return self.settings_options(REWARD_SETTINGS)

    def setUp(self):
        super().setUp()
        c = h.pb.coupons
        now = int(time.time() * 1000)
        for cid, campaign, budget in [("gift5", "loyal", 100), ("poor5", "thin", 4)]:
            self.srv.call("/patron.v1.Coupons/UpsertCoupon", c.UpsertCouponRequest(
                coupon=c.Coupon(coupon_id=cid, campaign_id=campaign,
                                kind=c.COUPON_KIND_FIXED_AMOUNT,
                                benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=5)],
                                valid_from_unix_ms=now - DAY, valid_until_unix_ms=now + 30 * DAY,
                                campaign_budget=budget, per_customer_limit=1)),
                          c.UpsertCouponResponse)
        self.valid_until = now + 30 * DAY
        self.check_in(WHO, "v", 10)  # 1000 points

    def test_each_kind(self):
        P = self.P()
        g = self.redeem("r-gift", reward_id="gift")
        self.assertEqual((g.balance, g.duplicate, g.reward_id, g.kind, g.points, g.coupon_id),
                         (700, False, "gift", P.REWARD_KIND_COUPON, 300, "gift5"))
        self.assertEqual(g.coupon_valid_until_unix_ms, self.valid_until)
        self.assert_balance_is_ledger(expect=700)
        again = self.redeem("r-gift", 300, reward_id="gift")
        self.assertEqual((again.duplicate, again.balance, again.coupon_id), (True, 700, "gift5"))
        # The grant is real: the coupon engine redeems it.
        c = h.pb.coupons
        red = self.srv.call("/patron.v1.Coupons/RecordRedemption", c.RecordRedemptionRequest(
            redemption_id="use-1", customer_id=WHO, coupon_id="gift5", discount=5,
            time_unix_ms=int(time.time() * 1000)), c.RecordRedemptionResponse)
        self.assertFalse(red.duplicate)

        m = self.redeem("r-cash", 300, reward_id="cash")
        self.assertEqual((m.balance, m.kind, m.cash, m.points), (400, P.REWARD_KIND_CASH, 3.0, 300))
        self.assert_balance_is_ledger(expect=400)

        t = self.redeem("r-tier", reward_id="goldpass")
        self.assertEqual((t.balance, t.kind, t.tier), (0, P.REWARD_KIND_TIER, "gold"))
        self.assertAlmostEqual(t.tier_until_unix_ms, int(time.time() * 1000) + 30 * DAY,
                               delta=60_000)
        p = self.srv.call("/patron.v1.Profiles/GetProfile", P.GetProfileRequest(customer_id=WHO),
                          P.GetProfileResponse).profile
        self.assertEqual((p.tier, p.tier_status.tier, p.tier_reward_until_unix_ms),
                         ("gold", "gold", t.tier_until_unix_ms))
        led = self.assert_balance_is_ledger(expect=0)
        notes = [(r.source_id, r.delta, r.note) for r in led.rows if r.note]
        self.assertEqual(notes, [("r-gift", -300, "reward gift"), ("r-cash", -300, "reward cash"),
                                 ("r-tier", -400, "reward goldpass")])
        # Export keeps what each redemption issued.
        ex = self.srv.call("/patron.v1.Profiles/ExportCustomer",
                           P.ExportCustomerRequest(customer_id=WHO), P.ExportCustomerResponse)
        got = {x.redemption_id: (x.reward_id, x.coupon_id, x.cash, x.tier)
               for x in ex.points_redemptions}
        self.assertEqual(got, {"r-gift": ("gift", "gift5", 0, ""), "r-cash": ("cash", "", 3.0, ""),
                               "r-tier": ("goldpass", "", 0, "gold")})

    def test_budget_exhausted_spends_nothing(self):
        err = rpc_error(self.redeem, "r-poor", reward_id="broke")
        self.assertStatus(err, SC.FAILED_PRECONDITION, "reward_id", "thin",
                          "nothing was spent")
        self.assert_balance_is_ledger(expect=1000)
        # Nothing stored under the id either: it buys something else.
        self.assertEqual(self.redeem("r-poor", 200, reward_id="cash").balance, 800)

    def test_concurrent_redemptions_never_overdraw(self):
        def one(i):
            try:
                return self.redeem("race-%d" % i, 300, reward_id="cash").balance
            except grpc.RpcError as e:
                return e.code()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
        ok = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if not isinstance(r, int)]
        self.assertEqual(len(ok), 3, results)
        self.assertEqual(refused, [SC.FAILED_PRECONDITION] * 5)
        self.assert_balance_is_ledger(expect=100)

    def test_list_rewards(self):
        P = self.P()
        lr = self.srv.call("/patron.v1.Profiles/ListRewards",
                           P.ListRewardsRequest(customer_id=WHO), P.ListRewardsResponse)
        self.assertEqual(lr.balance, 1000)
        got = [(r.reward_id, r.kind, r.cost, r.affordable) for r in lr.rewards]
        self.assertEqual(got, [("gift", P.REWARD_KIND_COUPON, 300, True),
                               ("broke", P.REWARD_KIND_COUPON, 100, True),
                               ("cash", P.REWARD_KIND_CASH, 0, True),
                               ("goldpass", P.REWARD_KIND_TIER, 400, True)])
        cash = lr.rewards[2]
        self.assertEqual((cash.cash_rate, cash.min_points, cash.step_points, cash.max_points,
                          cash.max_cash), (0.01, 200, 100, 1000, 10.0))
        self.assertEqual((lr.rewards[0].coupon_id, lr.rewards[3].tier, lr.rewards[3].tier_days),
                         ("gift5", "gold", 30))
        self.redeem("r-cash", 800, reward_id="cash")
        lr = self.srv.call("/patron.v1.Profiles/ListRewards",
                           P.ListRewardsRequest(customer_id=WHO), P.ListRewardsResponse)
        self.assertEqual([r.affordable for r in lr.rewards], [False, True, True, False])
        self.assertEqual((lr.rewards[2].max_points, lr.rewards[2].max_cash), (200, 2.0))
        anon = self.srv.call("/patron.v1.Profiles/ListRewards", P.ListRewardsRequest(),
                             P.ListRewardsResponse)
        self.assertEqual([r.affordable for r in anon.rewards], [False] * 4)
        self.assertStatus(rpc_error(self.srv.call, "/patron.v1.Profiles/ListRewards",
                                    P.ListRewardsRequest(customer_id="nobody"),
                                    P.ListRewardsResponse), SC.NOT_FOUND, "customer_id")

    def test_bad_requests(self):
        err = rpc_error(self.redeem, "r-x", reward_id="yacht")
        self.assertStatus(err, SC.NOT_FOUND, "reward_id", "yacht")
        for points, reward, words in [(-5, "cash", ("points", "200..")),
                                      (150, "cash", ("points",)),
                                      (250, "cash", ("points", "multiples of 100")),
                                      (2 ** 62, "cash", ("points",)),
                                      (-1, "gift", ("points", "costs 300")),
                                      (2 ** 62, "goldpass", ("points", "costs 400"))]:
            self.assertStatus(rpc_error(self.redeem, "r-x", points, reward_id=reward),
                              SC.INVALID_ARGUMENT, *words)
        self.assertStatus(rpc_error(self.redeem, "r-x", reward_id="gift", device_id="d" * 300),
                          SC.INVALID_ARGUMENT, "device_id")
        self.assertStatus(rpc_error(self.redeem, "r-x", reward_id="gift", who="nobody"),
                          SC.NOT_FOUND, "customer_id")
        # More than the balance: refused naming points, nothing spent.
        self.assertStatus(rpc_error(self.redeem, "r-x", 1100, reward_id="cash"),
                          SC.FAILED_PRECONDITION, "points", "1000")
        self.assert_balance_is_ledger(expect=1000)

    def test_bad_reward_lines_refuse_to_start(self):
        for text, want in [
                ("reward = x voucher v cost 5\n", "bad.conf:1: reward: KIND"),
                ("\nreward = x cash rate 0.01 step 0\n", "bad.conf:2: reward: step:"),
                ("reward = x tier diamond cost 5\n", "bad.conf:1: reward: tier: no tier")]:
            self.assert_settings_refused(text, want)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_rewards")
