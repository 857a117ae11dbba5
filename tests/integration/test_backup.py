#!/usr/bin/python3
"""Integration tests of online backup and restore: `patron backup` while patrond ingests.

    /usr/bin/python3 tests/integration/test_backup.py --build BUILD_DIR \\
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

A backup taken during a StreamEvents burst, restored into a fresh directory
and served by a new patrond, holds every event acknowledged before the
backup began and serves the same recommendations; a damaged backup is
refused, and so is a restore over a live store.
"""
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import BASE_MS, ALL_ITEMS, CATALOG_SIZE, ServerTest  # noqa: E402

BATCH = 200


def views(prefix, batch_no):
    """A batch of views by the burst's own customers (the shop's customers,
    whose recommendations are compared, get none)."""
    E, T = h.pb.common.Event, h.pb.common
    return [E(event_id="%s-%05d-%03d" % (prefix, batch_no, i),
              customer_id="%s-cust-%03d" % (prefix, (batch_no + i) % 50),
              item_id=ALL_ITEMS[(batch_no + i) % CATALOG_SIZE], type=T.EVENT_TYPE_VIEW,
              time_unix_ms=BASE_MS + 10**9 + batch_no * BATCH + i)
            for i in range(BATCH)]


def patron(*args):
    return subprocess.run([h.PATRON] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=60)


def manifest(path):
    with open(os.path.join(path, "MANIFEST")) as f:
        return dict(line.split(" ", 1) for line in f.read().splitlines())


class BackupTest(ServerTest):
    trained = True

    def stream(self, messages, timeout=60):
        fn = self.srv.channel.stream_unary(
            "/patron.v1.Events/StreamEvents",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.events.RecordEventsResponse.FromString)
        return fn(messages, timeout=timeout)

    def test_backup_during_a_stream_restores_every_acknowledged_event(self):
        Req = h.pb.events.RecordEventsRequest
        # Acknowledged before the backup: unary batches and one whole stream.
        acked = []
        for b in range(10):
            batch = views("unary", b)
            self.assertEqual(self.srv.record_events(batch).accepted, BATCH)
            acked.extend(batch)
        streamed = [views("stream", b) for b in range(10)]
        r = self.stream(iter(Req(events=m) for m in streamed))
        self.assertEqual(r.accepted, 10 * BATCH)
        acked.extend(e for m in streamed for e in m)

        # The burst: a stream that keeps sending while the backup runs.
        started, stop, burst = threading.Event(), threading.Event(), {}

        def burst_messages():
            b = 0
            while not stop.is_set() and b < 2000:
                yield Req(events=views("burst", b))
                b += 1
                if b == 5:
                    started.set()
            burst["sent"] = b * BATCH

        def run_burst():
            try:
                burst["resp"] = self.stream(burst_messages(), timeout=120)
            except Exception as e:  # reported below
                burst["error"] = e
                started.set()

        t = threading.Thread(target=run_burst)
        t.start()
        try:
            self.assertTrue(started.wait(30))
            self.assertNotIn("error", burst)
            out = os.path.join(self.dir, "backup")
            p = patron("backup", "--data", self.data, "--out", out)
        finally:
            stop.set()
            t.join(120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("error", burst)
        self.assertEqual(burst["resp"].accepted, burst["sent"])
        m = manifest(out)
        self.assertEqual(m["patron-backup"], "1")
        self.assertEqual(int(m["data_bytes"]), os.path.getsize(os.path.join(out, "data.mdb")))
        self.assertFalse(os.path.exists(out + ".tmp"))
        shop = len(h.SHOP.events)
        copied = int(m["events"])
        self.assertGreaterEqual(copied, shop + len(acked))
        self.assertLessEqual(copied, shop + len(acked) + burst["sent"])

        # Restore into a fresh directory and serve it.
        fresh = os.path.join(self.dir, "new", "restored")  # parents created
        p = patron("restore", "--from", out, "--data", fresh)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("restored %s: %d events" % (fresh, copied), p.stdout)
        restored = h.Server(fresh, self.dir, init=False).start()
        try:
            custs = sorted(h.SHOP.taste)[::4]
            for c in custs:
                self.assertEqual([i.item_id for i in restored.recommend(c, 10).items],
                                 [i.item_id for i in self.srv.recommend(c, 10).items], c)
            # Every event acknowledged before the backup began is there: sent
            # again, each is a duplicate; none is taken as new.
            dup = 0
            for i in range(0, len(acked), 500):
                r = restored.record_events(acked[i:i + 500])
                self.assertEqual(r.accepted, 0)
                dup += r.duplicates
            self.assertEqual(dup, len(acked))
            # The burst's events: the ones in the copy are duplicates too.
            in_copy = copied - shop - len(acked)
            burst_events = [e for b in range(burst["sent"] // BATCH)
                            for e in views("burst", b)]
            dup_burst = 0
            for i in range(0, len(burst_events), 500):
                dup_burst += restored.record_events(burst_events[i:i + 500]).duplicates
            self.assertEqual(dup_burst, in_copy)
            sys.stderr.write(
                "\nbackup during a StreamEvents burst: %d events in the copy = %d of the "
                "shop + %d acknowledged before the backup began (all %d present after "
                "restore) + %d of %d streamed during it; recommendations equal for %d "
                "customers\n" % (copied, shop, len(acked), dup, in_copy, burst["sent"],
                                 len(custs)))
        finally:
            restored.kill()

    def test_damaged_backup_and_live_store_are_refused(self):
        out = os.path.join(self.dir, "backup")
        p = patron("backup", "--data", self.data, "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Never over an existing backup.
        p = patron("backup", "--data", self.data, "--out", out)
        self.assertEqual(p.returncode, 1)
        self.assertIn("already exists", p.stderr)

        # One flipped byte.
        bad = os.path.join(self.dir, "damaged")
        shutil.copytree(out, bad)
        with open(os.path.join(bad, "data.mdb"), "r+b") as f:
            f.seek(os.path.getsize(os.path.join(bad, "data.mdb")) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x01]))
        target = os.path.join(self.dir, "target")
        p = patron("restore", "--from", bad, "--data", target)
        self.assertEqual(p.returncode, 1)
        self.assertIn("checksum", p.stderr)
        self.assertIn("the backup is damaged", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(target, "data.mdb")))
        # A newer format than this build reads.
        newer = os.path.join(self.dir, "newer")
        shutil.copytree(out, newer)
        path = os.path.join(newer, "MANIFEST")
        with open(path) as f:
            text = f.read().replace("store_format_version 2", "store_format_version 99")
        with open(path, "w") as f:
            f.write(text)
        p = patron("restore", "--from", newer, "--data", target)
        self.assertEqual(p.returncode, 1)
        self.assertIn("store format 99 is newer", p.stderr)

        # The live store: refused even with --force, and left alone.
        before = os.path.getsize(os.path.join(self.data, "data.mdb"))
        p = patron("restore", "--from", out, "--data", self.data, "--force")
        self.assertEqual(p.returncode, 1)
        self.assertIn("is open in another process", p.stderr)
        self.assertEqual(os.path.getsize(os.path.join(self.data, "data.mdb")), before)
        self.assertEqual(len(self.srv.recommend(sorted(h.SHOP.taste)[0], 5).items), 5)
        # A closed one: refused without --force, replaced with it.
        self.srv.kill()
        p = patron("restore", "--from", out, "--data", self.data)
        self.assertEqual(p.returncode, 1)
        self.assertIn("already holds a Patron store", p.stderr)
        p = patron("restore", "--from", out, "--data", self.data, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.srv.start()
        self.assertEqual(len(self.srv.recommend(sorted(h.SHOP.taste)[0], 5).items), 5)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], 'backup integration suite')
