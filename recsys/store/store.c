/*
 * store.c - Patron's durable data in LMDB (see store.h for the contract).
 *
 * Named databases and their layout (integers in keys are big-endian so that
 * LMDB's byte order is numeric order; values use host order):
 *
 *   meta          "next_customer" u32 | "next_item" u32 | "event_seq" u64 |
 *                 "model_current" u64
 *   item_idx      item id                      -> u32 index
 *   items         u32 index (BE)               -> item record (item_pack)
 *   customer_idx  customer id                  -> u32 index
 *   customer_ids  u32 index (BE)               -> customer id
 *   events        customer BE u32 | time BE u64 | seq BE u64 -> event record
 *   event_ids     event id                     -> events key (20 bytes)
 *   models        version BE u64 | part u8     -> blob
 *   attrs         customer id                  -> store_attrs_t
 *   points        customer id | NUL | redemption id -> i64 points redeemed
 *   blobs         name                         -> small value (RFM cut-points)
 *   tables        table name | NUL | key       -> value (store_table_*)
 *
 * Events are keyed by customer first so that one customer's history is one
 * contiguous range (the recommender reads it per request) and the trainer's
 * full scan comes out grouped by customer.
 */
#include "store.h"
#include "storelock.h"

#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One caller's write waiting for a group commit: fn runs inside a nested
 * transaction of the round's transaction, so its failure undoes only its
 * own writes. */
typedef struct pending {
    int (*fn)(store_t *s, MDB_txn *txn, void *ctx);
    void *ctx;
    int rc, done;
    struct pending *next;
} pending_t;

struct store {
    MDB_env *env;
    MDB_dbi meta, item_idx, items, customer_idx, customer_ids, events,
        event_ids, models, attrs, points, blobs, tables;
    /* Group commit: concurrent store_record_events calls queue here and one
     * of them commits everything queued in one transaction (one fsync). */
    pthread_mutex_t gc_mu;
    pthread_cond_t gc_cv;
    pending_t *queue, **queue_tail;
    int committing;
    int lock_fd;         /* shared hold on dir/patron.lock (storelock.h) */
};

enum { EVENT_KEY_LEN = 20 };
enum { MODEL_PART_HDR = 0, MODEL_PART_USER = 1, MODEL_PART_ITEM = 2,
       MODEL_PART_POP = 3, MODEL_PARTS = 4 };

#define DEFAULT_MAP_BYTES ((size_t)64 << 30)

/* ---- small helpers ---------------------------------------------------------- */

static int map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return -ENOENT;
    case MDB_MAP_FULL: return -ENOSPC;
    case ENOMEM: return -ENOMEM;
    case EINVAL: return -EINVAL;
    default: return -EIO;
    }
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);  p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static MDB_val val_str(const char *s)
{
    MDB_val v = { strlen(s), (void *)s };
    return v;
}

static MDB_val val_mem(const void *p, size_t n)
{
    MDB_val v = { n, (void *)p };
    return v;
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
    MDB_val k = val_str(key), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc)
        return map_err(rc);
    if (v.mv_size != sizeof *out)
        return -EIO;
    memcpy(out, v.mv_data, sizeof *out);
    return 0;
}

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
    MDB_val k = val_str(key), v = val_mem(&value, sizeof value);
    return map_err(mdb_put(txn, dbi, &k, &v, 0));
}

static int id_invalid(const char *id)
{
    size_t n;
    if (!id)
        return 1;
    n = strlen(id);
    return n == 0 || n > STORE_MAX_ID;
}

static int text_invalid(const char *s)
{
    return s && strlen(s) > STORE_MAX_TEXT;
}

static int money_invalid(double v)
{
    return !isfinite(v) || v < 0 || v > STORE_MAX_PRICE;
}

/* ---- open / close ----------------------------------------------------------- */

static int open_dbs(store_t *s)
{
    static const char *const names[] = { "meta", "item_idx", "items",
        "customer_idx", "customer_ids", "events", "event_ids", "models",
        "attrs", "points", "blobs", "tables" };
    MDB_dbi *dbis[] = { &s->meta, &s->item_idx, &s->items, &s->customer_idx,
                        &s->customer_ids, &s->events, &s->event_ids, &s->models,
                        &s->attrs, &s->points, &s->blobs, &s->tables };
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return map_err(rc);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);
        if (rc) {
            mdb_txn_abort(txn);
            return map_err(rc);
        }
    }
    return map_err(mdb_txn_commit(txn));
}

/* mkdir -p: creates dir and any missing parents. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return -EINVAL;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int store_open(const char *dir, size_t map_bytes, store_t **out)
{
    store_t *s;
    int rc, dead;

    if (!dir || !out)
        return -EINVAL;
    if ((rc = make_dirs(dir)) != 0)
        return rc;
    s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if ((s->lock_fd = store_lock_take(dir, 0)) < 0) {
        rc = s->lock_fd;
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->gc_mu, NULL);
    pthread_cond_init(&s->gc_cv, NULL);
    s->queue_tail = &s->queue;
    rc = mdb_env_create(&s->env);
    if (rc) {
        store_lock_release(s->lock_fd);
        free(s);
        return map_err(rc);
    }
    mdb_env_set_maxdbs(s->env, 16);
    mdb_env_set_maxreaders(s->env, 512);
    mdb_env_set_mapsize(s->env, map_bytes ? map_bytes : DEFAULT_MAP_BYTES);
    /* NOTLS: read transactions are not tied to threads (gRPC workers), and
     * NORDAHEAD: random reads of one customer's range are the common case. */
    rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0644);
    if (rc) {
        mdb_env_close(s->env);
        store_lock_release(s->lock_fd);
        free(s);
        return rc == ENOENT || rc == EACCES ? -rc : map_err(rc);
    }
    /* Clear reader slots left behind by a killed process. */
    mdb_reader_check(s->env, &dead);
    rc = open_dbs(s);
    if (rc) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    store_lock_release(s->lock_fd);
    pthread_mutex_destroy(&s->gc_mu);
    pthread_cond_destroy(&s->gc_cv);
    free(s);
}

/* ---- items -------------------------------------------------------------------- */

/* Item record: u8 in_stock | f64 price | f64 unit_cost | u16 id_len | id |
 * u16 title_len | title | u16 cat_len | category. */
typedef struct item_buf {
    unsigned char data[1 + 8 + 8 + 3 * 2 + STORE_MAX_ID + 2 * STORE_MAX_TEXT];
    size_t len;
} item_buf_t;

static void pack_str(item_buf_t *b, const char *s)
{
    uint16_t n = (uint16_t)(s ? strlen(s) : 0);
    memcpy(b->data + b->len, &n, 2);
    if (n)
        memcpy(b->data + b->len + 2, s, n);
    b->len += 2u + n;
}

static void item_pack(const store_item_t *it, item_buf_t *b)
{
    b->data[0] = it->in_stock ? 1 : 0;
    memcpy(b->data + 1, &it->price, 8);
    memcpy(b->data + 9, &it->unit_cost, 8);
    b->len = 17;
    pack_str(b, it->item_id);
    pack_str(b, it->title);
    pack_str(b, it->category);
}

/* Unpacked strings are copied into buf (NUL-terminated); returns -EIO if the
 * record is corrupt. */
typedef struct item_strings {
    char id[STORE_MAX_ID + 1], title[STORE_MAX_TEXT + 1], category[STORE_MAX_TEXT + 1];
} item_strings_t;

static int unpack_str(const unsigned char **p, const unsigned char *end,
                      char *dst, size_t cap)
{
    uint16_t n;
    if (end - *p < 2)
        return -EIO;
    memcpy(&n, *p, 2);
    *p += 2;
    if ((size_t)(end - *p) < n || n >= cap)
        return -EIO;
    memcpy(dst, *p, n);
    dst[n] = '\0';
    *p += n;
    return 0;
}

static int item_unpack(const MDB_val *v, store_item_t *it, item_strings_t *str)
{
    const unsigned char *p = v->mv_data, *end = p + v->mv_size;
    if (v->mv_size < 17)
        return -EIO;
    it->in_stock = p[0];
    memcpy(&it->price, p + 1, 8);
    memcpy(&it->unit_cost, p + 9, 8);
    p += 17;
    if (unpack_str(&p, end, str->id, sizeof str->id) ||
        unpack_str(&p, end, str->title, sizeof str->title) ||
        unpack_str(&p, end, str->category, sizeof str->category))
        return -EIO;
    it->item_id = str->id;
    it->title = str->title;
    it->category = str->category;
    return 0;
}

const char *store_item_invalid(const store_item_t *it)
{
    if (id_invalid(it->item_id))
        return "item_id: must be 1..256 bytes";
    if (text_invalid(it->title))
        return "title: longer than 1024 bytes";
    if (text_invalid(it->category))
        return "category: longer than 1024 bytes";
    if (money_invalid(it->price))
        return "price: must be finite and in 0..1e9";
    if (money_invalid(it->unit_cost))
        return "unit_cost: must be finite and in 0..1e9";
    return NULL;
}

/* Finds id's index in an id->u32 table, or assigns the next one from the
 * meta counter `counter` and records it in both directions. */
static int intern_id(MDB_txn *txn, MDB_dbi by_id, MDB_dbi by_idx, MDB_dbi meta,
                     const char *counter, const char *id, uint32_t *idx,
                     int *created)
{
    MDB_val k = val_str(id), v;
    uint64_t next;
    unsigned char ikey[4];
    int rc = mdb_get(txn, by_id, &k, &v);

    *created = 0;
    if (rc == 0) {
        if (v.mv_size != 4)
            return -EIO;
        memcpy(idx, v.mv_data, 4);
        return 0;
    }
    if (rc != MDB_NOTFOUND)
        return map_err(rc);
    if ((rc = meta_get_u64(txn, meta, counter, &next)) != 0)
        return rc;
    if (next >= UINT32_MAX)
        return -ENOSPC;
    *idx = (uint32_t)next;
    v = val_mem(idx, 4);
    if ((rc = map_err(mdb_put(txn, by_id, &k, &v, 0))) != 0)
        return rc;
    if (by_idx != (MDB_dbi)-1) {
        MDB_val ik = val_mem(ikey, 4);
        put_be32(ikey, *idx);
        if ((rc = map_err(mdb_put(txn, by_idx, &ik, &k, 0))) != 0)
            return rc;
    }
    *created = 1;
    return meta_put_u64(txn, meta, counter, next + 1);
}

int store_upsert_items(store_t *s, const store_item_t *items, size_t n,
                       size_t *inserted, size_t *updated, size_t *bad_index,
                       const char **reason)
{
    MDB_txn *txn;
    size_t ins = 0, upd = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        const char *why = store_item_invalid(&items[i]);
        if (why) {
            if (bad_index)
                *bad_index = i;
            if (reason)
                *reason = why;
            return -EINVAL;
        }
    }
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return map_err(rc);
    for (size_t i = 0; i < n && rc == 0; i++) {
        item_buf_t buf;
        unsigned char ikey[4];
        uint32_t idx;
        int created;
        MDB_val k, v;

        rc = intern_id(txn, s->item_idx, (MDB_dbi)-1, s->meta, "next_item",
                       items[i].item_id, &idx, &created);
        if (rc)
            break;
        item_pack(&items[i], &buf);
        put_be32(ikey, idx);
        k = val_mem(ikey, 4);
        v = val_mem(buf.data, buf.len);
        rc = map_err(mdb_put(txn, s->items, &k, &v, 0));
        if (created)
            ins++;
        else
            upd++;
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = map_err(mdb_txn_commit(txn))) != 0)
        return rc;
    if (inserted)
        *inserted = ins;
    if (updated)
        *updated = upd;
    return 0;
}

static int lookup_index(store_t *s, MDB_dbi dbi, const char *id, uint32_t *idx)
{
    MDB_txn *txn;
    MDB_val k, v;
    int rc;

    if (id_invalid(id))
        return -ENOENT;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    k = val_str(id);
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0 && v.mv_size == 4)
        memcpy(idx, v.mv_data, 4);
    else if (rc == 0)
        rc = EIO;
    mdb_txn_abort(txn);
    return map_err(rc);
}

int store_item_index(store_t *s, const char *item_id, uint32_t *idx)
{
    return lookup_index(s, s->item_idx, item_id, idx);
}

int store_customer_index(store_t *s, const char *customer_id, uint32_t *idx)
{
    return lookup_index(s, s->customer_idx, customer_id, idx);
}

int store_scan_items(store_t *s, store_item_cb cb, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, op = MDB_FIRST;
    item_strings_t *str = malloc(sizeof *str);

    if (!str)
        return -ENOMEM;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
        free(str);
        return map_err(rc);
    }
    if ((rc = mdb_cursor_open(txn, s->items, &cur)) != 0) {
        mdb_txn_abort(txn);
        free(str);
        return map_err(rc);
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_item_t it;
        op = MDB_NEXT;
        if (k.mv_size != 4 || item_unpack(&v, &it, str) != 0) {
            rc = -EIO;
            break;
        }
        if ((rc = cb(ctx, get_be32(k.mv_data), &it)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else if (rc > 0)
        rc = map_err(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    free(str);
    return rc;
}

int store_counts(store_t *s, uint32_t *customers, uint32_t *items)
{
    MDB_txn *txn;
    uint64_t c = 0, i = 0;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = meta_get_u64(txn, s->meta, "next_customer", &c);
    if (!rc)
        rc = meta_get_u64(txn, s->meta, "next_item", &i);
    mdb_txn_abort(txn);
    if (customers)
        *customers = (uint32_t)c;
    if (items)
        *items = (uint32_t)i;
    return rc;
}

int store_event_seq(store_t *s, uint64_t *next)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = meta_get_u64(txn, s->meta, "event_seq", next);
    mdb_txn_abort(txn);
    return rc;
}

/* ---- events ------------------------------------------------------------------- */

/* Event record: u32 item | u8 type | i32 quantity | f64 unit_price | event id. */
enum { EVENT_REC_FIXED = 4 + 1 + 4 + 8 };

const char *store_event_invalid(const store_event_t *e)
{
    if (id_invalid(e->event_id))
        return "event_id: must be 1..256 bytes";
    if (id_invalid(e->customer_id))
        return "customer_id: must be 1..256 bytes";
    if (id_invalid(e->item_id))
        return "item_id: must be 1..256 bytes";
    if (e->type < STORE_EVENT_VIEW || e->type > STORE_EVENT_REFUND)
        return "type: must be view, cart, purchase or refund";
    if (e->time_ms <= 0)
        return "time_unix_ms: must be > 0";
    if (e->quantity < 0 || e->quantity > STORE_MAX_QUANTITY)
        return "quantity: must be in 0..1000000";
    if (money_invalid(e->unit_price))
        return "unit_price: must be finite and in 0..1e9";
    return NULL;
}

/* Stores one valid event; *outcome says whether it was new. */
static int record_one(store_t *s, MDB_txn *txn, const store_event_t *e,
                      uint8_t *outcome, const char **reason)
{
    MDB_val k = val_str(e->event_id), v;
    unsigned char key[EVENT_KEY_LEN], rec[EVENT_REC_FIXED + STORE_MAX_ID];
    uint32_t item, cust;
    uint64_t seq;
    int32_t qty = e->quantity ? e->quantity : 1;
    uint8_t type = (uint8_t)e->type;
    size_t id_len = strlen(e->event_id);
    int rc, created;

    rc = mdb_get(txn, s->event_ids, &k, &v);
    if (rc == 0) {
        *outcome = STORE_DUPLICATE;
        return 0;
    }
    if (rc != MDB_NOTFOUND)
        return map_err(rc);
    k = val_str(e->item_id);
    rc = mdb_get(txn, s->item_idx, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *outcome = STORE_REJECTED;
        *reason = "item_id: unknown item (upsert it first)";
        return 0;
    }
    if (rc || v.mv_size != 4)
        return rc ? map_err(rc) : -EIO;
    memcpy(&item, v.mv_data, 4);
    rc = intern_id(txn, s->customer_idx, s->customer_ids, s->meta,
                   "next_customer", e->customer_id, &cust, &created);
    if (rc || (rc = meta_get_u64(txn, s->meta, "event_seq", &seq)) != 0)
        return rc;
    if ((rc = meta_put_u64(txn, s->meta, "event_seq", seq + 1)) != 0)
        return rc;
    put_be32(key, cust);
    put_be64(key + 4, (uint64_t)e->time_ms);
    put_be64(key + 12, seq);
    memcpy(rec, &item, 4);
    rec[4] = type;
    memcpy(rec + 5, &qty, 4);
    memcpy(rec + 9, &e->unit_price, 8);
    memcpy(rec + EVENT_REC_FIXED, e->event_id, id_len);
    k = val_mem(key, sizeof key);
    v = val_mem(rec, EVENT_REC_FIXED + id_len);
    if ((rc = map_err(mdb_put(txn, s->events, &k, &v, 0))) != 0)
        return rc;
    k = val_str(e->event_id);
    v = val_mem(key, sizeof key);
    if ((rc = map_err(mdb_put(txn, s->event_ids, &k, &v, 0))) != 0)
        return rc;
    *outcome = STORE_ACCEPTED;
    return 0;
}

/* Runs every queued write of a round in one transaction, each in a nested
 * transaction of its own. Returns the round's commit result; each write's
 * own result is in its rc. */
static int commit_round(store_t *s, pending_t *list)
{
    MDB_txn *txn;
    int rc;

    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return map_err(rc);
    for (pending_t *p = list; p; p = p->next) {
        MDB_txn *child;
        if ((rc = mdb_txn_begin(s->env, txn, 0, &child)) != 0) {
            mdb_txn_abort(txn);
            return map_err(rc);
        }
        p->rc = p->fn(s, child, p->ctx);
        if (p->rc) {
            mdb_txn_abort(child);
            continue;
        }
        if ((rc = mdb_txn_commit(child)) != 0) {
            mdb_txn_abort(txn);
            return map_err(rc);
        }
    }
    return map_err(mdb_txn_commit(txn));
}

/*
 * Group commit (leader/follower): the caller queues its write; whoever finds
 * no commit in progress takes the whole queue, commits it in one
 * transaction (one fsync) and wakes everyone it committed for. Writers that
 * arrive meanwhile queue up and go together in the next round, so N
 * concurrent writers cost about one fsync per round instead of N. A write
 * that fails undoes only itself; a failed commit fails the whole round (then
 * none of its writes was stored).
 */
static int group_write(store_t *s, int (*fn)(store_t *, MDB_txn *, void *), void *ctx)
{
    pending_t me = { fn, ctx, 0, 0, NULL };

    pthread_mutex_lock(&s->gc_mu);
    /* me lives on this stack until done is set; by then the leader has
     * taken it off the queue (queue and queue_tail were reset). */
    *s->queue_tail = &me;
    s->queue_tail = &me.next;
    while (!me.done) {
        if (!s->committing) {
            pending_t *list = s->queue;
            int rc;
            s->queue = NULL;
            s->queue_tail = &s->queue;
            s->committing = 1;
            pthread_mutex_unlock(&s->gc_mu);
            rc = commit_round(s, list);
            pthread_mutex_lock(&s->gc_mu);
            for (pending_t *p = list, *next; p; p = next) {
                next = p->next; /* p may be gone once its owner sees done */
                if (rc)
                    p->rc = rc;
                p->done = 1;
            }
            s->committing = 0;
            pthread_cond_broadcast(&s->gc_cv);
        } else {
            pthread_cond_wait(&s->gc_cv, &s->gc_mu);
        }
    }
    pthread_mutex_unlock(&s->gc_mu);
    return me.rc;
}

typedef struct events_op {
    const store_event_t *ev;
    size_t n;
    uint8_t *outcome;
    const char **reason;
} events_op_t;

static int record_events_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    events_op_t *op = ctx;
    for (size_t i = 0; i < op->n; i++) {
        int rc;
        op->reason[i] = store_event_invalid(&op->ev[i]);
        if (op->reason[i]) {
            op->outcome[i] = STORE_REJECTED;
            continue;
        }
        rc = record_one(s, txn, &op->ev[i], &op->outcome[i], &op->reason[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int store_record_events(store_t *s, const store_event_t *ev, size_t n,
                        uint8_t *outcome, const char **reason)
{
    events_op_t op = { ev, n, outcome, reason };
    return group_write(s, record_events_txn, &op);
}

static int event_decode(const MDB_val *k, const MDB_val *v, store_event_rec_t *r)
{
    const unsigned char *p = v->mv_data;
    if (k->mv_size != EVENT_KEY_LEN || v->mv_size < EVENT_REC_FIXED)
        return -EIO;
    r->customer = get_be32(k->mv_data);
    r->time_ms = (int64_t)get_be64((const unsigned char *)k->mv_data + 4);
    r->seq = get_be64((const unsigned char *)k->mv_data + 12);
    memcpy(&r->item, p, 4);
    r->type = p[4];
    memcpy(&r->quantity, p + 5, 4);
    memcpy(&r->unit_price, p + 9, 8);
    return 0;
}

/* Walks events from `first` (NULL: the beginning) while keys start with the
 * first `prefix_len` bytes of first. */
static int scan_range(store_t *s, const unsigned char *first, size_t prefix_len,
                      store_event_cb cb, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, op;

    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0) {
        mdb_txn_abort(txn);
        return map_err(rc);
    }
    if (first) {
        k = val_mem(first, EVENT_KEY_LEN);
        op = MDB_SET_RANGE;
    } else {
        op = MDB_FIRST;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_event_rec_t r;
        op = MDB_NEXT;
        if (first && (k.mv_size < prefix_len || memcmp(k.mv_data, first, prefix_len)))
            break;
        if (event_decode(&k, &v, &r) != 0) {
            rc = -EIO;
            break;
        }
        if ((rc = cb(ctx, &r)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else if (rc > 0)
        rc = map_err(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc;
}

int store_event_list_push(void *ctx, const store_event_rec_t *ev)
{
    store_event_list_t *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        store_event_rec_t *p = realloc(l->ev, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        l->ev = p;
        l->cap = cap;
    }
    l->ev[l->n++] = *ev;
    return 0;
}

void store_event_list_free(store_event_list_t *l)
{
    if (!l)
        return;
    free(l->ev);
    memset(l, 0, sizeof *l);
}

int store_scan_events(store_t *s, store_event_cb cb, void *ctx)
{
    return scan_range(s, NULL, 0, cb, ctx);
}

int store_customer_events(store_t *s, uint32_t customer, store_event_cb cb,
                          void *ctx)
{
    unsigned char first[EVENT_KEY_LEN] = { 0 };
    put_be32(first, customer);
    return scan_range(s, first, 4, cb, ctx);
}

/* ---- models ------------------------------------------------------------------- */

static MDB_val model_key(unsigned char key[9], uint64_t version, int part)
{
    put_be64(key, version);
    key[8] = (unsigned char)part;
    return val_mem(key, 9);
}

static int drop_old_models(store_t *s, MDB_txn *txn, uint64_t newest)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if (newest <= STORE_MODELS_KEPT)
        return 0;
    if ((rc = mdb_cursor_open(txn, s->models, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size != 9 || get_be64(k.mv_data) > newest - STORE_MODELS_KEPT)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_publish_model(store_t *s, store_model_hdr_t *hdr, const float *user_f,
                        const float *item_f, const float *item_pop)
{
    MDB_txn *txn;
    uint64_t cur = 0;
    unsigned char key[9];
    const void *data[MODEL_PARTS] = { hdr, user_f, item_f, item_pop };
    size_t len[MODEL_PARTS] = {
        sizeof *hdr,
        (size_t)hdr->n_users * hdr->factors * sizeof(float),
        (size_t)hdr->n_items * hdr->factors * sizeof(float),
        (size_t)hdr->n_items * sizeof(float),
    };
    int rc;

    if (!hdr->factors || (!user_f && len[1]) || (!item_f && len[2]) ||
        (!item_pop && len[3]))
        return -EINVAL;
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return map_err(rc);
    rc = meta_get_u64(txn, s->meta, "model_current", &cur);
    hdr->version = cur + 1;
    for (int p = 0; p < MODEL_PARTS && rc == 0; p++) {
        MDB_val k = model_key(key, hdr->version, p);
        MDB_val v = val_mem(data[p], len[p]);
        rc = map_err(mdb_put(txn, s->models, &k, &v, 0));
    }
    if (rc == 0)
        rc = meta_put_u64(txn, s->meta, "model_current", hdr->version);
    if (rc == 0)
        rc = drop_old_models(s, txn, hdr->version);
    if (rc) {
        mdb_txn_abort(txn);
        hdr->version = cur;
        return rc;
    }
    return map_err(mdb_txn_commit(txn));
}

int store_current_model(store_t *s, uint64_t *version)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = meta_get_u64(txn, s->meta, "model_current", version);
    mdb_txn_abort(txn);
    if (rc == 0 && *version == 0)
        rc = -ENOENT;
    return rc;
}

static int copy_part(MDB_txn *txn, MDB_dbi dbi, uint64_t version, int part,
                     size_t expect, float **out)
{
    unsigned char key[9];
    MDB_val k = model_key(key, version, part), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? -EIO : map_err(rc);
    if (v.mv_size != expect)
        return -EIO;
    *out = malloc(expect ? expect : 1);
    if (!*out)
        return -ENOMEM;
    memcpy(*out, v.mv_data, expect);
    return 0;
}

int store_load_model(store_t *s, uint64_t version, store_model_hdr_t *hdr,
                     float **user_f, float **item_f, float **item_pop)
{
    MDB_txn *txn;
    unsigned char key[9];
    MDB_val k, v;
    int rc;

    *user_f = *item_f = *item_pop = NULL;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    if (version == 0)
        rc = meta_get_u64(txn, s->meta, "model_current", &version);
    if (rc == 0 && version == 0)
        rc = -ENOENT;
    if (rc == 0) {
        k = model_key(key, version, MODEL_PART_HDR);
        rc = map_err(mdb_get(txn, s->models, &k, &v));
    }
    if (rc == 0 && v.mv_size != sizeof *hdr)
        rc = -EIO;
    if (rc == 0) {
        memcpy(hdr, v.mv_data, sizeof *hdr);
        rc = copy_part(txn, s->models, version, MODEL_PART_USER,
                       (size_t)hdr->n_users * hdr->factors * sizeof(float), user_f);
    }
    if (rc == 0)
        rc = copy_part(txn, s->models, version, MODEL_PART_ITEM,
                       (size_t)hdr->n_items * hdr->factors * sizeof(float), item_f);
    if (rc == 0)
        rc = copy_part(txn, s->models, version, MODEL_PART_POP,
                       (size_t)hdr->n_items * sizeof(float), item_pop);
    mdb_txn_abort(txn);
    if (rc) {
        free(*user_f);
        free(*item_f);
        free(*item_pop);
        *user_f = *item_f = *item_pop = NULL;
    }
    return rc;
}

/* ---- customer ids, attributes, points, erasure ------------------------------ */

/* Runs fn inside a read-only (write = 0) or write transaction; commits a
 * write transaction when fn returns 0, aborts otherwise. */
static int with_txn(store_t *s, int write, int (*fn)(store_t *, MDB_txn *, void *),
                    void *ctx)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = fn(s, txn, ctx);
    if (rc || !write) {
        mdb_txn_abort(txn);
        return rc;
    }
    return map_err(mdb_txn_commit(txn));
}

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
    return with_txn(s, 0, customer_id_txn, &l);
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

typedef struct attrs_op {
    const char *id;
    store_attrs_t *attrs;
} attrs_op_t;

static int set_attrs_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    attrs_op_t *op = ctx;
    MDB_val k = val_str(op->id), v = val_mem(op->attrs, sizeof *op->attrs);
    return map_err(mdb_put(txn, s->attrs, &k, &v, 0));
}

static int get_attrs_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    attrs_op_t *op = ctx;
    MDB_val k = val_str(op->id), v;
    int rc = mdb_get(txn, s->attrs, &k, &v);
    if (rc)
        return map_err(rc);
    if (v.mv_size != sizeof *op->attrs)
        return -EIO;
    memcpy(op->attrs, v.mv_data, sizeof *op->attrs);
    return 0;
}

int store_set_attrs(store_t *s, const char *customer_id, const store_attrs_t *a)
{
    store_attrs_t copy = *a;
    attrs_op_t op = { customer_id, &copy };
    if (id_invalid(customer_id) || store_attrs_invalid(a))
        return -EINVAL;
    return with_txn(s, 1, set_attrs_txn, &op);
}

int store_get_attrs(store_t *s, const char *customer_id, store_attrs_t *a)
{
    attrs_op_t op = { customer_id, a };
    if (id_invalid(customer_id))
        return -ENOENT;
    return with_txn(s, 0, get_attrs_txn, &op);
}

/* Points ledger keys: customer id, NUL, redemption id. */
static size_t points_key(unsigned char *key, const char *customer, const char *redemption)
{
    size_t a = strlen(customer), b = redemption ? strlen(redemption) : 0;
    memcpy(key, customer, a);
    key[a] = '\0';
    if (b)
        memcpy(key + a + 1, redemption, b);
    return a + 1 + b;
}

/* Sums the ledger of one customer inside txn. */
static int points_sum(store_t *s, MDB_txn *txn, const char *customer, int64_t *total)
{
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t plen = points_key(prefix, customer, NULL);
    MDB_cursor *cur;
    MDB_val k = val_mem(prefix, plen), v;
    int rc, op = MDB_SET_RANGE;

    *total = 0;
    if ((rc = mdb_cursor_open(txn, s->points, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        int64_t p;
        op = MDB_NEXT;
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (v.mv_size != sizeof p) {
            rc = -EIO;
            break;
        }
        memcpy(&p, v.mv_data, sizeof p);
        *total += p;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc < 0 ? rc : map_err(rc);
}

typedef struct redeem_op {
    const char *customer, *redemption;
    int64_t points, earned, total;
    int duplicate;
} redeem_op_t;

static int redeemed_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    redeem_op_t *op = ctx;
    return points_sum(s, txn, op->customer, &op->total);
}

static int redeem_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    redeem_op_t *op = ctx;
    unsigned char key[2 * STORE_MAX_ID + 1];
    MDB_val k = val_mem(key, points_key(key, op->customer, op->redemption)), v;
    int rc = mdb_get(txn, s->points, &k, &v);

    if (rc == 0) {
        op->duplicate = 1;
        return points_sum(s, txn, op->customer, &op->total);
    }
    if (rc != MDB_NOTFOUND)
        return map_err(rc);
    if ((rc = points_sum(s, txn, op->customer, &op->total)) != 0)
        return rc;
    if (op->total + op->points > op->earned)
        return -ERANGE;
    v = val_mem(&op->points, sizeof op->points);
    if ((rc = map_err(mdb_put(txn, s->points, &k, &v, 0))) != 0)
        return rc;
    op->total += op->points;
    return 0;
}

int store_points_redeemed(store_t *s, const char *customer_id, int64_t *total)
{
    redeem_op_t op = { .customer = customer_id };
    int rc;
    if (id_invalid(customer_id))
        return -EINVAL;
    rc = with_txn(s, 0, redeemed_txn, &op);
    *total = op.total;
    return rc;
}

int store_points_redeem(store_t *s, const char *customer_id,
                        const char *redemption_id, int64_t points, int64_t earned,
                        int64_t *redeemed_total, int *duplicate)
{
    redeem_op_t op = { customer_id, redemption_id, points, earned, 0, 0 };
    int rc;
    if (id_invalid(customer_id) || id_invalid(redemption_id) || points <= 0)
        return -EINVAL;
    rc = with_txn(s, 1, redeem_txn, &op);
    if (rc == -ERANGE) /* the read-only sum for the caller's message */
        with_txn(s, 0, redeemed_txn, &op);
    *redeemed_total = op.total;
    *duplicate = op.duplicate;
    return rc;
}

/* ---- erasure ---------------------------------------------------------------- */

typedef struct erase_op {
    const char *customer;
    uint64_t events;
    int found;
} erase_op_t;

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
                                 v.mv_size - EVENT_REC_FIXED);
            rc = mdb_del(txn, ids_dbi, &id, NULL);
            if (rc && rc != MDB_NOTFOUND)
                break;
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        if (count)
            (*count)++;
        k = val_mem(prefix, plen);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

/* Zeroes row idx of the user factors of every stored model version. */
static int zero_factors(store_t *s, MDB_txn *txn, uint32_t idx)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, s->models, &cur), op = MDB_FIRST;
    if (rc)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_model_hdr_t hdr;
        unsigned char key[9];
        MDB_val uk, uv, nv;
        size_t row;
        op = MDB_NEXT;
        if (k.mv_size != 9 || ((unsigned char *)k.mv_data)[8] != MODEL_PART_HDR ||
            v.mv_size != sizeof hdr)
            continue;
        memcpy(&hdr, v.mv_data, sizeof hdr);
        if (idx >= hdr.n_users)
            continue;
        uk = model_key(key, hdr.version, MODEL_PART_USER);
        if ((rc = mdb_get(txn, s->models, &uk, &uv)) != 0)
            break;
        row = (size_t)idx * hdr.factors * sizeof(float);
        if (uv.mv_size < row + hdr.factors * sizeof(float)) {
            rc = EIO;
            break;
        }
        /* Rewrite the blob with the row zeroed (values are read-only). */
        nv.mv_size = uv.mv_size;
        {
            unsigned char *copy = malloc(uv.mv_size);
            if (!copy) {
                rc = ENOMEM;
                break;
            }
            memcpy(copy, uv.mv_data, uv.mv_size);
            memset(copy + row, 0, hdr.factors * sizeof(float));
            nv.mv_data = copy;
            rc = mdb_put(txn, s->models, &uk, &nv, 0);
            free(copy);
        }
        if (rc)
            break;
        /* mdb_put moved the cursor's page: re-seek past this version. */
        k = model_key(key, hdr.version, MODEL_PART_POP);
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
            break;
        op = MDB_NEXT;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

static int erase_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    erase_op_t *op = ctx;
    MDB_val k = val_str(op->customer), v;
    unsigned char ikey[4], pkey[STORE_MAX_ID + 1];
    uint64_t dummy = 0;
    int rc = mdb_get(txn, s->customer_idx, &k, &v);

    if (rc == 0 && v.mv_size == 4) {
        uint32_t idx;
        MDB_val ik = val_mem(ikey, 4);
        memcpy(&idx, v.mv_data, 4);
        op->found = 1;
        put_be32(ikey, idx);
        if ((rc = delete_prefix(txn, s->events, ikey, 4, s->event_ids, &op->events)) ||
            (rc = zero_factors(s, txn, idx)))
            return rc;
        rc = mdb_del(txn, s->customer_ids, &ik, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return map_err(rc);
        if ((rc = mdb_del(txn, s->customer_idx, &k, NULL)) != 0)
            return map_err(rc);
    } else if (rc && rc != MDB_NOTFOUND) {
        return map_err(rc);
    }
    rc = mdb_del(txn, s->attrs, &k, NULL);
    if (rc == 0)
        op->found = 1;
    else if (rc != MDB_NOTFOUND)
        return map_err(rc);
    if ((rc = delete_prefix(txn, s->points, pkey, points_key(pkey, op->customer, NULL),
                            (MDB_dbi)-1, &dummy)) != 0)
        return rc;
    op->found |= dummy > 0;
    return op->found ? 0 : -ENOENT;
}

int store_delete_customer(store_t *s, const char *customer_id, uint64_t *events_deleted)
{
    erase_op_t op = { customer_id, 0, 0 };
    int rc;
    if (id_invalid(customer_id))
        return -EINVAL;
    rc = with_txn(s, 1, erase_txn, &op);
    if (events_deleted)
        *events_deleted = op.events;
    return rc;
}

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
    return with_txn(s, 1, put_blob_txn, &op);
}

int store_get_blob(store_t *s, const char *key, void *buf, size_t cap, size_t *len)
{
    blob_op_t op = { key, buf, 0, cap };
    int rc;
    if (id_invalid(key))
        return -EINVAL;
    rc = with_txn(s, 0, get_blob_txn, &op);
    if (len)
        *len = op.len;
    return rc;
}

/* ---- compaction ---------------------------------------------------------------- */

typedef struct view_agg {
    uint32_t item;
    int64_t quantity;
    int64_t latest_ms;
    unsigned char key[EVENT_KEY_LEN]; /* of the latest view, reused for the aggregate */
} view_agg_t;

static int cmp_view_agg(const void *a, const void *b)
{
    const view_agg_t *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

typedef struct compact_op {
    uint32_t customer;
    int64_t before_ms;
    uint64_t removed, added;
} compact_op_t;

/* Collects the customer's old views, deletes them (and their ids), writes
 * one aggregate per item. */
static int compact_customer_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    compact_op_t *op = ctx;
    unsigned char first[EVENT_KEY_LEN] = { 0 };
    MDB_cursor *cur;
    MDB_val k, v;
    view_agg_t *agg = NULL;
    size_t n = 0, cap = 0;
    int rc, mop = MDB_SET_RANGE;

    put_be32(first, op->customer);
    k = val_mem(first, EVENT_KEY_LEN);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, mop)) == 0) {
        store_event_rec_t r;
        mop = MDB_NEXT;
        if (k.mv_size != EVENT_KEY_LEN || memcmp(k.mv_data, first, 4) != 0)
            break;
        if (event_decode(&k, &v, &r) != 0) {
            rc = -EIO;
            break;
        }
        if (r.time_ms >= op->before_ms)
            break; /* keys are in time order within a customer */
        if (r.type != STORE_EVENT_VIEW)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            view_agg_t *p = realloc(agg, nc * sizeof *p);
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            agg = p;
            cap = nc;
        }
        agg[n].item = r.item;
        agg[n].quantity = r.quantity;
        agg[n].latest_ms = r.time_ms;
        memcpy(agg[n].key, k.mv_data, EVENT_KEY_LEN);
        n++;
        if (v.mv_size > EVENT_REC_FIXED) {
            MDB_val id = val_mem((const char *)v.mv_data + EVENT_REC_FIXED,
                                 v.mv_size - EVENT_REC_FIXED);
            int drc = mdb_del(txn, s->event_ids, &id, NULL);
            if (drc && drc != MDB_NOTFOUND) {
                rc = drc;
                break;
            }
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        op->removed++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        free(agg);
        return rc < 0 ? rc : map_err(rc);
    }
    qsort(agg, n, sizeof *agg, cmp_view_agg); /* stable enough: merged below */
    rc = 0;
    for (size_t i = 0, j; i < n && rc == 0; i = j) {
        view_agg_t sum = agg[i];
        unsigned char rec[EVENT_REC_FIXED + 16];
        int32_t q;
        double price = 0;
        char id[16] = "compacted";
        for (j = i + 1; j < n && agg[j].item == agg[i].item; j++) {
            sum.quantity += agg[j].quantity;
            if (agg[j].latest_ms >= sum.latest_ms) {
                sum.latest_ms = agg[j].latest_ms;
                memcpy(sum.key, agg[j].key, EVENT_KEY_LEN);
            }
        }
        q = sum.quantity > STORE_MAX_QUANTITY ? STORE_MAX_QUANTITY : (int32_t)sum.quantity;
        memcpy(rec, &sum.item, 4);
        rec[4] = STORE_EVENT_VIEW;
        memcpy(rec + 5, &q, 4);
        memcpy(rec + 9, &price, 8);
        memcpy(rec + EVENT_REC_FIXED, id, strlen(id));
        k = val_mem(sum.key, EVENT_KEY_LEN);
        v = val_mem(rec, EVENT_REC_FIXED + strlen(id));
        rc = map_err(mdb_put(txn, s->events, &k, &v, 0));
        op->added++;
    }
    free(agg);
    return rc;
}

int store_compact_views(store_t *s, int64_t before_ms, uint64_t *removed,
                        uint64_t *added)
{
    uint32_t customers = 0;
    int rc = store_counts(s, &customers, NULL);

    *removed = *added = 0;
    for (uint32_t c = 0; rc == 0 && c < customers; c++) {
        compact_op_t op = { c, before_ms, 0, 0 };
        rc = with_txn(s, 1, compact_customer_txn, &op);
        *removed += op.removed;
        *added += op.added;
    }
    return rc;
}

/* ---- tables ------------------------------------------------------------------- */

struct store_tx {
    store_t *s;
    MDB_txn *txn;
};

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

int store_tx_get(store_tx_t *tx, const char *table, const void *key, size_t klen,
                 void *buf, size_t cap, size_t *vlen)
{
    unsigned char kb[TABLE_NAME_MAX + 1 + STORE_MAX_TABLE_KEY];
    size_t kl = klen ? table_key(kb, table, key, klen) : 0;
    MDB_val k = val_mem(kb, kl), v;
    int rc;
    if (!kl)
        return -EINVAL;
    if ((rc = mdb_get(tx->txn, tx->s->tables, &k, &v)) != 0)
        return map_err(rc);
    if (vlen)
        *vlen = v.mv_size;
    if (v.mv_size > cap)
        return -EINVAL;
    memcpy(buf, v.mv_data, v.mv_size);
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
    return group_write(s, atomic_txn, &op);
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
    int rc = with_txn(s, 0, get_txn, &op);
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
    return with_txn(s, 0, scan_txn, &op);
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
    if (p->used + klen > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 65536;
        unsigned char *k;
        while (cap < p->used + klen)
            cap *= 2;
        if (!(k = realloc(p->keys, cap)))
            return -ENOMEM;
        p->keys = k;
        p->cap = cap;
    }
    if (p->n + 2 > p->n_cap) {
        size_t cap = p->n_cap ? p->n_cap * 2 : 1024;
        size_t *o = realloc(p->off, cap * sizeof *o);
        if (!o)
            return -ENOMEM;
        p->off = o;
        p->n_cap = cap;
    }
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
