#!/usr/bin/python3
"""Integration tests of the catalog and the model lifecycle: UpsertItems,
training through the API, catalog and model swaps under load, ReloadModel,
SIGHUP and the poll loop.

    /usr/bin/python3 tests/integration/test_catalog_models.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import math
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, BASE_MS, ALL_ITEMS, CATALOG_SIZE, Shop,
                            setup_through_api, ServerTest, rpc_error, wait_until)  # noqa: E402


class CatalogWithoutModelTests(ServerTest):

    def test_setup_through_api_train_and_reload(self):
        setup_through_api(self, self.srv)
        self.assertServing("", False)
        out = h.train(self.data).stdout  # patron train while patrond serves the dir
        self.assertIn("published model version 1", out)
        # Published but not loaded: poll is off, nothing signalled.
        self.assertServing("", False)
        info = self.srv.reload_model()
        self.assertEqual(info.version, 1)
        self.assertEqual(info.factors, 16)
        self.assertEqual(info.iterations, 10)
        self.assertEqual(info.customers, len(h.SHOP.taste))
        self.assertEqual(info.items, CATALOG_SIZE)
        self.assertGreater(info.trained_at_unix_ms, 1_600_000_000_000)
        self.assertTrue(math.isfinite(info.final_loss))
        self.assertEqual(self.srv.model_info(), info)
        for service in ("", "patron.v1.Recommender", "patron.v1.Events", "patron.v1.Admin"):
            self.assertServing(service, True)
        r = self.srv.recommend("cust-00", 5)
        self.assertPersonalized(r, 5)
        # Reloading again with nothing new keeps version 1.
        self.assertEqual(self.srv.reload_model().version, 1)

    def test_upsert_items_insert_then_update(self):
        items = Shop.catalog()[:3]
        r = self.srv.upsert_items(items)
        self.assertEqual((r.inserted, r.updated), (3, 0))
        items[0].price = 99.0
        r = self.srv.upsert_items(items[:1] + [h.pb.common.Item(item_id="new-1", category="x")])
        self.assertEqual((r.inserted, r.updated), (1, 1))

    def test_upsert_items_invalid_is_rejected_whole(self):
        good = h.pb.common.Item(item_id="good-1", title="ok", category="books", price=5)
        bad_price = h.pb.common.Item(item_id="bad-1", title="x", category="books", price=-1)
        empty_id = h.pb.common.Item(item_id="", title="x", category="books", price=1)
        e = rpc_error(self.srv.upsert_items, [good, bad_price])
        self.assertStatus(e, SC.INVALID_ARGUMENT, "items[1].price")
        e = rpc_error(self.srv.upsert_items, [good, good, empty_id])
        self.assertStatus(e, SC.INVALID_ARGUMENT, "items[2].item_id")
        nan_cost = h.pb.common.Item(item_id="bad-2", unit_cost=float("nan"))
        e = rpc_error(self.srv.upsert_items, [nan_cost])
        self.assertStatus(e, SC.INVALID_ARGUMENT, "items[0].unit_cost")
        # Nothing was stored: events for those items are rejected as unknown.
        ev = [h.pb.common.Event(event_id="e-%d" % i, customer_id="c", item_id=it,
                                type=h.pb.common.EVENT_TYPE_VIEW, time_unix_ms=BASE_MS)
              for i, it in enumerate(["good-1", "bad-1"])]
        r = self.srv.record_events(ev)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, 0, 2))
        for err in r.errors:
            self.assertTrue(err.reason.startswith("item_id:"), err.reason)
            self.assertIn("unknown item", err.reason)
        # The same good item alone is accepted.
        self.assertEqual(self.srv.upsert_items([good]).inserted, 1)
        self.assertEqual(self.srv.record_events(ev[:1]).accepted, 1)


class CatalogServingTests(ServerTest):
    trained = True

    def test_catalog_writes_reach_serving_at_once(self):
        """Regression (issue 12, bug 2): the model used to carry its own
        catalog copy, so stock and price changes never reached serving, not
        even after ReloadModel. Now the next call after UpsertItems sees them,
        and no model is reloaded for it."""
        cust = "cust-03"
        before = self.srv.model_info()
        r = self.rec(customer_id=cust, k=5, filters=h.pb.rec.Filters(in_stock_only=True))
        gone = r.items[0].item_id
        item = next(it for it in Shop.catalog() if it.item_id == gone)
        item.in_stock = False
        item.price = 77.25
        self.srv.upsert_items([item])
        r = self.rec(customer_id=cust, k=CATALOG_SIZE,
                     filters=h.pb.rec.Filters(in_stock_only=True))
        self.assertNotIn(gone, [i.item_id for i in r.items])
        r = self.rec(customer_id=cust, k=CATALOG_SIZE, include_item_details=True)
        got = {i.item_id: i.details for i in r.items}
        self.assertIn(gone, got)  # without the filter it is still recommended
        self.assertEqual((got[gone].price, got[gone].in_stock), (77.25, False))
        # SimilarItems and RankItems read the same catalog.
        sim = self.srv.call("/patron.v1.Recommender/SimilarItems",
                            h.pb.rec.SimilarItemsRequest(
                                item_id="books-01", k=CATALOG_SIZE - 1,
                                filters=h.pb.rec.Filters(in_stock_only=True)),
                            h.pb.rec.SimilarItemsResponse)
        self.assertNotIn(gone, [i.item_id for i in sim.items])
        rank = self.srv.call("/patron.v1.Recommender/RankItems",
                             h.pb.rec.RankItemsRequest(customer_id=cust, item_ids=[gone],
                                                       include_item_details=True),
                             h.pb.rec.RankItemsResponse)
        self.assertEqual(rank.items[0].details.price, 77.25)
        # Back in stock: recommendable again, still the same model.
        item.in_stock = True
        self.srv.upsert_items([item])
        r = self.rec(customer_id=cust, k=5, filters=h.pb.rec.Filters(in_stock_only=True))
        self.assertIn(gone, [i.item_id for i in r.items])
        after = self.srv.model_info()
        self.assertEqual((after.version, after.memory_bytes),
                         (before.version, before.memory_bytes))

    def test_catalog_swaps_under_load_are_consistent_within_a_call(self):
        """Three threads ask for in-stock lists with details while the main
        thread flips items in and out of stock. A call pins one catalog
        snapshot, so the filter and the details it returns always agree,
        no call fails and every list is full."""
        items = {it.item_id: it for it in Shop.catalog()}
        flip = sorted(items)[::4]  # a quarter of the catalog
        stop, failures = threading.Event(), []

        def worker(tid):
            cust = sorted(h.SHOP.taste)[tid]
            while not stop.is_set():
                try:
                    r = self.rec(customer_id=cust, k=10, include_item_details=True,
                                 filters=h.pb.rec.Filters(in_stock_only=True))
                except grpc.RpcError as e:
                    failures.append((e.code(), e.details()))
                    continue
                if len(r.items) != 10 or not all(i.details.in_stock for i in r.items):
                    failures.append([(i.item_id, i.details.in_stock) for i in r.items])

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(3)]
        for t in threads:
            t.start()
        try:
            for rnd in range(30):
                for it in flip:
                    items[it].in_stock = rnd % 2 == 1
                self.srv.upsert_items([items[it] for it in flip])
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        self.assertEqual(failures, [])

    def test_items_added_after_training_have_details_but_no_factors(self):
        new = h.pb.common.Item(item_id="books-new", title="New book", category="books",
                               price=9.5, unit_cost=1.0, in_stock=True)
        r = self.srv.upsert_items([new])
        self.assertEqual((r.inserted, r.updated), (1, 0))
        info = self.srv.model_info()
        self.assertEqual((info.items, info.catalog_items), (CATALOG_SIZE, CATALOG_SIZE + 1))
        self.assertGreater(info.catalog_bytes, 0)
        # Never recommended (no factors yet), and every list stays whole.
        r = self.srv.recommend("stranger", 1000)
        self.assertEqual({i.item_id for i in r.items}, set(ALL_ITEMS))
        e = rpc_error(self.srv.call, "/patron.v1.Recommender/SimilarItems",
                      h.pb.rec.SimilarItemsRequest(item_id="books-new", k=3),
                      h.pb.rec.SimilarItemsResponse)
        self.assertStatus(e, SC.NOT_FOUND, "no factors")
        rank = self.srv.call("/patron.v1.Recommender/RankItems",
                             h.pb.rec.RankItemsRequest(customer_id="cust-03",
                                                       item_ids=["books-new", "books-07"]),
                             h.pb.rec.RankItemsResponse)
        self.assertEqual([i.item_id for i in rank.items], ["books-07", "books-new"])

    def test_model_swaps_under_load_fail_nothing_and_never_mix(self):
        """Four threads call Recommend while three new versions are trained
        and swapped in. No call may fail, versions seen by a thread never go
        back, and every answer for a (customer, version) is the same list:
        a response mixing two versions would differ from its version's."""
        customers = sorted(h.SHOP.taste)[:8]
        stop, saw_last = threading.Event(), threading.Event()
        answers, lock, failures, seen_versions = {}, threading.Lock(), [], set()

        def worker(tid):
            last = 0
            n = 0
            while not stop.is_set() and n < 5000:
                cust = customers[(tid + n) % len(customers)]
                n += 1
                try:
                    r = self.srv.recommend(cust, 10, timeout=5)
                except grpc.RpcError as e:
                    failures.append((cust, e.code(), e.details()))
                    continue
                v = r.provenance.model_version
                ids = tuple(i.item_id for i in r.items)
                if v < last or len(ids) != 10:
                    failures.append((cust, "version went back or short list", v, last))
                last = v
                if v == 4:
                    saw_last.set()
                with lock:
                    seen_versions.add(v)
                    prev = answers.setdefault((cust, v), ids)
                if prev != ids:
                    failures.append((cust, v, "answer differs within one version"))

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        try:
            for seed in (11, 12, 13):
                h.train(self.data, seed=seed)
                self.srv.reload_model()
            # Calls in flight at the last swap answer from version 3; let one
            # begun after it finish before stopping.
            saw_last.wait(timeout=10)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        self.assertEqual(failures, [])
        self.assertEqual(self.srv.model_info().version, 4)
        self.assertIn(4, seen_versions)
        self.assertGreaterEqual(len(seen_versions), 2, seen_versions)


class ModelReloadTests(ServerTest):
    trained = True

    def test_sighup_loads_newly_trained_model(self):
        self.assertEqual(self.srv.model_info().version, 1)
        out = h.train(self.data, factors=8).stdout
        self.assertIn("published model version 2", out)
        # Poll is off: nothing changes until told.
        self.assertEqual(self.srv.model_info().version, 1)
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self.srv.model_info().version == 2, 5, interval=0.05,
                   what="model version 2 after SIGHUP")
        info = self.srv.model_info()
        self.assertEqual(info.factors, 8)
        self.assertPersonalized(self.srv.recommend("cust-00", 5), 5, version=2)
        self.assertServing("", True)
        self.assertIsNone(self.srv.proc.poll())


class ModelPollTests(ServerTest):
    trained = True
    poll_seconds = 1

    def test_periodic_poll_loads_newly_trained_model(self):
        self.assertEqual(self.srv.model_info().version, 1)
        h.train(self.data)
        wait_until(lambda: self.srv.model_info().version == 2, 5, interval=0.05,
                   what="model version 2 from the poll loop")
        self.assertPersonalized(self.srv.recommend("cust-00", 5), 5, version=2)


def main():
    h.run_suite(__doc__.splitlines()[0], 'catalog and model integration suite')


if __name__ == "__main__":
    main()
