#!/usr/bin/python3
"""`patron coupon upsert|target|audience|redeem|budget` against a real
patrond: each sub-command's effect is checked through the API (or the other
way round), times given as ISO 8601.

    /usr/bin/python3 tests/integration/test_coupon_cli.py --build BUILD_DIR \
        --proto proto [unittest args]
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import Server  # noqa: E402

DAY = 86_400_000
BASE_MS = 1_700_000_000_000
AS_OF = BASE_MS + 10 * DAY
SVC = "/patron.v1.Coupons/"


def iso(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (".%03dZ" % (ms % 1000) if ms % 1000 else "Z")


def patron(*args):
    return subprocess.run([h.PATRON] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=60)


class CouponCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="patron-it-coupon-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.data = os.path.join(self.dir, "data")
        self.srv = Server(self.data, self.dir)
        self.addCleanup(self.srv.kill)
        self.srv.start()
        common = h.pb.common
        self.srv.upsert_items([common.Item(item_id="book-1", category="books", price=20,
                                           unit_cost=12)])
        self.customers = ["cli-%03d" % i for i in range(40)]
        events = [common.Event(event_id="%s-%d" % (c, j), customer_id=c, item_id="book-1",
                               type=common.EVENT_TYPE_PURCHASE,
                               time_unix_ms=BASE_MS + (i + 3 * j) * DAY // 4, quantity=3,
                               unit_price=20)
                  for i, c in enumerate(self.customers) for j in range(3)]
        self.assertEqual(self.srv.record_events(events).accepted, len(events))

    def upsert_cli(self, *extra):
        return patron("coupon", "upsert", "--addr", self.srv.addr, "--id", "fix",
                      "--campaign", "spring", "--kind", "fixed-amount", "--budget", 100,
                      "--benefit", "amount,amount=2", "--from", iso(AS_OF - 30 * DAY),
                      "--until", iso(AS_OF + DAY), *extra)

    def test_upsert_target_audience_redeem_budget(self):
        out = self.upsert_cli()
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("coupon fix: campaign spring, kind COUPON_KIND_FIXED_AMOUNT, 1 benefit(s), "
                      "valid %s to %s, campaign budget 100" % (iso(AS_OF - 30 * DAY),
                                                                iso(AS_OF + DAY)), out.stdout)

        # audience: the CLI's CSV is the stream the API answers.
        out = patron("coupon", "audience", "--addr", self.srv.addr, "--campaign", "spring",
                     "--budget", 50, "--as-of", iso(AS_OF))
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0], "customer_id,coupon_id,expected_incremental_profit,"
                                   "expected_cost,max_cost,cumulative_max_cost")
        fn = self.srv.channel.unary_stream(
            SVC + "SelectCampaignAudience", request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.coupons.SelectCampaignAudienceResponse.FromString)
        api = list(fn(h.pb.coupons.SelectCampaignAudienceRequest(
            campaign_id="spring", budget=50, as_of_unix_ms=AS_OF), timeout=h.RPC_TIMEOUT))
        self.assertGreater(len(api), 0)
        self.assertEqual([l.split(",")[:2] for l in lines[1:]],
                         [[m.customer_id, m.coupon_id] for m in api])

        # target: the first customer granted the coupon (others may be held out).
        granted = None
        for c in self.customers:
            out = patron("coupon", "target", "--addr", self.srv.addr, "--user", c,
                         "--request-id", "r-" + c, "--as-of", iso(AS_OF),
                         "--cart", "book-1:2:20:12")
            self.assertEqual(out.returncode, 0, out.stderr)
            if "outcome COUPON_OUTCOME_GRANT" in out.stdout:
                self.assertIn("customer %s: coupon fix (campaign spring)" % c, out.stdout)
                granted = c
                break
        self.assertIsNotNone(granted, "no customer was granted the coupon")
        # the same request id again: the logged decision.
        out = patron("coupon", "target", "--addr", self.srv.addr, "--user", granted,
                     "--request-id", "r-" + granted, "--as-of", iso(AS_OF))
        self.assertIn("(replayed)", out.stdout)

        out = patron("coupon", "redeem", "--addr", self.srv.addr, "--id", "red-1", "--user",
                     granted, "--coupon", "fix", "--discount", 2, "--time", iso(AS_OF + 1000))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("redemption red-1: campaign spent 2.00", out.stdout)
        out = patron("coupon", "redeem", "--addr", self.srv.addr, "--id", "red-1", "--user",
                     granted, "--coupon", "fix", "--discount", 2, "--time", AS_OF + 1000)
        self.assertIn("redemption red-1 (duplicate: nothing changed): campaign spent 2.00",
                      out.stdout)

        # budget, read from the store the server is serving.
        out = patron("coupon", "budget", "--data", self.data, "--campaign", "spring")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"campaign spring: budget 100\.00, spent 2\.00, "
                                     r"committed [0-9.]+, remaining [0-9.]+; 1 grants, "
                                     r"1 redemptions")
        out = patron("coupon", "budget", "--data", self.data, "--campaign", "autumn")
        self.assertEqual(out.returncode, 1)
        self.assertIn('no campaign "autumn"', out.stderr)

    def test_bad_flags_are_named(self):
        out = self.upsert_cli("--benefit", "amount,amount=x")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--benefit: expected KIND", out.stderr)
        out = patron("coupon", "upsert", "--addr", self.srv.addr, "--id", "x", "--campaign",
                     "c", "--kind", "gift")
        self.assertEqual(out.returncode, 2)
        self.assertIn('--kind: expected spend-x-save-y', out.stderr)
        out = patron("coupon", "upsert", "--addr", self.srv.addr, "--id", "x", "--campaign",
                     "c", "--kind", "fixed-amount")
        self.assertEqual(out.returncode, 2)
        self.assertIn("patron coupon upsert: --budget is required", out.stderr)
        # the server's own validation comes back naming the field.
        out = self.upsert_cli("--benefit", "amount,amount=1")
        self.assertEqual(out.returncode, 1)
        self.assertIn("INVALID_ARGUMENT", out.stderr)
        out = patron("coupon", "target", "--addr", self.srv.addr, "--user", "u",
                     "--cart", "book-1")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--cart: expected ITEM:QTY:PRICE", out.stderr)
        out = self.upsert_cli("--items", ",".join("i%d" % i for i in range(33)))
        self.assertEqual(out.returncode, 2)
        self.assertIn("--items: at most 32 names", out.stderr)
        out = patron("coupon", "frobnicate")
        self.assertEqual(out.returncode, 2)
        out = patron("help", "coupon")
        self.assertEqual(out.returncode, 0)
        out = patron("coupon", "redeem", "--help")
        self.assertEqual(out.returncode, 0)
        self.assertIn("--discount X", out.stdout)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_coupon_cli")
