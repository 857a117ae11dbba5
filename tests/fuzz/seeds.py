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
  seeds.py triggers PROTO OUT records of the trigger tables, built from
                              PROTO/patron/store/v1/triggers.proto (the
                              handler fixture defines no trigger rules, so
                              its store holds none) -> OUT/<kind>/
  seeds.py items PROTO OUT    items with loyalty terms (member tier, release
                              time, member prices up to and past the limit),
                              built from PROTO/patron/store/v1/store.proto
                              (the fixture's items have none) -> OUT/item/
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

PER_TARGET = 12
MAX_BYTES = 8192

# generic-table name -> fuzz_records kind (value only)
TABLE_KINDS = {"coupon": "coupon", "cbudget": "budget", "chist": "history",
               "cvel": "velocity", "coffer": "offer", "credeem": "redemption",
               "cmodel": "uplift_model", "cboost": "uplift_boosted",
               "exp_defs": "experiment"}
# store database -> fuzz_records kind (key length byte, key, value)
DB_KINDS = {"events": "event", "models": "model_header", "attrs": "attrs",
            "points": "points", "items": "item"}
# generic-table name -> fuzz_records kind (key length byte, row key, value)
KEYED_TABLE_KINDS = {"tlog": "trigger_log", "tmark": "trigger_mark",
                     "tstate": "trigger_state", "tdrop": "price_drop"}


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
                table, row = key.split(b"\0", 1)
                table = table.decode("ascii", "replace")
                if table in TABLE_KINDS:
                    kinds.setdefault(TABLE_KINDS[table], []).append(val)
                elif table in KEYED_TABLE_KINDS and len(row) < 64:
                    kinds.setdefault(KEYED_TABLE_KINDS[table], []).append(
                        bytes([len(row)]) + row + val)
            elif db in DB_KINDS and len(key) < 64:
                if db == "models" and (len(key) != 9 or key[8] != 0):
                    continue  # factor blobs, not the header record
                kinds.setdefault(DB_KINDS[db], []).append(bytes([len(key)]) + key + val)
    for kind in sorted(kinds):
        write(out, kind, spread(kinds[kind]))


def trigger_rows(t):
    """(kind, row key, message) of typical trigger records: a delivered
    cart trigger with items, recommendations, a coupon and a channel; a bare
    one (no coupon decision); marks of a logged and a suppressed firing;
    states with and without a tier; a price drop."""
    t0 = 1_700_000_000_000
    rid = "trg-0123456789abcdef"
    mark = b"c-17\0cart\0" + str(t0).encode()
    return [
        ("trigger_log", struct.pack(">Q", 7), t.TriggerRecord(
            seq=7, customer_id="c-17", rule="cart", kind=1, time_ms=t0 + 3_600_000,
            fired_ms=t0 + 3_601_000, reason="cart left 1 h without a purchase", key=str(t0),
            items=["garden-3", "garden-5"], recommended=["garden-7", "toys-1"],
            coupon_request_id=rid, coupon_id="spring-5", coupon_campaign="spring",
            coupon_outcome=0, coupon_reason="expected uplift above cost", channel=1,
            message_id=rid)),
        ("trigger_log", struct.pack(">Q", 1), t.TriggerRecord(
            seq=1, customer_id="c-18", rule="bday", kind=7, time_ms=t0, fired_ms=t0,
            reason="birthday on 2023-11-17, in 2 days", key="2023", coupon_outcome=-1)),
        ("trigger_mark", mark, t.TriggerMark(seq=7, time_ms=t0 + 3_600_000)),
        ("trigger_mark", b"c-19\0cart\0" + str(t0).encode(),
         t.TriggerMark(time_ms=t0, suppressed="no consent on any channel")),
        ("trigger_state", b"c-17", t.TriggerState(known=True, tier=2)),
        ("trigger_state", b"c-18", t.TriggerState(known=True, tier=-1)),
        ("price_drop", b"garden-3", t.PriceDrop(time_ms=t0, old_price=12.5, new_price=9.99)),
    ]


def triggers(proto, out):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["protoc", "-I", proto, "--python_out", tmp,
                        "patron/store/v1/triggers.proto"], check=True)
        sys.path.insert(0, tmp)
        from patron.store.v1 import triggers_pb2  # noqa: E402
        kinds = {}
        for kind, key, msg in trigger_rows(triggers_pb2):
            kinds.setdefault(kind, []).append(bytes([len(key)]) + key + msg.SerializeToString())
    for kind in sorted(kinds):
        write(out, kind, spread(kinds[kind]))


def items(proto, out):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["protoc", "-I", proto, "--python_out", tmp,
                        "patron/store/v1/store.proto"], check=True)
        sys.path.insert(0, tmp)
        from patron.store.v1 import store_pb2  # noqa: E402
        M = store_pb2
        rows = [
            M.Item(item_id="gold-only", title="Members' mug", category="kitchen", price=12.5,
                   unit_cost=4, in_stock=True, member_tier="gold"),
            M.Item(item_id="soon", price=30, in_stock=True, release_ms=1800000000000),
            M.Item(item_id="priced", price=10, in_stock=True,
                   member_prices=[M.MemberPrice(price_list="gold_prices", price=7.5),
                                  M.MemberPrice(price_list="silver_prices", price=9)]),
            M.Item(item_id="eight", price=10, member_tier="platinum", release_ms=1,
                   member_prices=[M.MemberPrice(price_list="l%d" % i, price=i)
                                  for i in range(8)]),
            M.Item(item_id="nine", price=10,  # one list too many: refused
                   member_prices=[M.MemberPrice(price_list="l%d" % i, price=i)
                                  for i in range(9)]),
        ]
        key = struct.pack(">I", 7)
        blobs = [bytes([len(key)]) + key + m.SerializeToString() for m in rows]
    write(out, "item", spread(blobs))


if __name__ == "__main__":
    commands = {"requests": requests, "records": records, "triggers": triggers,
                "items": items}
    if len(sys.argv) != 4 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2], sys.argv[3])
