/*
 * store.c - Patron's durable data in LMDB (see store.h for the contract):
 * open/close, meta counters and transaction runners (the group commit is
 * store_commit.c).
 * The rest lives beside it by concern: store_items.c, store_events.c,
 * store_models.c, store_customers.c, store_tables.c.
 *
 * Named databases and their layout (integers in keys are big-endian so that
 * LMDB's byte order is numeric order; values use host order):
 *
 *   meta          "next_customer" u32 | "next_item" u32 | "event_seq" u64 |
 *                 "model_current" u64 | "format_version" u64 (store_migrate.c)
 *   item_idx      item id                      -> u32 index
 *   items         u32 index (BE)               -> Item record
 *   customer_idx  customer id                  -> u32 index
 *   customer_ids  u32 index (BE)               -> customer id
 *   events        customer BE u32 | time BE u64 | seq BE u64 -> event record
 *   event_ids     event id                     -> events key (20 bytes)
 *   models        version BE u64 | part u8     -> part 0: ModelHeader record,
 *                                                 1..3: raw float blobs it describes
 *   attrs         customer id                  -> CustomerAttributes record
 *   points        customer id | NUL | redemption id -> PointsRedemption record
 *   blobs         name                         -> small value (RFM cut-points)
 *   tables        table name | NUL | key       -> value (store_table_*): the
 *                                                 modules' patron.store.v1 records
 *
 * Events are keyed by customer first so that one customer's history is one
 * contiguous range (the recommender reads it per request) and the trainer's
 * full scan comes out grouped by customer.
 */
#include "store_internal.h"
#include "storelock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define DEFAULT_MAP_BYTES ((size_t)64 << 30)

/* ---- meta counters ---------------------------------------------------------- */

int store_meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
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

int store_meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
    MDB_val k = val_str(key), v = val_mem(&value, sizeof value);
    return map_err(mdb_put(txn, dbi, &k, &v, 0));
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
    int rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return map_err(rc);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);
        if (rc) {
            store_txn_abort(s, txn);
            return map_err(rc);
        }
    }
    return map_err(store_txn_commit(s, txn));
}

int store_make_dirs(const char *dir)
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
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -errno;
    return store_keep_private(path);
}

/* LMDB's files: created 0600 by mdb_env_open, tightened if older. */
static int keep_files_private(const char *dir)
{
    static const char *const names[] = { "data.mdb", "lock.mdb" };
    char path[4200];
    int rc = 0;

    for (size_t i = 0; i < sizeof names / sizeof *names && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = store_keep_private(path);
    }
    return rc;
}

int store_open(const char *dir, size_t map_bytes, store_t **out)
{
    store_t *s;
    int rc, dead;

    if (!dir || !out)
        return -EINVAL;
    if ((rc = store_make_dirs(dir)) != 0)
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
    pthread_mutex_init(&s->map_mu, NULL);
    pthread_cond_init(&s->map_cv, NULL);
    s->queue_tail = &s->queue;
    rc = mdb_env_create(&s->env);
    if (rc) {
        store_lock_release(s->lock_fd);
        free(s);
        return map_err(rc);
    }
    mdb_env_set_maxdbs(s->env, 16);
    mdb_env_set_maxreaders(s->env, 512);
    s->map_limit = map_bytes ? map_bytes : DEFAULT_MAP_BYTES;
    mdb_env_set_mapsize(s->env, store_map_start(dir, s->map_limit));
    /* NOTLS: read transactions are not tied to threads (gRPC workers), and
     * NORDAHEAD: random reads of one customer's range are the common case. */
    rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0600);
    if (rc == 0 && (rc = keep_files_private(dir)) != 0) {
        mdb_env_close(s->env);
        store_lock_release(s->lock_fd);
        free(s);
        return rc;
    }
    if (rc) {
        mdb_env_close(s->env);
        store_lock_release(s->lock_fd);
        free(s);
        return rc == ENOENT || rc == EACCES ? -rc : map_err(rc);
    }
    /* Clear reader slots left behind by a killed process. */
    mdb_reader_check(s->env, &dead);
    {
        MDB_envinfo info; /* LMDB keeps the map at least as large as the data */
        mdb_env_info(s->env, &info);
        s->map_now = info.me_mapsize;
    }
    rc = open_dbs(s);
    if (rc == 0)
        rc = store_format_open(s);
    if (rc) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int store_exists(const char *dir)
{
    char path[4200];
    struct stat st;

    if (!dir || !*dir)
        return -EINVAL;
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if (stat(path, &st) == 0)
        return 1;
    return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    store_commit_stop(s); /* commits what is queued first */
    mdb_env_close(s->env);
    store_lock_release(s->lock_fd);
    pthread_mutex_destroy(&s->gc_mu);
    pthread_cond_destroy(&s->gc_cv);
    pthread_mutex_destroy(&s->map_mu);
    pthread_cond_destroy(&s->map_cv);
    free(s);
}

int store_counts(store_t *s, uint32_t *customers, uint32_t *items)
{
    MDB_txn *txn;
    uint64_t c = 0, i = 0;
    int rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = store_meta_get_u64(txn, s->meta, "next_customer", &c);
    if (!rc)
        rc = store_meta_get_u64(txn, s->meta, "next_item", &i);
    store_txn_abort(s, txn);
    if (customers)
        *customers = (uint32_t)c;
    if (items)
        *items = (uint32_t)i;
    return rc;
}

int store_event_seq(store_t *s, uint64_t *next)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = store_meta_get_u64(txn, s->meta, "event_seq", next);
    store_txn_abort(s, txn);
    return rc;
}

/* ---- transactions ------------------------------------------------------------ */

static int with_txn_once(store_t *s, int write, int (*fn)(store_t *, MDB_txn *, void *),
                         void *ctx)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, write ? 0 : MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = fn(s, txn, ctx);
    if (rc || !write) {
        store_txn_abort(s, txn);
        return write ? store_full_check(s, rc) : rc;
    }
    return store_full_check(s, map_err(store_txn_commit(s, txn)));
}

int store_with_txn(store_t *s, int write, int (*fn)(store_t *, MDB_txn *, void *),
                   void *ctx)
{
    size_t seen;
    int rc;

    do {
        seen = store_map_size(s);
        rc = with_txn_once(s, write, fn, ctx);
    } while (write && store_map_grown(s, rc, seen));
    return rc;
}

