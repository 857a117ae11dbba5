/*
 * abstats.h - statistics for A/B experiment results: per-arm streaming
 * accumulators and the tests a report shows (Welch's t, the delta method for
 * ratio metrics, CUPED, sample-ratio mismatch, mSPRT always-valid p-values,
 * planned sample size). Pure computation: no I/O, no allocation.
 *
 * The unit of analysis is the customer (the unit of randomization). Feed
 * each exposed customer once per arm and metric, with their totals over the
 * attribution window:
 *   y      the per-customer metric (revenue, margin, coupon cost, 1/0 for
 *          converted, ...), for Welch and CUPED;
 *   x_pre  the same customer's pre-experiment covariate (spend in a window
 *          before their first exposure; 0 for new customers), for CUPED;
 *   num, den  a ratio metric's numerator and denominator for that customer
 *          (clicks and exposures for click-through; revenue and exposures
 *          for revenue per exposure), for the delta method. The ratio is
 *          sum(num) / sum(den) over customers, and its standard error
 *          accounts for exposures of one customer being correlated, which a
 *          per-exposure binomial formula would not.
 * Pass 0 for the parts a metric does not use.
 *
 * Every result is "treatment minus control", with a two-sided p-value and a
 * confidence interval at the given level (0.95 for a 95% interval).
 *
 * Errors: functions returning int return 0, -EINVAL for a bad argument (NULL,
 * level outside (0, 1), weights not positive, ...) or -EDOM when the data
 * cannot support the statistic (fewer than 2 customers in an arm, a ratio
 * whose mean denominator is 0). Outputs are untouched on error.
 */
#ifndef PATRON_RECSYS_ABSTATS_H
#define PATRON_RECSYS_ABSTATS_H

#include <stddef.h>
#include <stdint.h>

/* The sample-ratio-mismatch check flags p below this: with many metrics and
 * looks, a stricter threshold than 0.05 keeps false alarms rare, while a
 * real assignment or logging bug drives p far lower. */
#define ABSTATS_SRM_ALPHA 0.001

/* ---- per-arm accumulator ----------------------------------------------------------- */

/* Streaming sums for one arm and one metric (Welford's updates, with
 * co-moments for CUPED and the delta method; merged by Chan et al.'s
 * formulas, so shards can be summed in any order). Plain data: copy freely,
 * zero-initialise or use abstats_arm_init. */
typedef struct abstats_arm {
    uint64_t n;                  /* customers */
    double mean_y, m2_y;         /* metric: mean, sum of squared deviations */
    double mean_x, m2_x;         /* pre-period covariate */
    double c_xy;                 /* sum of (x - mean_x)(y - mean_y) */
    double mean_num, m2_num;     /* ratio numerator per customer */
    double mean_den, m2_den;     /* ratio denominator per customer */
    double c_nd;                 /* numerator-denominator co-moment */
} abstats_arm_t;

void abstats_arm_init(abstats_arm_t *a);

/* Adds one customer. Non-finite values are the caller's bug: they poison the
 * sums (NaN results), they are not filtered. */
void abstats_arm_add(abstats_arm_t *a, double y, double x_pre, double num,
                     double den);

/* Adds everything accumulated in from to into, as if every customer had been
 * added to into (from must not be into). */
void abstats_arm_merge(abstats_arm_t *into, const abstats_arm_t *from);

/* Sample variance (n - 1 denominator) of y; 0 when n < 2. */
double abstats_arm_var(const abstats_arm_t *a);

/* ---- tests -------------------------------------------------------------------------- */

typedef struct abstats_result {
    double control, treatment;  /* arm means (ratios for abstats_ratio;
                                   CUPED-adjusted means for its adjusted) */
    double estimate;            /* treatment - control */
    double relative;            /* estimate / control; NaN if control is 0 */
    double se;                  /* standard error of the estimate */
    double df;                  /* Welch-Satterthwaite degrees of freedom;
                                   INFINITY where the normal is used */
    double ci_lo, ci_hi;        /* confidence interval at the given level */
    double p;                   /* two-sided p-value for no difference */
} abstats_result_t;

/* Welch's unequal-variance t-test on the mean of y. With both variances 0
 * the standard error is 0 and p is 1 if the means agree, else 0. */
int abstats_welch(const abstats_arm_t *control, const abstats_arm_t *treatment,
                  double level, abstats_result_t *out);

/* The same from summary statistics (mean, sample variance, count). */
int abstats_welch_summary(double mean_c, double var_c, double n_c,
                          double mean_t, double var_t, double n_t,
                          double level, abstats_result_t *out);

/* Difference of the ratio metrics sum(num)/sum(den), standard error by the
 * delta method (Deng, Knoblich and Lu 2018, "Applying the Delta Method in
 * Metric Analytics", eq. 4), normal interval and p-value. -EDOM when an arm
 * has a mean denominator of 0 or fewer than 2 customers. */
int abstats_ratio(const abstats_arm_t *control, const abstats_arm_t *treatment,
                  double level, abstats_result_t *out);

/* CUPED (Deng, Xu, Kohavi and Walker 2013): y - theta (x - mean x), with
 * theta = cov(y, x) / var(x) from the within-arm co-moments pooled over both
 * arms (so a treatment effect on y does not leak into theta). */
typedef struct abstats_cuped {
    abstats_result_t plain;     /* abstats_welch on y */
    abstats_result_t adjusted;  /* Welch's t on the adjusted metric */
    double theta;               /* 0 if x has no variance */
    double variance_reduction;  /* 1 - adjusted.se^2 / plain.se^2, about
                                   corr(x, y)^2; 0 if plain.se is 0 */
} abstats_cuped_t;

int abstats_cuped(const abstats_arm_t *control, const abstats_arm_t *treatment,
                  double level, abstats_cuped_t *out);

/* Sample-ratio mismatch: Pearson's chi-square goodness of fit of the
 * customers observed per arm against the configured weights (normalised by
 * their sum), k - 1 degrees of freedom. mismatch is 1 when p <
 * ABSTATS_SRM_ALPHA; a report should show it first, because a mismatch
 * means assignment or logging is broken and no other number can be
 * trusted. -EINVAL for k < 2 or a weight that is not > 0; -EDOM when
 * nothing was observed. */
typedef struct abstats_srm {
    double chi2;
    double df;
    double p;
    int mismatch;
} abstats_srm_t;

int abstats_srm(const uint64_t *observed, const double *weights, size_t k,
                abstats_srm_t *out);

/* ---- peeking ------------------------------------------------------------------------ */

/* Always-valid inference for the difference in means by the mixture
 * sequential probability ratio test with a normal mixture (Johari, Koomen,
 * Pekelis and Walsh, "Peeking at A/B Tests", KDD 2017, and "Always Valid
 * Inference", Operations Research 2022). With d the observed difference and
 * V = var_c/n_c + var_t/n_t its variance, the mixture likelihood ratio
 * against "no difference" is
 *   Lambda = sqrt(V / (V + tau2)) exp(tau2 d^2 / (2 V (V + tau2)))
 * and the always-valid p-value is the running minimum of 1/Lambda. It may be
 * read after every customer: P(it ever drops below alpha | no effect) <=
 * alpha, where a fixed-horizon p-value read repeatedly is not. tau2 is the
 * mixing variance in the metric's squared units; power is best for effects
 * around sqrt(tau2), so set it near the squared effect sizes you expect
 * (e.g. (0.05 * control mean)^2). Variances are plug-in estimates, so the
 * guarantee is asymptotic: looks before each arm has ABSTATS_MSPRT_MIN_N
 * customers are ignored. */
#define ABSTATS_MSPRT_MIN_N 30

typedef struct abstats_msprt {
    double tau2;
    double alpha;          /* for the always-valid interval */
    double p;              /* always-valid p-value; starts at 1, never rises */
    double ci_lo, ci_hi;   /* always-valid (1 - alpha) interval: intersection
                              over looks; starts at (-INFINITY, INFINITY) */
    uint64_t looks;        /* looks that counted */
} abstats_msprt_t;

/* -EINVAL unless tau2 > 0 and alpha in (0, 1). */
int abstats_msprt_init(abstats_msprt_t *s, double tau2, double alpha);

/* One look at the data so far. Returns 0 (state updated), -EDOM (too few
 * customers or zero variance: state unchanged) or -EINVAL. */
int abstats_msprt_look(abstats_msprt_t *s, const abstats_arm_t *control,
                       const abstats_arm_t *treatment);

/* Customers per arm a fixed-horizon two-sided test of two equal arms needs to
 * detect a difference of mde with the given power, for a metric with
 * standard deviation sd (normal approximation):
 *   n = 2 sd^2 (z_{1-alpha/2} + z_power)^2 / mde^2, rounded up.
 * A fixed-horizon report read before both arms reach it should say so.
 * Returns 0 for bad arguments (sd, mde not > 0; alpha, power outside (0,1)). */
double abstats_sample_size(double sd, double mde, double alpha, double power);

/* Power of that test with n customers per arm (normal approximation);
 * NaN for bad arguments. */
double abstats_power(double sd, double mde, double n, double alpha);

/* ---- distributions ------------------------------------------------------------------ */

/* Regularized incomplete beta I_x(a, b) (continued fraction, Numerical
 * Recipes 6.4) and regularized lower/upper incomplete gamma P(a, x), Q(a, x)
 * (series and continued fraction, NR 6.2). NaN for arguments outside their
 * domains (a, b > 0, 0 <= x <= 1; a > 0, x >= 0). */
double abstats_betai(double a, double b, double x);
double abstats_gamma_p(double a, double x);
double abstats_gamma_q(double a, double x);

double abstats_normal_cdf(double z);
/* Inverse of abstats_normal_cdf for p in (0, 1); NaN otherwise. */
double abstats_normal_quantile(double p);

/* Student's t with df > 0 degrees of freedom (df = INFINITY: the normal). */
double abstats_t_cdf(double t, double df);
double abstats_t_quantile(double p, double df);

/* Chi-square with df > 0 degrees of freedom: P(X <= x) and P(X > x), the
 * latter computed directly so small p-values keep their precision. */
double abstats_chi2_cdf(double x, double df);
double abstats_chi2_sf(double x, double df);

/* A message for an error code returned by this module. Static string. */
const char *abstats_strerror(int err);

#endif
