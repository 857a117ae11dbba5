#!/usr/bin/python3
"""Integration tests of the points economy (earning rules, vesting, expiry,
the ledger) against the real patrond:

    /usr/bin/python3 tests/integration/test_points.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

A year of one customer's life replayed through RecordEvents (a signup, a
purchase partly refunded inside the return window, reviews against a daily
cap, check-ins, a purchase refunded after the window, a late purchase) and
a RedeemPoints at the end must give exactly the expected ledger rows
(ListPointsLedger, paged or whole), a balance equal to the sum of the rows,
and GetProfile's pending, available and expiring-soon points at chosen
instants; `patron points` prints the ledger's tail. Bad requests get
INVALID_ARGUMENT naming the field; a bad rule line keeps patrond from
starting and names file, line and option.
"""
import calendar
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, rpc_error  # noqa: E402

DAY = 86400_000
NOON = DAY // 2
SETTINGS = """\
points_rule = welcome signup points 100 first_only
points_rule = buy purchase per_unit 1 vest_days 30
points_rule = review review points 20 daily_cap 20
points_rule = visit check_in points 5 daily_cap 5
points_expiry = months 6
points_expiring_soon_days = 60
"""
WHO = "pat"
# The year: a base one year before today (UTC midnight), events at noon.
BASE = (int(time.time() * 1000) // DAY - 365) * DAY


def at(day):
    return BASE + day * DAY + NOON


def add_months(ms, n):
    """ms + n calendar months, the day clamped to the month's length (UTC)."""
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    m = t.month - 1 + n
    y, m = t.year + m // 12, m % 12 + 1
    d = min(t.day, calendar.monthrange(y, m)[1])
    return calendar.timegm(t.replace(year=y, month=m, day=d).timetuple()) * 1000 + ms % 1000


def year_of_events():
    E = h.pb.common.Event
    T = h.pb.common
    shoe, book, lamp = h.item_id("garden", 1), h.item_id("books", 2), h.item_id("garden", 3)
    return [
        E(event_id="signup", customer_id=WHO, type=T.EVENT_TYPE_SIGNUP, time_unix_ms=at(0)),
        E(event_id="order-1", customer_id=WHO, item_id=shoe, type=T.EVENT_TYPE_PURCHASE,
          time_unix_ms=at(1), quantity=2, unit_price=40.0),
        E(event_id="return-1", customer_id=WHO, item_id=shoe, type=T.EVENT_TYPE_REFUND,
          time_unix_ms=at(10), quantity=1, unit_price=40.0),
        E(event_id="review-1", customer_id=WHO, item_id=shoe, type=T.EVENT_TYPE_REVIEW,
          time_unix_ms=at(20)),
        E(event_id="review-2", customer_id=WHO, item_id=book, type=T.EVENT_TYPE_REVIEW,
          time_unix_ms=at(20) + 3600_000),
        E(event_id="visit-1", customer_id=WHO, type=T.EVENT_TYPE_CHECK_IN, time_unix_ms=at(40)),
        E(event_id="visit-2", customer_id=WHO, type=T.EVENT_TYPE_CHECK_IN, time_unix_ms=at(41)),
        E(event_id="order-2", customer_id=WHO, item_id=lamp, type=T.EVENT_TYPE_PURCHASE,
          time_unix_ms=at(60), quantity=1, unit_price=120.0),
        E(event_id="return-2", customer_id=WHO, item_id=lamp, type=T.EVENT_TYPE_REFUND,
          time_unix_ms=at(100), quantity=1, unit_price=120.0),
        E(event_id="order-3", customer_id=WHO, item_id=book, type=T.EVENT_TYPE_PURCHASE,
          time_unix_ms=at(200), quantity=1, unit_price=50.0),
    ]


def expected_rows():
    """(time, reason, rule, source, delta, pending_delta) in ledger order."""
    rows = [
        (at(0), "EARN", "welcome", "signup", 100, 0),
        (at(1), "EARN", "buy", "order-1", 0, 80),
        (at(10), "CANCEL", "buy", "return-1", 0, -40),  # inside the window
        (at(20), "EARN", "review", "review-1", 20, 0),  # review-2: the day's cap is used
        (at(31), "VEST", "buy", "order-1", 40, -40),
        (at(40), "EARN", "visit", "visit-1", 5, 0),
        (at(41), "EARN", "visit", "visit-2", 5, 0),
        (at(60), "EARN", "buy", "order-2", 0, 120),
        (at(90), "VEST", "buy", "order-2", 120, -120),
        (at(100), "ADJUST", "buy", "return-2", -120, 0),  # after the window
        (add_months(at(0), 6), "EXPIRE", "welcome", "signup", -100, 0),
        (add_months(at(20), 6), "EXPIRE", "review", "review-1", -20, 0),
        (add_months(at(31), 6), "EXPIRE", "buy", "order-1", -40, 0),
        (add_months(at(40), 6), "EXPIRE", "visit", "visit-1", -5, 0),
        (add_months(at(41), 6), "EXPIRE", "visit", "visit-2", -5, 0),
        (at(200), "EARN", "buy", "order-3", 0, 50),
        (at(230), "VEST", "buy", "order-3", 50, -50),
    ]
    return sorted(rows, key=lambda r: r[0])


class PointsTests(ServerTest):
    def server_options(self):
        return self.settings_options(SETTINGS)

    def setUp(self):
        super().setUp()
        self.srv.upsert_items(h.Shop.catalog())
        r = self.srv.record_events(year_of_events())
        self.assertEqual((r.accepted, r.rejected), (10, 0), list(r.errors))

    def ledger(self, **kw):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/ListPointsLedger",
                             P.ListPointsLedgerRequest(**kw), P.ListPointsLedgerResponse)

    def profile(self, as_of=0):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/GetProfile",
                             P.GetProfileRequest(customer_id=WHO, as_of_unix_ms=as_of),
                             P.GetProfileResponse).profile

    def redeem(self, rid, points):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/RedeemPoints",
                             P.RedeemPointsRequest(customer_id=WHO, redemption_id=rid,
                                                   points=points), P.RedeemPointsResponse)

    def rows(self, resp):
        P = h.pb.profiles
        return [(r.time_unix_ms, P.PointsReason.Name(r.reason)[len("POINTS_REASON_"):],
                 r.rule, r.source_id, r.delta, r.pending_delta) for r in resp.rows]

    def test_a_year_of_one_customer(self):
        # Before the redemption: every row, in order, exactly.
        whole = self.ledger(customer_id=WHO, page_size=1000)
        want = expected_rows()
        self.assertEqual(self.rows(whole), want)
        self.assertEqual(whole.balance, 50)
        self.assertEqual(whole.pending, 0)
        self.assertEqual(whole.next_page_token, "")

        # The balance is the sum of the ledger, row by row.
        running = pending = 0
        for r in whole.rows:
            running += r.delta
            pending += r.pending_delta
            self.assertEqual((r.balance, r.pending), (running, pending))

        # A redemption spends the oldest bucket and is one more row; a
        # retry is a duplicate; an overdraw is refused.
        red = self.redeem("gift-1", 30)
        self.assertEqual((red.balance, red.duplicate), (20, False))
        self.assertEqual(self.redeem("gift-1", 30).duplicate, True)
        self.assertStatus(rpc_error(self.redeem, "gift-2", 21), SC.FAILED_PRECONDITION,
                          "points")
        after = self.ledger(customer_id=WHO)
        self.assertEqual(len(after.rows), len(want) + 1)
        last = after.rows[-1]
        self.assertEqual((h.pb.profiles.PointsReason.Name(last.reason), last.source_id,
                          last.delta, last.balance),
                         ("POINTS_REASON_REDEEM", "gift-1", -30, 20))
        self.assertEqual(after.balance, sum(r.delta for r in after.rows))

        # Pages of 4 give the same rows.
        paged, token, pages = [], "", 0
        while True:
            page = self.ledger(customer_id=WHO, page_size=4, page_token=token)
            paged += self.rows(page)
            pages += 1
            self.assertEqual(page.total_rows, len(want) + 1)
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(paged, self.rows(after))
        self.assertEqual(pages, 5)

        # The profile now: 20 available, expiring 6 months after day 230.
        p = self.profile()
        self.assertEqual(p.points, 20)
        s = p.points_status
        self.assertEqual((s.available, s.pending, s.expired), (20, 0, 170))
        self.assertEqual(s.expiring_soon_days, 60)
        soon = add_months(at(230), 6) - int(time.time() * 1000) <= 60 * DAY
        self.assertEqual(s.expiring_soon, 20 if soon else 0)
        # Earned net of refunds: 100 + 40 + 20 + 10 + 0 + 50 (expiry and
        # redemption do not unearn).
        self.assertEqual(p.points_earned, 220)
        self.assertEqual(p.points_redeemed, 30)

    def test_cli_prints_the_ledger_tail(self):
        out = h.run_patron("points", "--addr", self.srv.addr, "--user", WHO, "--tail", "2").stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["time", "reason", "rule", "source", "delta",
                                            "pending", "balance"])
        self.assertEqual([ln.split()[1:] for ln in lines[1:3]],
                         [["EXPIRE", "visit", "visit-2", "-5", "+0", "0"],
                          ["VEST", "buy", "order-3", "+50", "-50", "50"]])
        self.assertTrue(lines[3].startswith("17 rows; available 50, pending 0"), lines[3])
        self.assertEqual(len(lines), 4)

    def test_profile_as_of_day_205(self):
        s = self.profile(at(205)).points_status
        # Welcome and the review have expired; order-3's 50 vest on day 230;
        # order-1's 40 and the two check-ins expire within 60 days.
        self.assertEqual((s.available, s.pending), (50, 50))
        self.assertEqual((s.next_vest_points, s.next_vest_unix_ms), (50, at(230)))
        self.assertEqual(s.expiring_soon, 50)
        self.assertEqual(s.expiring_soon_unix_ms, add_months(at(31), 6))

    def test_bad_requests(self):
        self.assertStatus(rpc_error(self.ledger, customer_id=WHO, page_token="nope"),
                          SC.INVALID_ARGUMENT, "page_token")
        self.assertStatus(rpc_error(self.ledger, customer_id=WHO, page_token="pl1.5.-1"),
                          SC.INVALID_ARGUMENT, "page_token")
        self.assertStatus(rpc_error(self.ledger, customer_id=WHO, as_of_unix_ms=-1),
                          SC.INVALID_ARGUMENT, "as_of_unix_ms")
        self.assertStatus(rpc_error(self.ledger, customer_id=""), SC.INVALID_ARGUMENT,
                          "customer_id")
        self.assertStatus(rpc_error(self.ledger, customer_id="nobody"), SC.NOT_FOUND,
                          "customer_id")
        self.assertStatus(rpc_error(self.redeem, "neg", -5), SC.INVALID_ARGUMENT, "points")

    def test_bad_rule_lines_refuse_to_start(self):
        for text, want in [
                ("points_rule = x review points -5\n", "bad.conf:1: points_rule: points:"),
                ("\npoints_rule = x review points 5 bonus 2\n",
                 "bad.conf:2: points_rule: unknown option \"bonus\""),
                ("points_rule = x review points 5 multiplier diamond 2\n",
                 "bad.conf:1: points_rule: multiplier: no tier")]:
            self.assert_settings_refused(text, want)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_points")
