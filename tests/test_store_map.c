/*
 * test_store_map.c - the store's map grows: ahead of writes (it stays at
 * least twice the data file), after a write too large for its free half
 * (a model publish, run again whole), up to the limit and no further; and
 * a map another process grew is adopted (MDB_MAP_RESIZED) instead of every
 * transaction failing; readers on other threads go on through the resizes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_record.h"
#include "testutil.h"

#define MIB ((size_t)1 << 20)

static unsigned char val[1 << 20];

/* Puts n values of 1 MiB under keys prefix0000...; returns how many went in. */
static int fill(store_t *s, const char *prefix, int n)
{
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s%04d", prefix, i);
        if (store_table_put(s, "fill", key, strlen(key), val, sizeof val) != 0)
            return i;
    }
    return n;
}

static uint64_t map_bytes(store_t *s)
{
    store_usage_t u;
    CHECK_EQ_INT(store_usage(s, &u), 0);
    CHECK(u.file_bytes <= u.map_bytes);
    CHECK(u.map_bytes <= u.limit_bytes);
    return u.map_bytes;
}

static void test_grows_ahead_up_to_the_limit(const char *dir)
{
    store_t *s = NULL;
    int rc;

    CHECK_EQ_INT(store_open(dir, 256 * MIB, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(map_bytes(s), 64 * MIB); /* a new store starts small */
    CHECK_EQ_INT(fill(s, "a", 100), 100); /* 100 MiB */
    CHECK_EQ_INT(map_bytes(s), 256 * MIB);
    /* At the limit the map stops: the store fills and says so. */
    rc = fill(s, "b", 250);
    CHECK(rc >= 120 && rc < 156); /* 220..255 MiB in all: the whole limit */
    rc = store_table_put(s, "fill", "last", 4, val, sizeof val);
    CHECK_EQ_INT(rc, -EFBIG);
    CHECK(strstr(store_strerror(rc), "store full: ") != NULL);
    CHECK(strstr(store_strerror(rc), " of 256.0 MiB map; raise --map-size") != NULL);
    CHECK_EQ_INT(map_bytes(s), 256 * MIB);
    store_close(s);
    /* Reopened, the map starts at twice the data (the limit here). */
    CHECK_EQ_INT(store_open(dir, 1024 * MIB, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(map_bytes(s), 512 * MIB);
    CHECK_EQ_INT(store_table_put(s, "fill", "last", 4, val, sizeof val), 0);
    store_close(s);
}

/* One write larger than the map's free half: a 73 MiB model into a 64 MiB
 * map grows it and is published whole. */
static void test_large_write_grows_and_runs_again(const char *dir)
{
    store_t *s = NULL;
    store_model_hdr_t hdr = { .factors = 64, .n_users = 300000, .n_items = 10 };
    size_t nu = (size_t)hdr.n_users * hdr.factors, ni = (size_t)hdr.n_items * hdr.factors;
    float *user_f = calloc(nu, sizeof *user_f), *item_f = calloc(ni, sizeof *item_f);
    float pop[10] = { 0 }, *u2 = NULL, *i2 = NULL, *p2 = NULL;
    store_model_hdr_t got;

    CHECK(user_f && item_f);
    CHECK_EQ_INT(store_open(dir, 1024 * MIB, &s), 0);
    if (!s || !user_f || !item_f)
        goto out;
    CHECK_EQ_INT(map_bytes(s), 64 * MIB);
    user_f[nu - 1] = 7.5f;
    CHECK_EQ_INT(store_publish_model(s, &hdr, user_f, item_f, pop), 0);
    CHECK_EQ_INT(hdr.version, 1);
    CHECK(map_bytes(s) >= 128 * MIB);
    CHECK_EQ_INT(store_load_model(s, 0, &got, &u2, &i2, &p2), 0);
    CHECK_EQ_INT(got.n_users, 300000);
    CHECK(u2 && u2[nu - 1] == 7.5f);
out:
    free(u2);
    free(i2);
    free(p2);
    free(user_f);
    free(item_f);
    store_close(s);
}

/* Another process grows the map past this one's and writes beyond it:
 * this process adopts the new size and reads on. */
static void test_adopts_a_map_another_process_grew(const char *dir)
{
    store_t *s = NULL;
    void *got = NULL;
    size_t len = 0;
    pid_t pid;
    int status = -1;

    CHECK_EQ_INT(store_open(dir, 64 * MIB, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(fill(s, "p", 10), 10);
    CHECK_EQ_INT(map_bytes(s), 64 * MIB);
    pid = fork();
    if (pid == 0) { /* a second process on the same store, with a larger limit */
        store_t *c = NULL;
        int ok = store_open(dir, 512 * MIB, &c) == 0 && fill(c, "c", 100) == 100;
        store_close(c);
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(store_table_get(s, "fill", "c0099", 5, &got, &len), 0);
    CHECK_EQ_INT(len, sizeof val);
    free(got);
    CHECK(map_bytes(s) > 100 * MIB);
    CHECK_EQ_INT(store_table_get(s, "fill", "p0009", 5, &got, &len), 0);
    free(got);
    store_close(s);
}

typedef struct reader {
    store_t *s;
    atomic_int *stop;
    long reads, bad;
} reader_t;

/* Reads one row over and over (each read its own transaction). */
static void *read_loop(void *arg)
{
    reader_t *r = arg;
    while (!atomic_load(r->stop)) {
        void *got = NULL;
        size_t len = 0;
        if (store_table_get(r->s, "fill", "r0000", 5, &got, &len) != 0 || len != sizeof val)
            r->bad++;
        free(got);
        r->reads++;
    }
    return NULL;
}

/* Four threads read without pause while writes grow the map three times:
 * every resize waits for their open transactions, none of their reads
 * fails, and nothing hangs. */
static void test_readers_go_on_through_resizes(const char *dir)
{
    store_t *s = NULL;
    pthread_t th[4];
    reader_t rd[4];
    atomic_int stop = 0;

    CHECK_EQ_INT(store_open(dir, 1024 * MIB, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(fill(s, "r", 1), 1);
    for (int i = 0; i < 4; i++) {
        rd[i] = (reader_t){ s, &stop, 0, 0 };
        CHECK_EQ_INT(pthread_create(&th[i], NULL, read_loop, &rd[i]), 0);
    }
    CHECK_EQ_INT(fill(s, "w", 200), 200); /* 200 MiB: 64 -> 128 -> 256 -> 512 */
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(rd[i].reads > 0);
        CHECK_EQ_INT(rd[i].bad, 0);
    }
    CHECK_EQ_INT(map_bytes(s), 512 * MIB);
    store_close(s);
}

int main(void)
{
    memset(val, 0x42, sizeof val);
    test_grows_ahead_up_to_the_limit(test_tmpdir("store-map-grow"));
    test_large_write_grows_and_runs_again(test_tmpdir("store-map-large"));
    test_adopts_a_map_another_process_grew(test_tmpdir("store-map-resized"));
    test_readers_go_on_through_resizes(test_tmpdir("store-map-readers"));
    TEST_MAIN_END();
}
