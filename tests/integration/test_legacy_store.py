#!/usr/bin/env python3
"""A store written by the previous release (record format 1) is served by this build with all its data.

The store in data/format1/store.dump was made by that release's own binaries
(format1_fixture.py says how), and data/format1/expected.json holds what
that release answered about it. This test loads the dump with mdb_load,
starts this build's patrond on it (which converts the records at
store_open), asks the same questions and expects the same answers; then
writes to the converted store and restarts: no second conversion.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import legacy_store_calls as calls  # noqa: E402
import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402

# The previous release's CouponOutcome numbers, which expected.json holds:
# its API had no UNSPECIFIED, so a grant was 0. The offer log stores its own
# numbers (patron.store.v1), so the same stored decision must come back
# under the same name.
FORMAT1_OUTCOMES = ["COUPON_OUTCOME_GRANT", "COUPON_OUTCOME_GRANT_EXPLORE",
                    "COUPON_OUTCOME_NONE_NOT_WORTH", "COUPON_OUTCOME_NONE_EXPLORE",
                    "COUPON_OUTCOME_NONE_INELIGIBLE", "COUPON_OUTCOME_NONE_HOLDOUT",
                    "COUPON_OUTCOME_NONE_VELOCITY", "COUPON_OUTCOME_NONE_FREQUENCY"]

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "format1")
CONVERTED = "converted from record format 1 to 2"


class LegacyStoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="patron-it-format1-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.data = os.path.join(self.dir, "db")
        os.mkdir(self.data)
        with open(os.path.join(FIXTURE, "store.dump")) as f:
            r = subprocess.run(["mdb_load", "-f", "/dev/stdin", self.data], stdin=f,
                               capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "mdb_load (lmdb-utils): " + r.stderr)
        with open(os.path.join(FIXTURE, "expected.json")) as f:
            self.fix = json.load(f)
        self.srv = h.Server(self.data, self.dir)
        self.addCleanup(self.srv.kill)

    def log(self):
        with open(self.srv.log_path, errors="replace") as f:
            return f.read()

    def test_previous_release_store_is_served_with_all_its_data(self):
        self.srv.start()
        self.assertIn(CONVERTED, self.log())
        got = calls.answers(h, self.srv, self.fix)
        want = self.fix["answers"]
        for d in want["decisions"]:
            if isinstance(d[1], int):
                d[1] = FORMAT1_OUTCOMES[d[1]]
        for key in sorted(want):
            # results were read first, before answers' own Recommend calls
            self.assertEqual(json.loads(json.dumps(got[key])), want[key], key)
        self.assertTrue(self.fix["granted"])
        self.assertEqual(got["redemption"][0], True)  # the logged redemption, replayed

        # The converted store takes writes, and the next start converts nothing.
        c = h.pb.coupons
        r = self.srv.call("/patron.v1.Coupons/TargetCoupons",
                          c.TargetCouponsRequest(customer_id=self.fix["customers"][3],
                                                 request_id="after-1",
                                                 as_of_unix_ms=self.fix["as_of"]),
                          c.TargetCouponsResponse)
        self.assertTrue(r.decision.reason)
        self.srv.stop()
        self.srv.start()
        self.assertNotIn(CONVERTED, self.log())
        again = self.srv.call("/patron.v1.Coupons/TargetCoupons",
                              c.TargetCouponsRequest(customer_id=self.fix["customers"][3],
                                                     request_id="after-1",
                                                     as_of_unix_ms=self.fix["as_of"]),
                              c.TargetCouponsResponse)
        self.assertEqual(again.decision, r.decision)

    def test_unreadable_record_is_internal_naming_table_and_key(self):
        self.srv.start()
        self.srv.stop()
        # Damage the campaign's budget record behind the server's back.
        dump = ("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n ffff\nDATA=END\n"
                % b"cbudget\0spring".hex())
        r = subprocess.run(["mdb_load", "-s", "tables", "-f", "/dev/stdin", self.data],
                           input=dump, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.srv.start()
        c = h.pb.coupons
        err = h.rpc_error(self.srv.call, "/patron.v1.Coupons/TargetCoupons",
                          c.TargetCouponsRequest(customer_id=self.fix["customers"][3],
                                                 request_id="after-bad",
                                                 as_of_unix_ms=self.fix["as_of"]),
                          c.TargetCouponsResponse)
        self.assertEqual(err.code(), grpc.StatusCode.INTERNAL, err.details())
        self.assertIn('table cbudget, key "spring"', err.details())
        self.assertNotIn("Input/output error", err.details())
        self.assertIn('table cbudget, key "spring"', self.log())


def main():
    h.run_suite(__doc__.splitlines()[0], "previous-release store suite")


if __name__ == "__main__":
    main()
