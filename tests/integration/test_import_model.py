#!/usr/bin/python3
"""Integration tests of `patron import-model`: factors trained outside Patron
(here by a small implicit ALS written in numpy) written as Spark's
df.write.json output and as the implicit library's .npy files, imported into
a store a running patrond serves, picked up by ReloadModel / SIGHUP, and
served: Recommend and SimilarItems must give the top-k numpy computes from
the same factors (scores within float tolerance), a customer without
imported factors is folded in with the recorded settings, and bad files are
refused naming the file and line.

    /usr/bin/python3 tests/integration/test_import_model.py --build BUILD_DIR \
        --proto proto [unittest args]

Needs Debian's python3-numpy (scripts/install-deps.sh).
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest, BASE_MS, wait_until  # noqa: E402

N_USERS, N_ITEMS, F = 30, 24, 8
REG, ALPHA = 0.1, 2.0
W_PURCHASE = 4.0          # train_config_default: a purchase's strength
BLEND_EVENTS = 1.0        # REC_BLEND_EVENTS
HELD_OUT = "cust-29"      # has events but no imported factors: folded in
UNLISTED = "sku-new"      # in the catalog, no factors


def user_id(u):
    return "cust-%02d" % u


def item_id(i):
    return "sku-%02d" % i


def dataset(seed=5):
    """A binary purchase matrix with two tastes (low and high item ids)."""
    rng = np.random.default_rng(seed)
    P = np.zeros((N_USERS, N_ITEMS))
    for u in range(N_USERS):
        lo = u % 2 == 0
        for i in range(N_ITEMS):
            p = 0.45 if (i < N_ITEMS // 2) == lo else 0.08
            P[u, i] = rng.random() < p
        P[u, rng.integers(N_ITEMS)] = 1
    return P


def als(P, seed, iterations=12):
    """Hu-Koren-Volinsky implicit ALS: c = 1 + alpha r (r = the purchase
    strength Patron gives), unobserved weight 1, lambda unscaled."""
    rng = np.random.default_rng(seed)
    C = 1.0 + ALPHA * W_PURCHASE * P
    X = rng.normal(0, 0.1, (N_USERS, F))
    Y = rng.normal(0, 0.1, (N_ITEMS, F))

    def solve(Other, Cm, Pm):
        G = Other.T @ Other
        out = np.empty((Cm.shape[0], F))
        for r in range(Cm.shape[0]):
            A = G + (Other.T * (Cm[r] - 1.0)) @ Other + REG * np.eye(F)
            out[r] = np.linalg.solve(A, (Other.T * Cm[r]) @ Pm[r])
        return out

    for _ in range(iterations):
        X = solve(Y, C, P)
        Y = solve(X, C.T, P.T)
    return X.astype(np.float32), Y.astype(np.float32)


def fold_in(P_row, Y):
    """What serving computes for a customer from their events (foldin.h)
    with --reg REG --alpha ALPHA --alpha0 1 --nu 0."""
    Y = Y.astype(np.float64)
    c = 1.0 + ALPHA * W_PURCHASE * P_row
    A = Y.T @ Y + (Y.T * (c - 1.0)) @ Y + REG * np.eye(F)
    return np.linalg.solve(A, (Y.T * c) @ P_row)


def expected_recommend(P, x, Y, u, k):
    """Recommend's blended score w x.y + (1 - w) pop/max(pop), w = n/(n+1),
    purchased items excluded; the unlisted catalog item has no factors and
    no popularity: score 0."""
    pop = P.sum(axis=0)
    n = P[u].sum()
    w = n / (n + BLEND_EVENTS)
    s = w * (Y.astype(np.float64) @ x) + (1 - w) * pop / pop.max()
    cand = [(s[i], item_id(i)) for i in range(N_ITEMS) if not P[u, i]]
    cand.append((0.0, UNLISTED))
    cand.sort(key=lambda t: -t[0])
    return cand[:k]


def expected_similar(Y, i, k):
    Yd = Y.astype(np.float64)
    U = Yd / np.linalg.norm(Yd, axis=1, keepdims=True)
    s = U @ U[i]
    cand = [(s[j], item_id(j)) for j in range(N_ITEMS) if j != i]
    cand.append((0.0, UNLISTED))
    cand.sort(key=lambda t: -t[0])
    return cand[:k]


def write_spark(d, X, Y, users, rng):
    """Spark ALS ids are integers: a shuffled index per id, the maps as
    df.write.csv(header=True) leaves them, factors as df.write.json."""
    uidx = rng.permutation(len(users)) + 100
    iidx = rng.permutation(N_ITEMS) + 7

    def parts(sub, lines, n_parts):
        os.makedirs(os.path.join(d, sub))
        for p in range(n_parts):
            with open(os.path.join(d, sub, "part-%05d-x.json" % p), "w") as f:
                f.write("".join(lines[p::n_parts]))
        open(os.path.join(d, sub, "_SUCCESS"), "w").close()

    parts("userFactors", [json.dumps({"id": int(uidx[j]), "features": [float(v) for v in X[u]]})
                          + "\n" for j, u in enumerate(users)], 3)
    parts("itemFactors", [json.dumps({"id": int(iidx[i]), "features": [float(v) for v in Y[i]]})
                          + "\n" for i in range(N_ITEMS)], 2)
    parts("user_map", ["index,customer_id\n" + "".join(
        "%d,%s\n" % (uidx[j], user_id(u)) for j, u in enumerate(users))], 1)
    parts("item_map", ["%d,%s\n" % (iidx[i], item_id(i)) for i in range(N_ITEMS)], 2)


def write_implicit(d, X, Y, users):
    os.makedirs(d)
    np.save(os.path.join(d, "item_factors.npy"), Y.astype(np.float64))
    with open(os.path.join(d, "user_ids.txt"), "w") as f:
        f.write("".join(user_id(u) + "\n" for u in users) + "ghost\n")
    with open(os.path.join(d, "item_ids.txt"), "w") as f:
        f.write("".join(item_id(i) + "\n" for i in range(N_ITEMS)))
    # a row for "ghost", a customer the store has no events of: skipped
    np.save(os.path.join(d, "user_factors.npy"),
            np.vstack([X[users], np.ones((1, F))]).astype(np.float32))


class ImportModelTests(ServerTest):

    def setUp(self):
        super().setUp()
        self.P = dataset()
        items = [h.pb.common.Item(item_id=item_id(i), title="t", category="c",
                                  price=5.0, unit_cost=1.0, in_stock=True)
                 for i in range(N_ITEMS)]
        items.append(h.pb.common.Item(item_id=UNLISTED, title="t", category="c", price=5.0,
                                      unit_cost=1.0, in_stock=True))
        self.assertEqual(self.srv.upsert_items(items).inserted, N_ITEMS + 1)
        events = []
        for u in range(N_USERS):
            for i in np.flatnonzero(self.P[u]):
                events.append(h.pb.common.Event(
                    event_id="e%d-%d" % (u, i), customer_id=user_id(u), item_id=item_id(i),
                    type=h.pb.common.EVENT_TYPE_PURCHASE,
                    time_unix_ms=BASE_MS + 60_000 * len(events), quantity=1, unit_price=5.0))
        for j in range(0, len(events), 100):
            r = self.srv.record_events(events[j:j + 100])
            self.assertEqual(r.rejected, 0, list(r.errors))
        self.users = [u for u in range(N_USERS) if user_id(u) != HELD_OUT]

    def import_model(self, *args):
        return h.run_patron("import-model", "--data", self.data, "--reg", REG,
                            "--alpha", ALPHA, "--alpha0", 1, "--nu", 0,
                            "--half-life-days", 0, *args)

    def refused(self, *args):
        """Runs import-model expecting exit 1; returns its stderr."""
        p = subprocess.run([h.PATRON, "import-model", "--data", self.data] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "")
        return p.stderr

    def assertTopK(self, got, want, what):
        """Same ids in the same order (where numpy's scores are not tied)
        and scores within float32 tolerance."""
        self.assertEqual(len(got.items), len(want), what)
        for r, (it, (score, wid)) in enumerate(zip(got.items, want)):
            self.assertAlmostEqual(it.score, score, delta=2e-4 * max(1.0, abs(score)),
                                   msg="%s rank %d" % (what, r))
            tied = any(abs(score - s) < 1e-5 for s, i in want if i != wid)
            if not tied:
                self.assertEqual(it.item_id, wid, "%s rank %d: got %s" % (
                    what, r, [i.item_id for i in got.items]))

    def check_serving(self, X, Y, version, k=6):
        for u in (0, 1, 2, 7, 13):
            got = self.srv.recommend(user_id(u), k)
            self.assertTrue(got.personalized)
            self.assertEqual(got.provenance.model_version, version)
            self.assertEqual({i.reason for i in got.items}, {h.pb.common.REASON_PERSONALIZED})
            self.assertTopK(got, expected_recommend(self.P, X[u].astype(np.float64), Y, u, k),
                            "Recommend %s" % user_id(u))
        for i in (0, 5, 17):
            got = self.srv.call("/patron.v1.Recommender/SimilarItems",
                                h.pb.rec.SimilarItemsRequest(item_id=item_id(i), k=k),
                                h.pb.rec.SimilarItemsResponse)
            self.assertTopK(got, expected_similar(Y, i, k), "SimilarItems %s" % item_id(i))
        # The customer the import has no factors for: folded in from events.
        u = int(HELD_OUT[-2:])
        got = self.srv.recommend(HELD_OUT, k)
        self.assertEqual({i.reason for i in got.items}, {h.pb.common.REASON_FOLD_IN})
        self.assertTopK(got, expected_recommend(self.P, fold_in(self.P[u], Y), Y, u, k),
                        "Recommend %s (fold-in)" % HELD_OUT)

    def test_spark_then_implicit(self):
        X, Y = als(self.P, seed=1)
        rng = np.random.default_rng(3)
        spark = os.path.join(self.dir, "spark")
        write_spark(spark, X, Y, self.users, rng)
        out = self.import_model("--spark", spark,
                                "--user-map", os.path.join(spark, "user_map"),
                                "--item-map", os.path.join(spark, "item_map"))
        self.assertIn("published model version 1 from spark:%s" % os.path.realpath(spark),
                      out.stdout)
        self.assertIn("(29 customer and 24 item rows imported)", out.stdout)
        self.assertIn("1 catalog items have no imported factors", out.stderr)
        info = self.srv.reload_model()
        self.assertEqual((info.version, info.factors, info.customers, info.items),
                         (1, F, N_USERS, N_ITEMS + 1))
        self.assertEqual(info.source, "spark:" + os.path.realpath(spark))
        self.check_serving(X, Y, 1)

        # Another model from implicit's files; SIGHUP loads it like a trained one.
        X2, Y2 = als(self.P, seed=2)
        imp = os.path.join(self.dir, "implicit")
        write_implicit(imp, X2, Y2, self.users)
        out = self.import_model("--implicit", imp)
        self.assertIn("published model version 2", out.stdout)
        self.assertIn("1 customers of the import have no events", out.stderr)
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self.srv.model_info().version == 2, 10, what="version 2 loaded")
        self.assertEqual(self.srv.model_info().source, "implicit:" + os.path.realpath(imp))
        self.check_serving(X2, Y2, 2)

    def test_refused_files_name_the_place(self):
        X, Y = als(self.P, seed=1, iterations=2)
        imp = os.path.join(self.dir, "implicit")
        write_implicit(imp, X, Y, self.users)
        with open(os.path.join(imp, "item_ids.txt")) as f:
            ids = f.read().splitlines()
        ids[4] = "sku-nope"
        with open(os.path.join(imp, "item_ids.txt"), "w") as f:
            f.write("\n".join(ids) + "\n")
        err = self.refused("--implicit", imp)
        self.assertIn("item factors: %s: row 4: item \"sku-nope\" is not in the catalog"
                      % os.path.join(imp, "item_factors.npy"), err)

        spark = os.path.join(self.dir, "spark")
        write_spark(spark, X, Y, self.users, np.random.default_rng(3))
        part = os.path.join(spark, "itemFactors", "part-00001-x.json")
        with open(part) as f:
            lines = f.read().splitlines()
        row = json.loads(lines[2])
        row["features"] = row["features"][:-1]
        lines[2] = json.dumps(row)
        with open(part, "w") as f:
            f.write("\n".join(lines) + "\n")
        err = self.refused("--spark", spark, "--item-map", os.path.join(spark, "item_map"))
        self.assertIn("%s: line 3: 7 features, expected 8" % part, err)
        # nothing was published: the server still has no model to serve
        self.assertServing("", False)


if __name__ == "__main__":
    h.run_suite(__doc__, "import-model")
