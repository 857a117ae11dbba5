#!/usr/bin/python3
"""Integration tests of streaming audiences under load (issue 20 item 8):
SelectAudience works in steps, holds one message per unread stream, and
stops at its deadline or a cancel without holding its worker.

    /usr/bin/python3 tests/integration/test_streams.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

A store of CUSTOMERS customers (one purchase each, through the API) is
built once per test. Every call has a timeout, every wait is bounded and
every server is killed in tearDown. No test asserts a duration.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest  # noqa: E402

CUSTOMERS = 20000
UNREAD = 16  # streams opened and left unread
# Before, each unread stream held every member encoded (about 150 bytes of
# message plus an allocation each, over 3 MB per stream here, above 50 MB
# for UNREAD); now it holds the members' indices (4 bytes each) and one
# message. The bound is generous for allocator and gRPC noise.
RSS_BOUND = 24 << 20
SELECT = "/patron.v1.Profiles/SelectAudience"
# A reader that does not read must be felt by the server: gRPC's BDP probing
# would otherwise grow the client's windows past the whole audience (3 MB),
# and the server would send it all without waiting.
SMALL_WINDOWS = [("grpc.enable_http_proxy", 0), ("grpc.http2.bdp_probe", 0),
                 ("grpc.http2.lookahead_bytes", 65536)]


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


class StreamTests(ServerTest):
    def server_options(self):
        # One request worker: blocking it shows. Under AddressSanitizer,
        # freed memory waits in a quarantine (256 MB by default) and would
        # count as growth: none here, so RSS measures what is held.
        asan = os.environ.get("ASAN_OPTIONS", "")
        return {"threads": 1,
                "env": {"ASAN_OPTIONS": (asan + ":" if asan else "") +
                        "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"}}

    def setUp(self):
        super().setUp()
        C = h.pb.common
        self.srv.upsert_items([C.Item(item_id="i1", title="One", category="Garden",
                                      price=10.0, unit_cost=5.0, in_stock=True)])
        now = int(time.time() * 1000)
        for start in range(0, CUSTOMERS, 10000):
            batch = [C.Event(event_id="e%06d" % i, customer_id="c%06d" % i, item_id="i1",
                             type=C.EVENT_TYPE_PURCHASE, time_unix_ms=now - 86400000,
                             quantity=1, unit_price=10.0)
                     for i in range(start, min(start + 10000, CUSTOMERS))]
            self.srv.record_events(batch, timeout=60)

    def small_window_channel(self):
        ch = grpc.insecure_channel(self.srv.addr, options=SMALL_WINDOWS)
        self.addCleanup(ch.close)
        return ch

    def open_stream(self, timeout=60, channel=None):
        P = h.pb.profiles
        fn = (channel or self.srv.channel).unary_stream(
            SELECT, request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=P.SelectAudienceResponse.FromString)
        return fn(P.SelectAudienceRequest(), timeout=timeout)

    def finished(self, code):
        """Calls of SelectAudience the server has finished with code."""
        A = h.pb.admin
        s = self.srv.call("/patron.v1.Admin/GetServerStats", A.GetServerStatsRequest(),
                          A.GetServerStatsResponse)
        for m in s.methods:
            if m.method == SELECT:
                return sum(b.calls for b in m.by_status if b.code == code)
        return 0

    def wait_finished(self, codes, want):
        h.wait_until(lambda: sum(self.finished(c) for c in codes) >= want, 20,
                     what="SelectAudience finished with %s" % " or ".join(codes))

    def test_unread_streams_hold_one_message(self):
        # The whole audience, read: every customer, in order, total first.
        members = list(self.open_stream())
        self.assertEqual(len(members), CUSTOMERS)
        self.assertEqual(members[0].total, CUSTOMERS)
        self.assertEqual([m.customer_id for m in members[:3]], ["c000000", "c000001",
                                                                "c000002"])
        self.assertTrue(all(m.total == 0 for m in members[1:]))
        base = rss_bytes(self.srv.proc.pid)
        # Streams that read one message and then nothing, on their own
        # connections (each a flow-control window of its own).
        channels = [self.small_window_channel() for _ in range(UNREAD)]
        try:
            streams = [self.open_stream(channel=ch) for ch in channels]
            for s in streams:
                self.assertEqual(next(s).total, CUSTOMERS)
            grown = rss_bytes(self.srv.proc.pid) - base
            self.assertLess(grown, RSS_BOUND, "%d unread streams of %d members grew the "
                            "server by %.1f MB" % (UNREAD, CUSTOMERS, grown / 1048576.0))
            for s in streams:
                s.cancel()
            self.wait_finished(["CANCELLED"], UNREAD)
        finally:
            for ch in channels:
                ch.close()

    def test_slow_reader_stops_at_deadline(self):
        s = self.open_stream(timeout=3, channel=self.small_window_channel())
        self.assertEqual(next(s).total, CUSTOMERS)
        # Reads nothing more: the call ends at its deadline, and the server
        # ends it too (DEADLINE_EXCEEDED, or CANCELLED when the client's
        # own timer tells it first), its state released.
        self.wait_finished(["DEADLINE_EXCEEDED", "CANCELLED"], 1)
        with self.assertRaises(grpc.RpcError) as e:
            for _ in s:
                pass
        self.assertEqual(e.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_cancelled_stream_frees_its_worker(self):
        # While the only request worker matches the audience, other calls
        # answer between its steps: before the stream's first message (it
        # comes once every customer is matched). Before, the worker did the
        # whole audience at once and nothing else answered meanwhile.
        first = threading.Event()
        s = self.open_stream()

        errors = []

        def read_first():
            try:
                next(s)
            except grpc.RpcError as e:
                errors.append(e)
            first.set()

        reader = threading.Thread(target=read_first)
        reader.start()
        answered = 0
        try:
            for _ in range(2000):
                if first.is_set():
                    break
                self.srv.health()
                answered += 1
                if answered == 20:
                    break
            self.assertEqual(errors, [])
            self.assertFalse(first.is_set(), "the audience was matched before 20 health "
                             "checks answered (%d): make CUSTOMERS larger" % answered)
            s.cancel()
        finally:
            reader.join(timeout=30)
        self.assertEqual(answered, 20)
        self.wait_finished(["CANCELLED"], 1)
        self.srv.health()


if __name__ == "__main__":
    h.run_suite("Patron streaming audience integration tests", "integration_streams")
