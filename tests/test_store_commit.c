/*
 * test_store_commit.c - the group commit (recsys/store/store_commit.c) and
 * store_record_events_async:
 *
 *  - many threads' single-event batches, submitted without waiting, all
 *    complete once with OK and are all stored (a second recording finds
 *    every one a duplicate);
 *  - every write waiting when a round starts goes into it: writes queued
 *    while a round is in progress are committed together in the next
 *    round, one commit for all (deterministic: they are queued from inside
 *    the round before, which holds the commit until they are);
 *  - in such a round a write that fails undoes only itself, and a
 *    duplicate event id within the round is a duplicate;
 *  - store_close commits what is queued, and every completion has run.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "testutil.h"

#define THREADS 8
#define PER_THREAD 50
#define TIME0 1700000000000LL

/* One async write's outcome as its completion saw it. */
typedef struct done_slot {
    store_event_t ev;
    char id[32], cust[32];
    uint8_t outcome;
    const char *reason;
    atomic_int calls;
    int rc;
} done_slot_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int completed;

static void on_done(void *ctx, int rc)
{
    done_slot_t *d = ctx;
    d->rc = rc;
    atomic_fetch_add(&d->calls, 1);
    pthread_mutex_lock(&mu);
    completed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_completed(int want)
{
    pthread_mutex_lock(&mu);
    while (completed < want)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

/* A signup event (no item needed) with id "<prefix>-<n>". */
static void make_event(done_slot_t *d, const char *prefix, int n)
{
    snprintf(d->id, sizeof d->id, "%s-%d", prefix, n);
    snprintf(d->cust, sizeof d->cust, "c%d", n % 17);
    d->ev = (store_event_t){ .event_id = d->id, .customer_id = d->cust,
                             .type = STORE_EVENT_SIGNUP, .time_ms = TIME0 + n };
    atomic_store(&d->calls, 0);
}

static int submit(store_t *s, done_slot_t *d)
{
    return store_record_events_async(s, &d->ev, 1, &d->outcome, &d->reason, on_done, d);
}

/* Records the slots' events again, synchronously: how many were new. */
static int record_again(store_t *s, done_slot_t *d, int n)
{
    int fresh = 0;
    for (int i = 0; i < n; i++) {
        uint8_t outcome;
        const char *reason;
        CHECK_EQ_INT(store_record_events(s, &d[i].ev, 1, &outcome, &reason), 0);
        fresh += outcome == STORE_ACCEPTED;
    }
    return fresh;
}

typedef struct writer {
    store_t *s;
    done_slot_t slots[PER_THREAD];
    int index;
} writer_t;

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        make_event(&w->slots[i], "conc", w->index * PER_THREAD + i);
        CHECK_EQ_INT(submit(w->s, &w->slots[i]), 0);
    }
    return NULL;
}

static void test_concurrent_writers(store_t *s)
{
    static writer_t w[THREADS];
    pthread_t th[THREADS];
    store_commit_stats_t before, after;
    uint64_t seq0, seq1;

    store_commit_stats(s, &before);
    CHECK_EQ_INT(store_event_seq(s, &seq0), 0);
    completed = 0;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (writer_t){ .s = s, .index = i };
        CHECK_EQ_INT(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    wait_completed(THREADS * PER_THREAD);
    for (int i = 0; i < THREADS; i++) {
        for (int j = 0; j < PER_THREAD; j++) {
            done_slot_t *d = &w[i].slots[j];
            CHECK_EQ_INT(atomic_load(&d->calls), 1);
            CHECK_EQ_INT(d->rc, 0);
            CHECK_EQ_INT(d->outcome, STORE_ACCEPTED);
        }
        CHECK_EQ_INT(record_again(s, w[i].slots, PER_THREAD), 0);
    }
    CHECK_EQ_INT(store_event_seq(s, &seq1), 0);
    CHECK_EQ_INT((int)(seq1 - seq0), THREADS * PER_THREAD);
    store_commit_stats(s, &after);
    /* The async writes plus the synchronous re-recordings. */
    CHECK_EQ_INT((int)(after.writes - before.writes), 2 * THREADS * PER_THREAD);
    CHECK(after.rounds - before.rounds <= after.writes - before.writes);
}

/* ---- one round for everything queued ---------------------------------------- */

#define QUEUED 16

typedef struct hold {
    store_t *s;
    done_slot_t slots[QUEUED];
    pending_t custom[3];
} hold_t;

/* A rerunnable write of key into table "t"; one with fail set writes and
 * then fails. rc: what its completion got. */
typedef struct custom_op {
    store_t *s;
    const char *key;
    int fail, rc;
} custom_op_t;

static int custom_fn(store_t *s, MDB_txn *txn, void *ctx)
{
    custom_op_t *op = ctx;
    store_tx_t tx = { s, txn };
    int rc = store_tx_put(&tx, "t", op->key, strlen(op->key), "v", 1);
    return rc ? rc : op->fail ? -EIO : 0;
}

static custom_op_t custom_ops[3];

static void custom_complete(pending_t *p, int rc)
{
    ((custom_op_t *)p->ctx)->rc = rc;
    pthread_mutex_lock(&mu);
    completed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Runs as a round of its own and, before it commits, queues the writes
 * that must all go into the next round. */
static int queue_during_round(store_tx_t *tx, void *ctx)
{
    hold_t *h = ctx;
    for (int i = 0; i < QUEUED; i++) {
        /* the last one repeats the first one's event id */
        make_event(&h->slots[i], "held", i == QUEUED - 1 ? 0 : i);
        CHECK_EQ_INT(submit(h->s, &h->slots[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        static const char *const keys[3] = { "a", "b", "c" };
        custom_ops[i] = (custom_op_t){ h->s, keys[i], i == 1, 1 };
        h->custom[i] = (pending_t){ .fn = custom_fn, .ctx = &custom_ops[i],
                                    .rerunnable = 1, .complete = custom_complete };
        CHECK_EQ_INT(store_group_submit(h->s, &h->custom[i]), 0);
    }
    return store_tx_put(tx, "t", "round", 5, "1", 1);
}

static int stored(store_t *s, const char *key)
{
    void *val = NULL;
    size_t len;
    int rc = store_table_get(s, "t", key, strlen(key), &val, &len);
    free(val);
    return rc == 0;
}

static void test_one_round_for_the_queued(store_t *s)
{
    static hold_t h;
    store_commit_stats_t before, after;

    h.s = s;
    completed = 0;
    store_commit_stats(s, &before);
    CHECK_EQ_INT(store_table_atomic(s, queue_during_round, &h), 0);
    wait_completed(QUEUED + 3);
    store_commit_stats(s, &after);
    /* The holding round, then one round for all that queued meanwhile. */
    CHECK_EQ_INT((int)(after.rounds - before.rounds), 2);
    /* Every write but the failing custom one was stored. */
    CHECK_EQ_INT((int)(after.writes - before.writes), 1 + QUEUED + 2);
    for (int i = 0; i < QUEUED; i++) {
        CHECK_EQ_INT(atomic_load(&h.slots[i].calls), 1);
        CHECK_EQ_INT(h.slots[i].rc, 0);
        CHECK_EQ_INT(h.slots[i].outcome,
                     i == QUEUED - 1 ? STORE_DUPLICATE : STORE_ACCEPTED);
    }
    /* The failing write undid only itself (its completion got -EIO). */
    CHECK_EQ_INT(custom_ops[0].rc, 0);
    CHECK_EQ_INT(custom_ops[1].rc, -EIO);
    CHECK_EQ_INT(custom_ops[2].rc, 0);
    CHECK(stored(s, "a"));
    CHECK(!stored(s, "b"));
    CHECK(stored(s, "c"));
}

/* ---- close -------------------------------------------------------------------- */

static void test_close_commits_queued(const char *dir)
{
    static done_slot_t d[100];
    store_t *s = NULL;

    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    completed = 0;
    for (int i = 0; i < 100; i++) {
        make_event(&d[i], "closing", i);
        CHECK_EQ_INT(submit(s, &d[i]), 0);
    }
    store_close(s); /* no wait before: close commits the queue */
    CHECK_EQ_INT(completed, 100);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ_INT(d[i].rc, 0);
        CHECK_EQ_INT(d[i].outcome, STORE_ACCEPTED);
    }
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    CHECK_EQ_INT(record_again(s, d, 100), 0);
    store_close(s);
}

static void test_bad_arguments(store_t *s)
{
    uint8_t outcome;
    const char *reason;
    CHECK_EQ_INT(store_record_events_async(s, NULL, 1, &outcome, &reason, on_done, NULL),
                 -EINVAL);
    CHECK_EQ_INT(store_record_events_async(NULL, NULL, 0, &outcome, &reason, on_done, NULL),
                 -EINVAL);
    CHECK_EQ_INT(store_record_events_async(s, NULL, 0, NULL, NULL, NULL, NULL), -EINVAL);
}

int main(void)
{
    const char *dir = test_tmpdir("store-commit");
    store_t *s = NULL;

    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    if (!s)
        TEST_MAIN_END();
    test_bad_arguments(s);
    test_concurrent_writers(s);
    test_one_round_for_the_queued(s);
    store_close(s);
    test_close_commits_queued(dir);
    TEST_MAIN_END();
}
