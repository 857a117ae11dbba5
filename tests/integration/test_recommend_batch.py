#!/usr/bin/python3
"""`patron recommend-batch` against the real patrond: an audience's
recommendations as CSV or JSONL rows, one channel, several calls in flight.

    /usr/bin/python3 tests/integration/test_recommend_batch.py --build BUILD_DIR \
        --proto proto [unittest args]

The trained shop fixture (patron_harness): every customer's rows must be the
audience size times k, and each customer's rows must equal a single
Recommend call's items in order; --users reads ids (comments and blank lines
skipped); --with-coupon grants through TargetCoupons with request ids from
the batch id, so a rerun decides the same and grants nothing twice.
"""
import csv
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest  # noqa: E402

K = 4
DAY = 86_400_000


class RecommendBatchTests(ServerTest):
    trained = True

    def batch(self, *args, ok=True):
        out = subprocess.run([h.PATRON, "recommend-batch", "--addr",
                              "127.0.0.1:%d" % self.srv.port] + [str(a) for a in args],
                             capture_output=True, text=True, timeout=120)
        if ok:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def customers(self):
        return sorted(h.SHOP.taste)

    def test_rows_are_audience_times_k_and_match_single_calls(self):
        out = self.batch("--expr", "", "-k", K, "--workers", 3)
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        custs = self.customers()
        self.assertEqual(len(rows), len(custs) * K)
        self.assertEqual(list(rows[0]), ["customer_id", "rank", "item_id", "score", "reason",
                                         "model_version", "request_id"])
        by_cust = {}
        for r in rows:
            by_cust.setdefault(r["customer_id"], []).append(r)
        self.assertEqual(sorted(by_cust), custs)
        for cust, got in by_cust.items():
            self.assertEqual([int(r["rank"]) for r in got], list(range(1, K + 1)))
            self.assertEqual(len({r["request_id"] for r in got}), 1)  # one call each
            single = self.rec(customer_id=cust, k=K)
            self.assertEqual([r["item_id"] for r in got], [i.item_id for i in single.items])
            for r, it in zip(got, single.items):
                self.assertAlmostEqual(float(r["score"]), it.score, places=4)
                self.assertEqual(int(r["model_version"]), 1)
        self.assertIn("%d of %d customers, %d rows, 0 failed" % (len(custs), len(custs),
                                                                 len(rows)), out.stderr)

    def test_users_file_and_jsonl(self):
        custs = self.customers()[:3]
        path = os.path.join(self.dir, "users.txt")
        with open(path, "w") as f:
            f.write("# campaign list\n\n%s\n  %s  \n%s\n" % tuple(custs))
        out = self.batch("--users", path, "-k", 2, "--format", "jsonl")
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual(len(rows), 6)
        self.assertEqual(sorted({r["customer_id"] for r in rows}), custs)
        for r in rows:
            self.assertEqual(set(r), {"customer_id", "rank", "item_id", "score", "reason",
                                      "model_version", "request_id"})
            self.assertEqual(r["reason"], "personalized")
        # A limit, and an expression that selects nobody.
        out = self.batch("--users", path, "--limit", 1)
        self.assertEqual(len(out.stdout.splitlines()), 1 + 10)
        out = self.batch("--expr", "orders > 1000")
        self.assertEqual(out.stdout.splitlines(), [
            "customer_id,rank,item_id,score,reason,model_version,request_id"])

    def test_with_coupon_is_idempotent_per_batch_id(self):
        now = int(time.time() * 1000)
        c = h.pb.coupons
        coupon = c.Coupon(coupon_id="batch2", campaign_id="mail",
                          kind=c.COUPON_KIND_FIXED_AMOUNT,
                          benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=2.0)],
                          valid_from_unix_ms=now - 30 * DAY, valid_until_unix_ms=now + DAY,
                          campaign_budget=1000, per_customer_limit=1)
        self.srv.call("/patron.v1.Coupons/UpsertCoupon", c.UpsertCouponRequest(coupon=coupon),
                      c.UpsertCouponResponse)

        def decisions(batch_id):
            out = self.batch("--expr", "", "-k", 1, "--with-coupon", "--batch-id", batch_id)
            rows = list(csv.DictReader(io.StringIO(out.stdout)))
            return {r["customer_id"]: (r["coupon_id"], r["coupon_outcome"]) for r in rows}

        first = decisions("may")
        self.assertEqual(sorted(first), self.customers())
        granted = [k for k, (cid, _) in first.items() if cid == "batch2"]
        self.assertGreater(len(granted), 0, first)
        self.assertEqual(decisions("may"), first)  # the same request ids: replayed
        # A new batch id asks again: the customers granted once hold the coupon
        # (per-customer limit 1), so nobody is granted it twice.
        again = decisions("june")
        for cust in granted:
            self.assertNotEqual(again[cust][0], "batch2", again[cust])

    def test_usage_and_failures(self):
        for bad in ((), ("--expr", "", "--users", "x"), ("--expr", "", "--format", "xml"),
                    ("--expr", "", "--with-coupon"), ("--expr", "", "--batch-id", "a"),
                    ("--expr", "", "--with-coupon", "--batch-id", "a:b"),
                    ("--expr", "", "--workers", 7), ("--expr", "", "-k", 0)):
            out = self.batch(*bad, ok=False)
            self.assertEqual(out.returncode, 2, (bad, out.stderr))
        out = self.batch("--expr", "no_such_field > 1", ok=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("INVALID_ARGUMENT", out.stderr)
        self.assertIn("no_such_field", out.stderr)
        out = self.batch("--users", os.path.join(self.dir, "missing.txt"), ok=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot open", out.stderr)
        # A customer id the server refuses (not UTF-8) fails that customer only.
        path = os.path.join(self.dir, "users.txt")
        with open(path, "wb") as f:
            f.write(b"%s\nbad\xff\xfeid\n" % self.customers()[0].encode())
        out = subprocess.run([h.PATRON, "recommend-batch", "--addr",
                              "127.0.0.1:%d" % self.srv.port, "--users", path, "-k", "2"],
                             capture_output=True, timeout=120)
        out.stdout, out.stderr = (out.stdout.decode("utf-8", "replace"),
                                  out.stderr.decode("utf-8", "replace"))
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertEqual(len(out.stdout.splitlines()), 1 + 2)
        self.assertIn("INVALID_ARGUMENT", out.stderr)
        self.assertIn("1 failed", out.stderr)


def main():
    h.run_suite(__doc__.splitlines()[0], 'recommend-batch integration suite')


if __name__ == "__main__":
    main()
