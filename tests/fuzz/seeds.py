#!/usr/bin/env python3
"""Picks the checked-in seed corpus (tests/fuzz/corpus/) from raw material
seeds.sh collects; see seeds.sh.

  seeds.py requests RAW OUT   RAW/<method>/<file> (requests the integration
                              tests sent) -> OUT/<method>/: per method up to
                              PER_TARGET distinct requests of at most
                              MAX_BYTES, spread over the sizes seen
  seeds.py records DUMP OUT   `mdb_dump -a` of a store -> OUT/<kind>/: per
                              record kind up to PER_TARGET records, in the
                              form fuzz_records.c reads
"""
import hashlib
import os
import sys

PER_TARGET = 12
MAX_BYTES = 8192

# generic-table name -> fuzz_records kind (value only)
TABLE_KINDS = {"coupon": "coupon", "cbudget": "budget", "chist": "history",
               "cvel": "velocity", "coffer": "offer", "credeem": "redemption",
               "cmodel": "uplift_model", "cboost": "uplift_boosted",
               "exp_defs": "experiment"}
# store database -> fuzz_records kind (key length byte, key, value)
DB_KINDS = {"events": "event", "models": "model_header", "attrs": "attrs",
            "points": "points"}


def spread(blobs):
    """Up to PER_TARGET distinct blobs, evenly over the size order."""
    blobs = sorted(set(b for b in blobs if len(b) <= MAX_BYTES), key=lambda b: (len(b), b))
    if len(blobs) <= PER_TARGET:
        return blobs
    step = (len(blobs) - 1) / (PER_TARGET - 1)
    return [blobs[round(i * step)] for i in range(PER_TARGET)]


def write(out, target, blobs):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for b in blobs:
        with open(os.path.join(d, hashlib.sha1(b).hexdigest()[:16]), "wb") as f:
            f.write(b)
    print("%-60s %3d seeds" % (target, len(blobs)))


def requests(raw, out):
    for method in sorted(os.listdir(raw)):
        d = os.path.join(raw, method)
        blobs = []
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                blobs.append(f.read())
        write(out, method, spread(blobs))


def dump_records(lines):
    """(database, key, value) of every record in mdb_dump's hex output."""
    db, in_data, pending = None, False, None
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith("database="):
            db = line.split("=", 1)[1]
        elif line == "HEADER=END":
            in_data, pending = True, None
        elif line == "DATA=END":
            in_data = False
        elif in_data and line.startswith(" "):
            b = bytes.fromhex(line.strip())
            if pending is None:
                pending = b
            else:
                yield db, pending, b
                pending = None


def records(dump, out):
    kinds = {}
    with open(dump) as f:
        for db, key, val in dump_records(f):
            if db == "tables" and b"\0" in key:
                kind = TABLE_KINDS.get(key.split(b"\0", 1)[0].decode("ascii", "replace"))
                if kind:
                    kinds.setdefault(kind, []).append(val)
            elif db in DB_KINDS and len(key) < 64:
                if db == "models" and (len(key) != 9 or key[8] != 0):
                    continue  # factor blobs, not the header record
                kinds.setdefault(DB_KINDS[db], []).append(bytes([len(key)]) + key + val)
    for kind in sorted(kinds):
        write(out, kind, spread(kinds[kind]))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("requests", "records"):
        sys.exit(__doc__)
    {"requests": requests, "records": records}[sys.argv[1]](sys.argv[2], sys.argv[3])
