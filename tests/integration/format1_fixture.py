"""Makes the fixture test_legacy_store.py reads: a store written by the
previous release (record format 1), as an mdb_dump, and what that release
answered about it. Run by hand with that release's build, not by ctest,
from a checkout before the v1 API (see legacy_store_calls.py: its calls
must be ones that release's protos have):

  git worktree add /tmp/prev 5b0acce   # the release before format 2
  cmake -S /tmp/prev -B /tmp/prev-build && cmake --build /tmp/prev-build -j2
  /usr/bin/python3 tests/integration/format1_fixture.py /tmp/prev-build /tmp/prev/proto \\
      tests/integration/data/format1

It simulates a small shop (bench/shopsim), imports it, trains, then over
gRPC sets a customer's attributes, defines a coupon, targets three
customers, redeems a grant, creates an experiment and asks for
recommendations (exposures), and finally fits the default uplift model.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import legacy_store_calls as calls  # noqa: E402


def main():
    build, proto, out = sys.argv[1:4]
    import patron_harness as h
    h.configure(build, proto)
    work = tempfile.mkdtemp(prefix="patron-format1-")
    sample, data = os.path.join(work, "sample"), os.path.join(work, "db")
    subprocess.run([os.path.join(build, "bench", "shopsim"), "--out", sample,
                    "--customers", "25", "--items", "30", "--days", "45"], check=True)
    h.run_patron("import", "--data", data, "--items", os.path.join(sample, "items.csv"),
                 "--events", os.path.join(sample, "events.csv"))
    h.run_patron("train", "--data", data, "--factors", 8, "--iterations", 5, "--seed", 7,
                 "--threads", 1)
    srv = h.Server(data, work).start()
    fix = calls.populate(h, srv, sample)
    fix["answers"] = calls.answers(h, srv, fix)
    # As stored: with the exposures of answers' own Recommend calls.
    fix["answers"]["results"] = calls.results(h, srv)
    srv.stop()
    h.run_patron("train-uplift", "--data", data)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "store.dump"), "w") as f:
        # hex, not -p: mdb_dump -p leaves a trailing backslash unescaped
        subprocess.run(["mdb_dump", "-a", data], stdout=f, check=True)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(fix, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
