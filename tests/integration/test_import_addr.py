#!/usr/bin/python3
"""`patron import --addr`: CSV files sent to a running patrond (items through
Admin/UpsertItems, events over Events/StreamEvents) with progress and the
server's summary on stderr.

    /usr/bin/python3 tests/integration/test_import_addr.py --build BUILD_DIR \
        --proto proto [unittest args]
"""
import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import ServerTest, setUpModule, tearDownModule  # noqa: E402,F401

ITEMS = """item_id,title,category,price,unit_cost,in_stock
book-1,Dune,books,20,12,1
mug-1,Mug,kitchen,8,3,true
"""

# 5 valid events for two customers, one event the server rejects (unknown
# item, line 7) and one row the importer refuses itself (bad type, line 8).
EVENTS = """event_id,customer_id,item_id,type,timestamp,quantity,unit_price
e1,cust-a,book-1,purchase,2024-03-01T10:00:00Z,2,20
e2,cust-a,mug-1,purchase,2024-03-05T10:00:00Z,1,8
e3,cust-a,book-1,view,2024-03-06T10:00:00Z,,
e4,cust-b,mug-1,purchase,2024-03-02 09:30:00,3,8
e5,cust-b,book-1,cart,2024-03-03T09:30:00Z,1,20
e6,cust-b,ghost-9,purchase,2024-03-04T09:30:00Z,1,5
e7,cust-b,book-1,teleport,2024-03-04T09:30:00Z,1,5
"""

RETAIL = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
C536379,85123A,WHITE HANGING HEART,-1,12/1/2010 9:41,2.55,17850.0,United Kingdom
536366,71053,WHITE METAL LANTERN,2,12/1/2010 9:00,3.39,,United Kingdom
"""


def patron(*args):
    return subprocess.run([h.PATRON] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=60)


class ImportAddrTest(ServerTest):
    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def profile(self, cust):
        return self.srv.call("/patron.v1.Profiles/GetProfile",
                             h.pb.profiles.GetProfileRequest(customer_id=cust),
                             h.pb.profiles.GetProfileResponse).profile

    def test_patron_layout_then_duplicates(self):
        items = self.write("items.csv", ITEMS)
        events = self.write("events.csv", EVENTS)
        out = patron("import", "--addr", self.srv.addr, "--items", items, "--events", events)
        self.assertEqual(out.returncode, 0, out.stderr)
        err = out.stderr
        # Progress (not a tty here: plain lines) and the server's summary.
        self.assertRegex(err, r"import .*events\.csv: 7 rows, \d+ rows/s, 100% of "
                              r"0\.0 MB, ETA done\n")
        self.assertIn("import summary (from patrond): 6 events sent, accepted 5, "
                      "duplicates 0, rejected 1\n", err)
        self.assertIn("  rejected 1: item_id: unknown item", err)
        # Each refused row by its line: the server's rejection and the local one.
        self.assertRegex(err, r"events\.csv:7: item_id: unknown item")
        self.assertRegex(err, r"events\.csv:8: type: must be view, cart, purchase, refund, not_interested, signup, review, ")
        self.assertIn("items inserted 2, updated 0; events accepted 5, duplicate 0, "
                      "rejected 1; malformed rows 1", out.stdout)

        a, b = self.profile("cust-a"), self.profile("cust-b")
        self.assertEqual((a.purchases, a.orders), (2, 2))
        self.assertAlmostEqual(a.monetary, 48.0)
        self.assertEqual((b.purchases, b.orders), (1, 1))
        self.assertAlmostEqual(b.monetary, 24.0)

        # The same file again: the server reports every event as a duplicate.
        out = patron("import", "--addr", self.srv.addr, "--events", events)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("import summary (from patrond): 6 events sent, accepted 0, "
                      "duplicates 5, rejected 1\n", out.stderr)
        self.assertEqual(self.profile("cust-a").orders, 2)

    def test_online_retail_items_through_upsert(self):
        retail = self.write("retail.csv", RETAIL)
        out = patron("import", "--addr", self.srv.addr, "--events", retail,
                     "--format", "online-retail")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("items inserted 2", out.stdout)
        self.assertIn("accepted 3, duplicates 0, rejected 0", out.stderr)
        self.assertIn("retail.csv:5: CustomerID: missing", out.stderr)
        p = self.profile("17850")
        self.assertEqual(p.purchases, 2)

    def test_usage_and_failures(self):
        events = self.write("events.csv", EVENTS)
        out = patron("import", "--addr", self.srv.addr, "--data", self.dir, "--events", events)
        self.assertEqual(out.returncode, 2)
        self.assertIn("exactly one of --data DIR and --addr", out.stderr)
        out = patron("import", "--events", events)
        self.assertEqual(out.returncode, 2)
        # Nothing listens on a port just released.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        out = patron("import", "--addr", "127.0.0.1:%d" % port, "--events", events)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("cannot reach patrond at 127.0.0.1:%d: UNAVAILABLE" % port, out.stderr)
        out = patron("import", "--addr", self.srv.addr, "--events",
                     os.path.join(self.dir, "missing.csv"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("missing.csv: No such file or directory", out.stderr)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_import_addr")
