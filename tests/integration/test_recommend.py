#!/usr/bin/python3
"""Integration tests of patron.v1.Recommender (Recommend, SimilarItems,
RankItems) against the real patrond, with and without the trained shop model.

    /usr/bin/python3 tests/integration/test_recommend.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, HEX32, BASE_MS, CATEGORIES, REFUNDER, ALL_ITEMS,
                            CATALOG_SIZE, item_id, category_of, Shop, ServerTest,
                            rpc_error)  # noqa: E402


class RecommendWithoutModelTests(ServerTest):

    def test_recommend_and_model_info_without_model(self):
        e = rpc_error(self.srv.recommend, "cust-00", 5)
        self.assertStatus(e, SC.UNAVAILABLE, "no model")
        e = rpc_error(self.srv.model_info)
        self.assertStatus(e, SC.FAILED_PRECONDITION)
        # Nothing published yet: reloading changes nothing.
        e = rpc_error(self.srv.reload_model)
        self.assertStatus(e, SC.FAILED_PRECONDITION)

    def test_recommend_argument_errors(self):
        # Validated before anything else: no model is needed to get them.
        for k in (0, 1001, 2**32 - 1):
            e = rpc_error(self.srv.recommend, "cust-00", k)
            self.assertStatus(e, SC.INVALID_ARGUMENT, "k:")
        e = rpc_error(self.srv.recommend, "", 5)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "customer_id")


class RecommendTests(ServerTest):
    trained = True

    def test_model_loaded_at_start(self):
        info = self.srv.model_info()
        self.assertEqual((info.version, info.factors), (1, 16))
        self.assertEqual((info.customers, info.items), (len(h.SHOP.taste), CATALOG_SIZE))
        self.assertServing("", True)
        self.assertServing("patron.v1.Recommender", True)

    def test_recommend_known_customer(self):
        cust = "cust-03"
        r1 = self.srv.recommend(cust, 10)
        self.assertPersonalized(r1, 10)
        r2 = self.srv.recommend(cust, 10)
        self.assertPersonalized(r2, 10)
        self.assertNotEqual(r1.provenance.request_id, r2.provenance.request_id)
        got = {i.item_id for i in r1.items}
        self.assertFalse(got & h.SHOP.bought[cust], "recommended bought items")
        self.assertEqual([i.item_id for i in r1.items], [i.item_id for i in r2.items])

    def test_recommend_fills_k_without_purchased(self):
        for cust in ("cust-03", REFUNDER, "cust-39"):
            # A refunded item is excluded as well (negative feedback).
            gone = h.SHOP.bought[cust] | {h.SHOP.refunded.get(cust, "")} - {""}
            k = CATALOG_SIZE - len(gone)
            r = self.srv.recommend(cust, k)
            self.assertPersonalized(r, k)
            self.assertEqual({i.item_id for i in r.items}, set(ALL_ITEMS) - gone, cust)
        # Even with include_purchased: only the refunded item is missing.
        r = self.srv.recommend(REFUNDER, CATALOG_SIZE, include_purchased=True)
        self.assertEqual({i.item_id for i in r.items},
                         set(ALL_ITEMS) - {h.SHOP.refunded[REFUNDER]})

    def test_recommend_include_purchased(self):
        cust = "cust-20"
        r = self.srv.recommend(cust, CATALOG_SIZE, include_purchased=True)
        self.assertPersonalized(r, CATALOG_SIZE)
        self.assertTrue(h.SHOP.bought[cust] <= {i.item_id for i in r.items})
        # Bought items are the strongest signal: they come first when allowed.
        top = {i.item_id for i in r.items[:len(h.SHOP.bought[cust])]}
        self.assertTrue(top & h.SHOP.bought[cust], "no bought item ranked on top")

    def test_recommend_k_larger_than_catalog(self):
        cust = "cust-11"
        r = self.srv.recommend(cust, 1000)
        self.assertPersonalized(r, CATALOG_SIZE - len(h.SHOP.bought[cust]))
        r = self.srv.recommend("stranger", 100)
        self.assertEqual(len(r.items), CATALOG_SIZE)
        self.assertEqual({i.item_id for i in r.items}, set(ALL_ITEMS))

    def test_recommendations_follow_taste(self):
        in_cat = 0
        weak = []
        for cust, cat in sorted(h.SHOP.taste.items()):
            r = self.srv.recommend(cust, 5)
            self.assertPersonalized(r, 5)
            n = sum(category_of(i.item_id) == cat for i in r.items)
            in_cat += n
            if n < 3:
                weak.append((cust, cat, [i.item_id for i in r.items]))
        self.assertEqual(weak, [], "customers whose top-5 is mostly outside their taste")
        self.assertGreaterEqual(in_cat / (5 * len(h.SHOP.taste)), 0.9)

    def test_recommend_unknown_customer_gets_popular(self):
        r = self.srv.recommend("never-seen-before", 10)
        self.assertEqual(len(r.items), 10)
        self.assertFalse(r.personalized)
        self.assertRegex(r.provenance.request_id, HEX32)
        self.assertEqual({i.reason for i in r.items}, {h.pb.common.REASON_POPULAR})
        ids = [i.item_id for i in r.items]
        self.assertEqual(ids[:2], ["books-00", "garden-00"])
        flagships = [ids.index(item_id(c, 0)) for c, _ in CATEGORIES]
        self.assertEqual(flagships, sorted(flagships), ids)
        scores = [i.score for i in r.items]
        self.assertEqual(scores, sorted(scores, reverse=True))
        # Everyone unknown gets the same list.
        r2 = self.srv.recommend("someone-else", 10)
        self.assertEqual([i.item_id for i in r2.items], ids)
        self.assertNotEqual(r2.provenance.request_id, r.provenance.request_id)

    def test_new_customer_after_training_is_folded_in(self):
        ev = h.pb.common.Event(event_id="new-cust-1", customer_id="newcomer",
                               item_id="books-00", type=h.pb.common.EVENT_TYPE_PURCHASE,
                               time_unix_ms=BASE_MS + 10**9, quantity=2, unit_price=3)
        self.assertEqual(self.srv.record_events([ev]).accepted, 1)
        # One purchase: personalized at once (factors folded in from it),
        # blended with popularity, the bought item excluded.
        r = self.srv.recommend("newcomer", 5)
        self.assertPersonalized(r, 5, reason=h.pb.common.REASON_FOLD_IN)
        ids = [i.item_id for i in r.items]
        self.assertNotIn("books-00", ids)
        self.assertGreaterEqual(sum(category_of(i) == "books" for i in ids), 3, ids)
        # A second event: now clearly a books customer.
        ev2 = h.pb.common.Event(event_id="new-cust-2", customer_id="newcomer",
                                item_id="books-05", type=h.pb.common.EVENT_TYPE_VIEW,
                                time_unix_ms=BASE_MS + 10**9 + 1)
        self.assertEqual(self.srv.record_events([ev2]).accepted, 1)
        ids = [i.item_id for i in self.srv.recommend("newcomer", 5).items]
        self.assertGreaterEqual(sum(category_of(i) == "books" for i in ids), 4, ids)

    def test_inline_events_and_explanations(self):
        E, T = h.pb.common.Event, h.pb.common
        session = [E(item_id="toys-03", type=T.EVENT_TYPE_VIEW, time_unix_ms=BASE_MS + 5),
                   E(item_id="toys-04", type=T.EVENT_TYPE_CART, time_unix_ms=BASE_MS + 6),
                   E(item_id="no-such-item", type=T.EVENT_TYPE_VIEW, time_unix_ms=BASE_MS + 7)]
        r = self.rec(customer_id="anonymous-session-9", k=5, inline_events=session,
                     explain=True)
        self.assertPersonalized(r, 5, reason=T.REASON_FOLD_IN)
        ids = [i.item_id for i in r.items]
        self.assertGreaterEqual(sum(category_of(i) == "toys" for i in ids), 4, ids)
        for it in r.items:
            self.assertTrue(set(it.because_of) <= {"toys-03", "toys-04"}, it)
        # Nothing of the session was stored.
        self.assertFalse(self.srv.recommend("anonymous-session-9", 5).personalized)
        # A known customer's explanations name their own items.
        cust = "cust-03"
        mine = {e.item_id for e in h.SHOP.events if e.customer_id == cust}
        r = self.rec(customer_id=cust, k=5, explain=True)
        self.assertPersonalized(r, 5)
        self.assertTrue(all(it.because_of for it in r.items))
        for it in r.items:
            self.assertTrue(set(it.because_of) <= mine, it)
        bad = [E(item_id="toys-03", type=T.EVENT_TYPE_VIEW, time_unix_ms=0)]
        e = rpc_error(self.rec, customer_id="x", k=5, inline_events=bad)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "inline_events[0].time_unix_ms")

    def test_recommend_filters(self):
        cust = "cust-03"  # a books customer
        prices = {it.item_id: it.price for it in Shop.catalog()}
        # Only garden and toys: exactly k from those, never bought, with details.
        r = self.rec(customer_id=cust, k=12, include_item_details=True,
                     filters=h.pb.rec.Filters(allow_categories=["garden", "toys"]))
        self.assertPersonalized(r, 12)
        self.assertEqual({category_of(i.item_id) for i in r.items}, {"garden", "toys"})
        self.assertEqual({i.details.category for i in r.items}, {"garden", "toys"})
        self.assertTrue(all(i.details.title == "Item " + i.item_id for i in r.items))
        # Price range plus an exclude list plus deny: every returned item passes.
        lo, hi = 10.0, 50.0
        passing = [it for it in ALL_ITEMS if lo <= prices[it] <= hi
                   and category_of(it) != "books" and it != "garden-01"]
        r = self.rec(customer_id=cust, k=len(passing) + 5,
                     filters=h.pb.rec.Filters(min_price=lo, max_price=hi,
                                              deny_categories=["books"],
                                              exclude_item_ids=["garden-01", "nope"]))
        self.assertEqual(sorted(i.item_id for i in r.items), sorted(passing))
        # exclude_viewed removes the customer's viewed items too.
        viewed = {e.item_id for e in h.SHOP.events if e.customer_id == cust
                  and e.type == h.pb.common.EVENT_TYPE_VIEW}
        r = self.rec(customer_id=cust, k=CATALOG_SIZE, exclude_viewed=True)
        self.assertEqual({i.item_id for i in r.items},
                         set(ALL_ITEMS) - h.SHOP.bought[cust] - viewed)
        # Bad filter values name the field.
        e = rpc_error(self.rec, customer_id=cust, k=5,
                      filters=h.pb.rec.Filters(min_price=20, max_price=10))
        self.assertStatus(e, SC.INVALID_ARGUMENT, "filters.max_price")
        e = rpc_error(self.rec, customer_id=cust, k=5,
                      filters=h.pb.rec.Filters(min_price=float("nan")))
        self.assertStatus(e, SC.INVALID_ARGUMENT, "filters.min_price")

    def test_recommend_diversity(self):
        cust = "cust-03"  # a books customer: a plain top 10 is mostly books
        plain = self.rec(customer_id=cust, k=10)
        self.assertPersonalized(plain, 10)
        plain_cats = [category_of(i.item_id) for i in plain.items]
        # A cap of 2 per category fills k = 8 with exactly 2 of each of the 4.
        r = self.rec(customer_id=cust, k=8, max_per_category=2)
        counts = {}
        for i in r.items:
            counts[category_of(i.item_id)] = counts.get(category_of(i.item_id), 0) + 1
        self.assertEqual(counts, {c: 2 for c, _ in CATEGORIES})
        self.assertFalse({i.item_id for i in r.items} & h.SHOP.bought[cust])
        # The best item stays first; the cap keeps each category's best ones.
        self.assertEqual(r.items[0].item_id, plain.items[0].item_id)
        self.assertEqual([i.item_id for i in r.items if category_of(i.item_id) == "books"],
                         [i.item_id for i in plain.items
                          if category_of(i.item_id) == "books"][:2])
        # Only 4 categories: a cap of 1 cannot fill 10.
        self.assertEqual(len(self.rec(customer_id=cust, k=10, max_per_category=1).items), 4)
        # Maximal marginal relevance spreads the list over more categories,
        # the items unique and never bought, scores the relevance scores.
        varied = self.rec(customer_id=cust, k=10, diversity=0.7)
        ids = [i.item_id for i in varied.items]
        self.assertEqual(len(set(ids)), 10)
        self.assertFalse(set(ids) & h.SHOP.bought[cust])
        self.assertGreater(len({category_of(i) for i in ids}), len(set(plain_cats)),
                           (ids, plain_cats))
        self.assertEqual(ids[0], plain.items[0].item_id)
        self.assertAlmostEqual(varied.items[0].score, plain.items[0].score, places=5)
        # The popularity fallback is diversified too.
        r = self.rec(customer_id="stranger", k=4, max_per_category=1)
        self.assertFalse(r.personalized)
        self.assertEqual(sorted(category_of(i.item_id) for i in r.items),
                         sorted(c for c, _ in CATEGORIES))
        for bad in (-0.1, 1.5, float("nan")):
            e = rpc_error(self.rec, customer_id=cust, k=5, diversity=bad)
            self.assertStatus(e, SC.INVALID_ARGUMENT, "diversity")

    def test_recommend_promotion(self):
        cust = "cust-03"  # a books customer: no toys in a plain top 10
        plain = [i.item_id for i in self.rec(customer_id=cust, k=10).items]
        self.assertNotIn("toys", {category_of(i) for i in plain})
        best_toys = [i.item_id for i in self.rec(
            customer_id=cust, k=2, filters=h.pb.rec.Filters(allow_categories=["toys"])).items]
        promo = h.pb.rec.Promotion(categories=["toys"], slots=2)
        r = self.rec(customer_id=cust, k=10, promotion=promo)
        ids = [i.item_id for i in r.items]
        # Her two best toys, flagged, at places 10/3 = 3 and 20/3 = 6; the
        # rest is the plain list in order, its last two giving way.
        self.assertEqual([ids[3], ids[6]], best_toys)
        self.assertEqual([i.promoted for i in r.items],
                         [False, False, False, True, False, False, True, False, False, False])
        self.assertEqual([x for x in ids if x not in best_toys], plain[:8])
        # Listed ids work too; unknown ones match nothing; filters still apply.
        r = self.rec(customer_id=cust, k=5, promotion=h.pb.rec.Promotion(
            item_ids=["garden-03", "no-such-item"], slots=1))
        self.assertEqual([i.item_id for i in r.items if i.promoted], ["garden-03"])
        r = self.rec(customer_id=cust, k=5, promotion=h.pb.rec.Promotion(
            item_ids=["garden-03"], slots=1),
            filters=h.pb.rec.Filters(deny_categories=["garden"]))
        self.assertFalse(any(i.promoted for i in r.items))
        for bad in (h.pb.rec.Promotion(categories=["toys"], slots=6),
                    h.pb.rec.Promotion(categories=["toys"]),
                    h.pb.rec.Promotion(slots=1)):
            e = rpc_error(self.rec, customer_id=cust, k=5, promotion=bad)
            self.assertStatus(e, SC.INVALID_ARGUMENT, "promotion")

    def test_exclude_recently_shown(self):
        cust = "cust-07"
        first = [i.item_id for i in self.rec(customer_id=cust, k=5).items]
        again = [i.item_id for i in self.rec(customer_id=cust, k=5,
                                              exclude_shown_minutes=60).items]
        self.assertEqual(len(again), 5)
        self.assertFalse(set(first) & set(again), (first, again))
        # Without the flag the same list comes back; out of range is an error.
        self.assertEqual([i.item_id for i in self.rec(customer_id=cust, k=5).items], first)
        e = rpc_error(self.rec, customer_id=cust, k=5, exclude_shown_minutes=20000)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "exclude_shown_minutes")

    def test_similar_items(self):
        call = lambda **f: self.srv.call("/patron.v1.Recommender/SimilarItems",
                                         h.pb.rec.SimilarItemsRequest(**f),
                                         h.pb.rec.SimilarItemsResponse)
        r = call(item_id="garden-03", k=5, include_item_details=True)
        ids = [i.item_id for i in r.items]
        self.assertEqual(len(ids), 5)
        self.assertNotIn("garden-03", ids)
        self.assertGreaterEqual(sum(category_of(i) == "garden" for i in ids), 4, ids)
        self.assertEqual({i.reason for i in r.items}, {h.pb.common.REASON_SIMILAR_ITEM})
        self.assertEqual(r.provenance.model_version, 1)
        self.assertRegex(r.provenance.request_id, HEX32)
        scores = [i.score for i in r.items]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertTrue(all(-1.0001 <= s <= 1.0001 for s in scores))
        r = call(item_id="garden-03", k=5, filters=h.pb.rec.Filters(deny_categories=["garden"]))
        self.assertFalse([i for i in r.items if category_of(i.item_id) == "garden"])
        self.assertStatus(rpc_error(call, item_id="no-such-item", k=5), SC.NOT_FOUND, "item_id")
        self.assertStatus(rpc_error(call, item_id="garden-03", k=0), SC.INVALID_ARGUMENT, "k:")
        self.assertStatus(rpc_error(call, item_id="", k=5), SC.INVALID_ARGUMENT, "item_id")

    def test_rank_items(self):
        call = lambda **f: self.srv.call("/patron.v1.Recommender/RankItems",
                                         h.pb.rec.RankItemsRequest(**f),
                                         h.pb.rec.RankItemsResponse)
        cust = "cust-03"  # books
        cands = ["toys-05", "unknown-item", "books-07", "kitchen-02", "books-09"]
        r = call(customer_id=cust, item_ids=cands)
        ids = [i.item_id for i in r.items]
        self.assertTrue(r.personalized)
        self.assertEqual(sorted(ids), sorted(cands))
        self.assertEqual(set(ids[:2]), {"books-07", "books-09"}, ids)
        self.assertEqual(ids[-1], "unknown-item")  # unknown to the model: kept, last
        self.assertEqual(r.items[-1].reason, h.pb.common.REASON_UNSPECIFIED)
        r = call(customer_id="stranger", item_ids=["toys-03", "books-00", "garden-00"])
        self.assertFalse(r.personalized)
        self.assertEqual([i.item_id for i in r.items], ["books-00", "garden-00", "toys-03"])
        self.assertEqual(len(call(customer_id=cust, item_ids=[]).items), 0)
        self.assertStatus(rpc_error(call, customer_id="", item_ids=["a"]),
                          SC.INVALID_ARGUMENT, "customer_id")
        self.assertStatus(rpc_error(call, customer_id=cust, item_ids=["ok", ""]),
                          SC.INVALID_ARGUMENT, "item_ids[1]")
        self.assertStatus(rpc_error(call, customer_id=cust, item_ids=["x"] * 10001),
                          SC.INVALID_ARGUMENT, "item_ids")

    def test_recommend_argument_errors(self):
        for k in (0, 1001, 2**32 - 1):
            e = rpc_error(self.srv.recommend, "cust-00", k)
            self.assertStatus(e, SC.INVALID_ARGUMENT, "k:")
        e = rpc_error(self.srv.recommend, "", 5)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "customer_id")
        e = rpc_error(self.srv.recommend, "x" * 257, 5)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "customer_id")
        self.assertEqual(len(self.srv.recommend("cust-00", 1).items), 1)
        self.assertEqual(len(self.srv.recommend("stranger", 1000).items), CATALOG_SIZE)

    # -- negative feedback: refunds and not_interested

    def event(self, eid, cust, etype, t, item="", category=""):
        T = h.pb.common
        return T.Event(event_id=eid, customer_id=cust, item_id=item, category=category,
                       type=getattr(T, "EVENT_TYPE_" + etype.upper()),
                       time_unix_ms=BASE_MS + 10**9 + t, quantity=1)

    def record(self, *events):
        r = self.srv.record_events(list(events))
        self.assertEqual((r.accepted, r.rejected), (len(events), 0), list(r.errors))

    def listed(self, cust, include_purchased=True, **fields):
        r = self.rec(customer_id=cust, k=CATALOG_SIZE, include_purchased=include_purchased,
                     **fields)
        return [i.item_id for i in r.items]

    def ranked(self, cust, items):
        r = self.srv.call("/patron.v1.Recommender/RankItems",
                          h.pb.rec.RankItemsRequest(customer_id=cust, item_ids=items),
                          h.pb.rec.RankItemsResponse)
        return [i.item_id for i in r.items]

    def test_refund_excludes_until_bought_again(self):
        cust = "cust-07"
        bought = sorted(h.SHOP.bought[cust])
        self.record(self.event("refund-1", cust, "refund", 1, item=bought[0]))
        # Never recommended again, at once, include_purchased or not.
        self.assertNotIn(bought[0], self.listed(cust))
        self.assertEqual(len(self.listed(cust)), CATALOG_SIZE - 1)
        self.assertNotIn(bought[0], self.listed(cust, include_purchased=False))
        # Viewing it again lifts nothing; buying it again does.
        self.record(self.event("view-1", cust, "view", 2, item=bought[0]))
        self.assertNotIn(bought[0], self.listed(cust))
        self.record(self.event("buy-1", cust, "purchase", 3, item=bought[0]))
        self.assertIn(bought[0], self.listed(cust))
        self.assertNotIn(bought[0], self.listed(cust, include_purchased=False))  # bought

    def test_not_interested_item_and_category(self):
        cust = "cust-02"   # a books customer
        garden = [it for it in ALL_ITEMS if category_of(it) == "garden"]
        book = item_id("books", 5)
        self.record(self.event("ni-1", cust, "not_interested", 1, item=book),
                    self.event("ni-2", cust, "not_interested", 2, category="garden"))
        got = self.listed(cust)
        self.assertNotIn(book, got)
        self.assertFalse(set(got) & set(garden), "a garden item after not_interested")
        self.assertEqual(len(got), CATALOG_SIZE - 1 - len(garden))
        # RankItems keeps them, after every other candidate.
        cand = [garden[0], book, item_id("toys", 1), garden[1], item_id("kitchen", 2)]
        order = self.ranked(cust, cand)
        self.assertEqual(sorted(order), sorted(cand))
        self.assertEqual(set(order[:2]), {item_id("toys", 1), item_id("kitchen", 2)})
        # Buying one garden item brings that one back, not the category.
        self.record(self.event("buy-g", cust, "purchase", 3, item=garden[3]))
        got = set(self.listed(cust))
        self.assertIn(garden[3], got)
        self.assertFalse(got & (set(garden) - {garden[3]}))
        self.assertNotIn(book, got)
        # An anonymous session says the same inline, for that request only.
        inl = [self.event("", "", "not_interested", 4, category="toys")]
        got = self.listed("visitor-1", inline_events=inl)
        self.assertFalse({it for it in got if category_of(it) == "toys"})
        self.assertEqual(len(got), CATALOG_SIZE - 15)
        self.assertEqual(len(self.listed("visitor-1")), CATALOG_SIZE)

    def test_negative_feedback_survives_training(self):
        cust = "cust-30"
        kitchen = [it for it in ALL_ITEMS if category_of(it) == "kitchen"]
        bought = sorted(h.SHOP.bought[cust])
        self.record(self.event("ni-k", cust, "not_interested", 1, category="kitchen"),
                    self.event("rf-1", cust, "refund", 2, item=bought[0]))
        h.train(self.data)
        self.srv.reload_model()
        r = self.srv.recommend(cust, CATALOG_SIZE, include_purchased=True)
        self.assertEqual(r.provenance.model_version, 2)
        got = {i.item_id for i in r.items}
        self.assertFalse(got & (set(kitchen) | {bought[0]}))
        self.assertEqual(len(got), CATALOG_SIZE - len(set(kitchen) | {bought[0]}))

    def test_negative_feedback_errors(self):
        cust = "cust-04"
        bad = [
            (self.event("e1", cust, "not_interested", 1, category="no-such-category"),
             "category: unknown category"),
            (self.event("e2", cust, "not_interested", 1), "item_id: required"),
            (self.event("e3", cust, "not_interested", 1, item="no-such-item"),
             "item_id: unknown item"),
            (self.event("e4", cust, "view", 1, category="garden"),
             "category: only for type not_interested"),
            (self.event("e5", cust, "not_interested", 1, item=ALL_ITEMS[0],
                        category="garden"), "item_id: must be empty"),
        ]
        r = self.srv.record_events([e for e, _ in bad])
        self.assertEqual((r.accepted, r.rejected), (0, len(bad)))
        for err, (_, why) in zip(r.errors, bad):
            self.assertIn(why, err.reason)
        self.assertEqual(len(self.listed(cust)), CATALOG_SIZE)  # nothing stored
        for inl, why in (
                (self.event("", "", "view", 1, category="garden"),
                 "inline_events[0].category: only for type not_interested"),
                (self.event("", "", "not_interested", 1), "inline_events[0].item_id: required")):
            e = rpc_error(self.rec, customer_id=cust, k=5, inline_events=[inl])
            self.assertStatus(e, SC.INVALID_ARGUMENT, why)

    def test_malformed_bodies_keep_serving(self):
        for path in ("/patron.v1.Recommender/Recommend", "/patron.v1.Events/RecordEvents"):
            e = rpc_error(self.srv.call_raw, path, b"\xff\xff\xff\xff")
            self.assertStatus(e, SC.INVALID_ARGUMENT)
            self.assertPersonalized(self.srv.recommend("cust-00", 3), 3)


def main():
    h.run_suite(__doc__.splitlines()[0], 'recommend integration suite')


if __name__ == "__main__":
    main()
