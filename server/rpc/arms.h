/*
 * arms.h - experiments on the serving path: which arms a customer is in for
 * one call (copied out of the experiment set, so no lock is held while
 * serving), the model the arm names, the coupon policy, and the exposure
 * log written before a response is sent.
 */
#ifndef PATRON_SERVER_ARMS_H
#define PATRON_SERVER_ARMS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "recommend.h"
#include "transport.h"

#define MAX_ARMS_PER_CALL 8

/* What the customer's experiments decide for one call, copied out of the
 * experiment set so no lock is held while serving. The first assignment
 * (layers in name order) chooses the model version, the blend and the
 * diversity settings. */
typedef struct arm_ctx {
    size_t n;
    struct {
        char experiment[EXPERIMENT_MAX_ID + 1], arm[EXPERIMENT_MAX_ID + 1];
        uint32_t arm_index;
        int forced;
    } a[MAX_ARMS_PER_CALL];
    uint64_t model_version;
    float popularity_blend;
    float diversity;            /* for requests that set no diversity */
    uint32_t max_per_category;
    int coupons_off;
    double coupon_lambda;
    int64_t now_ms;
} arm_ctx_t;

/* Assigns customer_id at the current time (no assignment: c->n == 0). */
void arm_ctx_assign(app_t *a, const char *customer_id, arm_ctx_t *c);

/* The model for the arm (or the current one), with a reference, deadline
 * checked; NULL with out set (UNAVAILABLE, DEADLINE_EXCEEDED). */
model_t *model_for_arm(app_t *a, const arm_ctx_t *c, const rpc_call_info_t *ci,
                       rpc_reply_t *out);

/* Logs the response (items shown, may be none) as an exposure in each of
 * the customer's experiments, durably. Returns 0 or a negative errno. */
int log_exposures(app_t *a, const arm_ctx_t *c, const char *customer_id,
                  const char *request_id, const rec_item_t *items, size_t n);

/* Points the provenance's experiment and arm ids at c's first arm. */
void arm_provenance(const arm_ctx_t *c, char **experiment_id, char **arm_id);

#endif
