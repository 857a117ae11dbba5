#!/usr/bin/python3
"""Integration tests of customer lifetime value (issue 16, item 6) against the
real `patron` and `patrond`:

    /usr/bin/python3 tests/integration/test_clv.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

A shop is simulated from the BG/NBD + Gamma-Gamma world itself (600
customers over two years, each a Poisson buyer who drops out after a
purchase with a customer-specific probability, order values Gamma around
a customer-specific mean), imported with `patron import` and trained with
`patron train`, which fits the CLV model. `patron eval-clv` must beat the
"last period's spend" baseline on it; GetProfile carries the predictions
and SelectAudience's `clv` and `churn_p` select exactly the customers whose
profiles say so; bad flags exit 2 naming the flag.
"""
import csv
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402

DAY_MS = 86400000
N_CUSTOMERS = 600
SPAN_DAYS = 730
R, ALPHA, A, B = 0.6, 30.0, 0.7, 3.0  # BG/NBD, days
P, Q, GAMMA = 5.0, 4.0, 18.0           # Gamma-Gamma: mean order value 30

STORE = None  # (data dir, {customer: (orders, last purchase ms)})
TMP = None


def simulate(rng, now_ms):
    """Orders per customer as (time ms, value), customers born over the span."""
    start = now_ms - SPAN_DAYS * DAY_MS
    out = {}
    for i in range(N_CUSTOMERS):
        lam = rng.gammavariate(R, 1.0) / ALPHA
        p = rng.betavariate(A, B)
        nu = rng.gammavariate(Q, 1.0) / GAMMA
        t = rng.uniform(0, SPAN_DAYS * 0.8)  # birth
        orders = []
        while t < SPAN_DAYS - 1:
            orders.append((start + int(t * DAY_MS), round(rng.gammavariate(P, 1.0) / nu, 2)))
            if len(orders) > 1 and rng.random() < p:
                break
            t += rng.expovariate(lam)
        out["c%04d" % i] = orders
    return out


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def build_store():
    global STORE, TMP
    if STORE:
        return STORE
    TMP = tempfile.mkdtemp(prefix="patron-it-clv-")
    now = int(time.time() * 1000)
    shop = simulate(random.Random(16), now)
    items, events = os.path.join(TMP, "items.csv"), os.path.join(TMP, "events.csv")
    with open(items, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "title", "category", "price", "unit_cost", "in_stock"])
        for j in range(20):
            w.writerow(["i%02d" % j, "Item %d" % j, "cat%d" % (j % 4), "10.00", "5.00", 1])
    rng = random.Random(7)
    n = 0
    with open(events, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "customer_id", "item_id", "type", "timestamp", "quantity",
                     "unit_price"])
        for cust, orders in sorted(shop.items()):
            for t, value in orders:
                n += 1
                w.writerow(["e%06d" % n, cust, "i%02d" % rng.randrange(20), "purchase", iso(t), 1,
                            "%.2f" % value])
        # a visitor who never bought: no prediction
        w.writerow(["e%06d" % (n + 1), "window-shopper", "i01", "view", iso(now - DAY_MS), 1, "0"])
    data = os.path.join(TMP, "db")
    imp = h.run_patron("import", "--data", data, "--items", items, "--events", events)
    assert "rejected 0" in imp.stdout, imp.stdout
    out = h.train(data, iterations=3, factors=8).stdout
    assert "CLV model: BG/NBD" in out, out
    summary = {c: (len(o), o[-1][0] if o else 0) for c, o in shop.items()}
    STORE = (data, summary)
    return STORE


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


class EvalClvTests(unittest.TestCase):
    def test_beats_last_period_baseline(self):
        data, _ = build_store()
        p = h.run_patron("eval-clv", "--data", data, "--holdout-days", 180, "--json")
        r = json.loads(p.stdout)
        self.assertGreater(r["customers"], 300)
        self.assertEqual(r["holdout_days"], 180)
        m, b = r["model"]["spend"], r["baseline"]["spend"]
        sys.stderr.write("eval-clv on the simulated shop: spend MAE %.2f vs baseline %.2f, "
                         "RMSE %.2f vs %.2f\n" % (m["mae"], b["mae"], m["rmse"], b["rmse"]))
        self.assertLess(m["mae"], b["mae"])
        self.assertLess(m["rmse"], b["rmse"])
        self.assertTrue(r["beats_baseline"])
        self.assertLess(r["model"]["orders"]["mae"], r["baseline"]["orders"]["mae"])
        # the model's total is close to what happened (same process)
        self.assertLess(abs(m["total_predicted"] / m["total_actual"] - 1), 0.25)
        # calibration: deciles partition the customers, the top buys most
        self.assertEqual(sum(d["customers"] for d in r["deciles"]), r["customers"])
        self.assertGreater(r["deciles"][9]["actual_spend"], r["deciles"][0]["actual_spend"])
        # the text report goes to stderr with --json, stdout without
        self.assertIn("calibration by decile", p.stderr)
        t = h.run_patron("eval-clv", "--data", data, "--holdout-days", 180).stdout
        self.assertIn("last period", t)

    def test_bad_flags_exit_2_naming_the_flag(self):
        data, _ = build_store()
        cases = [
            (["--data", data, "--holdout-days", "0"], "--holdout-days"),
            (["--data", data, "--holdout-days", "x"], "--holdout-days"),
            (["--data", data, "--split", "yesterday"], "--split"),
            (["--data", data, "--split", "1990-01-01"], "--split"),
            (["--data", data, "--bogus"], "--bogus"),
            ([], "--data"),
        ]
        for args, flag in cases:
            p = subprocess.run([h.PATRON, "eval-clv"] + args, capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(flag, p.stderr, args)


class ClvServingTests(unittest.TestCase):
    def setUp(self):
        data, self.summary = build_store()
        self.dir = tempfile.mkdtemp(prefix="serve-", dir=TMP)
        copy = os.path.join(self.dir, "db")
        os.mkdir(copy)
        shutil.copy(os.path.join(data, "data.mdb"), copy)
        self.srv = h.Server(copy, self.dir)
        self.addCleanup(self.srv.kill)
        self.srv.start()

    def profile(self, cust):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/GetProfile",
                             P.GetProfileRequest(customer_id=cust), P.GetProfileResponse).profile

    def audience(self, expression):
        P = h.pb.profiles
        fn = self.srv.channel.unary_stream(
            "/patron.v1.Profiles/SelectAudience",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=P.SelectAudienceResponse.FromString)
        return {r.customer_id: r.profile
                for r in fn(P.SelectAudienceRequest(expression=expression), timeout=30)}

    def test_profile_carries_predictions(self):
        everyone = self.audience("")
        buyers = {c: p for c, p in everyone.items() if p.orders > 0}
        self.assertEqual(len(buyers), N_CUSTOMERS)
        for c, p in buyers.items():
            lv = p.lifetime_value
            self.assertTrue(p.HasField("lifetime_value"), c)
            self.assertTrue(0 <= lv.churn_probability <= 1, c)
            self.assertTrue(math.isfinite(lv.predicted_value_12m) and lv.predicted_value_12m >= 0)
            self.assertAlmostEqual(lv.predicted_value_12m,
                                   lv.expected_purchases_12m * lv.expected_order_value,
                                   delta=1e-6 * (1 + lv.predicted_value_12m))
            if p.orders == 1:  # BG/NBD: no repeat purchase, no dropout yet
                self.assertEqual(lv.churn_probability, 0.0, c)
        self.assertFalse(self.profile("window-shopper").HasField("lifetime_value"))
        # the same numbers one customer at a time
        c = sorted(buyers)[0]
        self.assertAlmostEqual(self.profile(c).lifetime_value.churn_probability,
                               buyers[c].lifetime_value.churn_probability, places=6)
        # a repeat buyer who just bought is more alive than one long silent
        now = int(time.time() * 1000)
        repeat = [c for c, (n, last) in self.summary.items() if n >= 4]
        fresh = min(repeat, key=lambda c: now - self.summary[c][1])
        stale = max(repeat, key=lambda c: now - self.summary[c][1])
        self.assertLess(buyers[fresh].lifetime_value.churn_probability,
                        buyers[stale].lifetime_value.churn_probability)
        self.assertGreater(buyers[stale].lifetime_value.churn_probability, 0.6)

    def test_audience_fields_select_the_right_customers(self):
        everyone = self.audience("")
        lv = {c: p.lifetime_value for c, p in everyone.items() if p.HasField("lifetime_value")}
        values = sorted(v.predicted_value_12m for v in lv.values())
        cut = round(values[len(values) * 3 // 4], 2)
        cases = {
            "churn_p > 0.6": lambda v: v.churn_probability > 0.6,
            "clv >= %g" % cut: lambda v: v.predicted_value_12m >= cut,
            "clv < %g AND churn_p <= 0.2" % cut:
                lambda v: v.predicted_value_12m < cut and v.churn_probability <= 0.2,
        }
        for expr, want in cases.items():
            got = set(self.audience(expr))
            expect = {c for c, v in lv.items() if want(v)}
            self.assertTrue(expect, expr)
            self.assertEqual(got, expect, expr)
        # customers without a prediction never match, whatever the operator
        self.assertNotIn("window-shopper", self.audience("clv >= 0 OR churn_p >= 0"))
        self.assertIn("window-shopper", self.audience("NOT clv >= 0"))


if __name__ == "__main__":
    h.run_suite("CLV integration tests", "integration_clv")
