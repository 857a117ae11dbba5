#!/usr/bin/python3
"""Integration tests of the coupon guards from the settings file: the real
patrond on an ephemeral loopback port, started with --profiles FILE, driven
over gRPC (see patron_harness.py).

    /usr/bin/python3 tests/integration/test_entitlements.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

Every decision uses a fixed as_of time, so the holdout and exploration draws
(hashes of customer id and day) are the same on every run.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)

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
