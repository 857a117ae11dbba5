/*
 * store_capacity.c - how much of the store's LMDB map is in use
 * (store_usage, see store.h).
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

#include "bytesize.h"

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
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    rc = free_pages(txn, &free_pg);
    /* mdb_env_info reports the newest commit, which may be newer than
     * txn's free list if a writer commits meanwhile: a figure for
     * monitoring, exact when no write runs. */
    if (rc == 0)
        rc = map_err(mdb_env_info(s->env, &info));
    if (rc == 0)
        rc = map_err(mdb_env_stat(s->env, &st));
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    high = (uint64_t)info.me_last_pgno + 1;
    u->page_bytes = st.ms_psize;
    u->file_bytes = high * st.ms_psize;
    u->used_bytes = (high > free_pg ? high - free_pg : 0) * st.ms_psize;
    u->map_bytes = info.me_mapsize;
    u->limit_bytes = s->map_limit;
    return 0;
}

int store_full_check(store_t *s, int rc)
{
    store_usage_t u;
    char used[16], limit[16];

    if (rc != -EFBIG)
        return rc;
    if (store_usage(s, &u) != 0) {
        u.used_bytes = u.limit_bytes = s->map_limit;
    }
    store_set_error("store full: %s of %s map; raise --map-size",
                    bytesize_format(u.used_bytes, used, sizeof used),
                    bytesize_format(u.limit_bytes, limit, sizeof limit));
    return rc;
}
