/*
 * test_uplift_cate.c - the boosted squared-loss regression
 * (uplift_gbt_fit_reg) and the DR- and X-learners of a coupon's effect on
 * profit (recsys/coupons/uplift_cate.h): on a randomized log where the
 * coupon earns +4 for recent customers and costs 3 for the others, both
 * learners recover the sign and size of the effect per group; the fit is
 * deterministic; bad input is refused.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"
#include "uplift_cate.h"

/* xorshift64* */
static double unit(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

static void test_regression_fits_a_step(void)
{
    enum { N = 2000 };
    static double X[N * UPLIFT_GBT_DIM], t[N];
    static uplift_gbt_t m;
    memset(X, 0, sizeof X);
    for (int i = 0; i < N; i++) {
        X[i * UPLIFT_GBT_DIM] = i % 100;            /* recency */
        t[i] = i % 100 < 30 ? 10.0 : -2.0;
    }
    CHECK_EQ_INT(uplift_gbt_fit_reg(X, t, NULL, N, NULL, &m), 0);
    double lo[UPLIFT_GBT_DIM] = { 10 }, hi[UPLIFT_GBT_DIM] = { 80 };
    CHECK(fabs(uplift_gbt_value(&m, lo) - 10.0) < 0.1);
    CHECK(fabs(uplift_gbt_value(&m, hi) + 2.0) < 0.1);
    CHECK_EQ_INT(uplift_gbt_fit_reg(X, NULL, NULL, N, NULL, &m), -EINVAL);
    t[7] = NAN;
    CHECK_EQ_INT(uplift_gbt_fit_reg(X, t, NULL, N, NULL, &m), -EINVAL);
}

/* Recent customers (recency < 30): buy 0.2 -> 0.6 with the coupon, margin
 * 10, discount 2: effect 0.6 * 8 - 0.2 * 10 = +2.8. The others: 0.5 -> 0.5,
 * effect -0.5 * 2 = -1. */
static double true_effect(double recency)
{
    return recency < 30 ? 2.8 : -1.0;
}

static void make_log(uplift_log_t *logs, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uplift_log_t *l = &logs[i];
        memset(l, 0, sizeof *l);
        l->x.recency_days = 100.0 * unit(&s);
        l->x.orders = 1 + (double)(i % 5);
        l->x.average_basket = 50;
        l->x.propensity = -1;
        l->treated = unit(&s) < 0.5;
        l->assign_prob = 0.5;
        int recent = l->x.recency_days < 30;
        double p = l->treated ? (recent ? 0.6 : 0.5) : (recent ? 0.2 : 0.5);
        l->bought = unit(&s) < p;
        l->margin = l->bought ? 10.0 : 0.0;
        l->cost = l->bought && l->treated ? 2.0 : 0.0;
    }
}

static void test_learners_recover_the_effect(void)
{
    enum { N = 40000 };
    static uplift_log_t logs[N];
    static uplift_cate_t m, again;
    uplift_cate_config_t cfg;
    make_log(logs, N, 99);
    for (int method = UPLIFT_CATE_DR; method <= UPLIFT_CATE_X; method++) {
        uplift_cate_config_default(&cfg);
        cfg.method = method;
        CHECK_EQ_INT(uplift_cate_fit(logs, N, &cfg, &m), 0);
        double err = 0.0;
        for (int r = 5; r < 100; r += 10) {
            uplift_x_t x = { r, 3, 150, 50, 0, -1 };
            double got = uplift_cate_predict(&m, &x), want = true_effect(r);
            CHECK((got > 0) == (want > 0));
            err = fmax(err, fabs(got - want));
        }
        CHECK(err < 0.6);
        CHECK_EQ_INT(uplift_cate_fit(logs, N, &cfg, &again), 0);
        CHECK(memcmp(&m, &again, sizeof m) == 0);   /* deterministic */
    }
}

static void test_bad_input(void)
{
    static uplift_cate_t m;
    uplift_log_t logs[4];
    uplift_cate_config_t cfg;
    make_log(logs, 4, 1);
    uplift_cate_config_default(&cfg);
    CHECK(uplift_cate_config_invalid(&cfg) == NULL);
    cfg.folds = 1;
    CHECK(uplift_cate_config_invalid(&cfg) != NULL);
    CHECK_EQ_INT(uplift_cate_fit(logs, 4, &cfg, &m), -EINVAL);
    uplift_cate_config_default(&cfg);
    cfg.method = 7;
    CHECK_EQ_INT(uplift_cate_fit(logs, 4, &cfg, &m), -EINVAL);
    CHECK_EQ_INT(uplift_cate_fit(NULL, 4, NULL, &m), -EINVAL);
    logs[2].assign_prob = 2.0;
    CHECK_EQ_INT(uplift_cate_fit(logs, 4, NULL, &m), -EINVAL);
    logs[2].assign_prob = 0.5;
    logs[3].margin = INFINITY;
    CHECK_EQ_INT(uplift_cate_fit(logs, 4, NULL, &m), -EINVAL);
    /* no rows: a constant model of no effect */
    CHECK_EQ_INT(uplift_cate_fit(logs, 0, NULL, &m), 0);
    uplift_x_t x = { 1, 1, 1, 1, 0, -1 };
    CHECK(uplift_cate_predict(&m, &x) == 0.0);
}

int main(void)
{
    test_regression_fits_a_step();
    test_learners_recover_the_effect();
    test_bad_input();
    TEST_MAIN_END();
}
