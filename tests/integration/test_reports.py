#!/usr/bin/python3
"""Machine-readable and graphic reports of the `patron` CLI: `--json` on
eval (with --k), segments, eval-uplift and experiment report, and
eval-uplift's Qini SVG, against real stores and a real patrond.

    /usr/bin/python3 tests/integration/test_reports.py --build BUILD_DIR \
        --proto proto [unittest args]
"""
import html.parser
import json
import os
import shutil
import struct
import zlib
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patron_harness as h  # noqa: E402
from patron_harness import Server  # noqa: E402
from patron_harness import setUpModule, tearDownModule  # noqa: E402,F401

DAY = 86_400_000
BASE_MS = 1_700_000_000_000
AS_OF = BASE_MS + 10 * DAY
SVG = "{http://www.w3.org/2000/svg}"


def patron(*args):
    out = subprocess.run([h.PATRON] + [str(a) for a in args], capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        raise AssertionError("patron %s: exit %d\n%s" % (" ".join(map(str, args)),
                                                          out.returncode, out.stderr))
    return out


class OfflineReports(unittest.TestCase):
    def test_eval_json_at_several_k(self):
        out = patron("eval", "--data", h.trained_data_dir(), "--k", "5,10,20,50", "--json",
                     "--iterations", 3, "--factors", 8)
        r = json.loads(out.stdout)  # stdout is the JSON alone; the text went to stderr
        self.assertIn("Recall@50", out.stderr)
        self.assertEqual(r["protocol"], "time_split")
        self.assertGreater(r["customers_evaluated"], 0)
        self.assertEqual([m["name"] for m in r["models"]], ["popularity", "ials"])
        for m in r["models"]:
            self.assertEqual([x["k"] for x in m["metrics"]], [5, 10, 20, 50])
            recalls = [x["recall"] for x in m["metrics"]]
            self.assertEqual(recalls, sorted(recalls))  # more slots never find fewer
            for x in m["metrics"]:
                for key in ("recall", "ndcg", "coverage"):
                    self.assertGreaterEqual(x[key], 0.0)
                    self.assertLessEqual(x[key], 1.0)
        bad = subprocess.run([h.PATRON, "eval", "--data", h.trained_data_dir(), "--k", "5,0"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--k: expected cut-offs", bad.stderr)

    def test_segments_json(self):
        r = json.loads(patron("segments", "--data", h.trained_data_dir(), "--as-of",
                              "2030-01-01T00:00:00Z", "--json").stdout)
        self.assertEqual(r["as_of"], "2030-01-01T00:00:00Z")
        self.assertEqual(r["as_of_unix_ms"], 1893456000000)
        self.assertGreater(r["customers"], 0)
        for group in ("segments", "lifecycle", "tiers"):
            self.assertEqual(sum(r[group].values()), r["customers"], group)


class UpliftReports(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="patron-it-reports-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.data = os.path.join(self.dir, "data")
        self.srv = Server(self.data, self.dir)
        self.addCleanup(self.srv.kill)
        self.srv.start()

    def test_eval_uplift_json_and_qini_svg(self):
        c = h.pb.coupons
        self.srv.call("/patron.v1.Coupons/UpsertCoupon", c.UpsertCouponRequest(coupon=c.Coupon(
            coupon_id="fix2", campaign_id="spring", kind=c.COUPON_KIND_FIXED_AMOUNT,
            benefits=[c.CouponBenefit(kind=c.BENEFIT_KIND_AMOUNT, amount=2.0)],
            valid_from_unix_ms=AS_OF - 30 * DAY, valid_until_unix_ms=AS_OF + DAY,
            campaign_budget=1000, per_customer_limit=1)), c.UpsertCouponResponse)
        for i in range(60):
            patron("coupon", "target", "--addr", self.srv.addr, "--user", "t-%03d" % i,
                   "--request-id", "r-%03d" % i, "--as-of", AS_OF)
        svg = os.path.join(self.dir, "qini.svg")
        out = patron("eval-uplift", "--data", self.data, "--as-of", AS_OF + 8 * DAY,
                     "--budgets", "10,50", "--json", "--svg", svg)
        r = json.loads(out.stdout)
        self.assertEqual(r["offers"], 60)
        self.assertEqual(r["treated"] + r["control"], 60)
        oos = r["out_of_sample"]
        self.assertEqual(oos["train_offers"] + oos["test_offers"], 60)
        names = [p["policy"] for p in oos["policies"]]
        self.assertEqual(names, ["uplift model", "propensity", "coupon to everyone"])
        for p in oos["policies"]:
            self.assertEqual([b["budget"] for b in p["budgets"]], [10, 50])
            self.assertEqual(set(p["budgets"][0]),
                             {"budget", "k", "spend", "incr_margin", "incr_profit", "roi"})
        self.assertNotIn("in_sample", r)

        # The SVG is well-formed XML with one polyline per policy, named as
        # in the JSON, every point inside the view box; axes and legend.
        root = ET.parse(svg).getroot()
        self.assertEqual(root.tag, SVG + "svg")
        w, hgt = (float(x) for x in root.get("viewBox").split()[2:])
        lines = root.findall(".//" + SVG + "polyline")
        self.assertEqual([l.get("data-policy") for l in lines], names)
        for l in lines:
            pts = [tuple(map(float, p.split(","))) for p in l.get("points").split()]
            self.assertGreaterEqual(len(pts), 2)
            for x, y in pts:
                self.assertTrue(0 <= x <= w and 0 <= y <= hgt, (x, y))
            self.assertEqual([x for x, _ in pts], sorted(x for x, _ in pts))
        texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
        for label in names + ["share of customers targeted", "incremental buyers", "100%"]:
            self.assertIn(label, texts)
        self.assertEqual(root.findall(".//" + SVG + "script"), [])
        sys.stderr.write("qini.svg: %d bytes\n" % os.path.getsize(svg))


class ExperimentReport(h.ServerTest):
    trained = True

    def test_report_json_and_iso_times(self):
        patron("experiment", "create", "--addr", self.srv.addr, "--id", "rep", "--arm",
               "control:0.5", "--arm", "treat:0.5", "--start", "2020-01-01T00:00:00Z")
        listed = patron("experiment", "list", "--addr", self.srv.addr).stdout
        self.assertIn("start 2020-01-01T00:00:00Z, stop none", listed)
        for i in range(20):
            self.srv.recommend("rep-%02d" % i, 5)
        r = json.loads(patron("experiment", "report", "--addr", self.srv.addr, "--id", "rep",
                              "--json").stdout)
        self.assertEqual(r["experimentId"], "rep")
        self.assertEqual(sorted(a["armId"] for a in r["arms"]), ["control", "treat"])
        self.assertEqual(sum(int(a.get("customers", "0")) for a in r["arms"]), 20)
        self.assertIn("srmPValue", r)

        # --html: one self-contained page, the sample-ratio check first, a CI
        # bar per metric and arm, the daily lift chart; then rendered.
        page = os.path.join(self.dir, "report.html")
        patron("experiment", "report", "--addr", self.srv.addr, "--id", "rep", "--html", page,
               "--attribution-days", 7)
        p = PageParser()
        with open(page, encoding="utf-8") as f:
            p.feed(f.read())
        self.assertEqual(p.sections[0], "srm")
        self.assertEqual(p.sections, ["srm", "arms", "metrics", "daily"])
        self.assertEqual(p.external, [])
        n_metrics = len(r["arms"][0]["metrics"])
        self.assertGreater(n_metrics, 0)
        self.assertEqual(p.ci_svgs, n_metrics)
        self.assertEqual(p.bars, n_metrics * 2)  # every metric, both arms
        self.assertEqual(p.daily_polylines, 1)   # the one treatment arm
        self.assertEqual(p.daily_points, 7)      # one per day of the window
        size = os.path.getsize(page)
        shot = os.path.join(self.dir, "report.png")
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--screenshot=" + shot, "--window-size=1000,1400", "file://" + page],
                       capture_output=True, timeout=90, check=True)
        w, hgt, share, colours = png_ink(shot)
        self.assertEqual((w, hgt), (1000, 1400))
        self.assertGreater(share, 0.02)  # text, bars and charts, not a blank page
        self.assertGreater(colours, 5)
        sys.stderr.write("report.html: %d bytes; screenshot %dx%d, %.1f%% non-white, "
                         "%d colours\n" % (size, w, hgt, 100 * share, colours))


class PageParser(html.parser.HTMLParser):
    """Counts what the report page is made of."""

    def __init__(self):
        super().__init__()
        self.sections, self.external = [], []
        self.ci_svgs = self.bars = self.daily_polylines = self.daily_points = 0
        self.svg = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag in ("script", "link", "img", "iframe", "object") or "src" in a or \
                any(v and "http" in v and k != "xmlns" for k, v in a.items()):
            self.external.append((tag, a))
        if tag == "svg":
            self.svg = a.get("class")
            self.ci_svgs += self.svg == "ci"
        if tag == "rect" and a.get("class") == "bar":
            self.bars += 1
        if tag == "polyline" and self.svg == "daily":
            self.daily_polylines += 1
            self.daily_points += len(a["points"].split())


def png_ink(path):
    """(width, height, share of non-white pixels, distinct colours) of an
    8-bit RGB(A) PNG, decoded with zlib and the PNG row filters."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, hgt, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    prev, ink, colours = bytearray(stride), 0, set()
    for y in range(hgt):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up, ul = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + left) & 255
            elif f == 2:
                row[i] = (row[i] + up) & 255
            elif f == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(up - ul), abs(left - ul), abs(left + up - 2 * ul)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
        for x in range(0, stride, bpp * 4):  # every 4th pixel is plenty
            px = bytes(row[x:x + 3])
            colours.add(px)
            ink += px != b"\xff\xff\xff"
        prev = row
    return w, hgt, ink / (hgt * w / 4), len(colours)


if __name__ == "__main__":
    h.run_suite(__doc__.splitlines()[0], "integration_reports")
