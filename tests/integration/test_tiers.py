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

MemberItemsTests: over the trained shop, items with programme terms
(UpsertItems: member_tier, release_unix_ms, member_prices) reach customers
by the tier GetProfile shows: a gold-only item is recommended to the gold
member only, yet every list is still filled to k; an item released in two
hours reaches gold (48 hours of early access) now and the others only after
release; include_item_details prices an item at the member's list and at
the regular price for others; SimilarItems (no customer) shows neither
members-only nor unreleased items; bad terms are refused naming the field.
"""
import math
import os
import sys
import time

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


HOUR = 3600_000
MEMBER_SETTINGS = """\
tier_window_days = 3650
tier = basic 0 0 0
tier = silver 30 1 0
tier = gold 1000 2 0
tier_benefits = silver price_list=silver_prices
tier_benefits = gold early_access_hours=48 price_list=gold_prices
"""
GOLD, SILVER, STRANGER = "cust-03", "cust-04", "never-seen"
MEMBERS_ONLY, SOON, LATER, RELEASED, PRICED = (
    "books-14", "garden-13", "garden-14", "toys-14", "kitchen-14")


class MemberItemsTests(ServerTest):
    trained = True

    def server_options(self):
        return self.settings_options(MEMBER_SETTINGS)

    def setUp(self):
        super().setUp()
        now = int(time.time() * 1000)
        self.regular = {it.item_id: it for it in h.Shop.catalog()}
        C = h.pb.common

        def item(item_id, **terms):
            it = C.Item()
            it.CopyFrom(self.regular[item_id])
            for k, v in terms.items():
                if k == "member_prices":
                    it.member_prices.extend(C.MemberPrice(price_list=n, price=p) for n, p in v)
                else:
                    setattr(it, k, v)
            return it
        r = self.srv.upsert_items([
            item(MEMBERS_ONLY, member_tier="gold"),
            item(SOON, release_unix_ms=now + 2 * HOUR),
            item(LATER, release_unix_ms=now + 72 * HOUR),
            item(RELEASED, release_unix_ms=now - 60_000),
            item(PRICED, member_prices=[("gold_prices", 5.0), ("silver_prices", 6.5)])])
        self.assertEqual(r.updated, 5)
        # One big order makes GOLD gold; the shop's other customers are silver.
        r = self.srv.record_events([C.Event(
            event_id="big-order", customer_id=GOLD, item_id="books-00",
            type=C.EVENT_TYPE_PURCHASE, time_unix_ms=now - 60_000, quantity=1,
            unit_price=1000.0)])
        self.assertEqual(r.accepted, 1, list(r.errors))

    def tier(self, cust):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/GetProfile",
                             P.GetProfileRequest(customer_id=cust),
                             P.GetProfileResponse).profile.tier_status.tier

    def listed(self, cust, k=1000, details=False):
        r = self.srv.call("/patron.v1.Recommender/Recommend",
                          h.pb.rec.RecommendRequest(customer_id=cust, k=k,
                                                    include_purchased=True,
                                                    include_item_details=details),
                          h.pb.rec.RecommendResponse)
        return r.items

    def test_members_only_and_early_access_follow_the_tier(self):
        self.assertEqual(self.tier(GOLD), "gold")
        self.assertEqual(self.tier(SILVER), "silver")
        hidden = {MEMBERS_ONLY, SOON, LATER}
        everyone = set(h.ALL_ITEMS) - hidden
        gold = [i.item_id for i in self.listed(GOLD)]
        self.assertEqual(set(gold), everyone | {MEMBERS_ONLY, SOON})
        for cust in (SILVER, STRANGER):
            self.assertEqual({i.item_id for i in self.listed(cust)}, everyone, cust)
        # Exactly k even when the gated items would rank first.
        k = len(everyone)
        self.assertEqual(len(self.listed(SILVER, k)), k)
        # After release everyone sees SOON (its release moved into the past).
        it = h.pb.common.Item()
        it.CopyFrom(self.regular[SOON])
        it.release_unix_ms = int(time.time() * 1000) - 1000
        self.srv.upsert_items([it])
        self.assertIn(SOON, {i.item_id for i in self.listed(SILVER)})
        self.assertNotIn(LATER, {i.item_id for i in self.listed(GOLD)})

    def test_item_details_show_the_customers_price(self):
        regular = self.regular[PRICED].price
        for cust, price, plist in ((GOLD, 5.0, "gold_prices"),
                                   (SILVER, 6.5, "silver_prices"),
                                   (STRANGER, regular, "")):
            got = [i for i in self.listed(cust, details=True) if i.item_id == PRICED]
            self.assertEqual(len(got), 1, cust)
            self.assertAlmostEqual(got[0].details.price, price, msg=cust)
            self.assertEqual(got[0].price_list, plist, cust)
            self.assertEqual(len(got[0].details.member_prices), 0)
        gold = {i.item_id: i for i in self.listed(GOLD, details=True)}
        self.assertEqual(gold[MEMBERS_ONLY].details.member_tier, "gold")
        self.assertGreater(gold[SOON].details.release_unix_ms, int(time.time() * 1000))
        self.assertAlmostEqual(gold["books-01"].details.price, self.regular["books-01"].price)
        # RankItems ranks what it is given and prices it the same way.
        for cust, price in ((GOLD, 5.0), (STRANGER, regular)):
            r = self.srv.call("/patron.v1.Recommender/RankItems",
                              h.pb.rec.RankItemsRequest(customer_id=cust,
                                                        item_ids=[PRICED, MEMBERS_ONLY],
                                                        include_item_details=True),
                              h.pb.rec.RankItemsResponse)
            got = {i.item_id: i for i in r.items}
            self.assertEqual(set(got), {PRICED, MEMBERS_ONLY})
            self.assertAlmostEqual(got[PRICED].details.price, price, msg=cust)

    def test_similar_items_without_customer_show_no_gated_item(self):
        r = self.srv.call("/patron.v1.Recommender/SimilarItems",
                          h.pb.rec.SimilarItemsRequest(item_id="books-00", k=1000),
                          h.pb.rec.SimilarItemsResponse)
        got = {i.item_id for i in r.items}
        self.assertFalse(got & {MEMBERS_ONLY, SOON, LATER})
        self.assertIn(RELEASED, got)

    def test_bad_terms_refused(self):
        C = h.pb.common
        cases = [
            (dict(member_prices=[C.MemberPrice(price_list="gold_prices", price=-1)]),
             "items[0].member_prices.price:"),
            (dict(member_prices=[C.MemberPrice(price_list="gold_prices", price=math.nan)]),
             "items[0].member_prices.price:"),
            (dict(member_prices=[C.MemberPrice(price_list="gold prices", price=1)]),
             "items[0].member_prices.price_list:"),
            (dict(member_prices=[C.MemberPrice(price_list="", price=1)]),
             "items[0].member_prices.price_list:"),
            (dict(member_prices=[C.MemberPrice(price_list="a", price=1),
                                 C.MemberPrice(price_list="a", price=2)]),
             "given twice"),
            (dict(member_prices=[C.MemberPrice(price_list="l%d" % i, price=1)
                                 for i in range(9)]),
             "items[0].member_prices: at most 8"),
            (dict(member_tier="gold!"), "items[0].member_tier:"),
            (dict(release_unix_ms=-5), "items[0].release_unix_ms:"),
        ]
        for fields, want in cases:
            it = C.Item(item_id="new-item", price=3.0, **fields)
            e = h.rpc_error(self.srv.upsert_items, [it])
            self.assertStatus(e, h.SC.INVALID_ARGUMENT, want, "nothing was stored")
        # Nothing was stored: the item is unknown.
        e = h.rpc_error(self.srv.call, "/patron.v1.Recommender/SimilarItems",
                        h.pb.rec.SimilarItemsRequest(item_id="new-item", k=1),
                        h.pb.rec.SimilarItemsResponse)
        self.assertStatus(e, h.SC.NOT_FOUND)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_tiers")
