#!/usr/bin/python3
"""Integration tests of the store's capacity and safety: --map-size, a full store, --init.

    /usr/bin/python3 tests/integration/test_capacity.py --build BUILD_DIR \\
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

A patrond whose store reaches its --map-size answers RESOURCE_EXHAUSTED
naming the limit, keeps serving reads, and after a restart with a larger
--map-size takes writes again with nothing acknowledged lost. patrond and
the store commands refuse a --data directory that holds no store.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, BASE_MS, ALL_ITEMS, CATALOG_SIZE, ServerTest, rpc_error  # noqa: E402

MIB = 1 << 20
BATCH = 500


def fill_events(batch_no):
    """A batch of views by new customers (the shop's own are left alone)."""
    E, T = h.pb.common.Event, h.pb.common
    return [E(event_id="fill-%04d-%03d-%s" % (batch_no, i, "x" * 40),
              customer_id="fill-cust-%05d" % (batch_no * 7 + i % 7),
              item_id=ALL_ITEMS[(batch_no + i) % CATALOG_SIZE], type=T.EVENT_TYPE_VIEW,
              time_unix_ms=BASE_MS + 10**9 + batch_no * BATCH + i)
            for i in range(BATCH)]


class FullStoreTest(ServerTest):
    trained = True

    def server_options(self):
        # The trained shop plus about 2 MiB of room, in whole MiB.
        size = os.path.getsize(os.path.join(h.trained_data_dir(), "data.mdb"))
        self.limit = (size // MIB + 3) * MIB
        return {"extra_args": ["--map-size", "%dM" % (self.limit // MIB)]}

    def stats(self):
        return self.srv.call("/patron.v1.Admin/GetServerStats",
                             h.pb.admin.GetServerStatsRequest(),
                             h.pb.admin.GetServerStatsResponse)

    def test_full_store_refuses_naming_the_limit_serves_reads_and_recovers(self):
        before = self.stats().store
        self.assertEqual(before.limit_bytes, self.limit)
        self.assertGreater(before.used_bytes, 0)
        self.assertLessEqual(before.used_bytes, before.file_bytes)

        acked, refused = [], None
        for b in range(200):  # about 20 fit; bounded either way
            batch = fill_events(b)
            try:
                r = self.srv.record_events(batch)
            except h.grpc.RpcError as e:
                refused = (batch, e)
                break
            self.assertEqual(r.accepted, BATCH)
            acked.extend(batch)
        self.assertIsNotNone(refused, "the store never filled")
        batch, e = refused
        self.assertStatus(e, SC.RESOURCE_EXHAUSTED, "store full: ",
                          " of %d.0 MiB map; raise --map-size" % (self.limit // MIB))
        sys.stderr.write("\nfull after %d acknowledged events: %s\n"
                         % (len(acked), e.details()))
        full = self.stats().store
        self.assertEqual(full.limit_bytes, self.limit)
        self.assertGreater(full.used_bytes, before.used_bytes + MIB)

        # Reads go on: a profile, recommendations, the model.
        cust = sorted(h.SHOP.taste)[0]
        p = self.srv.call("/patron.v1.Profiles/GetProfile",
                          h.pb.profiles.GetProfileRequest(customer_id=cust),
                          h.pb.profiles.GetProfileResponse).profile
        self.assertGreater(p.purchases, 0)
        self.assertEqual(len(self.srv.recommend(cust, 5).items), 5)
        self.assertEqual(self.srv.model_info().version, 1)
        # Still full: the same write is refused again, not half-stored.
        e = rpc_error(self.srv.record_events, batch)
        self.assertStatus(e, SC.RESOURCE_EXHAUSTED, "store full: ")

        # A larger limit: the refused batch is taken whole (nothing of it had
        # been stored) and every acknowledged event is still there.
        self.srv.kill()
        self.srv.extra_args[self.srv.extra_args.index("--map-size") + 1] = \
            "%dM" % (4 * self.limit // MIB)
        self.srv.start()
        r = self.srv.record_events(batch)
        self.assertEqual((r.accepted, r.duplicates), (BATCH, 0))
        dup = 0
        for i in range(0, len(acked), BATCH):
            r = self.srv.record_events(acked[i:i + BATCH])
            self.assertEqual(r.accepted, 0)
            dup += r.duplicates
        self.assertEqual(dup, len(acked))
        self.assertEqual(self.stats().store.limit_bytes, 4 * self.limit)


class NoStoreTest(ServerTest):
    """A mistyped --data must not start an empty store."""

    def test_patrond_refuses_a_dir_without_a_store_until_init(self):
        missing = os.path.join(self.dir, "typo")
        p = subprocess.run([h.PATROND, "--data", missing, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("no Patron store in %s; create one with `patron init --data %s` "
                      "or pass --init" % (missing, missing), p.stderr)
        self.assertFalse(os.path.exists(missing))
        # The other store commands refuse it too (import creates, by design).
        p = subprocess.run([h.PATRON, "train", "--data", missing], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no Patron store in %s" % missing, p.stderr)
        self.assertFalse(os.path.exists(missing))

        out = h.run_patron("init", "--data", missing).stdout
        self.assertIn("created an empty Patron store in " + missing, out)
        srv = h.Server(missing, self.dir, init=False)
        try:
            srv.start()
            r = srv.upsert_items(h.Shop.catalog())
            self.assertEqual(r.inserted, CATALOG_SIZE)
        finally:
            srv.kill()
        out = h.run_patron("init", "--data", missing).stdout
        self.assertIn("already holds a Patron store", out)
        self.assertEqual(os.stat(missing).st_mode & 0o777, 0o700)

    def test_bad_map_size_is_refused_naming_the_flag(self):
        p = subprocess.run([h.PATROND, "--data", self.data, "--listen", "127.0.0.1:0",
                            "--map-size", "12Q"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--map-size", p.stderr)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], 'capacity integration suite')
