/*
 * abstats.c - A/B test statistics (contract in abstats.h).
 *
 * Everything works from the per-arm moments in abstats_arm_t, so the server
 * can accumulate results in one pass over its outcome log (or in shards,
 * merged) and never holds per-customer arrays. Welford's update keeps the
 * second moments accurate for revenue-like metrics whose mean dwarfs their
 * spread, where the textbook sum-of-squares formula cancels catastrophically.
 *
 * The special functions follow Numerical Recipes in C (2nd ed.), chapter 6:
 * the incomplete beta by Lentz's continued fraction (betacf), the incomplete
 * gamma by its series (gser) below a + 1 and continued fraction (gcf) above.
 * Student's t and chi-square tail probabilities are computed directly from
 * them, never as 1 - cdf, so tiny p-values keep their precision.
 */
#include "abstats.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define CF_EPS 1e-15
#define CF_TINY 1e-300
/* The continued fractions need O(sqrt(max(a, b))) terms (NR 6.4); Welch's
 * degrees of freedom reach the millions, hence the generous bound. */
#define CF_MAX_ITER 100000
/* Beyond this many degrees of freedom Student's t is the normal to better
 * than 1e-9. */
#define T_NORMAL_DF 1e9
#define SQRT2 1.41421356237309504880

/* ---- special functions ------------------------------------------------------------- */

static double log_gamma(double x)
{
    int sign;
    return lgamma_r(x, &sign); /* lgamma writes the global signgam */
}

/* One step of Lentz's method with partial numerator aa: updates c and d and
 * returns the factor the fraction's value is multiplied by. */
static double lentz_step(double aa, double *c, double *d)
{
    *d = 1 + aa * *d;
    if (fabs(*d) < CF_TINY)
        *d = CF_TINY;
    *c = 1 + aa / *c;
    if (fabs(*c) < CF_TINY)
        *c = CF_TINY;
    *d = 1 / *d;
    return *d * *c;
}

/* Lentz's evaluation of the continued fraction for I_x(a, b) (NR betacf). */
static double beta_cf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < CF_TINY)
        d = CF_TINY;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= CF_MAX_ITER; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
        double del = lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
        h *= del;
        if (fabs(del - 1) < CF_EPS)
            break;
    }
    return h;
}

double abstats_betai(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1))
        return NAN;
    if (x == 0 || x == 1)
        return x;
    double log_front = log_gamma(a + b) - log_gamma(a) - log_gamma(b) +
                       a * log(x) + b * log1p(-x);
    double front = exp(log_front);
    /* The fraction converges fast for x below the mean a/(a+b) (roughly);
     * above it, use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a). */
    if (x < (a + 1) / (a + b + 2))
        return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

/* P(a, x) by its series (NR gser); for x < a + 1. */
static double gamma_series(double a, double x)
{
    double ap = a, del = 1 / a, sum = del;
    for (int n = 0; n < CF_MAX_ITER; n++) {
        ap += 1;
        del *= x / ap;
        sum += del;
        if (fabs(del) < fabs(sum) * CF_EPS)
            break;
    }
    return sum * exp(-x + a * log(x) - log_gamma(a));
}

/* Q(a, x) by its continued fraction (NR gcf); for x >= a + 1. */
static double gamma_cf(double a, double x)
{
    double b = x + 1 - a, c = 1 / CF_TINY, d = 1 / b, h = d;
    for (int i = 1; i <= CF_MAX_ITER; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = b + an / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < CF_EPS)
            break;
    }
    return exp(-x + a * log(x) - log_gamma(a)) * h;
}

double abstats_gamma_p(double a, double x)
{
    if (!(a > 0) || !(x >= 0))
        return NAN;
    if (x == 0)
        return 0;
    return x < a + 1 ? gamma_series(a, x) : 1 - gamma_cf(a, x);
}

double abstats_gamma_q(double a, double x)
{
    if (!(a > 0) || !(x >= 0))
        return NAN;
    if (x == 0)
        return 1;
    return x < a + 1 ? 1 - gamma_series(a, x) : gamma_cf(a, x);
}

double abstats_normal_cdf(double z)
{
    return 0.5 * erfc(-z / SQRT2);
}

/* Two-sided normal tail P(|Z| >= |z|). */
static double normal_two_sided(double z)
{
    return erfc(fabs(z) / SQRT2);
}

/* Acklam's rational approximation (relative error 1.15e-9), polished by one
 * Halley step against erfc to full double precision. */
double abstats_normal_quantile(double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00 };
    const double p_low = 0.02425;
    if (!(p > 0 && p < 1))
        return NAN;
    double x;
    if (p < p_low || p > 1 - p_low) {
        double q = sqrt(-2 * log(p < p_low ? p : 1 - p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        if (p > 1 - p_low)
            x = -x;
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = abstats_normal_cdf(x) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

double abstats_t_cdf(double t, double df)
{
    if (!(df > 0) || isnan(t))
        return NAN;
    if (df > T_NORMAL_DF)
        return abstats_normal_cdf(t);
    /* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2) */
    double tail = 0.5 * abstats_betai(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}

/* Two-sided P(|T| >= |t|), without the cancellation of 1 - cdf. */
static double t_two_sided(double t, double df)
{
    if (df > T_NORMAL_DF)
        return normal_two_sided(t);
    return abstats_betai(df / 2, 0.5, df / (df + t * t));
}

double abstats_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (df > T_NORMAL_DF)
        return abstats_normal_quantile(p);
    if (p < 0.5)
        return -abstats_t_quantile(1 - p, df);
    /* Bracket from the normal quantile outwards, then bisect: the cdf is
     * monotone and this runs once per report, not per customer. */
    double lo = 0, hi = fmax(1, abstats_normal_quantile(p));
    while (abstats_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (abstats_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double abstats_chi2_cdf(double x, double df)
{
    if (!(df > 0) || isnan(x))
        return NAN;
    return x <= 0 ? 0 : abstats_gamma_p(df / 2, x / 2);
}

double abstats_chi2_sf(double x, double df)
{
    if (!(df > 0) || isnan(x))
        return NAN;
    return x <= 0 ? 1 : abstats_gamma_q(df / 2, x / 2);
}

/* ---- accumulator -------------------------------------------------------------------- */

void abstats_arm_init(abstats_arm_t *a)
{
    memset(a, 0, sizeof *a);
}

void abstats_arm_add(abstats_arm_t *a, double y, double x_pre, double num,
                     double den)
{
    double n = (double)++a->n;
    double dy = y - a->mean_y, dx = x_pre - a->mean_x;
    double dn = num - a->mean_num, dd = den - a->mean_den;
    a->mean_y += dy / n;
    a->mean_x += dx / n;
    a->mean_num += dn / n;
    a->mean_den += dd / n;
    /* old deviation times new deviation: Welford's update, and its
     * bilinear form for the co-moments */
    a->m2_y += dy * (y - a->mean_y);
    a->m2_x += dx * (x_pre - a->mean_x);
    a->c_xy += dx * (y - a->mean_y);
    a->m2_num += dn * (num - a->mean_num);
    a->m2_den += dd * (den - a->mean_den);
    a->c_nd += dn * (den - a->mean_den);
}

void abstats_arm_merge(abstats_arm_t *into, const abstats_arm_t *from)
{
    if (from->n == 0)
        return;
    if (into->n == 0) {
        *into = *from;
        return;
    }
    double na = (double)into->n, nb = (double)from->n, n = na + nb;
    double w = na * nb / n;
    double dy = from->mean_y - into->mean_y, dx = from->mean_x - into->mean_x;
    double dn = from->mean_num - into->mean_num;
    double dd = from->mean_den - into->mean_den;
    into->m2_y += from->m2_y + dy * dy * w;
    into->m2_x += from->m2_x + dx * dx * w;
    into->c_xy += from->c_xy + dx * dy * w;
    into->m2_num += from->m2_num + dn * dn * w;
    into->m2_den += from->m2_den + dd * dd * w;
    into->c_nd += from->c_nd + dn * dd * w;
    into->mean_y += dy * nb / n;
    into->mean_x += dx * nb / n;
    into->mean_num += dn * nb / n;
    into->mean_den += dd * nb / n;
    into->n += from->n;
}

double abstats_arm_var(const abstats_arm_t *a)
{
    return a->n < 2 ? 0 : a->m2_y / (double)(a->n - 1);
}

/* ---- tests -------------------------------------------------------------------------- */

static int level_ok(double level)
{
    return level > 0 && level < 1;
}

static double relative_to(double estimate, double control)
{
    return control != 0 ? estimate / control : NAN;
}

/* Fills the parts every result shares from an estimate, its standard error
 * and degrees of freedom (INFINITY: normal). */
static void finish(abstats_result_t *r, double level)
{
    double q = isinf(r->df) ? abstats_normal_quantile(0.5 + level / 2)
                            : abstats_t_quantile(0.5 + level / 2, r->df);
    r->relative = relative_to(r->estimate, r->control);
    if (r->se > 0) {
        double z = r->estimate / r->se;
        r->p = isinf(r->df) ? normal_two_sided(z) : t_two_sided(z, r->df);
    } else {
        r->p = r->estimate == 0 ? 1 : 0;
    }
    r->ci_lo = r->estimate - q * r->se;
    r->ci_hi = r->estimate + q * r->se;
}

int abstats_welch_summary(double mean_c, double var_c, double n_c,
                          double mean_t, double var_t, double n_t,
                          double level, abstats_result_t *out)
{
    if (!out || !level_ok(level) || !(var_c >= 0) || !(var_t >= 0))
        return -EINVAL;
    if (!(n_c >= 2) || !(n_t >= 2))
        return -EDOM;
    double vc = var_c / n_c, vt = var_t / n_t;
    abstats_result_t r = { .control = mean_c, .treatment = mean_t,
                           .estimate = mean_t - mean_c };
    r.se = sqrt(vc + vt);
    /* Welch-Satterthwaite; with no spread at all it is undefined, and the
     * pooled count is as good as any (the p-value does not use it). */
    double den = vc * vc / (n_c - 1) + vt * vt / (n_t - 1);
    r.df = den > 0 ? (vc + vt) * (vc + vt) / den : n_c + n_t - 2;
    finish(&r, level);
    *out = r;
    return 0;
}

int abstats_welch(const abstats_arm_t *control, const abstats_arm_t *treatment,
                  double level, abstats_result_t *out)
{
    if (!control || !treatment)
        return -EINVAL;
    return abstats_welch_summary(control->mean_y, abstats_arm_var(control),
                                 (double)control->n, treatment->mean_y,
                                 abstats_arm_var(treatment),
                                 (double)treatment->n, level, out);
}

/* Variance of one arm's ratio estimate mean(num)/mean(den) by the delta
 * method: (1/n) [s_nn/mu_d^2 - 2 mu_n s_nd/mu_d^3 + mu_n^2 s_dd/mu_d^4]. */
static double ratio_variance(const abstats_arm_t *a)
{
    double n = (double)a->n;
    double s_nn = a->m2_num / (n - 1), s_dd = a->m2_den / (n - 1);
    double s_nd = a->c_nd / (n - 1);
    double mn = a->mean_num, md = a->mean_den, r = mn / md;
    double v = (s_nn - 2 * r * s_nd + r * r * s_dd) / (md * md * n);
    return v > 0 ? v : 0; /* rounding can take an exact 0 below it */
}

int abstats_ratio(const abstats_arm_t *control, const abstats_arm_t *treatment,
                  double level, abstats_result_t *out)
{
    if (!control || !treatment || !out || !level_ok(level))
        return -EINVAL;
    if (control->n < 2 || treatment->n < 2 || control->mean_den == 0 ||
        treatment->mean_den == 0)
        return -EDOM;
    abstats_result_t r = {
        .control = control->mean_num / control->mean_den,
        .treatment = treatment->mean_num / treatment->mean_den,
        .df = INFINITY,
    };
    r.estimate = r.treatment - r.control;
    r.se = sqrt(ratio_variance(control) + ratio_variance(treatment));
    finish(&r, level);
    *out = r;
    return 0;
}

/* Sample variance of y - theta x within one arm. */
static double adjusted_variance(const abstats_arm_t *a, double theta)
{
    double m2 = a->m2_y - 2 * theta * a->c_xy + theta * theta * a->m2_x;
    return m2 > 0 ? m2 / (double)(a->n - 1) : 0;
}

int abstats_cuped(const abstats_arm_t *control, const abstats_arm_t *treatment,
                  double level, abstats_cuped_t *out)
{
    if (!control || !treatment || !out || !level_ok(level))
        return -EINVAL;
    abstats_cuped_t c;
    int rc = abstats_welch(control, treatment, level, &c.plain);
    if (rc)
        return rc;
    double m2_x = control->m2_x + treatment->m2_x;
    c.theta = m2_x > 0 ? (control->c_xy + treatment->c_xy) / m2_x : 0;
    double nc = (double)control->n, nt = (double)treatment->n;
    double mean_x = (control->mean_x * nc + treatment->mean_x * nt) / (nc + nt);
    rc = abstats_welch_summary(
        control->mean_y - c.theta * (control->mean_x - mean_x),
        adjusted_variance(control, c.theta), nc,
        treatment->mean_y - c.theta * (treatment->mean_x - mean_x),
        adjusted_variance(treatment, c.theta), nt, level, &c.adjusted);
    if (rc)
        return rc;
    double plain_var = c.plain.se * c.plain.se;
    c.variance_reduction =
        plain_var > 0 ? 1 - c.adjusted.se * c.adjusted.se / plain_var : 0;
    *out = c;
    return 0;
}

int abstats_srm(const uint64_t *observed, const double *weights, size_t k,
                abstats_srm_t *out)
{
    if (!observed || !weights || !out || k < 2)
        return -EINVAL;
    double total_w = 0, total_n = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(weights[i] > 0) || !isfinite(weights[i]))
            return -EINVAL;
        total_w += weights[i];
        total_n += (double)observed[i];
    }
    if (total_n == 0)
        return -EDOM;
    double chi2 = 0;
    for (size_t i = 0; i < k; i++) {
        double expected = total_n * weights[i] / total_w;
        double d = (double)observed[i] - expected;
        chi2 += d * d / expected;
    }
    abstats_srm_t s = { .chi2 = chi2, .df = (double)(k - 1) };
    s.p = abstats_chi2_sf(chi2, s.df);
    s.mismatch = s.p < ABSTATS_SRM_ALPHA;
    *out = s;
    return 0;
}

/* ---- peeking ------------------------------------------------------------------------ */

int abstats_msprt_init(abstats_msprt_t *s, double tau2, double alpha)
{
    if (!s || !(tau2 > 0) || !isfinite(tau2) || !(alpha > 0 && alpha < 1))
        return -EINVAL;
    *s = (abstats_msprt_t){ .tau2 = tau2, .alpha = alpha, .p = 1,
                            .ci_lo = -INFINITY, .ci_hi = INFINITY };
    return 0;
}

int abstats_msprt_look(abstats_msprt_t *s, const abstats_arm_t *control,
                       const abstats_arm_t *treatment)
{
    if (!s || !control || !treatment)
        return -EINVAL;
    if (control->n < ABSTATS_MSPRT_MIN_N || treatment->n < ABSTATS_MSPRT_MIN_N)
        return -EDOM;
    double v = abstats_arm_var(control) / (double)control->n +
               abstats_arm_var(treatment) / (double)treatment->n;
    if (!(v > 0))
        return -EDOM;
    double d = treatment->mean_y - control->mean_y;
    double vt = v + s->tau2;
    double log_lambda = 0.5 * log(v / vt) + s->tau2 * d * d / (2 * v * vt);
    double p = exp(-log_lambda);
    if (p < s->p)
        s->p = p;
    /* {theta0 : Lambda(theta0) < 1/alpha}, solved for |d - theta0| */
    double half = sqrt(2 * v * vt / s->tau2 *
                       (log(1 / s->alpha) + 0.5 * log(vt / v)));
    if (d - half > s->ci_lo)
        s->ci_lo = d - half;
    if (d + half < s->ci_hi)
        s->ci_hi = d + half;
    s->looks++;
    return 0;
}

double abstats_sample_size(double sd, double mde, double alpha, double power)
{
    if (!(sd > 0) || !(mde > 0) || !(alpha > 0 && alpha < 1) ||
        !(power > 0 && power < 1))
        return 0;
    double z = abstats_normal_quantile(1 - alpha / 2) +
               abstats_normal_quantile(power);
    return ceil(2 * sd * sd * z * z / (mde * mde));
}

double abstats_power(double sd, double mde, double n, double alpha)
{
    if (!(sd > 0) || !(n > 0) || !(alpha > 0 && alpha < 1) || isnan(mde))
        return NAN;
    double se = sd * sqrt(2 / n);
    double z = abstats_normal_quantile(1 - alpha / 2);
    /* both tails: the far one matters only for tiny effects */
    return abstats_normal_cdf(fabs(mde) / se - z) +
           abstats_normal_cdf(-fabs(mde) / se - z);
}

const char *abstats_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid argument";
    case -EDOM: return "not enough data for this statistic";
    default: return "unknown statistics error";
    }
}
