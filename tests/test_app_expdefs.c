/*
 * test_app_expdefs.c - experiment definitions after Create/UpdateExperiment
 * (recsys/app/expdefs.h): added at the end or replaced in place, the forced
 * lists deep-copied (the result outlives its inputs), an existing id
 * refused on create and an unknown one on update, the input untouched;
 * unset fields filled from the defaults or the replaced definition.
 */
#include <errno.h>

#include "expdefs.h"
#include "testexperiment.h"
#include "testutil.h"

static experiment_t def(const char *id, const experiment_forced_t *forced, size_t n_forced)
{
    experiment_t e = test_two_arms(id, id, "a", "b", 0);
    e.forced = forced;
    e.n_forced = n_forced;
    return e;
}

int main(void)
{
    experiment_forced_t *f1 = malloc(sizeof *f1);
    experiment_forced_t f2[2] = { { "bo", "b" }, { "cy", "a" } };
    expstore_defs_t cur = { 0 }, next = { 0 }, again = { 0 };
    experiment_t e;
    char err[200] = "";

    if (!f1)
        return 1;
    f1[0] = (experiment_forced_t){ "ann", "a" };
    /* Built up from nothing, as CreateExperiment does. */
    e = def("one", f1, 1);
    CHECK_EQ_INT(expdefs_with(&cur, &e, 0, &next, err, sizeof err), 0);
    CHECK_EQ_INT(next.n, 1);
    CHECK(next.defs[0].forced != f1); /* a copy */
    free(f1);                         /* the result does not need the input */
    CHECK_STREQ(next.defs[0].forced[0].customer_id, "ann");
    e = def("two", f2, 2);
    CHECK_EQ_INT(expdefs_with(&next, &e, 0, &cur, err, sizeof err), 0);
    expstore_defs_free(&next);
    CHECK_EQ_INT(cur.n, 2);
    CHECK_STREQ(cur.defs[0].id, "one");
    CHECK_STREQ(cur.defs[1].id, "two");
    CHECK_STREQ(cur.defs[1].forced[1].customer_id, "cy");
    CHECK(expdefs_find(&cur, "two") == &cur.defs[1]);
    CHECK(expdefs_find(&cur, "three") == NULL);

    /* Create of an existing id, update of an unknown one. */
    e = def("one", NULL, 0);
    CHECK_EQ_INT(expdefs_with(&cur, &e, 0, &next, err, sizeof err), -EEXIST);
    CHECK(strstr(err, "experiment_id") && strstr(err, "exists already"));
    CHECK_EQ_INT(next.n, 0);
    e = def("three", NULL, 0);
    CHECK_EQ_INT(expdefs_with(&cur, &e, 1, &next, err, sizeof err), -ENOENT);
    CHECK(strstr(err, "no experiment 'three'"));

    /* Update replaces in place, keeps the others, leaves cur as it was. */
    e = def("one", NULL, 0);
    e.traffic_fraction = 0.5;
    CHECK_EQ_INT(expdefs_with(&cur, &e, 1, &again, err, sizeof err), 0);
    CHECK_EQ_INT(again.n, 2);
    CHECK_STREQ(again.defs[0].id, "one");
    CHECK(again.defs[0].traffic_fraction == 0.5);
    CHECK_EQ_INT(again.defs[0].n_forced, 0);
    CHECK_EQ_INT(again.defs[1].n_forced, 2);
    CHECK(again.defs[1].forced != cur.defs[1].forced);
    CHECK(cur.defs[0].traffic_fraction == 1.0);
    CHECK_EQ_INT(cur.defs[0].n_forced, 1);
    expstore_defs_free(&again);
    expstore_defs_free(&cur);

    /* Unset fields: the defaults on create, the replaced values on update;
     * set ones are kept. */
    e = def("dflt", NULL, 0);
    e.salt[0] = e.layer[0] = '\0';
    expdefs_defaults(&e, NULL, 777);
    CHECK_STREQ(e.salt, "dflt");
    CHECK_STREQ(e.layer, "default");
    CHECK_EQ_INT(e.start_ms, 777);
    {
        experiment_t prev = def("dflt", NULL, 0), upd = def("dflt", NULL, 0);
        snprintf(prev.salt, sizeof prev.salt, "old-salt");
        snprintf(prev.layer, sizeof prev.layer, "old-layer");
        prev.start_ms = 123;
        upd.salt[0] = upd.layer[0] = '\0';
        expdefs_defaults(&upd, &prev, 777);
        CHECK_STREQ(upd.salt, "old-salt");
        CHECK_STREQ(upd.layer, "old-layer");
        CHECK_EQ_INT(upd.start_ms, 123);
        snprintf(upd.layer, sizeof upd.layer, "new-layer");
        upd.start_ms = 5;
        expdefs_defaults(&upd, &prev, 777);
        CHECK_STREQ(upd.layer, "new-layer");
        CHECK_EQ_INT(upd.start_ms, 5);
    }
    TEST_MAIN_END();
}
