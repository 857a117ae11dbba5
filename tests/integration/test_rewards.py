#!/usr/bin/python3
"""Integration tests of manual point adjustments and the rewards catalog
against the real patrond:

    /usr/bin/python3 tests/integration/test_rewards.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

AdjustPoints writes a stored adjustment: an adjust row in ListPointsLedger
with the reason as its note, idempotent by adjustment_id, a negative one
refused (never clamped) when the balance is smaller, erased, exported and
merged with the customer. Bad requests get INVALID_ARGUMENT naming the
field. The balance equals the sum of the ledger after every operation.
"""
import os
import sys
import time

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


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_rewards")
