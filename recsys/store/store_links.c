/*
 * store_links.c - customer links and the store's part of a merge
 * (store_links.h): resolving an id, moving a customer's events, points
 * ledger and attributes to another, and the link rows erasure removes.
 */
#include "store_links.h"
#include "store_internal.h"
#include "store_record.h"

#include <patron/store/v1/store.pb-c.h>

#include <stdlib.h>

#include "grow.h"

#define T_LINK "clink"
#define T_LINKED "clinked"
#define T_MERGE "cmerge"

/* ---- resolving ------------------------------------------------------------------ */

/* The survivor recorded for id into out: 1, or 0 when id has no link. */
static int link_get(store_tx_t *tx, const char *id, char *out)
{
    Patron__Store__V1__CustomerLink *m;
    int rc = store_tx_get_record(tx, T_LINK, id, strlen(id),
                                 &patron__store__v1__customer_link__descriptor,
                                 (ProtobufCMessage **)&m);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if (id_invalid(m->survivor))
        rc = store_record_bad(T_LINK, id, strlen(id), "survivor: not a customer id");
    else
        memcpy(out, m->survivor, strlen(m->survivor) + 1);
    store_record_free(&m->base);
    return rc ? rc : 1;
}

int store_tx_resolve_customer(store_tx_t *tx, const char *customer_id, char *out)
{
    int rc;
    if (!tx || !out || id_invalid(customer_id))
        return -EINVAL;
    memcpy(out, customer_id, strlen(customer_id) + 1);
    rc = link_get(tx, customer_id, out);
    if (rc < 0)
        memcpy(out, customer_id, strlen(customer_id) + 1);
    return rc;
}

typedef struct resolve_op {
    const char *id;
    char *out;
} resolve_op_t;

static int resolve_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    resolve_op_t *op = ctx;
    store_tx_t tx = { s, txn };
    return store_tx_resolve_customer(&tx, op->id, op->out);
}

int store_resolve_customer(store_t *s, const char *customer_id, char *out)
{
    resolve_op_t op = { customer_id, out };
    if (!s || !out || id_invalid(customer_id))
        return -EINVAL;
    return store_with_txn(s, 0, resolve_txn, &op);
}

int store_tx_same_customer(store_tx_t *tx, const char *a, const char *b)
{
    char ra[STORE_MAX_ID + 1], rb[STORE_MAX_ID + 1];
    int rc;
    if (!tx || !a || !b)
        return -EINVAL;
    if (strcmp(a, b) == 0)
        return 1;
    if ((rc = store_tx_resolve_customer(tx, a, ra)) < 0 ||
        (rc = store_tx_resolve_customer(tx, b, rb)) < 0)
        return rc;
    return strcmp(ra, rb) == 0;
}

int store_tx_customer_known(store_tx_t *tx, const char *customer_id)
{
    MDB_val k = val_str(customer_id), v;
    int rc;
    if (id_invalid(customer_id))
        return -EINVAL;
    rc = mdb_get(tx->txn, tx->s->customer_idx, &k, &v);
    if (rc == MDB_NOTFOUND)
        rc = mdb_get(tx->txn, tx->s->attrs, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? map_err(rc) : 1;
}

/* ---- the reverse list ------------------------------------------------------------- */

/* The ids linked to survivor: a malloc'd array of malloc'd strings. */
typedef struct id_list {
    char **id;
    size_t n, cap;
} id_list_t;

static void id_list_free(id_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->id[i]);
    free(l->id);
    memset(l, 0, sizeof *l);
}

static int id_list_add(id_list_t *l, const char *id)
{
    char *copy;
    if (GROW(l->id, l->cap, l->n + 1) || !(copy = strdup(id)))
        return -ENOMEM;
    l->id[l->n++] = copy;
    return 0;
}

static int linked_get(store_tx_t *tx, const char *survivor, id_list_t *l)
{
    Patron__Store__V1__LinkedIds *m;
    int rc = store_tx_get_record(tx, T_LINKED, survivor, strlen(survivor),
                                 &patron__store__v1__linked_ids__descriptor,
                                 (ProtobufCMessage **)&m);
    if (rc == -ENOENT)
        return 0;
    for (size_t i = 0; rc == 0 && i < m->n_merged; i++)
        rc = id_invalid(m->merged[i])
                 ? store_record_bad(T_LINKED, survivor, strlen(survivor),
                                    "merged: not a customer id")
                 : id_list_add(l, m->merged[i]);
    if (m)
        store_record_free(&m->base);
    return rc;
}

static int linked_put(store_tx_t *tx, const char *survivor, const id_list_t *l)
{
    Patron__Store__V1__LinkedIds m = PATRON__STORE__V1__LINKED_IDS__INIT;
    if (!l->n) {
        int rc = store_tx_del(tx, T_LINKED, survivor, strlen(survivor));
        return rc == -ENOENT ? 0 : rc;
    }
    m.n_merged = l->n;
    m.merged = l->id;
    return store_tx_put_record(tx, T_LINKED, survivor, strlen(survivor), &m.base);
}

int store_tx_linked_ids(store_tx_t *tx, const char *survivor, store_linked_fn cb,
                        void *ctx)
{
    id_list_t l = { 0 };
    int rc;
    if (!tx || !cb || id_invalid(survivor))
        return -EINVAL;
    rc = linked_get(tx, survivor, &l);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = cb(ctx, l.id[i]);
    id_list_free(&l);
    return rc;
}

typedef struct linked_op {
    const char *survivor;
    store_linked_fn cb;
    void *ctx;
} linked_op_t;

static int linked_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    linked_op_t *op = ctx;
    store_tx_t tx = { s, txn };
    return store_tx_linked_ids(&tx, op->survivor, op->cb, op->ctx);
}

int store_linked_ids(store_t *s, const char *survivor, store_linked_fn cb, void *ctx)
{
    linked_op_t op = { survivor, cb, ctx };
    if (!s || !cb || id_invalid(survivor))
        return -EINVAL;
    return store_with_txn(s, 0, linked_txn, &op);
}

static int link_put(store_tx_t *tx, const char *id, const char *survivor, int64_t ms)
{
    Patron__Store__V1__CustomerLink m = PATRON__STORE__V1__CUSTOMER_LINK__INIT;
    m.survivor = (char *)survivor;
    m.merged_ms = ms;
    return store_tx_put_record(tx, T_LINK, id, strlen(id), &m.base);
}

/* from -> into, and everything linked to from relinked to into. */
static int relink(store_tx_t *tx, const char *from, const char *into, int64_t now_ms,
                  uint64_t *rows)
{
    id_list_t moved = { 0 }, kept = { 0 };
    int rc = linked_get(tx, from, &moved);
    if (rc == 0)
        rc = linked_get(tx, into, &kept);
    for (size_t i = 0; rc == 0 && i < moved.n; i++) {
        if ((rc = link_put(tx, moved.id[i], into, now_ms)) == 0)
            rc = id_list_add(&kept, moved.id[i]);
        (*rows)++;
    }
    if (rc == 0 && (rc = link_put(tx, from, into, now_ms)) == 0)
        rc = id_list_add(&kept, from);
    if (rc == 0 && (rc = linked_put(tx, into, &kept)) == 0 && moved.n)
        rc = linked_put(tx, from, &(id_list_t){ 0 });
    *rows += 2;
    id_list_free(&moved);
    id_list_free(&kept);
    return rc;
}

/* ---- moving events ------------------------------------------------------------------ */

/* One event copied out of LMDB before the range is rewritten (a cursor
 * must not walk what it writes). */
typedef struct moved_event {
    int64_t time_ms;
    size_t len;
    unsigned char *rec;
} moved_event_t;

static void moved_free(moved_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ev[i].rec);
    free(ev);
}

static int collect_events(store_t *s, MDB_txn *txn, uint32_t idx, moved_event_t **out,
                          size_t *n)
{
    unsigned char prefix[4];
    MDB_cursor *cur;
    MDB_val k, v;
    size_t cap = 0;
    int rc, crc = 0, op = MDB_SET_RANGE;

    put_be32(prefix, idx);
    k = val_mem(prefix, 4);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        moved_event_t *e;
        op = MDB_NEXT;
        if (k.mv_size != EVENT_KEY_LEN || memcmp(k.mv_data, prefix, 4) != 0)
            break;
        if (v.mv_size < EVENT_REC_FIXED) {
            crc = -EIO;
            break;
        }
        if (GROW(*out, cap, *n + 1) || !((*out)[*n].rec = malloc(v.mv_size))) {
            crc = -ENOMEM;
            break;
        }
        e = &(*out)[(*n)++];
        e->time_ms = (int64_t)get_be64((const unsigned char *)k.mv_data + 4);
        e->len = v.mv_size;
        memcpy(e->rec, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    if (crc)
        return crc;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

static int delete_events(store_t *s, MDB_txn *txn, uint32_t idx)
{
    unsigned char prefix[4];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    put_be32(prefix, idx);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
        return map_err(rc);
    for (;;) {
        k = val_mem(prefix, 4);
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
            break;
        if (k.mv_size != EVENT_KEY_LEN || memcmp(k.mv_data, prefix, 4) != 0)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

/* Writes ev under customer `into` with fresh sequence numbers (in time
 * order, so keys keep it) and points each event id at its new key. */
static int rekey_events(store_t *s, MDB_txn *txn, uint32_t into, const moved_event_t *ev,
                        size_t n)
{
    uint64_t seq;
    int rc = store_meta_get_u64(txn, s->meta, "event_seq", &seq);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char key[EVENT_KEY_LEN];
        MDB_val k = val_mem(key, sizeof key), v = val_mem(ev[i].rec, ev[i].len), id;
        put_be32(key, into);
        put_be64(key + 4, (uint64_t)ev[i].time_ms);
        put_be64(key + 12, seq++);
        if ((rc = map_err(mdb_put(txn, s->events, &k, &v, 0))) != 0)
            break;
        id = val_mem(ev[i].rec + EVENT_REC_FIXED, store_event_id_len(&v));
        if (id.mv_size)
            rc = map_err(mdb_put(txn, s->event_ids, &id, &k, 0));
    }
    return rc ? rc : store_meta_put_u64(txn, s->meta, "event_seq", seq);
}

static int move_events(store_t *s, MDB_txn *txn, const char *from, const char *into,
                       custdata_merged_t *out)
{
    MDB_val k = val_str(from), v;
    moved_event_t *ev = NULL;
    uint32_t from_idx, into_idx;
    size_t n = 0;
    int rc = mdb_get(txn, s->customer_idx, &k, &v), created;

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || v.mv_size != 4)
        return rc ? map_err(rc) : -EIO;
    memcpy(&from_idx, v.mv_data, 4);
    if ((rc = collect_events(s, txn, from_idx, &ev, &n)) != 0 || n == 0) {
        moved_free(ev, n);
        return rc;
    }
    rc = store_intern_id(txn, s->customer_idx, s->customer_ids, s->meta, "next_customer",
                         into, &into_idx, &created);
    if (rc == 0)
        rc = delete_events(s, txn, from_idx);
    if (rc == 0)
        rc = rekey_events(s, txn, into_idx, ev, n);
    out->events += n;
    out->rows += n;
    moved_free(ev, n);
    return rc;
}

/* ---- points and attributes -------------------------------------------------------------- */

typedef struct ledger_row {
    char rid[STORE_MAX_ID + 1];
    store_points_entry_t e;
} ledger_row_t;

static int collect_points(store_t *s, MDB_txn *txn, const char *from, ledger_row_t **out,
                          size_t *n)
{
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t plen = store_points_key(prefix, from, NULL), cap = 0;
    MDB_cursor *cur;
    MDB_val k = val_mem(prefix, plen), v;
    int rc, crc = 0, op = MDB_SET_RANGE;

    if ((rc = mdb_cursor_open(txn, s->points, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        size_t rl = k.mv_size - plen;
        op = MDB_NEXT;
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (rl > STORE_MAX_ID) {
            crc = -EIO;
            break;
        }
        if (GROW(*out, cap, *n + 1)) {
            crc = -ENOMEM;
            break;
        }
        if ((crc = store_points_decode(&k, &v, &(*out)[*n].e)) != 0)
            break;
        memcpy((*out)[*n].rid, (const char *)k.mv_data + plen, rl);
        (*out)[(*n)++].rid[rl] = '\0';
    }
    mdb_cursor_close(cur);
    if (crc)
        return crc;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

/* Moves one entry (redemption or adjustment); one id on both ledgers keeps
 * both amounts, summed at the later of the two times, with into's other
 * fields (a retry of either is still a duplicate). */
static int move_redemption(store_t *s, MDB_txn *txn, const char *from, const char *into,
                           const ledger_row_t *r)
{
    unsigned char key[2 * STORE_MAX_ID + 2], rec[STORE_POINTS_REC_MAX];
    MDB_val k = val_mem(key, store_points_key(key, into, r->rid)), v;
    store_points_entry_t e = r->e, have;
    int rc = mdb_get(txn, s->points, &k, &v);

    if (rc == 0) {
        if ((rc = store_points_decode(&k, &v, &have)) != 0)
            return rc;
        have.points += e.points;
        have.adjust += e.adjust;
        if (e.time_ms > have.time_ms)
            have.time_ms = e.time_ms;
        e = have;
    } else if (rc != MDB_NOTFOUND) {
        return map_err(rc);
    }
    v = val_mem(rec, store_points_encode(&e, rec));
    if ((rc = map_err(mdb_put(txn, s->points, &k, &v, 0))) != 0)
        return rc;
    k = val_mem(key, store_points_key(key, from, r->rid));
    return map_err(mdb_del(txn, s->points, &k, NULL));
}

static int move_points(store_t *s, MDB_txn *txn, const char *from, const char *into,
                       custdata_merged_t *out)
{
    ledger_row_t *rows = NULL;
    size_t n = 0;
    int rc = collect_points(s, txn, from, &rows, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = move_redemption(s, txn, from, into, &rows[i]);
    out->rows += n;
    free(rows);
    return rc;
}

static int attrs_read(store_t *s, MDB_txn *txn, const char *id, store_attrs_t *a)
{
    MDB_val k = val_str(id), v;
    int rc = mdb_get(txn, s->attrs, &k, &v);
    if (rc)
        return map_err(rc);
    return store_attrs_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, a);
}

/* into's attributes win field by field; unknown ones come from `from`. */
static void attrs_combine(store_attrs_t *into, const store_attrs_t *from)
{
    if (from->signup_ms && (!into->signup_ms || from->signup_ms < into->signup_ms))
        into->signup_ms = from->signup_ms;
    if (!into->birth_month && !into->birth_day) {
        into->birth_month = from->birth_month;
        into->birth_day = from->birth_day;
    }
    if (!into->region[0])
        memcpy(into->region, from->region, sizeof into->region);
}

static int move_attrs(store_t *s, MDB_txn *txn, const char *from, const char *into,
                      custdata_merged_t *out)
{
    Patron__Store__V1__CustomerAttributes m = PATRON__STORE__V1__CUSTOMER_ATTRIBUTES__INIT;
    store_attrs_t a, b;
    MDB_val k = val_str(from), v;
    void *buf = NULL;
    int rc = attrs_read(s, txn, from, &a);

    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if ((rc = attrs_read(s, txn, into, &b)) == 0)
        attrs_combine(&b, &a);
    else if (rc == -ENOENT)
        b = a;
    else
        return rc;
    if ((rc = map_err(mdb_del(txn, s->attrs, &k, NULL))) != 0)
        return rc;
    m.signup_ms = b.signup_ms;
    m.birth_month = b.birth_month;
    m.birth_day = b.birth_day;
    m.region = b.region;
    if ((rc = store_record_pack(&m.base, &buf, &v.mv_size)) != 0)
        return rc;
    v.mv_data = buf;
    k = val_str(into);
    rc = map_err(mdb_put(txn, s->attrs, &k, &v, 0));
    free(buf);
    out->rows++;
    return rc;
}

int store_tx_merge_customer(store_tx_t *tx, const char *from_id, const char *into_id,
                            int64_t now_ms, custdata_merged_t *out)
{
    store_t *s = tx ? tx->s : NULL;
    int rc;

    if (!tx || !out || id_invalid(from_id) || id_invalid(into_id) ||
        strcmp(from_id, into_id) == 0)
        return -EINVAL;
    if ((rc = move_events(s, tx->txn, from_id, into_id, out)) != 0 ||
        (rc = move_points(s, tx->txn, from_id, into_id, out)) != 0 ||
        (rc = move_attrs(s, tx->txn, from_id, into_id, out)) != 0)
        return rc;
    return relink(tx, from_id, into_id, now_ms, &out->rows);
}

/* ---- erasure ------------------------------------------------------------------------------ */

static int list_remove(store_tx_t *tx, const char *survivor, const char *id)
{
    id_list_t l = { 0 }, kept = { 0 };
    int rc = linked_get(tx, survivor, &l);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        if (strcmp(l.id[i], id) != 0)
            rc = id_list_add(&kept, l.id[i]);
    if (rc == 0)
        rc = linked_put(tx, survivor, &kept);
    id_list_free(&l);
    id_list_free(&kept);
    return rc;
}

/* Merge requests naming the id: found by a scan (erasure is rare). */
typedef struct naming {
    const char *id;
    id_list_t keys;
} naming_t;

static int request_names(void *ctx, const void *key, size_t klen, const void *val,
                         size_t vlen)
{
    naming_t *nm = ctx;
    Patron__Store__V1__MergeRequest *m;
    char k[STORE_MAX_TABLE_KEY + 1];
    int rc = store_record_unpack(&patron__store__v1__merge_request__descriptor, T_MERGE,
                                 key, klen, val, vlen, (ProtobufCMessage **)&m), hit;
    if (rc)
        return rc;
    hit = strcmp(m->source, nm->id) == 0 || strcmp(m->target, nm->id) == 0 ||
          strcmp(m->survivor, nm->id) == 0;
    store_record_free(&m->base);
    if (!hit || klen > STORE_MAX_TABLE_KEY)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    return id_list_add(&nm->keys, k);
}

int store_tx_erase_links(store_tx_t *tx, const char *customer_id, uint64_t *rows)
{
    char survivor[STORE_MAX_ID + 1];
    naming_t nm = { customer_id, { 0 } };
    int rc = link_get(tx, customer_id, survivor);

    if (rc == 1) {
        if ((rc = store_tx_del(tx, T_LINK, customer_id, strlen(customer_id))) == 0)
            rc = list_remove(tx, survivor, customer_id);
        (*rows)++;
    }
    if (rc < 0)
        return rc;
    rc = store_tx_del(tx, T_LINKED, customer_id, strlen(customer_id));
    if (rc == 0)
        (*rows)++;
    else if (rc != -ENOENT)
        return rc;
    rc = store_tx_scan(tx, T_MERGE, NULL, 0, request_names, &nm);
    for (size_t i = 0; rc == 0 && i < nm.keys.n; i++)
        rc = store_tx_del(tx, T_MERGE, nm.keys.id[i], strlen(nm.keys.id[i]));
    *rows += nm.keys.n;
    id_list_free(&nm.keys);
    return rc;
}

/* ---- merge requests ------------------------------------------------------------------------ */

int store_tx_merge_request_get(store_tx_t *tx, const char *request_id,
                               store_merge_request_t *out)
{
    Patron__Store__V1__MergeRequest *m;
    int rc;
    if (!tx || !out || id_invalid(request_id))
        return -EINVAL;
    rc = store_tx_get_record(tx, T_MERGE, request_id, strlen(request_id),
                             &patron__store__v1__merge_request__descriptor,
                             (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    if (!store_record_copy_str(out->source, sizeof out->source, m->source) ||
        !store_record_copy_str(out->target, sizeof out->target, m->target) ||
        !store_record_copy_str(out->survivor, sizeof out->survivor, m->survivor))
        rc = store_record_bad(T_MERGE, request_id, strlen(request_id),
                              "customer id longer than 256 bytes");
    out->events_moved = m->events_moved;
    out->rows_moved = m->rows_moved;
    out->already_merged = m->already_merged;
    out->merged_ms = m->merged_ms;
    store_record_free(&m->base);
    return rc;
}

int store_tx_merge_request_put(store_tx_t *tx, const char *request_id,
                               const store_merge_request_t *r)
{
    Patron__Store__V1__MergeRequest m = PATRON__STORE__V1__MERGE_REQUEST__INIT;
    if (!tx || !r || id_invalid(request_id))
        return -EINVAL;
    m.source = (char *)r->source;
    m.target = (char *)r->target;
    m.survivor = (char *)r->survivor;
    m.events_moved = r->events_moved;
    m.rows_moved = r->rows_moved;
    m.already_merged = r->already_merged != 0;
    m.merged_ms = r->merged_ms;
    return store_tx_put_record(tx, T_MERGE, request_id, strlen(request_id), &m.base);
}
