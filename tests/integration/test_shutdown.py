#!/usr/bin/python3
"""Integration tests of SIGTERM: patrond drains and exits 0 under health,
record and recommend load, and applies no call it did not acknowledge.

    /usr/bin/python3 tests/integration/test_shutdown.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import (SC, BASE_MS, ALL_ITEMS, CATALOG_SIZE, Shop, ServerTest,
                            wait_until)  # noqa: E402

LOAD_TIMEOUT = 2.0  # per call in the SIGTERM-under-load tests


class SigtermTest(ServerTest):
    """Base: ServerTest plus the SIGTERM-under-load driver."""

    def sigterm_under_load(self, one_call, n_threads=4, min_ok=100):
        """Client threads call one_call(thread, n) in a loop; SIGTERM once
        min_ok calls have completed. patrond must exit 0 within 5 s and no
        call may fail before the signal. After it, calls may fail only with
        codes that mean "not handled": UNAVAILABLE; CANCELLED, which gRPC
        C-core 1.51 gives calls that reached the server after shutdown began
        and were never handed to patrond (grpc/grpc#41785); and, rarely,
        DEADLINE_EXCEEDED for a call sent at the very moment of SIGTERM that
        C-core left pending (see the report in tests/integration/README.md).
        test_sigterm_under_record_load proves none of those calls was
        applied. Returns [(thread, n, result-or-None, code, after_sigterm,
        t_start)]."""
        lock = threading.Lock()
        log = []
        stop = threading.Event()
        sigterm_sent = threading.Event()

        def worker(tid):
            for n in range(100_000):  # bounded
                if stop.is_set():
                    return
                after = sigterm_sent.is_set()
                t_start = time.monotonic()
                try:
                    res = one_call(tid, n)
                    with lock:
                        log.append((tid, n, res, SC.OK, after, t_start))
                except grpc.RpcError as e:
                    with lock:
                        log.append((tid, n, None, e.code(), after or sigterm_sent.is_set(),
                                    t_start))
                    if e.code() == SC.UNAVAILABLE:
                        return  # the server is gone: stop this client

        def n_ok():
            with lock:
                return sum(1 for r in log if r[3] == SC.OK)

        def early_errors():
            with lock:
                return [r for r in log if r[3] != SC.OK and not r[4]]

        threads = [threading.Thread(target=worker, args=(i,), daemon=True)
                   for i in range(n_threads)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: n_ok() >= min_ok or early_errors(), 10,
                       what="%d calls under load" % min_ok)
            self.assertEqual(early_errors(), [], "errors before SIGTERM")
            sigterm_sent.set()
            self.srv.signal(signal.SIGTERM)
            t0 = time.monotonic()
            code = self.srv.proc.wait(timeout=5)
            t_exit = time.monotonic()
            elapsed = t_exit - t0
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
        self.assertFalse(any(t.is_alive() for t in threads), "client threads hang")
        self.assertEqual(code, 0, "patrond exit code after SIGTERM")
        self.assertLess(elapsed, 5.0)
        self.assertEqual(early_errors(), [], "errors before SIGTERM")
        allowed = (SC.OK, SC.UNAVAILABLE, SC.CANCELLED, SC.DEADLINE_EXCEEDED)
        bad = [(r[:5], "started %+.3f s after SIGTERM" % (r[5] - t0))
               for r in log if r[3] not in allowed]
        self.assertEqual(bad, [], "calls failed with unexpected codes (exit after %.2f s)"
                         % elapsed)
        self.assertGreaterEqual(n_ok(), min_ok)
        log_text = self.srv.log_tail()
        self.assertIn("SIGTERM received", log_text)
        self.assertNotIn("drain timed out", log_text)
        counts = {}
        for r in log:
            counts[r[3].name] = counts.get(r[3].name, 0) + 1
        sys.stderr.write("[%s: %s, exit after %.2f s] " % (self._testMethodName, counts, elapsed))
        return log


class SigtermWithoutModelTests(SigtermTest):

    def test_sigterm_under_health_load(self):
        self.sigterm_under_load(lambda tid, n: self.srv.health("", timeout=LOAD_TIMEOUT))

    def test_sigterm_under_record_load(self):
        # Every acknowledged batch is stored; every failed one is not.
        self.srv.upsert_items(Shop.catalog())
        E, T = h.pb.common.Event, h.pb.common

        def batch(tid, n):
            return [E(event_id="load-%d-%d-%d" % (tid, n, j), customer_id="cust-%02d" % tid,
                      item_id=ALL_ITEMS[(n * 5 + j) % CATALOG_SIZE], type=T.EVENT_TYPE_VIEW,
                      time_unix_ms=BASE_MS + n) for j in range(5)]

        def one(tid, n):
            r = self.srv.record_events(batch(tid, n), timeout=LOAD_TIMEOUT)
            return (r.accepted, r.duplicates, r.rejected)

        log = self.sigterm_under_load(one)
        self.srv.start()  # same data dir
        for tid, n, res, code, *_ in log:
            r = self.srv.record_events(batch(tid, n))
            again = (r.accepted, r.duplicates, r.rejected)
            if code == SC.OK:
                self.assertEqual(res, (5, 0, 0))
                self.assertEqual(again, (0, 5, 0), "acknowledged batch %d/%d lost" % (tid, n))
            else:
                self.assertEqual(again, (5, 0, 0),
                                 "batch %d/%d failed with %s but was applied" % (tid, n, code))

    def test_sigterm_when_idle_exits_zero(self):
        self.assertEqual(self.srv.stop(timeout=5), 0)

    def test_signal_bursts_never_kill_it(self):
        # Threads started before main() blocked the signals (OpenBLAS's
        # pool) could take a SIGHUP or SIGTERM that arrived while the main
        # thread was busy, and the default action ended the process. A
        # burst keeps the main thread busy reloading: patrond must survive
        # it, serve, and still drain on the SIGTERMs that follow.
        for _ in range(300):
            self.srv.signal(signal.SIGHUP)
        self.srv.health("")
        self.assertIsNone(self.srv.proc.poll(), self.srv.log_tail())
        for _ in range(20):
            self.srv.signal(signal.SIGTERM)
        self.assertEqual(self.srv.proc.wait(timeout=10), 0, self.srv.log_tail())
        self.assertIn("draining", self.srv.log_tail())


class SigtermTrainedTests(SigtermTest):
    trained = True

    def test_sigterm_under_recommend_load(self):
        def one(tid, n):
            cust = "cust-%02d" % ((tid * 7 + n) % 40) if n % 5 else "stranger"
            return len(self.srv.recommend(cust, 10, timeout=LOAD_TIMEOUT).items)

        log = self.sigterm_under_load(one)
        self.assertEqual({r[2] for r in log if r[3] == SC.OK}, {10})


def main():
    h.run_suite(__doc__.splitlines()[0], 'shutdown integration suite')


if __name__ == "__main__":
    main()
