/*
 * test_uplift_gbt.c - boosted trees and the boosted T-learner
 * (recsys/coupons/uplift_gbt.h): on a separable toy problem one tree finds
 * the separating cut and its Newton leaves are exactly +-2 (logit of
 * sigmoid(2)), pure nodes are not split, the fit is deterministic, the
 * T-learner's uplift follows the arm that reacts, bad input is refused, and
 * uplift_select.h keeps the boosted learner only where it earns more out of
 * sample and it has the rows to be fitted.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"
#include "uplift_gbt.h"
#include "uplift_select.h"

/* 8 rows: recency 1..4 bought, 11..14 did not; everything else constant. */
static void toy(double X[8 * UPLIFT_GBT_DIM], uint8_t y[8])
{
    static const double rec[8] = { 1, 2, 3, 4, 11, 12, 13, 14 };
    for (int i = 0; i < 8; i++) {
        uplift_x_t x = { .recency_days = rec[i], .orders = 2, .monetary = 50,
                         .average_basket = 25, .stage = 1, .propensity = -1 };
        uplift_gbt_features(&x, X + i * UPLIFT_GBT_DIM);
        y[i] = rec[i] < 5;
    }
}

static void test_separable_toy_exact(void)
{
    double X[8 * UPLIFT_GBT_DIM];
    uint8_t y[8];
    uplift_gbt_config_t cfg = { .n_trees = 1, .learn_rate = 1.0, .l2 = 0.0, .min_hess = 0.0 };
    static uplift_gbt_t m, again;
    toy(X, y);
    CHECK_EQ_INT(uplift_gbt_fit(X, y, NULL, 8, &cfg, &m), 0);
    CHECK(m.base == 0.0);   /* half bought: logit(0.5) */
    CHECK_EQ_INT((int)m.n_trees, 1);
    /* the root splits recency at 4 (the largest value left of the gap) */
    CHECK_EQ_INT(m.tree[0].feature[0], 0);
    CHECK(m.tree[0].threshold[0] == 4.0);
    /* pure children: no split gains anything, every row goes left */
    for (int j = 1; j < UPLIFT_GBT_NODES; j++)
        CHECK(isinf(m.tree[0].threshold[j]));
    /* Newton leaf -G/H with g = 0.5 - y, h = 0.25: +2 for buyers, -2 not */
    CHECK(m.tree[0].leaf[0] == 2.0);
    CHECK(m.tree[0].leaf[4] == -2.0);
    CHECK(fabs(uplift_gbt_predict(&m, X) - 1.0 / (1.0 + exp(-2.0))) < 1e-15);
    CHECK(fabs(uplift_gbt_predict(&m, X + 7 * UPLIFT_GBT_DIM) - 1.0 / (1.0 + exp(2.0))) < 1e-15);
    CHECK(uplift_gbt_invalid(&m) == NULL);

    /* deterministic: the same rows give the same bytes */
    CHECK_EQ_INT(uplift_gbt_fit(X, y, NULL, 8, &cfg, &again), 0);
    CHECK(memcmp(&m, &again, sizeof m) == 0);

    /* more trees drive the toy towards certainty */
    cfg.n_trees = 50;
    CHECK_EQ_INT(uplift_gbt_fit(X, y, NULL, 8, &cfg, &m), 0);
    CHECK(uplift_gbt_predict(&m, X) > 0.999);
    CHECK(uplift_gbt_predict(&m, X + 7 * UPLIFT_GBT_DIM) < 0.001);
}

static void test_tlearner_uplift_follows_reacting_arm(void)
{
    /* treated: recent customers buy; control: nobody buys. The uplift is
     * large for recent customers, ~0 for the others. */
    uplift_log_t logs[32];
    memset(logs, 0, sizeof logs);
    for (int i = 0; i < 32; i++) {
        logs[i].x.recency_days = (i % 16) < 8 ? 1 + i % 8 : 30 + i % 8;
        logs[i].x.propensity = -1;
        logs[i].treated = i < 16;
        logs[i].bought = logs[i].treated && (i % 16) < 8;
        logs[i].assign_prob = 0.5;
    }
    uplift_gbt_config_t cfg = { .n_trees = 20, .learn_rate = 0.5, .l2 = 0.0, .min_hess = 0.0 };
    static uplift_gbt_tl_t m;
    uplift_pred_t recent, old;
    CHECK_EQ_INT(uplift_gbt_tl_fit(logs, 32, &cfg, &m), 0);
    uplift_gbt_tl_predict(&m, &logs[0].x, &recent);
    uplift_gbt_tl_predict(&m, &logs[8].x, &old);
    CHECK(recent.uplift > 0.9);
    CHECK(fabs(old.uplift) < 0.01);
    CHECK(recent.p_treated - recent.p_control == recent.uplift);
}

static void test_bad_input(void)
{
    static uplift_gbt_t m;
    double X[UPLIFT_GBT_DIM] = { NAN, 0, 0, 0, 0, 0 };
    uint8_t y[1] = { 1 };
    uplift_gbt_config_t cfg;
    uplift_gbt_config_default(&cfg);
    CHECK(uplift_gbt_config_invalid(&cfg) == NULL);
    CHECK_EQ_INT(uplift_gbt_fit(X, y, NULL, 1, &cfg, &m), -EINVAL);   /* NaN feature */
    cfg.n_trees = UPLIFT_GBT_MAX_TREES + 1;
    CHECK(strstr(uplift_gbt_config_invalid(&cfg), "n_trees") != NULL);
    CHECK_EQ_INT(uplift_gbt_fit(X, y, NULL, 1, &cfg, &m), -EINVAL);
    /* no rows: the constant model */
    CHECK_EQ_INT(uplift_gbt_fit(NULL, NULL, NULL, 0, NULL, &m), 0);
    CHECK_EQ_INT((int)m.n_trees, 0);
    CHECK(uplift_gbt_predict(&m, X) == 0.5);
    /* a stored model with a bad feature index is caught */
    m.n_trees = 1;
    m.tree[0].feature[3] = UPLIFT_GBT_DIM;
    CHECK(uplift_gbt_invalid(&m) != NULL);
    uplift_log_t bad = { .assign_prob = 2.0 };
    static uplift_gbt_tl_t tl;
    CHECK_EQ_INT(uplift_gbt_tl_fit(&bad, 1, NULL, &tl), -EINVAL);
}

/* Rows where the coupon works only in a band of recency (20..50 days): an
 * interaction one slope per feature cannot draw. */
static void band_logs(uplift_log_t *logs, size_t n)
{
    uint64_t r = 88172645463325252ull;
    memset(logs, 0, n * sizeof *logs);
    for (size_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double u1 = (double)(r >> 11) / 9007199254740992.0;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double u2 = (double)(r >> 11) / 9007199254740992.0;
        uplift_log_t *l = &logs[i];
        l->x.recency_days = 1.0 + 99.0 * u1;
        l->x.orders = 2;
        l->x.monetary = 80;
        l->x.average_basket = 40;
        l->x.stage = 1;
        l->x.propensity = -1;
        l->treated = i % 2;
        l->assign_prob = 0.5;
        int band = l->x.recency_days > 20 && l->x.recency_days < 50;
        l->bought = u2 < (l->treated && band ? 0.6 : 0.1);
        l->margin = l->bought ? 12.0 : 0.0;
        l->cost = l->bought && l->treated ? 4.0 : 0.0;
    }
}

static void test_select_keeps_what_wins(void)
{
    enum { N = 8000 };
    static uplift_log_t logs[N];
    static uint8_t held[N];
    uplift_selection_t sel;
    band_logs(logs, N);
    for (size_t i = 0; i < N; i++)
        held[i] = i % 5 == 0;
    CHECK_EQ_INT(uplift_select_learner(logs, held, N, UPLIFT_SELECT_MIN_ROWS, &sel), 0);
    CHECK_EQ_INT(sel.n_fit, N - N / 5);
    CHECK_EQ_INT(sel.n_val, N / 5);
    CHECK_EQ_INT(sel.fit_treated + sel.fit_control, sel.n_fit);
    CHECK(sel.boosted_considered);
    CHECK(sel.value[UPLIFT_LEARNER_BOOSTED] > sel.value[UPLIFT_LEARNER_LOGISTIC]);
    CHECK_EQ_INT(sel.chosen, UPLIFT_LEARNER_BOOSTED);
    CHECK_STREQ(uplift_learner_name(sel.chosen), "boosted T-learner");
    /* Too few rows per arm for the trees: not tried, the logistic one stays. */
    CHECK_EQ_INT(uplift_select_learner(logs, held, N, N, &sel), 0);
    CHECK(!sel.boosted_considered);
    CHECK(isnan(sel.value[UPLIFT_LEARNER_BOOSTED]));
    CHECK(isfinite(sel.value[UPLIFT_LEARNER_LOGISTIC]));
    CHECK_EQ_INT(sel.chosen, UPLIFT_LEARNER_LOGISTIC);
    /* Nothing held out: nothing to compare, the logistic one. */
    memset(held, 0, sizeof held);
    CHECK_EQ_INT(uplift_select_learner(logs, held, N, 1, &sel), 0);
    CHECK_EQ_INT(sel.chosen, UPLIFT_LEARNER_LOGISTIC);
    CHECK_EQ_INT(uplift_select_learner(NULL, held, N, 1, &sel), -EINVAL);
    CHECK_EQ_INT(uplift_select_learner(logs, held, 0, 1, &sel), -EINVAL);
}

int main(void)
{
    test_separable_toy_exact();
    test_tlearner_uplift_follows_reacting_arm();
    test_bad_input();
    test_select_keeps_what_wins();
    TEST_MAIN_END();
}
