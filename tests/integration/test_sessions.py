#!/usr/bin/python3
"""Integration tests of session-aware Recommend against the real patrond: a
customer's current session (the request's inline events, or the stored
events since the last 30-minute gap while it is still going on) outweighs a
long history in another category.

    /usr/bin/python3 tests/integration/test_sessions.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop (patron_harness.Shop) plus two twins with the same long history in
books (every books item viewed, five bought, a year before now); the model
is trained on it. Then one twin browses garden items: now, or two hours
ago (a finished session: only history).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest, category_of, item_id  # noqa: E402

TWINS = ("twin-a", "twin-b")
K = 10
SESSION = [item_id("garden", j) for j in (3, 5, 7, 9, 11, 13)]


class SessionTests(ServerTest):

    def setUp(self):
        super().setUp()
        h.setup_through_api(self, self.srv)
        self.now_ms = int(time.time() * 1000)
        t = self.now_ms - 365 * 86_400_000
        events = []
        for cust in TWINS:
            for j in range(h.ITEMS_PER_CATEGORY):
                t += 60_000
                events.append(self.event(cust, item_id("books", j), h.pb.common.EVENT_TYPE_VIEW, t))
            for j in (0, 2, 4, 6, 8):
                t += 60_000
                events.append(self.event(cust, item_id("books", j),
                                         h.pb.common.EVENT_TYPE_PURCHASE, t))
        self.record(events)
        h.train(self.data)
        self.assertEqual(self.srv.reload_model().version, 1)

    def event(self, cust, item, etype, t):
        self.n_events = getattr(self, "n_events", 0) + 1
        return h.pb.common.Event(event_id="sess-%05d" % self.n_events, customer_id=cust,
                                 item_id=item, type=etype, time_unix_ms=t, quantity=1,
                                 unit_price=10.0)

    def record(self, events):
        r = self.srv.record_events(events)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (len(events), 0, 0),
                         list(r.errors))

    def garden_session(self, cust, end_ms):
        """Carts of SESSION a minute apart, the last at end_ms."""
        n = len(SESSION)
        return [self.event(cust, it, h.pb.common.EVENT_TYPE_CART,
                           end_ms - (n - 1 - i) * 60_000) for i, it in enumerate(SESSION)]

    def categories(self, **fields):
        r = self.rec(k=K, **fields)
        self.assertPersonalized(r, K, reason=r.items[0].reason)
        return [category_of(i.item_id) for i in r.items]

    def test_long_history_without_a_session(self):
        for cust in TWINS:
            cats = self.categories(customer_id=cust)
            self.assertGreaterEqual(cats.count("books"), 7, (cust, cats))
            self.assertLessEqual(cats.count("garden"), 2, (cust, cats))

    def test_inline_session_turns_the_list(self):
        cats = self.categories(customer_id="twin-a",
                               inline_events=self.garden_session("", self.now_ms))
        self.assertGreaterEqual(cats.count("garden"), 6, cats)
        # Inline events are not stored: the next plain request is as before.
        cats = self.categories(customer_id="twin-a")
        self.assertGreaterEqual(cats.count("books"), 7, cats)

    def test_stored_session_turns_the_list_while_it_goes_on(self):
        now_ms = int(time.time() * 1000)
        self.record(self.garden_session("twin-a", now_ms - 60_000))
        # The same carts two hours ago: a finished session, only history.
        self.record(self.garden_session("twin-b", now_ms - 2 * 3_600_000))
        current = self.categories(customer_id="twin-a")
        finished = self.categories(customer_id="twin-b")
        self.assertGreaterEqual(current.count("garden"), 6, current)
        self.assertGreater(current.count("garden"), finished.count("garden"),
                           (current, finished))
        self.assertGreater(finished.count("books"), current.count("books"),
                           (current, finished))


def main():
    h.run_suite(__doc__.splitlines()[0], 'sessions integration suite')


if __name__ == "__main__":
    main()
