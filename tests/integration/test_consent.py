#!/usr/bin/python3
"""Integration tests of consent, preferences and the contact policy
(patron.v1.Profiles SetPreferences, ListConsentChanges, CheckContact,
RecordContact) and of consent honoured by every selecting RPC
(SelectAudience, SelectCampaignAudience, Recommend, RankItems,
TargetCoupons), erasure and export.

    /usr/bin/python3 tests/integration/test_consent.py --build BUILD_DIR \
        --proto proto [unittest args]

Each test runs its own patrond on a copy of the trained shop
(patron_harness.py) with a settings file (--profiles) holding a contact
policy; every call has a timeout and every server is killed in tearDown.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, BASE_MS, ServerTest, rpc_error  # noqa: E402

H = 3_600_000
DAY = 24 * H
# 2023-11-16T12:00:00Z: a day and a half after the shop's events, at noon UTC.
AS_OF = 1_700_136_000_000
PROFILES = """# the contact policy under test
contact.sms.per_day = 1
contact.email.per_day = 2
contact.global.per_day = 3
contact.min_gap_minutes = 0
contact.quiet_hours = 21:00-09:00
contact.quiet_channels = sms push
contact.time_zone = UTC
"""


class ConsentTests(ServerTest):
    trained = True

    def server_options(self):
        return self.settings_options(PROFILES, "profiles.conf")

    # -- calls

    def prof(self, method, req, resp_cls, **kw):
        return self.srv.call("/patron.v1.Profiles/" + method, req, resp_cls, **kw)

    def set_prefs(self, cust, source="test", time_unix_ms=0, **prefs):
        P = h.pb.profiles
        return self.prof("SetPreferences", P.SetPreferencesRequest(
            customer_id=cust, source=source, time_unix_ms=time_unix_ms,
            preferences=P.ContactPreferences(**prefs)), P.SetPreferencesResponse)

    def changes(self, cust):
        P = h.pb.profiles
        return list(self.prof("ListConsentChanges", P.ListConsentChangesRequest(
            customer_id=cust), P.ListConsentChangesResponse).changes)

    def check(self, cust, channel, kind=None, as_of=AS_OF):
        P = h.pb.profiles
        return self.prof("CheckContact", P.CheckContactRequest(
            customer_id=cust, channel=channel, kind=kind or P.CONTACT_KIND_TRIGGER,
            as_of_unix_ms=as_of), P.CheckContactResponse)

    def record(self, cust, message_id, channel, t, kind=None):
        P = h.pb.profiles
        return self.prof("RecordContact", P.RecordContactRequest(
            customer_id=cust, message_id=message_id, channel=channel,
            kind=kind or P.CONTACT_KIND_TRIGGER, time_unix_ms=t), P.RecordContactResponse)

    def audience(self, channel=0, expression=""):
        P = h.pb.profiles
        fn = self.srv.channel.unary_stream(
            "/patron.v1.Profiles/SelectAudience",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=P.SelectAudienceResponse.FromString)
        msgs = list(fn(P.SelectAudienceRequest(expression=expression, channel=channel),
                       timeout=30))
        return msgs[0].total, {m.customer_id for m in msgs if m.customer_id}

    def campaign(self, channel=0):
        C = h.pb.coupons
        fn = self.srv.channel.unary_stream(
            "/patron.v1.Coupons/SelectCampaignAudience",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=C.SelectCampaignAudienceResponse.FromString)
        return [m.customer_id for m in fn(C.SelectCampaignAudienceRequest(
            campaign_id="spring", budget=1000, as_of_unix_ms=AS_OF, channel=channel),
            timeout=30)]

    def upsert_coupon(self):
        C = h.pb.coupons
        c = C.Coupon(coupon_id="spring-5", campaign_id="spring",
                     kind=C.COUPON_KIND_FIXED_AMOUNT,
                     benefits=[C.CouponBenefit(kind=C.BENEFIT_KIND_AMOUNT, amount=2.0)],
                     valid_from_unix_ms=AS_OF - 30 * DAY, valid_until_unix_ms=AS_OF + DAY,
                     campaign_budget=1000, per_customer_limit=1)
        self.srv.call("/patron.v1.Coupons/UpsertCoupon", C.UpsertCouponRequest(coupon=c),
                      C.UpsertCouponResponse)

    def target(self, cust):
        C = h.pb.coupons
        return self.srv.call("/patron.v1.Coupons/TargetCoupons", C.TargetCouponsRequest(
            customer_id=cust, as_of_unix_ms=AS_OF), C.TargetCouponsResponse)

    # -- preferences and the audit trail

    def test_preferences_and_audit_trail(self):
        P = h.pb.profiles
        r = self.set_prefs("cust-00", source="web:preferences", time_unix_ms=AS_OF,
                           email=P.CONSENT_STATE_WITHDRAWN, sms=P.CONSENT_STATE_GRANTED,
                           time_zone="Europe/Berlin", quiet_hours="22:00-07:00",
                           language="de", preferred_channel=P.CHANNEL_SMS)
        self.assertEqual(r.changes, 6)
        self.assertEqual(r.preferences.email, P.CONSENT_STATE_WITHDRAWN)
        self.assertEqual(r.preferences.time_zone, "Europe/Berlin")
        self.assertEqual(r.preferences.quiet_hours, "22:00-07:00")
        self.assertEqual(list(r.preferences.allowed_channels),
                         [P.CHANNEL_SMS, P.CHANNEL_PUSH, P.CHANNEL_IN_APP])
        r = self.set_prefs("cust-00", source="sms:STOP", marketing=P.CONSENT_STATE_WITHDRAWN)
        self.assertEqual(r.changes, 1)
        self.assertFalse(r.preferences.marketing_allowed)
        self.assertEqual(list(r.preferences.allowed_channels), [])
        # the same again changes nothing and writes no row
        self.assertEqual(self.set_prefs("cust-00", marketing=P.CONSENT_STATE_WITHDRAWN)
                         .changes, 0)
        trail = self.changes("cust-00")
        self.assertEqual([c.seq for c in trail], list(range(1, 8)))
        self.assertEqual([(c.field, c.old_value, c.new_value) for c in trail], [
            ("email", "unset", "withdrawn"), ("sms", "unset", "granted"),
            ("preferred_channel", "", "sms"), ("time_zone", "", "Europe/Berlin"),
            ("quiet_hours", "default", "22:00-07:00"), ("language", "", "de"),
            ("marketing", "unset", "withdrawn")])
        self.assertEqual({c.source for c in trail[:6]}, {"web:preferences"})
        self.assertEqual(trail[6].source, "sms:STOP")
        self.assertEqual(trail[0].time_unix_ms, AS_OF)
        self.assertGreater(trail[6].recorded_unix_ms, AS_OF)
        # GetProfile shows them; a customer without any shows the defaults
        p = self.prof("GetProfile", P.GetProfileRequest(customer_id="cust-00"),
                      P.GetProfileResponse).profile
        self.assertEqual(p.preferences.marketing, P.CONSENT_STATE_WITHDRAWN)
        self.assertEqual(p.preferences.language, "de")
        self.assertFalse(p.preferences.marketing_allowed)
        p = self.prof("GetProfile", P.GetProfileRequest(customer_id="cust-01"),
                      P.GetProfileResponse).profile
        self.assertTrue(p.preferences.marketing_allowed)
        self.assertEqual(p.preferences.quiet_hours, "default")
        self.assertEqual(self.changes("cust-01"), [])

    # -- consent honoured by every selecting RPC

    def test_select_audience_honours_consent(self):
        P = h.pb.profiles
        total, everyone = self.audience()
        self.assertEqual(total, 40)
        self.set_prefs("cust-03", marketing=P.CONSENT_STATE_WITHDRAWN)
        self.set_prefs("cust-04", sms=P.CONSENT_STATE_WITHDRAWN)
        total, members = self.audience()
        self.assertEqual((total, members), (39, everyone - {"cust-03"}))
        total, members = self.audience(channel=P.CHANNEL_SMS)
        self.assertEqual((total, members), (38, everyone - {"cust-03", "cust-04"}))
        total, members = self.audience(channel=P.CHANNEL_EMAIL)
        self.assertEqual(members, everyone - {"cust-03"})
        # an expression and consent together
        total, members = self.audience(channel=P.CHANNEL_SMS, expression="orders >= 1")
        self.assertNotIn("cust-04", members)

    def test_recommend_without_personalization_consent(self):
        P = h.pb.profiles
        cust = "cust-05"
        before = self.rec(customer_id=cust, k=5)
        self.assertTrue(before.personalized)
        self.assertFalse(before.personalization_withdrawn)
        popular = self.rec(customer_id="nobody-at-all", k=5)
        self.set_prefs(cust, personalization=P.CONSENT_STATE_WITHDRAWN)
        after = self.rec(customer_id=cust, k=5)
        self.assertFalse(after.personalized)
        self.assertTrue(after.personalization_withdrawn)
        self.assertEqual({i.reason for i in after.items}, {h.pb.common.REASON_POPULAR})
        self.assertEqual([i.item_id for i in after.items], [i.item_id for i in popular.items])
        # RankItems too: by popularity
        items = [i.item_id for i in before.items]
        r = self.srv.call("/patron.v1.Recommender/RankItems", h.pb.rec.RankItemsRequest(
            customer_id=cust, item_ids=items), h.pb.rec.RankItemsResponse)
        self.assertTrue(r.personalization_withdrawn)
        self.assertFalse(r.personalized)
        # granted again: personalized again
        self.set_prefs(cust, personalization=P.CONSENT_STATE_GRANTED)
        self.assertTrue(self.rec(customer_id=cust, k=5).personalized)

    def test_target_coupons_declines_without_marketing_consent(self):
        P = h.pb.profiles
        self.upsert_coupon()
        self.set_prefs("cust-06", marketing=P.CONSENT_STATE_WITHDRAWN)
        r = self.target("cust-06")
        self.assertEqual(r.decision.outcome, h.pb.common.COUPON_OUTCOME_NONE_NO_CONSENT)
        self.assertEqual(r.decision.coupon_id, "")
        self.assertIn("marketing consent", r.decision.reason)
        r = self.target("cust-07")
        self.assertNotEqual(r.decision.outcome, h.pb.common.COUPON_OUTCOME_NONE_NO_CONSENT)
        # nothing of the declined call was logged
        e = self.prof("ExportCustomer", P.ExportCustomerRequest(customer_id="cust-06"),
                      P.ExportCustomerResponse)
        self.assertEqual(len(e.coupon_offers), 0)

    def test_campaign_audience_honours_consent_and_policy(self):
        P = h.pb.profiles
        self.upsert_coupon()
        base = self.campaign()
        self.assertGreaterEqual(len(base), 3, base)
        a, b, c = base[:3]
        self.set_prefs(a, marketing=P.CONSENT_STATE_WITHDRAWN)
        self.set_prefs(b, sms=P.CONSENT_STATE_WITHDRAWN)
        self.record(c, "camp-c-1", P.CHANNEL_SMS, AS_OF - H)  # sms cap: 1 a day
        self.assertEqual(self.campaign(), [x for x in base if x != a])
        self.assertEqual(self.campaign(channel=P.CHANNEL_SMS),
                         [x for x in base if x not in (a, b, c)])
        self.assertEqual(self.campaign(channel=P.CHANNEL_EMAIL), [x for x in base if x != a])

    # -- the contact policy

    def test_check_and_record_contact(self):
        P = h.pb.profiles
        r = self.check("walker", P.CHANNEL_SMS)
        self.assertTrue(r.allowed)
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_ALLOWED)
        self.assertEqual(r.next_allowed_unix_ms, AS_OF)
        self.assertEqual(r.channel_limit_day, 1)
        self.assertFalse(self.record("walker", "msg-1", P.CHANNEL_SMS, AS_OF - H).duplicate)
        self.assertTrue(self.record("walker", "msg-1", P.CHANNEL_SMS, AS_OF - H).duplicate)
        err = rpc_error(self.record, "other", "msg-1", P.CHANNEL_SMS, AS_OF - H)
        self.assertStatus(err, SC.ALREADY_EXISTS, "message_id")
        # the cap: one sms a day (rolling), free again 24 h after the first
        r = self.check("walker", P.CHANNEL_SMS)
        self.assertFalse(r.allowed)
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_CHANNEL_DAY_CAP)
        self.assertEqual(r.channel_used_day, 1)
        self.assertEqual(r.next_allowed_unix_ms, AS_OF - H + DAY)
        self.assertTrue(self.check("walker", P.CHANNEL_EMAIL).allowed)
        # the global cap: 3 a day on all channels together
        self.record("walker", "msg-2", P.CHANNEL_EMAIL, AS_OF - 2 * H)
        self.record("walker", "msg-3", P.CHANNEL_IN_APP, AS_OF - 3 * H)
        r = self.check("walker", P.CHANNEL_EMAIL)
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_GLOBAL_DAY_CAP)
        self.assertEqual(r.next_allowed_unix_ms, AS_OF - 3 * H + DAY)
        # quiet hours 21:00-09:00 for sms and push, in the customer's zone
        late = AS_OF + 10 * H + 30 * 60_000  # 22:30Z
        r = self.check("night", P.CHANNEL_PUSH, as_of=late)
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_QUIET_HOURS)
        self.assertEqual(r.time_zone, "UTC")
        self.assertEqual(r.next_allowed_unix_ms, AS_OF + 21 * H)  # 09:00Z next day
        self.assertTrue(self.check("night", P.CHANNEL_EMAIL, as_of=late).allowed)
        self.set_prefs("night", time_zone="America/New_York")  # 17:30 EST
        r = self.check("night", P.CHANNEL_PUSH, as_of=late)
        self.assertTrue(r.allowed, r.reason)
        self.assertEqual(r.time_zone, "America/New_York")
        r = self.check("night", P.CHANNEL_PUSH, as_of=late + 4 * H)  # 21:30 EST
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_QUIET_HOURS)
        self.assertEqual(r.next_allowed_unix_ms, AS_OF + DAY + 2 * H)  # 09:00 EST = 14:00Z
        # consent
        self.set_prefs("night", push=P.CONSENT_STATE_WITHDRAWN)
        r = self.check("night", P.CHANNEL_PUSH, as_of=late + 4 * H)
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_NO_CHANNEL_CONSENT)
        self.assertEqual(r.next_allowed_unix_ms, 0)
        # durable across a restart: the contacts count, the ids are known
        self.srv.stop()
        self.srv.start()
        self.assertTrue(self.record("walker", "msg-1", P.CHANNEL_SMS, AS_OF - H).duplicate)
        r = self.check("walker", P.CHANNEL_SMS)
        self.assertEqual(r.verdict, P.CONTACT_VERDICT_CHANNEL_DAY_CAP)
        self.assertEqual(len(self.changes("night")), 2)

    # -- erasure and export

    def test_erasure_removes_consent_and_contacts(self):
        P = h.pb.profiles
        self.set_prefs("cust-08", email=P.CONSENT_STATE_WITHDRAWN, language="fr")
        self.record("cust-08", "e-1", P.CHANNEL_SMS, AS_OF)
        e = self.prof("ExportCustomer", P.ExportCustomerRequest(customer_id="cust-08"),
                      P.ExportCustomerResponse)
        self.assertEqual(e.preferences.email, P.CONSENT_STATE_WITHDRAWN)
        self.assertEqual(e.preferences.language, "fr")
        self.assertEqual([c.field for c in e.consent_changes], ["email", "language"])
        self.assertEqual([(c.message_id, c.channel) for c in e.contacts],
                         [("e-1", P.CHANNEL_SMS)])
        self.prof("DeleteCustomer", P.DeleteCustomerRequest(customer_id="cust-08"),
                  P.DeleteCustomerResponse)
        err = rpc_error(self.prof, "ExportCustomer",
                        P.ExportCustomerRequest(customer_id="cust-08"),
                        P.ExportCustomerResponse)
        self.assertStatus(err, SC.NOT_FOUND)
        self.assertEqual(self.changes("cust-08"), [])
        self.assertTrue(self.check("cust-08", P.CHANNEL_SMS).allowed)
        # the message id went with it
        self.assertFalse(self.record("someone-else", "e-1", P.CHANNEL_SMS, AS_OF).duplicate)
        # a customer known only by their consent can be erased too
        self.set_prefs("only-consent", sms=P.CONSENT_STATE_WITHDRAWN)
        self.prof("DeleteCustomer", P.DeleteCustomerRequest(customer_id="only-consent"),
                  P.DeleteCustomerResponse)
        self.assertEqual(self.changes("only-consent"), [])

    # -- bad input

    def test_bad_input_names_the_field(self):
        P = h.pb.profiles
        bad_prefs = [
            (dict(preferred_channel=9), "preferences.preferred_channel"),
            (dict(email=7), "preferences.email"),
            (dict(personalization=-1), "preferences.personalization"),
            (dict(time_zone="Mars/Olympus_Mons"), "preferences.time_zone"),
            (dict(time_zone="../../etc/passwd"), "preferences.time_zone"),
            (dict(quiet_hours="25:00-07:00"), "preferences.quiet_hours"),
            (dict(quiet_hours="22:00-22:00"), "preferences.quiet_hours"),
            (dict(language="x" * 40), "preferences.language"),
        ]
        for prefs, field in bad_prefs:
            err = rpc_error(self.set_prefs, "cust-09", **prefs)
            self.assertStatus(err, SC.INVALID_ARGUMENT, field)
        for kw, field in [(dict(source=""), "source"), (dict(source="a\nb"), "source"),
                          (dict(time_unix_ms=2 ** 62), "time_unix_ms"),
                          (dict(time_unix_ms=-5), "time_unix_ms")]:
            err = rpc_error(self.set_prefs, "cust-09", **kw)
            self.assertStatus(err, SC.INVALID_ARGUMENT, field)
        err = rpc_error(self.prof, "SetPreferences", P.SetPreferencesRequest(
            customer_id="cust-09", source="x"), P.SetPreferencesResponse)
        self.assertStatus(err, SC.INVALID_ARGUMENT, "preferences: required")
        self.assertEqual(self.changes("cust-09"), [])  # nothing stored by any of them
        for kw, field in [(dict(channel=0), "channel"), (dict(channel=99), "channel"),
                          (dict(kind=0), "kind"), (dict(kind=42), "kind"),
                          (dict(as_of_unix_ms=-1), "as_of_unix_ms"),
                          (dict(customer_id=""), "customer_id")]:
            req = dict(customer_id="cust-09", channel=P.CHANNEL_SMS,
                       kind=P.CONTACT_KIND_COUPON)
            req.update(kw)
            err = rpc_error(self.prof, "CheckContact", P.CheckContactRequest(**req),
                            P.CheckContactResponse)
            self.assertStatus(err, SC.INVALID_ARGUMENT, field)
        for kw, field in [(dict(message_id=""), "message_id"),
                          (dict(message_id="m" * 129), "message_id"),
                          (dict(channel=5), "channel"), (dict(kind=0), "kind"),
                          (dict(time_unix_ms=2 ** 62), "time_unix_ms")]:
            req = dict(customer_id="cust-09", message_id="ok-1", channel=P.CHANNEL_SMS,
                       kind=P.CONTACT_KIND_COUPON)
            req.update(kw)
            err = rpc_error(self.prof, "RecordContact", P.RecordContactRequest(**req),
                            P.RecordContactResponse)
            self.assertStatus(err, SC.INVALID_ARGUMENT, field)
        err = rpc_error(self.audience, channel=42)
        self.assertStatus(err, SC.INVALID_ARGUMENT, "channel")
        err = rpc_error(self.campaign, channel=42)
        self.assertStatus(err, SC.INVALID_ARGUMENT, "channel")
        for method in ("SetPreferences", "ListConsentChanges", "CheckContact",
                       "RecordContact"):
            err = rpc_error(self.srv.call_raw, "/patron.v1.Profiles/" + method,
                            b"\xff\xff\xff\xff")
            self.assertStatus(err, SC.INVALID_ARGUMENT)
        self.assertEqual(self.srv.health().status, h.pb.health.HealthCheckResponse.SERVING)

    def test_bad_settings_file_names_file_and_line(self):
        self.srv.stop()
        for text, want in [("contact.sms.per_day = -1\n", ":1: contact.sms.per_day"),
                           ("\ncontact.global.per_week = 99999999999\n",
                            ":2: contact.global.per_week"),
                           ("contact.time_zone = Mars/Base\n", ":1: contact.time_zone"),
                           ("contact.fax.per_day = 1\n", ":1: contact.fax.per_day"),
                           ("contact.quiet_hours = 9-5\n", ":1: contact.quiet_hours")]:
            path = os.path.join(self.dir, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([h.PATROND, "--data", self.data, "--listen", "127.0.0.1:0",
                                "--profiles", path], capture_output=True, text=True,
                               timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(path + want, p.stdout + p.stderr)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_consent")
