/*
 * test_abstats.c - the statistics an analyst reads: distribution functions
 * against table and closed-form values, Welch against a hand computation,
 * the delta method and CUPED against simulation, SRM on skewed and balanced
 * counts, the A/A false-positive rate, power against the normal
 * approximation, and mSPRT under continuous peeking. Fixed seeds throughout;
 * sizes keep it to a few seconds under ASan.
 */
#include "abstats.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include "rng.h"

/* ---- a small deterministic RNG ------------------------------------------------------ */

typedef struct rng { uint64_t s; } rng_t;

static uint64_t rng_next(rng_t *r)
{
    return splitmix64(&r->s);
}

static double rng_uniform(rng_t *r) /* (0, 1) */
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_normal(rng_t *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static unsigned rng_poisson(rng_t *r, double lambda)
{
    double l = exp(-lambda), p = 1;
    unsigned k = 0;
    do {
        k++;
        p *= rng_uniform(r);
    } while (p > l);
    return k - 1;
}

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static int near_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fabs(b);
}

/* ---- distributions ------------------------------------------------------------------- */

static void test_normal(void)
{
    CHECK(near(abstats_normal_quantile(0.975), 1.959963984540054, 1e-12));
    CHECK(near(abstats_normal_quantile(0.8), 0.8416212335729143, 1e-12));
    CHECK(near(abstats_normal_quantile(0.5), 0, 1e-15));
    CHECK(near_rel(abstats_normal_quantile(1e-10), -6.361340902404056, 1e-12));
    CHECK(near(abstats_normal_cdf(1.959963984540054), 0.975, 1e-14));
    CHECK(isnan(abstats_normal_quantile(0)));
    CHECK(isnan(abstats_normal_quantile(1)));
}

static void test_t_distribution(void)
{
    /* closed forms for 1, 2 and 3 degrees of freedom */
    for (double t = -6; t <= 6; t += 0.75) {
        CHECK(near(abstats_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-13));
        CHECK(near(abstats_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-13));
        double u = t / sqrt(3);
        CHECK(near(abstats_t_cdf(t, 3),
                   0.5 + (u / (1 + u * u) + atan(u)) / M_PI, 1e-13));
    }
    CHECK(near(abstats_t_cdf(-2, 3), 0.0696629842794216, 1e-13));
    CHECK(near(abstats_t_cdf(1.5, 2.5), 0.876081773456852, 1e-12));
    /* lgamma of 5e5 is 6e6: its last-bit error limits this to ~1e-11 */
    CHECK(near(abstats_t_cdf(1.96, 1e6), 0.975001966208585, 1e-10));
    CHECK(abstats_t_cdf(0, 7) == 0.5);
    /* two-sided 95% critical values from any t table */
    CHECK(near(abstats_t_quantile(0.975, 1), 12.7062047361747, 1e-9));
    CHECK(near(abstats_t_quantile(0.975, 10), 2.22813885198627, 1e-10));
    CHECK(near(abstats_t_quantile(0.975, 30), 2.04227245630124, 1e-10));
    CHECK(near(abstats_t_quantile(0.95, 5), 2.01504837333302, 1e-10));
    CHECK(near(abstats_t_quantile(0.025, 10), -2.22813885198627, 1e-10));
    CHECK(isnan(abstats_t_cdf(1, 0)));
}

static void test_chi2_and_special(void)
{
    CHECK(near(abstats_chi2_sf(3.841458820694124, 1), 0.05, 1e-12));
    CHECK(near(abstats_chi2_sf(10.827566, 1), 0.00100000009217375, 1e-14));
    CHECK(near(abstats_chi2_sf(7.814728, 3), 0.0499999978319661, 1e-13));
    CHECK(near(abstats_chi2_cdf(18.307038, 10), 0.949999999175268, 1e-12));
    CHECK(near_rel(abstats_chi2_sf(100, 50), 3.45493138298486e-05, 1e-10));
    /* two degrees of freedom: an exponential, checked deep in the tail */
    for (double x = 0.5; x <= 100; x *= 2) {
        CHECK(near_rel(abstats_chi2_sf(x, 2), exp(-x / 2), 1e-12));
        CHECK(near(abstats_chi2_cdf(x, 2), -expm1(-x / 2), 1e-14));
    }
    CHECK(near_rel(abstats_chi2_sf(100, 2), 1.92874984796392e-22, 1e-12));
    CHECK(abstats_chi2_cdf(0, 4) == 0 && abstats_chi2_sf(-1, 4) == 1);
    /* I_0.4(2, 3) = sum_{j=2..4} C(4,j) 0.4^j 0.6^(4-j) */
    CHECK(near(abstats_betai(2, 3, 0.4), 0.5248, 1e-14));
    CHECK(near(abstats_betai(3, 2, 0.6), 1 - 0.5248, 1e-14));
    CHECK(near(abstats_gamma_p(1, 2.5), -expm1(-2.5), 1e-14));
    CHECK(isnan(abstats_betai(0, 1, 0.5)));
    CHECK(isnan(abstats_gamma_q(1, -1)));
}

/* ---- accumulator ----------------------------------------------------------------------- */

static void test_welford_and_merge(void)
{
    rng_t r = { 11 };
    abstats_arm_t all, a, b;
    abstats_arm_init(&all);
    abstats_arm_init(&a);
    abstats_arm_init(&b);
    /* revenue-like values around a large offset: naive sum of squares would
     * lose every digit of the variance (1e18 vs 1) */
    double sum = 0, ys[1000];
    for (int i = 0; i < 1000; i++) {
        ys[i] = 1e9 + rng_normal(&r);
        sum += ys[i] - 1e9;
    }
    double mean = sum / 1000, m2 = 0;
    for (int i = 0; i < 1000; i++)
        m2 += (ys[i] - 1e9 - mean) * (ys[i] - 1e9 - mean);
    for (int i = 0; i < 1000; i++) {
        double x = i * 0.5, num = i % 7, den = 1 + i % 3;
        abstats_arm_add(&all, ys[i], x, num, den);
        abstats_arm_add(i < 300 ? &a : &b, ys[i], x, num, den);
    }
    CHECK(near_rel(abstats_arm_var(&all), m2 / 999, 1e-6));
    abstats_arm_merge(&a, &b);
    CHECK_EQ_INT(a.n, 1000);
    CHECK(near_rel(a.mean_y, all.mean_y, 1e-15));
    CHECK(near_rel(a.m2_y, all.m2_y, 1e-6));
    CHECK(near_rel(a.m2_x, all.m2_x, 1e-12));
    /* x and y are unrelated: compare the co-moment on the scale of the
     * correlation, not relative to its (tiny) value */
    CHECK(near(a.c_xy, all.c_xy, 1e-6 * sqrt(all.m2_x * all.m2_y)));
    CHECK(near_rel(a.m2_num, all.m2_num, 1e-12));
    CHECK(near_rel(a.c_nd, all.c_nd, 1e-12));
    abstats_arm_t empty;
    abstats_arm_init(&empty);
    abstats_arm_merge(&empty, &all);
    CHECK(empty.n == all.n && empty.m2_y == all.m2_y);
}

/* ---- Welch ------------------------------------------------------------------------------ */

static void test_welch_hand_example(void)
{
    /* control 1..5: mean 3, var 2.5; treatment 2,4,..,10: mean 6, var 10.
     * se = sqrt(2.5/5 + 10/5) = sqrt(2.5); df = 2.5^2 / (0.5^2/4 + 2^2/4)
     * = 5.88235...; t = 3/sqrt(2.5) = 1.897367; p and t_{0.975,df} from the
     * incomplete beta at 30 digits (mpmath). */
    abstats_arm_t c, t;
    abstats_arm_init(&c);
    abstats_arm_init(&t);
    for (int i = 1; i <= 5; i++) {
        abstats_arm_add(&c, i, 0, 0, 0);
        abstats_arm_add(&t, 2 * i, 0, 0, 0);
    }
    abstats_result_t r;
    CHECK_EQ_INT(abstats_welch(&c, &t, 0.95, &r), 0);
    CHECK(near(r.estimate, 3, 1e-12));
    CHECK(near(r.relative, 1, 1e-12));
    CHECK(near(r.se, sqrt(2.5), 1e-12));
    CHECK(near(r.df, 6.25 / 1.0625, 1e-10));
    CHECK(near(r.p, 0.107531194930627, 1e-10));
    CHECK(near(r.ci_lo, -0.887741643736976, 1e-8));
    CHECK(near(r.ci_hi, 6.88774164373698, 1e-8));

    abstats_result_t s;
    CHECK_EQ_INT(abstats_welch_summary(3, 2.5, 5, 6, 10, 5, 0.95, &s), 0);
    CHECK(near(s.p, r.p, 1e-14));

    /* no spread: exact answer either way */
    CHECK_EQ_INT(abstats_welch_summary(1, 0, 10, 1, 0, 10, 0.95, &s), 0);
    CHECK(s.p == 1 && s.se == 0);
    CHECK_EQ_INT(abstats_welch_summary(1, 0, 10, 2, 0, 10, 0.95, &s), 0);
    CHECK(s.p == 0 && s.ci_lo == 1);

    /* errors */
    abstats_arm_t one;
    abstats_arm_init(&one);
    abstats_arm_add(&one, 1, 0, 0, 0);
    CHECK_EQ_INT(abstats_welch(&one, &t, 0.95, &r), -EDOM);
    CHECK_EQ_INT(abstats_welch(&c, &t, 1.0, &r), -EINVAL);
    CHECK_EQ_INT(abstats_welch(&c, &t, 0.95, NULL), -EINVAL);
    CHECK_EQ_INT(abstats_welch_summary(1, -1, 10, 1, 1, 10, 0.95, &s), -EINVAL);
    CHECK(abstats_strerror(-EDOM) != abstats_strerror(-EINVAL));
}

/* Revenue per exposed customer: 10% convert, spend exponential with mean
 * 50 (plus effect): skewed and zero-inflated like the real thing. */
static double revenue(rng_t *r, double effect)
{
    if (rng_uniform(r) >= 0.10)
        return 0;
    return -50 * log(rng_uniform(r)) + effect;
}

static void test_aa_false_positive_rate(void)
{
    rng_t r = { 2024 };
    const int experiments = 2000, per_arm = 500;
    int rejected = 0, ci_agrees = 1;
    for (int e = 0; e < experiments; e++) {
        abstats_arm_t c, t;
        abstats_arm_init(&c);
        abstats_arm_init(&t);
        for (int i = 0; i < per_arm; i++) {
            abstats_arm_add(&c, revenue(&r, 0), 0, 0, 0);
            abstats_arm_add(&t, revenue(&r, 0), 0, 0, 0);
        }
        abstats_result_t res;
        if (abstats_welch(&c, &t, 0.95, &res) != 0) {
            CHECK(0);
            continue;
        }
        int sig = res.p < 0.05;
        rejected += sig;
        if (sig != (res.ci_lo > 0 || res.ci_hi < 0))
            ci_agrees = 0;
    }
    double fpr = (double)rejected / experiments;
    fprintf(stderr, "A/A false-positive rate at alpha 0.05: %.4f\n", fpr);
    CHECK(fpr >= 0.035 && fpr <= 0.065);
    CHECK(ci_agrees);
}

static void test_power_matches_normal_approximation(void)
{
    rng_t r = { 77 };
    const int experiments = 1000, per_arm = 200;
    const double effect = 0.25, sd = 1;
    int found = 0;
    for (int e = 0; e < experiments; e++) {
        abstats_arm_t c, t;
        abstats_arm_init(&c);
        abstats_arm_init(&t);
        for (int i = 0; i < per_arm; i++) {
            abstats_arm_add(&c, sd * rng_normal(&r), 0, 0, 0);
            abstats_arm_add(&t, effect + sd * rng_normal(&r), 0, 0, 0);
        }
        abstats_result_t res;
        CHECK_EQ_INT(abstats_welch(&c, &t, 0.95, &res), 0);
        found += res.p < 0.05 && res.estimate > 0;
    }
    double predicted = abstats_power(sd, effect, per_arm, 0.05);
    double observed = (double)found / experiments;
    fprintf(stderr, "power: observed %.3f, normal approximation %.3f\n",
            observed, predicted);
    CHECK(near(predicted, 0.7054, 0.002)); /* Phi(0.25/0.1 - 1.96) */
    CHECK(near(observed, predicted, 0.05));
    /* 2 (1.959964 + 0.841621)^2 / 0.25^2 = 251.2 */
    CHECK(abstats_sample_size(1, 0.25, 0.05, 0.8) == 252);
    CHECK(abstats_sample_size(2, 0.25, 0.05, 0.8) == 1005);
    CHECK(abstats_sample_size(0, 0.25, 0.05, 0.8) == 0);
    CHECK(near(abstats_power(1, 0.25, 252, 0.05), 0.8, 0.002));
}

/* ---- delta method ------------------------------------------------------------------------- */

/* One customer's exposures and clicks: exposures 1 + Poisson(4), each
 * customer with their own click-through rate, so a customer's clicks are
 * correlated and a per-exposure binomial standard error is too small. */
static void ctr_customer(rng_t *r, double lift, double *clicks, double *exposures)
{
    unsigned n = 1 + rng_poisson(r, 4);
    double p = 0.3 * rng_uniform(r) * rng_uniform(r) * 2 + lift;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        k += rng_uniform(r) < p;
    *clicks = k;
    *exposures = n;
}

static void test_delta_method_against_simulation(void)
{
    rng_t r = { 5 };
    const int experiments = 800, per_arm = 300;
    const double lift = 0.02;
    double sum_est = 0, sum_est2 = 0, sum_var = 0, sum_naive_var = 0;
    int covered = 0;
    for (int e = 0; e < experiments; e++) {
        abstats_arm_t c, t;
        abstats_arm_init(&c);
        abstats_arm_init(&t);
        for (int i = 0; i < per_arm; i++) {
            double k, n;
            ctr_customer(&r, 0, &k, &n);
            abstats_arm_add(&c, 0, 0, k, n);
            ctr_customer(&r, lift, &k, &n);
            abstats_arm_add(&t, 0, 0, k, n);
        }
        abstats_result_t res;
        CHECK_EQ_INT(abstats_ratio(&c, &t, 0.95, &res), 0);
        CHECK(isinf(res.df));
        sum_est += res.estimate;
        sum_est2 += res.estimate * res.estimate;
        sum_var += res.se * res.se;
        covered += res.ci_lo <= lift && lift <= res.ci_hi;
        /* the binomial formula on exposures, ignoring who they belong to */
        double nc = c.mean_den * per_arm, nt = t.mean_den * per_arm;
        double pc = res.control, pt = res.treatment;
        sum_naive_var += pc * (1 - pc) / nc + pt * (1 - pt) / nt;
    }
    double mean = sum_est / experiments;
    double emp_var = sum_est2 / experiments - mean * mean;
    double delta_var = sum_var / experiments;
    double naive_var = sum_naive_var / experiments;
    fprintf(stderr,
            "delta method: empirical sd %.5f, delta-method se %.5f, naive binomial se %.5f, coverage %.3f\n",
            sqrt(emp_var), sqrt(delta_var), sqrt(naive_var),
            (double)covered / experiments);
    CHECK(near(sqrt(delta_var) / sqrt(emp_var), 1, 0.08));
    CHECK(near((double)covered / experiments, 0.95, 0.025));
    CHECK(near(mean, lift, 4 * sqrt(emp_var / experiments)));
    CHECK(sqrt(naive_var) < 0.85 * sqrt(emp_var)); /* why the delta method */

    abstats_arm_t z, c2;
    abstats_arm_init(&z);
    abstats_arm_init(&c2);
    for (int i = 0; i < 5; i++) {
        abstats_arm_add(&z, 0, 0, 0, 0);
        abstats_arm_add(&c2, 0, 0, 1, 2);
    }
    abstats_result_t res;
    CHECK_EQ_INT(abstats_ratio(&z, &c2, 0.95, &res), -EDOM);
}

/* ---- CUPED --------------------------------------------------------------------------------- */

static void test_cuped_reduces_variance_unbiased(void)
{
    /* pre-period spend x ~ N(100, 20^2); y = 0.8 x + N(0, 12^2) + effect:
     * corr(x, y)^2 = 16^2 / (16^2 + 12^2) = 0.64 */
    rng_t r = { 99 };
    const int experiments = 1000, per_arm = 200;
    const double effect = 2;
    double s_plain = 0, s_plain2 = 0, s_adj = 0, s_adj2 = 0;
    double s_reduction = 0, s_adj_se2 = 0;
    int adj_covered = 0;
    for (int e = 0; e < experiments; e++) {
        abstats_arm_t c, t;
        abstats_arm_init(&c);
        abstats_arm_init(&t);
        for (int i = 0; i < per_arm; i++) {
            double x = 100 + 20 * rng_normal(&r);
            abstats_arm_add(&c, 0.8 * x + 12 * rng_normal(&r), x, 0, 0);
            x = 100 + 20 * rng_normal(&r);
            abstats_arm_add(&t, 0.8 * x + 12 * rng_normal(&r) + effect, x, 0, 0);
        }
        abstats_cuped_t cu;
        CHECK_EQ_INT(abstats_cuped(&c, &t, 0.95, &cu), 0);
        s_plain += cu.plain.estimate;
        s_plain2 += cu.plain.estimate * cu.plain.estimate;
        s_adj += cu.adjusted.estimate;
        s_adj2 += cu.adjusted.estimate * cu.adjusted.estimate;
        s_reduction += cu.variance_reduction;
        s_adj_se2 += cu.adjusted.se * cu.adjusted.se;
        adj_covered += cu.adjusted.ci_lo <= effect && effect <= cu.adjusted.ci_hi;
        if (e == 0)
            CHECK(near(cu.theta, 0.8, 0.1));
    }
    double n = experiments;
    double m_plain = s_plain / n, m_adj = s_adj / n;
    double v_plain = s_plain2 / n - m_plain * m_plain;
    double v_adj = s_adj2 / n - m_adj * m_adj;
    fprintf(stderr,
            "CUPED: mean plain %.3f adjusted %.3f (true %.1f); variance ratio %.3f; reported reduction %.3f; coverage %.3f\n",
            m_plain, m_adj, effect, v_adj / v_plain, s_reduction / n,
            adj_covered / n);
    CHECK(near(m_adj, effect, 4 * sqrt(v_adj / n)));
    CHECK(near(m_plain, effect, 4 * sqrt(v_plain / n)));
    CHECK(near(v_adj / v_plain, 0.36, 0.06));
    CHECK(near(s_reduction / n, 0.64, 0.03));
    CHECK(near(sqrt(s_adj_se2 / n) / sqrt(v_adj), 1, 0.08));
    CHECK(near(adj_covered / n, 0.95, 0.025));

    /* an uninformative covariate changes nothing */
    abstats_arm_t c, t;
    abstats_arm_init(&c);
    abstats_arm_init(&t);
    for (int i = 0; i < 50; i++) {
        abstats_arm_add(&c, rng_normal(&r), 7, 0, 0);
        abstats_arm_add(&t, rng_normal(&r), 7, 0, 0);
    }
    abstats_cuped_t cu;
    CHECK_EQ_INT(abstats_cuped(&c, &t, 0.95, &cu), 0);
    CHECK(cu.theta == 0);
    CHECK(near(cu.adjusted.estimate, cu.plain.estimate, 1e-12));
    CHECK(near(cu.variance_reduction, 0, 1e-12));
}

/* ---- SRM ------------------------------------------------------------------------------------ */

static void test_srm(void)
{
    const double half[] = { 0.5, 0.5 };
    abstats_srm_t s;
    const uint64_t balanced[] = { 5000, 5010 };
    CHECK_EQ_INT(abstats_srm(balanced, half, 2, &s), 0);
    CHECK(!s.mismatch && s.p > 0.9);
    /* 200 customers short of an even split: chi2 = 2 * 200^2 / 5200 */
    const uint64_t skewed[] = { 5000, 5400 };
    CHECK_EQ_INT(abstats_srm(skewed, half, 2, &s), 0);
    CHECK(near(s.chi2, 80000.0 / 5200, 1e-9));
    CHECK(s.mismatch && s.p < 1e-4);
    /* a typical logging bug: a quarter of one arm's exposures lost */
    const uint64_t lost[] = { 50000, 37500 };
    CHECK_EQ_INT(abstats_srm(lost, half, 2, &s), 0);
    CHECK(s.mismatch && s.p < 1e-100);

    /* unequal weights, given unnormalised */
    const double w3[] = { 2, 3, 5 };
    const uint64_t ok3[] = { 2010, 2985, 5005 };
    CHECK_EQ_INT(abstats_srm(ok3, w3, 3, &s), 0);
    CHECK(!s.mismatch && s.df == 2);
    const uint64_t bad3[] = { 2500, 2500, 5000 };
    CHECK_EQ_INT(abstats_srm(bad3, w3, 3, &s), 0);
    CHECK(s.mismatch);

    /* correctly weighted random splits rarely raise it */
    rng_t r = { 3 };
    int alarms = 0;
    for (int e = 0; e < 2000; e++) {
        uint64_t counts[3] = { 0, 0, 0 };
        for (int i = 0; i < 1000; i++) {
            double u = rng_uniform(&r);
            counts[u < 0.2 ? 0 : u < 0.5 ? 1 : 2]++;
        }
        CHECK_EQ_INT(abstats_srm(counts, w3, 3, &s), 0);
        alarms += s.mismatch;
    }
    fprintf(stderr, "SRM false alarms: %d of 2000 (expected about 2)\n", alarms);
    CHECK(alarms <= 8);

    const double bad_w[] = { 0.5, 0 };
    CHECK_EQ_INT(abstats_srm(balanced, bad_w, 2, &s), -EINVAL);
    CHECK_EQ_INT(abstats_srm(balanced, half, 1, &s), -EINVAL);
    const uint64_t none[] = { 0, 0 };
    CHECK_EQ_INT(abstats_srm(none, half, 2, &s), -EDOM);
}

/* ---- peeking --------------------------------------------------------------------------------- */

/* Runs experiments with a look after every `step` customers per arm up to
 * `max_n`, and counts how many ever "reject" at alpha 0.05 under a
 * fixed-horizon Welch test read at every look, and under mSPRT. */
static void peeking_run(double effect, int experiments, int max_n, int step,
                        uint64_t seed, double *fixed_rate, double *msprt_rate)
{
    rng_t r = { seed };
    int fixed_rejects = 0, msprt_rejects = 0;
    for (int e = 0; e < experiments; e++) {
        abstats_arm_t c, t;
        abstats_arm_init(&c);
        abstats_arm_init(&t);
        abstats_msprt_t m;
        CHECK_EQ_INT(abstats_msprt_init(&m, 0.01, 0.05), 0);
        int fixed_hit = 0;
        for (int n = 1; n <= max_n; n++) {
            abstats_arm_add(&c, rng_normal(&r), 0, 0, 0);
            abstats_arm_add(&t, effect + rng_normal(&r), 0, 0, 0);
            if (n % step)
                continue;
            abstats_result_t res;
            if (!fixed_hit && abstats_welch(&c, &t, 0.95, &res) == 0)
                fixed_hit = res.p < 0.05;
            int rc = abstats_msprt_look(&m, &c, &t);
            CHECK(rc == 0 || (rc == -EDOM && n < ABSTATS_MSPRT_MIN_N));
            CHECK(m.p <= 1);
        }
        fixed_rejects += fixed_hit;
        msprt_rejects += m.p < 0.05;
        if (effect == 0)
            CHECK((m.p < 0.05) == (m.ci_lo > 0 || m.ci_hi < 0));
    }
    *fixed_rate = (double)fixed_rejects / experiments;
    *msprt_rate = (double)msprt_rejects / experiments;
}

static void test_msprt_peeking(void)
{
    double fixed, msprt;
    peeking_run(0, 400, 2000, 20, 8, &fixed, &msprt);
    fprintf(stderr,
            "A/A with 100 looks: fixed-horizon false positives %.3f, mSPRT %.3f\n",
            fixed, msprt);
    CHECK(fixed > 0.12);  /* peeking at a fixed-horizon test inflates it */
    CHECK(msprt <= 0.05); /* mSPRT holds alpha however often it is read */

    peeking_run(0.2, 200, 2000, 20, 9, &fixed, &msprt);
    fprintf(stderr, "effect 0.2 sd: mSPRT detects %.3f by n = 2000\n", msprt);
    CHECK(msprt > 0.8);

    abstats_msprt_t m;
    CHECK_EQ_INT(abstats_msprt_init(&m, 0, 0.05), -EINVAL);
    CHECK_EQ_INT(abstats_msprt_init(&m, 1, 1), -EINVAL);
    CHECK_EQ_INT(abstats_msprt_init(&m, 1, 0.05), 0);
    abstats_arm_t c;
    abstats_arm_init(&c);
    CHECK_EQ_INT(abstats_msprt_look(&m, &c, &c), -EDOM);
    CHECK(m.p == 1 && m.looks == 0);
}

int main(void)
{
    test_normal();
    test_t_distribution();
    test_chi2_and_special();
    test_welford_and_merge();
    test_welch_hand_example();
    test_aa_false_positive_rate();
    test_power_matches_normal_approximation();
    test_delta_method_against_simulation();
    test_cuped_reduces_variance_unbiased();
    test_srm();
    test_msprt_peeking();
    TEST_MAIN_END();
}
