/*
 * uplift_ope.h - off-policy evaluation of a coupon targeting policy from the
 * offer log: what would giving coupons to this set of customers have earned,
 * estimated from decisions another policy logged with their probabilities.
 *
 * The estimand is a policy's incremental profit over "no coupon for anyone"
 * on the logged customers: the sum over the customers the policy targets of
 * E[profit | coupon] - E[profit | no coupon], profit = margin - discount.
 * Two estimators, each with a 95 % normal confidence interval from the
 * influence-function (linearization) variance:
 *
 *  - self-normalized inverse propensity (Hajek): over the targeted rows, the
 *    1/p-weighted mean profit of the treated rows minus that of the control
 *    rows, times the number targeted (p: the logged probability of the
 *    logged action, uplift_log_t.assign_prob);
 *  - doubly robust (Dudik, Langford & Li, "Doubly robust policy evaluation
 *    and learning", ICML 2011): an outcome model's predicted difference plus
 *    the 1/p-weighted residuals of the logged action; unbiased if either the
 *    propensities or the outcome model are right, and much tighter than IPS
 *    when the model is decent.
 *
 * Small arms: a targeted set with a handful of rows in one arm (e.g. 20
 * explored control rows of which none bought) shows a within-set variance
 * near 0 by chance, and the interval would be far too narrow. So each arm's
 * share of the variance blends the set's own (sample) variance with what
 * that arm's variance over the whole log implies for the set's weights (IPS:
 * the arm's weighted profit variance; DR: its residual variance around mu),
 * the latter counting as 20 rows against the arm's effective rows in the
 * set (Kish: (sum w)^2 / sum w^2): a prior that matters only for small
 * arms.
 *
 * Positivity: a row whose logged probability is 1 (a guard such as the
 * permanent holdout, or exploration off) says nothing about the other
 * action; the inverse-propensity terms then rest on the rows that were
 * randomized, and DR fills the gap with the outcome model.
 *
 * Pure computation: no storage, no I/O, no global state, deterministic.
 * Errors: 0, -EINVAL (NULL, n == 0, an assign_prob outside [0, 1]) or
 * -ENOMEM.
 */
#ifndef PATRON_RECSYS_UPLIFT_OPE_H
#define PATRON_RECSYS_UPLIFT_OPE_H

#include <stddef.h>
#include <stdint.h>

#include "uplift.h"

#define UPLIFT_OPE_Z95 1.959963984540054

typedef struct uplift_ope_est {
    double value;    /* estimated incremental profit, summed over targeted rows */
    double se;       /* its standard error */
    double lo, hi;   /* value -+ UPLIFT_OPE_Z95 * se */
} uplift_ope_est_t;

typedef struct uplift_ope {
    size_t n_target;            /* rows the policy targets */
    size_t n_target_treated;    /* of those, logged with a coupon */
    uplift_ope_est_t ips;       /* self-normalized inverse propensity */
    uplift_ope_est_t dr;        /* doubly robust (zeros without mu0 / mu1) */
} uplift_ope_t;

/*
 * Evaluates the policy that gives a coupon to the rows with target[i] != 0
 * of logs[0..n). mu0[i], mu1[i]: an outcome model's expected profit of row
 * i without / with the coupon (both NULL: no DR). An arm with no weight
 * among the targeted rows contributes a mean of 0 to IPS. Returns 0,
 * -EINVAL; *out is written only on success.
 */
int uplift_ope_evaluate(const uplift_log_t *logs, size_t n, const uint8_t *target,
                        const double *mu0, const double *mu1, uplift_ope_t *out);

/*
 * The outcome model DR needs, from any uplift model's probabilities for
 * rows[0..n) (p_control[i], p_treated[i]): mu0 = p_control * m0 * basket,
 * mu1 = p_treated * m1 * basket, with basket the row's average basket (the
 * fit rows' mean where it is missing) and m0, m1 the 1/p-weighted ratios of
 * buyers' profit (margin, minus the discount for the treated) to their
 * average basket in fit_rows, per arm (the rows the model was fitted on, or
 * any others; never the evaluated ones, or DR loses its honesty). Writes n
 * values to mu0 and mu1. Returns 0 or -EINVAL.
 */
int uplift_ope_outcomes(const uplift_log_t *fit_rows, size_t n_fit, const uplift_log_t *rows,
                        const double *p_control, const double *p_treated, size_t n,
                        double *mu0, double *mu1);

/*
 * One number to compare rankings on a validation log: the self-normalized
 * IPS estimate of the incremental profit of targeting the top shares[c] of
 * rows[0..n) by score (highest first, ties by lower index; NaN scores never
 * targeted), summed over shares[0..n_shares) (each in (0, 1]). Returns 0,
 * -EINVAL or -ENOMEM.
 */
int uplift_ope_top_value(const uplift_log_t *rows, size_t n, const double *score,
                         const double *shares, size_t n_shares, double *value);

#endif
