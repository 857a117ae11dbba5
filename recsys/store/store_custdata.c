/*
 * store_custdata.c - the store's part of the customer-data registry
 * (store_custdata.h): erasure inside the caller's transaction, export
 * through the store's reads, and the debug iterator over every database.
 *
 * What the store keeps about a customer (layout in store.c):
 *   customer_idx / customer_ids   id <-> dense index
 *   events, event_ids             the history and its idempotency keys
 *   attrs, points                 attributes, the points ledger
 *   models                        the customer's row of the user factors
 * Erasure deletes all of it except the factor row, which is zeroed: the
 * blob is one array indexed by dense index.
 */
#include "store_custdata.h"
#include "store_internal.h"
#include "store_links.h"

#include <stdlib.h>

#include "grow.h"

/* ---- erasure ---------------------------------------------------------------- */

/* Deletes every key of dbi starting with prefix[0..plen). */
static int delete_prefix(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t plen,
                         MDB_dbi ids_dbi, uint64_t *count)
{
    MDB_cursor *cur;
    MDB_val k = val_mem(prefix, plen), v;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) == 0) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (ids_dbi != (MDB_dbi)-1 && v.mv_size > EVENT_REC_FIXED) {
            /* events: also forget the event id (idempotency key) */
            MDB_val id = val_mem((const char *)v.mv_data + EVENT_REC_FIXED,
                                 store_event_id_len(&v));
            rc = mdb_del(txn, ids_dbi, &id, NULL);
            if (rc && rc != MDB_NOTFOUND)
                break;
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        (*count)++;
        k = val_mem(prefix, plen);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

/* Rewrites the user factor blob at uk with row idx zeroed (LMDB values are
 * read-only in place). */
static int zero_row(MDB_txn *txn, MDB_dbi models, MDB_val *uk, const MDB_val *uv,
                    size_t row, size_t row_bytes)
{
    MDB_val nv = { uv->mv_size, NULL };
    unsigned char *copy = malloc(uv->mv_size);
    int rc;
    if (!copy)
        return ENOMEM;
    memcpy(copy, uv->mv_data, uv->mv_size);
    memset(copy + row, 0, row_bytes);
    nv.mv_data = copy;
    rc = mdb_put(txn, models, uk, &nv, 0);
    free(copy);
    return rc;
}

/* Zeroes row idx of the user factors of every stored model version; *count
 * gets the versions rewritten. */
static int zero_factors(store_t *s, MDB_txn *txn, uint32_t idx, uint64_t *count)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, s->models, &cur), op = MDB_FIRST;
    if (rc)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_model_hdr_t hdr;
        unsigned char key[9];
        MDB_val uk, uv;
        size_t row, row_bytes;
        op = MDB_NEXT;
        if (k.mv_size != 9 || ((unsigned char *)k.mv_data)[8] != MODEL_PART_HDR)
            continue;
        if ((rc = store_model_hdr_decode(&k, &v, &hdr)) != 0)
            break;
        if (idx >= hdr.n_users)
            continue;
        uk = store_model_key(key, hdr.version, MODEL_PART_USER);
        if ((rc = mdb_get(txn, s->models, &uk, &uv)) != 0)
            break;
        row_bytes = hdr.factors * sizeof(float);
        row = (size_t)idx * row_bytes;
        if (uv.mv_size < row + row_bytes) {
            rc = EIO;
            break;
        }
        if ((rc = zero_row(txn, s->models, &uk, &uv, row, row_bytes)) != 0)
            break;
        (*count)++;
        /* mdb_put moved the cursor's page: re-seek past this version. */
        k = store_model_key(key, hdr.version, MODEL_PART_POP);
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
            break;
        op = MDB_NEXT;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc < 0 ? rc : map_err(rc);
}

/* The customer's events, their ids, factor rows and id mappings. */
static int erase_indexed(store_t *s, MDB_txn *txn, MDB_val *id, uint32_t idx,
                         custdata_erased_t *out)
{
    unsigned char ikey[4];
    MDB_val ik = val_mem(ikey, 4);
    uint64_t events = 0;
    int rc;

    put_be32(ikey, idx);
    if ((rc = delete_prefix(txn, s->events, ikey, 4, s->event_ids, &events)) ||
        (rc = zero_factors(s, txn, idx, &out->rows)))
        return rc;
    out->events += events;
    out->rows += events;
    rc = mdb_del(txn, s->customer_ids, &ik, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return map_err(rc);
    if ((rc = mdb_del(txn, s->customer_idx, id, NULL)) != 0)
        return map_err(rc);
    out->rows += 2;
    out->had_index = 1;
    out->index = idx;
    return 0;
}

int store_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                            custdata_erased_t *out)
{
    store_t *s = tx ? tx->s : NULL;
    unsigned char pkey[STORE_MAX_ID + 1];
    MDB_val k, v;
    int rc;

    if (!tx || !out || id_invalid(customer_id))
        return -EINVAL;
    k = val_str(customer_id);
    rc = mdb_get(tx->txn, s->customer_idx, &k, &v);
    if (rc == 0 && v.mv_size == 4) {
        uint32_t idx;
        memcpy(&idx, v.mv_data, 4);
        if ((rc = erase_indexed(s, tx->txn, &k, idx, out)) != 0)
            return rc;
    } else if (rc && rc != MDB_NOTFOUND) {
        return map_err(rc);
    }
    rc = mdb_del(tx->txn, s->attrs, &k, NULL);
    if (rc == 0)
        out->rows++;
    else if (rc != MDB_NOTFOUND)
        return map_err(rc);
    rc = delete_prefix(tx->txn, s->points, pkey,
                       store_points_key(pkey, customer_id, NULL), (MDB_dbi)-1,
                       &out->rows);
    return rc ? rc : store_tx_erase_links(tx, customer_id, &out->rows);
}

/* ---- reads for export --------------------------------------------------------- */

typedef struct points_op {
    const char *customer;
    store_points_fn cb;
    void *ctx;
} points_op_t;

static int points_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    points_op_t *op = ctx;
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t plen = store_points_key(prefix, op->customer, NULL);
    MDB_cursor *cur;
    MDB_val k = val_mem(prefix, plen), v;
    int rc, crc = 0, mop = MDB_SET_RANGE;

    if ((rc = mdb_cursor_open(txn, s->points, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, mop)) == 0) {
        char rid[STORE_MAX_ID + 1];
        store_points_entry_t e;
        store_export_points_t p = { rid, 0, 0, &e };
        size_t n = k.mv_size - plen;
        mop = MDB_NEXT;
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (n > STORE_MAX_ID) {
            crc = -EIO;
            break;
        }
        if ((crc = store_points_decode(&k, &v, &e)) != 0)
            break;
        p.points = e.points;
        p.time_ms = e.time_ms;
        memcpy(rid, (const char *)k.mv_data + plen, n);
        rid[n] = '\0';
        if ((crc = op->cb(op->ctx, &p)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (crc)
        return crc;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

int store_scan_points(store_t *s, const char *customer_id, store_points_fn cb, void *ctx)
{
    points_op_t op = { customer_id, cb, ctx };
    if (!s || !cb || id_invalid(customer_id))
        return -EINVAL;
    return store_with_txn(s, 0, points_txn, &op);
}

/* ---- export --------------------------------------------------------------------- */

typedef struct export_ctx {
    store_t *s;
    custdata_emit_fn emit;
    void *sink;
} export_ctx_t;

/* One customer's events with their ids, read in one transaction; item ids
 * are looked up after it (a thread holds one read transaction at a time). */
typedef struct id_event {
    store_event_rec_t rec;
    char id[STORE_MAX_ID + 1];
    char *category;  /* malloc'd, a category's not_interested only */
} id_event_t;

static void id_events_free(id_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ev[i].category);
    free(ev);
}

typedef struct id_events {
    uint32_t customer;
    id_event_t *ev;
    size_t n, cap;
} id_events_t;

static int id_events_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    id_events_t *l = ctx;
    unsigned char prefix[4];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, crc = 0, op = MDB_SET_RANGE;

    put_be32(prefix, l->customer);
    k = val_mem(prefix, 4);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        id_event_t *e;
        size_t n, cat_len;
        const char *cat;
        op = MDB_NEXT;
        if (k.mv_size < 4 || memcmp(k.mv_data, prefix, 4) != 0)
            break;
        if (GROW(l->ev, l->cap, l->n + 1)) {
            crc = -ENOMEM;
            break;
        }
        e = &l->ev[l->n];
        e->category = NULL;
        if ((crc = store_event_decode(&k, &v, &e->rec)) != 0)
            break;
        if ((n = store_event_id_len(&v)) > STORE_MAX_ID) {
            crc = -EIO;
            break;
        }
        memcpy(e->id, (const char *)v.mv_data + EVENT_REC_FIXED, n);
        e->id[n] = '\0';
        if ((cat = store_event_category(&v, &cat_len)) != NULL) {
            if (!(e->category = malloc(cat_len + 1))) {
                crc = -ENOMEM;
                break;
            }
            memcpy(e->category, cat, cat_len);
            e->category[cat_len] = '\0';
        }
        l->n++;
    }
    mdb_cursor_close(cur);
    if (crc)
        return crc;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

static int export_events(store_t *s, uint32_t customer, custdata_emit_fn emit, void *sink)
{
    id_events_t l = { customer, NULL, 0, 0 };
    int rc = store_with_txn(s, 0, id_events_txn, &l);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const store_event_rec_t *r = &l.ev[i].rec;
        char item[STORE_MAX_ID + 1] = "";
        store_export_event_t e = { l.ev[i].id, item, r->type, r->time_ms, r->quantity,
                                   r->unit_price,
                                   l.ev[i].category ? l.ev[i].category : "" };
        if (r->item == STORE_NO_ITEM ||
            (rc = store_item_id(s, r->item, item, sizeof item)) == 0)
            rc = emit(sink, CUSTDATA_EVENT, &e);
    }
    id_events_free(l.ev, l.n);
    return rc;
}

static int export_points(void *ctx, const store_export_points_t *p)
{
    export_ctx_t *x = ctx;
    return x->emit(x->sink, CUSTDATA_POINTS, p);
}

static int store_export(void *ctx, store_t *s, const char *customer_id,
                        custdata_emit_fn emit, void *sink)
{
    export_ctx_t x = { s, emit, sink };
    store_attrs_t attrs;
    uint32_t idx;
    int rc = store_customer_index(s, customer_id, &idx);

    (void)ctx;
    if (rc == 0)
        rc = export_events(s, idx, emit, sink);
    if (rc && rc != -ENOENT)
        return rc;
    rc = store_get_attrs(s, customer_id, &attrs);
    if (rc == 0)
        rc = emit(sink, CUSTDATA_ATTRS, &attrs);
    if (rc && rc != -ENOENT)
        return rc;
    return store_scan_points(s, customer_id, export_points, &x);
}

static int store_erase(void *ctx, store_tx_t *tx, const char *customer_id,
                       custdata_erased_t *out)
{
    (void)ctx;
    return store_tx_erase_customer(tx, customer_id, out);
}

static int store_merge(void *ctx, store_tx_t *tx, const char *from_id, const char *into_id,
                       int64_t now_ms, custdata_merged_t *out)
{
    (void)ctx;
    return store_tx_merge_customer(tx, from_id, into_id, now_ms, out);
}

custdata_owner_t store_custdata_owner(void)
{
    custdata_owner_t o = { .name = "store", .erase = store_erase,
                           .merge = store_merge, .export_rows = store_export };
    return o;
}

/* ---- debugging ------------------------------------------------------------------- */

typedef struct debug_op {
    store_debug_visit_fn visit;
    void *ctx;
} debug_op_t;

static int debug_scan_db(MDB_txn *txn, MDB_dbi dbi, const char *name, debug_op_t *op)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, vrc = 0, mop = MDB_FIRST;
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, mop)) == 0) {
        mop = MDB_NEXT;
        if ((vrc = op->visit(op->ctx, name, k.mv_data, k.mv_size, v.mv_data,
                             v.mv_size)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (vrc)
        return vrc;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

/* The unnamed database lists the named ones: keys are their names. Opening
 * each by name (rather than using store_t's handles) also finds databases a
 * later or earlier release created. mdb_dbi_open in a read transaction:
 * LMDB allows one such transaction at a time per process, hence the
 * restriction in the header. */
static int debug_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    debug_op_t *op = ctx;
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_dbi main_db;
    int rc, mop = MDB_FIRST;
    (void)s;

    if ((rc = mdb_dbi_open(txn, NULL, 0, &main_db)) != 0 ||
        (rc = mdb_cursor_open(txn, main_db, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, mop)) == 0) {
        char name[256];
        MDB_dbi dbi;
        int drc;
        mop = MDB_NEXT;
        if (k.mv_size == 0 || k.mv_size >= sizeof name) {
            mdb_cursor_close(cur);
            return -EIO;
        }
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        /* The store writes nothing else to the main database: every key is
         * a database, and one that cannot be opened is an error, not a
         * database silently left out of the scan. */
        if ((drc = map_err(mdb_dbi_open(txn, name, 0, &dbi))) != 0 ||
            (drc = debug_scan_db(txn, dbi, name, op)) != 0) {
            mdb_cursor_close(cur);
            return drc;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

int store_debug_scan_all(store_t *s, store_debug_visit_fn visit, void *ctx)
{
    debug_op_t op = { visit, ctx };
    if (!s || !visit)
        return -EINVAL;
    return store_with_txn(s, 0, debug_txn, &op);
}
