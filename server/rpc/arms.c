/*
 * arms.c - what a customer's experiments decide for one call on the serving
 * path (arms.h): assignment copied out of the experiment set, the model the
 * arm names, and the exposure log.
 */
#include "arms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "expstore.h"
#include "wallclock.h"

void arm_ctx_assign(app_t *a, const char *customer_id, arm_ctx_t *c)
{
    experiment_assignment_t asg[MAX_ARMS_PER_CALL];
    size_t n = 0;

    memset(c, 0, sizeof *c);
    c->now_ms = wall_ms();
    app_assign(a, customer_id, c->now_ms, asg, MAX_ARMS_PER_CALL, &n);
    if (n > MAX_ARMS_PER_CALL)
        n = MAX_ARMS_PER_CALL;
    for (size_t i = 0; i < n; i++) {
        snprintf(c->a[i].experiment, sizeof c->a[i].experiment, "%s", asg[i].experiment->id);
        snprintf(c->a[i].arm, sizeof c->a[i].arm, "%s", asg[i].arm->id);
        c->a[i].arm_index = (uint32_t)asg[i].arm_index;
        c->a[i].forced = asg[i].forced;
    }
    if (n) {
        c->model_version = asg[0].arm->model_version;
        c->popularity_blend = (float)asg[0].arm->popularity_blend;
        c->diversity = (float)asg[0].arm->diversity;
        c->max_per_category = asg[0].arm->max_per_category;
    }
    /* The coupon policy comes from the first arm that sets one. */
    for (size_t i = 0; i < n; i++)
        if (asg[i].arm->coupons_off || asg[i].arm->coupon_lambda > 0) {
            c->coupons_off = asg[i].arm->coupons_off;
            c->coupon_lambda = asg[i].arm->coupon_lambda;
            break;
        }
    c->n = n;
    app_experiments_end(a);
}

/* The model for the customer's arm (or the current one), deadline checked. */
model_t *model_for_arm(app_t *a, const arm_ctx_t *c, const rpc_call_info_t *ci,
                              rpc_reply_t *out)
{
    model_t *m = app_model_for(a, c->model_version);
    if (!m && !c->model_version) {
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE,
                 "no model loaded yet: run `patron train` and reload");
        return NULL;
    }
    if (!m) {
        rpc_fail(out, GRPC_STATUS_UNAVAILABLE, "model version %llu of experiment '%s' "
                 "is not loaded", (unsigned long long)c->model_version, c->a[0].experiment);
        return NULL;
    }
    if (rpc_remaining_ms(ci) <= 0) {
        rpc_fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed");
        model_unref(m);
        return NULL;
    }
    return m;
}

/* Logs the response as an exposure in each of the customer's experiments,
 * durably, before it is sent. */
int log_exposures(app_t *a, const arm_ctx_t *c, const char *customer_id,
                         const char *request_id, const rec_item_t *items, size_t n)
{
    uint32_t *ids = NULL;
    int rc = 0;

    if (!c->n)
        return 0;
    if (n && !(ids = malloc(n * sizeof *ids)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].item; /* model item index = store item index */
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        expstore_exposure_t e = { request_id, customer_id, c->a[i].experiment,
                                  c->a[i].arm_index, c->a[i].forced, c->now_ms, ids, n };
        rc = expstore_log(a->store, &e);
    }
    free(ids);
    return rc;
}

void arm_provenance(const arm_ctx_t *c, char **experiment_id, char **arm_id)
{
    if (c->n) {
        *experiment_id = (char *)c->a[0].experiment;
        *arm_id = (char *)c->a[0].arm;
    }
}

