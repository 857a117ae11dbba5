/*
 * store_customers.c - customer ids and attributes (the points ledger is
 * store_points.c; see store.h for the contract, store.c for the layout).
 */
#include "store_internal.h"
#include "store_links.h"
#include "store_record.h"

#include <patron/store/v1/store.pb-c.h>

#include <stdlib.h>

/* ---- customer ids, attributes, points ------------------------------ */

typedef struct id_lookup {
    uint32_t idx;
    char *buf;
    size_t cap;
} id_lookup_t;

static int customer_id_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    id_lookup_t *l = ctx;
    unsigned char key[4];
    MDB_val k = val_mem(key, 4), v;
    int rc;
    put_be32(key, l->idx);
    if ((rc = mdb_get(txn, s->customer_ids, &k, &v)) != 0)
        return map_err(rc);
    if (v.mv_size >= l->cap)
        return -EINVAL;
    memcpy(l->buf, v.mv_data, v.mv_size);
    l->buf[v.mv_size] = '\0';
    return 0;
}

int store_customer_id(store_t *s, uint32_t idx, char *buf, size_t cap)
{
    id_lookup_t l = { idx, buf, cap };
    if (!buf || !cap)
        return -EINVAL;
    return store_with_txn(s, 0, customer_id_txn, &l);
}

const char *store_attrs_invalid(const store_attrs_t *a)
{
    static const uint8_t days[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (a->signup_ms < 0)
        return "signup_unix_ms: must be >= 0 (0 = unknown)";
    if (a->birth_month > 12)
        return "birth_month: must be 1..12 (0 = unknown)";
    if (a->birth_day > (a->birth_month ? days[a->birth_month] : 0))
        return "birth_day: not a day of birth_month (0 = unknown)";
    if (memchr(a->region, '\0', sizeof a->region) == NULL)
        return "region: longer than 64 bytes";
    return NULL;
}

typedef struct attr_page {
    const char *after;
    char (*ids)[STORE_MAX_ID + 1];
    size_t cap, n;
} attr_page_t;

static int has_index(store_t *s, MDB_txn *txn, MDB_val *id)
{
    MDB_val v;
    return mdb_get(txn, s->customer_idx, id, &v) == 0;
}

static int attr_page_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    attr_page_t *p = ctx;
    MDB_cursor *cur;
    MDB_val k = val_str(p->after), v;
    int rc = mdb_cursor_open(txn, s->attrs, &cur);

    if (rc)
        return map_err(rc);
    rc = mdb_cursor_get(cur, &k, &v, p->after[0] ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == 0 && p->after[0] && k.mv_size == strlen(p->after) &&
        memcmp(k.mv_data, p->after, k.mv_size) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    for (; rc == 0 && p->n < p->cap; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size > STORE_MAX_ID || has_index(s, txn, &k))
            continue;
        memcpy(p->ids[p->n], k.mv_data, k.mv_size);
        p->ids[p->n++][k.mv_size] = '\0';
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_attr_only_customers(store_t *s, const char *after,
                              char (*ids)[STORE_MAX_ID + 1], size_t cap, size_t *n)
{
    attr_page_t p = { after ? after : "", ids, cap, 0 };
    int rc;
    if (!s || !ids || !cap || !n || strlen(p.after) > STORE_MAX_ID)
        return -EINVAL;
    rc = store_with_txn(s, 0, attr_page_txn, &p);
    *n = rc == 0 ? p.n : 0;
    return rc;
}

typedef struct attrs_op {
    const char *id;
    store_attrs_t *attrs;
} attrs_op_t;

/* attrs values are patron.store.v1.CustomerAttributes records. */
static int set_attrs_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    attrs_op_t *op = ctx;
    Patron__Store__V1__CustomerAttributes m = PATRON__STORE__V1__CUSTOMER_ATTRIBUTES__INIT;
    store_tx_t tx = { s, txn };
    char who[STORE_MAX_ID + 1];
    MDB_val k, v;
    void *buf = NULL;
    int rc;

    /* An id merged away sets the survivor's attributes (store_links.h). */
    if ((rc = store_tx_resolve_customer(&tx, op->id, who)) < 0)
        return rc;
    k = val_str(who);
    m.signup_ms = op->attrs->signup_ms;
    m.birth_month = op->attrs->birth_month;
    m.birth_day = op->attrs->birth_day;
    m.region = op->attrs->region;
    if ((rc = store_record_pack(&m.base, &buf, &v.mv_size)) != 0)
        return rc;
    v.mv_data = buf;
    rc = map_err(mdb_put(txn, s->attrs, &k, &v, 0));
    free(buf);
    return rc;
}

int store_attrs_decode(const void *key, size_t klen, const void *val, size_t vlen,
                       store_attrs_t *a)
{
    Patron__Store__V1__CustomerAttributes *m;
    int rc = store_record_unpack(&patron__store__v1__customer_attributes__descriptor,
                                 "attrs", key, klen, val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    memset(a, 0, sizeof *a);
    a->signup_ms = m->signup_ms;
    a->birth_month = (uint8_t)m->birth_month;
    a->birth_day = (uint8_t)m->birth_day;
    if (strlen(m->region) < sizeof a->region)
        memcpy(a->region, m->region, strlen(m->region) + 1);
    else
        rc = -EBADMSG;
    if (rc == 0 && (m->birth_month > 12 || m->birth_day > 31 || store_attrs_invalid(a)))
        rc = -EBADMSG;
    store_record_free(&m->base);
    return rc ? store_record_bad("attrs", key, klen, "attributes out of bounds") : 0;
}

static int get_attrs_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    attrs_op_t *op = ctx;
    MDB_val k = val_str(op->id), v;
    int rc = mdb_get(txn, s->attrs, &k, &v);
    if (rc)
        return map_err(rc);
    return store_attrs_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, op->attrs);
}

int store_set_attrs(store_t *s, const char *customer_id, const store_attrs_t *a)
{
    store_attrs_t copy = *a;
    attrs_op_t op = { customer_id, &copy };
    if (id_write_invalid(customer_id) || store_attrs_invalid(a))
        return -EINVAL;
    return store_with_txn(s, 1, set_attrs_txn, &op);
}

int store_get_attrs(store_t *s, const char *customer_id, store_attrs_t *a)
{
    attrs_op_t op = { customer_id, a };
    if (id_invalid(customer_id))
        return -ENOENT;
    return store_with_txn(s, 0, get_attrs_txn, &op);
}

