#!/usr/bin/env python3
"""A storefront's first Patron integration in Python (grpcio).

Checks the server's health, asks for recommendations (a deadline on every
call, retried while the server is UNAVAILABLE), records what the customer
did, and asks whether to give them a coupon.

    clients/python/generate.sh clients/python/gen   # stubs, once (see README.md)
    PYTHONPATH=clients/python/gen PATRON_ADDR=127.0.0.1:50051 python3 clients/python/patron_example.py

PATRON_TOKEN, if set, is sent as "authorization: Bearer <token>".
"""
import os
import sys
import time

import grpc

from grpc_health.v1 import health_pb2, health_pb2_grpc
from patron.v1 import common_pb2, coupons_pb2, coupons_pb2_grpc
from patron.v1 import events_pb2, events_pb2_grpc, recommender_pb2, recommender_pb2_grpc

CALL_TIMEOUT = 2.0  # seconds: each attempt's deadline
ATTEMPTS = 8        # UNAVAILABLE: up to ~16 s of backoff in all


def with_retry(what, call, request, metadata):
    """Calls call(request) with a fresh deadline per attempt, retrying only
    UNAVAILABLE (server starting, restarting or unreachable: nothing was
    done) with exponential backoff. Other codes are answers, not outages."""
    backoff = 0.25
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call(request, timeout=CALL_TIMEOUT, metadata=metadata)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAVAILABLE or attempt == ATTEMPTS:
                raise
            print("%s: UNAVAILABLE, retrying in %.2fs (attempt %d of %d)"
                  % (what, backoff, attempt, ATTEMPTS), flush=True)
            time.sleep(backoff)
            backoff = min(backoff * 2, 2.0)


def print_items(label, r):
    items = " ".join("%s (%s %.3f)" % (i.item_id, common_pb2.Reason.Name(i.reason), i.score)
                     for i in r.items)
    print("%s (model %d, request %s): %s" % (label, r.provenance.model_version,
                                               r.provenance.request_id, items), flush=True)


def run(channel, metadata):
    health = health_pb2_grpc.HealthStub(channel)
    rec = recommender_pb2_grpc.RecommenderStub(channel)
    events = events_pb2_grpc.EventsStub(channel)
    coupons = coupons_pb2_grpc.CouponsStub(channel)
    customer = "python-example-%d" % time.time_ns()

    # 1. Health: "patron.v1.Recommender" serves once a model is loaded.
    h = with_retry("health", health.Check,
                   health_pb2.HealthCheckRequest(service="patron.v1.Recommender"), metadata)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(h.status)
    print("health: patron.v1.Recommender is %s" % status, flush=True)
    if h.status != health_pb2.HealthCheckResponse.SERVING:
        raise SystemExit("the recommender is not serving (no model loaded yet?)")

    # 2. Recommendations for a customer the shop has not seen: popular items.
    ask = recommender_pb2.RecommendRequest(customer_id=customer, k=5)
    r = with_retry("recommend", rec.Recommend, ask, metadata)
    print_items("recommendations", r)
    if not r.items:
        raise SystemExit("no items recommended")

    # 3. The customer views and buys the first item. Times are unix
    # milliseconds; event ids make a retried batch harmless.
    item = r.items[0].item_id
    now = int(time.time() * 1000)
    batch = events_pb2.RecordEventsRequest(events=[
        common_pb2.Event(event_id=customer + "-view", customer_id=customer, item_id=item,
                         type=common_pb2.EVENT_TYPE_VIEW, time_unix_ms=now - 60_000),
        common_pb2.Event(event_id=customer + "-buy", customer_id=customer, item_id=item,
                         type=common_pb2.EVENT_TYPE_PURCHASE, time_unix_ms=now,
                         quantity=1, unit_price=19.90),
    ])
    er = with_retry("record events", events.RecordEvents, batch, metadata)
    print("recorded events: %d accepted, %d duplicates, %d rejected"
          % (er.accepted, er.duplicates, er.rejected), flush=True)
    for e in er.errors:
        print("  event %d: %s" % (e.index, e.reason))

    # 4. The next list already knows the purchase (folded in at request time).
    print_items("after the purchase", with_retry("recommend", rec.Recommend, ask, metadata))

    # 5. A coupon decision. request_id is the idempotency key: a retry returns
    # the logged decision and grants nothing twice.
    t = with_retry("target coupons", coupons.TargetCoupons,
                   coupons_pb2.TargetCouponsRequest(customer_id=customer,
                                                    request_id=customer + "-checkout"),
                   metadata)
    d = t.decision
    print("coupon decision: %s coupon %s: %s"
          % (common_pb2.CouponOutcome.Name(d.outcome), d.coupon_id or "(none)", d.reason),
          flush=True)


def main():
    addr = os.environ.get("PATRON_ADDR", "127.0.0.1:50051")
    token = os.environ.get("PATRON_TOKEN")
    metadata = [("authorization", "Bearer " + token)] if token else None
    # Plaintext for a loopback demo; grpc.secure_channel(addr,
    # grpc.ssl_channel_credentials(...)) in production.
    with grpc.insecure_channel(addr) as channel:
        try:
            run(channel, metadata)
        except grpc.RpcError as e:
            sys.exit("patron_example: %s: %s" % (e.code().name, e.details()))


if __name__ == "__main__":
    main()
