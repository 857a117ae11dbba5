"""What format1_fixture.py does to a store with the previous release and
what test_legacy_store.py asks this build about it: the same calls, so the
answers can be compared. Only fields both releases' protos have.

It speaks the v1 API (request and response messages of their own per
method). To regenerate the fixture with format1_fixture.py, use this file as
it was before the v1 API (the parent of the commit that added buf.yaml:
`git log --diff-filter=A --format=%h -- buf.yaml`), whose calls the
previous release's protos understand."""
import csv
import datetime
import os

DAY = 86_400_000


def _customers(sample):
    rows = list(csv.DictReader(open(os.path.join(sample, "events.csv"))))
    counts = {}
    for r in rows:
        counts[r["customer_id"]] = counts.get(r["customer_id"], 0) + 1
    last = max(r["timestamp"] for r in rows)
    t = datetime.datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    return sorted(counts, key=lambda c: (-counts[c], c))[:6], int(t.timestamp() * 1000) + DAY


def _target(h, srv, fix, i):
    c = h.pb.coupons
    return srv.call("/patron.v1.Coupons/TargetCoupons",
                    c.TargetCouponsRequest(customer_id=fix["customers"][i],
                                           request_id="req-%d" % i, device_id="dev-1",
                                           as_of_unix_ms=fix["as_of"]),
                    c.TargetCouponsResponse)


def _redeem(h, srv, fix):
    c = h.pb.coupons
    return srv.call("/patron.v1.Coupons/RecordRedemption",
                    c.RecordRedemptionRequest(redemption_id="red-1",
                                              customer_id=fix["granted"][0],
                                              coupon_id="save2", discount=1.5,
                                              time_unix_ms=fix["as_of"] + 1000),
                    c.RecordRedemptionResponse)


def populate(h, srv, sample):
    """The writes, made once with the previous release."""
    pb, c, e = h.pb, h.pb.coupons, h.pb.experiments
    custs, as_of = _customers(sample)
    fix = {"customers": custs, "as_of": as_of}
    srv.call("/patron.v1.Profiles/SetCustomerAttributes",
             pb.profiles.SetCustomerAttributesRequest(attributes=pb.profiles.CustomerAttributes(
                 customer_id=custs[0], signup_unix_ms=as_of - 400 * DAY,
                 birth_month=2, birth_day=29, region="north")),
             pb.profiles.SetCustomerAttributesResponse)
    srv.call("/patron.v1.Coupons/UpsertCoupon",
             c.UpsertCouponRequest(coupon=c.Coupon(
                 coupon_id="save2", campaign_id="spring", kind=c.COUPON_KIND_FIXED_AMOUNT,
                 benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=2.0)],
                 valid_from_unix_ms=as_of - 30 * DAY, valid_until_unix_ms=as_of + DAY,
                 campaign_budget=500, per_customer_limit=1)), c.UpsertCouponResponse)
    fix["granted"] = [custs[i] for i in range(3) if _target(h, srv, fix, i).decision.coupon_id]
    _redeem(h, srv, fix)
    srv.call("/patron.v1.Experiments/CreateExperiment",
             e.CreateExperimentRequest(experiment=e.Experiment(
                 experiment_id="legacy-exp", traffic_fraction=1.0,
                 arms=[e.Arm(arm_id="control", weight=0.5),
                       e.Arm(arm_id="blend", weight=0.5, popularity_blend=0.25,
                             diversity=0.3, max_per_category=3)],
                 forced_arms=[e.ForcedArm(customer_id=custs[5], arm_id="blend")])),
             e.CreateExperimentResponse)
    for u in custs:
        srv.recommend(u, 5)
    return fix


def results(h, srv):
    """Per arm: id, exposed customers, exposures (Recommend adds to them)."""
    res = srv.call("/patron.v1.Experiments/GetExperimentResults",
                   h.pb.experiments.GetExperimentResultsRequest(experiment_id="legacy-exp"),
                   h.pb.experiments.GetExperimentResultsResponse)
    return [[a.arm_id, a.customers, a.exposures] for a in res.arms]


def outcome_name(decision):
    """The CouponOutcome's name: numbers differ between releases (v1 made
    0 UNSPECIFIED), names do not."""
    enum = decision.DESCRIPTOR.fields_by_name["outcome"].enum_type
    return enum.values_by_number[decision.outcome].name


def answers(h, srv, fix):
    """Reads only: what the server says about the data (replays included)."""
    pb = h.pb
    out = {"results": results(h, srv)}
    info = srv.model_info()
    out["model"] = [info.version, info.customers, info.items, info.factors, info.iterations,
                    info.trained_at_unix_ms, round(info.final_loss, 3)]
    out["recommend"] = {u: [[i.item_id, round(i.score, 4)] for i in srv.recommend(u, 5).items]
                        for u in fix["customers"][:4]}
    a = srv.call("/patron.v1.Profiles/GetProfile",
                 pb.profiles.GetProfileRequest(customer_id=fix["customers"][0],
                                               as_of_unix_ms=fix["as_of"]),
                 pb.profiles.GetProfileResponse).profile.attributes
    out["attributes"] = [a.signup_unix_ms, a.birth_month, a.birth_day, a.region]
    out["experiments"] = [
        [x.experiment_id, x.salt, x.layer, x.traffic_fraction, x.start_unix_ms,
         [[r.arm_id, r.weight, r.popularity_blend, r.diversity, r.max_per_category]
          for r in x.arms],
         [[f.customer_id, f.arm_id] for f in x.forced_arms]]
        for x in srv.call("/patron.v1.Experiments/ListExperiments",
                          pb.experiments.ListExperimentsRequest(),
                          pb.experiments.ListExperimentsResponse).experiments]
    out["decisions"] = []
    for i in range(3):
        d = _target(h, srv, fix, i).decision
        out["decisions"].append([d.coupon_id, outcome_name(d), d.reason, round(d.value, 6),
                                 round(d.max_cost, 6)])
    r = _redeem(h, srv, fix)
    out["redemption"] = [r.duplicate, r.campaign_spent, r.campaign_budget]
    return out
