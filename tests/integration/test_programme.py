#!/usr/bin/python3
"""Integration tests of the loyalty programme edited over RPC (Admin's
GetProgramme, SetProgramme, ListProgrammeVersions, RollbackProgramme)
against the real patrond:

    /usr/bin/python3 tests/integration/test_programme.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args]

patrond starts with a settings file (--profiles) of three tiers and a
points rate, and an admin token. A customer's purchases put them in
silver. A new version raising silver's threshold or the points rate shows
in the very next GetProfile; a stale expected_version and a text the
settings parser refuses (named by line) change nothing; versions are listed
newest first in pages; a rollback serves an older text as a new version;
the stored version outlives a restart and wins over the file; a storefront
token may not edit; GetProfile calls racing edits never fail and always see
one whole version.
"""
import os
import re
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, rpc_error, wait_until  # noqa: E402

DAY = 86400_000
T0 = 1767225600000  # 2026-01-01T00:00:00Z
ADMIN = "admin-0c6d1b5e9a7f44"
STOREFRONT = "shop-front-7f3a9c2e"
FILE_TEXT = """\
# the shop's programme as first deployed
tier_window_days = 30
tier = basic 0 0 0
tier = silver 100 2 0
tier = gold 300 3 5
points_per_unit = 1
"""
# silver needs 200: ann (110 spent) drops to basic; points twice as fast
RAISED = FILE_TEXT.replace("silver 100", "silver 200").replace("points_per_unit = 1",
                                                               "points_per_unit = 2")


class ProgrammeTest(ServerTest):
    def server_options(self):
        tokens = os.path.join(self.dir, "tokens")
        with open(tokens, "w") as f:
            f.write("storefront %s patron.v1.Profiles/GetProfile\nadmin %s *\n"
                    % (STOREFRONT, ADMIN))
        os.chmod(tokens, 0o600)
        self.file = os.path.join(self.dir, "programme.conf")
        with open(self.file, "w") as f:
            f.write(FILE_TEXT)
        self.admin_port_file = os.path.join(self.dir, "admin-port")
        return {"token": ADMIN,
                "extra_args": ["--profiles", self.file, "--auth-file", tokens,
                               "--admin-listen", "127.0.0.1:0",
                               "--admin-port-file", self.admin_port_file]}

    def setUp(self):
        super().setUp()
        self.srv.upsert_items(h.Shop.catalog())
        E = h.pb.common
        events = [E.Event(event_id="t%d" % i, customer_id="ann", item_id=h.item_id("garden", i),
                          type=E.EVENT_TYPE_PURCHASE, time_unix_ms=T0 + d * DAY, quantity=1,
                          unit_price=p)
                  for i, (d, p) in enumerate([(0, 60.0), (5, 50.0)])]
        r = self.srv.record_events(events)
        self.assertEqual(r.accepted, 2, list(r.errors))

    # -- calls

    def admin(self, method, req, resp, **kw):
        return self.srv.call("/patron.v1.Admin/" + method, req, resp, **kw)

    def get(self, version=0):
        A = h.pb.admin
        return self.admin("GetProgramme", A.GetProgrammeRequest(version=version),
                          A.GetProgrammeResponse).programme

    def set(self, text, expected, **kw):
        A = h.pb.admin
        return self.admin("SetProgramme",
                          A.SetProgrammeRequest(text=text, expected_version=expected),
                          A.SetProgrammeResponse, **kw).programme

    def rollback(self, to, expected):
        A = h.pb.admin
        return self.admin("RollbackProgramme",
                          A.RollbackProgrammeRequest(to_version=to, expected_version=expected),
                          A.RollbackProgrammeResponse).programme

    def list(self, page_size=0, page_token=""):
        A = h.pb.admin
        return self.admin("ListProgrammeVersions",
                          A.ListProgrammeVersionsRequest(page_size=page_size,
                                                         page_token=page_token),
                          A.ListProgrammeVersionsResponse)

    def profile(self, token=None):
        P = h.pb.profiles
        return self.srv.call("/patron.v1.Profiles/GetProfile",
                             P.GetProfileRequest(customer_id="ann",
                                                 as_of_unix_ms=T0 + 6 * DAY),
                             P.GetProfileResponse, token=token).profile

    def metric(self, name):
        def port():
            with open(self.admin_port_file) as f:
                return f.read().strip() or None
        port = wait_until(port, 10, what="the admin port file")
        body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port,
                                      timeout=5).read().decode()
        m = re.search(r"^%s (\S+)$" % name, body, re.M)
        self.assertIsNotNone(m, body)
        return float(m.group(1))


class ProgrammeEditTests(ProgrammeTest):
    def test_the_file_is_version_0_and_an_edit_takes_effect_at_once(self):
        p = self.get()
        self.assertEqual((p.version, p.text, p.text_bytes), (0, FILE_TEXT, len(FILE_TEXT)))
        self.assertTrue(p.in_force)
        self.assertEqual((p.set_unix_ms, p.set_by), (0, ""))
        self.assertIn("settings from %s in force (version 0" % self.file, self.srv.log_tail())
        before = self.profile()
        self.assertEqual(before.tier, "silver")
        self.assertEqual(before.points, 110)
        self.assertEqual(self.metric("patron_programme_version"), 0)

        p = self.set(RAISED, 0)
        self.assertEqual((p.version, p.text, p.set_by, p.rollback_of), (1, RAISED, "admin", 0))
        self.assertTrue(p.in_force and p.set_unix_ms > 0)
        after = self.profile()  # the very next call: no restart, no reload
        self.assertEqual(after.tier, "basic")
        self.assertEqual(after.points, 220)
        self.assertEqual(self.get().version, 1)
        self.assertEqual(self.metric("patron_programme_version"), 1)
        self.assertIn("audit: /patron.v1.Admin/SetProgramme by 'admin': OK", self.srv.log_tail())

    def test_stale_version_and_bad_text_change_nothing(self):
        self.set(RAISED, 0)
        e = rpc_error(self.set, FILE_TEXT, 0)
        self.assertStatus(e, SC.FAILED_PRECONDITION,
                          "expected_version: 0 is not the current version 1")
        e = rpc_error(self.set, "tier = basic 0 0 0\n\ntier = gold lots\n", 1)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "text: programme:3: tier:",
                          "expected NAME MIN_SPEND",
                          "nothing was changed")
        e = rpc_error(self.set, "coupon_holdout_rate = 2\n", 1)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "programme:1: coupon_holdout_rate")
        e = rpc_error(self.set, "no equals sign\n", 1)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "programme:1: expected name = value")
        p = self.get()
        self.assertEqual((p.version, p.text), (1, RAISED))
        self.assertEqual([v.version for v in self.list().versions], [1])
        self.assertEqual(self.profile().tier, "basic")

    def test_versions_listed_in_pages_and_a_rollback(self):
        texts = [RAISED, FILE_TEXT.replace("gold 300", "gold 250"), FILE_TEXT + "\n"]
        for i, t in enumerate(texts):
            self.assertEqual(self.set(t, i).version, i + 1)
        page = self.list(page_size=2)
        self.assertEqual([v.version for v in page.versions], [3, 2])
        self.assertEqual([v.in_force for v in page.versions], [True, False])
        self.assertEqual([v.text for v in page.versions], ["", ""])  # no texts listed
        self.assertEqual(page.versions[1].text_bytes, len(texts[1]))
        self.assertEqual(page.versions[0].set_by, "admin")
        page = self.list(page_size=2, page_token=page.next_page_token)
        self.assertEqual([v.version for v in page.versions], [1])
        self.assertEqual(page.next_page_token, "")
        self.assertStatus(rpc_error(self.list, page_token="x"), SC.INVALID_ARGUMENT,
                          "page_token")
        self.assertStatus(rpc_error(self.list, page_size=101), SC.INVALID_ARGUMENT,
                          "page_size")
        old = self.get(version=1)
        self.assertEqual((old.version, old.text, old.in_force), (1, RAISED, False))
        self.assertStatus(rpc_error(self.get, version=9), SC.NOT_FOUND, "version: 9")

        self.assertEqual(self.profile().tier, "silver")
        p = self.rollback(1, 3)
        self.assertEqual((p.version, p.rollback_of, p.text), (4, 1, RAISED))
        self.assertEqual(self.profile().tier, "basic")
        self.assertStatus(rpc_error(self.rollback, 2, 3), SC.FAILED_PRECONDITION,
                          "expected_version: 3 is not the current version 4")
        self.assertStatus(rpc_error(self.rollback, 9, 4), SC.NOT_FOUND, "to_version: 9")
        self.assertStatus(rpc_error(self.rollback, 0, 4), SC.INVALID_ARGUMENT, "to_version")
        self.assertEqual(self.list().versions[0].rollback_of, 1)

    def test_the_stored_version_survives_a_restart_and_wins_over_the_file(self):
        self.set(RAISED, 0)
        self.srv.stop()
        self.srv.start()
        p = self.get()
        self.assertEqual((p.version, p.text, p.set_by), (1, RAISED, "admin"))
        self.assertEqual(self.profile().tier, "basic")
        log = self.srv.log_tail()
        self.assertIn("programme: stored version 1 in force", log)
        self.assertIn("%s differs from stored version 1 and is not used" % self.file, log)

    def test_editing_needs_an_admin_scope(self):
        self.assertEqual(self.profile(token=STOREFRONT).tier, "silver")
        e = rpc_error(self.set, RAISED, 0, token=STOREFRONT)
        self.assertStatus(e, SC.PERMISSION_DENIED, "SetProgramme")
        self.assertEqual(self.get().version, 0)

    def test_profiles_read_during_edits_never_fail(self):
        errors, tiers = [], set()
        stop = threading.Event()

        def reader():
            try:
                while not stop.is_set():
                    p = self.profile()
                    tiers.add(p.tier)
                    # one whole version: silver goes with 1 point a unit
                    if (p.tier, p.points) not in {("silver", 110), ("basic", 220)}:
                        errors.append("mixed versions: %s %d" % (p.tier, p.points))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for v in range(30):
                self.set(RAISED if v % 2 == 0 else FILE_TEXT, v)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.get().version, 30)
        self.assertEqual(self.profile().tier, "silver")


if __name__ == "__main__":
    h.run_suite("patrond programme integration tests", "integration_programme")
