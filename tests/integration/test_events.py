#!/usr/bin/python3
"""Integration tests of patron.v1.Events: validation, deduplication, streams,
and durability of every acknowledged write across kill -9.

    /usr/bin/python3 tests/integration/test_events.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, BASE_MS, ALL_ITEMS, CATALOG_SIZE, Shop, ServerTest,
                            rpc_error)  # noqa: E402


class EventsWithoutModelTests(ServerTest):

    def test_record_events_without_model(self):
        self.srv.upsert_items(Shop.catalog())
        r = self.srv.record_events(h.SHOP.events[:10])
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (10, 0, 0))
        r = self.srv.record_events([])
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, 0, 0))


class EventTimeTests(ServerTest):
    """Issue 20, item 1: event times outside [2000-01-01, now + skew] are
    refused with a message naming the field; inline prices must be finite."""
    trained = True

    def rec_inline(self, events):
        return self.srv.call("/patron.v1.Recommender/Recommend",
                             h.pb.rec.RecommendRequest(customer_id="x", k=5,
                                                       inline_events=events),
                             h.pb.rec.RecommendResponse)

    def test_far_future_and_seconds_refused(self):
        E, T = h.pb.common.Event, h.pb.common
        now = int(time.time() * 1000)
        batch = [E(event_id="t-2200", customer_id="cust-01", item_id=ALL_ITEMS[0],
                   type=T.EVENT_TYPE_PURCHASE, time_unix_ms=7258118400000, quantity=1),
                 E(event_id="t-secs", customer_id="cust-01", item_id=ALL_ITEMS[0],
                   type=T.EVENT_TYPE_VIEW, time_unix_ms=now // 1000),
                 E(event_id="t-1999", customer_id="cust-01", item_id=ALL_ITEMS[0],
                   type=T.EVENT_TYPE_VIEW, time_unix_ms=915148800000),
                 E(event_id="t-soon", customer_id="cust-01", item_id=ALL_ITEMS[0],
                   type=T.EVENT_TYPE_VIEW, time_unix_ms=now + 3600 * 1000)]
        r = self.srv.record_events(batch)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (1, 0, 3), list(r.errors))
        got = {e.index: e.reason for e in r.errors}
        self.assertEqual(sorted(got), [0, 1, 2])
        self.assertTrue(got[0].startswith("time_unix_ms:") and "future" in got[0], got[0])
        self.assertIn("looks like seconds, expected unix milliseconds", got[1])
        self.assertTrue(got[2].startswith("time_unix_ms: before 2000-01-01"), got[2])
        self.assertNotIn("looks like seconds", got[2])
        # Inline events: the same window, and prices must be finite.
        bad_time = [E(item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW, time_unix_ms=7258118400000)]
        e = rpc_error(self.rec_inline, bad_time)
        self.assertEqual(e.code(), SC.INVALID_ARGUMENT)
        self.assertIn("inline_events[0].time_unix_ms", e.details())
        secs = [E(item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW, time_unix_ms=now),
                E(item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW, time_unix_ms=now // 1000)]
        e = rpc_error(self.rec_inline, secs)
        self.assertEqual(e.code(), SC.INVALID_ARGUMENT)
        self.assertIn("inline_events[1].time_unix_ms: before 2000-01-01; looks like seconds, "
                      "expected unix milliseconds", e.details())
        # StreamEvents: the same check, indexed across the stream.
        fn = self.srv.channel.stream_unary(
            "/patron.v1.Events/StreamEvents",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.events.StreamEventsResponse.FromString)
        Req = h.pb.events.StreamEventsRequest
        r = fn(iter([Req(events=[E(event_id="s-ms", customer_id="cust-01",
                                   item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW,
                                   time_unix_ms=now)]),
                     Req(events=[E(event_id="s-secs", customer_id="cust-01",
                                   item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW,
                                   time_unix_ms=now // 1000)])]), timeout=10)
        self.assertEqual((r.accepted, r.rejected), (1, 1))
        self.assertEqual(r.errors[0].index, 1)
        self.assertIn("looks like seconds, expected unix milliseconds", r.errors[0].reason)
        # An unset event type is refused too, naming the field.
        r = self.srv.record_events([E(event_id="t-untyped", customer_id="cust-01",
                                      item_id=ALL_ITEMS[0], time_unix_ms=now)])
        self.assertEqual(r.rejected, 1)
        self.assertTrue(r.errors[0].reason.startswith("type:"), r.errors[0].reason)
        for price in (float("nan"), float("inf")):
            bad_price = [E(item_id=ALL_ITEMS[0], type=T.EVENT_TYPE_VIEW, time_unix_ms=now,
                           unit_price=price)]
            e = rpc_error(self.rec_inline, bad_price)
            self.assertEqual(e.code(), SC.INVALID_ARGUMENT)
            self.assertIn("inline_events[0].unit_price", e.details())


class StringValidationTests(ServerTest):
    """Issue 20, item 7 (strings): every string field is valid UTF-8 without
    NUL bytes, checked before decoding; ids refuse control characters."""
    trained = True

    def test_invalid_utf8_title_refused_and_never_echoed(self):
        C = h.pb.common
        req = h.pb.admin.UpsertItemsRequest(
            items=[C.Item(item_id=ALL_ITEMS[0], title="QQ", category="books", price=1)])
        body = req.SerializeToString()
        self.assertEqual(body.count(b"QQ"), 1)
        e = rpc_error(self.srv.call_raw, "/patron.v1.Admin/UpsertItems",
                      body.replace(b"QQ", b"\xff\xfe"))
        self.assertEqual(e.code(), SC.INVALID_ARGUMENT, e.details())
        self.assertIn("items.title", e.details())
        # Nothing was stored: recommendations with details still decode.
        r = self.srv.recommend("cust-01", 10)
        self.assertEqual(len(r.items), 10)

    def test_nul_and_control_characters_in_ids(self):
        E, T = h.pb.common.Event, h.pb.common
        now = int(time.time() * 1000)
        ev = E(event_id="nul-1", customer_id="c000821\0evil", item_id=ALL_ITEMS[0],
               type=T.EVENT_TYPE_VIEW, time_unix_ms=now)
        e = rpc_error(self.srv.record_events, [ev])
        self.assertEqual(e.code(), SC.INVALID_ARGUMENT, e.details())
        self.assertIn("events.customer_id", e.details())
        ev = E(event_id="ctl-1", customer_id="c0008\t21", item_id=ALL_ITEMS[0],
               type=T.EVENT_TYPE_VIEW, time_unix_ms=now)
        r = self.srv.record_events([ev])
        self.assertEqual(r.rejected, 1)
        self.assertTrue(r.errors[0].reason.startswith("customer_id:"), r.errors[0].reason)
        # Nested map entries are walked too (GetProfile of a NUL id).
        e = rpc_error(self.srv.call, "/patron.v1.Profiles/GetProfile",
                      h.pb.profiles.GetProfileRequest(customer_id="cust-01\0x"),
                      h.pb.profiles.GetProfileResponse)
        self.assertEqual(e.code(), SC.INVALID_ARGUMENT, e.details())
        self.assertIn("customer_id", e.details())


class EventSkewOptionTests(ServerTest):
    def server_options(self):
        return {"extra_args": ["--max-event-skew-seconds", "0"]}

    def test_skew_option(self):
        self.srv.upsert_items(Shop.catalog())
        E, T = h.pb.common.Event, h.pb.common
        now = int(time.time() * 1000)
        r = self.srv.record_events([E(event_id="s-1", customer_id="c", item_id=ALL_ITEMS[0],
                                      type=T.EVENT_TYPE_VIEW, time_unix_ms=now + 600 * 1000)])
        self.assertEqual(r.rejected, 1, list(r.errors))
        self.assertIn("future", r.errors[0].reason)


class EventsTests(ServerTest):
    trained = True

    def test_record_events_validation_and_dedup(self):
        cust = "cust-05"
        before = [i.item_id for i in self.srv.recommend(cust, 10).items]
        target = before[0]  # the purchase below must remove it
        E, T = h.pb.common.Event, h.pb.common
        t = BASE_MS + 10**9
        batch = [
            E(event_id="v-1", customer_id=cust, item_id=target, type=T.EVENT_TYPE_PURCHASE,
              time_unix_ms=t, quantity=1, unit_price=9.5),                        # 0 ok
            E(event_id="v-1", customer_id=cust, item_id=target, type=T.EVENT_TYPE_PURCHASE,
              time_unix_ms=t, quantity=1, unit_price=9.5),                        # 1 dup
            E(event_id="v-2", customer_id=cust, item_id="no-such-item",
              type=T.EVENT_TYPE_VIEW, time_unix_ms=t),                            # 2 item
            E(event_id="v-3", customer_id=cust, item_id=target,
              type=T.EVENT_TYPE_UNSPECIFIED, time_unix_ms=t),                     # 3 type
            E(event_id="v-4", customer_id=cust, item_id=target, type=T.EVENT_TYPE_CART,
              time_unix_ms=t, quantity=-3),                                       # 4 qty
            E(event_id="v-5", customer_id=cust, item_id=target, type=T.EVENT_TYPE_VIEW,
              time_unix_ms=0),                                                    # 5 time
            E(event_id="v-6", customer_id=cust, item_id=target, type=T.EVENT_TYPE_PURCHASE,
              time_unix_ms=t, unit_price=float("nan")),                           # 6 price
            E(event_id="v-7", customer_id=cust, item_id=target, type=T.EVENT_TYPE_PURCHASE,
              time_unix_ms=t, unit_price=-1.0),                                   # 7 price
            E(event_id="", customer_id=cust, item_id=target, type=T.EVENT_TYPE_VIEW,
              time_unix_ms=t),                                                    # 8 id
            E(event_id="v-9", customer_id="", item_id=target, type=T.EVENT_TYPE_VIEW,
              time_unix_ms=t),                                                    # 9 customer
            E(event_id="v-10", customer_id=cust, item_id=before[1], type=T.EVENT_TYPE_VIEW,
              time_unix_ms=t + 1),                                                # 10 ok
            E(event_id="ev-00000", customer_id=cust, item_id=target,
              type=T.EVENT_TYPE_VIEW, time_unix_ms=t),                            # 11 dup (history)
            E(event_id="v-12", customer_id=cust, item_id=target, type=T.EVENT_TYPE_VIEW,
              time_unix_ms=-5),                                                   # 12 time
            E(event_id="v-13", customer_id=cust, item_id=target, type=T.EVENT_TYPE_VIEW,
              time_unix_ms=t, quantity=1_000_001),                                # 13 qty
            E(event_id="v-14", customer_id=cust, item_id=target, type=T.EVENT_TYPE_VIEW,
              time_unix_ms=t, unit_price=float("inf")),                           # 14 price
            E(event_id="v-15", customer_id=cust, item_id=target, type=99,
              time_unix_ms=t),                                                    # 15 type
        ]
        r = self.srv.record_events(batch)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (2, 2, 12), list(r.errors))
        want = {2: "item_id:", 3: "type:", 4: "quantity:", 5: "time_unix_ms:",
                6: "unit_price:", 7: "unit_price:", 8: "event_id:", 9: "customer_id:",
                12: "time_unix_ms:", 13: "quantity:", 14: "unit_price:", 15: "type:"}
        got = {e.index: e.reason for e in r.errors}
        self.assertEqual(sorted(got), sorted(want))
        for i, field in want.items():
            self.assertTrue(got[i].startswith(field), "errors[%d]: %r" % (i, got[i]))
        # Across batches: the accepted ones are now duplicates; a fixed one is new.
        again = [batch[0], batch[10],
                 E(event_id="v-5", customer_id=cust, item_id=target,
                   type=T.EVENT_TYPE_VIEW, time_unix_ms=t)]
        r = self.srv.record_events(again)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (1, 2, 0), list(r.errors))
        # The valid purchase was stored: the item is gone from the next list,
        # which is still full.
        after = self.srv.recommend(cust, 10)
        self.assertPersonalized(after, 10, reason=h.pb.common.REASON_FOLD_IN)
        ids = [i.item_id for i in after.items]
        self.assertNotIn(target, ids)
        self.assertGreaterEqual(len(set(ids) & set(before)), 6, (ids, before))
        # ... and it comes back when purchases are allowed.
        allowed = self.srv.recommend(cust, 10, include_purchased=True)
        self.assertIn(target, [i.item_id for i in allowed.items])

    def test_durability_after_kill_9(self):
        cust = "cust-07"
        target = self.srv.recommend(cust, 3).items[0].item_id
        E, T = h.pb.common.Event, h.pb.common
        rng = random.Random(99)
        custs = sorted(h.SHOP.taste)
        batches = []
        for b in range(20):
            batch = []
            for j in range(10):
                n = b * 10 + j
                batch.append(E(event_id="dur-%03d" % n, customer_id=rng.choice(custs),
                               item_id=rng.choice(ALL_ITEMS), type=T.EVENT_TYPE_VIEW,
                               time_unix_ms=BASE_MS + 10**9 + n))
            batches.append(batch)
        batches[13][4] = E(event_id="dur-134", customer_id=cust, item_id=target,
                           type=T.EVENT_TYPE_PURCHASE, time_unix_ms=BASE_MS + 10**9 + 134,
                           quantity=1, unit_price=4.0)
        for batch in batches:
            r = self.srv.record_events(batch)
            self.assertEqual((r.accepted, r.duplicates, r.rejected), (10, 0, 0))
        self.srv.kill()  # SIGKILL right after the last acknowledgement
        self.assertEqual(self.srv.proc.returncode, -signal.SIGKILL)
        self.srv.start()
        self.assertEqual(self.srv.model_info().version, 1)
        for batch in batches:
            r = self.srv.record_events(batch)
            self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, 10, 0))
        ids = [i.item_id for i in self.srv.recommend(cust, 10).items]
        self.assertEqual(len(ids), 10)
        self.assertNotIn(target, ids)


class ConcurrentRecordEventsTests(ServerTest):
    """RecordEvents calls wait for the group commit without holding a worker
    (the store's committer answers them): many connections of one event per
    call, far more than the server's 2 workers, all get OK, every event is
    stored, and each one acknowledged survives kill -9."""
    trained = True
    WRITERS = 32
    PER_WRITER = 8

    def test_single_event_writers_all_durable(self):
        E, T = h.pb.common.Event, h.pb.common
        custs = sorted(h.SHOP.taste)

        def event(w, k):
            n = w * self.PER_WRITER + k
            return E(event_id="conc-%02d-%d" % (w, k), customer_id=custs[n % len(custs)],
                     item_id=ALL_ITEMS[n % CATALOG_SIZE], type=T.EVENT_TYPE_VIEW,
                     time_unix_ms=BASE_MS + 10**9 + n)

        results, errors = {}, []
        start = threading.Barrier(self.WRITERS)

        def writer(w):
            # A channel per writer: separate connections, as separate clients.
            ch = grpc.insecure_channel(self.srv.addr,
                                       options=[("grpc.use_local_subchannel_pool", 1)])
            call = ch.unary_unary("/patron.v1.Events/RecordEvents",
                                  request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=h.pb.events.RecordEventsResponse.FromString)
            try:
                start.wait(30)
                for k in range(self.PER_WRITER):
                    r = call(h.pb.events.RecordEventsRequest(events=[event(w, k)]), timeout=30)
                    results[(w, k)] = (r.accepted, r.duplicates, r.rejected)
            except Exception as e:  # reported below, with the writer
                errors.append((w, repr(e)))
            finally:
                ch.close()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(self.WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), self.WRITERS * self.PER_WRITER)
        self.assertEqual(set(results.values()), {(1, 0, 0)})
        self.srv.kill()  # SIGKILL right after the last acknowledgement
        self.assertEqual(self.srv.proc.returncode, -signal.SIGKILL)
        self.srv.start()
        every = [event(w, k) for w in range(self.WRITERS) for k in range(self.PER_WRITER)]
        r = self.srv.record_events(every)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, len(every), 0))


class StreamEventsTests(ServerTest):
    trained = True

    def stream(self, messages, timeout=30):
        fn = self.srv.channel.stream_unary(
            "/patron.v1.Events/StreamEvents",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.events.StreamEventsResponse.FromString)
        return fn(iter(messages), timeout=timeout)

    @staticmethod
    def views(prefix, n, start=0):
        E, T = h.pb.common.Event, h.pb.common
        custs = sorted(h.SHOP.taste)
        return [E(event_id="%s-%05d" % (prefix, start + i), customer_id=custs[i % len(custs)],
                  item_id=ALL_ITEMS[(start + i) % CATALOG_SIZE], type=T.EVENT_TYPE_VIEW,
                  time_unix_ms=BASE_MS + 10**9 + start + i) for i in range(n)]

    def test_stream_counts_across_messages(self):
        Req = h.pb.events.StreamEventsRequest
        a = self.views("st", 100)
        bad = h.pb.common.Event(event_id="st-bad", customer_id="x", item_id="nope",
                                type=h.pb.common.EVENT_TYPE_VIEW, time_unix_ms=BASE_MS)
        msgs = [Req(events=a[:50]), Req(events=a[50:] + [bad, a[3]]), Req(events=[])]
        r = self.stream(msgs)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (100, 1, 1))
        self.assertEqual([(e.index, e.reason.split(":")[0]) for e in r.errors],
                         [(100, "item_id")])  # index counts across the stream
        r = self.stream([Req(events=a)])
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, 100, 0))
        # An empty stream is fine; a malformed message ends it with INVALID_ARGUMENT
        # while what came before it stays stored.
        self.assertEqual(self.stream([]).accepted, 0)
        fn = self.srv.channel.stream_unary("/patron.v1.Events/StreamEvents")
        b = self.views("st2", 10)
        e = rpc_error(fn, iter([Req(events=b).SerializeToString(), b"\xff\xff\xff"]),
                      timeout=10)
        self.assertStatus(e, SC.INVALID_ARGUMENT)
        r = self.srv.record_events(b)
        self.assertEqual(r.duplicates, 10)

    def test_pipelined_messages_count_in_stream_order(self):
        # Messages are committed while later ones are read (several in the
        # store at once): the reply still counts every one, and lists the
        # errors in stream order.
        Req = h.pb.events.StreamEventsRequest
        msgs, want = [], []
        for m in range(12):
            evs = self.views("pipe%02d" % m, 40, start=m * 40)
            evs[m % 40] = h.pb.common.Event(event_id="pipe-bad-%d" % m, customer_id="x",
                                            item_id="nope", type=h.pb.common.EVENT_TYPE_VIEW,
                                            time_unix_ms=BASE_MS)
            want.append(m * 40 + m % 40)
            msgs.append(Req(events=evs))
        r = self.stream(msgs)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (12 * 39, 0, 12))
        self.assertEqual([e.index for e in r.errors], want)
        r = self.stream(msgs)
        self.assertEqual((r.accepted, r.duplicates, r.rejected), (0, 12 * 39, 12))

    def test_kill_9_mid_stream_keeps_acknowledged_and_whole_messages(self):
        Req = h.pb.events.StreamEventsRequest
        acked = self.views("ack", 2000)
        r = self.stream([Req(events=acked[i:i + 500]) for i in range(0, 2000, 500)])
        self.assertEqual(r.accepted, 2000)
        # A second stream that never finishes: kill -9 while it is sending.
        pending = [Req(events=self.views("mid", 200, start=i * 200)) for i in range(200)]
        sent = threading.Event()

        def gen():
            for i, m in enumerate(pending):
                if i == 50:
                    sent.set()
                yield m
                time.sleep(0.002)

        fn = self.srv.channel.stream_unary(
            "/patron.v1.Events/StreamEvents",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.events.StreamEventsResponse.FromString)
        fut = fn.future(gen(), timeout=30)
        self.assertTrue(sent.wait(20))
        self.srv.kill()
        self.assertEqual(self.srv.proc.returncode, -signal.SIGKILL)
        self.assertRaises(grpc.RpcError, fut.result)
        self.srv.start()
        # Everything acknowledged is there.
        r = self.srv.record_events(acked)
        self.assertEqual((r.accepted, r.duplicates), (0, 2000))
        # Nothing half-written: each message was stored whole or not at all.
        stored_messages = 0
        for m in pending:
            r = self.srv.record_events(list(m.events))
            self.assertIn((r.accepted, r.duplicates), [(200, 0), (0, 200)])
            stored_messages += r.duplicates == 200
        self.assertGreater(stored_messages, 0)


def main():
    h.run_suite(__doc__.splitlines()[0], 'events integration suite')


if __name__ == "__main__":
    main()
