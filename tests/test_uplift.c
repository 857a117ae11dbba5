/*
 * test_uplift.c - the uplift model, its evaluation and budget pacing
 * (recsys/coupons/uplift.h): logistic regression recovers planted coefficients, the
 * T-learner ranks persuadables above sure buyers, priors rule where data is
 * missing, Qini / AUUC / budget evaluation match hand computations, the
 * train/test split keeps each customer on one side and the out-of-sample
 * evaluation favours the uplift model on a planted log, and the pacer keeps
 * spend near the ideal curve without ever exceeding the budget.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coupon.h"
#include "testutil.h"
#include "uplift.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

/* xorshift64*: deterministic numbers for the simulated data */
static double unit(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

static double normal(uint64_t *s)
{
    double u = unit(s), v = unit(s);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

static void test_logreg_recovers_coefficients(void)
{
    const size_t n = 20000, d = 3;
    const double truth[3] = { -0.5, 1.2, -0.8 };
    double *X = malloc(n * d * sizeof *X);
    uint8_t *y = malloc(n);
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        double *x = X + i * d;
        x[0] = 1.0;
        x[1] = normal(&s);
        x[2] = normal(&s);
        y[i] = unit(&s) < uplift_logreg_predict(truth, x, d);
    }
    double beta[3] = { 0 };
    CHECK_EQ_INT(uplift_logreg_fit(X, y, NULL, n, d, 0.0, NULL, 25, beta), 0);
    for (size_t j = 0; j < d; j++)
        CHECK(NEAR(beta[j], truth[j], 0.08));

    /* weight 2 on every row is the same as each row twice: same optimum
     * when the penalty is doubled too */
    double *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = 2.0;
    double b1[3] = { 0 }, b2[3] = { 0 };
    CHECK_EQ_INT(uplift_logreg_fit(X, y, NULL, n, d, 1.0, NULL, 25, b1), 0);
    CHECK_EQ_INT(uplift_logreg_fit(X, y, w, n, d, 2.0, NULL, 25, b2), 0);
    for (size_t j = 0; j < d; j++)
        CHECK(NEAR(b1[j], b2[j], 1e-6));

    /* a strong ridge pulls slopes to the prior */
    double prior[3] = { 0.0, 0.3, 0.3 }, b3[3] = { 0 };
    CHECK_EQ_INT(uplift_logreg_fit(X, y, NULL, n, d, 1e9, prior, 25, b3), 0);
    CHECK(NEAR(b3[1], 0.3, 1e-3) && NEAR(b3[2], 0.3, 1e-3));

    /* perfectly separable data: the ridge keeps it finite */
    for (size_t i = 0; i < n; i++)
        y[i] = X[i * d + 1] > 0.0;
    double b4[3] = { 0 };
    CHECK_EQ_INT(uplift_logreg_fit(X, y, NULL, n, d, 1.0, NULL, 50, b4), 0);
    CHECK(isfinite(b4[1]) && b4[1] > 5.0);

    CHECK_EQ_INT(uplift_logreg_fit(X, y, NULL, n, 0, 1.0, NULL, 25, beta),
                 -EINVAL);
    CHECK_EQ_INT(uplift_logreg_fit(X, y, NULL, n, d, -1.0, NULL, 25, beta),
                 -EINVAL);
    CHECK_EQ_INT(uplift_logreg_fit(NULL, y, NULL, n, d, 1.0, NULL, 25, beta),
                 -EINVAL);
    free(X);
    free(y);
    free(w);
}

/* Customer types with known response: features tell them apart imperfectly. */
enum { SURE, PERSUADABLE, LOST, SLEEPING };

static void type_customer(int type, uint64_t *s, uplift_x_t *x, double *pc,
                          double *pt)
{
    static const double rec[] = { 8, 60, 200, 15 }, ord[] = { 10, 3, 1, 6 };
    static const double bas[] = { 60, 50, 30, 80 };
    static const double pcs[] = { 0.75, 0.05, 0.02, 0.40 };
    static const double pts[] = { 0.77, 0.45, 0.03, 0.20 };
    x->recency_days = rec[type] * exp(0.5 * normal(s));
    x->orders = 1.0 + floor(ord[type] * exp(0.4 * normal(s)));
    x->average_basket = bas[type] * exp(0.3 * normal(s));
    x->monetary = x->orders * x->average_basket;
    x->stage = x->recency_days < 30 ? PROFILE_STAGE_ACTIVE
             : x->recency_days < 90 ? PROFILE_STAGE_AT_RISK
                                    : PROFILE_STAGE_LAPSED;
    x->propensity = -1.0;
    *pc = pcs[type];
    *pt = pts[type];
}

static void test_tlearner_ranks_persuadables(void)
{
    const size_t n = 40000;
    uplift_log_t *logs = calloc(n, sizeof *logs);
    uint64_t s = 777;
    for (size_t i = 0; i < n; i++) {
        double pc, pt;
        type_customer((int)(i % 4), &s, &logs[i].x, &pc, &pt);
        logs[i].treated = unit(&s) < 0.5;
        logs[i].assign_prob = 0.5;
        logs[i].bought = unit(&s) < (logs[i].treated ? pt : pc);
    }
    uplift_model_t m;
    CHECK_EQ_INT(uplift_fit(logs, n, NULL, &m), 0);
    CHECK_EQ_INT(m.fitted, 1);

    /* fresh customers: mean predicted uplift per type follows the truth */
    double mean[4] = { 0 }, resp[4] = { 0 };
    const int per = 500;
    for (int t = 0; t < 4; t++) {
        for (int k = 0; k < per; k++) {
            uplift_x_t x;
            uplift_pred_t p;
            double pc, pt;
            type_customer(t, &s, &x, &pc, &pt);
            CHECK_EQ_INT(uplift_predict(&m, &x, &p), 0);
            CHECK(p.p_treated >= 0.0 && p.p_treated <= 1.0);
            CHECK(NEAR(p.p_treated - p.p_control, p.uplift, 1e-12));
            mean[t] += p.uplift / per;
            resp[t] += p.p_response / per;
        }
    }
    CHECK(mean[PERSUADABLE] > 0.25);
    CHECK(fabs(mean[SURE]) < 0.1);
    CHECK(mean[SLEEPING] < 0.0);
    CHECK(mean[PERSUADABLE] > mean[SURE] + 0.2);
    /* ... while purchase propensity ranks sure buyers first: the trap */
    CHECK(resp[SURE] > resp[PERSUADABLE]);

    /* the same input gives the same model */
    uplift_model_t m2;
    CHECK_EQ_INT(uplift_fit(logs, n, NULL, &m2), 0);
    CHECK(memcmp(m.beta_treated, m2.beta_treated, sizeof m.beta_treated) == 0);

    logs[0].assign_prob = 1.5;
    CHECK_EQ_INT(uplift_fit(logs, n, NULL, &m2), -EINVAL);
    free(logs);
}

static void test_priors_and_shrinkage(void)
{
    uplift_config_t cfg;
    uplift_config_default(&cfg);
    cfg.prior[PROFILE_STAGE_LAPSED].base_rate = 0.02;
    cfg.prior[PROFILE_STAGE_LAPSED].uplift = 0.10;
    uplift_model_t m;
    CHECK_EQ_INT(uplift_model_init(&m, &cfg), 0);
    uplift_x_t x = { .recency_days = 200, .orders = 2, .monetary = 80,
                     .average_basket = 40, .stage = PROFILE_STAGE_LAPSED,
                     .propensity = -1 };
    uplift_pred_t p;
    CHECK_EQ_INT(uplift_predict(&m, &x, &p), 0);
    CHECK(NEAR(p.p_control, 0.02, 1e-12));
    CHECK(NEAR(p.uplift, 0.10, 1e-12));
    CHECK(NEAR(p.weight, 0.0, 1e-12));

    /* 40 rows per arm in the stage, all buying in both arms: the model says
     * uplift ~0, the prior 0.10; with prior_strength 200 the prior keeps
     * 200 / 240 of the say */
    uplift_log_t logs[80];
    for (int i = 0; i < 80; i++) {
        logs[i] = (uplift_log_t){ .x = x, .treated = (uint8_t)(i % 2),
                                  .bought = 1, .assign_prob = 0.5 };
    }
    /* weights are 1 / 0.5: 40 rows per arm weigh 80 */
    CHECK_EQ_INT(uplift_fit(logs, 80, &cfg, &m), 0);
    CHECK_EQ_INT(uplift_predict(&m, &x, &p), 0);
    CHECK(NEAR(p.weight, 80.0 / 280.0, 1e-9));
    CHECK(p.uplift > 0.05 && p.uplift < 0.10);
    /* another stage has no rows: its prior alone */
    x.stage = PROFILE_STAGE_NEW;
    CHECK_EQ_INT(uplift_predict(&m, &x, &p), 0);
    CHECK(NEAR(p.uplift, cfg.prior[PROFILE_STAGE_NEW].uplift, 1e-12));

    cfg.prior[2].uplift = 0.99;
    CHECK(uplift_config_invalid(&cfg) &&
          strstr(uplift_config_invalid(&cfg), "prior.uplift"));
    CHECK_EQ_INT(uplift_model_init(&m, &cfg), -EINVAL);
    uplift_config_default(&cfg);
    cfg.max_iter = 0;
    CHECK(strstr(uplift_config_invalid(&cfg), "max_iter") != NULL);
    m.version = 99;
    CHECK_EQ_INT(uplift_predict(&m, &x, &p), -EINVAL);
}

static void test_qini_by_hand(void)
{
    const double score[4] = { 0.9, 0.8, 0.7, 0.6 };
    const uint8_t treated[4] = { 1, 0, 1, 0 };
    const double outcome[4] = { 1, 0, 0, 1 };
    double curve[5], auuc, qini;
    /* top 1: yt 1 -> 1; top 2: yc 0 -> 1; top 3: 1 - 0 -> 1;
     * top 4: 1 - 1 * 2 / 2 = 0 */
    CHECK_EQ_INT(uplift_qini(score, treated, outcome, 4, curve, &auuc, &qini), 0);
    const double want[5] = { 0, 1, 1, 1, 0 };
    for (int i = 0; i < 5; i++)
        CHECK(NEAR(curve[i], want[i], 1e-12));
    CHECK(NEAR(auuc, 0.75, 1e-12));
    CHECK(NEAR(qini, 0.75, 1e-12));   /* the random line ends at q(4) = 0 */

    /* reversed ranking: rows 3 2 1 0 -> 0, -1, -0.5, 0 */
    const double rev[4] = { 0.1, 0.2, 0.3, 0.4 };
    CHECK_EQ_INT(uplift_qini(rev, treated, outcome, 4, curve, &auuc, &qini), 0);
    CHECK(NEAR(curve[2], -1.0, 1e-12) && NEAR(curve[3], -0.5, 1e-12));
    CHECK(NEAR(auuc, -0.375, 1e-12));

    /* ties keep the input order: all-equal scores = the first ranking */
    const double tie[4] = { 1, 1, 1, 1 };
    CHECK_EQ_INT(uplift_qini(tie, treated, outcome, 4, NULL, &auuc, &qini), 0);
    CHECK(NEAR(auuc, 0.75, 1e-12));

    /* a nonzero end point: random line area q(n) (n+1) / 2n */
    const double out2[4] = { 1, 0, 1, 0 };   /* treated all buy: q(4) = 2 */
    CHECK_EQ_INT(uplift_qini(score, treated, out2, 4, curve, &auuc, &qini), 0);
    /* q = 1, 1, 2, 2: auuc 1.5; random 2 * 5 / 8 = 1.25 */
    CHECK(NEAR(auuc, 1.5, 1e-12) && NEAR(qini, 0.25, 1e-12));

    CHECK_EQ_INT(uplift_qini(score, treated, outcome, 0, NULL, &auuc, &qini),
                 -EINVAL);
}

static void test_eval_budget_by_hand(void)
{
    /* rows by score: T(bought, margin 10, cost 2), C(0), T(0), C(margin 10) */
    uplift_log_t logs[4] = {
        { .treated = 1, .bought = 1, .margin = 10, .cost = 2, .assign_prob = 0.5 },
        { .treated = 0, .assign_prob = 0.5 },
        { .treated = 1, .assign_prob = 0.5 },
        { .treated = 0, .bought = 1, .margin = 10, .assign_prob = 0.5 },
    };
    const double score[4] = { 4, 3, 2, 1 };
    uplift_budget_eval_t e;
    /* k = 2: spend 2 * 2 = 4, margin 2 * (10 - 0) = 20;
     * k = 3: spend 3 * 1 = 3, margin 3 * (5 - 0) = 15;
     * k = 4: spend 4 * 1 = 4, margin 4 * (5 - 5) = 0 */
    CHECK_EQ_INT(uplift_eval_budget(score, logs, 4, 100.0, &e), 0);
    CHECK_EQ_INT(e.k, 4);
    CHECK(NEAR(e.incr_profit, -4.0, 1e-12));
    CHECK_EQ_INT(uplift_eval_budget(score, logs, 4, 3.5, &e), 0);
    CHECK_EQ_INT(e.k, 0);   /* k = 2 already costs 4 > 3.5: cut there */
    CHECK_EQ_INT(uplift_eval_budget(score, logs, 4, 4.0, &e), 0);
    CHECK_EQ_INT(e.k, 4);
    CHECK_EQ_INT(uplift_eval_budget(score, logs, 4, -1.0, &e), -EINVAL);
}

/* ---- out-of-sample evaluation ------------------------------------------------------ */

static void test_split_by_customer(void)
{
    const int n = 20000;
    int in_test = 0, held = 0, held_test = 0;
    char id[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "cust-%05d", i);
        uint64_t k = uplift_customer_key(id);
        int t = uplift_in_test_split(k, 0.3);
        /* Deterministic: the id alone decides, every call. */
        CHECK(k == uplift_customer_key(id));
        CHECK_EQ_INT(uplift_in_test_split(uplift_customer_key(id), 0.3), t);
        /* Raising the share only moves customers from train to test. */
        if (uplift_in_test_split(k, 0.2))
            CHECK_EQ_INT(t, 1);
        CHECK_EQ_INT(uplift_in_test_split(k, 0.0), 0);
        CHECK_EQ_INT(uplift_in_test_split(k, 1.0), 1);
        in_test += t;
        if (coupon_in_holdout(id, NULL)) {
            held++;
            held_test += t;
        }
    }
    CHECK(NEAR((double)in_test / n, 0.3, 0.015));
    /* The split hash is not the holdout hash: the holdout (5%) is spread
     * over both sides like everyone else. */
    CHECK(held > 800);
    CHECK(NEAR((double)held_test / held, 0.3, 0.06));
    CHECK(uplift_customer_key(NULL) == uplift_customer_key(""));
}

/* A planted log where customers come back (1..4 offers each): the T-learner
 * fitted on the train customers must rank the test customers' persuadables
 * first, and earn more at a budget than targeting likely buyers. */
static void test_out_of_sample_evaluation(void)
{
    const size_t n_cust = 6000, cap = 4 * 6000;
    uplift_log_t *logs = calloc(cap, sizeof *logs);
    uint8_t *is_test = calloc(cap, 1);
    uint64_t *owner = calloc(cap, sizeof *owner);
    uint64_t s = 4242;
    size_t n = 0, n_test = 0;
    char id[32];
    for (size_t c = 0; c < n_cust; c++) {
        int type = (int)(c % 4), visits = 1 + (int)(unit(&s) * 4.0);
        snprintf(id, sizeof id, "planted-%05zu", c);
        for (int v = 0; v < visits; v++, n++) {
            double pc, pt;
            uplift_log_t *l = &logs[n];
            type_customer(type, &s, &l->x, &pc, &pt);
            l->treated = unit(&s) < 0.5;
            l->assign_prob = 0.5;
            l->bought = unit(&s) < (l->treated ? pt : pc);
            l->margin = l->bought ? 20.0 : 0.0;
            l->cost = l->treated && l->bought ? 2.0 : 0.0;
            owner[n] = c;
            is_test[n] = (uint8_t)uplift_in_test_split(uplift_customer_key(id), 0.3);
            n_test += is_test[n];
        }
    }
    /* Disjoint: every row of a customer is on the same side. */
    for (size_t i = 1; i < n; i++)
        if (owner[i] == owner[i - 1])
            CHECK_EQ_INT(is_test[i], is_test[i - 1]);
    CHECK(NEAR((double)n_test / (double)n, 0.3, 0.05));

    const double budgets[2] = { 100.0, 400.0 };
    uplift_split_eval_t ev;
    CHECK_EQ_INT(uplift_evaluate_split(logs, is_test, n, NULL, budgets, 2, &ev), 0);
    CHECK_EQ_INT(ev.n_test, n_test);
    CHECK_EQ_INT(ev.n_train + ev.n_test, n);
    CHECK_EQ_INT(ev.test_treated + ev.test_control, n_test);

    /* The model saw the train rows only: the same as fitting them alone. */
    uplift_log_t *train = calloc(n, sizeof *train);
    size_t n_train = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_test[i])
            train[n_train++] = logs[i];
    uplift_model_t m;
    CHECK_EQ_INT(uplift_fit(train, n_train, NULL, &m), 0);
    CHECK(memcmp(m.beta_treated, ev.model.beta_treated, sizeof m.beta_treated) == 0);
    CHECK(memcmp(m.beta_control, ev.model.beta_control, sizeof m.beta_control) == 0);

    const uplift_policy_eval_t *mod = &ev.policy[UPLIFT_POLICY_MODEL];
    const uplift_policy_eval_t *prop = &ev.policy[UPLIFT_POLICY_PROPENSITY];
    const uplift_policy_eval_t *all = &ev.policy[UPLIFT_POLICY_EVERYONE];
    CHECK(mod->qini > 0.0);
    CHECK(mod->auuc > prop->auuc);
    CHECK(mod->auuc > all->auuc);
    for (int b = 0; b < 2; b++) {
        CHECK(mod->at_budget[b].k > 0);
        CHECK(mod->at_budget[b].spend <= budgets[b]);
        CHECK(mod->at_budget[b].incr_profit > 0.0);
        CHECK(mod->at_budget[b].incr_profit > 1.5 * prop->at_budget[b].incr_profit);
        CHECK(mod->at_budget[b].incr_profit > all->at_budget[b].incr_profit);
    }

    /* uplift_evaluate on the test rows with that model: the same figures. */
    uplift_log_t *test = calloc(n, sizeof *test);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_test[i])
            test[k++] = logs[i];
    uplift_policy_eval_t pe[UPLIFT_N_POLICIES];
    CHECK_EQ_INT(uplift_evaluate(&ev.model, test, k, budgets, 2, pe), 0);
    CHECK(pe[UPLIFT_POLICY_MODEL].auuc == mod->auuc);
    CHECK(pe[UPLIFT_POLICY_PROPENSITY].at_budget[1].incr_profit ==
          prop->at_budget[1].incr_profit);

    /* Errors: an empty side, too many budgets. */
    memset(is_test, 0, cap);
    CHECK_EQ_INT(uplift_evaluate_split(logs, is_test, n, NULL, budgets, 2, &ev), -EINVAL);
    memset(is_test, 1, cap);
    CHECK_EQ_INT(uplift_evaluate_split(logs, is_test, n, NULL, budgets, 2, &ev), -EINVAL);
    CHECK_EQ_INT(uplift_evaluate(&m, test, k, budgets, UPLIFT_EVAL_MAX_BUDGETS + 1, pe),
                 -EINVAL);
    CHECK_EQ_INT(uplift_evaluate(&m, test, 0, budgets, 2, pe), -EINVAL);
    CHECK_STREQ(uplift_policy_name(UPLIFT_POLICY_EVERYONE), "coupon to everyone");
    CHECK_STREQ(uplift_policy_name(UPLIFT_N_POLICIES), "?");
    free(logs);
    free(is_test);
    free(owner);
    free(train);
    free(test);
}

/* A campaign where demand at lambda 1 is ~3x the budget: the pacer must
 * spread the budget over the whole period and never exceed it. */
static void test_pacer_keeps_to_the_ideal_curve(void)
{
    const int64_t start = 1000000, end = start + 30LL * 86400000;
    const double budget = 10000.0, max_cost = 10.0;
    uplift_pacer_t p;
    CHECK_EQ_INT(uplift_pacer_init(&p, budget, start, end, NULL), 0);
    CHECK(NEAR(p.lambda, 1.0, 1e-12));
    CHECK(NEAR(uplift_pacer_ideal(&p, start + (end - start) / 2), 5000.0, 1e-9));

    const int arrivals = 20000;
    uint64_t s = 99;
    double spent = 0.0, worst_gap = 0.0;
    int granted = 0, refused_cap = 0;
    for (int i = 0; i < arrivals; i++) {
        int64_t now = start + (int64_t)((double)(end - start) * i / arrivals);
        double lambda = uplift_pacer_update(&p, spent, now);
        CHECK(lambda >= 1.0 && lambda <= 50.0);
        /* a customer: incremental margin vs expected cost */
        double cost = 1.0 + 4.0 * unit(&s);
        double gain = cost * (0.5 + 1.5 * unit(&s));
        if (gain - lambda * cost <= 0.0)
            continue;
        if (!uplift_grant_fits(budget, spent, max_cost)) {
            refused_cap++;
            continue;
        }
        spent += cost;
        granted++;
        CHECK(spent <= budget);
        if (i % 1000 == 999) {
            double gap = fabs(spent - uplift_pacer_ideal(&p, now)) / budget;
            if (gap > worst_gap)
                worst_gap = gap;
        }
    }
    CHECK(spent <= budget);
    CHECK(spent >= 0.9 * budget);       /* the budget is used ... */
    CHECK(worst_gap < 0.08);            /* ... evenly over the campaign */
    CHECK(granted > 0);

    /* the hard check */
    CHECK(uplift_grant_fits(100.0, 90.0, 10.0));
    CHECK(!uplift_grant_fits(100.0, 90.01, 10.0));
    CHECK(!uplift_grant_fits(100.0, 0.0, NAN));
    CHECK(!uplift_grant_fits(100.0, 0.0, -1.0));

    /* errors, and an update from the past does not wind the integral */
    CHECK_EQ_INT(uplift_pacer_init(&p, 100.0, end, start, NULL), -EINVAL);
    CHECK_EQ_INT(uplift_pacer_init(&p, -1.0, start, end, NULL), -EINVAL);
    CHECK_EQ_INT(uplift_pacer_init(&p, 100.0, start, end, NULL), 0);
    uplift_pacer_update(&p, 60.0, start + (end - start) / 2);
    double integral = p.integral;
    uplift_pacer_update(&p, 60.0, start + (end - start) / 4);
    CHECK(p.integral == integral);
    CHECK(p.lambda > 1.0);               /* 60 spent of 25 ideal: ahead */
}

int main(void)
{
    test_logreg_recovers_coefficients();
    test_tlearner_ranks_persuadables();
    test_priors_and_shrinkage();
    test_qini_by_hand();
    test_eval_budget_by_hand();
    test_split_by_customer();
    test_out_of_sample_evaluation();
    test_pacer_keeps_to_the_ideal_curve();
    TEST_MAIN_END();
}
