#!/usr/bin/python3
"""Integration tests of `patron report loyalty` (issue 16, item 7) on a small
hand-made store whose figures are known exactly:

    /usr/bin/python3 tests/integration/test_loyalty.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

Six customers are imported from CSV; a running patrond then records one
signup (SetCustomerAttributes) and one points redemption (RedeemPoints), as
a shop would; the report, run offline as of 2024-06-30, must give the
repeat-purchase rate, members against non-members, tiers, points and
liability, both funnels and the cohort table exactly. Bad flags exit 2
naming the flag.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402

# (customer, item, type, day "MM-DD", price): the unit test's six customers
EVENTS = [
    ("A", "i01", "view", "01-05", 0), ("A", "i01", "cart", "01-06", 0),
    ("A", "i01", "purchase", "01-10", 100), ("A", "i11", "purchase", "02-15", 50),
    ("A", "i12", "purchase", "04-01", 30),
    ("B", "i02", "purchase", "01-20", 300), ("B", "i03", "purchase", "01-25", 100),
    ("C", "i04", "view", "02-01", 0), ("C", "i04", "purchase", "02-03", 40),
    ("D", "i05", "view", "03-01", 0), ("D", "i05", "cart", "03-02", 0),
    ("E", "i06", "purchase", "03-10", 60), ("E", "i06", "refund", "03-12", 20),
    ("E", "i07", "purchase", "05-05", 10),
    ("F", "i08", "view", "06-01", 0), ("F", "i08", "purchase", "07-05", 99),
]
AS_OF = "2024-06-30T00:00:00Z"
TMP = None
STORE = None


def build_store():
    global TMP, STORE
    if STORE:
        return STORE
    TMP = tempfile.mkdtemp(prefix="patron-it-loyalty-")
    items, events = os.path.join(TMP, "items.csv"), os.path.join(TMP, "events.csv")
    with open(items, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "title", "category", "price", "unit_cost", "in_stock"])
        for it in sorted({e[1] for e in EVENTS}):
            w.writerow([it, "Item " + it, "things", "10.00", "5.00", 1])
    with open(events, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "customer_id", "item_id", "type", "timestamp", "quantity",
                    "unit_price"])
        for n, (cust, item, etype, day, price) in enumerate(EVENTS):
            w.writerow(["e%03d" % n, cust, item, etype, "2024-%sT12:00:00Z" % day, 1,
                        "%.2f" % price])
    data = os.path.join(TMP, "db")
    h.run_patron("import", "--data", data, "--items", items, "--events", events)
    srv = h.Server(data, TMP)
    try:
        srv.start()
        P = h.pb.profiles
        srv.call("/patron.v1.Profiles/SetCustomerAttributes", P.SetCustomerAttributesRequest(
            attributes=P.CustomerAttributes(customer_id="C", signup_unix_ms=1706000000000)),
            P.SetCustomerAttributesResponse)
        r = srv.call("/patron.v1.Profiles/RedeemPoints", P.RedeemPointsRequest(
            customer_id="A", redemption_id="r1", points=20), P.RedeemPointsResponse)
        assert r.balance > 0, r
        srv.stop()
    finally:
        srv.kill()
    STORE = data
    return data


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


class ReportLoyaltyTests(unittest.TestCase):
    def report(self, *args):
        p = h.run_patron("report", "loyalty", "--data", build_store(), "--as-of", AS_OF,
                         "--json", *args)
        return json.loads(p.stdout), p.stderr

    def test_figures_exact(self):
        r, text = self.report()
        self.assertEqual(r["as_of"], AS_OF)
        self.assertEqual(r["repeat_purchase_rate"], 0.75)
        a, m, n = r["all"], r["members"], r["non_members"]
        self.assertEqual((a["customers"], a["buyers"], a["repeat_buyers"]), (6, 4, 3))
        # members: A (redeemed), B (silver), C (signed up)
        self.assertEqual((m["customers"], m["buyers"], m["orders"]), (3, 3, 6))
        self.assertAlmostEqual(m["spend"], 620)
        self.assertAlmostEqual(m["repeat_rate"], 2 / 3)
        self.assertAlmostEqual(m["order_value"], 620 / 6)
        self.assertEqual((n["customers"], n["buyers"], n["orders"]), (3, 1, 2))
        self.assertAlmostEqual(n["spend"], 50)
        tiers = {t["tier"]: t for t in r["tiers"]}
        self.assertEqual(tiers["bronze"]["customers"], 5)
        self.assertEqual(tiers["silver"]["customers"], 1)
        self.assertAlmostEqual(tiers["silver"]["spend"], 400)
        # The ledger's figures (points.h): a point a unit spent; E's refund
        # returns the one unit E bought, so all of its 60 points go back
        # (refunds take back their share of the purchase's quantity). A's
        # redemption was made now, in the test's run, after --as-of: the
        # ledger as of then has not seen it, but A is a member all the same.
        pts = r["points"]
        self.assertEqual((pts["issued"], pts["pending"], pts["redeemed"], pts["expired"],
                          pts["outstanding"]), (630, 0, 0, 0, 630))
        self.assertAlmostEqual(pts["liability"], 6.3)
        f = r["funnel"]
        self.assertEqual((f["viewers"], f["carters"], f["buyers"]), (4, 2, 4))
        self.assertEqual((f["viewed_pairs"], f["carted_after_view"], f["bought_after_cart"]),
                         (4, 2, 1))
        cohorts = {c["cohort"]: (c["customers"], c["active_by_month"]) for c in r["cohorts"]}
        # complete months only: June, the month of --as-of, is left out
        self.assertEqual(cohorts, {"2024-01": (2, [2, 1, 0, 1, 0]),
                                   "2024-02": (1, [1, 0, 0, 0]),
                                   "2024-03": (1, [1, 0, 1])})
        self.assertIn("repeat-purchase rate 75.0%", text)
        self.assertIn("liability at 0.01 per point: 6.30", text)

    def test_point_value_and_months(self):
        r, _ = self.report("--point-value", "0.05", "--months", "1")
        self.assertAlmostEqual(r["points"]["liability"], 31.5)
        self.assertEqual([len(c["active_by_month"]) for c in r["cohorts"]], [2, 2, 2])

    def test_as_of_earlier(self):
        p = h.run_patron("report", "loyalty", "--data", build_store(), "--as-of",
                         "2024-01-31T00:00:00Z", "--json")
        r = json.loads(p.stdout)
        self.assertEqual(r["all"]["customers"], 6)
        self.assertEqual(r["all"]["buyers"], 2)          # A and B by then
        self.assertEqual(r["repeat_purchase_rate"], 0.5)  # B
        self.assertEqual(r["points"]["issued"], 500)

    def test_points_follow_the_programme_rules(self):
        """Two points a unit spent, expiring three months after they vest: by
        June 30 every bucket bought before March 30 has expired (but E's,
        taken back by its refund); A's April 1 and E's May 5 points remain."""
        rules = os.path.join(TMP if TMP else tempfile.gettempdir(), "programme.conf")
        build_store()
        with open(rules, "w") as f:
            f.write("points_rule = buy purchase per_unit 2\npoints_expiry = months 3\n")
        r, text = self.report("--profiles", rules)
        pts = r["points"]
        self.assertEqual((pts["issued"], pts["pending"], pts["redeemed"], pts["expired"],
                          pts["outstanding"]), (1260, 0, 0, 1180, 80))
        self.assertIn("issued 1260, pending 0, redeemed 0 (0.0%), expired 1180, "
                      "outstanding 80", text)

    def test_bad_flags_exit_2_naming_the_flag(self):
        data = build_store()
        cases = [
            (["loyalty", "--data", data, "--point-value", "-1"], "--point-value"),
            (["loyalty", "--data", data, "--months", "0"], "--months"),
            (["loyalty", "--data", data, "--as-of", "soon"], "--as-of"),
            (["loyalty", "--data", data, "--bogus"], "--bogus"),
            (["loyalty"], "--data"),
            (["loyal", "--data", data], "loyal"),
            ([], "loyalty"),
        ]
        for args, flag in cases:
            p = subprocess.run([h.PATRON, "report"] + args, capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(flag, p.stderr, args)


if __name__ == "__main__":
    h.run_suite("report loyalty integration tests", "integration_loyalty")
