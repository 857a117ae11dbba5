#!/usr/bin/python3
"""Integration tests of tier status and benefits in GetProfile against the
real patrond:

    /usr/bin/python3 tests/integration/test_tiers.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

The settings file defines three tiers over a 30-day window with 10 days of
grace, and benefits. A customer's purchases, recorded with fixed times, put
them in silver; GetProfile as of chosen instants must give the held tier
and its benefits, what gold lacks, the day silver stops being met and the
day it drops, and in grace what requalifying needs. A bad tier_benefits
line keeps patrond from starting and names file and line.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest  # noqa: E402

DAY = 86400_000
T0 = 1767225600000  # 2026-01-01T00:00:00Z
SETTINGS = """\
tier_window_days = 30
tier_grace_days = 10
tier = basic 0 0 0
tier = silver 100 2 0
tier = gold 300 3 5
tier_benefits = silver points_multiplier=1.25 price_list=members
tier_benefits = gold free_shipping points_multiplier=2 early_access_hours=48 price_list=members dedicated_service
"""


class TierTests(ServerTest):
    def server_options(self):
        return self.settings_options(SETTINGS)

    def setUp(self):
        super().setUp()
        self.srv.upsert_items(h.Shop.catalog())
        E = h.pb.common
        events = [E.Event(event_id="t%d" % i, customer_id="ann", item_id=h.item_id("garden", i),
                          type=E.EVENT_TYPE_PURCHASE, time_unix_ms=T0 + d * DAY, quantity=1,
                          unit_price=p)
                  for i, (d, p) in enumerate([(0, 60.0), (5, 50.0)])]
        r = self.srv.record_events(events)
        self.assertEqual(r.accepted, 2, list(r.errors))

    def status(self, as_of):
        P = h.pb.profiles
        r = self.srv.call("/patron.v1.Profiles/GetProfile",
                          P.GetProfileRequest(customer_id="ann", as_of_unix_ms=as_of),
                          P.GetProfileResponse)
        return r.profile.tier_status

    def test_silver_with_the_way_to_gold_and_the_day_it_drops(self):
        s = self.status(T0 + 6 * DAY)
        self.assertEqual((s.tier, s.qualifies_for, s.next_tier), ("silver", "silver", "gold"))
        self.assertEqual(s.window_days, 30)
        self.assertAlmostEqual(s.window.spend, 110.0)
        self.assertEqual(s.window.orders, 2)
        self.assertAlmostEqual(s.benefits.points_multiplier, 1.25)
        self.assertEqual(s.benefits.price_list, "members")
        self.assertFalse(s.benefits.free_shipping)
        self.assertTrue(s.next_benefits.free_shipping and s.next_benefits.dedicated_service)
        self.assertEqual(s.next_benefits.early_access_hours, 48)
        self.assertAlmostEqual(s.to_next.spend, 190.0)
        self.assertEqual((s.to_next.orders, s.to_next.engagement), (1, 5))
        # The day-0 order leaves the window on day 30; 10 days of grace.
        self.assertEqual(s.qualified_until_unix_ms, T0 + 30 * DAY)
        self.assertEqual(s.downgrade_unix_ms, T0 + 40 * DAY)
        self.assertEqual(s.tier_after_downgrade, "basic")
        self.assertEqual(s.progress,
                         "gold needs 190.00 more spend, 1 more order and 5 more views or "
                         "carts within 30 days; silver is met until 2026-01-31 and kept "
                         "until 2026-02-10 without new activity")

    def test_in_grace_requalifying_needs(self):
        s = self.status(T0 + 32 * DAY)
        self.assertEqual((s.tier, s.qualifies_for), ("silver", "basic"))
        self.assertAlmostEqual(s.to_keep.spend, 50.0)
        self.assertEqual(s.to_keep.orders, 1)
        self.assertIn("silver is kept until 2026-02-10: requalifying needs 50.00 more spend "
                      "and 1 more order", s.progress)
        s = self.status(T0 + 40 * DAY)
        self.assertEqual(s.tier, "basic")
        self.assertEqual(s.downgrade_unix_ms, 0)

    def test_bad_benefit_line_refuses_to_start(self):
        self.assert_settings_refused("tier = basic 0 0 0\ntier_benefits = basic free_lunch\n",
                                     "bad.conf:2: tier_benefits: unknown benefit")


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_tiers")
