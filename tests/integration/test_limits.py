#!/usr/bin/python3
"""Integration tests of resource limits: patrond keeps accepting connections
after a flood exhausts its descriptors.

    /usr/bin/python3 tests/integration/test_limits.py --build BUILD_DIR \\
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

Loopback only; every loop is bounded, every socket closed, every server
killed in tearDown.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ServerTest  # noqa: E402

FD_LIMIT = 256     # patrond's soft and hard RLIMIT_NOFILE in the flood test
NOT_SERVING = b"\x08\x02"  # health of a store with no model yet: an answer
FLOOD = 400        # raw TCP connections, well past FD_LIMIT


def fd_limit(soft, hard):
    """A prefix running patrond with RLIMIT_NOFILE soft:hard (util-linux)."""
    return ["prlimit", "--nofile=%d:%d" % (soft, hard), "--"]


class DescriptorFloodTest(ServerTest):
    """Issue 20 item 3: 1,100 connections against 1,024 descriptors left
    gRPC core's listener dead ('Failed accept4: Too many open files'), and
    new connections failed even after the flood had gone."""

    def server_options(self):
        return {"prefix": fd_limit(FD_LIMIT, FD_LIMIT)}

    def fresh_health(self, timeout):
        # A local subchannel pool: a really new TCP connection, not one
        # shared with the test's other channel.
        ch = grpc.insecure_channel(self.srv.addr, options=[
            ("grpc.enable_http_proxy", 0), ("grpc.use_local_subchannel_pool", 1)])
        try:
            stub = ch.unary_unary("/grpc.health.v1.Health/Check",
                                  request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
            return stub(b"", timeout=timeout)
        finally:
            ch.close()

    def flood(self):
        """Opens FLOOD raw TCP connections, checks the pre-flood channel
        still works, closes them; returns how many were opened."""
        flood = []
        try:
            for _ in range(FLOOD):
                try:
                    flood.append(socket.create_connection(("127.0.0.1", self.srv.port),
                                                          timeout=2))
                except OSError:
                    break  # the backlog is full: enough pressure
            time.sleep(1.0)  # let patrond try to accept them all
            # The channel opened before the flood keeps working.
            self.assertEqual(self.srv.health().status,
                             h.pb.health.HealthCheckResponse.NOT_SERVING)
        finally:
            for s in flood:
                s.close()
        return len(flood)

    def test_new_connections_succeed_after_flood(self):
        self.assertEqual(self.fresh_health(5.0), NOT_SERVING)
        self.assertGreater(self.flood(), FD_LIMIT)
        # After the flood, a new connection is served (retrying for a few
        # seconds while patrond notices the closed sockets).
        deadline = time.monotonic() + 10
        last = None
        while time.monotonic() < deadline:
            try:
                self.assertEqual(self.fresh_health(1.0), NOT_SERVING)
                break
            except grpc.RpcError as e:
                last = e
        else:
            self.fail("no new connection served 10 s after the flood: %s\n%s"
                      % (last, self.srv.log_tail()))
        # The excess was refused by the cap, before gRPC ran out.
        log = self.srv.log_tail(200)
        self.assertIn("refused a connection (descriptor cap reached)", log)
        self.assertNotIn("Failed accept4", log)


def peak_rss_mb(pid):
    """The process's peak resident set (VmHWM) in MiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


class LimitsBeforeDecodingTest(ServerTest):
    """Issue 20 item 7: a 16 MB RecordEvents of 8,000,000 empty events was
    decoded whole before the 100,000-events limit was checked: 1.16 GB of
    peak RSS and seconds of a worker. The counts are now checked on the wire
    bytes first."""

    def test_huge_repeated_field_refused_before_decoding(self):
        body = b"\x0a\x00" * 8_000_000  # field 1 (events), empty, 16 MB
        before = peak_rss_mb(self.srv.proc.pid)
        t0 = time.monotonic()
        err = h.rpc_error(self.srv.call_raw, "/patron.v1.Events/RecordEvents", body,
                          timeout=30)
        took = time.monotonic() - t0
        after = peak_rss_mb(self.srv.proc.pid)
        sys.stderr.write("\n16 MB RecordEvents: %.2f s, peak RSS %.0f -> %.0f MiB\n"
                         % (took, before, after))
        self.assertStatus(err, grpc.StatusCode.RESOURCE_EXHAUSTED,
                          "events: at most 100000 per message")
        # gRPC's copy of the message plus ours is ~32 MB; decoding was ~1.1 GB.
        self.assertLess(after - before, 200, "peak RSS grew by %.0f MiB" % (after - before))
        self.assertLess(took, 5.0)
        # The server is fine afterwards.
        self.assertEqual(self.srv.health().status, h.pb.health.HealthCheckResponse.NOT_SERVING)

    def test_malformed_body_names_the_field(self):
        err = h.rpc_error(self.srv.call_raw, "/patron.v1.Events/RecordEvents",
                          b"\x0a\xff\xff\xff\x0f")
        self.assertStatus(err, grpc.StatusCode.INVALID_ARGUMENT,
                          "not a valid patron.v1.RecordEventsRequest", "events")


class RaisedFdLimitTest(DescriptorFloodTest):
    """patrond raises its soft RLIMIT_NOFILE to the hard limit at start:
    the same flood fits and nothing is refused."""

    def server_options(self):
        return {"prefix": fd_limit(FD_LIMIT, 4 * FD_LIMIT)}

    def test_new_connections_succeed_after_flood(self):
        self.assertGreater(self.flood(), FD_LIMIT)
        self.assertEqual(self.fresh_health(5.0), NOT_SERVING)
        self.assertNotIn("refused a connection", self.srv.log_tail(200))


def main():
    h.run_suite(__doc__.splitlines()[0], 'limits integration suite')


if __name__ == "__main__":
    main()
