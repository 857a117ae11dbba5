/*
 * exp_report.c - an experiment's results with their statistics and
 * warnings (exp_report.h).
 */
#include "exp_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abstats.h"
#include "expstore.h"

static void diff_from(const abstats_result_t *r, double always_valid_p, exp_diff_t *d)
{
    d->estimate = r->estimate;
    d->relative = isfinite(r->relative) ? r->relative : 0;
    d->ci_lo = r->ci_lo;
    d->ci_hi = r->ci_hi;
    d->p = r->p;
    d->always_valid_p = always_valid_p;
}

/* One per-customer metric with Welch, CUPED and a one-look mSPRT p-value. */
static void mean_metric(const char *name, const abstats_arm_t *ctl, const abstats_arm_t *arm,
                        int is_control, exp_metric_t *m)
{
    abstats_cuped_t cu;
    abstats_msprt_t ms;
    double tau;

    memset(m, 0, sizeof *m);
    m->name = name;
    m->value = arm->mean_y;
    if (is_control || abstats_cuped(ctl, arm, 0.95, &cu) != 0)
        return;
    /* Mixing scale: effects around 5% of the control mean (or its sd). */
    tau = fabs(ctl->mean_y) > 0 ? 0.05 * fabs(ctl->mean_y) : sqrt(abstats_arm_var(ctl)) * 0.1;
    if (tau <= 0 || abstats_msprt_init(&ms, tau * tau, 0.05) != 0 ||
        abstats_msprt_look(&ms, ctl, arm) != 0)
        ms.p = 1;
    diff_from(&cu.plain, ms.p, &m->vs_control);
    m->has_diff = 1;
    diff_from(&cu.adjusted, 0, &m->cuped); /* no sequential test for CUPED */
    m->has_cuped = 1;
    m->cuped_variance_reduction = cu.variance_reduction;
}

static void ratio_metric(const char *name, const abstats_arm_t *ctl, const abstats_arm_t *arm,
                         int is_control, exp_metric_t *m)
{
    abstats_result_t r;
    memset(m, 0, sizeof *m);
    m->name = name;
    m->value = arm->mean_den > 0 ? arm->mean_num / arm->mean_den : 0;
    if (is_control || abstats_ratio(ctl, arm, 0.95, &r) != 0)
        return;
    diff_from(&r, 1, &m->vs_control);
    m->has_diff = 1;
}

static void arm_report(const experiment_t *e, const expstore_results_t *res, size_t i,
                       exp_arm_report_t *a)
{
    const expstore_arm_t *ar = &res->arms[i], *ctl = &res->arms[0];
    int is_ctl = i == 0;

    a->customers = ar->customers;
    a->exposures = ar->exposures;
    a->expected_share = e->arms[i].weight;
    a->conversion_rate = ar->conversion.mean_y;
    a->revenue_per_customer = ar->revenue.mean_y;
    mean_metric("conversion", &ctl->conversion, &ar->conversion, is_ctl, &a->metrics[0]);
    mean_metric("revenue_per_customer", &ctl->revenue, &ar->revenue, is_ctl, &a->metrics[1]);
    mean_metric("margin_per_customer", &ctl->margin, &ar->margin, is_ctl, &a->metrics[2]);
    ratio_metric("click_through", &ctl->ctr, &ar->ctr, is_ctl, &a->metrics[3]);
    ratio_metric("revenue_per_exposure", &ctl->rev_per_exposure, &ar->rev_per_exposure,
                 is_ctl, &a->metrics[4]);
}

/* The sample-ratio check, the planned size and the warning. */
static void verdict(const experiment_t *e, const expstore_results_t *res, exp_report_t *out)
{
    uint64_t observed[EXPERIMENT_MAX_ARMS], smallest = UINT64_MAX;
    double weights[EXPERIMENT_MAX_ARMS], sd, mde, plan;
    abstats_srm_t srm;

    for (size_t i = 0; i < e->n_arms; i++) {
        observed[i] = res->arms[i].customers;
        weights[i] = e->arms[i].weight;
        if (observed[i] < smallest)
            smallest = observed[i];
    }
    if (abstats_srm(observed, weights, e->n_arms, &srm) == 0) {
        out->srm_checked = 1;
        out->sample_ratio_mismatch = srm.mismatch;
        out->srm_p = srm.p;
    }
    /* Planned size for a 5% relative lift in revenue per customer. */
    sd = sqrt(abstats_arm_var(&res->arms[0].revenue));
    mde = 0.05 * fabs(res->arms[0].revenue.mean_y);
    plan = sd > 0 && mde > 0 ? abstats_sample_size(sd, mde, 0.05, 0.8) : 0;
    out->planned_customers_per_arm = isfinite(plan) && plan > 0 ? (uint64_t)ceil(plan) : 0;
    out->underpowered = plan > 0 && (double)smallest < plan;
    if (out->sample_ratio_mismatch)
        snprintf(out->warning, sizeof out->warning, "SAMPLE RATIO MISMATCH (p = %.2g): "
                 "assignment or logging is broken; do not trust any other number", srm.p);
    else if (out->underpowered)
        snprintf(out->warning, sizeof out->warning, "read before the planned size (%llu "
                 "customers per arm, smallest arm %llu): use the always-valid p-values",
                 (unsigned long long)out->planned_customers_per_arm,
                 (unsigned long long)smallest);
}

int exp_report(store_t *s, const experiment_t *e, const catalog_t *cat,
               int64_t attribution_ms, int64_t pre_ms, double deadline, exp_report_t *out)
{
    expstore_results_t *res = calloc(1, sizeof *res);
    int rc;

    memset(out, 0, sizeof *out);
    if (!res)
        return -ENOMEM;
    rc = expstore_results(s, e, cat ? cat->unit_cost : NULL, cat ? cat->n_items : 0,
                          attribution_ms, pre_ms, deadline, res);
    if (rc == 0) {
        out->n_arms = e->n_arms;
        for (size_t i = 0; i < e->n_arms; i++)
            arm_report(e, res, i, &out->arms[i]);
        out->customers_in_two_arms = res->mixed;
        verdict(e, res, out);
    }
    free(res);
    return rc;
}
