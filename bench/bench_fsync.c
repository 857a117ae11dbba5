/*
 * bench_fsync.c - the disk's own limit for durable writes: how many
 * fsynced LMDB commits per second the file system under DIR takes, one
 * small put per commit, as Patron's store commits (LMDB's default sync
 * mode). A group commit cannot make more commits than this; events per
 * commit times this rate is the most a store on this disk can ingest.
 *
 *   bench_fsync DIR [SECONDS (default 2)]
 *
 * Makes DIR/fsync-probe (an LMDB environment), commits for SECONDS,
 * prints commits/s and the median and p99 commit time, removes the probe.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monotime.h"

#define MAX_SAMPLES 1000000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Commits one put per transaction until `seconds` passed; the commit
 * times (seconds) go to t, their count to *n. 0 or an LMDB error. */
static int commit_loop(MDB_env *env, MDB_dbi dbi, double seconds, double *t, size_t *n)
{
    double end = monotime_seconds() + seconds;
    uint64_t i = 0;

    *n = 0;
    while (*n < MAX_SAMPLES && monotime_seconds() < end) {
        MDB_txn *txn;
        MDB_val k = { sizeof i, &i }, v = { sizeof i, &i };
        double t0 = monotime_seconds();
        int rc;
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
            return rc;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0) {
            mdb_txn_abort(txn);
            return rc;
        }
        if ((rc = mdb_txn_commit(txn)) != 0)
            return rc;
        t[(*n)++] = monotime_seconds() - t0;
        i++;
    }
    return 0;
}

static int open_probe(const char *path, MDB_env **env, MDB_dbi *dbi)
{
    MDB_txn *txn;
    int rc;

    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return errno;
    if ((rc = mdb_env_create(env)) != 0)
        return rc;
    mdb_env_set_mapsize(*env, (size_t)256 << 20);
    if ((rc = mdb_env_open(*env, path, 0, 0600)) != 0 ||
        (rc = mdb_txn_begin(*env, NULL, 0, &txn)) != 0)
        return rc;
    if ((rc = mdb_dbi_open(txn, NULL, 0, dbi)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static void remove_probe(const char *path)
{
    char f[4200];
    snprintf(f, sizeof f, "%s/data.mdb", path);
    unlink(f);
    snprintf(f, sizeof f, "%s/lock.mdb", path);
    unlink(f);
    rmdir(path);
}

int main(int argc, char **argv)
{
    char path[4096];
    double seconds = argc > 2 ? atof(argv[2]) : 2.0, *t;
    MDB_env *env = NULL;
    MDB_dbi dbi;
    size_t n = 0;
    int rc;

    if (argc < 2 || seconds <= 0 || seconds > 60) {
        fputs("usage: bench_fsync DIR [SECONDS (0..60, default 2)]\n", stderr);
        return 2;
    }
    if (snprintf(path, sizeof path, "%s/fsync-probe", argv[1]) >= (int)sizeof path ||
        !(t = malloc(MAX_SAMPLES * sizeof *t)))
        return 1;
    if ((rc = open_probe(path, &env, &dbi)) == 0)
        rc = commit_loop(env, dbi, seconds, t, &n);
    if (env)
        mdb_env_close(env);
    remove_probe(path);
    if (rc || n == 0) {
        fprintf(stderr, "bench_fsync: %s\n", rc ? mdb_strerror(rc) : "no commit");
        free(t);
        return 1;
    }
    {
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += t[i];
        qsort(t, n, sizeof *t, cmp_double);
        printf("disk: %.0f fsynced LMDB commits/s (%zu in %.2f s; commit p50 %.3f ms, "
               "p99 %.3f ms) on %s\n", (double)n / total, n, total, t[n / 2] * 1e3,
               t[n * 99 / 100] * 1e3, argv[1]);
    }
    free(t);
    return 0;
}
