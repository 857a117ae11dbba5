#!/usr/bin/python3
"""Integration tests of patron.v1.Recommender/ComplementaryItems against the
real patrond: a cart's complements from the co-purchase statistics `patron
train` publishes with the model, filters and exclusions, unknown and new
item ids, argument errors naming the field, k.

    /usr/bin/python3 tests/integration/test_complements.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop (patron_harness.Shop): every customer buys item 00 of a category
and two others of it within three minutes, one basket each; so in every
category 00 is bought with everything, and pairs of the others now and then.
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, HEX32, CATALOG_SIZE, category_of, ServerTest,
                            rpc_error)  # noqa: E402


def co_counts(item):
    """Baskets (one per customer here) holding item and each other item."""
    baskets = collections.defaultdict(set)
    for e in h.SHOP.events:
        if e.type == h.pb.common.EVENT_TYPE_PURCHASE:
            baskets[e.customer_id].add(e.item_id)
    counts = collections.Counter()
    for b in baskets.values():
        if item in b:
            counts.update(b - {item})
    return counts


class ComplementsTest(ServerTest):

    def call(self, **fields):
        return self.srv.call("/patron.v1.Recommender/ComplementaryItems",
                             h.pb.rec.ComplementaryItemsRequest(**fields),
                             h.pb.rec.ComplementaryItemsResponse)


class ComplementsWithoutModelTests(ComplementsTest):

    def test_argument_errors_before_the_model(self):
        e = rpc_error(self.call, item_ids=[], k=5)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "item_ids")
        e = rpc_error(self.call, item_ids=["a"] * 101, k=5)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "item_ids: at most 100")
        e = rpc_error(self.call, item_ids=["garden-00", ""], k=5)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "item_ids[1]")
        for k in (0, 1001):
            e = rpc_error(self.call, item_ids=["garden-00"], k=k)
            self.assertStatus(e, SC.INVALID_ARGUMENT, "k:")
        e = rpc_error(self.call, item_ids=["garden-00"], k=5,
                      filters=h.pb.rec.Filters(min_price=-1))
        self.assertStatus(e, SC.INVALID_ARGUMENT, "min_price")
        e = rpc_error(self.call, item_ids=["garden-00"], k=5)
        self.assertStatus(e, SC.UNAVAILABLE, "no model")


class ComplementsTests(ComplementsTest):
    trained = True

    def assertComplements(self, r, cart, n=None):
        ids = [i.item_id for i in r.items]
        if n is not None:
            self.assertEqual(len(ids), n, ids)
        self.assertFalse(set(ids) & set(cart), "cart items answered: %s" % ids)
        self.assertEqual(len(set(ids)), len(ids), ids)
        self.assertLessEqual({i.reason for i in r.items}, {h.pb.common.REASON_COMPLEMENT})
        for i in r.items:
            self.assertEqual(len(i.because_of), 1)
            self.assertIn(i.because_of[0], cart)
        scores = [i.score for i in r.items]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertTrue(all(s > 0 for s in scores), scores)
        self.assertEqual(r.provenance.model_version, 1)
        self.assertRegex(r.provenance.request_id, HEX32)
        return ids

    def test_one_item_gets_what_was_bought_with_it(self):
        counts = co_counts("garden-00")
        r = self.call(item_ids=["garden-00"], k=5, include_item_details=True)
        ids = self.assertComplements(r, ["garden-00"], 5)
        # Bought together, so from its own category in this shop; the item
        # bought with it most often is among the first.
        self.assertEqual({category_of(i) for i in ids}, {"garden"})
        best = max(counts.values())
        self.assertGreaterEqual(best, 2)
        self.assertTrue(any(counts[i] == best for i in ids[:3]), (ids, counts))
        self.assertEqual(r.items[0].details.category, "garden")
        self.assertEqual(r.items[0].details.item_id, ids[0])

    def test_cart_and_filters(self):
        cart = ["kitchen-03", "kitchen-00", "kitchen-03"]  # a repeat counts once
        r = self.call(item_ids=cart, k=4)
        ids = self.assertComplements(r, cart)
        self.assertTrue(ids)
        first = ids[0]
        r = self.call(item_ids=cart, k=4, filters=h.pb.rec.Filters(exclude_item_ids=[first]))
        self.assertNotIn(first, self.assertComplements(r, cart))
        r = self.call(item_ids=cart, k=10, filters=h.pb.rec.Filters(in_stock_only=True,
                                                                   max_price=1000))
        self.assertTrue(self.assertComplements(r, cart))
        # Kitchen items were only ever bought with kitchen items: with the
        # category denied, what is left comes only from the long-tail
        # fallback (items bought with the factor neighbours of cart items
        # seen in few baskets): never kitchen, and no filler up to k.
        for f in (h.pb.rec.Filters(deny_categories=["kitchen"]),
                  h.pb.rec.Filters(allow_categories=["toys"])):
            r = self.call(item_ids=cart, k=10, filters=f)
            ids = self.assertComplements(r, cart)
            self.assertLess(len(ids), 10, ids)
            self.assertFalse([i for i in ids if category_of(i) == "kitchen"], ids)

    def test_k_limits_the_list(self):
        r1 = self.call(item_ids=["books-00"], k=1)
        self.assertComplements(r1, ["books-00"], 1)
        r3 = self.call(item_ids=["books-00"], k=3)
        self.assertEqual(r3.items[0].item_id, r1.items[0].item_id)
        # Never more than the items ever bought with the cart.
        r = self.call(item_ids=["books-00"], k=1000)
        ids = self.assertComplements(r, ["books-00"])
        self.assertLessEqual(len(ids), CATALOG_SIZE - 1)
        self.assertLessEqual(set(ids), set(co_counts("books-00")) |
                             {i for i in h.ALL_ITEMS if category_of(i) == "books"})

    def test_unknown_and_new_items(self):
        e = rpc_error(self.call, item_ids=["garden-00", "no-such-item"], k=5)
        self.assertStatus(e, SC.NOT_FOUND, "item_ids[1]", "no-such-item")
        # An item added after training is ignored in a cart ...
        self.srv.upsert_items([h.pb.common.Item(item_id="garden-new", title="New",
                                                category="garden", price=3.0,
                                                in_stock=True)])
        r = self.call(item_ids=["garden-new", "garden-00"], k=5)
        self.assertComplements(r, ["garden-00"], 5)
        # ... and alone it has nothing to go on yet.
        e = rpc_error(self.call, item_ids=["garden-new"], k=5)
        self.assertStatus(e, SC.NOT_FOUND, "item_ids", "added after model version 1")


def main():
    h.run_suite(__doc__.splitlines()[0], 'complements integration suite')


if __name__ == "__main__":
    main()
