/*
 * store_commit.c - the group commit: concurrent writes share one LMDB
 * transaction, so one fsync serves all of them (see store_internal.h for
 * pending_t and the queue in store_t).
 *
 * Writes queue on the store. Whoever finds no round in progress takes the
 * whole queue as the next round, commits it in one transaction and
 * completes every write of it; writes that arrive meanwhile queue up and
 * go together in the round after. Two kinds of writer share the queue:
 *
 *   - a caller of store_group_write waits on the queue's condition; if no
 *     round is in progress it leads one itself (leader/follower);
 *   - an asynchronous write (store_group_submit) does not wait: one of
 *     STORE_COMMITTERS threads, started by the first such write, leads the
 *     round and calls the write's completion afterwards. A server thread
 *     can thus hand over a write and go on serving other calls, and every
 *     write waiting when a round starts is in it, however few threads
 *     submitted them.
 *
 * A round of one write runs it in the top-level transaction. A round of
 * several runs them flat in the top-level transaction when all can run
 * again (pending_t.rerunnable): no nested transaction at all, which LMDB
 * makes cost a few MB of buffers each. If one of them fails, that attempt
 * is aborted and the round runs again the safe way: each write in a nested
 * transaction of its own, so a failing write undoes only itself. A failed
 * commit fails the whole round (then none of its writes was stored).
 */
#include "store_internal.h"

#include <stdlib.h>

/* ---- one round ------------------------------------------------------------------ */

/* Records fn's error message (store_record.h) for the caller's thread. */
static void keep_error(pending_t *p)
{
    if (p->rc == -EBADMSG)
        store_get_error(p->error);
}

/* A round of one write runs in the top-level transaction itself: aborting
 * it undoes only this write. */
static int commit_single(store_t *s, MDB_txn *txn, pending_t *p)
{
    p->rc = p->fn(s, txn, p->ctx);
    if (p->rc) {
        keep_error(p);
        store_txn_abort(s, txn);
        return 0;
    }
    return map_err(store_txn_commit(s, txn));
}

/* Every write in the top-level transaction. 1 when one failed (the
 * transaction is aborted, nothing stored: run the round nested), else the
 * commit's result. */
static int commit_flat(store_t *s, MDB_txn *txn, pending_t *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((v[i]->rc = v[i]->fn(s, txn, v[i]->ctx)) != 0) {
            store_txn_abort(s, txn);
            return 1;
        }
    }
    return map_err(store_txn_commit(s, txn));
}

/* Each write in a nested transaction of its own. */
static int commit_nested(store_t *s, MDB_txn *txn, pending_t *const *v, size_t n)
{
    int rc;

    for (size_t i = 0; i < n; i++) {
        pending_t *p = v[i];
        MDB_txn *child;
        if ((rc = mdb_txn_begin(s->env, txn, 0, &child)) != 0) {
            store_txn_abort(s, txn);
            return map_err(rc);
        }
        p->rc = p->fn(s, child, p->ctx);
        if (p->rc) {
            keep_error(p);
            mdb_txn_abort(child);
            continue;
        }
        if ((rc = mdb_txn_commit(child)) != 0) {
            store_txn_abort(s, txn);
            return map_err(rc);
        }
    }
    return map_err(store_txn_commit(s, txn));
}

static int all_rerunnable(pending_t *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i]->rerunnable)
            return 0;
    return 1;
}

/* Commits v[0..n) in one transaction. Returns the commit's result; each
 * write's own result is in its rc. */
static int commit_round(store_t *s, pending_t *const *v, size_t n)
{
    MDB_txn *txn;
    int rc;

    if ((rc = store_txn_begin(s, 0, &txn)) != 0)
        return map_err(rc);
    if (n == 1)
        return commit_single(s, txn, v[0]);
    if (all_rerunnable(v, n)) {
        if ((rc = commit_flat(s, txn, v, n)) != 1)
            return rc;
        if ((rc = store_txn_begin(s, 0, &txn)) != 0)
            return map_err(rc);
    }
    return commit_nested(s, txn, v, n);
}

/* Keeps, in v, the asynchronous rerunnable writes that met a full map. */
static size_t keep_full(pending_t **v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i]->complete && v[i]->rerunnable && v[i]->rc == -EFBIG)
            v[k++] = v[i];
    return k;
}

/* Commits the round in `list` and sets every write's rc. Asynchronous
 * writes that can run again do so once the map grew (a caller of
 * store_group_write reruns its own). Counts the round in the stats. */
static void run_round(store_t *s, pending_t *list)
{
    pending_t *one[1], **v = one;
    size_t n = 0, k = 0, committed = 0;

    for (pending_t *p = list; p; p = p->next)
        n++;
    if (n > 1 && !(v = malloc(n * sizeof *v))) {
        for (pending_t *p = list; p; p = p->next)
            p->rc = -ENOMEM;
        return;
    }
    for (pending_t *p = list; p; p = p->next)
        v[k++] = p;
    while (n) {
        size_t seen = store_map_size(s);
        int rc = commit_round(s, v, n);
        for (size_t i = 0; i < n; i++) {
            if (rc)
                v[i]->rc = rc;
            else
                committed += v[i]->rc == 0;
        }
        pthread_mutex_lock(&s->gc_mu);
        s->gc_rounds += rc == 0;
        pthread_mutex_unlock(&s->gc_mu);
        n = keep_full(v, n);
        if (n == 0 || store_map_grow(s, seen) != 0)
            break;
    }
    pthread_mutex_lock(&s->gc_mu);
    s->gc_writes += committed;
    pthread_mutex_unlock(&s->gc_mu);
    if (v != one)
        free(v);
}

/* An asynchronous write's completion, on the committing thread. */
static void complete(store_t *s, pending_t *p)
{
    int rc = p->rc;
    if (rc == -EBADMSG && p->error[0])
        store_set_error("%s", p->error);
    p->complete(p, store_full_check(s, rc));
}

/*
 * With gc_mu held and no round in progress: takes the queue as one round,
 * commits it and completes its writes; returns with gc_mu held. Waiting
 * callers are woken as soon as the round is over (and one of them, or a
 * committer, may lead the next round); asynchronous completions run after
 * that, with the lock released.
 */
static void lead_round(store_t *s)
{
    pending_t *list = s->queue, *async = NULL, **tail = &async;

    s->queue = NULL;
    s->queue_tail = &s->queue;
    s->committing = 1;
    pthread_mutex_unlock(&s->gc_mu);
    run_round(s, list);
    pthread_mutex_lock(&s->gc_mu);
    for (pending_t *p = list, *next; p; p = next) {
        next = p->next; /* a waiter's p may be gone once it sees done */
        if (p->complete) {
            *tail = p;
            tail = &p->next;
        } else {
            p->done = 1;
        }
    }
    *tail = NULL;
    s->committing = 0;
    pthread_cond_broadcast(&s->gc_cv);
    pthread_mutex_unlock(&s->gc_mu);
    for (pending_t *p = async, *next; p; p = next) {
        next = p->next; /* p belongs to its completion from here */
        complete(s, p);
    }
    pthread_mutex_lock(&s->gc_mu);
}

static void enqueue(store_t *s, pending_t *p)
{
    p->next = NULL;
    *s->queue_tail = p;
    s->queue_tail = &p->next;
}

/* ---- waiting writers -------------------------------------------------------------- */

int store_group_write(store_t *s, int (*fn)(store_t *, MDB_txn *, void *), void *ctx,
                      int rerunnable)
{
    pending_t me = { .fn = fn, .ctx = ctx, .rerunnable = rerunnable };

    pthread_mutex_lock(&s->gc_mu);
    /* me lives on this stack until done is set; by then the leader has
     * taken it off the queue (queue and queue_tail were reset). */
    /* cppcheck-suppress autoVariables ; dequeued before this frame returns */
    enqueue(s, &me);
    while (!me.done) {
        if (!s->committing)
            lead_round(s);
        else
            pthread_cond_wait(&s->gc_cv, &s->gc_mu);
    }
    pthread_mutex_unlock(&s->gc_mu);
    if (me.rc == -EBADMSG && me.error[0])
        store_set_error("%s", me.error);
    return store_full_check(s, me.rc);
}

/* ---- asynchronous writers ---------------------------------------------------------- */

static void *committer_main(void *arg)
{
    store_t *s = arg;

    pthread_mutex_lock(&s->gc_mu);
    for (;;) {
        if (s->queue && !s->committing)
            lead_round(s);
        else if (s->gc_stop && !s->queue)
            break;
        else
            pthread_cond_wait(&s->gc_cv, &s->gc_mu);
    }
    pthread_mutex_unlock(&s->gc_mu);
    return NULL;
}

/* With gc_mu held: starts the committers if none runs. 0, or -EAGAIN. */
static int committers_start(store_t *s)
{
    while (s->n_committers < STORE_COMMITTERS) {
        if (pthread_create(&s->committers[s->n_committers], NULL, committer_main, s) != 0)
            break;
        s->n_committers++;
    }
    return s->n_committers ? 0 : -EAGAIN;
}

int store_group_submit(store_t *s, pending_t *p)
{
    int rc;

    p->rc = 0;
    p->done = 0;
    p->error[0] = '\0';
    pthread_mutex_lock(&s->gc_mu);
    if ((rc = s->gc_stop ? -EAGAIN : committers_start(s)) == 0) {
        enqueue(s, p);
        pthread_cond_broadcast(&s->gc_cv);
    }
    pthread_mutex_unlock(&s->gc_mu);
    return rc;
}

void store_commit_stop(store_t *s)
{
    unsigned n;

    pthread_mutex_lock(&s->gc_mu);
    s->gc_stop = 1;
    n = s->n_committers;
    pthread_cond_broadcast(&s->gc_cv);
    pthread_mutex_unlock(&s->gc_mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(s->committers[i], NULL);
    s->n_committers = 0;
}

void store_commit_stats(store_t *s, store_commit_stats_t *out)
{
    pthread_mutex_lock(&s->gc_mu);
    out->rounds = s->gc_rounds;
    out->writes = s->gc_writes;
    pthread_mutex_unlock(&s->gc_mu);
}
