#!/usr/bin/python3
"""Integration tests of missions (check-in streaks, distinct categories,
event counts) against the real patrond:

    /usr/bin/python3 tests/integration/test_missions.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

Events of one customer replayed through RecordEvents (a week of check-ins
across a UTC month boundary, purchases from three categories with one
refunded whole, reviews in two months) must give GetProfile's mission
progress at chosen instants (progress, categories, completed, period,
sentence) and the ledger's mission rows (ListPointsLedger: reason MISSION,
source NAME:PERIOD, balance = sum of the rows); replaying the same events
changes nothing; `patron points` and `patron profile` print the missions;
bad mission lines keep patrond from starting, naming file and line.
"""
import calendar
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest  # noqa: E402

HOUR = 3600_000
DAY = 24 * HOUR
SETTINGS = """\
points_rule = visit check_in points 5
mission = streak7   check_in streak_days 7 reward_points 100 repeat monthly
mission = explorer  purchase distinct_categories 3 period month reward_points 150
mission = critic    review count 2 period month reward_points 50
"""
WHO = "mia"


def noon(y, m, d):
    return calendar.timegm((y, m, d, 12, 0, 0)) * 1000


def midnight(y, m, d):
    return calendar.timegm((y, m, d, 0, 0, 0)) * 1000


def events():
    E, T = h.pb.common.Event, h.pb.common
    out = []
    # Jan 29 .. Feb 4: seven UTC days in a row, across the month boundary.
    days = [(2026, 1, 29), (2026, 1, 30), (2026, 1, 31)] + [(2026, 2, d) for d in range(1, 5)]
    for k, (y, m, d) in enumerate(days):
        out.append(E(event_id="visit-%d" % (k + 1), customer_id=WHO,
                     type=T.EVENT_TYPE_CHECK_IN, time_unix_ms=noon(y, m, d)))

    def buy(eid, item, t, refund=False):
        return E(event_id=eid, customer_id=WHO, item_id=item, time_unix_ms=t, quantity=1,
                 unit_price=20.0,
                 type=T.EVENT_TYPE_REFUND if refund else T.EVENT_TYPE_PURCHASE)

    out += [
        buy("order-1", h.item_id("garden", 1), noon(2026, 2, 2)),
        buy("order-2", h.item_id("books", 2), noon(2026, 2, 3)),
        buy("return-2", h.item_id("books", 2), noon(2026, 2, 5), refund=True),
        E(event_id="review-1", customer_id=WHO, item_id=h.item_id("garden", 1),
          type=T.EVENT_TYPE_REVIEW, time_unix_ms=noon(2026, 2, 6)),
        E(event_id="review-2", customer_id=WHO, item_id=h.item_id("books", 2),
          type=T.EVENT_TYPE_REVIEW, time_unix_ms=noon(2026, 2, 7)),
        buy("order-3", h.item_id("books", 3), noon(2026, 2, 10)),
        buy("order-4", h.item_id("toys", 4), noon(2026, 2, 11)),
        E(event_id="review-3", customer_id=WHO, item_id=h.item_id("toys", 4),
          type=T.EVENT_TYPE_REVIEW, time_unix_ms=noon(2026, 3, 2)),
    ]
    return sorted(out, key=lambda e: e.time_unix_ms)


class MissionTests(ServerTest):
    def server_options(self):
        return self.settings_options(SETTINGS)

    def setUp(self):
        super().setUp()
        self.srv.upsert_items(h.Shop.catalog())
        r = self.srv.record_events(events())
        self.assertEqual((r.accepted, r.rejected), (15, 0), list(r.errors))

    def missions(self, as_of):
        P = h.pb.profiles
        p = self.srv.call("/patron.v1.Profiles/GetProfile",
                          P.GetProfileRequest(customer_id=WHO, as_of_unix_ms=as_of),
                          P.GetProfileResponse).profile
        return {m.mission: m for m in p.missions}, p

    def ledger(self, as_of):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/ListPointsLedger",
                             P.ListPointsLedgerRequest(customer_id=WHO, as_of_unix_ms=as_of,
                                                       page_size=1000),
                             P.ListPointsLedgerResponse)

    def test_progress_in_february(self):
        # Feb 3 evening: six days in a row, one category (the book is bought
        # but refunded on the 5th, so on the 3rd it still counts), no review.
        m, _ = self.missions(noon(2026, 2, 3) + 6 * HOUR)
        self.assertEqual(list(m), ["streak7", "explorer", "critic"])
        s = m["streak7"]
        self.assertEqual((s.kind, s.event_type, s.progress, s.target, s.completed),
                         ("streak_days", "check_in", 6, 7, False))
        self.assertEqual((s.period, s.period_start_unix_ms, s.period_end_unix_ms),
                         ("month", midnight(2026, 2, 1), midnight(2026, 3, 1)))
        self.assertEqual(s.progress_text, "6/7 days in a row (this month, through 2026-02-28)")
        e = m["explorer"]
        self.assertEqual((e.progress, list(e.categories)), (2, ["garden", "books"]))
        self.assertEqual(e.progress_text,
                         "2/3 categories: garden, books (this month, through 2026-02-28)")

        # Feb 8: the streak is done; the refund took the book back.
        m, _ = self.missions(noon(2026, 2, 8))
        s = m["streak7"]
        self.assertEqual((s.completed, s.completed_unix_ms, s.completions, s.reward_points,
                          s.progress), (True, noon(2026, 2, 4), 1, 100, 7))
        self.assertEqual(s.progress_text, "completed on 2026-02-04; again from 2026-03-01")
        e = m["explorer"]
        self.assertEqual((e.progress, list(e.categories), e.completed), (1, ["garden"], False))
        c = m["critic"]
        self.assertEqual((c.kind, c.event_type, c.progress, c.completed, c.completed_unix_ms),
                         ("count", "review", 2, True, noon(2026, 2, 7)))

        # Feb 12: garden, books again (order-3) and toys.
        m, _ = self.missions(noon(2026, 2, 12))
        e = m["explorer"]
        self.assertEqual((e.progress, list(e.categories), e.completed, e.completed_unix_ms),
                         (3, ["garden", "books", "toys"], True, noon(2026, 2, 11)))

    def test_progress_in_march(self):
        m, p = self.missions(noon(2026, 3, 3))
        s, e, c = m["streak7"], m["explorer"], m["critic"]
        self.assertEqual((s.progress, s.completed, s.completions), (0, False, 1))
        self.assertEqual((s.period_start_unix_ms, s.period_end_unix_ms),
                         (midnight(2026, 3, 1), midnight(2026, 4, 1)))
        self.assertEqual((e.progress, e.completed, e.completions), (0, False, 1))
        self.assertEqual((c.progress, c.completed, c.completions), (1, False, 1))
        self.assertEqual(c.progress_text, "1/2 review events (this month, through 2026-03-31)")
        # 7 check-ins x 5 and the three rewards.
        self.assertEqual(p.points, 7 * 5 + 100 + 150 + 50)

    def test_ledger_rows_and_replay(self):
        P = h.pb.profiles
        before = self.ledger(noon(2026, 3, 3))
        rows = [(r.time_unix_ms, P.PointsReason.Name(r.reason)[len("POINTS_REASON_"):],
                 r.rule, r.mission, r.source_id, r.delta) for r in before.rows]
        visits = [r for r in rows if r[1] == "EARN"]
        self.assertEqual(len(visits), 7)
        self.assertTrue(all(r[2] == "visit" and r[5] == 5 for r in visits))
        self.assertEqual([r for r in rows if r[1] == "MISSION"], [
            (noon(2026, 2, 4), "MISSION", "", "streak7", "streak7:2026-02", 100),
            (noon(2026, 2, 7), "MISSION", "", "critic", "critic:2026-02", 50),
            (noon(2026, 2, 11), "MISSION", "", "explorer", "explorer:2026-02", 150),
        ])
        # The streak's reward comes right after the check-in that completed it.
        k = next(i for i, r in enumerate(rows) if r[1] == "MISSION")
        self.assertEqual(rows[k - 1][4], "visit-7")
        running = 0
        for r in before.rows:
            running += r.delta
            self.assertEqual(r.balance, running)
        self.assertEqual(before.balance, running)
        self.assertEqual(before.balance, 335)

        # The same events again are duplicates: nothing changes.
        r = self.srv.record_events(events())
        self.assertEqual(r.accepted, 0)
        again = self.ledger(noon(2026, 3, 3))
        self.assertEqual(list(again.rows), list(before.rows))

    def test_cli_prints_missions(self):
        out = h.run_patron("points", "--addr", self.srv.addr, "--user", WHO,
                           "--as-of", "2026-03-03T12:00:00Z", "--tail", "1").stdout
        lines = out.splitlines()
        self.assertEqual(lines[-3:], [
            "mission streak7      0/7 days in a row (this month, through 2026-03-31) "
            "(reward 100, completed 1 time)",
            "mission explorer     0/3 categories (this month, through 2026-03-31) "
            "(reward 150, completed 1 time)",
            "mission critic       1/2 review events (this month, through 2026-03-31) "
            "(reward 50, completed 1 time)"])
        self.assertEqual(lines[1].split()[1:], ["MISSION", "explorer", "explorer:2026-02",
                                                "+150", "+0", "335"])
        self.assertEqual(len(lines), 6)
        # patron profile prints the same lines under the profile.
        out = h.run_patron("profile", "--addr", self.srv.addr, "--user", WHO,
                           "--as-of", "2026-03-03T12:00:00Z").stdout
        self.assertIn("\n  mission critic       1/2 review events (this month, through "
                      "2026-03-31) (reward 50, completed 1 time)\n", out)

    def test_bad_mission_lines_refuse_to_start(self):
        for text, want in [
                ("mission = m review count 2\n", "bad.conf:1: mission: reward_points: required"),
                ("\nmission = m review streak 2 reward_points 5\n", "bad.conf:2: mission: KIND:"),
                ("mission = m check_in streak_days 400 reward_points 5\n",
                 "bad.conf:1: mission: streak_days: expected a whole number, 1..366"),
                ("mission = m review count 2 reward_points 5 period daily\n",
                 "bad.conf:1: mission: period: expected once, week, month or year")]:
            self.assert_settings_refused(text, want)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_missions")
