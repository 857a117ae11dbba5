/*
 * test_srv_expfix.c - a stored experiment definition that cannot load at
 * start (its arm pins a model version the store no longer has) can be
 * replaced over the API (issue 20): UpdateExperiment with a loadable
 * version stores it, the stored set then loads, and patron.v1.Experiments
 * serves again with the fixed definition. Before, the update answered
 * NOT_FOUND (the served set, empty, was what it replaced) and only editing
 * the store and a SIGHUP could fix it. A replacement that still cannot
 * load is refused and changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "experiments_rpc.h"
#include "methods.h"
#include "patron/v1/experiments.pb-c.h"
#include "testexperiment.h"
#include "testutil.h"

#define T0 1718000000000LL

/* UpdateExperiment of `id` with two arms, the second pinning `version`;
 * returns the status code (message in msg). */
static int update(app_t *a, const char *id, uint64_t version, char *msg, size_t cap)
{
    Patron__V1__UpdateExperimentRequest q = PATRON__V1__UPDATE_EXPERIMENT_REQUEST__INIT;
    Patron__V1__Experiment p = PATRON__V1__EXPERIMENT__INIT;
    Patron__V1__Arm arms[2], *ap[2] = { &arms[0], &arms[1] };
    rpc_call_info_t ci = { .deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC) };
    rpc_reply_t out;
    uint8_t buf[1024];
    size_t len;

    for (int i = 0; i < 2; i++) {
        patron__v1__arm__init(&arms[i]);
        arms[i].weight = 0.5;
    }
    arms[0].arm_id = "control";
    arms[1].arm_id = "treatment";
    arms[1].model_version = version;
    p.experiment_id = (char *)id;
    p.layer = "default";
    p.traffic_fraction = 1;
    p.start_unix_ms = T0;
    p.n_arms = 2;
    p.arms = ap;
    q.experiment = &p;
    len = patron__v1__update_experiment_request__pack(&q, buf);
    memset(&out, 0, sizeof out);
    h_update_experiment(a, &ci, buf, len, &out);
    free(out.body);
    snprintf(msg, cap, "%s", out.message);
    return (int)out.code;
}

/* The version the served definition `id`'s second arm pins; 0 if not served. */
static uint64_t served_version(app_t *a, const char *id)
{
    exp_snapshot_t *x = exp_slot_get(&a->experiments);
    const experiment_t *e = exp_snapshot_find(x, id);
    uint64_t v = e ? e->arms[1].model_version : 0;
    exp_snapshot_unref(x);
    return v;
}

int main(void)
{
    store_t *s = NULL;
    app_t a;
    model_opts_t opts;
    store_model_hdr_t h = { .factors = 1, .n_users = 1, .n_items = 1 };
    float uf[1] = { 1 }, itf[1] = { 1 }, pop[1] = { 1 };
    experiment_t e = test_two_arms("pins-gone", "default", "control", "treatment", T0);
    uint64_t version = 0;
    char msg[512];

    if (store_open(test_tmpdir("srv-expfix"), 64u << 20, &s) != 0)
        return 1;
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    e.arms[1].model_version = 1;
    CHECK_EQ_INT(expstore_save(s, &e), 0);
    /* Published with no keep function installed (as a release before the
     * pin-keeping fix did): version 1, which the definition pins, is gone. */
    for (int i = 0; i < STORE_MODELS_KEPT; i++)
        CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);

    model_opts_default(&opts);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(app_init(&a, s, &opts), 0);
    a.api = &patron_api;
    CHECK_EQ_INT(app_reload(&a, &version), 0);
    CHECK_EQ_INT(app_load_experiments(&a), -EINVAL);
    CHECK(atomic_load(&a.experiments_unloaded));

    /* A replacement that cannot load either: refused, nothing stored. */
    CHECK_EQ_INT(update(&a, "pins-gone", 1, msg, sizeof msg), GRPC_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(msg, "model_version") != NULL);
    CHECK(atomic_load(&a.experiments_unloaded));
    /* Unknown ids are still unknown. */
    CHECK_EQ_INT(update(&a, "no-such", version, msg, sizeof msg), GRPC_STATUS_NOT_FOUND);

    /* The fix: stored, loaded, served. */
    CHECK_EQ_INT(update(&a, "pins-gone", version, msg, sizeof msg), GRPC_STATUS_OK);
    CHECK(!atomic_load(&a.experiments_unloaded));
    CHECK(!exp_slot_unloaded(&a.experiments));
    CHECK_EQ_INT(served_version(&a, "pins-gone"), version);

    /* And it survives a restart's load. */
    CHECK_EQ_INT(app_load_experiments(&a), 0);
    CHECK_EQ_INT(served_version(&a, "pins-gone"), version);

    app_destroy(&a);
    store_close(s);
    TEST_MAIN_END();
}
