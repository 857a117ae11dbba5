#!/usr/bin/python3
"""Integration tests of write faults: a real patrond whose store hits a full disk.

    /usr/bin/python3 tests/integration/test_faults.py --build BUILD_DIR \\
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

patrond runs with BUILD/tests/libpatron_faultshim.so preloaded: while the
trigger file exists every write to data.mdb fails with ENOSPC (no root, no
tmpfs needed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, BASE_MS, ALL_ITEMS, ServerTest, rpc_error  # noqa: E402


class DiskFullTest(ServerTest):
    """Issue 20 item 6: a full file system during DeleteCustomer answered
    INTERNAL 'Input/output error'."""

    trained = True

    def setUp(self):
        shim = os.path.join(h.BUILD_DIR, "tests", "libpatron_faultshim.so")
        self.assertTrue(os.path.exists(shim), shim + " not built")
        self.trigger = os.path.join(h.TMP_ROOT, "disk-full-%d" % id(self))
        saved = dict(os.environ)
        os.environ["LD_PRELOAD"] = shim
        os.environ["PATRON_FAULT_TRIGGER"] = self.trigger
        # A sanitizer build wants its runtime first; the shim only forwards.
        os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                      ":verify_asan_link_order=0").lstrip(":")
        try:
            super().setUp()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.addCleanup(self.space_back)

    def disk_full(self):
        open(self.trigger, "w").close()

    def space_back(self):
        if os.path.exists(self.trigger):
            os.unlink(self.trigger)

    def events(self, tag, customer, n=5):
        return [h.pb.common.Event(event_id="%s-%d" % (tag, i), customer_id=customer,
                                  item_id=ALL_ITEMS[i], type=h.pb.common.EVENT_TYPE_PURCHASE,
                                  time_unix_ms=BASE_MS + i, quantity=1, unit_price=3.0)
                for i in range(n)]

    def delete(self, customer):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/DeleteCustomer",
                             P.DeleteCustomerRequest(customer_id=customer),
                             P.DeleteCustomerResponse)

    def test_full_disk_refuses_clearly_keeps_data_and_recovers(self):
        r = self.srv.record_events(self.events("ok", "fault-a"))
        self.assertEqual(r.accepted, 5)  # acknowledged before the disk fills

        self.disk_full()
        e = rpc_error(self.srv.record_events, self.events("late", "fault-b"))
        self.assertStatus(e, SC.RESOURCE_EXHAUSTED, "disk full")
        e = rpc_error(self.delete, "fault-a")
        self.assertStatus(e, SC.RESOURCE_EXHAUSTED, "disk full")
        self.assertNotIn("Input/output error", e.details())
        self.assertServing("", True)  # reads still work

        # Space is back: the same process takes writes again, and nothing of
        # the refused ones had been stored.
        self.space_back()
        r = self.srv.record_events(self.events("late", "fault-b"))
        self.assertEqual((r.accepted, r.duplicates), (5, 0))
        r = self.srv.record_events(self.events("ok", "fault-a"))
        self.assertEqual(r.duplicates, 5)  # the acknowledged ones are intact
        self.assertEqual(self.delete("fault-a").events_deleted, 5)

        # After a restart everything acknowledged is there.
        self.srv.kill()
        self.srv.start()
        r = self.srv.record_events(self.events("late", "fault-b"))
        self.assertEqual(r.duplicates, 5)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], 'faults integration suite')
