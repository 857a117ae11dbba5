#!/usr/bin/python3
"""Integration tests of entitlements (guaranteed coupons) and of the coupon
guards from the settings file: the real patrond on an ephemeral loopback
port (started with --profiles FILE where a test needs one), driven over gRPC
(see patron_harness.py).

    /usr/bin/python3 tests/integration/test_entitlements.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

Every decision uses a fixed as_of time, so the holdout and exploration draws
(hashes of customer id and day) are the same on every run.
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402

DAY = 86_400_000
AS_OF = 1_700_000_000_000 + 10 * DAY
SVC = "/patron.v1.Coupons/"


def fixed_coupon(coupon_id, campaign, budget, amount=2.0, **kw):
    """A fixed-amount coupon whose value is positive under the default priors."""
    c = h.pb.coupons
    return c.Coupon(coupon_id=coupon_id, campaign_id=campaign,
                    kind=c.COUPON_KIND_FIXED_AMOUNT,
                    benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=amount)],
                    valid_from_unix_ms=AS_OF - 30 * DAY, valid_until_unix_ms=AS_OF + DAY,
                    campaign_budget=budget, per_customer_limit=1, **kw)


class SettingsServerTest(unittest.TestCase):
    """A patrond started with the settings file SETTINGS (None: none)."""
    SETTINGS = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="patron-it-entitle-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        args = []
        if self.SETTINGS is not None:
            args = ["--profiles", self.write("settings.conf", self.SETTINGS)]
        self.srv = h.Server(os.path.join(self.dir, "data"), self.dir, extra_args=args)
        self.addCleanup(self.srv.kill)
        self.srv.start()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def upsert(self, coupon):
        c = h.pb.coupons
        return self.srv.call(SVC + "UpsertCoupon", c.UpsertCouponRequest(coupon=coupon),
                             c.UpsertCouponResponse).coupon

    def target(self, customer_id, request_id="", as_of=AS_OF, **kw):
        req = h.pb.coupons.TargetCouponsRequest(customer_id=customer_id, request_id=request_id,
                                                as_of_unix_ms=as_of, **kw)
        return self.srv.call(SVC + "TargetCoupons", req, h.pb.coupons.TargetCouponsResponse)

    def outcomes(self, prefix, n, **kw):
        return [self.target("%s-%03d" % (prefix, i), **kw).decision.outcome for i in range(n)]


AS_OF_MONTH = datetime.datetime.fromtimestamp(AS_OF / 1000, datetime.timezone.utc).month
YEAR_END = int(datetime.datetime(
    datetime.datetime.fromtimestamp(AS_OF / 1000, datetime.timezone.utc).year + 1, 1, 1,
    tzinfo=datetime.timezone.utc).timestamp() * 1000)


class EntitlementTests(SettingsServerTest):
    """A small shop: customers with three orders each, a 15.00 birthday gift
    and a discretionary 20 % off, both more than uplift targeting finds worth
    giving them."""

    def setUp(self):
        super().setUp()
        common = h.pb.common
        self.srv.upsert_items([common.Item(item_id="book-1", category="books", price=20,
                                           unit_cost=12)])
        events = []
        for i, cust in enumerate(["ann", "bob", "cid", "dee"]):
            for j in range(3):
                events.append(common.Event(
                    event_id="%s-%d" % (cust, j), customer_id=cust, item_id="book-1",
                    type=common.EVENT_TYPE_PURCHASE,
                    time_unix_ms=AS_OF - 9 * DAY + (i + 3 * j) * DAY // 4,
                    quantity=3, unit_price=20))
        self.assertEqual(self.srv.record_events(events).accepted, len(events))
        c = h.pb.coupons
        self.upsert(c.Coupon(coupon_id="p20", campaign_id="autumn",
                             kind=c.COUPON_KIND_PERCENT_OFF,
                             benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_PERCENT,
                                                       percent=0.2, cap=50)],
                             valid_from_unix_ms=AS_OF - 30 * DAY,
                             valid_until_unix_ms=AS_OF + 30 * DAY,
                             campaign_budget=1000, per_customer_limit=1))

    def birthday(self, customer_id, month=AS_OF_MONTH):
        P = h.pb.profiles
        self.srv.call("/patron.v1.Profiles/SetCustomerAttributes",
                      P.SetCustomerAttributesRequest(attributes=P.CustomerAttributes(
                          customer_id=customer_id, birth_month=month, birth_day=3)),
                      P.SetCustomerAttributesResponse)

    def gift(self, budget=100, **kw):
        c = h.pb.coupons
        fields = dict(coupon_id="bday", campaign_id="birthdays", kind=c.COUPON_KIND_BIRTHDAY,
                      benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=15)],
                      valid_from_unix_ms=AS_OF - 30 * DAY,
                      valid_until_unix_ms=AS_OF + 400 * DAY,
                      campaign_budget=budget, per_customer_limit=5,
                      mode=c.COUPON_MODE_GUARANTEED, period=c.GRANT_PERIOD_YEAR)
        fields.update(kw)
        return self.upsert(c.Coupon(**fields))

    def test_birthday_entitlement_beside_the_uplift_decision(self):
        c, common = h.pb.coupons, h.pb.common
        self.birthday("ann")
        self.birthday("bob", month=AS_OF_MONTH % 12 + 1)
        # Targeted, the birthday coupon is declined like any coupon that
        # does not pay: the old behaviour, still the rule for discretionary ones.
        self.gift(mode=c.COUPON_MODE_TARGETED, period=c.GRANT_PERIOD_UNSPECIFIED)
        before = self.target("ann", request_id="t0")
        self.assertEqual(before.decision.outcome, common.COUPON_OUTCOME_NONE_NOT_WORTH)
        self.assertEqual(list(before.entitlements), [])
        # Guaranteed: granted beside the (still declined) targeted choice.
        stored = self.gift()
        self.assertEqual(stored.mode, c.COUPON_MODE_GUARANTEED)
        first = self.target("ann", request_id="t1")
        self.assertEqual(first.decision.outcome, common.COUPON_OUTCOME_NONE_NOT_WORTH)
        self.assertEqual(first.decision.coupon_id, "")
        self.assertIn("p20", first.decision.reason)   # the uplift test ran on p20 only
        self.assertEqual(len(first.entitlements), 1)
        e = first.entitlements[0]
        self.assertEqual((e.coupon_id, e.campaign_id, e.kind, e.status),
                         ("bday", "birthdays", c.COUPON_KIND_BIRTHDAY,
                          c.ENTITLEMENT_STATUS_GRANTED))
        self.assertEqual(e.granted_unix_ms, AS_OF)
        self.assertEqual(e.valid_until_unix_ms, YEAR_END)
        self.assertEqual(e.period_end_unix_ms, YEAR_END)
        self.assertEqual(e.max_cost, 15.0)
        # A second call in the same year grants nothing again.
        second = self.target("ann", request_id="t2", as_of=AS_OF + DAY)
        # ...and the unused gift she holds keeps no targeted coupon out: p20
        # is still decided on by uplift.
        self.assertEqual(second.decision.outcome, common.COUPON_OUTCOME_NONE_NOT_WORTH)
        self.assertIn("p20", second.decision.reason)
        self.assertEqual(len(second.entitlements), 1)
        self.assertEqual(second.entitlements[0].status, c.ENTITLEMENT_STATUS_ALREADY_GRANTED)
        self.assertEqual(second.entitlements[0].granted_unix_ms, AS_OF)
        # A retry of the first request answers as the first time did.
        retry = self.target("ann", request_id="t1")
        self.assertTrue(retry.replayed)
        self.assertEqual(retry.entitlements[0].status, c.ENTITLEMENT_STATUS_GRANTED)
        # The grant is a coupon like any other: it is redeemed against its
        # reservation, once.
        red = self.srv.call(SVC + "RecordRedemption", c.RecordRedemptionRequest(
            redemption_id="r1", customer_id="ann", coupon_id="bday", discount=15,
            time_unix_ms=AS_OF + 2 * DAY), c.RecordRedemptionResponse)
        self.assertEqual((red.campaign_spent, red.campaign_committed), (15.0, 0.0))
        third = self.target("ann", request_id="t3", as_of=AS_OF + 3 * DAY)
        self.assertEqual(third.entitlements[0].status, c.ENTITLEMENT_STATUS_ALREADY_GRANTED)
        # Not the birth month: nothing; an unknown birthday: nothing.
        self.assertEqual(list(self.target("bob", request_id="b1").entitlements), [])
        self.assertEqual(list(self.target("cid", request_id="c1").entitlements), [])

    def test_signup_anniversary(self):
        c, P = h.pb.coupons, h.pb.profiles
        for cust, signup in (("ann", AS_OF - 366 * DAY), ("bob", AS_OF - 3 * DAY)):
            self.srv.call("/patron.v1.Profiles/SetCustomerAttributes",
                          P.SetCustomerAttributesRequest(attributes=P.CustomerAttributes(
                              customer_id=cust, signup_unix_ms=signup)),
                          P.SetCustomerAttributesResponse)
        self.gift(coupon_id="anniv", kind=c.COUPON_KIND_ANNIVERSARY)
        got = self.target("ann", request_id="a1")
        self.assertEqual([(e.coupon_id, e.kind, e.status) for e in got.entitlements],
                         [("anniv", c.COUPON_KIND_ANNIVERSARY, c.ENTITLEMENT_STATUS_GRANTED)])
        # Signed up days ago: the first anniversary is next year.
        self.assertEqual(list(self.target("bob", request_id="b1").entitlements), [])

    def test_holdout_customer_still_gets_the_promise(self):
        c, common = h.pb.coupons, h.pb.common
        self.gift()
        held = None
        for i in range(200):
            cust = "h-%03d" % i
            r = self.target(cust, request_id="probe-" + cust)
            if r.decision.outcome == common.COUPON_OUTCOME_NONE_HOLDOUT:
                held = cust
                break
        self.assertIsNotNone(held, "5 % of 200 ids are held out")
        self.birthday(held)
        r = self.target(held, request_id="after-birthday")
        self.assertEqual(r.decision.outcome, common.COUPON_OUTCOME_NONE_HOLDOUT)
        self.assertEqual([(e.coupon_id, e.status) for e in r.entitlements],
                         [("bday", c.ENTITLEMENT_STATUS_GRANTED)])

    def test_budget_and_device_limits_still_hold(self):
        c = h.pb.coupons
        self.gift(budget=20)   # one 15.00 gift fits, a second does not
        for cust in ("ann", "bob", "cid", "dee"):
            self.birthday(cust)
        got = self.target("ann", request_id="a", device_id="phone")
        self.assertEqual(got.entitlements[0].status, c.ENTITLEMENT_STATUS_GRANTED)
        broke = self.target("bob", request_id="b")
        self.assertEqual(broke.entitlements[0].status, c.ENTITLEMENT_STATUS_REFUSED_BUDGET)
        self.assertIn("budget", broke.entitlements[0].reason)
        self.gift(budget=100)
        for cust in ("cid", "dee"):          # accounts 2 and 3 on the phone: allowed
            self.target(cust, request_id="x-" + cust, device_id="phone")
        fourth = self.target("bob", request_id="b2", device_id="phone")
        self.assertEqual(fourth.entitlements[0].status, c.ENTITLEMENT_STATUS_REFUSED_VELOCITY)
        self.assertIn("device", fourth.entitlements[0].reason)

    def test_cli_upserts_and_shows_entitlements(self):
        self.birthday("ann")
        iso = lambda ms: datetime.datetime.fromtimestamp(  # noqa: E731
            ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        base = [h.PATRON, "coupon", "upsert", "--addr", self.srv.addr, "--id", "bday",
                "--campaign", "birthdays", "--kind", "birthday", "--budget", "100",
                "--benefit", "amount,amount=15", "--from", iso(AS_OF - 30 * DAY),
                "--until", iso(AS_OF + 400 * DAY), "--per-customer", "5"]
        run = lambda *a: subprocess.run(list(a), capture_output=True, text=True,  # noqa: E731
                                        timeout=30)
        out = run(*base, "--guaranteed", "fortnight")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--guaranteed: expected once, year, month or week", out.stderr)
        out = run(*base, "--guaranteed", "year")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("guaranteed: GRANT_PERIOD_YEAR", out.stdout)
        out = run(h.PATRON, "coupon", "target", "--addr", self.srv.addr, "--user", "ann",
                  "--request-id", "cli-1", "--as-of", iso(AS_OF))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("outcome COUPON_OUTCOME_NONE_NOT_WORTH", out.stdout)
        self.assertIn("entitlement bday (campaign birthdays): GRANTED at %s" % iso(AS_OF),
                      out.stdout)
        out = run(h.PATRON, "coupon", "target", "--addr", self.srv.addr, "--user", "ann",
                  "--request-id", "cli-2", "--as-of", iso(AS_OF + DAY))
        self.assertIn("entitlement bday (campaign birthdays): ALREADY_GRANTED", out.stdout)

    def test_spend_milestone_voucher(self):
        """"Spend 200 this year, get a 10.00 voucher": every customer spent
        180 in the year of AS_OF; the voucher comes with the purchase that
        crosses 200, once that year, and not in January of the next."""
        c, common = h.pb.coupons, h.pb.common
        v = self.upsert(c.Coupon(
            coupon_id="vip", campaign_id="milestones", kind=c.COUPON_KIND_FIXED_AMOUNT,
            benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=10)],
            valid_from_unix_ms=AS_OF - 30 * DAY, valid_until_unix_ms=AS_OF + 400 * DAY,
            campaign_budget=100, per_customer_limit=5, mode=c.COUPON_MODE_GUARANTEED,
            period=c.GRANT_PERIOD_YEAR, milestone_spend=200))
        self.assertEqual(v.milestone_spend, 200)
        self.assertEqual(list(self.target("ann", "m-1").entitlements), [])
        self.assertEqual(self.srv.record_events([common.Event(
            event_id="ann-more", customer_id="ann", item_id="book-1",
            type=common.EVENT_TYPE_PURCHASE, time_unix_ms=AS_OF - DAY, quantity=1,
            unit_price=20)]).accepted, 1)
        e = self.target("ann", "m-2").entitlements
        self.assertEqual([(x.coupon_id, x.status) for x in e],
                         [("vip", c.ENTITLEMENT_STATUS_GRANTED)])
        self.assertIn("spent 200.00 of the 200.00 milestone", e[0].reason)
        self.assertEqual(e[0].valid_until_unix_ms, YEAR_END)
        self.assertEqual([x.status for x in self.target("ann", "m-3", as_of=AS_OF + DAY)
                          .entitlements], [c.ENTITLEMENT_STATUS_ALREADY_GRANTED])
        self.assertEqual(list(self.target("bob", "m-4").entitlements), [])
        # a new year starts from nothing
        self.assertEqual(list(self.target("ann", "m-5", as_of=YEAR_END + DAY).entitlements),
                         [])

    def test_bad_definitions_name_the_field(self):
        c = h.pb.coupons
        for kw, field in ((dict(period=c.GRANT_PERIOD_UNSPECIFIED), "coupon.period"),
                          (dict(mode=c.COUPON_MODE_TARGETED), "coupon.period"),
                          (dict(mode=9), "coupon.mode"),
                          (dict(period=9), "coupon.period"),
                          (dict(milestone_spend=-1), "coupon.milestone_spend"),
                          (dict(milestone_spend=float("nan")), "coupon.milestone_spend"),
                          (dict(mode=c.COUPON_MODE_TARGETED, period=c.GRANT_PERIOD_UNSPECIFIED,
                                milestone_spend=100), "coupon.milestone_spend")):
            err = h.rpc_error(self.gift, **kw)
            self.assertEqual(err.code(), grpc.StatusCode.INVALID_ARGUMENT, err.details())
            self.assertIn(field, err.details())


class DefaultGuardsTests(SettingsServerTest):
    def test_without_settings_the_default_holdout_holds_some_out(self):
        self.upsert(fixed_coupon("fix", "spring", 1000))
        got = self.outcomes("d", 100)
        held = got.count(h.pb.common.COUPON_OUTCOME_NONE_HOLDOUT)
        self.assertGreater(held, 0)   # 5 % of 100, deterministic
        self.assertLess(held, 15)


class TunedGuardsTests(SettingsServerTest):
    SETTINGS = ("tier_window_days = 365\n"
                "coupon_holdout_rate = 0        # no control group\n"
                "coupon_explore_rate = 0\n"
                "coupon_weekly_cap = 1\n"
                "coupon_max_accounts_per_device = 1\n")

    def test_settings_file_tunes_every_guard(self):
        common = h.pb.common
        self.upsert(fixed_coupon("fix", "spring", 1000))
        self.upsert(fixed_coupon("fix-b", "spring", 1000, stackable=True))
        # Holdout 0: the customers the default holds out get a coupon now.
        got = self.outcomes("d", 100)
        self.assertNotIn(common.COUPON_OUTCOME_NONE_HOLDOUT, got)
        self.assertEqual(got.count(common.COUPON_OUTCOME_GRANT), 100)
        # A weekly cap of 1: a second coupon within the week is refused.
        again = self.target("d-000", as_of=AS_OF + 1000, request_id="second")
        self.assertEqual(again.decision.outcome, common.COUPON_OUTCOME_NONE_FREQUENCY)
        # One account per device: the second account on it gets none.
        first = self.target("dev-a", device_id="phone-1")
        self.assertEqual(first.decision.outcome, common.COUPON_OUTCOME_GRANT)
        second = self.target("dev-b", device_id="phone-1")
        self.assertEqual(second.decision.outcome, common.COUPON_OUTCOME_NONE_VELOCITY)
        self.assertIn("device", second.decision.reason)


class BadSettingsTests(unittest.TestCase):
    def test_out_of_range_guard_refuses_to_start_naming_the_line(self):
        d = tempfile.mkdtemp(prefix="patron-it-entitle-bad-")
        self.addCleanup(shutil.rmtree, d, True)
        for text, want in (("new_days = 30\ncoupon_holdout_rate = 1.5\n",
                            "bad.conf:2: coupon_holdout_rate: expected a fraction in [0, 1)"),
                           ("coupon_weekly_cap = two\n",
                            "bad.conf:1: coupon_weekly_cap: expected a whole number 0..1000"),
                           ("coupon_holdout_salt = 1\n",
                            "bad.conf:1: coupon_holdout_salt: unknown setting")):
            path = os.path.join(d, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            bad = h.Server(os.path.join(d, "data"), d, extra_args=["--profiles", path])
            with self.assertRaises(AssertionError) as ctx:
                bad.start()
            bad.kill()
            self.assertIn(want, str(ctx.exception))

    def test_cli_reads_the_same_file(self):
        d = tempfile.mkdtemp(prefix="patron-it-entitle-cli-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "s.conf")
        with open(path, "w") as f:
            f.write("coupon_weekly_cap = 3\ncoupon_explore_rate = 7\n")
        data = os.path.join(d, "data")
        h.run_patron("init", "--data", data)
        r = subprocess.run([h.PATRON, "segments", "--data", data, "--profiles", path],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("s.conf:2: coupon_explore_rate", r.stderr)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_entitlements")
