#!/usr/bin/python3
"""Integration tests of triggers (Triggers/Subscribe) against the real patrond.

    /usr/bin/python3 tests/integration/test_triggers.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

Rules come from the settings file (patrond --profiles). Time is real: the
cart rule waits seconds, not hours, and the scheduler scans every second
(trigger_scan_seconds = 1), so a cart left alone fires once, about 3 s
after it was carted, and a cart followed by a purchase never does. Carts
backdated past the wait fire as soon as their events commit. The cursor
test reads part of the stream, disconnects, lets more fire, resumes from
its cursor (exactly the rest, in order, nothing twice), and does the same
across a patrond restart. Bad input (a negative or future cursor, bytes
that are not a SubscribeRequest, an unknown rule kind in the file) is
refused clearly, and a parked stream ends when patrond shuts down. The
contact policy: customers who withdrew every channel or marketing, or whose
email cap is full (no waiting allowed), get no trigger; the others get theirs
on the preferred channel (else email), recorded as a contact. Customers
known only by SetCustomerAttributes (no events) get their birthday and
signup-anniversary triggers from the periodic scan. ExportCustomer lists a
customer's triggers.
"""
import datetime
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, item_id, rpc_error  # noqa: E402

SUBSCRIBE = "/patron.v1.Triggers/Subscribe"
HOUR = 3600_000


def now_ms():
    return int(time.time() * 1000)


class TriggerBase(ServerTest):
    """patrond with the settings file `rules`, the demo catalog, helpers."""
    rules = ""

    def server_options(self):
        return self.settings_options(self.rules)

    def setUp(self):
        super().setUp()
        self.n_events = 0
        r = self.srv.upsert_items(h.Shop.catalog())
        self.assertEqual(r.inserted, h.CATALOG_SIZE)

    # -- helpers

    def event(self, cust, item, etype, t):
        self.n_events += 1
        return h.pb.common.Event(event_id="trg-%05d" % self.n_events, customer_id=cust,
                                 item_id=item, type=etype, time_unix_ms=t, quantity=1,
                                 unit_price=10.0)

    def record(self, events):
        r = self.srv.record_events(events)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (len(events), 0, 0),
                         list(r.errors))

    def cart(self, cust, item, t):
        self.record([self.event(cust, item, h.pb.common.EVENT_TYPE_CART, t)])

    def stream(self, cursor, timeout):
        fn = self.srv.channel.unary_stream(
            SUBSCRIBE, request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.triggers.SubscribeResponse.FromString)
        return fn(h.pb.triggers.SubscribeRequest(cursor=cursor), timeout=timeout)

    def read(self, cursor, n, timeout=15):
        """The next n triggers after cursor; the stream is then cancelled."""
        call = self.stream(cursor, timeout)
        got = []
        try:
            for r in call:
                got.append(r.trigger)
                if len(got) == n:
                    break
        finally:
            call.cancel()
        self.assertEqual(len(got), n, "got %d of %d triggers" % (len(got), n))
        return got

    def read_all_for(self, cursor, seconds):
        """Everything the stream sends after cursor within `seconds` (the
        stream stays open: it ends with DEADLINE_EXCEEDED)."""
        got = []
        call = self.stream(cursor, seconds)
        try:
            for r in call:
                got.append(r.trigger)
        except grpc.RpcError as e:
            self.assertEqual(e.code(), SC.DEADLINE_EXCEEDED, e.details())
        return got

    def exported_triggers(self, cust):
        P = h.pb.profiles
        return list(self.srv.call("/patron.v1.Profiles/ExportCustomer",
                                  P.ExportCustomerRequest(customer_id=cust),
                                  P.ExportCustomerResponse).triggers)


class TriggerTests(TriggerBase):
    rules = ("trigger = cart cart_abandoned 3s\n"
             "trigger = hello first_purchase\n"
             "trigger = cheaper price_drop 7\n"
             "trigger_scan_seconds = 1\n"
             "trigger_recommend_k = 3\n")

    def test_cart_fires_once_after_the_wait_and_not_after_a_purchase(self):
        t0 = now_ms()
        self.cart("left", item_id("garden", 3), t0)
        self.record([self.event("bought", item_id("garden", 4), h.pb.common.EVENT_TYPE_CART, t0),
                     self.event("bought", item_id("garden", 4),
                                h.pb.common.EVENT_TYPE_PURCHASE, t0 + 1)])
        # "bought" fires first_purchase at once; nothing else for a while.
        first = self.read(0, 1)[0]
        self.assertEqual((first.customer_id, first.rule), ("bought", "hello"))
        self.assertEqual(first.kind, h.pb.triggers.TRIGGER_KIND_FIRST_PURCHASE)
        self.assertEqual(first.sequence, 1)
        # Then the abandoned cart, 3 s after it was carted (scanned every
        # second), and nothing more over the next scans.
        got = self.read_all_for(first.sequence, 7)
        self.assertEqual([(t.customer_id, t.rule) for t in got], [("left", "cart")],
                         [str(t) for t in got])
        t = got[0]
        self.assertEqual(t.kind, h.pb.triggers.TRIGGER_KIND_CART_ABANDONED)
        self.assertEqual(t.sequence, 2)
        self.assertEqual(list(t.items), [item_id("garden", 3)])
        self.assertEqual(t.time_unix_ms, t0 + 3000)
        self.assertGreaterEqual(t.fired_unix_ms, t0 + 3000)
        self.assertIn("without a purchase", t.reason)
        self.assertEqual(t.dedup_key, str(t0))
        # No model yet: no recommended items; no coupons defined: no decision.
        self.assertEqual(list(t.recommended_items), [])
        self.assertFalse(t.HasField("coupon"))
        # "Export my data" lists each customer's own triggers.
        ex = self.exported_triggers("left")
        self.assertEqual([(x.sequence, x.rule, x.kind) for x in ex],
                         [(2, "cart", "cart_abandoned")])
        self.assertEqual((list(ex[0].items), ex[0].reason, ex[0].time_unix_ms,
                          ex[0].fired_unix_ms, ex[0].dedup_key, ex[0].coupon_request_id),
                         (list(t.items), t.reason, t.time_unix_ms, t.fired_unix_ms,
                          t.dedup_key, ""))
        self.assertEqual([(x.sequence, x.kind) for x in self.exported_triggers("bought")],
                         [(1, "first_purchase")])

    def test_cursor_resume_misses_nothing_and_repeats_nothing(self):
        old = now_ms() - 2 * HOUR   # past the wait: fires as the events commit

        def carts(names):
            for c in names:
                self.cart(c, item_id("books", 2), old)

        carts(["c%02d" % i for i in range(1, 6)])
        first = self.read(0, 2)
        self.assertEqual([t.sequence for t in first], [1, 2])
        cursor = first[-1].sequence
        carts(["c%02d" % i for i in range(6, 9)])
        rest = self.read(cursor, 6)
        self.assertEqual([t.sequence for t in rest], list(range(3, 9)))
        everyone = first + rest
        self.assertEqual(sorted(t.customer_id for t in everyone),
                         ["c%02d" % i for i in range(1, 9)])
        self.assertEqual(self.read_all_for(8, 2.5), [])  # nothing twice
        # Across a restart: the log and the counter are durable.
        self.assertEqual(self.srv.stop(), 0)
        self.srv.start()
        self.assertEqual(self.read_all_for(8, 2.5), [])
        carts(["c09", "c10"])
        after = self.read(8, 2)
        self.assertEqual([t.sequence for t in after], [9, 10])
        self.assertEqual({t.customer_id for t in after}, {"c09", "c10"})
        replay = self.read(0, 10)
        self.assertEqual([t.sequence for t in replay], list(range(1, 11)))
        self.assertEqual([(t.customer_id, t.time_unix_ms, tuple(t.items)) for t in replay[:8]],
                         [(t.customer_id, t.time_unix_ms, tuple(t.items)) for t in everyone])

    def test_price_drop_on_a_viewed_item(self):
        it = item_id("toys", 5)
        price = next(i.price for i in h.Shop.catalog() if i.item_id == it)
        self.record([self.event("looker", it, h.pb.common.EVENT_TYPE_VIEW, now_ms() - 60_000)])
        self.assertEqual(self.read_all_for(0, 1.5), [])
        cheaper = h.pb.common.Item(item_id=it, title="Item " + it, category="toys",
                                   price=round(price / 2, 2), unit_cost=1.0, in_stock=True)
        self.srv.upsert_items([cheaper])
        t = self.read(0, 1)[0]
        self.assertEqual((t.customer_id, t.rule, list(t.items)), ("looker", "cheaper", [it]))
        self.assertEqual(t.kind, h.pb.triggers.TRIGGER_KIND_PRICE_DROP)
        self.assertIn("price fell", t.reason)

    def test_bad_cursors_and_malformed_requests(self):
        err = rpc_error(lambda: list(self.stream(-1, 5)))
        self.assertStatus(err, SC.INVALID_ARGUMENT, "cursor")
        err = rpc_error(lambda: list(self.stream(5, 5)))
        self.assertStatus(err, SC.INVALID_ARGUMENT, "cursor", "beyond the newest")
        raw = self.srv.channel.unary_stream(SUBSCRIBE, request_serializer=None,
                                            response_deserializer=None)
        err = rpc_error(lambda: list(raw(b"\x08\xff\xff", timeout=5)))
        self.assertStatus(err, SC.INVALID_ARGUMENT)

    def test_stream_ends_on_shutdown(self):
        call = self.stream(0, 30)
        ended = {}

        def consume():
            try:
                ended["n"] = len(list(call))
                ended["code"] = SC.OK
            except grpc.RpcError as e:
                ended["code"] = e.code()

        th = threading.Thread(target=consume)
        th.start()
        time.sleep(0.5)  # parked
        t0 = time.monotonic()
        self.srv.signal(signal.SIGTERM)
        self.assertEqual(self.srv.proc.wait(timeout=10), 0)
        th.join(10)
        self.assertFalse(th.is_alive())
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIn(ended.get("code"), (SC.OK, SC.UNAVAILABLE))


class TriggerPolicyTests(TriggerBase):
    """Triggers go through the contact policy: a customer who withdrew every
    channel, or whose fatigue cap is full (with no waiting allowed), gets no
    trigger; the others get theirs on their preferred channel (else email),
    recorded as a contact that counts toward their caps."""
    rules = ("trigger = cart cart_abandoned 1s\n"
             "trigger_scan_seconds = 1\n"
             "trigger_max_delay_hours = 0\n"
             "contact.min_gap_minutes = 0\n")

    def prof(self, method, req, resp_cls):
        return self.srv.call("/patron.v1.Profiles/" + method, req, resp_cls)

    def prefs(self, cust, **prefs):
        P = h.pb.profiles
        self.prof("SetPreferences", P.SetPreferencesRequest(
            customer_id=cust, source="test", preferences=P.ContactPreferences(**prefs)),
            P.SetPreferencesResponse)

    def test_consent_and_fatigue_cap_suppress_and_the_channel_is_chosen(self):
        P = h.pb.profiles
        W, G = P.CONSENT_STATE_WITHDRAWN, P.CONSENT_STATE_GRANTED
        t0 = now_ms()
        self.prefs("optout", email=W, sms=W, push=W, in_app=W)
        self.prefs("nomarketing", marketing=W)
        self.prefs("tired", email=G, sms=W, push=W, in_app=W)
        for i in range(2):  # email's day cap is 2
            self.prof("RecordContact", P.RecordContactRequest(
                customer_id="tired", message_id="news-%d" % i, channel=P.CHANNEL_EMAIL,
                kind=P.CONTACT_KIND_COUPON, time_unix_ms=t0 - HOUR + i), P.RecordContactResponse)
        self.prefs("app", preferred_channel=P.CHANNEL_IN_APP)
        # Carts backdated past the wait fire as their events commit; "last"
        # is carted after the others, so once it arrives every earlier one
        # has been decided.
        for i, cust in enumerate(["optout", "nomarketing", "tired", "plain", "app"]):
            self.cart(cust, item_id("garden", i + 1), t0 - 10_000)
        self.cart("last", item_id("garden", 9), t0 - 10_000)
        got = []
        for t in self.stream(0, 20):
            got.append(t.trigger)
            if t.trigger.customer_id == "last":
                break
        by = {t.customer_id: t for t in got}
        self.assertEqual(sorted(by), ["app", "last", "plain"])
        self.assertEqual(by["plain"].channel, P.CHANNEL_EMAIL)
        self.assertEqual(by["app"].channel, P.CHANNEL_IN_APP)
        self.assertTrue(by["plain"].contact_message_id.startswith("trg-"))
        ex = self.exported_triggers("plain")
        self.assertEqual([(x.channel, x.contact_message_id) for x in ex],
                         [(P.CHANNEL_EMAIL, by["plain"].contact_message_id)])
        self.assertEqual(self.exported_triggers("tired"), [])  # suppressed: never logged
        # The trigger counts toward plain's email cap; tired's stays at the
        # two messages recorded before.
        c = self.prof("CheckContact", P.CheckContactRequest(
            customer_id="plain", channel=P.CHANNEL_EMAIL, kind=P.CONTACT_KIND_TRIGGER),
            P.CheckContactResponse)
        self.assertEqual(c.channel_used_day, 1)
        c = self.prof("CheckContact", P.CheckContactRequest(
            customer_id="tired", channel=P.CHANNEL_EMAIL, kind=P.CONTACT_KIND_TRIGGER),
            P.CheckContactResponse)
        self.assertEqual((c.allowed, c.channel_used_day), (False, 2))
        # Recording the same message again is a duplicate: the sender may
        # confirm it without counting twice.
        r = self.prof("RecordContact", P.RecordContactRequest(
            customer_id="plain", message_id=by["plain"].contact_message_id,
            channel=P.CHANNEL_EMAIL, kind=P.CONTACT_KIND_TRIGGER), P.RecordContactResponse)
        self.assertTrue(r.duplicate)
        # Suppressed for good: a later scan never delivers them.
        time.sleep(2.5)
        later = self.read_all_for(by["last"].sequence, 2)
        self.assertEqual(later, [])


class TriggerPointsTests(TriggerBase):
    """points_expiring: points earned 20 days ago that expire a month after
    they vested fire once, naming how many expire and when; points that
    expire later than the look-ahead do not."""
    rules = ("trigger = pts points_expiring 14\n"
             "trigger_scan_seconds = 1\n"
             "contact.min_gap_minutes = 0\n"
             "points_expiry = months 1\n")

    def test_points_expiring_fires_once_with_the_amount_and_date(self):
        t0 = now_ms()
        E = h.pb.common
        self.record([self.event("soon", item_id("garden", 1), E.EVENT_TYPE_PURCHASE,
                                t0 - 20 * 24 * HOUR),
                     self.event("later", item_id("garden", 2), E.EVENT_TYPE_PURCHASE,
                                t0 - 2 * 24 * HOUR),
                     self.event("marker", item_id("garden", 3), E.EVENT_TYPE_PURCHASE,
                                t0 - 25 * 24 * HOUR)])
        got = self.read_all_for(0, 4)
        by = {}
        for t in got:
            self.assertNotIn(t.customer_id, by, "fired twice")
            by[t.customer_id] = t
        # "later" expires in about 28 days: beyond the 14-day look-ahead.
        self.assertEqual(sorted(by), ["marker", "soon"])
        t = by["soon"]
        self.assertEqual(t.kind, h.pb.triggers.TRIGGER_KIND_POINTS_EXPIRING)
        self.assertRegex(t.reason, r"^10 points expire on 20\d\d-\d\d-\d\d$")
        self.assertEqual(int(t.dedup_key) > t0, True)  # the expiry instant, ahead


class TriggerAttributeTests(TriggerBase):
    """The periodic scan covers customers known only by their attributes: a
    birthday or a signup anniversary two days ahead fires for them with no
    event ever recorded; one forty days ahead does not."""
    rules = ("trigger = bday birthday 3\n"
             "trigger = anniv anniversary 3\n"
             "trigger_scan_seconds = 1\n")

    def attributes(self, cust, **attrs):
        P = h.pb.profiles
        self.srv.call("/patron.v1.Profiles/SetCustomerAttributes",
                      P.SetCustomerAttributesRequest(attributes=P.CustomerAttributes(
                          customer_id=cust, **attrs)), P.SetCustomerAttributesResponse)

    def test_birthday_and_anniversary_without_events(self):
        utc = datetime.timezone.utc
        today = datetime.datetime.now(utc).date()
        soon, far = today + datetime.timedelta(days=2), today + datetime.timedelta(days=40)
        try:
            signup = datetime.datetime(soon.year - 1, soon.month, soon.day, 12, tzinfo=utc)
        except ValueError:  # 29 February: the anniversary falls on the 28th
            signup = datetime.datetime(soon.year - 1, 2, 28, 12, tzinfo=utc)
        self.attributes("bday-only", birth_month=soon.month, birth_day=soon.day)
        self.attributes("signup-only", signup_unix_ms=int(signup.timestamp() * 1000))
        self.attributes("far-bday", birth_month=far.month, birth_day=far.day)
        got = self.read(0, 2)
        self.assertEqual(sorted((t.customer_id, t.rule) for t in got),
                         [("bday-only", "bday"), ("signup-only", "anniv")])
        by = {t.customer_id: t for t in got}
        self.assertEqual(by["bday-only"].kind, h.pb.triggers.TRIGGER_KIND_BIRTHDAY)
        self.assertIn("birthday on %s" % soon.isoformat(), by["bday-only"].reason)
        self.assertEqual(by["signup-only"].kind, h.pb.triggers.TRIGGER_KIND_ANNIVERSARY)
        # Later scans fire nothing more: not twice, not forty days early.
        self.assertEqual(self.read_all_for(max(t.sequence for t in got), 2.5), [])


class TriggerSettingsTests(ServerTest):
    def test_unknown_rule_kind_refuses_to_start(self):
        self.assert_settings_refused("trigger_scan_seconds = 5\ntrigger = x cart_forgotten 4h\n",
                                     "bad.conf:2: trigger: unknown kind")
        self.assert_settings_refused(
            "trigger = pts points_expiring 400\n",
            "bad.conf:1: trigger: points_expiring needs the days ahead, 1..365")

    def test_without_rules_subscribe_waits(self):
        fn = self.srv.channel.unary_stream(
            SUBSCRIBE, request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.triggers.SubscribeResponse.FromString)
        err = rpc_error(lambda: list(fn(h.pb.triggers.SubscribeRequest(), timeout=1)))
        self.assertStatus(err, SC.DEADLINE_EXCEEDED)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_triggers")
