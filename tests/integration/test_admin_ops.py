#!/usr/bin/python3
"""Integration tests of what operators rely on: health, unknown methods and
malformed bodies, server stats, reflection and garbage fuzzing, tokens, TLS.

    /usr/bin/python3 tests/integration/test_admin_ops.py --build BUILD_DIR \
        --proto proto [--patron PATH] [unittest args, e.g. -v or a test name]

The shop, the trained fixture and the ServerTest base (a fresh patrond
and temp dir per test, killed in tearDown) come from patron_harness.py.
Every call has a timeout, every loop is bounded, every server is killed in
tearDown. Data is generated from fixed seeds.
"""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
import grpc  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, ServerTest, Server, rpc_error, wait_until  # noqa: E402


class WithoutModelOpsTests(ServerTest):

    def test_health_before_any_model(self):
        self.assertServing("", False)
        self.assertServing("patron.v1.Recommender", False)
        self.assertServing("patron.v1.Events", True)
        self.assertServing("patron.v1.Admin", True)
        self.assertServing("patron.v1.Coupons", True)

    def test_health_unknown_service_is_not_found(self):
        for name in ("no.such.Service", "patron.v1", "patron.v1.Recommender/Recommend"):
            e = rpc_error(self.srv.health, name)
            self.assertStatus(e, SC.NOT_FOUND, "service")

    def test_malformed_bodies_are_invalid_argument(self):
        garbage = [b"\xff\xff\xff\xff", b"\x0a\x10abc", b"\x08"]
        for path in ("/patron.v1.Recommender/Recommend", "/patron.v1.Events/RecordEvents",
                     "/patron.v1.Admin/UpsertItems", "/grpc.health.v1.Health/Check"):
            for body in garbage:
                e = rpc_error(self.srv.call_raw, path, body)
                self.assertStatus(e, SC.INVALID_ARGUMENT)
                # ... and the server still answers the next call.
                self.assertServing("patron.v1.Events", True)
        self.assertIsNone(self.srv.proc.poll())

    def test_unknown_methods_are_unimplemented_quickly(self):
        self.srv.health("")  # connection established: measure the call alone
        for path in ("/grpc.reflection.v1.ServerReflection/NoSuchMethod",
                     "/grpc.health.v1.Health/NoSuchMethod",
                     "/patron.v1.Coupons/NoSuchMethod",
                     "/patron.v1.Recommender/NoSuchMethod",
                     "/no.such.Service/Method"):
            t0 = time.monotonic()
            e = rpc_error(self.srv.call_raw, path, b"", timeout=2)
            ms = (time.monotonic() - t0) * 1000
            self.assertStatus(e, SC.UNIMPLEMENTED)
            self.assertLess(ms, 100, "%s took %.1f ms" % (path, ms))
        self.assertServing("patron.v1.Admin", True)


def reflect(srv, requests, version="v1", token=None):
    """Runs one server-reflection stream; returns the responses."""
    R = h.pb.reflection
    fn = srv.channel.stream_stream(
        "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=R.ServerReflectionResponse.FromString)
    md = [("authorization", "Bearer " + token)] if token else None
    return list(fn(iter([R.ServerReflectionRequest(**q) for q in requests]), timeout=10,
                   metadata=md))


class ServerStatsTests(ServerTest):
    trained = True

    def test_calls_errors_and_latency_per_method(self):
        for i in range(20):
            self.srv.recommend("cust-%02d" % (i % 10), 5)
        for _ in range(3):
            rpc_error(self.srv.recommend, "cust-00", 0)          # INVALID_ARGUMENT
        rpc_error(self.srv.call_raw, "/patron.v1.Nope/Nothing", b"")  # unknown
        self.srv.health("")
        s = self.srv.call("/patron.v1.Admin/GetServerStats",
                          h.pb.admin.GetServerStatsRequest(), h.pb.admin.GetServerStatsResponse)
        self.assertEqual(s.model_version, 1)
        self.assertGreater(s.uptime_seconds, 0)
        by = {m.method: m for m in s.methods}
        rec = by["/patron.v1.Recommender/Recommend"]
        self.assertEqual(rec.calls, 23)
        self.assertEqual(rec.errors, 3)
        self.assertEqual({c.code: c.calls for c in rec.by_status},
                         {"OK": 20, "INVALID_ARGUMENT": 3})
        self.assertTrue(0 < rec.p50_ms <= rec.p99_ms <= rec.max_ms * 1.125 + 1e-9, rec)
        self.assertLess(rec.p99_ms, 1000)
        self.assertEqual({c.code: c.calls for c in by["(unknown)"].by_status},
                         {"UNIMPLEMENTED": 1})
        self.assertIn("/grpc.health.v1.Health/Check", by)
        self.assertNotIn("/patron.v1.Admin/UpsertItems", by)  # methods with calls only
        out = subprocess.run([h.PATRON, "stats", "--addr", self.srv.addr],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"/patron.v1.Recommender/Recommend\s+23\s+3")


class ReflectionTests(ServerTest):
    """Server reflection: what grpcurl needs to call patrond without .proto files."""
    trained = True

    def test_health_serves_every_listed_service(self):
        # One method list feeds both: a service reflection lists and health
        # does not know (Coupons once) fails here.
        out = reflect(self.srv, [{"list_services": ""}])
        services = [s.name for s in out[0].list_services_response.service]
        self.assertIn("patron.v1.Coupons", services)
        for name in services:
            self.assertServing(name, True)

    def test_list_describe_and_call_without_proto_files(self):
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        out = reflect(self.srv, [
            {"list_services": ""},
            {"file_containing_symbol": "patron.v1.Recommender"},
            {"file_by_filename": "patron/v1/common.proto"},
            {"file_containing_symbol": "patron.v1.Recommender.Recommend"},
            {"file_containing_symbol": "patron.v1.NoSuchThing"},
            {"all_extension_numbers_of_type": "patron.v1.Item"},
            {"file_containing_extension": {"containing_type": "patron.v1.Item",
                                           "extension_number": 100}},
        ])
        self.assertEqual(len(out), 7)
        services = {s.name for s in out[0].list_services_response.service}
        self.assertEqual(services, {
            "patron.v1.Recommender", "patron.v1.Events", "patron.v1.Profiles",
            "patron.v1.Experiments", "patron.v1.Admin", "patron.v1.Coupons", "patron.v1.Triggers",
            "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection"})
        self.assertEqual(out[1].original_request.file_containing_symbol,
                         "patron.v1.Recommender")
        files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in out[1].file_descriptor_response.file_descriptor_proto]
        names = {f.name for f in files}
        self.assertIn("patron/v1/recommender.proto", names)
        self.assertIn("patron/v1/common.proto", names)  # its import comes along
        self.assertEqual(out[2].file_descriptor_response.file_descriptor_proto[0],
                         next(b for b in out[1].file_descriptor_response.file_descriptor_proto
                              if descriptor_pb2.FileDescriptorProto.FromString(b).name
                              == "patron/v1/common.proto"))
        self.assertEqual(out[3].file_descriptor_response.file_descriptor_proto,
                         out[1].file_descriptor_response.file_descriptor_proto)
        self.assertEqual(out[4].error_response.error_code, 5)
        self.assertIn("patron.v1.NoSuchThing", out[4].error_response.error_message)
        self.assertEqual(out[5].all_extension_numbers_response.base_type_name, "patron.v1.Item")
        self.assertEqual(list(out[5].all_extension_numbers_response.extension_number), [])
        self.assertEqual(out[6].error_response.error_code, 5)
        # Build the types from what reflection sent (imports first) and call
        # Recommend with them, as grpcurl would.
        pool = descriptor_pool.DescriptorPool()
        pending = list(files)
        while pending:
            ready = [f for f in pending
                     if all(d not in {p.name for p in pending} for d in f.dependency)]
            self.assertTrue(ready, "an import cycle or a missing import")
            for f in ready:
                pool.Add(f)
                pending.remove(f)
        method = pool.FindServiceByName("patron.v1.Recommender").FindMethodByName("Recommend")
        self.assertIn("diversity", method.input_type.fields_by_name)
        factory = message_factory.MessageFactory(pool)
        Req = factory.GetPrototype(method.input_type)
        Resp = factory.GetPrototype(method.output_type)
        resp = Resp.FromString(self.srv.call_raw(
            "/patron.v1.Recommender/Recommend",
            Req(customer_id="cust-00", k=3).SerializeToString()))
        self.assertEqual(len(resp.items), 3)
        self.assertTrue(resp.personalized)
        # v1alpha answers the same; a malformed request ends the stream.
        alpha = reflect(self.srv, [{"list_services": ""}], version="v1alpha")
        self.assertEqual({s.name for s in alpha[0].list_services_response.service}, services)
        fn = self.srv.channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
        with self.assertRaises(grpc.RpcError) as ctx:
            list(fn(iter([b"\xff\xff\xff"]), timeout=5))
        self.assertEqual(ctx.exception.code(), SC.INVALID_ARGUMENT)


    def test_every_unary_method_survives_garbage(self):
        """Every unary method the server lists, fed seeded random bytes: a
        clean status each time (never UNKNOWN, INTERNAL or a dropped
        connection), and the server keeps answering."""
        from google.protobuf import descriptor_pb2
        names = [s.name for s in reflect(self.srv, [{"list_services": ""}])[0]
                 .list_services_response.service if not s.name.startswith("grpc.reflection")]
        paths = []
        for name in names:
            out = reflect(self.srv, [{"file_containing_symbol": name}])[0]
            for b in out.file_descriptor_response.file_descriptor_proto:
                f = descriptor_pb2.FileDescriptorProto.FromString(b)
                for svc in f.service:
                    if "%s.%s" % (f.package, svc.name) != name:
                        continue
                    paths += ["/%s/%s" % (name, m.name) for m in svc.method
                              if not m.client_streaming and not m.server_streaming]
        self.assertGreaterEqual(len(paths), 20, paths)
        rng = random.Random(20261125)
        bad = (SC.UNKNOWN, SC.INTERNAL, SC.UNAVAILABLE, SC.DATA_LOSS)
        for path in paths:
            for i in range(25):
                n = rng.choice((0, 1, 2, 5, 17, 64, 300))
                body = bytes(rng.getrandbits(8) for _ in range(n))
                if i % 3 == 0 and n:  # a plausible field tag up front
                    body = bytes([rng.choice((0x08, 0x0a, 0x10, 0x12, 0x1a))]) + body
                try:
                    self.srv.call_raw(path, body, timeout=10)
                except grpc.RpcError as e:
                    self.assertNotIn(e.code(), bad, "%s %r: %s" % (path, body, e.details()))
            self.assertIsNone(self.srv.proc.poll(), "patrond died on %s" % path)
        self.assertPersonalized(self.srv.recommend("cust-00", 3), 3)


STOREFRONT = "shop-front-7f3a9c2e"
ADMIN = "admin-0c6d1b5e9a7f44"


def write_tokens(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class AuthTests(ServerTest):
    """patrond --auth-file: tokens with scopes; health stays open."""
    trained = True

    def server_options(self):
        self.tokens = os.path.join(self.dir, "tokens")
        write_tokens(self.tokens,
                     "storefront %s patron.v1.Recommender patron.v1.Profiles/GetProfile\n"
                     "admin %s *\n" % (STOREFRONT, ADMIN))
        return {"extra_args": ["--auth-file", self.tokens]}

    def rec(self, **kw):
        return self.srv.recommend("cust-00", 3, **kw)

    def test_tokens_and_scopes(self):
        self.assertServing("", True)  # probes need no token
        self.assertStatus(rpc_error(self.rec), SC.UNAUTHENTICATED, "authorization: Bearer")
        self.assertStatus(rpc_error(self.rec, token="not-a-real-token-at-all"),
                          SC.UNAUTHENTICATED, "unknown token")
        self.assertPersonalized(self.rec(token=STOREFRONT), 3)
        e = rpc_error(self.srv.reload_model, token=STOREFRONT)
        self.assertStatus(e, SC.PERMISSION_DENIED,
                          "token 'storefront' may not call /patron.v1.Admin/ReloadModel")
        e = rpc_error(self.srv.call, "/patron.v1.Profiles/DeleteCustomer",
                      h.pb.profiles.DeleteCustomerRequest(customer_id="cust-00"),
                      h.pb.profiles.DeleteCustomerResponse, token=STOREFRONT)
        self.assertStatus(e, SC.PERMISSION_DENIED, "DeleteCustomer")
        # ExportCustomer returns personal data: the same care as DeleteCustomer.
        e = rpc_error(self.srv.call, "/patron.v1.Profiles/ExportCustomer",
                      h.pb.profiles.ExportCustomerRequest(customer_id="cust-00"),
                      h.pb.profiles.ExportCustomerResponse, token=STOREFRONT)
        self.assertStatus(e, SC.PERMISSION_DENIED, "ExportCustomer")
        x = self.srv.call("/patron.v1.Profiles/ExportCustomer",
                          h.pb.profiles.ExportCustomerRequest(customer_id="cust-00"),
                          h.pb.profiles.ExportCustomerResponse, token=ADMIN)
        self.assertTrue(x.events)
        self.assertEqual(self.srv.reload_model(token=ADMIN).version, 1)
        # x-api-key works as well as a bearer token.
        fn = self.srv.channel.unary_unary(
            "/patron.v1.Recommender/Recommend",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=h.pb.rec.RecommendResponse.FromString)
        r = fn(h.pb.rec.RecommendRequest(customer_id="cust-00", k=2), timeout=5,
               metadata=[("x-api-key", STOREFRONT)])
        self.assertEqual(len(r.items), 2)
        # Reflection needs a known token, whatever its scopes.
        self.assertStatus(rpc_error(reflect, self.srv, [{"list_services": ""}]),
                          SC.UNAUTHENTICATED)
        self.assertEqual(len(reflect(self.srv, [{"list_services": ""}], token=STOREFRONT)), 1)
        # Unknown methods stay UNIMPLEMENTED at once, token or not.
        e = rpc_error(self.srv.call_raw, "/patron.v1.Nope/Nothing", b"")
        self.assertStatus(e, SC.UNIMPLEMENTED)
        # The command line sends $PATRON_TOKEN.
        cli = [h.PATRON, "model-info", "--addr", self.srv.addr]
        out = subprocess.run(cli, capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, PATRON_TOKEN=ADMIN))
        self.assertEqual(out.returncode, 0, out.stderr)
        out = subprocess.run(cli, capture_output=True, text=True, timeout=30,
                             env={k: v for k, v in os.environ.items() if k != "PATRON_TOKEN"})
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("UNAUTHENTICATED", out.stderr.upper())

    def test_admin_writes_erasure_export_and_reloads_are_audited(self):
        log = self.srv.log_tail(200)
        self.assertIn("audit: 2 API token(s) loaded from %s" % self.tokens, log)
        self.srv.call("/patron.v1.Profiles/ExportCustomer",
                      h.pb.profiles.ExportCustomerRequest(customer_id="cust-03"),
                      h.pb.profiles.ExportCustomerResponse, token=ADMIN)
        self.srv.call("/patron.v1.Profiles/DeleteCustomer",
                      h.pb.profiles.DeleteCustomerRequest(customer_id="cust-03"),
                      h.pb.profiles.DeleteCustomerResponse, token=ADMIN)
        self.srv.reload_model(token=ADMIN)
        self.srv.upsert_items(h.Shop.catalog()[:2], token=ADMIN)
        self.assertStatus(rpc_error(self.srv.reload_model, token=STOREFRONT),
                          SC.PERMISSION_DENIED)
        self.rec(token=STOREFRONT)  # reads are not audited
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self.srv.log_tail(200).count("audit: 2 API token(s)") == 2, 5,
                   interval=0.05, what="the token reload's audit line")
        audit = [l.split(" audit: ", 1)[1] for l in self.srv.log_tail(200).splitlines()
                 if " audit: " in l]
        self.assertEqual(audit[1:-1], [
            "/patron.v1.Profiles/ExportCustomer by 'admin': OK",
            "/patron.v1.Profiles/DeleteCustomer by 'admin': OK",
            "/patron.v1.Admin/ReloadModel by 'admin': OK",
            "/patron.v1.Admin/UpsertItems by 'admin': OK",
            "/patron.v1.Admin/ReloadModel by (refused): PERMISSION_DENIED"])
        # No customer data in the log: not the erased customer's id.
        self.assertNotIn("cust-03", self.srv.log_tail(200))

    def test_sighup_rereads_tokens(self):
        rotated = "shop-front-rotated-55aa"
        write_tokens(self.tokens, "storefront %s patron.v1.Recommender\nadmin %s *\n"
                     % (rotated, ADMIN))
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self._works(rotated), 5, interval=0.05, what="the rotated token")
        self.assertStatus(rpc_error(self.rec, token=STOREFRONT), SC.UNAUTHENTICATED)

    def test_emptied_token_file_locks_everyone_out(self):
        self.assertTrue(self._works(STOREFRONT))
        write_tokens(self.tokens, "# everyone out\n")
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: not self._works(ADMIN), 5, interval=0.05,
                   what="the admin token refused")
        self.assertStatus(rpc_error(self.rec, token=STOREFRONT), SC.UNAUTHENTICATED)
        self.assertIn("holds no token", self.srv.log_tail())
        self.assertServing("", True)  # probes still pass

    def test_failed_reload_is_loud_and_fails_closed(self):
        # Deleted, readable by others, or broken: the error is logged and no
        # token stays valid (deleting the file revokes; a leaked file's
        # tokens stop working) until a good file is loaded.
        # Each round's good file has a new token, so the token working
        # proves that file was loaded (not the previous one still served)
        # before it is broken: exactly one failed load per round.
        for i, (breakit, why) in enumerate((
                (lambda: os.remove(self.tokens), "No such file"),
                (lambda: os.chmod(self.tokens, 0o644), "chmod 600"),
                (lambda: write_tokens(self.tokens, "storefront short *\n"),
                 ":1: token must be"))):
            token = "%s-%d" % (STOREFRONT, i)
            write_tokens(self.tokens, "storefront %s *\n" % token)
            self.srv.signal(signal.SIGHUP)
            wait_until(lambda: self._works(token), 10, interval=0.05,
                       what="the good file loaded")
            breakit()
            self.srv.signal(signal.SIGHUP)
            wait_until(lambda: not self._works(token), 10, interval=0.05,
                       what="the token refused after a failed reload (%s)" % why)
            # The tokens are dropped just before the failure is logged.
            log = wait_until(lambda: why in self.srv.log_tail() and self.srv.log_tail(), 5,
                             interval=0.05, what="the failed reload logged (%s)" % why)
            self.assertIn("tokens not reloaded", log)
        # GetServerStats counts the failures once a good file is back (while
        # it fails closed, no token may call it either).
        write_tokens(self.tokens, "admin %s *\n" % ADMIN)
        self.srv.signal(signal.SIGHUP)
        wait_until(lambda: self._stats() is not None, 10, interval=0.05,
                   what="the good file loaded")
        s = self._stats()
        self.assertEqual((s.tokens, s.token_reload_failures), (1, 3))

    def _stats(self):
        try:
            return self.srv.call("/patron.v1.Admin/GetServerStats",
                                 h.pb.admin.GetServerStatsRequest(), h.pb.admin.GetServerStatsResponse,
                                 token=ADMIN)
        except grpc.RpcError:
            return None

    def _works(self, token):
        try:
            self.rec(token=token)
            return True
        except grpc.RpcError:
            return False

    def test_plaintext_tokens_beyond_loopback_are_warned_about(self):
        self.assertNotIn("in plaintext with --auth-file", self.srv.log_tail())
        # The harness listens on 127.0.0.1; a later --listen wins.
        srv = Server(self.data + "-copy", self.dir,
                     extra_args=["--auth-file", self.tokens, "--listen", "0.0.0.0:0"])
        try:
            srv.start(timeout=10)
            self.assertIn("listening on 0.0.0.0:0 in plaintext with --auth-file",
                          srv.log_tail())
        finally:
            srv.kill()

    def test_unsafe_or_broken_token_file_refuses_to_start(self):
        for text, mode, why in (("admin %s *\n" % ADMIN, 0o644, "chmod 600"),
                                ("admin tooshort *\n", 0o600, ":1: token must be")):
            path = os.path.join(self.dir, "bad-tokens")
            write_tokens(path, text, mode)
            srv = Server(self.data + "-copy", self.dir, extra_args=["--auth-file", path])
            with self.assertRaises(AssertionError) as ctx:
                srv.start(timeout=5)
            srv.kill()
            self.assertIn(why, str(ctx.exception))


class TlsTests(ServerTest):
    """patrond --tls-cert/--tls-key: TLS only, with tokens on top."""
    trained = True

    def server_options(self):
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", self.key, "-out", self.cert, "-days", "1",
                        "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        tokens = os.path.join(self.dir, "tokens")
        write_tokens(tokens, "admin %s *\n" % ADMIN)
        return {"extra_args": ["--tls-cert", self.cert, "--tls-key", self.key,
                               "--auth-file", tokens],
                "tls_ca": self.cert, "token": ADMIN}

    def test_tls_serves_and_plaintext_is_refused(self):
        self.assertPersonalized(self.srv.recommend("cust-00", 3), 3)
        plain = grpc.insecure_channel(self.srv.addr, options=[("grpc.enable_http_proxy", 0)])
        try:
            e = rpc_error(self.srv.recommend, "cust-00", 3, channel=plain, timeout=2)
            self.assertIn(e.code(), (SC.UNAVAILABLE, SC.DEADLINE_EXCEEDED))
        finally:
            plain.close()
        env = dict(os.environ, PATRON_TLS_CA=self.cert, PATRON_TOKEN=ADMIN)
        out = subprocess.run([h.PATRON, "recommend", "--addr", self.srv.addr,
                              "--user", "cust-00", "-k", "2"],
                             capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("personalized", out.stdout)
        self.assertIn("TLS", self.srv.log_tail())

    def test_tls_1_1_is_refused(self):
        def handshake(version):
            return subprocess.run(
                ["openssl", "s_client", "-connect", self.srv.addr, version, "-alpn", "h2",
                 "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", self.cert],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                timeout=30)
        ok = handshake("-tls1_2")
        self.assertIn("New, TLSv1.2", ok.stdout, ok.stdout + ok.stderr)
        # The client offers TLS 1.1 (at security level 0 it may); the server
        # answers "unsupported protocol" and no cipher is agreed.
        old = handshake("-tls1_1")
        self.assertNotEqual(old.returncode, 0)
        self.assertIn("Cipher is (NONE)", old.stdout)
        wait_until(lambda: "unsupported protocol" in self.srv.log_tail(), 5,
                   what="the server refusing TLS 1.1")

    def test_key_readable_by_others_refuses_to_start(self):
        key = os.path.join(self.dir, "open-key.pem")
        with open(self.key, "rb") as src, open(key, "wb") as dst:
            dst.write(src.read())
        for mode in (0o644, 0o640):
            os.chmod(key, mode)
            srv = Server(self.data + "-copy", self.dir,
                         extra_args=["--tls-cert", self.cert, "--tls-key", key])
            with self.assertRaises(AssertionError) as ctx:
                srv.start(timeout=5)
            srv.kill()
            self.assertIn("the TLS key %s may be read by group or others" % key,
                          str(ctx.exception))

    def test_missing_key_file_refuses_to_start(self):
        srv = Server(self.data + "-copy", self.dir,
                     extra_args=["--tls-cert", self.cert, "--tls-key", self.key + ".missing"])
        with self.assertRaises(AssertionError) as ctx:
            srv.start(timeout=5)
        srv.kill()
        self.assertIn("cannot use the TLS certificate", str(ctx.exception))


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    """A self-signed CA: returns (certificate, key) paths."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "1", "-subj", "/CN=" + name)
    return cert, key


def make_client_cert(d, name, ca):
    """A client certificate signed by ca (certificate, key): returns paths."""
    cert, key, csr = (os.path.join(d, name + ext) for ext in (".pem", ".key", ".csr"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=" + name)
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
            "-out", cert, "-days", "1")
    return cert, key


class MutualTlsTests(ServerTest):
    """patrond --tls-client-ca --tls-require-client-cert: only clients with a
    certificate the client CA signed get through."""
    trained = True

    def server_options(self):
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                "-out", self.cert, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
        ca = make_ca(self.dir, "client-ca")
        self.client = make_client_cert(self.dir, "storefront", ca)
        self.rogue = make_client_cert(self.dir, "rogue", make_ca(self.dir, "other-ca"))
        return {"extra_args": ["--tls-cert", self.cert, "--tls-key", self.key,
                               "--tls-client-ca", ca[0], "--tls-require-client-cert"],
                "tls_ca": self.cert, "tls_client": self.client}

    def _refused(self, channel):
        try:
            e = rpc_error(self.srv.recommend, "cust-00", 3, channel=channel, timeout=3)
            self.assertIn(e.code(), (SC.UNAVAILABLE, SC.DEADLINE_EXCEEDED))
        finally:
            channel.close()

    def test_client_certificate_is_required_and_verified(self):
        self.assertPersonalized(self.srv.recommend("cust-00", 3), 3)
        self.assertIn("client certificates required", self.srv.log_tail())
        # TLS without a client certificate: the handshake fails.
        with open(self.cert, "rb") as f:
            roots = f.read()
        self._refused(grpc.secure_channel(self.srv.addr, grpc.ssl_channel_credentials(roots),
                                          options=[("grpc.enable_http_proxy", 0)]))
        # A certificate another CA signed: refused too.
        self._refused(self.srv.new_channel(tls_client=self.rogue))
        # The signed one still works on a fresh channel.
        ch = self.srv.new_channel()
        try:
            self.assertPersonalized(self.srv.recommend("cust-00", 3, channel=ch), 3)
        finally:
            ch.close()

    def test_require_without_client_ca_is_a_usage_error(self):
        srv = Server(self.data + "-copy", self.dir,
                     extra_args=["--tls-cert", self.cert, "--tls-key", self.key,
                                 "--tls-require-client-cert"])
        with self.assertRaises(AssertionError) as ctx:
            srv.start(timeout=5)
        srv.kill()
        self.assertIn("--tls-require-client-cert needs --tls-client-ca", str(ctx.exception))


def main():
    h.run_suite(__doc__.splitlines()[0], 'operations integration suite')


if __name__ == "__main__":
    main()
