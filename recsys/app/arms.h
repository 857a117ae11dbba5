/*
 * arms.h - what a customer's experiments decide for one call: the arms they
 * are in, the model version and the recommendation settings the first arm
 * names, and the coupon policy. Copied out of the experiment set, so no
 * lock is held while serving and the exposure log names the same arms.
 */
#ifndef PATRON_RECSYS_ARMS_H
#define PATRON_RECSYS_ARMS_H

#include <stddef.h>
#include <stdint.h>

#include "experiment.h"

#define ARMS_MAX 8   /* experiments one call is served under (one per layer) */

typedef struct arms {
    size_t n;                   /* 0: in no experiment */
    struct {
        char experiment[EXPERIMENT_MAX_ID + 1], arm[EXPERIMENT_MAX_ID + 1];
        uint32_t arm_index;
        int forced;
    } a[ARMS_MAX];
    /* Decided by the first assignment (layers in name order): */
    uint64_t model_version;     /* 0 = the current model */
    float popularity_blend;
    float diversity;            /* for requests that set no diversity */
    uint32_t max_per_category;
    /* Decided by the first arm that sets a coupon policy: */
    int coupons_off;
    double coupon_lambda;       /* > 0: this lambda for every campaign */
    int64_t now_ms;             /* the time the call is decided at */
} arms_t;

/* Fills out from n assignments (experiment_assign's order; more than
 * ARMS_MAX are cut) at now_ms. n == 0 gives the defaults: current model,
 * no blend, no diversity, coupons as the campaigns pace them. */
void arms_from(const experiment_assignment_t *asg, size_t n, int64_t now_ms,
               arms_t *out);

/* The customer's arms in set (NULL: no experiments) at now_ms. The caller
 * holds whatever lock guards set during the call only. More than ARMS_MAX
 * assignments: the first ARMS_MAX. Returns 0, or -EINVAL (a bad customer
 * id; then out is the defaults). */
int arms_assign(const experiment_set_t *set, const char *customer_id, int64_t now_ms,
                arms_t *out);

/* The first arm's experiment and arm ids (borrowed from a), or NULLs. */
void arms_provenance(const arms_t *a, const char **experiment_id, const char **arm_id);

#endif
