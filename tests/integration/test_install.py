#!/usr/bin/python3
"""Integration tests of the installed Patron: `cmake --install` into a temp
prefix puts the programs, man pages, example settings and deploy files in
place; the installed patrond runs from the example settings alone (PATRON_*
variables from patrond.env, the example token and profile files); the
systemd unit passes `systemd-analyze verify`; the Dockerfile's runtime
stage holds runtime libraries only, covering what the programs link.

    /usr/bin/python3 tests/integration/test_install.py --build BUILD_DIR \
        --proto proto [unittest args]

No Docker daemon is needed (none runs in CI): the Dockerfile is checked by
reading it. Every process started here is killed in tearDown.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402  (fails clearly without python3-grpcio)
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401
from patron_harness import SC, rpc_error, wait_until  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(SOURCE, "deploy")
FILES = ["bin/patrond", "bin/patron", "share/man/man1/patrond.1", "share/man/man1/patron.1",
         "share/patron/patrond.env", "share/patron/tokens.example",
         "share/patron/profiles.example", "share/patron/programme.example", "share/doc/patron/patrond.service",
         "share/doc/patron/Dockerfile", "share/doc/patron/nginx-grpc.conf"]
PREFIX = None  # the install, made once per process (install_prefix)


def install_prefix():
    global PREFIX
    if PREFIX is None:
        p = os.path.join(h.TMP_ROOT, "prefix")
        r = subprocess.run(["cmake", "--install", h.BUILD_DIR, "--prefix", p],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("cmake --install failed:\n%s%s" % (r.stdout, r.stderr))
        PREFIX = p
    return PREFIX


def run(*args, env=None, timeout=30):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def help_variables():
    """The PATRON_* variables `patrond --help` lists: one per flag."""
    out = run(h.PATROND, "--help").stdout
    return set(re.findall(r"\(env (PATRON_[A-Z0-9_]+)\)", out))


def env_file(path):
    """NAME=value lines of an EnvironmentFile (comments skipped)."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                env[name] = value
    return env


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.prefix = install_prefix()
        self.dir = tempfile.mkdtemp(prefix=self._testMethodName[:40] + "-", dir=h.TMP_ROOT)
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def test_files_in_place(self):
        for rel in FILES:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, rel)), rel)
        for prog in ("patrond", "patron"):
            st = os.stat(os.path.join(self.prefix, "bin", prog))
            self.assertTrue(st.st_mode & stat.S_IXOTH, prog)

    def test_installed_programs_say_their_version(self):
        built = run(h.PATROND, "--version").stdout
        self.assertRegex(built, r"^patrond \d+\.\d+\.\d+ \(commit [A-Za-z0-9._+-]+\)\n$")
        r = run(os.path.join(self.prefix, "bin", "patrond"), "--version")
        self.assertEqual((r.returncode, r.stdout), (0, built))
        r = run(os.path.join(self.prefix, "bin", "patron"), "--version")
        self.assertEqual((r.returncode, r.stdout), (0, built.replace("patrond", "patron", 1)))

    def test_man_pages_render_and_list_every_flag(self):
        for prog in ("patrond", "patron"):
            page = os.path.join(self.prefix, "share/man/man1", prog + ".1")
            r = run("groff", "-man", "-Tutf8", "-ww", "-z", page)
            self.assertEqual((r.returncode, r.stderr), (0, ""), page)
        text = run("man", "-l", os.path.join(self.prefix, "share/man/man1/patrond.1"),
                   env=dict(os.environ, MANWIDTH="120", MAN_KEEP_FORMATTING="0")).stdout
        flags = set(re.findall(r"--[a-z][a-z-]+", run(h.PATROND, "--help").stdout))
        self.assertIn("--drain-ms", flags)
        for flag in flags:
            self.assertIn(flag, text)
        for var in help_variables():
            self.assertIn(var, text)
        text = run("man", "-l", os.path.join(self.prefix, "share/man/man1/patron.1"),
                   env=dict(os.environ, MANWIDTH="120")).stdout
        for cmd_flag in ("--customer-data-older-than-days", "--attribution-days", "--cg-steps"):
            self.assertIn(cmd_flag, text)

    def test_examples_name_real_variables(self):
        known = help_variables()
        self.assertIn("PATRON_MAX_EVENT_SKEW_SECONDS", known)
        for name in ("share/patron/patrond.env", "share/doc/patron/patrond.service",
                     "share/doc/patron/Dockerfile"):
            with open(os.path.join(self.prefix, name)) as f:
                used = set(re.findall(r"PATRON_[A-Z0-9_]+", f.read()))
            self.assertTrue(used, name)
            self.assertEqual(used - known - {"PATRON_COMMIT"}, set(), name)

    def test_installed_patrond_serves_from_the_example_settings(self):
        data = os.path.join(self.dir, "data")
        os.mkdir(data)
        shutil.copy(os.path.join(h.trained_data_dir(), "data.mdb"), data)
        tokens = os.path.join(self.dir, "tokens")
        shutil.copy(os.path.join(self.prefix, "share/patron/tokens.example"), tokens)
        os.chmod(tokens, 0o600)
        port_file = os.path.join(self.dir, "port")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATRON_")}
        env.update(env_file(os.path.join(self.prefix, "share/patron/patrond.env")))
        self.assertEqual(env["PATRON_DATA"], "/var/lib/patron")
        env.update(PATRON_DATA=data, PATRON_LISTEN="127.0.0.1:0", PATRON_PORT_FILE=port_file,
                   PATRON_AUTH_FILE=tokens, PATRON_POLL_SECONDS="0",
                   PATRON_PROFILES=os.path.join(self.prefix, "share/patron/profiles.example"))
        log_path = os.path.join(self.dir, "patrond.log")
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([os.path.join(self.prefix, "bin", "patrond")],
                                         env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log)

        def port():
            if self.proc.poll() is not None:
                with open(log_path) as f:
                    raise AssertionError("patrond exited %s:\n%s" % (self.proc.returncode,
                                                                      f.read()))
            try:
                with open(port_file) as f:
                    return int(f.read())
            except (OSError, ValueError):
                return None

        srv = h.Server(data, self.dir)
        srv.addr = "127.0.0.1:%d" % wait_until(port, 10, what="patrond's port file")
        srv.channel = srv.new_channel()
        try:
            self.assertEqual(srv.health("patron.v1.Recommender").status,
                             h.pb.health.HealthCheckResponse.SERVING)
            resp = srv.recommend("cust-00", 3, token="REPLACE-ME-operator-0000000000")
            self.assertEqual(len(resp.items), 3)
            self.assertEqual(rpc_error(srv.recommend, "cust-00", 3).code(), SC.UNAUTHENTICATED)
            self.assertEqual(rpc_error(srv.model_info, token="REPLACE-ME-shop-web-000000000")
                             .code(), SC.PERMISSION_DENIED)
        finally:
            srv.close_channel()
        with open(log_path) as f:
            log = f.read()
        self.assertIn("programme: settings from %s in force" % env["PATRON_PROFILES"], log)
        self.assertRegex(log, r"patrond \d+\.\d+\.\d+ \(commit ")


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        self.prefix = install_prefix()
        self.unit = os.path.join(self.prefix, "share/doc/patron/patrond.service")
        with open(self.unit) as f:
            self.text = f.read()

    def verify(self, path):
        env = dict(os.environ, MANPATH=os.path.join(self.prefix, "share/man"))
        return run("systemd-analyze", "verify", path, env=env, timeout=60)

    def test_verify_passes(self):
        r = self.verify(self.unit)
        sys.stderr.write("systemd-analyze verify %s: exit %d, output %r\n"
                         % (self.unit, r.returncode, r.stdout + r.stderr))
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_verify_catches_a_missing_binary(self):
        d = tempfile.mkdtemp(dir=h.TMP_ROOT)
        bad = os.path.join(d, "patrond.service")
        with open(bad, "w") as f:
            f.write(self.text.replace("ExecStart=" + self.prefix, "ExecStart=" + d))
        r = self.verify(bad)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("patrond", r.stdout + r.stderr)

    def test_unit_runs_the_installed_patrond_hardened(self):
        settings = re.findall(r"^([A-Za-z]+)=(.*)$", self.text, re.M)
        keys = {k: v for k, v in settings}
        self.assertEqual(keys["ExecStart"], os.path.join(self.prefix, "bin", "patrond"))
        self.assertIn("-HUP $MAINPID", keys["ExecReload"])
        self.assertEqual(keys["Restart"], "on-failure")
        self.assertEqual(keys["User"], "patron")
        self.assertEqual(keys["StateDirectory"], "patron")
        self.assertIn("/var/lib/patron", keys["ReadWritePaths"])
        self.assertIn("PATRON_DATA=/var/lib/patron", keys["Environment"])
        self.assertTrue(keys["EnvironmentFile"].endswith("/etc/patron/patrond.env"))
        for k, v in (("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                     ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                     ("CapabilityBoundingSet", "")):
            self.assertEqual(keys[k], v, k)
        self.assertEqual(keys["RestrictAddressFamilies"].split(),
                         ["AF_INET", "AF_INET6", "AF_UNIX"])


def dockerfile_stages(path):
    """[(base image, stage name, [(instruction, argument)])] with line
    continuations joined."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, arg = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            stages.append((m.group(1), m.group(2), []))
        else:
            stages[-1][2].append((instr, arg.strip()))
    return stages


def apt_packages(instructions):
    pkgs = []
    for instr, arg in instructions:
        if instr == "RUN" and "apt-get install" in arg:
            tail = arg.split("apt-get install", 1)[1].split("&&", 1)[0]
            pkgs += [w for w in tail.split() if not w.startswith("-")]
    return pkgs


def package_of(path):
    """The Debian package owning a library, by any of its names (symlink or
    file, /usr/lib or /lib after the /usr merge); "" if none."""
    real = os.path.realpath(path)
    for p in (path, real, re.sub(r"^/usr/lib/", "/lib/", path), re.sub(r"^/usr/lib/", "/lib/", real)):
        r = run("dpkg", "-S", p)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return ""


def direct_depends(pkgs):
    """The packages pkgs depend on directly, alternatives included (apt
    installs the first: libopenblas-dev brings libopenblas-pthread-dev)."""
    out = run("apt-cache", "depends", *sorted(pkgs)).stdout
    return set(re.findall(r"^\s*\|?(?:Pre)?Depends: ([\w.+-]+)", out, re.M))


class DockerfileTest(unittest.TestCase):
    """Read, not built: no Docker daemon in CI."""

    def setUp(self):
        self.stages = dockerfile_stages(os.path.join(DEPLOY, "Dockerfile"))
        self.build, self.runtime = self.stages[0], self.stages[-1]
        self.run_instr = dict(self.runtime[2])

    def test_two_stages_on_debian_12_slim(self):
        self.assertEqual(len(self.stages), 2)
        for base, _, _ in self.stages:
            self.assertEqual(base, "debian:12-slim")
        self.assertIn("libgrpc-dev", apt_packages(self.build[2]))
        copies = [a for i, a in self.runtime[2] if i == "COPY"]
        self.assertEqual(len(copies), 1)
        self.assertIn("--from=%s" % self.build[1], copies[0])

    def test_build_stage_has_what_cmake_requires(self):
        listed = set(apt_packages(self.build[2]))
        brought = []  # packages the listed ones depend on, read when needed

        def assert_built_with(owner, what):
            if owner in listed:
                return
            if not brought:
                brought.append(direct_depends(listed))
            # libopenblas-dev brings libopenblas-pthread-dev, the .pc file's owner
            self.assertIn(owner, brought[0], "%s (%s) is not in the build stage" % (what, owner))

        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            cmake = f.read()
        modules = re.findall(r"pkg_check_modules\(\w+ REQUIRED IMPORTED_TARGET ([\w.+-]+)\)",
                             cmake)
        self.assertIn("lmdb", modules)
        for m in modules:
            pc = run("pkg-config", "--path", m).stdout.strip()
            assert_built_with(package_of(pc), "pkg-config " + m)
        for prog in re.findall(r"find_program\(\w+ ([\w.+-]+) REQUIRED\)", cmake):
            assert_built_with(package_of(shutil.which(prog) or prog), prog)

    def test_runtime_has_runtime_libraries_only(self):
        pkgs = apt_packages(self.runtime[2])
        self.assertTrue(pkgs)
        self.assertEqual([p for p in pkgs if p.endswith("-dev") or p in ("gcc", "cmake")], [])

    def test_runtime_libraries_cover_what_the_programs_link(self):
        base = {"libc6", "zlib1g", "libgcc-s1"}  # in debian:12-slim already
        pkgs = set(apt_packages(self.runtime[2])) | base
        brought = []  # what the listed packages depend on, read when needed
        for prog in (h.PATROND, h.PATRON):
            needed = re.findall(r"\(NEEDED\).*\[(.+)\]", run("readelf", "-d", prog).stdout)
            self.assertIn("liblmdb.so.0", needed)
            if any(re.match(r"lib(asan|ubsan|tsan)\.", lib) for lib in needed):
                # The image is a RelWithDebInfo build: a sanitizer build links
                # more (libasan8, libatomic1); the normal build's run checks it.
                self.skipTest("sanitizer build: its libraries are not the image's")
            ldd = dict(re.findall(r"^\s*(\S+) => (\S+)", run("ldd", prog).stdout, re.M))
            for lib in needed:
                owner = package_of(ldd[lib])
                self.assertTrue(owner, "no package owns %s" % ldd[lib])
                if owner in pkgs:
                    continue
                if not brought:  # builds without --as-needed also name libgrpc29's libre2-9
                    brought.append(direct_depends(pkgs))
                self.assertIn(owner, brought[0], "%s (%s) is not in the runtime stage"
                              % (lib, owner))

    def test_non_root_volume_ports_healthcheck(self):
        user = self.run_instr["USER"]
        self.assertNotIn(user, ("root", "0", "0:0"))
        self.assertIn("useradd", self.run_instr["RUN"])
        self.assertIn("/var/lib/patron", self.run_instr["VOLUME"])
        env = dict(re.findall(r"(PATRON_[A-Z_]+)=(\S+)", self.run_instr["ENV"]))
        self.assertEqual(env["PATRON_DATA"], "/var/lib/patron")
        grpc_port = env["PATRON_LISTEN"].rsplit(":", 1)[1]
        admin_port = env["PATRON_ADMIN_LISTEN"].rsplit(":", 1)[1]
        self.assertEqual(sorted(self.run_instr["EXPOSE"].split()), sorted([grpc_port, admin_port]))
        check = self.run_instr["HEALTHCHECK"]
        self.assertIn("CMD curl -fsS", check)
        self.assertIn("http://127.0.0.1:%s/readyz" % admin_port, check)
        self.assertIn("curl", apt_packages(self.runtime[2]))
        self.assertEqual(self.run_instr["ENTRYPOINT"], '["/usr/local/bin/patrond"]')


def main():
    h.run_suite(__doc__.splitlines()[0], 'install integration suite')


if __name__ == "__main__":
    main()
