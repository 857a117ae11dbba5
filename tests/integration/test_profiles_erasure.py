#!/usr/bin/python3
"""Integration tests of patron.v1.Profiles: profiles, audiences, attributes,
points, ExportCustomer and DeleteCustomer (erasure leaves no trace).

    /usr/bin/python3 tests/integration/test_profiles_erasure.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, BASE_MS, REFUNDER, ALL_ITEMS, CATALOG_SIZE, ServerTest,
                            rpc_error)  # noqa: E402


class ProfilesTests(ServerTest):
    trained = True

    def prof(self, method, req, resp_cls, **kw):
        return self.srv.call("/patron.v1.Profiles/" + method, req, resp_cls, **kw)

    def get_profile(self, cust):
        P = h.pb.profiles
        return self.prof("GetProfile", P.GetProfileRequest(customer_id=cust),
                         P.GetProfileResponse).profile

    def set_attributes(self, **fields):
        P = h.pb.profiles
        return self.prof("SetCustomerAttributes", P.SetCustomerAttributesRequest(
            attributes=P.CustomerAttributes(**fields)), P.SetCustomerAttributesResponse)

    def audience(self, expression, limit=0):
        P = h.pb.profiles
        fn = self.srv.channel.unary_stream(
            "/patron.v1.Profiles/SelectAudience",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=P.SelectAudienceResponse.FromString)
        return list(fn(P.SelectAudienceRequest(expression=expression, limit=limit),
                       timeout=30))

    def test_points_saturate_not_overflow(self):
        # Issue 20, item 9: 10,000 maximum-value purchases overflowed the
        # int64 points sum (the sanitizer build aborted in GetProfile, the
        # release build answered points_earned 0). Now the sum saturates.
        E, T = h.pb.common.Event, h.pb.common
        now = int(time.time() * 1000)
        batch = [E(event_id="whale-%05d" % i, customer_id="whale", item_id=ALL_ITEMS[0],
                   type=T.EVENT_TYPE_PURCHASE, time_unix_ms=now - 1000, quantity=1000000,
                   unit_price=1e9) for i in range(10000)]
        r = self.srv.record_events(batch, timeout=60)
        self.assertEqual((r.accepted, r.rejected), (10000, 0), list(r.errors)[:3])
        p = self.get_profile("whale")
        self.assertEqual(p.points_earned, 2 ** 53)
        self.assertEqual(p.points, 2 ** 53)
        self.assertAlmostEqual(p.monetary, 1e19, delta=1e13)
        self.assertEqual(self.srv.health().status, h.pb.health.HealthCheckResponse.SERVING)

    def test_get_profile(self):
        P = h.pb.profiles
        cust = REFUNDER
        p = self.get_profile(cust)
        bought = [e for e in h.SHOP.events if e.customer_id == cust
                  and e.type == h.pb.common.EVENT_TYPE_PURCHASE]
        self.assertEqual(p.customer_id, cust)
        self.assertEqual(p.purchases, len(bought))
        # 4 purchases at 12.5, one refunded: 37.5 net.
        self.assertAlmostEqual(p.monetary, 12.5 * (len(bought) - 1))
        self.assertEqual(p.favourite_categories[0], h.SHOP.taste[cust])
        self.assertEqual(p.points_earned, int(12.5) * len(bought) - 12)
        self.assertEqual(p.points, p.points_earned)
        self.assertIn(p.stage, (P.LIFECYCLE_STAGE_NEW, P.LIFECYCLE_STAGE_ACTIVE,
                                P.LIFECYCLE_STAGE_AT_RISK, P.LIFECYCLE_STAGE_LAPSED,
                                P.LIFECYCLE_STAGE_WON_BACK))
        self.assertTrue(p.tier)
        self.assertGreater(p.as_of_unix_ms, BASE_MS)
        self.assertStatus(rpc_error(self.get_profile, "never-seen"), SC.NOT_FOUND)
        # A customer with views only is a prospect, by name: never the
        # UNSPECIFIED that proto3 JSON would leave out.
        T = h.pb.common
        self.srv.record_events([T.Event(event_id="pv-1", customer_id="window-shopper",
                                        item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW,
                                        time_unix_ms=int(time.time() * 1000) - 1000)])
        self.assertEqual(self.get_profile("window-shopper").stage, P.LIFECYCLE_STAGE_PROSPECT)
        self.assertStatus(rpc_error(self.get_profile, ""), SC.INVALID_ARGUMENT, "customer_id")

    def test_select_audience_matches_brute_force(self):
        members = self.audience('category = "garden"')
        self.assertEqual(members[0].total, len(members))
        want = sorted(c for c, cat in h.SHOP.taste.items() if cat == "garden")
        self.assertEqual(sorted(m.customer_id for m in members), want)
        self.assertTrue(all(m.profile.favourite_categories[0] == "garden" for m in members))
        # limit keeps the total exact
        few = self.audience('category = "garden"', limit=3)
        self.assertEqual(len(few), 3)
        self.assertEqual(few[0].total, len(want))
        # everyone, and nobody
        self.assertEqual(self.audience("")[0].total, len(h.SHOP.taste))
        none = self.audience("orders > 1000")
        self.assertEqual((len(none), none[0].total, none[0].customer_id), (1, 0, ""))
        for bad, word in (("orders >", "col"), ("colour = red", "colour"),
                          ("tier = glod", "glod"), ("(" * 40 + "orders > 1", "")):
            e = rpc_error(self.audience, bad)
            self.assertStatus(e, SC.INVALID_ARGUMENT, "expression")
            self.assertIn(word, e.details())

    def test_attributes_and_points(self):
        P = h.pb.profiles
        cust = "cust-05"
        self.set_attributes(customer_id=cust, region="north", birth_month=2, birth_day=29)
        p = self.get_profile(cust)
        self.assertEqual((p.attributes.region, p.attributes.birth_day), ("north", 29))
        self.assertEqual([m.customer_id for m in self.audience("region = north")], [cust])
        for bad, field in ((dict(birth_month=13), "attributes.birth_month"),
                           (dict(birth_month=4, birth_day=31), "attributes.birth_day"),
                           (dict(region="x" * 65), "attributes.region")):
            e = rpc_error(self.set_attributes, customer_id=cust, **bad)
            self.assertStatus(e, SC.INVALID_ARGUMENT, field)
        e = rpc_error(self.prof, "SetCustomerAttributes", P.SetCustomerAttributesRequest(),
                      P.SetCustomerAttributesResponse)
        self.assertStatus(e, SC.INVALID_ARGUMENT, "attributes: required")
        redeem = lambda rid, pts: self.prof(
            "RedeemPoints", P.RedeemPointsRequest(customer_id=cust, redemption_id=rid,
                                                  points=pts), P.RedeemPointsResponse)
        start = p.points
        self.assertGreater(start, 10)
        r = redeem("r-1", 10)
        self.assertEqual((r.balance, r.duplicate), (start - 10, False))
        r = redeem("r-1", 10)  # a retry is not applied twice
        self.assertEqual((r.balance, r.duplicate), (start - 10, True))
        e = rpc_error(redeem, "r-2", start)
        self.assertStatus(e, SC.FAILED_PRECONDITION, "points")
        self.assertStatus(rpc_error(redeem, "r-3", 0), SC.INVALID_ARGUMENT, "points")
        self.assertStatus(rpc_error(redeem, "r-4", -5), SC.INVALID_ARGUMENT, "points")
        # Concurrent one-point redemptions never overdraw.
        left = start - 10
        ok = []
        def spend(t):
            for i in range(left):
                try:
                    redeem("c-%d-%d" % (t, i), 1)
                    ok.append(1)
                except grpc.RpcError as e:
                    self.assertEqual(e.code(), SC.FAILED_PRECONDITION)
        threads = [threading.Thread(target=spend, args=(t,)) for t in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(len(ok), left)
        self.assertEqual(self.get_profile(cust).points, 0)

    def give_everything(self, cust):
        """Gives cust data in every owner: attributes, points, an experiment
        exposure and a recently-shown list (Recommend inside a running
        experiment), a coupon granted and redeemed, and a second offer.
        Returns the shown items and the coupon request ids."""
        P, C, X = h.pb.profiles, h.pb.coupons, h.pb.experiments
        self.set_attributes(customer_id=cust, region="x")
        self.prof("RedeemPoints", P.RedeemPointsRequest(customer_id=cust, redemption_id="d1",
                                                        points=1), P.RedeemPointsResponse)
        self.srv.call("/patron.v1.Experiments/CreateExperiment", X.CreateExperimentRequest(
            experiment=X.Experiment(experiment_id="erase-exp", traffic_fraction=1.0,
                                    arms=[X.Arm(arm_id="a", weight=0.5),
                                          X.Arm(arm_id="b", weight=0.5)],
                                    forced_arms=[X.ForcedArm(customer_id=cust, arm_id="b"),
                                                 X.ForcedArm(customer_id="cust-11",
                                                             arm_id="a")])),
            X.CreateExperimentResponse)
        r = self.srv.recommend(cust, 5)
        self.assertTrue(r.personalized)
        shown = [i.item_id for i in r.items]
        as_of = BASE_MS + 400 * 86_400_000
        coupon = C.Coupon(coupon_id="erase-cpn", campaign_id="erase-camp",
                          kind=C.COUPON_KIND_FIXED_AMOUNT,
                          benefits=[C.CouponBenefit(kind=C.BENEFIT_KIND_AMOUNT, amount=2.0)],
                          valid_from_unix_ms=as_of - 30 * 86_400_000,
                          valid_until_unix_ms=as_of + 86_400_000, campaign_budget=100,
                          per_customer_limit=1)
        self.srv.call("/patron.v1.Coupons/UpsertCoupon", C.UpsertCouponRequest(coupon=coupon),
                      C.UpsertCouponResponse)
        reqs = ["erase-req-%s-%d" % (cust, i) for i in range(2)]
        t = self.srv.call("/patron.v1.Coupons/TargetCoupons",
                          C.TargetCouponsRequest(customer_id=cust, request_id=reqs[0],
                                                 as_of_unix_ms=as_of, device_id="erase-dev"),
                          C.TargetCouponsResponse)
        self.assertEqual(t.decision.coupon_id, "erase-cpn", t.decision.reason)
        self.srv.call("/patron.v1.Coupons/RecordRedemption",
                      C.RecordRedemptionRequest(redemption_id="erase-red", customer_id=cust,
                                                coupon_id="erase-cpn", discount=1.5,
                                                time_unix_ms=as_of + 1000),
                      C.RecordRedemptionResponse)
        self.srv.call("/patron.v1.Coupons/TargetCoupons",
                      C.TargetCouponsRequest(customer_id=cust, request_id=reqs[1],
                                             as_of_unix_ms=as_of + 2000),
                      C.TargetCouponsResponse)
        return shown, reqs

    def erase_exp_pins(self):
        X = h.pb.experiments
        r = self.srv.call("/patron.v1.Experiments/ListExperiments",
                          X.ListExperimentsRequest(), X.ListExperimentsResponse)
        return [f for e in r.experiments if e.experiment_id == "erase-exp"
                for f in e.forced_arms]

    def export(self, cust):
        P = h.pb.profiles
        return self.prof("ExportCustomer", P.ExportCustomerRequest(customer_id=cust),
                         P.ExportCustomerResponse)

    def test_export_customer_errors(self):
        self.assertStatus(rpc_error(self.export, "never-seen"), SC.NOT_FOUND,
                          "customer_id", "never-seen")
        self.assertStatus(rpc_error(self.export, ""), SC.INVALID_ARGUMENT, "customer_id")
        self.assertStatus(rpc_error(self.export, "x" * 257), SC.INVALID_ARGUMENT,
                          "customer_id")
        cli = subprocess.run([h.PATRON, "export-customer", "--addr",
                              "127.0.0.1:%d" % self.srv.port, "--user", "never-seen"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(cli.returncode, 1)
        self.assertIn("NOT_FOUND", cli.stderr)

    def test_delete_customer_leaves_nothing(self):
        from google.protobuf import json_format
        P = h.pb.profiles
        cust = "cust-12"
        shown, reqs = self.give_everything(cust)
        n_events = sum(e.customer_id == cust for e in h.SHOP.events)
        # Export: every kind of row, JSON through the proto3 mapping.
        x = self.export(cust)
        self.assertEqual(x.customer_id, cust)
        self.assertEqual(len(x.events), n_events)
        self.assertEqual(sorted(e.event_id for e in x.events),
                         sorted(e.event_id for e in h.SHOP.events if e.customer_id == cust))
        self.assertTrue(all(e.item_id in ALL_ITEMS and e.customer_id == cust for e in x.events))
        self.assertEqual(x.attributes.region, "x")
        self.assertEqual([(p.redemption_id, p.points) for p in x.points_redemptions],
                         [("d1", 1)])
        self.assertEqual([g.coupon_id for g in x.coupon_history.grants], ["erase-cpn"])
        self.assertEqual(sorted(o.request_id for o in x.coupon_offers), reqs)
        # Offers carry the API's CouponOutcome (the log keeps its own numbers).
        self.assertNotIn(h.pb.common.COUPON_OUTCOME_UNSPECIFIED,
                         [o.outcome for o in x.coupon_offers])
        self.assertIn(h.pb.common.COUPON_OUTCOME_GRANT, [o.outcome for o in x.coupon_offers])
        self.assertEqual([(r.redemption_id, r.discount) for r in x.coupon_redemptions],
                         [("erase-red", 1.5)])
        self.assertEqual([e.experiment_id for e in x.exposures], ["erase-exp"])
        self.assertEqual([(p.experiment_id, p.arm_id) for p in x.experiment_pins],
                         [("erase-exp", "b")])
        self.assertTrue(set(shown) <= set(x.exposures[0].shown_item_ids))
        self.assertIn(cust, json_format.MessageToJson(x))
        # `patron export-customer` prints the same response as proto3 JSON.
        cli = h.run_patron("export-customer", "--addr", "127.0.0.1:%d" % self.srv.port,
                           "--user", cust)
        self.assertEqual(json_format.Parse(cli.stdout, P.ExportCustomerResponse()), x)
        # The recently-shown list is there: excluded on request.
        again = self.srv.call("/patron.v1.Recommender/Recommend",
                              h.pb.rec.RecommendRequest(customer_id=cust, k=5,
                                                        exclude_shown_minutes=60),
                              h.pb.rec.RecommendResponse)
        self.assertFalse(set(shown) & {i.item_id for i in again.items})
        # Stop the experiment: calls for the erased id below must not log
        # new exposures (they would be new data about a new customer).
        X = h.pb.experiments
        self.srv.call("/patron.v1.Experiments/UpdateExperiment", X.UpdateExperimentRequest(
            experiment=X.Experiment(experiment_id="erase-exp", traffic_fraction=1.0,
                                    stop_unix_ms=int(time.time() * 1000),
                                    arms=[X.Arm(arm_id="a", weight=0.5),
                                          X.Arm(arm_id="b", weight=0.5)],
                                    forced_arms=list(self.erase_exp_pins()))),
            X.UpdateExperimentResponse)
        n_events = sum(e.customer_id == cust for e in h.SHOP.events)
        r = self.prof("DeleteCustomer", P.DeleteCustomerRequest(customer_id=cust),
                      P.DeleteCustomerResponse)
        self.assertEqual(r.events_deleted, n_events)
        # The in-memory recently-shown list went too: the erased customer now
        # gets exactly what a new visitor gets, nothing excluded.
        def unseen(c):
            rr = self.srv.call("/patron.v1.Recommender/Recommend",
                              h.pb.rec.RecommendRequest(customer_id=c, k=CATALOG_SIZE,
                                                        exclude_shown_minutes=60),
                              h.pb.rec.RecommendResponse)
            return [i.item_id for i in rr.items]
        self.assertEqual(unseen(cust), unseen("fresh-visitor"))
        self.assertStatus(rpc_error(self.get_profile, cust), SC.NOT_FOUND)
        self.assertFalse(self.srv.recommend(cust, 5).personalized)
        self.assertNotIn(cust, [m.customer_id for m in self.audience("")])
        e = rpc_error(self.prof, "DeleteCustomer", P.DeleteCustomerRequest(customer_id=cust),
                      P.DeleteCustomerResponse)
        self.assertStatus(e, SC.NOT_FOUND)
        self.assertStatus(rpc_error(self.export, cust), SC.NOT_FOUND, "customer_id")
        # The experiment no longer pins the erased customer, in memory too.
        self.assertEqual([(f.customer_id, f.arm_id) for f in self.erase_exp_pins()],
                         [("cust-11", "a")])
        # Nothing of the customer is left in any database of the store, after
        # a restart too (the erasure was durable when acknowledged): not the
        # id, nor the offer log keys of its coupon requests.
        self.srv.kill()
        dump = subprocess.run(["mdb_dump", "-a", "-p", os.path.dirname(self.data + "/")],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        self.assertNotIn(cust, dump.stdout)
        for req in reqs:
            self.assertNotIn(req, dump.stdout)
        self.assertIn("erase-exp", dump.stdout)  # the experiment itself stays
        self.assertIn("cust-11", dump.stdout)  # the dump does show other customers
        # LMDB keeps freed pages' old bytes; `patron vacuum` (offline) rewrites
        # the file without them, and refuses while patrond has the store open.
        self.srv.start()
        vac = subprocess.run([h.PATRON, "vacuum", "--data", self.data],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(vac.returncode, 1)
        self.assertIn("open in another process", vac.stderr)
        self.assertStatus(rpc_error(self.get_profile, cust), SC.NOT_FOUND)
        self.srv.kill()
        vac = subprocess.run([h.PATRON, "vacuum", "--data", self.data],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(vac.returncode, 0, vac.stderr)
        with open(os.path.join(self.data, "data.mdb"), "rb") as f:
            raw = f.read()
        self.assertNotIn(cust.encode(), raw)
        self.assertIn(b"cust-11", raw)
        self.srv.start()
        self.assertStatus(rpc_error(self.get_profile, cust), SC.NOT_FOUND)
        self.assertTrue(self.srv.recommend("cust-11", 5).personalized)


    def test_delete_customer_patches_the_served_model_without_reloading(self):
        """Regression (issue 12, bug 2): one DeleteCustomer used to force a
        full model reload (int8 index, IVF k-means on large catalogs) for one
        user row. Now the served snapshot marks the row erased: the customer
        gets the anonymous answer at once and no model is loaded."""
        P = h.pb.profiles
        cust = "cust-14"

        def loads():
            with open(self.srv.log_path, errors="replace") as f:
                return sum("model version" in line and "loaded:" in line for line in f)

        self.assertTrue(self.srv.recommend(cust, 5).personalized)
        before, info = loads(), self.srv.model_info()
        self.assertEqual(before, 1)  # the load at start
        self.prof("DeleteCustomer", P.DeleteCustomerRequest(customer_id=cust),
                  P.DeleteCustomerResponse)
        r = self.srv.recommend(cust, 10)
        self.assertFalse(r.personalized)
        self.assertEqual([i.item_id for i in r.items],
                         [i.item_id for i in self.srv.recommend("stranger", 10).items])
        self.assertEqual(loads(), before)
        self.assertEqual(self.srv.model_info().version, info.version)
        self.assertTrue(self.srv.recommend("cust-11", 5).personalized)


def main():
    h.run_suite(__doc__.splitlines()[0], 'profiles integration suite')


if __name__ == "__main__":
    main()
