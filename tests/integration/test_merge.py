#!/usr/bin/python3
"""Integration tests of identity (Profiles/MergeCustomers) against the real patrond:
an anonymous visitor's carts merged into the account that logs in.

    /usr/bin/python3 tests/integration/test_merge.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop and its trained model come from patron_harness.py. A books
customer (the account) logs in after an anonymous session of six garden
carts: after MergeCustomers, Recommend for the account reflects the carts,
events sent later with the anonymous id land on the account, a retried
merge changes nothing, the link survives a SIGKILL and restart, and
DeleteCustomer of either id erases both (no trace in any database). Bad
input is refused naming the field. Consent and contacts combine: a
withdrawal recorded on the anonymous id after the account's grant wins,
ListConsentChanges shows both, the visitor's contacts count toward the
account's caps, and calls naming the old id act on the account.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, category_of, item_id, rpc_error  # noqa: E402

K = 10
H = 3_600_000
ANON = "anon-visitor-5c1e"
CARTS = [item_id("garden", j) for j in (3, 5, 7, 9, 11, 13)]


class MergeTests(ServerTest):
    trained = True

    def setUp(self):
        super().setUp()
        self.account = next(c for c, cat in sorted(h.SHOP.taste.items()) if cat == "books")
        self.n_events = 0

    # -- calls

    def prof(self, method, req, resp_cls):
        return self.srv.call("/patron.v1.Profiles/" + method, req, resp_cls)

    def merge(self, source, target, request_id=""):
        P = h.pb.profiles
        return self.prof("MergeCustomers", P.MergeCustomersRequest(
            source_customer_id=source, target_customer_id=target, request_id=request_id),
            P.MergeCustomersResponse)

    def profile(self, cust):
        P = h.pb.profiles
        return self.prof("GetProfile", P.GetProfileRequest(customer_id=cust),
                         P.GetProfileResponse)

    def event(self, cust, item, etype, t):
        self.n_events += 1
        return h.pb.common.Event(event_id="merge-%05d" % self.n_events, customer_id=cust,
                                 item_id=item, type=etype, time_unix_ms=t, quantity=1,
                                 unit_price=10.0)

    def record(self, events):
        r = self.srv.record_events(events)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (len(events), 0, 0),
                         list(r.errors))

    def anonymous_session(self):
        """Six garden carts a minute apart, the last a minute ago."""
        now = int(time.time() * 1000)
        n = len(CARTS)
        self.record([self.event(ANON, it, h.pb.common.EVENT_TYPE_CART,
                                now - (n - i) * 60_000) for i, it in enumerate(CARTS)])

    def garden(self, cust):
        r = self.rec(customer_id=cust, k=K)
        self.assertEqual(len(r.items), K)
        self.assertTrue(r.personalized)
        return sum(category_of(i.item_id) == "garden" for i in r.items), r

    # -- tests

    def test_login_merge_reflects_the_cart(self):
        before, _ = self.garden(self.account)
        self.assertLessEqual(before, 2)
        self.anonymous_session()
        acct = self.profile(self.account).profile
        C = h.pb.coupons
        target = lambda cust, req: self.srv.call(
            "/patron.v1.Coupons/TargetCoupons",
            C.TargetCouponsRequest(customer_id=cust, request_id=req), C.TargetCouponsResponse)
        pre = target(ANON, "merge-t0")  # logged under the anonymous id
        m = self.merge(ANON, self.account, request_id="login-1")
        self.assertEqual(m.survivor_customer_id, self.account)
        self.assertEqual(m.events_moved, len(CARTS))
        self.assertFalse(m.already_merged or m.replayed)
        # The account's list now follows the combined history (the carts
        # are unseen by the model: folded in, as the current session).
        after, r = self.garden(self.account)
        self.assertGreaterEqual(after, 5, [i.item_id for i in r.items])
        self.assertEqual(r.resolved_customer_id, "")
        self.assertEqual({i.reason for i in r.items}, {h.pb.common.REASON_FOLD_IN})
        # The anonymous id answers for the account, and says so.
        _, ra = self.garden(ANON)
        self.assertEqual(ra.resolved_customer_id, self.account)
        self.assertEqual([i.item_id for i in ra.items], [i.item_id for i in r.items])
        g = self.profile(ANON)
        self.assertEqual((g.resolved_customer_id, g.profile.customer_id),
                         (self.account, self.account))
        self.assertEqual(g.profile.recent_carts, acct.recent_carts + len(CARTS))
        self.assertEqual(self.profile(self.account).resolved_customer_id, "")
        t = target(ANON, "merge-t1")
        self.assertEqual((t.resolved_customer_id, t.known_customer), (self.account, True))
        # A retry of a decision logged before the merge is the same person's.
        for cust in (ANON, self.account):
            t = target(cust, "merge-t0")
            self.assertTrue(t.replayed)
            self.assertEqual(t.decision.coupon_id, pre.decision.coupon_id)
        # "Export my data" with either id covers the person.
        P = h.pb.profiles
        for cust, other in ((self.account, ANON), (ANON, self.account)):
            x = self.prof("ExportCustomer", P.ExportCustomerRequest(customer_id=cust),
                          P.ExportCustomerResponse)
            self.assertEqual(list(x.linked_customer_ids), [other])
            self.assertEqual(sum(e.type == h.pb.common.EVENT_TYPE_CART for e in x.events),
                             len(CARTS) + acct.recent_carts)

        # A retried merge changes nothing more: by request id, or by pair.
        again = self.merge(ANON, self.account, request_id="login-1")
        self.assertTrue(again.replayed)
        self.assertEqual((again.survivor_customer_id, again.events_moved),
                         (self.account, len(CARTS)))
        again = self.merge(ANON, self.account)
        self.assertTrue(again.already_merged)
        self.assertEqual(again.events_moved, 0)
        again = self.merge(self.account, ANON)  # the other way round: one customer
        self.assertTrue(again.already_merged)
        self.assertEqual(self.profile(self.account).profile.recent_carts,
                         acct.recent_carts + len(CARTS))

        # Events sent later with the anonymous id land on the account.
        now = int(time.time() * 1000)
        self.record([self.event(ANON, item_id("garden", 1), h.pb.common.EVENT_TYPE_PURCHASE,
                                now - 1000)])
        p = self.profile(self.account).profile
        self.assertEqual(p.purchases, acct.purchases + 1)
        self.assertEqual(p.points_earned, acct.points_earned + 10)
        # Points redeemed with either id come off the one balance.
        P = h.pb.profiles
        rd = self.prof("RedeemPoints", P.RedeemPointsRequest(
            customer_id=ANON, redemption_id="merge-r1", points=3), P.RedeemPointsResponse)
        self.assertEqual(rd.balance, p.points - 3)
        self.assertEqual(self.profile(self.account).profile.points, p.points - 3)

    def test_link_survives_a_restart(self):
        self.anonymous_session()
        self.merge(ANON, self.account, request_id="login-1")
        self.srv.kill()  # acknowledged means durable: no clean shutdown
        self.srv.start()
        self.assertTrue(self.merge(ANON, self.account, request_id="login-1").replayed)
        self.assertEqual(self.profile(ANON).resolved_customer_id, self.account)
        before = self.profile(self.account).profile.recent_views
        now = int(time.time() * 1000)
        self.record([self.event(ANON, item_id("garden", 2), h.pb.common.EVENT_TYPE_VIEW,
                                now - 1000)])
        self.assertEqual(self.profile(self.account).profile.recent_views, before + 1)

    def test_delete_erases_both(self):
        P = h.pb.profiles
        for erase in (ANON, "second-account"):
            with self.subTest(erase=erase):
                self.anonymous_session()
                self.record([self.event("second-account", item_id("toys", 1),
                                        h.pb.common.EVENT_TYPE_VIEW,
                                        int(time.time() * 1000) - 5000)])
                # Two merges: the visitor into the second account, that one
                # into the books account (a chain, flattened).
                self.merge(ANON, "second-account", request_id="m-1")
                m = self.merge("second-account", self.account, request_id="m-2")
                self.assertEqual(m.events_moved, len(CARTS) + 1)
                self.assertEqual(self.profile(ANON).resolved_customer_id, self.account)
                d = self.prof("DeleteCustomer", P.DeleteCustomerRequest(customer_id=erase),
                              P.DeleteCustomerResponse)
                self.assertEqual(d.linked_ids_erased, 2)
                self.assertGreater(d.events_deleted, len(CARTS) + 1)
                for cust in (ANON, "second-account", self.account):
                    self.assertStatus(rpc_error(self.profile, cust), SC.NOT_FOUND,
                                      "customer_id")
                self.account = next(c for c, cat in sorted(h.SHOP.taste.items())
                                    if cat == "books" and c != self.account)
        code = self.srv.stop()
        self.assertEqual(code, 0)
        dump = subprocess.run(["mdb_dump", "-a", "-p", self.data], check=True,
                              capture_output=True, timeout=60).stdout
        for gone in (ANON, "second-account"):
            self.assertNotIn(gone.encode(), dump)

    def test_bad_input(self):
        P = h.pb.profiles
        self.anonymous_session()
        cases = (
            ((ANON, ANON), SC.INVALID_ARGUMENT, "target_customer_id"),
            (("", self.account), SC.INVALID_ARGUMENT, "source_customer_id"),
            ((ANON, ""), SC.INVALID_ARGUMENT, "target_customer_id"),
            (("x" * 257, self.account), SC.INVALID_ARGUMENT, "source_customer_id"),
            ((ANON, "y" * 257), SC.INVALID_ARGUMENT, "target_customer_id"),
            (("bad\nid", self.account), SC.INVALID_ARGUMENT, "source_customer_id"),
            (("never-seen", self.account), SC.NOT_FOUND, "source_customer_id"),
            ((ANON, "never-seen"), SC.NOT_FOUND, "target_customer_id"),
        )
        for (src, dst), code, field in cases:
            with self.subTest(src=src[:20], dst=dst[:20]):
                self.assertStatus(rpc_error(self.merge, src, dst), code, field)
        self.assertStatus(rpc_error(self.merge, ANON, self.account, "r" * 257),
                          SC.INVALID_ARGUMENT, "request_id")
        self.merge(ANON, self.account, request_id="once")
        other = next(c for c in sorted(h.SHOP.taste) if c != self.account)
        self.assertStatus(rpc_error(self.merge, other, self.account, "once"),
                          SC.INVALID_ARGUMENT, "request_id")
        e = rpc_error(self.srv.call_raw, "/patron.v1.Profiles/MergeCustomers", b"\xff\xff\xff")
        self.assertStatus(e, SC.INVALID_ARGUMENT)
        # Nothing of the refused calls changed anything.
        self.assertEqual(self.profile(other).resolved_customer_id, "")


class MergeConsentTests(ServerTest):
    """MergeCustomers combines consent (per field the later choice) and the
    contact log, under a policy of two sms a day."""
    trained = True

    def server_options(self):
        return self.settings_options("contact.sms.per_day = 2\ncontact.min_gap_minutes = 0\n"
                                     "contact.quiet_hours = none\ncontact.time_zone = UTC\n",
                                     "profiles.conf")

    def setUp(self):
        super().setUp()
        self.account = next(c for c in sorted(h.SHOP.taste))
        self.now = int(time.time() * 1000)
        self.srv.record_events([h.pb.common.Event(
            event_id="mc-anon-view", customer_id=ANON, item_id=item_id("garden", 1),
            type=h.pb.common.EVENT_TYPE_VIEW, time_unix_ms=self.now - 4 * H, quantity=1)])

    def prof(self, method, req, resp_cls):
        return self.srv.call("/patron.v1.Profiles/" + method, req, resp_cls)

    def set_prefs(self, cust, source, t, **prefs):
        P = h.pb.profiles
        return self.prof("SetPreferences", P.SetPreferencesRequest(
            customer_id=cust, source=source, time_unix_ms=t,
            preferences=P.ContactPreferences(**prefs)), P.SetPreferencesResponse)

    def changes(self, cust):
        P = h.pb.profiles
        return self.prof("ListConsentChanges", P.ListConsentChangesRequest(customer_id=cust),
                         P.ListConsentChangesResponse)

    def check_sms(self, cust):
        P = h.pb.profiles
        return self.prof("CheckContact", P.CheckContactRequest(
            customer_id=cust, channel=P.CHANNEL_SMS, kind=P.CONTACT_KIND_COUPON,
            as_of_unix_ms=self.now), P.CheckContactResponse)

    def record_sms(self, cust, message_id, t):
        P = h.pb.profiles
        return self.prof("RecordContact", P.RecordContactRequest(
            customer_id=cust, message_id=message_id, channel=P.CHANNEL_SMS,
            kind=P.CONTACT_KIND_COUPON, time_unix_ms=t), P.RecordContactResponse)

    def merge(self, request_id=""):
        P = h.pb.profiles
        return self.prof("MergeCustomers", P.MergeCustomersRequest(
            source_customer_id=ANON, target_customer_id=self.account,
            request_id=request_id), P.MergeCustomersResponse)

    def rows(self, cust):
        return [(c.field, c.new_value, c.source, c.merged_from, c.time_unix_ms)
                for c in self.changes(cust).changes]

    def test_consent_and_contacts_combine(self):
        P = h.pb.profiles
        self.set_prefs(self.account, "web:account", self.now - 2 * H,
                       email=P.CONSENT_STATE_GRANTED)
        self.set_prefs(ANON, "web:cookie-banner", self.now - H,
                       email=P.CONSENT_STATE_WITHDRAWN)
        self.record_sms(ANON, "mc-sms-1", self.now - 3 * H)
        self.record_sms(ANON, "mc-sms-2", self.now - 2 * H)
        self.assertTrue(self.check_sms(self.account).allowed)

        m = self.merge(request_id="mc-login")
        self.assertEqual(m.survivor_customer_id, self.account)
        prefs = self.prof("GetProfile", P.GetProfileRequest(customer_id=self.account),
                          P.GetProfileResponse).profile.preferences
        self.assertEqual(prefs.email, P.CONSENT_STATE_WITHDRAWN)  # the later choice
        self.assertNotIn(P.CHANNEL_EMAIL, prefs.allowed_channels)
        want = [("email", "granted", "web:account", "", self.now - 2 * H),
                ("email", "withdrawn", "web:cookie-banner", ANON, self.now - H)]
        self.assertEqual(self.rows(self.account), want)
        listed = self.changes(ANON)  # the old id lists the survivor's trail
        self.assertEqual(listed.resolved_customer_id, self.account)
        self.assertEqual(len(listed.changes), 2)
        # the visitor's two sms count toward the account's cap of two a day
        for cust in (self.account, ANON):
            r = self.check_sms(cust)
            self.assertEqual(r.verdict, P.CONTACT_VERDICT_CHANNEL_DAY_CAP, cust)
            self.assertEqual(r.channel_used_day, 2)
        self.assertEqual(self.check_sms(ANON).resolved_customer_id, self.account)
        self.assertEqual(self.check_sms(self.account).resolved_customer_id, "")

        # a repeated merge (by request id, by pair) changes nothing
        self.assertTrue(self.merge(request_id="mc-login").replayed)
        again = self.merge()
        self.assertTrue(again.already_merged)
        self.assertEqual(again.rows_moved, 0)
        self.assertEqual(self.rows(self.account), want)
        self.assertEqual(self.check_sms(self.account).channel_used_day, 2)

        # calls naming the old id act on the account
        r = self.record_sms(ANON, "mc-sms-2", self.now - 2 * H)
        self.assertTrue(r.duplicate)
        self.assertEqual(r.resolved_customer_id, self.account)
        self.assertTrue(self.record_sms(self.account, "mc-sms-1", self.now - 3 * H).duplicate)
        r = self.set_prefs(ANON, "support:agent-7", 0, email=P.CONSENT_STATE_GRANTED)
        self.assertEqual(r.resolved_customer_id, self.account)
        self.assertEqual(r.preferences.email, P.CONSENT_STATE_GRANTED)
        self.assertEqual(len(self.changes(self.account).changes), 3)
        export = self.prof("ExportCustomer", P.ExportCustomerRequest(customer_id=self.account),
                           P.ExportCustomerResponse)
        self.assertEqual([c.merged_from for c in export.consent_changes], ["", ANON, ""])
        self.assertEqual(len(export.contacts), 2)

    def test_visitor_known_only_by_preferences(self):
        """A cookie-banner choice with no event yet is enough to merge: the
        withdrawal reaches the account."""
        P = h.pb.profiles
        self.set_prefs("banner-only", "web:cookie-banner", self.now - H,
                       marketing=P.CONSENT_STATE_WITHDRAWN)
        P2 = P.MergeCustomersRequest(source_customer_id="banner-only",
                                     target_customer_id=self.account)
        m = self.prof("MergeCustomers", P2, P.MergeCustomersResponse)
        self.assertEqual(m.survivor_customer_id, self.account)
        prefs = self.prof("GetProfile", P.GetProfileRequest(customer_id=self.account),
                          P.GetProfileResponse).profile.preferences
        self.assertFalse(prefs.marketing_allowed)
        P2.source_customer_id = "nothing-known"
        self.assertStatus(rpc_error(self.prof, "MergeCustomers", P2, P.MergeCustomersResponse),
                          SC.NOT_FOUND, "source_customer_id")


def main():
    h.run_suite(__doc__.splitlines()[0], 'merge integration suite')


if __name__ == "__main__":
    main()
