/*
 * uplift_ope.c - off-policy estimates of a targeting policy's incremental
 * profit (contract in uplift_ope.h).
 *
 * Both estimators are sums over the targeted rows, so their variance comes
 * from the per-row influence terms: for DR the terms themselves (the
 * estimate is their sum), for the self-normalized IPS the linearization of
 * each arm's ratio mean, IF_i = (a_i/p_i)(r_i - mean1)/S1 - ((1-a_i)/p_i)
 * (r_i - mean0)/S0 with S the arm's mean weight, whose sum of squares is the
 * variance of N * (mean1 - mean0). No resampling: the interval is the same
 * on every run.
 */
#include "uplift_ope.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ASSIGN_PROB 0.5   /* as uplift.c: 0 means unknown */
#define PRIOR_ROWS 20.0           /* weight of the log-wide variance, in rows */

static double inv_prob(const uplift_log_t *l)
{
    return 1.0 / (l->assign_prob > 0.0 ? l->assign_prob : DEFAULT_ASSIGN_PROB);
}

static double profit(const uplift_log_t *l)
{
    return l->margin - l->cost;
}

static int rows_valid(const uplift_log_t *logs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(logs[i].assign_prob >= 0.0 && logs[i].assign_prob <= 1.0))
            return 0;
    return 1;
}

static void set_interval(uplift_ope_est_t *e, double value, double var)
{
    e->value = value;
    e->se = var > 0.0 ? sqrt(var) : 0.0;
    e->lo = value - UPLIFT_OPE_Z95 * e->se;
    e->hi = value + UPLIFT_OPE_Z95 * e->se;
}

/* The 1/p-weighted variance of profit - mu (mu NULL: of profit around the
 * arm's mean) over every row of one arm of the log: the floor of the
 * per-row variance within a targeted set. */
static double arm_variance(const uplift_log_t *logs, size_t n, int treated, const double *mu)
{
    double sw = 0.0, s = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        if ((logs[i].treated != 0) != treated)
            continue;
        double w = inv_prob(&logs[i]), d = profit(&logs[i]) - (mu ? mu[i] : 0.0);
        sw += w;
        s += w * d;
        ss += w * d * d;
    }
    if (!(sw > 0.0))
        return 0.0;
    double m = mu ? 0.0 : s / sw, v = ss / sw - m * m;
    return v > 0.0 ? v : 0.0;
}

/* An arm's variance within a targeted set: the sample-based one and the
 * one the log-wide variance implies, weighted by the set's effective rows
 * in the arm (Kish: (sum w)^2 / sum w^2) against PRIOR_ROWS. */
static double blend(double sample, double pooled, double sw, double sw2)
{
    double n_eff = sw2 > 0.0 ? sw * sw / sw2 : 0.0;
    return (n_eff * sample + PRIOR_ROWS * pooled) / (n_eff + PRIOR_ROWS);
}

/* Hajek IPS over the targeted rows, with its linearized variance; each
 * arm's part at least what the arm's variance over the whole log implies. */
static void ips_estimate(const uplift_log_t *logs, size_t n, const uint8_t *target,
                         size_t nt, uplift_ope_est_t *out)
{
    double pooled[2] = { arm_variance(logs, n, 0, NULL), arm_variance(logs, n, 1, NULL) };
    double w1 = 0.0, w0 = 0.0, s1 = 0.0, s0 = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!target[i])
            continue;
        double w = inv_prob(&logs[i]), r = profit(&logs[i]);
        if (logs[i].treated) {
            w1 += w;
            s1 += w * r;
        } else {
            w0 += w;
            s0 += w * r;
        }
    }
    double m1 = w1 > 0.0 ? s1 / w1 : 0.0, m0 = w0 > 0.0 ? s0 / w0 : 0.0;
    double N = (double)nt, var[2] = { 0.0, 0.0 }, floor_[2] = { 0.0, 0.0 };
    double sw[2] = { 0.0, 0.0 }, sw2[2] = { 0.0, 0.0 };
    /* S = w / N: the arm's mean weight per targeted row */
    for (size_t i = 0; i < n; i++) {
        if (!target[i])
            continue;
        int a = logs[i].treated != 0;
        double w = inv_prob(&logs[i]), r = profit(&logs[i]), W = a ? w1 : w0;
        if (!(W > 0.0))
            continue;
        double f = w * (r - (a ? m1 : m0)) * N / W, g = w * N / W;
        var[a] += f * f;
        floor_[a] += g * g * pooled[a];
        sw[a] += w;
        sw2[a] += w * w;
    }
    set_interval(out, N * (m1 - m0), blend(var[0], floor_[0], sw[0], sw2[0]) +
                                         blend(var[1], floor_[1], sw[1], sw2[1]));
}

/* DR: the sum of per-row terms, variance N * sample variance of the terms,
 * at least the sum of (1/p)^2 times the arm's residual variance over the
 * whole log. */
static void dr_estimate(const uplift_log_t *logs, size_t n, const uint8_t *target,
                        const double *mu0, const double *mu1, size_t nt,
                        uplift_ope_est_t *out)
{
    double pooled[2] = { arm_variance(logs, n, 0, mu0), arm_variance(logs, n, 1, mu1) };
    double sum = 0.0, ss[2] = { 0.0, 0.0 }, floor_[2] = { 0.0, 0.0 };
    double sw[2] = { 0.0, 0.0 }, sw2[2] = { 0.0, 0.0 };
    for (size_t i = 0; i < n; i++) {
        if (!target[i])
            continue;
        double r = profit(&logs[i]), w = inv_prob(&logs[i]);
        double psi = mu1[i] - mu0[i] +
                     (logs[i].treated ? w * (r - mu1[i]) : -w * (r - mu0[i]));
        sum += psi;
    }
    double mean = nt ? sum / (double)nt : 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!target[i])
            continue;
        double r = profit(&logs[i]), w = inv_prob(&logs[i]);
        double psi = mu1[i] - mu0[i] +
                     (logs[i].treated ? w * (r - mu1[i]) : -w * (r - mu0[i]));
        int a = logs[i].treated != 0;
        ss[a] += (psi - mean) * (psi - mean);
        floor_[a] += w * w * pooled[a];
        sw[a] += w;
        sw2[a] += w * w;
    }
    double c = nt > 1 ? (double)nt / (double)(nt - 1) : 0.0;
    set_interval(out, sum, blend(c * ss[0], floor_[0], sw[0], sw2[0]) +
                               blend(c * ss[1], floor_[1], sw[1], sw2[1]));
}

int uplift_ope_evaluate(const uplift_log_t *logs, size_t n, const uint8_t *target,
                        const double *mu0, const double *mu1, uplift_ope_t *out)
{
    uplift_ope_t r;
    if (!logs || n == 0 || !target || !out || (!mu0) != (!mu1) || !rows_valid(logs, n))
        return -EINVAL;
    memset(&r, 0, sizeof r);
    for (size_t i = 0; i < n; i++)
        if (target[i]) {
            r.n_target++;
            r.n_target_treated += logs[i].treated != 0;
        }
    ips_estimate(logs, n, target, r.n_target, &r.ips);
    if (mu0)
        dr_estimate(logs, n, target, mu0, mu1, r.n_target, &r.dr);
    *out = r;
    return 0;
}

/* 1/p-weighted ratio of buyers' profit to their basket in one arm, and the
 * mean basket of rows that have one. */
static void profit_ratio(const uplift_log_t *rows, size_t n, int treated, double *ratio)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        const uplift_log_t *l = &rows[i];
        double b = l->x.average_basket;
        if ((l->treated != 0) != treated || !l->bought || !(isfinite(b) && b > 0.0))
            continue;
        num += inv_prob(l) * profit(l);
        den += inv_prob(l) * b;
    }
    *ratio = den > 0.0 ? num / den : 0.0;
}

int uplift_ope_outcomes(const uplift_log_t *fit_rows, size_t n_fit, const uplift_log_t *rows,
                        const double *p_control, const double *p_treated, size_t n,
                        double *mu0, double *mu1)
{
    if ((n_fit > 0 && !fit_rows) || (n > 0 && (!rows || !p_control || !p_treated || !mu0 ||
                                               !mu1)) ||
        !rows_valid(fit_rows, n_fit))
        return -EINVAL;
    double m0, m1, bsum = 0.0, bn = 0.0;
    profit_ratio(fit_rows, n_fit, 0, &m0);
    profit_ratio(fit_rows, n_fit, 1, &m1);
    for (size_t i = 0; i < n_fit; i++) {
        double b = fit_rows[i].x.average_basket;
        if (isfinite(b) && b > 0.0) {
            bsum += b;
            bn += 1.0;
        }
    }
    double mean_basket = bn > 0.0 ? bsum / bn : 0.0;
    for (size_t i = 0; i < n; i++) {
        double b = rows[i].x.average_basket;
        if (!(isfinite(b) && b > 0.0))
            b = mean_basket;
        mu0[i] = p_control[i] * m0 * b;
        mu1[i] = p_treated[i] * m1 * b;
    }
    return 0;
}

/* ---- comparing rankings on a validation log ----------------------------------------- */

int uplift_ope_top_value(const uplift_log_t *rows, size_t n, const double *score,
                         const double *shares, size_t n_shares, double *value)
{
    if (!rows || !score || !value || (n_shares && !shares) || n == 0)
        return -EINVAL;
    for (size_t c = 0; c < n_shares; c++)
        if (!(shares[c] > 0.0 && shares[c] <= 1.0))
            return -EINVAL;
    size_t *o = malloc(n * sizeof *o);
    uint8_t *in = malloc(n);
    int rc = o && in ? 0 : -ENOMEM;
    size_t m = rc == 0 ? uplift_rank(score, n, o) : 0;
    *value = 0.0;
    for (size_t c = 0; rc == 0 && c < n_shares; c++) {
        size_t k = (size_t)(shares[c] * (double)n);
        uplift_ope_t e;
        memset(in, 0, n);
        for (size_t j = 0; j < k && j < m; j++)
            in[o[j]] = 1;
        if ((rc = uplift_ope_evaluate(rows, n, in, NULL, NULL, &e)) == 0)
            *value += e.ips.value;
    }
    free(o);
    free(in);
    return rc;
}
