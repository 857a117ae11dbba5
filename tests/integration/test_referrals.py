#!/usr/bin/python3
"""Integration tests of the referral programme against the real patrond:

    /usr/bin/python3 tests/integration/test_referrals.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

A customer's referral code comes from GetProfile; a friend signs up with it
(Profiles/RecordSignup, with a device fingerprint); both are paid (ledger
rows of reason REFERRAL, naming the friend and the order) only once the
friend's first order has passed its 30-day window unrefunded. A ring of
four accounts on one phone referring each other earns once: the first
account, referred from outside, is paid; none of the referrals inside the
ring is, and of their welcome points (a signup rule kept for the first
account on a fingerprint) only the first account's are paid. The velocity
limit cuts a day's earnings beyond it. Bad requests are refused naming the field; a bad referral line
keeps patrond from starting and names file and line. Export and erasure
cover the signups and links.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, rpc_error  # noqa: E402

DAY = 86400_000
SETTINGS = """\
points_rule = buy purchase per_unit 1
points_rule = welcome signup points 100 first_only
referral = referrer_points 500 friend_points 200 window_days 30 cap 10 per year
points_velocity = day 600 week 5000
points_first_account_only = signup referral_signup
"""
BASE = (int(time.time() * 1000) // DAY - 100) * DAY + DAY // 2


def at(day):
    return BASE + day * DAY


class ReferralTests(ServerTest):
    def server_options(self):
        return self.settings_options(SETTINGS)

    def setUp(self):
        super().setUp()
        self.srv.upsert_items(h.Shop.catalog())

    # ---- helpers ---------------------------------------------------------------

    def signup(self, who, code="", device="", day=0, **kw):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/RecordSignup",
                             P.RecordSignupRequest(customer_id=who, referral_code=code,
                                                   device_id=device, time_unix_ms=at(day),
                                                   **kw),
                             P.RecordSignupResponse)

    def order(self, who, oid, day, price=40.0, refund_day=None):
        E, T = h.pb.common.Event, h.pb.common
        item = h.item_id("garden", 1)
        evs = [E(event_id=oid, customer_id=who, item_id=item, type=T.EVENT_TYPE_PURCHASE,
                 time_unix_ms=at(day), quantity=1, unit_price=price)]
        if refund_day is not None:
            evs.append(E(event_id=oid + "-back", customer_id=who, item_id=item,
                         type=T.EVENT_TYPE_REFUND, time_unix_ms=at(refund_day), quantity=1,
                         unit_price=price))
        r = self.srv.record_events(evs)
        self.assertEqual((r.accepted, r.rejected), (len(evs), 0), list(r.errors))

    def profile(self, who):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/GetProfile",
                             P.GetProfileRequest(customer_id=who),
                             P.GetProfileResponse).profile

    def ledger(self, who, as_of=0):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/ListPointsLedger",
                             P.ListPointsLedgerRequest(customer_id=who, page_size=1000,
                                                       as_of_unix_ms=as_of),
                             P.ListPointsLedgerResponse)

    def referral_rows(self, who, as_of=0):
        P = h.pb.profiles
        led = self.ledger(who, as_of)
        self.assertEqual(led.balance, sum(r.delta for r in led.rows))
        return [(r.time_unix_ms, r.source_id, r.delta) for r in led.rows
                if r.reason == P.POINTS_REASON_REFERRAL]

    def code(self, who):
        return self.profile(who).referral.code

    # ---- tests -----------------------------------------------------------------

    def test_normal_referral_rewards_both_sides_after_the_window(self):
        self.order("alice", "a-1", 0)
        code = self.code("alice")
        self.assertEqual(len(code), 10)
        r = self.signup("bob", code.lower(), "phone-bob", day=1)
        self.assertEqual((r.customer_id, r.referred_by, r.replayed), ("bob", "alice", False))
        self.assertEqual(len(r.referral_code), 10)
        self.assertTrue(self.signup("bob", code, "phone-bob", day=1).replayed)

        # bob's first order is refunded inside the window; the second is kept.
        self.order("bob", "b-1", 2, refund_day=5)
        self.order("bob", "b-2", 10, price=25.0)
        self.assertEqual(self.referral_rows("alice", as_of=at(40) - 1), [])
        self.assertEqual(self.referral_rows("alice"), [(at(40), "referral:bob:b-2", 500)])
        self.assertEqual(self.referral_rows("bob"), [(at(40), "referral:bob:b-2", 200)])
        self.assertEqual(self.ledger("alice").balance, 40 + 500)
        self.assertEqual(self.ledger("bob").balance, 40 - 40 + 25 + 200)

        a, b = self.profile("alice"), self.profile("bob")
        self.assertEqual((a.referral.friends, a.referral.paid, a.referral.pending), (1, 1, 0))
        self.assertEqual((b.referral.referred_by, b.referral.state, b.referral.reward_unix_ms),
                         ("alice", "paid", at(40)))
        self.assertEqual(a.points, 540)

        # Export shows the signup and the friend; erasing the friend takes
        # the referral off the referrer's ledger.
        P = h.pb.profiles
        ex = self.srv.call("/patron.v1.Profiles/ExportCustomer",
                           P.ExportCustomerRequest(customer_id="bob"), P.ExportCustomerResponse)
        self.assertEqual((ex.referral_signup.referred_by, ex.referral_signup.device_id),
                         ("alice", "phone-bob"))
        ex = self.srv.call("/patron.v1.Profiles/ExportCustomer",
                           P.ExportCustomerRequest(customer_id="alice"),
                           P.ExportCustomerResponse)
        self.assertEqual(list(ex.referred_customer_ids), ["bob"])
        self.srv.call("/patron.v1.Profiles/DeleteCustomer",
                      P.DeleteCustomerRequest(customer_id="bob"), P.DeleteCustomerResponse)
        self.assertEqual(self.referral_rows("alice"), [])
        self.assertEqual(self.profile("alice").referral.friends, 0)

    def test_a_ring_of_four_accounts_on_one_device_earns_once(self):
        # host (its own phone) refers ring-1; ring-1..ring-4 share one phone
        # and refer each other in a chain, ring-1 also ring-4.
        self.order("host", "h-1", 0)
        self.signup("ring-1", self.code("host"), "phone-ring", day=1)
        self.signup("ring-2", self.code("ring-1"), "phone-ring", day=2)
        self.signup("ring-3", self.code("ring-2"), "phone-ring", day=3)
        self.signup("ring-4", self.code("ring-1"), "phone-ring", day=4)
        E, T = h.pb.common.Event, h.pb.common
        r = self.srv.record_events([
            E(event_id="welcome-%d" % i, customer_id="ring-%d" % i, type=T.EVENT_TYPE_SIGNUP,
              time_unix_ms=at(i) + 1) for i in range(1, 5)])
        self.assertEqual((r.accepted, r.rejected), (4, 0), list(r.errors))
        for i in range(1, 5):
            self.order("ring-%d" % i, "ring-order-%d" % i, 5 + i)
        paid = {who: self.referral_rows(who) for who in
                ("host", "ring-1", "ring-2", "ring-3", "ring-4")}
        self.assertEqual(paid["host"], [(at(36), "referral:ring-1:ring-order-1", 500)])
        self.assertEqual(paid["ring-1"], [(at(36), "referral:ring-1:ring-order-1", 200)])
        for i in range(2, 5):
            self.assertEqual(paid["ring-%d" % i], [])
        r1, r3 = self.profile("ring-1"), self.profile("ring-3")
        self.assertEqual((r1.referral.friends, r1.referral.ring, r1.referral.paid), (2, 2, 0))
        self.assertEqual((r3.referral.state, r3.referral.accounts_on_fingerprint,
                          r3.referral.shared_fingerprint), ("ring", 4, True))
        self.assertFalse(r1.referral.shared_fingerprint)

        # The welcome points: once, to the first account on the phone.
        welcome = {}
        for i in range(1, 5):
            rows = self.ledger("ring-%d" % i).rows
            welcome[i] = sum(x.delta for x in rows if x.rule == "welcome")
        self.assertEqual(welcome, {1: 100, 2: 0, 3: 0, 4: 0})
        self.assertEqual(r3.referral.points_withheld, 100)
        self.assertEqual(r1.referral.points_withheld, 0)

    def test_the_velocity_limit_cuts_a_days_earnings(self):
        for k in range(3):
            self.order("vic", "v-%d" % k, 3, price=400.0)
        led = self.ledger("vic")
        self.assertEqual([r.delta for r in led.rows], [400, 200])  # the third pays nothing
        self.assertEqual(led.balance, 600)
        p = self.profile("vic")
        self.assertEqual((p.points, p.referral.points_cut_by_velocity), (600, 600))

    def test_bad_input_is_refused_naming_the_field(self):
        self.order("carol", "c-1", 0)
        code = self.code("carol")
        self.assertStatus(rpc_error(self.signup, "dan", "ZZZZZZZZZZ"), SC.NOT_FOUND,
                          "referral_code: unknown referral code")
        self.assertStatus(rpc_error(self.signup, "dan", "ZZZZ"), SC.INVALID_ARGUMENT,
                          "referral_code:")
        self.assertStatus(rpc_error(self.signup, "carol", code), SC.INVALID_ARGUMENT,
                          "referral_code:", "self-referral")
        self.assertStatus(rpc_error(self.signup, "", code), SC.INVALID_ARGUMENT, "customer_id:")
        self.assertStatus(rpc_error(self.signup, "dan", code, "d" * 129), SC.INVALID_ARGUMENT,
                          "device_id:")
        self.assertStatus(rpc_error(self.signup, "dan", code, address_id="\x01"),
                          SC.INVALID_ARGUMENT, "address_id:")
        self.signup("dan", code, "phone-dan")
        self.assertStatus(rpc_error(self.signup, "dan", "", "phone-dan"),
                          SC.FAILED_PRECONDITION, "customer_id:")
        P = h.pb.profiles
        self.assertStatus(rpc_error(self.srv.call, "/patron.v1.Profiles/RecordSignup",
                                    P.RecordSignupRequest(customer_id="eve",
                                                          time_unix_ms=at(400000)),
                                    P.RecordSignupResponse),
                          SC.INVALID_ARGUMENT, "time_unix_ms:")

    def test_a_bad_referral_line_stops_patrond(self):
        self.assert_settings_refused(
            "points_rule = buy purchase per_unit 1\n"
            "referral = referrer_points 500 friend_points 200 cap 10 per week\n",
            "bad.conf:2: referral: cap: the period is year, month or ever")
        self.assert_settings_refused("points_velocity = day 0\n",
                                     "bad.conf:1: points_velocity: day:")


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_referrals")
