#!/usr/bin/env python3
"""Runs one client example of clients/ against a real patrond (ctest
client_python, client_node, client_go, client_php).

    run_client.py --build B --proto P [--prepare 'SHELL COMMAND'] [--http] -- COMMAND...

--prepare builds the example first (generated code, compilation, npm ci);
its exit status 77 (a toolchain package missing) skips the test.

The data dir is the integration tests' trained shop with one coupon. The
example starts FIRST, against a port nobody listens on yet: its first call
must fail UNAVAILABLE and be retried. Once it says so, patrond starts on that
port (with --admin-listen for an HTTP/JSON client, --http), and the example
must then get through every step: health SERVING, recommendations, two
events accepted, recommendations again, a coupon decision with a named
outcome. The client's output is printed; its exit status must be 0.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)

CLIENT_TIMEOUT = 120  # seconds, the whole example (cold caches, sanitizers)
EXPECTED = ["health: patron.v1.Recommender is SERVING",
            "recommendations (model 1, request ",
            "recorded events: 2 accepted, 0 duplicates, 0 rejected",
            "after the purchase (model 1, request ",
            "coupon decision: COUPON_OUTCOME_"]


def free_port():
    """A loopback port free right now (patrond binds it moments later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_coupon(data, work):
    """One fixed-amount coupon valid now, so the decision has one to weigh."""
    srv = h.Server(data, work).start()
    try:
        c = h.pb.coupons
        now = int(time.time() * 1000)
        day = 86_400_000
        coupon = c.Coupon(coupon_id="save-2", campaign_id="clients",
                          kind=c.COUPON_KIND_FIXED_AMOUNT,
                          benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=2)],
                          valid_from_unix_ms=now - day, valid_until_unix_ms=now + 30 * day,
                          campaign_budget=1000, per_customer_limit=1)
        srv.call("/patron.v1.Coupons/UpsertCoupon", c.UpsertCouponRequest(coupon=coupon),
                 c.UpsertCouponResponse)
    finally:
        if srv.stop() != 0:
            raise AssertionError("patrond did not stop cleanly\n" + srv.log_tail())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--proto", required=True)
    ap.add_argument("--http", action="store_true",
                    help="the client speaks HTTP/JSON to --admin-listen")
    ap.add_argument("--prepare", help="shell command building the example")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    if args.prepare:
        t0 = time.monotonic()
        rc = subprocess.run(args.prepare, shell=True).returncode
        if rc == 77:
            return 77
        if rc != 0:
            sys.stderr.write("FAIL: preparing the client (%s) exited %d\n" % (args.prepare, rc))
            return 1
        print("prepared in %.1f s" % (time.monotonic() - t0))
    h.configure(args.build, args.proto)
    h.setUpModule()
    work = tempfile.mkdtemp(prefix="patron-client-")
    srv = None
    try:
        data = os.path.join(work, "data")
        os.mkdir(data)
        shutil.copy(os.path.join(h.trained_data_dir(), "data.mdb"), data)
        add_coupon(data, work)

        grpc_port, http_port = free_port(), free_port()
        env = dict(os.environ, PATRON_ADDR="127.0.0.1:%d" % grpc_port,
                   PATRON_HTTP="http://127.0.0.1:%d" % http_port)
        client = subprocess.Popen(args.command, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env=env)
        lines, retried = [], threading.Event()

        def read():
            for line in client.stdout:
                lines.append(line)
                sys.stdout.write("client| " + line)
                sys.stdout.flush()
                if "UNAVAILABLE, retrying" in line:
                    retried.set()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        # Build steps of the client (go build, tsc) may come first: wait
        # for its first retry, or for it to end (a failure, reported below).
        while not retried.wait(0.1) and client.poll() is None:
            pass
        extra = ["--admin-listen", "127.0.0.1:%d" % http_port] if args.http else []
        if retried.is_set():
            srv = h.Server(data, work, listen="127.0.0.1:%d" % grpc_port,
                           extra_args=extra).start()
        try:
            rc = client.wait(timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            client.kill()
            rc = "killed after %d s" % CLIENT_TIMEOUT
        reader.join(5)
        out = "".join(lines)
        problems = []
        if not retried.is_set():
            problems.append("the client never retried UNAVAILABLE before the server started")
        if rc != 0:
            problems.append("the client exited %s" % rc)
        problems += ["missing from the output: %r" % e for e in EXPECTED if e not in out]
        if problems:
            sys.stderr.write("FAIL: %s\n" % "; ".join(problems))
            if srv:
                sys.stderr.write("patrond log:\n%s\n" % srv.log_tail())
            return 1
        print("client OK: retried UNAVAILABLE, then every step answered")
        return 0
    finally:
        if srv:
            srv.kill()
        h.tearDownModule()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
