#!/usr/bin/python3
"""`patron eval-uplift`'s off-policy estimates against a simulator's truth.

bench/couponsim --store writes what a shop serving its T-learner through
TargetCoupons logs (offers with their assignment probabilities, 10%
exploration and the 5% holdout; purchases; redemptions) for simulated
customers whose true response to the coupon is known, and each customer's
true expected incremental profit. eval-uplift estimates each policy's
incremental profit on its test split by IPS and DR with a 95% CI and, with
--ope-rows, says which offers each policy targets; the truth of a policy is
the sum of its targeted customers' true values. Most intervals must hold the
truth, and "coupon to everyone" (which loses money) must be told apart from
"no coupon".

    /usr/bin/python3 tests/integration/test_uplift_ope.py --build BUILD_DIR \
        --proto proto [unittest args]
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402

CUSTOMERS = 30000


def run(*args, timeout=300):
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(map(str, args)),
                                                    out.returncode, out.stdout, out.stderr))
    return out


class OffPolicyAgainstTruth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="patron-it-ope-")
        data, truth_csv = os.path.join(cls.dir, "data"), os.path.join(cls.dir, "truth.csv")
        sim = run(os.path.join(h.BUILD_DIR, "bench", "couponsim"), "--train", 20000,
                  "--customers", CUSTOMERS, "--store", data, "--truth", truth_csv)
        as_of = sim.stdout.strip().rsplit(" ", 1)[-1]
        cls.data, cls.as_of = data, as_of
        cls.rows_csv = os.path.join(cls.dir, "rows.csv")
        out = run(h.PATRON, "eval-uplift", "--data", data, "--as-of", as_of,
                  "--test-share", "0.5", "--json", "--ope-rows", cls.rows_csv)
        sys.stderr.write(out.stderr)
        cls.report = json.loads(out.stdout)
        with open(truth_csv) as f:
            cls.truth = {r["customer_id"]: float(r["true_incr_profit"])
                         for r in csv.DictReader(f)}
        with open(cls.rows_csv) as f:
            cls.rows = list(csv.DictReader(f))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, True)

    def test_train_uplift_keeps_the_learner_that_wins(self):
        """train-uplift compares both learners on held-out customers and
        stores the boosted one only when it earns more there; a forced choice
        is stored as asked."""
        out = run(h.PATRON, "train-uplift", "--data", self.data, "--as-of", self.as_of).stdout
        m = re.search(r"fitted on (\d+) offers \((\d+) treated, (\d+) control\), valued on "
                      r"the (\d+) offers", out)
        self.assertIsNotNone(m, out)
        n_fit, n_t, n_c, n_val = map(int, m.groups())
        self.assertEqual(n_fit + n_val, CUSTOMERS)  # one offer per customer
        self.assertEqual(n_t + n_c, n_fit)
        self.assertTrue(0.1 * CUSTOMERS < n_val < 0.3 * CUSTOMERS, out)
        values = dict((k, float(v)) for k, v in
                      re.findall(r"^  (logistic|boosted) T-learner +(-?[\d.]+)$", out, re.M))
        self.assertEqual(set(values), {"logistic", "boosted"}, out)
        best = max(values, key=values.get)
        self.assertIn("learner: %s T-learner (refitted on all %d offers)" % (best, CUSTOMERS),
                      out)
        self.assertIn("coupons are decided by the %s T-learner" % best, out)
        for forced in ("boosted", "logistic"):
            out = run(h.PATRON, "train-uplift", "--data", self.data, "--as-of", self.as_of,
                      "--learner", forced).stdout
            self.assertIn("learner: %s T-learner (--learner)" % forced, out)
            self.assertIn("coupons are decided by the %s T-learner" % forced, out)
            self.assertNotIn("learner selection", out)
        bad = subprocess.run([h.PATRON, "train-uplift", "--data", self.data, "--learner",
                              "forest"], capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--learner", bad.stderr)

    def test_policies_and_rows_agree(self):
        ope = self.report["off_policy"]
        names = [p["policy"] for p in ope["policies"]]
        self.assertEqual(names, ["no coupon", "served", "coupon to everyone", "model top 5%",
                                 "model top 10%", "model top 20%", "model top 50%",
                                 "model gain > 0"])
        self.assertEqual(ope["test_offers"], len(self.rows))
        self.assertEqual(ope["test_offers"], self.report["out_of_sample"]["test_offers"])
        self.assertGreater(ope["guarded"], 0)   # the 5% holdout
        for p in ope["policies"]:
            self.assertEqual(p["targeted"], sum(r[p["policy"]] == "1" for r in self.rows))
            for est in ("ips", "dr"):
                e = p[est]
                self.assertLessEqual(e["lo"], e["value"])
                self.assertLessEqual(e["value"], e["hi"])
        none = ope["policies"][0]
        self.assertEqual((none["targeted"], none["ips"]["value"], none["dr"]["hi"]), (0, 0, 0))
        # the model's cuts are nested, the served policy gives what the log says
        tops = ope["policies"][3:7]
        self.assertEqual([p["targeted"] for p in tops],
                         sorted(p["targeted"] for p in tops))
        served = [r for r in self.rows if r["served"] == "1"]
        self.assertGreater(sum(r["treated"] == "1" for r in served), 0.8 * len(served))

    def test_truth_inside_most_intervals(self):
        covered, total, lines = 0, 0, []
        for p in self.report["off_policy"]["policies"][1:]:
            truth = sum(self.truth[r["customer_id"]] for r in self.rows if r[p["policy"]] == "1")
            line = "%-20s truth %9.1f" % (p["policy"], truth)
            for est in ("ips", "dr"):
                e = p[est]
                inside = e["lo"] <= truth <= e["hi"]
                covered += inside
                total += 1
                line += "  %s %9.1f [%9.1f, %9.1f] %s" % (est, e["value"], e["lo"], e["hi"],
                                                         "in" if inside else "OUT")
            lines.append(line)
        sys.stderr.write("\n".join(lines) + "\ntruth inside the 95%% CI: %d of %d\n"
                         % (covered, total))
        self.assertGreaterEqual(covered, total - 2, "\n".join(lines))
        # the intervals are informative: giving everyone a coupon loses money
        everyone = self.report["off_policy"]["policies"][2]
        for est in ("ips", "dr"):
            self.assertLess(everyone[est]["hi"], 0.0)


if __name__ == "__main__":
    h.run_suite(__doc__, "uplift_ope")
