/*
 * test_srv_health.c - grpc.health.v1.Health/Check through the server's own
 * handler: a stored experiment definition that cannot load at start (its
 * arm pins a model version the store no longer has) makes
 * patron.v1.Experiments NOT_SERVING, while the other services and "" serve;
 * once the definition is fixed, loading again (SIGHUP) makes it SERVING.
 * Before, patrond logged the failure and served without experiments.
 * Watch streams see each of those changes as one message, nothing while
 * nothing changes, SERVICE_UNKNOWN for an unknown service, and
 * NOT_SERVING then the end when the process drains.
 */
#include <errno.h>
#include <string.h>

#include "app.h"
#include "grpc/health/v1/health.pb-c.h"
#include "health_rpc.h"
#include "methods.h"
#include "testexperiment.h"
#include "testutil.h"

#define T0 1718000000000LL

/* The status Check answers for service; -1 if the call failed. */
static int check(app_t *a, const char *service)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *resp;
    rpc_call_info_t ci = { .deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC) };
    rpc_reply_t out;
    uint8_t buf[512];
    size_t len;
    int status;

    req.service = (char *)service;
    len = grpc__health__v1__health_check_request__pack(&req, buf);
    memset(&out, 0, sizeof out);
    h_health_check(a, &ci, buf, len, &out);
    if (out.code != GRPC_STATUS_OK)
        return -1;
    resp = grpc__health__v1__health_check_response__unpack(NULL, out.len, out.body);
    free(out.body);
    if (!resp)
        return -1;
    status = (int)resp->status;
    grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
    return status;
}

enum {
    SERVING = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
    NOT_SERVING = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING,
    SERVICE_UNKNOWN = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN,
    WAITS = -1, /* watch_step: nothing to send yet */
    ENDS = -2,  /* ... the stream ended OK */
};

static void *watch(app_t *a, const char *service)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    rpc_call_info_t ci = { .deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC) };
    rpc_reply_t out;
    uint8_t buf[512];
    size_t len;
    void *st;

    req.service = (char *)service;
    len = grpc__health__v1__health_check_request__pack(&req, buf);
    memset(&out, 0, sizeof out);
    st = health_watch_ops.start(a, &ci, buf, len, &out);
    CHECK(st != NULL);
    return st;
}

/* One next() of a Watch stream: the status it sent, WAITS or ENDS. */
static int watch_step(void *st)
{
    Grpc__Health__V1__HealthCheckResponse *resp;
    rpc_reply_t out;
    int rc, status;

    memset(&out, 0, sizeof out);
    rc = health_watch_ops.next(st, &out);
    if (rc == RPC_STREAM_WAIT)
        return WAITS;
    if (rc == 0)
        return out.code == GRPC_STATUS_OK ? ENDS : -3;
    resp = grpc__health__v1__health_check_response__unpack(NULL, out.len, out.body);
    free(out.body);
    if (!resp)
        return -3;
    status = (int)resp->status;
    grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
    return status;
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
    void *wexp, *wunknown;

    if (store_open(test_tmpdir("srv-health"), 64u << 20, &s) != 0)
        return 1;
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    e.arms[1].model_version = 1;
    CHECK_EQ_INT(expstore_save(s, &e), 0);
    /* Published with no keep function installed (as a release before the
     * fix did): version 1, which the definition pins, is dropped. */
    for (int i = 0; i < STORE_MODELS_KEPT; i++)
        CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);

    model_opts_default(&opts);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(app_init(&a, s, &opts), 0);
    a.api = &patron_api;
    CHECK_EQ_INT(app_reload(&a, &version), 0);
    CHECK_EQ_INT(version, STORE_MODELS_KEPT + 1);

    /* Start: the definition cannot load. A watch from before sees it. */
    wexp = watch(&a, "patron.v1.Experiments");
    wunknown = watch(&a, "patron.v1");
    CHECK_EQ_INT(watch_step(wexp), SERVING);
    CHECK_EQ_INT(watch_step(wexp), WAITS);
    CHECK_EQ_INT(watch_step(wunknown), SERVICE_UNKNOWN);
    CHECK_EQ_INT(watch_step(wunknown), WAITS);
    CHECK_EQ_INT(app_load_experiments(&a), -EINVAL);
    CHECK_EQ_INT(watch_step(wexp), NOT_SERVING);
    CHECK_EQ_INT(watch_step(wexp), WAITS);
    CHECK_EQ_INT(app_load_experiments(&a), -EINVAL); /* no change: nothing sent */
    CHECK_EQ_INT(watch_step(wexp), WAITS);
    CHECK_EQ_INT(watch_step(wunknown), WAITS);
    CHECK_EQ_INT(check(&a, "patron.v1.Experiments"), NOT_SERVING);
    CHECK_EQ_INT(check(&a, "patron.v1.Recommender"), SERVING);
    CHECK_EQ_INT(check(&a, "patron.v1.Events"), SERVING);
    CHECK_EQ_INT(check(&a, ""), SERVING);

    /* Fixed in the store, loaded again (SIGHUP): serving, with it. */
    e.arms[1].model_version = version;
    CHECK_EQ_INT(expstore_save(s, &e), 0);
    CHECK_EQ_INT(app_load_experiments(&a), 0);
    CHECK_EQ_INT(check(&a, "patron.v1.Experiments"), SERVING);
    CHECK_EQ_INT(watch_step(wexp), SERVING);
    CHECK_EQ_INT(watch_step(wexp), WAITS);
    /* A new model swapped in: served before and after, nothing to send. */
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(app_reload(&a, &version), 0);
    CHECK_EQ_INT(watch_step(wexp), WAITS);
    {
        exp_snapshot_t *x = exp_slot_get(&a.experiments);
        CHECK(exp_snapshot_find(x, "pins-gone") != NULL);
        exp_snapshot_unref(x);
    }

    /* Draining: NOT_SERVING once, then the stream ends; Check agrees. */
    app_drain(&a);
    CHECK_EQ_INT(check(&a, "patron.v1.Experiments"), NOT_SERVING);
    CHECK_EQ_INT(check(&a, "patron.v1.Events"), NOT_SERVING);
    CHECK_EQ_INT(watch_step(wexp), NOT_SERVING);
    CHECK_EQ_INT(watch_step(wexp), ENDS);
    CHECK_EQ_INT(watch_step(wunknown), ENDS);
    health_watch_ops.close(wexp);
    health_watch_ops.close(wunknown);

    app_destroy(&a);
    store_close(s);
    TEST_MAIN_END();
}
