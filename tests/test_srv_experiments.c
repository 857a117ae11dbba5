/*
 * test_srv_experiments.c - Create/UpdateExperiment's write path
 * (app_put_experiment, server/rpc/app.h) over a real store: a definition is
 * validated as a set, stored, and only then served; one that cannot be
 * stored (a full store) is not served either; ids are checked for create
 * and update; a set that names a model version not available changes
 * nothing.
 */
#include <errno.h>

#include "app.h"
#include "expstore.h"
#include "testexperiment.h"
#include "testutil.h"

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

static size_t served_arms(app_t *a)
{
    arms_t arms;
    app_arms(a, "some-customer", 5000, &arms);
    return arms.n;
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

int main(void)
{
    model_opts_t opts = { 0 };
    experiment_t e = def("first", "one"), later = def("later", "two");
    store_t *s = NULL;
    char err[512] = "";
    app_t a;

    CHECK_EQ_INT(store_open(test_tmpdir("srv-exp"), 4u << 20, &s), 0);
    if (!s)
        return 1;
    CHECK_EQ_INT(app_init(&a, s, &opts), 0);
    CHECK_EQ_INT(app_put_experiment(&a, &e, 0, 5000, err, sizeof err), 0);
    CHECK_EQ_INT(stored(s), 1);
    CHECK_EQ_INT(served_arms(&a), 1);

    CHECK_EQ_INT(app_put_experiment(&a, &e, 0, 5000, err, sizeof err), -EEXIST);
    CHECK(strstr(err, "exists already") != NULL);
    CHECK_EQ_INT(app_put_experiment(&a, &later, 1, 5000, err, sizeof err), -ENOENT);

    /* An arm naming a model version that is not available: refused before
     * anything is stored, and the stored definition stays as it was. */
    e.arms[1].model_version = 99;
    CHECK_EQ_INT(app_put_experiment(&a, &e, 1, 5000, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "99") != NULL);
    {
        expstore_defs_t d;
        CHECK_EQ_INT(expstore_load(s, &d), 0);
        CHECK_EQ_INT(d.n, 1);
        if (d.n)
            CHECK_EQ_INT(d.defs[0].arms[1].model_version, 0);
        expstore_defs_free(&d);
    }

    /* A definition that cannot be stored is not served. */
    static experiment_forced_t qa[200];
    for (size_t i = 0; i < 200; i++) {
        memset(qa[i].customer_id, 'q', 250);
        snprintf(qa[i].customer_id + 250, 7, "%06zu", i);
        snprintf(qa[i].arm_id, sizeof qa[i].arm_id, "a");
    }
    later.forced = qa;
    later.n_forced = 200; /* about 50 KB stored */
    fill(s);
    CHECK(app_put_experiment(&a, &later, 0, 5000, err, sizeof err) != 0);
    CHECK(strstr(err, "storing the experiment") != NULL);
    CHECK_EQ_INT(served_arms(&a), 1); /* "later" (layer two) would add one */
    CHECK_EQ_INT(stored(s), 1);

    app_destroy(&a);
    store_close(s);
    TEST_MAIN_END();
}
