/*
 * clv.c - BG/NBD and Gamma-Gamma: likelihoods, maximum-likelihood fit and
 * per-customer predictions (contract and references in clv.h).
 *
 * The fit minimizes the negative log-likelihood with Nelder-Mead over the
 * logarithms of the parameters: every parameter must stay positive, the
 * surface is smooth but badly scaled (alpha is in days, r near 0.1..1), and
 * the simplex needs no gradient. Each fit restarts from its best vertex
 * until a restart no longer improves the optimum (Nelder-Mead can stall on
 * a ridge; a fresh simplex gets it moving again).
 */
#include "clv.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- summaries ----------------------------------------------------------------- */

int clv_summary_ok(const clv_summary_t *s)
{
    if (!s || !isfinite(s->x) || !isfinite(s->t_x) || !isfinite(s->T) ||
        !isfinite(s->n) || !isfinite(s->mean_spend))
        return 0;
    if (s->x < 0 || s->t_x < 0 || s->T < 0 || s->t_x > s->T || s->n < 0)
        return 0;
    return s->x == 0 || s->T > 0;
}

static double lbeta(double a, double b)
{
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* log(exp(u) + exp(v)) without overflow. */
static double log_add(double u, double v)
{
    double hi = u > v ? u : v, lo = u > v ? v : u;
    if (hi == -HUGE_VAL)
        return -HUGE_VAL;
    return hi + log1p(exp(lo - hi));
}

static int positive(double v)
{
    return isfinite(v) && v > 0;
}

/* ---- BG/NBD ---------------------------------------------------------------------- */

/* One customer's log-likelihood (FHL 2005 eq. 6):
 *   L = Γ(r+x) α^r / Γ(r) * [ B(a, b+x)/B(a,b) (α+T)^-(r+x)
 *                             + δ(x>0) B(a+1, b+x-1)/B(a,b) (α+t_x)^-(r+x) ] */
static double bgnbd_ll1(const clv_bgnbd_t *bg, double lb_ab, double lg_r,
                        const clv_summary_t *s)
{
    double r = bg->r, al = bg->alpha, a = bg->a, b = bg->b, x = s->x;
    double head = lgamma(r + x) - lg_r + r * log(al);
    double alive = lbeta(a, b + x) - lb_ab - (r + x) * log(al + s->T);
    double dead = -HUGE_VAL;
    if (x > 0)
        dead = lbeta(a + 1, b + x - 1) - lb_ab - (r + x) * log(al + s->t_x);
    return head + log_add(alive, dead);
}

double clv_bgnbd_loglik(const clv_bgnbd_t *bg, const clv_summary_t *c, size_t n)
{
    double ll = 0;
    if (!positive(bg->r) || !positive(bg->alpha) || !positive(bg->a) || !positive(bg->b))
        return -HUGE_VAL;
    double lb_ab = lbeta(bg->a, bg->b), lg_r = lgamma(bg->r);
    for (size_t i = 0; i < n; i++)
        ll += bgnbd_ll1(bg, lb_ab, lg_r, &c[i]);
    return isfinite(ll) ? ll : -HUGE_VAL;
}

/* ---- Gamma-Gamma ------------------------------------------------------------------- */

static int spends(const clv_summary_t *s)
{
    return s->n >= 1 && s->mean_spend > 0;
}

/* The density of a mean m of n order values (Fader and Hardie 2013 eq. 3):
 *   f(m | p,q,γ,n) = Γ(pn+q) / (Γ(pn) Γ(q)) γ^q m^(pn-1) n^(pn) / (γ + n m)^(pn+q) */
double clv_gg_loglik(const clv_gg_t *gg, const clv_summary_t *c, size_t n)
{
    double p = gg->p, q = gg->q, g = gg->gamma, ll = 0;
    if (!positive(p) || !positive(q) || !positive(g))
        return -HUGE_VAL;
    double lq = lgamma(q), qlg = q * log(g);
    for (size_t i = 0; i < n; i++) {
        const clv_summary_t *s = &c[i];
        if (!spends(s))
            continue;
        double pn = p * s->n;
        ll += lgamma(pn + q) - lgamma(pn) - lq + qlg + (pn - 1) * log(s->mean_spend) +
              pn * log(s->n) - (pn + q) * log(g + s->n * s->mean_spend);
    }
    return isfinite(ll) ? ll : -HUGE_VAL;
}

/* ---- Nelder-Mead ------------------------------------------------------------------- */

#define NM_MAX_DIM 4
#define NM_MAX_EVALS 4000     /* per run; a 4-parameter fit converges in ~400 */
#define NM_MAX_RESTARTS 8
#define NM_FTOL 1e-10         /* relative spread of the simplex's values */
#define NM_LOG_BOUND 25.0     /* |log parameter| beyond this: e^25 ~ 7e10 */

typedef double (*nm_fn)(const double *theta, const void *ctx);

typedef struct nm {
    int dim;
    double v[NM_MAX_DIM + 1][NM_MAX_DIM]; /* vertices */
    double f[NM_MAX_DIM + 1];
    nm_fn fn;
    const void *ctx;
    int evals;
} nm_t;

static double nm_eval(nm_t *m, const double *theta)
{
    m->evals++;
    for (int j = 0; j < m->dim; j++)
        if (!(fabs(theta[j]) <= NM_LOG_BOUND))
            return HUGE_VAL;
    double f = m->fn(theta, m->ctx);
    return isnan(f) ? HUGE_VAL : f;
}

/* Indices of the best (lowest) and worst vertex and the second worst. */
static void nm_order(const nm_t *m, int *best, int *worst, int *second)
{
    *best = *worst = 0;
    for (int i = 1; i <= m->dim; i++) {
        if (m->f[i] < m->f[*best])
            *best = i;
        if (m->f[i] > m->f[*worst])
            *worst = i;
    }
    *second = *best;
    for (int i = 0; i <= m->dim; i++)
        if (i != *worst && m->f[i] > m->f[*second])
            *second = i;
}

/* centroid + t * (centroid - worst) into out. */
static void nm_point(const nm_t *m, const double *cen, int worst, double t, double *out)
{
    for (int j = 0; j < m->dim; j++)
        out[j] = cen[j] + t * (cen[j] - m->v[worst][j]);
}

static void nm_shrink(nm_t *m, int best)
{
    for (int i = 0; i <= m->dim; i++) {
        if (i == best)
            continue;
        for (int j = 0; j < m->dim; j++)
            m->v[i][j] = m->v[best][j] + 0.5 * (m->v[i][j] - m->v[best][j]);
        m->f[i] = nm_eval(m, m->v[i]);
    }
}

/* One Nelder-Mead step (standard coefficients 1, 2, 0.5, 0.5). */
static void nm_step(nm_t *m, int best, int worst, int second)
{
    double cen[NM_MAX_DIM] = { 0 }, xr[NM_MAX_DIM], xe[NM_MAX_DIM], xc[NM_MAX_DIM];
    for (int i = 0; i <= m->dim; i++)
        if (i != worst)
            for (int j = 0; j < m->dim; j++)
                cen[j] += m->v[i][j] / m->dim;
    nm_point(m, cen, worst, 1.0, xr);
    double fr = nm_eval(m, xr);
    if (fr < m->f[best]) {
        nm_point(m, cen, worst, 2.0, xe);
        double fe = nm_eval(m, xe);
        memcpy(m->v[worst], fe < fr ? xe : xr, sizeof xr);
        m->f[worst] = fe < fr ? fe : fr;
        return;
    }
    if (fr < m->f[second]) {
        memcpy(m->v[worst], xr, sizeof xr);
        m->f[worst] = fr;
        return;
    }
    /* contract: outside when the reflection beat the worst, else inside */
    int outside = fr < m->f[worst];
    nm_point(m, cen, worst, outside ? 0.5 : -0.5, xc);
    double fc = nm_eval(m, xc);
    if (fc < (outside ? fr : m->f[worst])) {
        memcpy(m->v[worst], xc, sizeof xc);
        m->f[worst] = fc;
        return;
    }
    nm_shrink(m, best);
}

/* Minimizes from x0 with initial steps of `step` per coordinate; x0 gets the
 * best point, the return value its function value. */
static double nm_run(nm_fn fn, const void *ctx, int dim, double *x0, double step)
{
    nm_t m = { .dim = dim, .fn = fn, .ctx = ctx };
    int best = 0, worst, second;

    for (int i = 0; i <= dim; i++) {
        memcpy(m.v[i], x0, (size_t)dim * sizeof *x0);
        if (i > 0)
            m.v[i][i - 1] += step;
        m.f[i] = nm_eval(&m, m.v[i]);
    }
    while (m.evals < NM_MAX_EVALS) {
        nm_order(&m, &best, &worst, &second);
        double spread = fabs(m.f[worst] - m.f[best]);
        if (isfinite(m.f[worst]) && spread <= NM_FTOL * (fabs(m.f[best]) + 1e-30))
            break;
        nm_step(&m, best, worst, second);
    }
    nm_order(&m, &best, &worst, &second);
    memcpy(x0, m.v[best], (size_t)dim * sizeof *x0);
    return m.f[best];
}

/* Restarts from the best point while that still improves the optimum. */
static double nm_minimize(nm_fn fn, const void *ctx, int dim, double *x)
{
    double f = nm_run(fn, ctx, dim, x, 0.5);
    for (int k = 0; k < NM_MAX_RESTARTS; k++) {
        double g = nm_run(fn, ctx, dim, x, 0.1);
        int better = g < f - 1e-9 * (fabs(f) + 1);
        f = g < f ? g : f;
        if (!better)
            break;
    }
    return f;
}

/* ---- fitting ----------------------------------------------------------------------- */

typedef struct fit_data {
    const clv_summary_t *c;
    size_t n;
} fit_data_t;

static double bgnbd_objective(const double *th, const void *ctx)
{
    const fit_data_t *d = ctx;
    clv_bgnbd_t bg = { exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3]) };
    return -clv_bgnbd_loglik(&bg, d->c, d->n);
}

static double gg_objective(const double *th, const void *ctx)
{
    const fit_data_t *d = ctx;
    clv_gg_t gg = { exp(th[0]), exp(th[1]), exp(th[2]) };
    return -clv_gg_loglik(&gg, d->c, d->n);
}

/* Starting points from moments: the purchase rate r/alpha = repeat
 * purchases per day of observation; the mean order value p*gamma/(q-1). */
static void bgnbd_start(const clv_summary_t *c, size_t n, double th[4])
{
    double sx = 0, sT = 0;
    for (size_t i = 0; i < n; i++) {
        sx += c[i].x;
        sT += c[i].T;
    }
    double rate = sx > 0 && sT > 0 ? sx / sT : 0.01;
    th[0] = 0.0;              /* r = 1 */
    th[1] = log(1.0 / rate);  /* alpha = r / rate */
    th[2] = 0.0;              /* a = 1 */
    th[3] = log(2.0);         /* b = 2 */
}

static int fit_spend(const clv_summary_t *c, size_t n, clv_model_t *out)
{
    fit_data_t d = { c, n };
    double sum = 0, th[3];
    uint64_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (spends(&c[i])) {
            sum += c[i].mean_spend;
            k++;
        }
    out->spenders = k;
    if (k == 0)
        return 0;
    double mean = sum / (double)k;
    th[0] = log(2.0);                 /* p = 2 */
    th[1] = log(3.0);                 /* q = 3 */
    th[2] = log(mean * 2.0 / 2.0);    /* gamma = mean (q - 1) / p */
    double f = nm_minimize(gg_objective, &d, 3, th);
    if (!isfinite(f))
        return -EDOM;
    out->gg = (clv_gg_t){ exp(th[0]), exp(th[1]), exp(th[2]) };
    out->gg_loglik = -f;
    out->has_spend = 1;
    out->pop_spend = out->gg.q > 1 ? out->gg.p * out->gg.gamma / (out->gg.q - 1) : mean;
    return 0;
}

int clv_fit(const clv_summary_t *c, size_t n, clv_model_t *out)
{
    fit_data_t d = { c, n };
    double th[4];

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!c || n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!clv_summary_ok(&c[i]))
            return -EINVAL;
    bgnbd_start(c, n, th);
    double f = nm_minimize(bgnbd_objective, &d, 4, th);
    if (!isfinite(f))
        return -EDOM;
    out->bg = (clv_bgnbd_t){ exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3]) };
    out->bg_loglik = -f;
    out->customers = n;
    return fit_spend(c, n, out);
}

/* ---- predictions ------------------------------------------------------------------- */

#define HYP2F1_MAX_TERMS 1000000
#define HYP2F1_RESCALE 1e250

double clv_log_hyp2f1(double a, double b, double c, double z)
{
    double term = 1.0, sum = 1.0, offset = 0.0;

    if (!(a > 0 && b > 0 && c > 0 && z >= 0 && z < 1))
        return NAN;
    for (long k = 0; k < HYP2F1_MAX_TERMS; k++) {
        double ratio = (a + (double)k) * (b + (double)k) / ((c + (double)k) * (double)(k + 1)) * z;
        term *= ratio;
        sum += term;
        if (sum > HYP2F1_RESCALE) { /* keep the partial sums in range */
            sum /= HYP2F1_RESCALE;
            term /= HYP2F1_RESCALE;
            offset += log(HYP2F1_RESCALE);
        }
        /* terms are all positive; once they shrink, the tail after term
         * is below term * ratio / (1 - ratio) */
        if (ratio < 1 && term * ratio / (1 - ratio) <= DBL_EPSILON * sum)
            return offset + log(sum);
    }
    return NAN;
}

/* 2F1(a, b; c; z) as sign * exp(*log_abs), also for -1 < c <= 0 (c = a+b-1
 * of BG/NBD's eq. 7 / eq. 10 with x = 0 when the fitted a + b < 1): there
 * the series' terms change sign, so the value comes from F(c+1) and F(c+2)
 * by Gauss's contiguous relation (DLMF 15.5.18)
 *   c(c-1)(z-1) F(c-1) + c(c-1-(2c-a-b-1)z) F(c) + (c-a)(c-b) z F(c+1) = 0
 * taken at c+1. Returns 0, or -1 where 2F1 has a pole (c = 0) or the series
 * fails. */
static int hyp2f1_signed(double a, double b, double c, double z, double *log_abs,
                         double *sign)
{
    if (c > 0) {
        *log_abs = clv_log_hyp2f1(a, b, c, z);
        *sign = 1;
        return isnan(*log_abs) ? -1 : 0;
    }
    if (!(c > -1) || c == 0)
        return -1;
    double c1 = c + 1, f1 = exp(clv_log_hyp2f1(a, b, c1, z)),
           f2 = exp(clv_log_hyp2f1(a, b, c1 + 1, z));
    double f0 = -(c1 * (c1 - 1 - (2 * c1 - a - b - 1) * z) * f1 +
                  (c1 - a) * (c1 - b) * z * f2) / (c1 * (c1 - 1) * (z - 1));
    if (!isfinite(f0) || f0 == 0)
        return -1;
    *sign = f0 < 0 ? -1 : 1;
    *log_abs = log(fabs(f0));
    return 0;
}

double clv_hyp2f1(double a, double b, double c, double z)
{
    double la, sg;
    if (!(z >= 0 && z < 1) || hyp2f1_signed(a, b, c, z, &la, &sg) != 0)
        return NAN;
    return sg * exp(la);
}

/* log of a / (b + x - 1) ((α+T)/(α+t_x))^(r+x): the odds of having dropped
 * out against being alive (FHL 2005 eq. 13's denominator term). */
static double log_dead_odds(const clv_bgnbd_t *bg, const clv_summary_t *s)
{
    return log(bg->a) - log(bg->b + s->x - 1) +
           (bg->r + s->x) * (log(bg->alpha + s->T) - log(bg->alpha + s->t_x));
}

double clv_p_alive(const clv_bgnbd_t *bg, const clv_summary_t *s)
{
    if (s->x <= 0)
        return 1.0;
    double lo = log_dead_odds(bg, s);
    return lo > 0 ? exp(-lo) / (1 + exp(-lo)) : 1 / (1 + exp(lo));
}

/* a = 1 makes eq. 10 a 0/0 limit; a value this close is nudged off it. */
#define A_NEAR_ONE 1e-7

static double a_off_one(double a)
{
    if (fabs(a - 1) < A_NEAR_ONE)
        return a < 1 ? 1 - A_NEAR_ONE : 1 + A_NEAR_ONE;
    return a;
}

/* (a+b+x-1)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))]
 * with T = the age and x the repeat purchases: eq. 10's numerator, and with
 * x = 0, T = 0 eq. 7. */
static double bracket(const clv_bgnbd_t *bg, double x, double T, double t)
{
    double a = a_off_one(bg->a), r = bg->r, al = bg->alpha, b = bg->b;
    double z = t / (al + T + t), lf, sign;
    /* a + b + x - 1 = 0 (x = 0, a + b = 1) is a pole of 2F1 that the
     * factor in front cancels; a value this close is nudged off it */
    double c = a + b + x - 1;
    if (fabs(c) < A_NEAR_ONE)
        c = A_NEAR_ONE;
    if (hyp2f1_signed(r + x, b + x, c, z, &lf, &sign) != 0)
        return NAN;
    double lp = (r + x) * log1p(-z) + lf; /* ((α+T)/(α+T+t))^(r+x) |2F1| */
    /* 1 - sign e^lp, kept accurate by expm1 when lp is near 0 */
    double one_minus = sign > 0 ? -expm1(lp) : 1 + exp(lp);
    return c / (a - 1) * one_minus;
}

double clv_expected_purchases(const clv_bgnbd_t *bg, const clv_summary_t *s, double t)
{
    if (!(t > 0))
        return 0.0;
    double e = bracket(bg, s->x, s->T, t) * clv_p_alive(bg, s);
    return isfinite(e) && e > 0 ? e : 0.0;
}

double clv_expected_purchases_new(const clv_bgnbd_t *bg, double t)
{
    if (!(t > 0))
        return 0.0;
    double e = bracket(bg, 0, 0, t);
    return isfinite(e) && e > 0 ? e : 0.0;
}

double clv_expected_spend(const clv_model_t *m, const clv_summary_t *s)
{
    if (!m->has_spend)
        return 0.0;
    if (!spends(s))
        return m->pop_spend;
    double p = m->gg.p, q = m->gg.q, pn = p * s->n;
    /* E[M | n, m] = (q-1)/(pn+q-1) * pγ/(q-1) + pn/(pn+q-1) * m, with the
     * population mean pop_spend standing in for pγ/(q-1) */
    double w = pn / (pn + q - 1);
    if (!(q > 1) || !isfinite(w))
        return s->mean_spend;
    return (1 - w) * m->pop_spend + w * s->mean_spend;
}

int clv_predict(const clv_model_t *m, const clv_summary_t *s, double horizon_days,
                clv_prediction_t *out)
{
    if (!m || !out || !clv_summary_ok(s) || !(horizon_days >= 0))
        return -EINVAL;
    out->p_alive = clv_p_alive(&m->bg, s);
    out->churn_p = 1 - out->p_alive;
    out->expected_purchases = clv_expected_purchases(&m->bg, s, horizon_days);
    out->expected_spend = clv_expected_spend(m, s);
    out->value = out->expected_purchases * out->expected_spend;
    return 0;
}
