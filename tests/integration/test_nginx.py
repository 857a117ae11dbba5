#!/usr/bin/python3
"""Integration test of several patrond on one host behind Debian's nginx:
three replicas share one --data directory, nginx runs deploy/nginx-grpc.conf
(its addresses replaced by the test's ports), 90 calls on one client channel
to nginx reach all three replicas (their GetServerStats counts add up to 90,
none is 0), and a write through one replica is read through another.

    /usr/bin/python3 tests/integration/test_nginx.py --build BUILD_DIR \
        --proto proto [unittest args]

nginx runs unprivileged in a temp prefix (own pid file, logs, temp paths) on
loopback ports; it and the replicas are killed in tearDown. Every call has
a timeout.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import ALL_ITEMS, wait_until  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(SOURCE, "deploy", "nginx-grpc.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPLICAS = 3
CALLS = 90
RECOMMEND = "/patron.v1.Recommender/Recommend"


def free_port():
    """A loopback port free right now (nginx binds it moments later; a lost
    race makes nginx exit, which start_nginx reports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_config(ports, listen_port):
    """deploy/nginx-grpc.conf with the test's replica ports and listen port:
    the template's upstream must name exactly REPLICAS loopback servers."""
    with open(TEMPLATE) as f:
        text = f.read()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+;", text, re.M)
    if len(servers) != REPLICAS:
        raise AssertionError("nginx-grpc.conf: expected %d upstream servers, found %d"
                             % (REPLICAS, len(servers)))
    it = iter(ports)
    text = re.sub(r"(?m)^(\s*server 127\.0\.0\.1:)\d+;", lambda m: "%s%d;" % (m.group(1), next(it)),
                  text)
    text, n = re.subn(r"listen 127\.0\.0\.1:\d+ http2;", "listen 127.0.0.1:%d http2;" % listen_port,
                      text)
    if n != 1:
        raise AssertionError("nginx-grpc.conf: expected one plaintext http2 listen line")
    return text


def main_config(prefix):
    """A whole nginx.conf around the site file, everything in prefix."""
    return """
daemon off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {p}/access.log;
    client_body_temp_path {p}/tmp/body;
    proxy_temp_path {p}/tmp/proxy;
    fastcgi_temp_path {p}/tmp/fastcgi;
    uwsgi_temp_path {p}/tmp/uwsgi;
    scgi_temp_path {p}/tmp/scgi;
    include {p}/patron.conf;
}}
""".format(p=prefix)


class NginxReplicasTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=h.TMP_ROOT)
        os.chmod(self.dir, 0o755)  # nginx's workers may run as nobody when we are root
        self.data = os.path.join(self.dir, "data")
        os.mkdir(self.data)
        shutil.copy(os.path.join(h.trained_data_dir(), "data.mdb"), self.data)
        self.nginx = None
        self.channel = None
        self.replicas = [h.Server(self.data, self.dir) for _ in range(REPLICAS)]
        self.addCleanup(self.cleanup)
        for r in self.replicas:
            r.start()
        self.start_nginx()

    def cleanup(self):
        if self.channel is not None:
            self.channel.close()
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGTERM)
            try:
                self.nginx.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(timeout=5)
        for r in self.replicas:
            r.kill()

    def nginx_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return "(no error log)"

    def start_nginx(self):
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.port = free_port()
        with open(os.path.join(self.dir, "patron.conf"), "w") as f:
            f.write(site_config([r.port for r in self.replicas], self.port))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(main_config(self.dir))
        cmd = [NGINX, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")]
        t = subprocess.run(cmd + ["-t"], capture_output=True, text=True, timeout=10)
        self.assertEqual(t.returncode, 0, t.stderr)
        self.nginx = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)

        def up():
            if self.nginx.poll() is not None:
                raise AssertionError("nginx exited %s\n%s" % (self.nginx.returncode,
                                                              self.nginx_log()))
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(up, 10, what="nginx listening")
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.port,
                                             options=[("grpc.enable_http_proxy", 0)])
        grpc.channel_ready_future(self.channel).result(timeout=10)

    def recommend_calls(self, replica):
        stats = replica.call("/patron.v1.Admin/GetServerStats",
                             h.pb.admin.GetServerStatsRequest(),
                             h.pb.admin.GetServerStatsResponse)
        return sum(m.calls for m in stats.methods if m.method == RECOMMEND)

    def test_calls_on_one_channel_reach_every_replica(self):
        before = [self.recommend_calls(r) for r in self.replicas]
        rec = self.channel.unary_unary(RECOMMEND,
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=h.pb.rec.RecommendResponse.FromString)
        for i in range(CALLS):
            resp = rec(h.pb.rec.RecommendRequest(customer_id="cust-%02d" % (i % 20), k=3),
                       timeout=h.RPC_TIMEOUT)
            self.assertEqual(len(resp.items), 3)
            self.assertTrue(resp.personalized)
        counts = [self.recommend_calls(r) - b for r, b in zip(self.replicas, before)]
        sys.stderr.write("%d calls on one channel through nginx: per replica %s\n"
                         % (CALLS, counts))
        self.assertEqual(sum(counts), CALLS)
        for i, c in enumerate(counts):
            self.assertGreater(c, 0, "replica %d got none of %d calls: %s" % (i, CALLS, counts))

    def test_a_write_through_one_replica_is_read_through_another(self):
        P, C = h.pb.profiles, h.pb.common
        now = int(time.time() * 1000)
        writer, reader, third = self.replicas

        def profile(replica, cust):
            return replica.call("/patron.v1.Profiles/GetProfile",
                                P.GetProfileRequest(customer_id=cust),
                                P.GetProfileResponse).profile

        err = h.rpc_error(profile, reader, "via-replica")
        self.assertEqual(err.code(), grpc.StatusCode.NOT_FOUND)  # nobody wrote it yet
        r = writer.record_events([C.Event(event_id="nginx-w-1", customer_id="via-replica",
                                          item_id=ALL_ITEMS[0], type=C.EVENT_TYPE_PURCHASE,
                                          time_unix_ms=now - 60000, quantity=2,
                                          unit_price=10.0)])
        self.assertEqual((r.accepted, r.rejected), (1, 0))
        p = profile(reader, "via-replica")
        self.assertEqual((p.orders, p.monetary), (1, 20.0))
        # And through nginx: written by whichever replica it picks, read by all.
        rec_events = self.channel.unary_unary(
            "/patron.v1.Events/RecordEvents",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.events.RecordEventsResponse.FromString)
        r = rec_events(h.pb.events.RecordEventsRequest(events=[C.Event(
            event_id="nginx-w-2", customer_id="via-nginx", item_id=ALL_ITEMS[1],
            type=C.EVENT_TYPE_PURCHASE, time_unix_ms=now - 30000, quantity=1,
            unit_price=5.0)]), timeout=h.RPC_TIMEOUT)
        self.assertEqual((r.accepted, r.rejected), (1, 0))
        for replica in (writer, reader, third):
            p = profile(replica, "via-nginx")
            self.assertEqual((p.orders, p.monetary), (1, 5.0))


def main():
    h.run_suite(__doc__.splitlines()[0], 'nginx integration suite')


if __name__ == "__main__":
    main()
