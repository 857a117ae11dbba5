/*
 * test_app_experiments.c - the served experiments (recsys/app/exp_snapshot.h)
 * over a real store: a definition is validated as a set, stored, and only
 * then swapped in; one that cannot be stored (a full store) leaves the
 * served snapshot as it was; ids are checked for create and update; an arm
 * naming a model version that cannot be loaded is refused with the arm
 * named and nothing changes; a request that pinned a snapshot keeps reading
 * it (definitions, set and pinned model) after a swap, and readers racing
 * swaps get arms and model from one snapshot; an update keeps
 * what it leaves unset; an arm naming the
 * served version reuses the served model; concurrent changes are all kept;
 * an erased customer is marked in every pinned model.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "exp_snapshot.h"
#include "testexperiment.h"
#include "testutil.h"

#define WRITERS 6

static experiment_t def(const char *id, const char *layer)
{
    return test_two_arms(id, layer, "a", "b", 1000);
}

static size_t stored(store_t *s)
{
    expstore_defs_t d;
    size_t n;
    CHECK_EQ_INT(expstore_load(s, &d), 0);
    n = d.n;
    expstore_defs_free(&d);
    return n;
}

static size_t served_arms(exp_slot_t *slot)
{
    arms_t arms;
    exp_slot_arms(slot, "some-customer", 5000, &arms, NULL);
    return arms.n;
}

/* Publishes model version 1: two customers, two items, two factors. */
static void publish(store_t *s)
{
    store_model_hdr_t h = { .factors = 2, .n_users = 2, .n_items = 2 };
    float uf[4] = { 1, 2, 3, 4 }, itf[4] = { 1, 0, 0, 1 }, pop[2] = { 1, 1 };
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(h.version, 1);
}

/* Fills the store's map until 4 KiB writes keep failing: what is left
 * cannot hold a definition with a long forced list. */
static void fill(store_t *s)
{
    static char junk[4096];
    unsigned k = 0, fails = 0;

    while (fails < 10 && k < 1000000) {
        char key[32];
        snprintf(key, sizeof key, "junk-%u", k++);
        fails = store_table_put(s, "junk", key, strlen(key), junk, sizeof junk) == 0
                    ? 0 : fails + 1;
    }
}

typedef struct writer {
    exp_slot_t *slot;
    int i, rc;
} writer_t;

static void *write_one(void *arg)
{
    writer_t *w = arg;
    char id[32], err[256];
    experiment_t e;

    snprintf(id, sizeof id, "w%d", w->i);
    e = def(id, id); /* a layer each: the definitions never conflict */
    w->rc = exp_slot_put(w->slot, &e, 0, 5000, err, sizeof err);
    return NULL;
}

/* WRITERS concurrent creates: every one is stored and served. */
static void test_concurrent_changes(exp_slot_t *slot, store_t *s)
{
    pthread_t t[WRITERS];
    writer_t w[WRITERS];
    size_t before = stored(s);
    exp_snapshot_t *x;

    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer_t){ slot, i, -1 };
        CHECK_EQ_INT(pthread_create(&t[i], NULL, write_one, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].rc, 0);
    }
    CHECK_EQ_INT(stored(s), before + WRITERS);
    x = exp_slot_get(slot);
    CHECK_EQ_INT(x->defs.n, before + WRITERS);
    CHECK_EQ_INT(experiment_set_count(x->set), before + WRITERS);
    exp_snapshot_unref(x);
}

/* A request pins a snapshot whose arm pins model version 1; the definition
 * changes under it; the request still reads the old snapshot whole. */
static void test_swap_while_pinned(exp_slot_t *slot, experiment_t e)
{
    static const experiment_forced_t forced[1] = { { "pin-me", "b" } };
    experiment_assignment_t asg[4];
    exp_snapshot_t *old, *now;
    char err[512] = "";
    model_t *m = NULL;
    arms_t arms;
    size_t n = 0;

    e.forced = forced;
    e.n_forced = 1;
    e.arms[1].model_version = 1;
    CHECK_EQ_INT(exp_slot_put(slot, &e, 1, 5000, err, sizeof err), 0);
    old = exp_slot_get(slot);
    CHECK_EQ_INT(old->n_pinned, 1);
    exp_slot_arms(slot, "pin-me", 5000, &arms, &m);
    CHECK_EQ_INT(arms.model_version, 1);
    CHECK(m != NULL && m->hdr.version == 1);

    e.arms[1].model_version = 0; /* back to the served model */
    CHECK_EQ_INT(exp_slot_put(slot, &e, 1, 5000, err, sizeof err), 0);
    now = exp_slot_get(slot);
    CHECK(now != old);
    CHECK_EQ_INT(now->n_pinned, 0);
    /* The pinned snapshot is unchanged and whole. */
    CHECK_EQ_INT(old->n_pinned, 1);
    CHECK_EQ_INT(old->pinned[0]->hdr.version, 1);
    CHECK_EQ_INT(exp_snapshot_find(old, e.id)->arms[1].model_version, 1);
    CHECK_EQ_INT(exp_snapshot_assign(old, "pin-me", 5000, asg, 4, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n)
        CHECK(asg[0].forced && strcmp(asg[0].arm->id, "b") == 0);
    CHECK_EQ_INT(exp_snapshot_find(now, e.id)->arms[1].model_version, 0);
    exp_snapshot_unref(old);
    exp_snapshot_unref(now);
    /* The model the request took outlives the snapshot it came from. */
    CHECK(m && m->hdr.version == 1 && m->hdr.n_users == 2);
    model_unref(m);

    /* Version 0 is the served model: none is loaded here. */
    exp_slot_arms(slot, "pin-me", 5000, &arms, &m);
    CHECK_EQ_INT(arms.model_version, 0);
    CHECK(m == NULL);
}

typedef struct reader {
    exp_slot_t *slot;
    atomic_int *stop;
    long calls, mismatched;
} reader_t;

/* Arms and model as a request takes them, while a writer swaps: the model
 * always matches the arms (both from one snapshot). No model is served, so
 * version 0 gives NULL and version 1 the pinned one. */
static void *read_arms(void *arg)
{
    reader_t *r = arg;
    while (!atomic_load(r->stop) || r->calls < 100) {
        arms_t arms;
        model_t *m = NULL;
        exp_slot_arms(r->slot, "pin-me", 5000, &arms, &m);
        if (arms.model_version ? !m || m->hdr.version != arms.model_version : m != NULL)
            r->mismatched++;
        model_unref(m);
        r->calls++;
    }
    return NULL;
}

static void test_swaps_under_readers(exp_slot_t *slot, experiment_t e)
{
    static const experiment_forced_t forced[1] = { { "pin-me", "b" } };
    atomic_int stop;
    reader_t r[2];
    pthread_t t[2];
    char err[512] = "";

    atomic_init(&stop, 0);
    e.forced = forced;
    e.n_forced = 1;
    for (int i = 0; i < 2; i++) {
        r[i] = (reader_t){ slot, &stop, 0, 0 };
        CHECK_EQ_INT(pthread_create(&t[i], NULL, read_arms, &r[i]), 0);
    }
    for (int k = 0; k < 40; k++) {
        e.arms[1].model_version = (uint64_t)(k % 2);
        CHECK_EQ_INT(exp_slot_put(slot, &e, 1, 5000, err, sizeof err), 0);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK(r[i].calls >= 100);
        CHECK_EQ_INT(r[i].mismatched, 0);
    }
}

/* An arm naming the served version pins the served model (no second load),
 * and an erasure marks the customer in it. */
static void test_reuse_and_erase(exp_slot_t *slot, model_slot_t *models, store_t *s,
                                 const model_opts_t *opts, experiment_t e)
{
    char err[512] = "";
    exp_snapshot_t *x;
    model_t *served = NULL;

    CHECK_EQ_INT(model_load(s, 1, opts, &served), 0);
    if (!served)
        return;
    model_slot_set(models, model_ref(served));
    e.arms[0].model_version = 1;
    CHECK_EQ_INT(exp_slot_put(slot, &e, 1, 5000, err, sizeof err), 0);
    x = exp_slot_get(slot);
    CHECK_EQ_INT(x->n_pinned, 1);
    CHECK(x->pinned[0] == served);
    CHECK(!model_user_erased(x->pinned[0], 1));
    exp_slot_erase_user(slot, 1);
    CHECK(model_user_erased(x->pinned[0], 1));
    CHECK(!model_user_erased(x->pinned[0], 0));
    exp_snapshot_unref(x);
    model_unref(served);
}

int main(void)
{
    model_opts_t opts;
    experiment_t e = def("first", "one"), later = def("later", "two");
    exp_snapshot_t *before, *after;
    model_slot_t models;
    exp_slot_t slot;
    store_t *s = NULL;
    char err[512] = "";

    CHECK_EQ_INT(store_open(test_tmpdir("app-exp"), 4u << 20, &s), 0);
    if (!s)
        return 1;
    model_opts_default(&opts);
    model_slot_init(&models);
    CHECK_EQ_INT(exp_slot_init(&slot, s, &models, &opts), 0);
    CHECK_EQ_INT(served_arms(&slot), 0);
    CHECK_EQ_INT(exp_slot_put(&slot, &e, 0, 5000, err, sizeof err), 0);
    CHECK_EQ_INT(stored(s), 1);
    CHECK_EQ_INT(served_arms(&slot), 1);

    CHECK_EQ_INT(exp_slot_put(&slot, &e, 0, 5000, err, sizeof err), -EEXIST);
    CHECK(strstr(err, "exists already") != NULL);
    CHECK_EQ_INT(exp_slot_put(&slot, &later, 1, 5000, err, sizeof err), -ENOENT);
    {
        /* An update leaving salt, layer and start unset keeps the served
         * ones; a definition that is invalid is refused naming the field. */
        experiment_t upd = e, bad = def("bad", "three");
        exp_snapshot_t *x;
        upd.salt[0] = upd.layer[0] = '\0';
        upd.start_ms = 0;
        CHECK_EQ_INT(exp_slot_put(&slot, &upd, 1, 9999, err, sizeof err), 0);
        CHECK_STREQ(upd.layer, "one");
        x = exp_slot_get(&slot);
        CHECK_STREQ(exp_snapshot_find(x, "first")->salt, "first");
        CHECK_EQ_INT(exp_snapshot_find(x, "first")->start_ms, 1000);
        exp_snapshot_unref(x);
        bad.arms[0].weight = -1;
        CHECK_EQ_INT(exp_slot_put(&slot, &bad, 0, 5000, err, sizeof err), -EINVAL);
        CHECK(strstr(err, "weight") != NULL);
        CHECK_EQ_INT(stored(s), 1);
    }

    /* An arm naming a model version that cannot be loaded: refused, the arm
     * named, before anything is stored; the served snapshot stays. */
    before = exp_slot_get(&slot);
    e.arms[1].model_version = 99;
    CHECK_EQ_INT(exp_slot_put(&slot, &e, 1, 5000, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "arm 'b'") != NULL);
    CHECK(strstr(err, "version 99") != NULL);
    CHECK(strstr(err, "experiment 'first'") != NULL);
    after = exp_slot_get(&slot);
    CHECK(after == before);
    exp_snapshot_unref(after);
    exp_snapshot_unref(before);
    {
        expstore_defs_t d;
        CHECK_EQ_INT(expstore_load(s, &d), 0);
        CHECK_EQ_INT(d.n, 1);
        if (d.n)
            CHECK_EQ_INT(d.defs[0].arms[1].model_version, 0);
        expstore_defs_free(&d);
    }
    e.arms[1].model_version = 0;

    publish(s);
    test_swap_while_pinned(&slot, e);
    test_swaps_under_readers(&slot, e);
    test_reuse_and_erase(&slot, &models, s, &opts, e);
    test_concurrent_changes(&slot, s);

    /* The stored definitions serve as they were written (a restart). */
    before = exp_slot_get(&slot);
    CHECK_EQ_INT(exp_slot_load(&slot, err, sizeof err), 0);
    after = exp_slot_get(&slot);
    CHECK(after != before);
    CHECK_EQ_INT(after->defs.n, before->defs.n);
    CHECK_EQ_INT(after->n_pinned, 1);
    exp_snapshot_unref(after);
    exp_snapshot_unref(before);

    /* A definition that cannot be stored is not served: the served snapshot
     * is the same one, and the store holds what it held. */
    static experiment_forced_t qa[200];
    for (size_t i = 0; i < 200; i++) {
        memset(qa[i].customer_id, 'q', 250);
        snprintf(qa[i].customer_id + 250, 7, "%06zu", i);
        snprintf(qa[i].arm_id, sizeof qa[i].arm_id, "a");
    }
    later.forced = qa;
    later.n_forced = 200; /* about 50 KB stored */
    size_t n_stored = stored(s);
    before = exp_slot_get(&slot);
    fill(s);
    CHECK(exp_slot_put(&slot, &later, 0, 5000, err, sizeof err) != 0);
    CHECK(strstr(err, "storing the experiment") != NULL);
    after = exp_slot_get(&slot);
    CHECK(after == before);
    CHECK(exp_snapshot_find(after, "later") == NULL);
    exp_snapshot_unref(after);
    exp_snapshot_unref(before);
    CHECK_EQ_INT(served_arms(&slot), 1 + WRITERS); /* "later" (layer two) would add one */
    CHECK_EQ_INT(stored(s), n_stored);

    exp_slot_destroy(&slot);
    model_slot_destroy(&models);
    store_close(s);
    TEST_MAIN_END();
}
