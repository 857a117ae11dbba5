/*
 * store_capacity.c - the store's LMDB map: how much of it is in use
 * (store_usage, see store.h), and its growth up to the configured limit.
 *
 * Growth. A store opens with a map of 64 MiB, or twice its data file, and
 * the map doubles, up to the limit (--map-size), whenever a write begins
 * with the data file's high-water mark past half of it; a write that still
 * meets MDB_MAP_FULL (one larger than the free half) grows it and runs
 * again where the caller can rerun it whole (store_map_grow). LMDB resizes
 * a map only while the process has no transaction open (mdb_env_set_mapsize),
 * so every top-level transaction passes a gate (store_txn_begin/_commit/
 * _abort): a resize closes the gate to new transactions, waits for the open
 * ones to end (at most RESIZE_WAIT_MS; a thread that already has one open
 * passes, or it would wait for itself), resizes and reopens it. Another
 * process sharing the store may grow the map too: then LMDB's
 * mdb_txn_begin answers MDB_MAP_RESIZED, and the same resize with size 0
 * adopts its size.
 *
 * LMDB's data file only grows: a page once used stays in the file, and
 * freed pages go on LMDB's free list (the reserved database 0, whose values
 * are page-number lists, the first word of each being its length: see
 * mdb_stat -f), from which later writes take pages before growing the
 * file. So the bytes in use are the file's high-water mark minus the free
 * list, and a write fails with MDB_MAP_FULL only when the free list cannot
 * serve it and the high-water mark has reached the map size.
 */
#include "store_internal.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "bytesize.h"

#define MAP_START ((size_t)64 << 20) /* a new store's first map */
#define RESIZE_WAIT_MS 2000          /* a resize waits this long for open txns */

/* Top-level transactions this thread has open (of any store): a thread that
 * has one passes a closed gate. */
static _Thread_local unsigned txn_depth;

/* Pages on the free list, as of txn. */
static int free_pages(MDB_txn *txn, uint64_t *pages)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, 0, &cur);

    *pages = 0;
    if (rc)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        size_t n;
        if (v.mv_size < sizeof n)
            continue;
        memcpy(&n, v.mv_data, sizeof n);
        *pages += n;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_usage(store_t *s, store_usage_t *u)
{
    MDB_envinfo info;
    MDB_stat st;
    MDB_txn *txn;
    uint64_t free_pg = 0, high;
    int rc;

    if (!s || !u)
        return -EINVAL;
    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    rc = free_pages(txn, &free_pg);
    /* mdb_env_info reports the newest commit, which may be newer than
     * txn's free list if a writer commits meanwhile: a figure for
     * monitoring, exact when no write runs. */
    if (rc == 0)
        rc = map_err(mdb_env_info(s->env, &info));
    if (rc == 0)
        rc = map_err(mdb_env_stat(s->env, &st));
    store_txn_abort(s, txn);
    if (rc)
        return rc;
    high = (uint64_t)info.me_last_pgno + 1;
    u->page_bytes = st.ms_psize;
    u->file_bytes = high * st.ms_psize;
    u->used_bytes = (high > free_pg ? high - free_pg : 0) * st.ms_psize;
    u->map_bytes = info.me_mapsize;
    /* A larger map adopted from another process sharing the store is this
     * process's ceiling too. */
    u->limit_bytes = s->map_limit > info.me_mapsize ? s->map_limit : info.me_mapsize;
    return 0;
}

int store_full_check(store_t *s, int rc)
{
    store_usage_t u;
    char used[16], limit[16];
    size_t seen;

    if (rc != -EFBIG)
        return rc;
    seen = store_map_size(s);
    if (seen < s->map_limit) {
        /* A write larger than the free half of the map, which its caller
         * cannot run again itself: the next attempt fits (unless the resize
         * had to wait too long for open transactions). */
        int grew = store_map_grow(s, seen) == 0;
        store_set_error(grew ? "the store's map was full and grew to %s (limit %s): retry"
                             : "the store's map is full at %s and could not grow now "
                               "(limit %s): retry",
                        bytesize_format(store_map_size(s), used, sizeof used),
                        bytesize_format(s->map_limit, limit, sizeof limit));
        return rc;
    }
    if (store_usage(s, &u) != 0)
        u.used_bytes = u.limit_bytes = s->map_limit;
    store_set_error("store full: %s of %s map; raise --map-size",
                    bytesize_format(u.used_bytes, used, sizeof used),
                    bytesize_format(u.limit_bytes, limit, sizeof limit));
    return rc;
}

/* ---- the gate and the resize ----------------------------------------------- */

size_t store_map_start(const char *dir, size_t limit)
{
    char path[4200];
    struct stat st;
    size_t want = MAP_START;

    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) == 0)
        while (want < limit && want / 2 < (size_t)st.st_size)
            want *= 2;
    return want < limit ? want : limit;
}

void store_gate_enter(store_t *s)
{
    pthread_mutex_lock(&s->map_mu);
    while (s->map_resizing && txn_depth == 0)
        pthread_cond_wait(&s->map_cv, &s->map_mu);
    s->map_active++;
    pthread_mutex_unlock(&s->map_mu);
    txn_depth++;
}

void store_gate_leave(store_t *s)
{
    txn_depth--;
    pthread_mutex_lock(&s->map_mu);
    if (--s->map_active == 0 && s->map_resizing)
        pthread_cond_broadcast(&s->map_cv);
    pthread_mutex_unlock(&s->map_mu);
}

static size_t map_seen(store_t *s)
{
    size_t v;
    pthread_mutex_lock(&s->map_mu);
    v = s->map_now;
    pthread_mutex_unlock(&s->map_mu);
    return v;
}

/* Waits on map_cv until *flag (under map_mu) is 0 or the deadline passes:
 * 0, or ETIMEDOUT. */
static int wait_until_clear(store_t *s, const unsigned *count, const int *flag,
                            const struct timespec *deadline)
{
    int rc = 0;
    while (rc == 0 && (count ? *count != 0 : *flag != 0))
        rc = pthread_cond_timedwait(&s->map_cv, &s->map_mu, deadline);
    return rc;
}

/* Sets the map to size bytes (0: adopt the size another process committed)
 * unless it changed since the caller saw it at `seen` (then it is done
 * already). The caller has no transaction open. 0, -ETIMEDOUT (open
 * transactions did not end in time), -EDEADLK or an LMDB error. */
static int resize(store_t *s, size_t seen, size_t size)
{
    struct timespec deadline;
    MDB_envinfo info;
    int rc;

    if (txn_depth)
        return -EDEADLK; /* it would wait for the caller's own transaction */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += RESIZE_WAIT_MS / 1000;
    deadline.tv_nsec += (RESIZE_WAIT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->map_mu);
    if ((rc = wait_until_clear(s, NULL, &s->map_resizing, &deadline)) != 0 ||
        s->map_now != seen) {
        pthread_mutex_unlock(&s->map_mu);
        return rc ? -ETIMEDOUT : 0;
    }
    s->map_resizing = 1;
    if ((rc = wait_until_clear(s, &s->map_active, NULL, &deadline)) != 0) {
        rc = -ETIMEDOUT;
    } else if ((rc = map_err(mdb_env_set_mapsize(s->env, size))) == 0 &&
               (rc = map_err(mdb_env_info(s->env, &info))) == 0) {
        s->map_now = info.me_mapsize;
    }
    s->map_resizing = 0;
    pthread_cond_broadcast(&s->map_cv);
    pthread_mutex_unlock(&s->map_mu);
    return rc;
}

static size_t doubled(const store_t *s, size_t map)
{
    return map >= s->map_limit / 2 ? s->map_limit : map * 2;
}

/* Before a write: keeps the map at least twice the data file's high-water
 * mark, up to the limit. A resize that cannot happen now is left for the
 * next write (this one may well fit). */
static void grow_ahead(store_t *s)
{
    MDB_envinfo info;
    MDB_stat st;
    size_t seen = map_seen(s);

    if (seen >= s->map_limit || mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st))
        return;
    if (((size_t)info.me_last_pgno + 1) * st.ms_psize > seen / 2)
        resize(s, seen, doubled(s, seen));
}

int store_map_grow(store_t *s, size_t seen)
{
    if (seen >= s->map_limit)
        return -EFBIG;
    return resize(s, seen, doubled(s, seen)) == 0 ? 0 : -EFBIG;
}

size_t store_map_size(store_t *s)
{
    return map_seen(s);
}

int store_txn_begin(store_t *s, unsigned flags, MDB_txn **txn)
{
    for (int tries = 0;; tries++) {
        size_t seen;
        int rc;

        if (!(flags & MDB_RDONLY) && txn_depth == 0 && tries == 0)
            grow_ahead(s);
        store_gate_enter(s);
        seen = map_seen(s);
        if ((rc = mdb_txn_begin(s->env, NULL, flags, txn)) == 0)
            return 0;
        store_gate_leave(s);
        /* Another process grew the map past ours: adopt its size, once. */
        if (rc != MDB_MAP_RESIZED || tries > 0 || resize(s, seen, 0) != 0)
            return rc;
    }
}

int store_txn_commit(store_t *s, MDB_txn *txn)
{
    int rc = mdb_txn_commit(txn);
    store_gate_leave(s);
    return rc;
}

void store_txn_abort(store_t *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    store_gate_leave(s);
}
