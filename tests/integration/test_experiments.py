#!/usr/bin/python3
"""Integration tests of patron.v1.Experiments: definitions, assignment,
serving per arm, exposures and results, ramps and restarts.

    /usr/bin/python3 tests/integration/test_experiments.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, CATEGORIES, ALL_ITEMS, category_of, ServerTest,
                            rpc_error)  # noqa: E402


class ExperimentsTests(ServerTest):
    trained = True

    def exp(self, method, req, resp_cls):
        return self.srv.call("/patron.v1.Experiments/" + method, req, resp_cls)

    def create(self, **fields):
        """CreateExperiment; the stored definition."""
        X = h.pb.experiments
        return self.exp("CreateExperiment",
                        X.CreateExperimentRequest(experiment=X.Experiment(**fields)),
                        X.CreateExperimentResponse).experiment

    def update(self, **fields):
        """UpdateExperiment; the stored definition."""
        X = h.pb.experiments
        return self.exp("UpdateExperiment",
                        X.UpdateExperimentRequest(experiment=X.Experiment(**fields)),
                        X.UpdateExperimentResponse).experiment

    def two_arms(self, **extra):
        X = h.pb.experiments
        base = dict(experiment_id="blend-test", traffic_fraction=1.0,
                    arms=[X.Arm(arm_id="control", weight=0.5, model_version=1),
                          X.Arm(arm_id="popular", weight=0.5, popularity_blend=1.0)])
        base.update(extra)
        return base

    def assignment(self, cust):
        X = h.pb.experiments
        r = self.exp("GetAssignment", X.GetAssignmentRequest(customer_id=cust),
                     X.GetAssignmentResponse)
        return {(a.experiment_id, a.arm_id) for a in r.assignments}

    def test_definitions_are_validated(self):
        X = h.pb.experiments
        bad = [
            (dict(arms=[X.Arm(arm_id="a", weight=0.6), X.Arm(arm_id="b", weight=0.6)]),
             SC.INVALID_ARGUMENT, "weight"),
            (dict(arms=[X.Arm(arm_id="a", weight=0.5, model_version=99),
                        X.Arm(arm_id="b", weight=0.5)]), SC.INVALID_ARGUMENT, "model_version"),
            (dict(arms=[X.Arm(arm_id="a", weight=1.0)]), SC.INVALID_ARGUMENT, "arms"),
            (dict(experiment_id="bad id!"), SC.INVALID_ARGUMENT, "id"),
            (dict(traffic_fraction=1.5), SC.INVALID_ARGUMENT, "traffic"),
        ]
        for fields, code, word in bad:
            e = rpc_error(self.create, **self.two_arms(**fields))
            self.assertStatus(e, code, word)
        self.create(**self.two_arms())
        e = rpc_error(self.create, **self.two_arms())
        self.assertStatus(e, SC.ALREADY_EXISTS, "blend-test")
        # A second experiment in the same layer cannot take more than what is left.
        e = rpc_error(self.create, **self.two_arms(experiment_id="other"))
        self.assertStatus(e, SC.INVALID_ARGUMENT, "layer")
        lst = self.exp("ListExperiments", X.ListExperimentsRequest(),
                       X.ListExperimentsResponse)
        self.assertEqual([x.experiment_id for x in lst.experiments], ["blend-test"])
        self.assertEqual(lst.experiments[0].salt, "blend-test")  # defaulted

    def test_assignment_serving_exposures_and_results(self):
        X = h.pb.experiments
        # What a stranger gets, asked before any experiment exists.
        pop_order = [i.item_id for i in self.srv.recommend("a-stranger", 60).items]
        self.create(**self.two_arms(forced_arms=[X.ForcedArm(customer_id="qa-1",
                                                             arm_id="popular")]))
        custs = sorted(h.SHOP.taste)
        arms = {c: self.assignment(c) for c in custs}
        self.assertTrue(all(len(a) == 1 for a in arms.values()))
        counts = {}
        for a in arms.values():
            arm = next(iter(a))[1]
            counts[arm] = counts.get(arm, 0) + 1
        self.assertEqual(set(counts), {"control", "popular"})  # both arms used
        self.assertEqual(self.assignment("qa-1"), {("blend-test", "popular")})
        # Every response names its experiment and arm; the popular arm
        # serves popularity-only scores.
        for c in custs:
            r = self.srv.recommend(c, 5)
            arm = next(iter(arms[c]))[1]
            self.assertEqual((r.provenance.experiment_id, r.provenance.arm_id),
                             ("blend-test", arm))
            if arm == "popular":
                order = [i for i in pop_order if i not in h.SHOP.bought[c]]
                self.assertEqual([i.item_id for i in r.items], order[:5])
        # A purchase after exposure converts; the report counts every customer
        # once, splits by arm, and sees no sample ratio mismatch.
        E, T = h.pb.common.Event, h.pb.common
        now = int(time.time() * 1000)
        buys = [E(event_id="exp-buy-%s" % c, customer_id=c, item_id=ALL_ITEMS[i],
                  type=T.EVENT_TYPE_PURCHASE, time_unix_ms=now + 1000, quantity=1,
                  unit_price=10.0)
                for i, c in enumerate(custs) if next(iter(arms[c]))[1] == "control"]
        self.assertEqual(self.srv.record_events(buys).accepted, len(buys))
        res = self.exp("GetExperimentResults",
                       X.GetExperimentResultsRequest(experiment_id="blend-test"),
                       X.GetExperimentResultsResponse)
        by_arm = {a.arm_id: a for a in res.arms}
        self.assertEqual(by_arm["control"].customers + by_arm["popular"].customers, len(custs))
        self.assertEqual(by_arm["control"].customers, counts["control"])
        self.assertAlmostEqual(by_arm["control"].conversion_rate, 1.0)
        self.assertAlmostEqual(by_arm["popular"].conversion_rate, 0.0)
        self.assertAlmostEqual(by_arm["control"].revenue_per_customer, 10.0)
        self.assertEqual(by_arm["popular"].exposures, counts["popular"])
        self.assertFalse(res.sample_ratio_mismatch)
        self.assertEqual(res.customers_in_two_arms, 0)
        conv = {m.name: m for m in by_arm["popular"].metrics}["conversion"]
        self.assertAlmostEqual(conv.vs_control.estimate, -1.0)
        self.assertLess(conv.vs_control.p_value, 0.01)
        # The forced QA customer is served but not counted.
        self.srv.recommend("qa-1", 3)
        res2 = self.exp("GetExperimentResults",
                        X.GetExperimentResultsRequest(experiment_id="blend-test"),
                        X.GetExperimentResultsResponse)
        self.assertEqual(sum(a.customers for a in res2.arms), len(custs))
        e = rpc_error(self.exp, "GetExperimentResults",
                      X.GetExperimentResultsRequest(experiment_id="nope"), X.GetExperimentResultsResponse)
        self.assertStatus(e, SC.NOT_FOUND, "experiment_id")

    def test_arms_serve_two_model_versions_at_once(self):
        X = h.pb.experiments
        h.train(self.data, seed=99)
        self.srv.reload_model()
        self.create(experiment_id="versions", traffic_fraction=1.0,
                    arms=[X.Arm(arm_id="old", weight=0.5, model_version=1),
                          X.Arm(arm_id="new", weight=0.5, model_version=2)])
        info = self.srv.model_info()
        self.assertEqual(info.version, 2)
        self.assertGreater(info.memory_bytes, 0)
        self.assertEqual([v.version for v in info.also_loaded], [1])
        self.assertGreater(info.also_loaded[0].memory_bytes, 0)
        served = set()
        for c in sorted(h.SHOP.taste):
            r = self.srv.recommend(c, 3)
            arm = r.provenance.arm_id
            self.assertEqual(r.provenance.model_version, 1 if arm == "old" else 2)
            served.add(r.provenance.model_version)
        self.assertEqual(served, {1, 2})

    def test_arm_sets_diversity_and_survives_restart(self):
        X = h.pb.experiments
        self.create(experiment_id="variety", traffic_fraction=1.0,
                    arms=[X.Arm(arm_id="plain", weight=0.5),
                          X.Arm(arm_id="varied", weight=0.5, max_per_category=1,
                                diversity=0.2)],
                    forced_arms=[X.ForcedArm(customer_id="cust-03", arm_id="varied"),
                                 X.ForcedArm(customer_id="cust-04", arm_id="plain")])
        def cats(cust, **extra):
            r = self.srv.call("/patron.v1.Recommender/Recommend",
                              h.pb.rec.RecommendRequest(customer_id=cust, k=4, **extra),
                              h.pb.rec.RecommendResponse)
            return r.provenance.arm_id, [category_of(i.item_id) for i in r.items]
        # Both are books customers: the plain arm shows mostly books, the
        # varied arm one item per category.
        arm, varied = cats("cust-03")
        self.assertEqual(arm, "varied")
        self.assertEqual(sorted(varied), sorted(c for c, _ in CATEGORIES))
        arm, plain = cats("cust-04")
        self.assertEqual(arm, "plain")
        self.assertLess(len(set(plain)), 4, plain)
        # A request's own settings win over the arm's: a cap of 4 in a list
        # of 4 binds nothing, so cust-03 gets her books again.
        own = cats("cust-03", max_per_category=4)[1]
        self.assertLess(len(set(own)), 4, own)
        # Definitions (new fields included) survive a restart; bad values
        # name the field.
        self.srv.stop()
        self.srv.start()
        got = self.exp("ListExperiments", X.ListExperimentsRequest(),
                       X.ListExperimentsResponse).experiments
        arm = [a for e in got if e.experiment_id == "variety" for a in e.arms
               if a.arm_id == "varied"][0]
        self.assertEqual(arm.max_per_category, 1)
        self.assertAlmostEqual(arm.diversity, 0.2)
        self.assertEqual(sorted(cats("cust-03")[1]), sorted(c for c, _ in CATEGORIES))
        e = rpc_error(self.create, experiment_id="bad-div", traffic_fraction=1.0,
                      arms=[X.Arm(arm_id="a", weight=0.5),
                            X.Arm(arm_id="b", weight=0.5, diversity=2)])
        self.assertStatus(e, SC.INVALID_ARGUMENT, "arms[1].diversity")

    def test_ramp_keeps_assignments_and_restart_keeps_experiments(self):
        X = h.pb.experiments
        self.create(**self.two_arms(traffic_fraction=0.3))
        custs = ["ramp-%03d" % i for i in range(300)]
        before = {c: self.assignment(c) for c in custs}
        inside = [c for c in custs if before[c]]
        self.assertTrue(40 < len(inside) < 140, len(inside))
        self.update(**self.two_arms(traffic_fraction=0.8))
        after = {c: self.assignment(c) for c in custs}
        for c in inside:
            self.assertEqual(after[c], before[c], c)  # nobody moves
        self.assertGreater(sum(bool(a) for a in after.values()), len(inside))
        # Changing the weights of a started experiment would move people.
        moved = self.two_arms(traffic_fraction=0.8)
        moved["arms"] = [X.Arm(arm_id="control", weight=0.7, model_version=1),
                         X.Arm(arm_id="popular", weight=0.3)]
        e = rpc_error(self.update, **moved)
        self.assertStatus(e, SC.INVALID_ARGUMENT)
        self.srv.kill()
        self.srv.start()
        self.assertEqual({c: self.assignment(c) for c in custs}, after)


def main():
    h.run_suite(__doc__.splitlines()[0], 'experiments integration suite')


if __name__ == "__main__":
    main()
