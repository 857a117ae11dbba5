/*
 * arms.c - a customer's experiment arms for one call (arms.h): which arms,
 * and what they decide for the model, the list and the coupon policy.
 */
#include "arms.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void arms_from(const experiment_assignment_t *asg, size_t n, int64_t now_ms,
               arms_t *out)
{
    memset(out, 0, sizeof *out);
    out->now_ms = now_ms;
    if (n > ARMS_MAX)
        n = ARMS_MAX;
    for (size_t i = 0; i < n; i++) {
        snprintf(out->a[i].experiment, sizeof out->a[i].experiment, "%s",
                 asg[i].experiment->id);
        snprintf(out->a[i].arm, sizeof out->a[i].arm, "%s", asg[i].arm->id);
        out->a[i].arm_index = (uint32_t)asg[i].arm_index;
        out->a[i].forced = asg[i].forced;
    }
    if (n) {
        out->model_version = asg[0].arm->model_version;
        out->popularity_blend = (float)asg[0].arm->popularity_blend;
        out->diversity = (float)asg[0].arm->diversity;
        out->max_per_category = asg[0].arm->max_per_category;
    }
    for (size_t i = 0; i < n; i++)
        if (asg[i].arm->coupons_off || asg[i].arm->coupon_lambda > 0) {
            out->coupons_off = asg[i].arm->coupons_off;
            out->coupon_lambda = asg[i].arm->coupon_lambda;
            break;
        }
    out->n = n;
}

int arms_assign(const experiment_set_t *set, const char *customer_id, int64_t now_ms,
                arms_t *out)
{
    experiment_assignment_t asg[ARMS_MAX];
    size_t n = 0;
    int rc = set ? experiment_assign(set, customer_id, now_ms, asg, ARMS_MAX, &n) : 0;

    if (rc == -ENOBUFS) /* more layers than ARMS_MAX: serve under the first */
        rc = 0;
    arms_from(asg, rc ? 0 : n, now_ms, out);
    return rc;
}

void arms_provenance(const arms_t *a, const char **experiment_id, const char **arm_id)
{
    *experiment_id = a->n ? a->a[0].experiment : NULL;
    *arm_id = a->n ? a->a[0].arm : NULL;
}
