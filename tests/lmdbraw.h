/*
 * lmdbraw.h - for store tests that must write what the store API never
 * would (damaged records, the previous release's rows, other format
 * versions): raw LMDB puts and deletes on a closed store's directory.
 */
#ifndef PATRON_TESTS_LMDBRAW_H
#define PATRON_TESTS_LMDBRAW_H

#include <lmdb.h>
#include <string.h>

/* Puts (val != NULL) or deletes key in database db of the store in dir.
 * Returns an LMDB code (0 on success). */
static inline int raw_write(const char *dir, const char *db, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
    int rc = mdb_env_create(&env);
    if (rc)
        return rc;
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_mapsize(env, (size_t)1 << 30);
    if ((rc = mdb_env_open(env, dir, MDB_NOTLS, 0644)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
        if ((rc = mdb_dbi_open(txn, db, MDB_CREATE, &dbi)) == 0)
            rc = val ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
        if (rc == 0 || rc == MDB_NOTFOUND)
            rc = mdb_txn_commit(txn) ? -1 : rc;
        else
            mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

/* A generic-table key: "table NUL key" into buf; returns its length. */
static inline size_t raw_table_key(char *buf, const char *table, const void *key, size_t klen)
{
    size_t tl = strlen(table);
    memcpy(buf, table, tl + 1);
    memcpy(buf + tl + 1, key, klen);
    return tl + 1 + klen;
}

/* Reads key of db into buf (cap bytes); returns its length, or -1. */
static inline long raw_read(const char *dir, const char *db, const void *key, size_t klen,
                     void *buf, size_t cap)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = { klen, (void *)key }, v;
    long n = -1;
    if (mdb_env_create(&env))
        return -1;
    mdb_env_set_maxdbs(env, 16);
    if (mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0644) == 0 &&
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        if (mdb_dbi_open(txn, db, 0, &dbi) == 0 && mdb_get(txn, dbi, &k, &v) == 0 &&
            v.mv_size <= cap) {
            memcpy(buf, v.mv_data, v.mv_size);
            n = (long)v.mv_size;
        }
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return n;
}

#endif
