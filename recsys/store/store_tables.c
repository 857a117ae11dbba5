/*
 * store_tables.c - small blobs, the generic tables and their retention
 * (see store.h for the contract, store.c for the layout).
 */
#include "store_internal.h"
#include "grow.h"

#include <stdlib.h>

/* ---- blobs ------------------------------------------------------------------- */

typedef struct blob_op {
    const char *key;
    void *buf;
    size_t len, cap;
} blob_op_t;

static int put_blob_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    blob_op_t *op = ctx;
    MDB_val k = val_str(op->key), v = val_mem(op->buf, op->len);
    return map_err(mdb_put(txn, s->blobs, &k, &v, 0));
}

static int get_blob_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    blob_op_t *op = ctx;
    MDB_val k = val_str(op->key), v;
    int rc = mdb_get(txn, s->blobs, &k, &v);
    if (rc)
        return map_err(rc);
    op->len = v.mv_size;
    if (v.mv_size > op->cap)
        return -EINVAL;
    memcpy(op->buf, v.mv_data, v.mv_size);
    return 0;
}

int store_put_blob(store_t *s, const char *key, const void *data, size_t len)
{
    blob_op_t op = { key, (void *)data, len, len };
    if (id_invalid(key))
        return -EINVAL;
    return store_with_txn(s, 1, put_blob_txn, &op);
}

int store_get_blob(store_t *s, const char *key, void *buf, size_t cap, size_t *len)
{
    blob_op_t op = { key, buf, 0, cap };
    int rc;
    if (id_invalid(key))
        return -EINVAL;
    rc = store_with_txn(s, 0, get_blob_txn, &op);
    if (len)
        *len = op.len;
    return rc;
}

/* ---- tables ------------------------------------------------------------------- */

enum { TABLE_NAME_MAX = 32 };

/* Builds "table NUL key" into buf; returns its length or 0 if invalid. */
static size_t table_key(unsigned char *buf, const char *table, const void *key, size_t klen)
{
    size_t tl = table ? strlen(table) : 0;
    if (tl == 0 || tl > TABLE_NAME_MAX || klen > STORE_MAX_TABLE_KEY || (klen && !key))
        return 0;
    memcpy(buf, table, tl);
    buf[tl] = '\0';
    if (klen)
        memcpy(buf + tl + 1, key, klen);
    return tl + 1 + klen;
}

int store_tx_get_ref(store_tx_t *tx, const char *table, const void *key, size_t klen,
                     const void **val, size_t *vlen)
{
    unsigned char kb[TABLE_NAME_MAX + 1 + STORE_MAX_TABLE_KEY];
    size_t kl = klen ? table_key(kb, table, key, klen) : 0;
    MDB_val k = val_mem(kb, kl), v;
    int rc;
    if (!kl)
        return -EINVAL;
    if ((rc = mdb_get(tx->txn, tx->s->tables, &k, &v)) != 0)
        return map_err(rc);
    *val = v.mv_data;
    *vlen = v.mv_size;
    return 0;
}

int store_tx_get(store_tx_t *tx, const char *table, const void *key, size_t klen,
                 void *buf, size_t cap, size_t *vlen)
{
    const void *val;
    size_t n;
    int rc = store_tx_get_ref(tx, table, key, klen, &val, &n);
    if (rc)
        return rc;
    if (vlen)
        *vlen = n;
    if (n > cap)
        return -EINVAL;
    memcpy(buf, val, n);
    return 0;
}

int store_tx_put(store_tx_t *tx, const char *table, const void *key, size_t klen,
                 const void *val, size_t vlen)
{
    unsigned char kb[TABLE_NAME_MAX + 1 + STORE_MAX_TABLE_KEY];
    size_t kl = klen ? table_key(kb, table, key, klen) : 0;
    MDB_val k = val_mem(kb, kl), v = val_mem(val, vlen);
    if (!kl || vlen > ((size_t)16 << 20))
        return -EINVAL;
    return map_err(mdb_put(tx->txn, tx->s->tables, &k, &v, 0));
}

int store_tx_del(store_tx_t *tx, const char *table, const void *key, size_t klen)
{
    unsigned char kb[TABLE_NAME_MAX + 1 + STORE_MAX_TABLE_KEY];
    size_t kl = klen ? table_key(kb, table, key, klen) : 0;
    MDB_val k = val_mem(kb, kl);
    if (!kl)
        return -EINVAL;
    return map_err(mdb_del(tx->txn, tx->s->tables, &k, NULL));
}

typedef struct atomic_op {
    int (*fn)(store_tx_t *, void *);
    void *ctx;
} atomic_op_t;

static int atomic_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    atomic_op_t *op = ctx;
    store_tx_t tx = { s, txn };
    return op->fn(&tx, op->ctx);
}

int store_table_atomic(store_t *s, int (*fn)(store_tx_t *tx, void *ctx), void *ctx)
{
    atomic_op_t op = { fn, ctx };
    return store_group_write(s, atomic_txn, &op, 0);
}

typedef struct kv_op {
    const char *table;
    const void *key, *val;
    size_t klen, vlen;
    void *out;
    size_t out_len;
} kv_op_t;

static int put_fn(store_tx_t *tx, void *ctx)
{
    kv_op_t *op = ctx;
    return store_tx_put(tx, op->table, op->key, op->klen, op->val, op->vlen);
}

static int del_fn(store_tx_t *tx, void *ctx)
{
    kv_op_t *op = ctx;
    return store_tx_del(tx, op->table, op->key, op->klen);
}

static int get_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    kv_op_t *op = ctx;
    unsigned char kb[TABLE_NAME_MAX + 1 + STORE_MAX_TABLE_KEY];
    size_t kl = op->klen ? table_key(kb, op->table, op->key, op->klen) : 0;
    MDB_val k = val_mem(kb, kl), v;
    int rc;
    if (!kl)
        return -EINVAL;
    if ((rc = mdb_get(txn, s->tables, &k, &v)) != 0)
        return map_err(rc);
    if (!(op->out = malloc(v.mv_size ? v.mv_size : 1)))
        return -ENOMEM;
    memcpy(op->out, v.mv_data, v.mv_size);
    op->out_len = v.mv_size;
    return 0;
}

int store_table_put(store_t *s, const char *table, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    kv_op_t op = { table, key, val, klen, vlen, NULL, 0 };
    return store_table_atomic(s, put_fn, &op);
}

int store_table_get(store_t *s, const char *table, const void *key, size_t klen,
                    void **val, size_t *vlen)
{
    kv_op_t op = { table, key, NULL, klen, 0, NULL, 0 };
    int rc = store_with_txn(s, 0, get_txn, &op);
    *val = rc == 0 ? op.out : NULL;
    if (vlen)
        *vlen = op.out_len;
    return rc;
}

int store_table_del(store_t *s, const char *table, const void *key, size_t klen)
{
    kv_op_t op = { table, key, NULL, klen, 0, NULL, 0 };
    return store_table_atomic(s, del_fn, &op);
}

typedef struct scan_op {
    const char *table;
    const void *prefix;
    size_t plen;
    store_table_visit_fn visit;
    void *ctx;
} scan_op_t;

static int scan_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    scan_op_t *op = ctx;
    unsigned char kb[TABLE_NAME_MAX + 1 + STORE_MAX_TABLE_KEY];
    size_t tl = strlen(op->table ? op->table : ""), kl;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, vrc = 0, mop = MDB_SET_RANGE;

    if (tl == 0 || tl > TABLE_NAME_MAX || op->plen > STORE_MAX_TABLE_KEY)
        return -EINVAL;
    memcpy(kb, op->table, tl);
    kb[tl] = '\0';
    if (op->plen)
        memcpy(kb + tl + 1, op->prefix, op->plen);
    kl = tl + 1 + op->plen;
    k = val_mem(kb, kl);
    if ((rc = mdb_cursor_open(txn, s->tables, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, mop)) == 0) {
        mop = MDB_NEXT;
        if (k.mv_size < kl || memcmp(k.mv_data, kb, kl) != 0)
            break;
        if ((vrc = op->visit(op->ctx, (const unsigned char *)k.mv_data + tl + 1,
                             k.mv_size - tl - 1, v.mv_data, v.mv_size)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (vrc)
        return vrc;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

int store_table_scan(store_t *s, const char *table, const void *prefix, size_t plen,
                     store_table_visit_fn visit, void *ctx)
{
    scan_op_t op = { table, prefix, plen, visit, ctx };
    return store_with_txn(s, 0, scan_txn, &op);
}

int store_tx_scan(store_tx_t *tx, const char *table, const void *prefix, size_t plen,
                  store_table_visit_fn visit, void *ctx)
{
    scan_op_t op = { table, prefix, plen, visit, ctx };
    return scan_txn(tx->s, tx->txn, &op);
}

/* ---- retention ---------------------------------------------------------------- */

/* Keys gathered for store_table_prune: one buffer, offsets into it. */
typedef struct prune {
    const char *table;
    store_table_doomed_fn doomed;
    void *ctx;
    unsigned char *keys;
    size_t used, cap;
    size_t *off;              /* n + 1 offsets */
    size_t n, n_cap, done;
} prune_t;

static int prune_gather(void *ctx, const void *key, size_t klen, const void *val,
                        size_t vlen)
{
    prune_t *p = ctx;
    if (!p->doomed(p->ctx, key, klen, val, vlen))
        return 0;
    if (GROW(p->keys, p->cap, p->used + klen) != 0 || GROW(p->off, p->n_cap, p->n + 2) != 0)
        return -ENOMEM;
    memcpy(p->keys + p->used, key, klen);
    p->off[p->n] = p->used;
    p->used += klen;
    p->off[++p->n] = p->used;
    return 0;
}

static int prune_batch(store_tx_t *tx, void *ctx)
{
    prune_t *p = ctx;
    size_t end = p->done + 1000 < p->n ? p->done + 1000 : p->n;
    for (size_t i = p->done; i < end; i++) {
        int rc = store_tx_del(tx, p->table, p->keys + p->off[i], p->off[i + 1] - p->off[i]);
        if (rc && rc != -ENOENT)
            return rc;
    }
    return 0;
}

int store_table_prune(store_t *s, const char *table, store_table_doomed_fn doomed,
                      void *ctx, uint64_t *removed)
{
    prune_t p = { .table = table, .doomed = doomed, .ctx = ctx };
    int rc;

    if (!s || !table || !doomed || !removed)
        return -EINVAL;
    *removed = 0;
    rc = store_table_scan(s, table, NULL, 0, prune_gather, &p);
    while (rc == 0 && p.done < p.n) {
        size_t end = p.done + 1000 < p.n ? p.done + 1000 : p.n;
        if ((rc = store_table_atomic(s, prune_batch, &p)) == 0) {
            *removed += end - p.done;
            p.done = end;
        }
    }
    free(p.keys);
    free(p.off);
    return rc;
}
