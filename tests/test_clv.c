/*
 * test_clv.c - BG/NBD and Gamma-Gamma (clv.h): the likelihoods against
 * hand-computed values on tiny examples, 2F1 against closed forms,
 * predictions on edge cases (no repeat purchase, last purchase now, an age
 * of a millisecond, a heavy buyer), and maximum likelihood recovering known
 * parameters from 20,000 customers simulated from the models, whose
 * holdout purchases the fitted model then predicts.
 */
#include <errno.h>
#include <math.h>

#include "clv.h"
#include "clv_eval.h"
#include "customers_clv.h"
#include "rng.h"
#include "testutil.h"

#define CHECK_NEAR(a, b, tol)                                                 \
    do {                                                                      \
        double x_ = (a), y_ = (b);                                            \
        if (!(fabs(x_ - y_) <= (tol))) {                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s ~ %s (%.12g vs %.12g)\n", \
                    __FILE__, __LINE__, #a, #b, x_, y_);                      \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

/* |a / b - 1| <= tol, reported with both values. */
#define CHECK_REL(a, b, tol) CHECK_NEAR((a) / (b), 1.0, tol)

/* ---- hand-computed values ---------------------------------------------------------- */

static void test_bgnbd_loglik_by_hand(void)
{
    /* r = alpha = a = b = 1.
     * x = 0, T = 1: L = B(1,1)/B(1,1) * Γ(1) 1^1 / (Γ(1) 2^1) = 1/2.
     * x = 1, t_x = 1, T = 2: Γ(2)/Γ(1) = 1;
     *   B(1,2)/B(1,1) 3^-2 = 1/18, B(2,1)/B(1,1) 2^-2 = 1/8; L = 13/72. */
    clv_bgnbd_t bg = { 1, 1, 1, 1 };
    clv_summary_t c[2] = { { 0, 0, 1, 1, 10 }, { 1, 1, 2, 2, 10 } };
    CHECK_NEAR(clv_bgnbd_loglik(&bg, c, 1), log(0.5), 1e-12);
    CHECK_NEAR(clv_bgnbd_loglik(&bg, c + 1, 1), log(13.0 / 72.0), 1e-12);
    CHECK_NEAR(clv_bgnbd_loglik(&bg, c, 2), log(0.5) + log(13.0 / 72.0), 1e-12);
    /* r = 2, alpha = 3, a = 2, b = 3, x = 2, t_x = 4, T = 6:
     * Γ(4)/Γ(2) 3^2 = 54; B(2,5)/B(2,3) = (1/30)/(1/12) = 0.4, 9^-4;
     * B(3,4)/B(2,3) = (1/60)/(1/12) = 0.2, 7^-4 */
    clv_bgnbd_t bg2 = { 2, 3, 2, 3 };
    clv_summary_t c2 = { 2, 4, 6, 3, 1 };
    CHECK_NEAR(clv_bgnbd_loglik(&bg2, &c2, 1),
               log(54 * (0.4 / 6561.0 + 0.2 / 2401.0)), 1e-12);
    clv_bgnbd_t bad = { -1, 1, 1, 1 };
    CHECK(clv_bgnbd_loglik(&bad, c, 2) == -HUGE_VAL);
}

static void test_gg_loglik_by_hand(void)
{
    /* p = 1, q = 2, gamma = 1.
     * n = 1, m = 1: Γ(3)/(Γ(1)Γ(2)) 1 1 1 / 2^3 = 1/4.
     * n = 2, m = 1: Γ(4)/(Γ(2)Γ(2)) 1 1 2^2 / 3^4 = 24/81.
     * mean_spend 0 is left out. */
    clv_gg_t gg = { 1, 2, 1 };
    clv_summary_t c[3] = { { 0, 0, 1, 1, 1 }, { 1, 1, 2, 2, 1 }, { 0, 0, 1, 1, 0 } };
    CHECK_NEAR(clv_gg_loglik(&gg, c, 3), log(0.25) + log(24.0 / 81.0), 1e-12);
}

static void test_hyp2f1(void)
{
    /* 2F1(1,1;2;z) = -ln(1-z)/z; 2F1(a,b;b;z) = (1-z)^-a */
    CHECK_NEAR(clv_log_hyp2f1(1, 1, 2, 0.5), log(2 * log(2.0)), 1e-12);
    CHECK_NEAR(clv_log_hyp2f1(1, 1, 2, 0.99), log(-log(0.01) / 0.99), 1e-10);
    CHECK_NEAR(clv_log_hyp2f1(3.5, 2, 2, 0.7), -3.5 * log(0.3), 1e-10);
    /* a heavy buyer's parameters: the value overflows a double, its log not */
    CHECK_NEAR(clv_log_hyp2f1(800, 2, 2, 0.9), -800 * log(0.1), 1e-7);
    CHECK_NEAR(clv_log_hyp2f1(1, 1, 2, 0), 0.0, 0);
    CHECK(isnan(clv_log_hyp2f1(1, 1, 2, 1)));
    CHECK(isnan(clv_log_hyp2f1(-1, 1, 2, 0.5)));
    /* -1 < c <= 0: the series alternates in sign; the values are the
     * series summed in Python (and mpmath.hyp2f1) */
    CHECK_NEAR(clv_hyp2f1(0.7, 0.4, -0.3, 0.6), -1.4426999059072128, 1e-10);
    CHECK_NEAR(clv_hyp2f1(1, 1, -0.5, 0.5), -8.712388980384688, 1e-9);
    CHECK_NEAR(clv_hyp2f1(1, 1, 2, 0.5), 2 * log(2.0), 1e-12);
    CHECK(isnan(clv_hyp2f1(1, 1, 0, 0.5)));
    CHECK(isnan(clv_hyp2f1(1, 1, -1.5, 0.5)));
}


/* ---- edge cases -------------------------------------------------------------------- */

static void check_sane(const clv_model_t *m, const clv_summary_t *s)
{
    clv_prediction_t p;
    CHECK_EQ_INT(clv_predict(m, s, 365, &p), 0);
    CHECK(isfinite(p.p_alive) && p.p_alive >= 0 && p.p_alive <= 1);
    CHECK_NEAR(p.churn_p, 1 - p.p_alive, 1e-15);
    CHECK(isfinite(p.expected_purchases) && p.expected_purchases >= 0);
    CHECK(isfinite(p.expected_spend) && p.expected_spend > 0);
    CHECK(isfinite(p.value) && p.value >= 0);
}

static void test_edges(void)
{
    clv_model_t m = { .bg = { 0.5, 40, 0.8, 2.5 }, .gg = { 6, 4, 15 }, .has_spend = 1,
                      .pop_spend = 30 };
    clv_summary_t none = { 0, 0, 100, 1, 25 }, now = { 5, 200, 200, 6, 25 },
                  tiny = { 0, 0, 1e-8, 1, 25 }, heavy = { 900, 365, 365, 901, 25 },
                  gone = { 5, 10, 400, 6, 25 }, nospend = { 2, 30, 60, 3, 0 };
    clv_prediction_t a, b;

    check_sane(&m, &none);
    check_sane(&m, &now);
    check_sane(&m, &tiny);
    check_sane(&m, &heavy);
    check_sane(&m, &gone);
    check_sane(&m, &nospend);
    /* BG/NBD: no repeat purchase, no chance to have dropped out yet */
    CHECK_NEAR(clv_p_alive(&m.bg, &none), 1.0, 0);
    /* buying right now is the best sign of life; five purchases then
     * 390 days of silence the worst */
    CHECK(clv_p_alive(&m.bg, &now) > 0.7);
    CHECK(clv_p_alive(&m.bg, &gone) < 0.1);
    /* a customer of a millisecond is a new customer (FHL eq. 7) */
    CHECK_REL(clv_expected_purchases(&m.bg, &tiny, 365), clv_expected_purchases_new(&m.bg, 365),
              1e-6);
    /* the heavy buyer keeps buying at about their rate (900 in a year) */
    clv_predict(&m, &heavy, 365, &a);
    CHECK(a.expected_purchases > 500 && a.expected_purchases < 1000);
    /* the spend estimate shrinks toward the population mean, less so with
     * more orders; no spend history gives the population mean */
    clv_summary_t one = { 0, 0, 100, 1, 100 }, many = { 19, 300, 300, 20, 100 };
    clv_predict(&m, &one, 365, &a);
    clv_predict(&m, &many, 365, &b);
    CHECK(a.expected_spend > 30 && a.expected_spend < b.expected_spend && b.expected_spend < 100);
    CHECK_NEAR(clv_expected_spend(&m, &nospend), 30, 1e-12);
    /* expected purchases grow with the horizon; 0 for none */
    CHECK(clv_expected_purchases(&m.bg, &now, 30) < clv_expected_purchases(&m.bg, &now, 365));
    CHECK_NEAR(clv_expected_purchases(&m.bg, &now, 0), 0, 0);
    /* invalid summaries */
    clv_summary_t neg = { -1, 0, 10, 1, 1 }, after = { 1, 20, 10, 2, 1 },
                  nan_ = { 1, NAN, 10, 2, 1 };
    CHECK_EQ_INT(clv_predict(&m, &neg, 365, &a), -EINVAL);
    CHECK_EQ_INT(clv_predict(&m, &after, 365, &a), -EINVAL);
    CHECK_EQ_INT(clv_predict(&m, &nan_, 365, &a), -EINVAL);
    CHECK_EQ_INT(clv_fit(&neg, 1, &m), -EINVAL);
    CHECK_EQ_INT(clv_fit(&none, 0, &m), -EINVAL);
}

/* ---- summaries from a history (customers_clv.h) ----------------------------------- */

static void test_summary_from_events(void)
{
    /* orders on days 0 (two purchases 10 minutes apart: one order of 30),
     * 10 (20) and 40 (40, then 10 refunded); now is day 100 */
    const int64_t t0 = 1700000000000LL, day = 86400000LL, min = 60000LL;
    store_event_rec_t ev[] = {
        { .item = 1, .type = STORE_EVENT_PURCHASE, .quantity = 1, .unit_price = 10, .time_ms = t0 },
        { .item = 2, .type = STORE_EVENT_PURCHASE, .quantity = 2, .unit_price = 10,
          .time_ms = t0 + 10 * min },
        { .item = 3, .type = STORE_EVENT_VIEW, .quantity = 1, .time_ms = t0 + 5 * day },
        { .item = 3, .type = STORE_EVENT_PURCHASE, .quantity = 1, .unit_price = 20,
          .time_ms = t0 + 10 * day },
        { .item = 4, .type = STORE_EVENT_PURCHASE, .quantity = 1, .unit_price = 40,
          .time_ms = t0 + 40 * day },
        { .item = 4, .type = STORE_EVENT_REFUND, .quantity = 1, .unit_price = 10,
          .time_ms = t0 + 41 * day },
    };
    profile_t p;
    clv_summary_t s;
    CHECK_EQ_INT(profile_compute(ev, 6, NULL, NULL, t0 + 100 * day, &p), 0);
    CHECK_EQ_INT(customers_clv_summary(&p, t0 + 100 * day, &s), 1);
    CHECK_NEAR(s.x, 2, 0);
    CHECK_NEAR(s.t_x, 40, 1e-12);
    CHECK_NEAR(s.T, 100, 1e-12);
    CHECK_NEAR(s.n, 3, 0);
    CHECK_NEAR(s.mean_spend, 80.0 / 3, 1e-12);
    /* before the first purchase: no summary, no prediction */
    CHECK_EQ_INT(profile_compute(ev, 6, NULL, NULL, t0 - 1, &p), 0);
    CHECK_EQ_INT(customers_clv_summary(&p, t0 - 1, &s), 0);
    clv_model_t m = { .bg = { 0.5, 40, 0.8, 2.5 } };
    clv_prediction_t pr;
    int has = 1;
    customers_clv_view(&m, &p, t0 - 1, &has, &pr);
    CHECK_EQ_INT(has, 0);
}

/* ---- simulation -------------------------------------------------------------------- */

static double normal(xoshiro_t *g)
{
    double u = xoshiro_unit(g), v = xoshiro_unit(g);
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

/* Gamma(shape, scale 1): Marsaglia and Tsang (2000), boosted for shape < 1. */
static double gamma_draw(xoshiro_t *g, double shape)
{
    if (shape < 1)
        return gamma_draw(g, shape + 1) * pow(1 - xoshiro_unit(g), 1 / shape);
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double z = normal(g), v = 1 + c * z;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = 1 - xoshiro_unit(g);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return d * v;
    }
}

#define SIM_CUSTOMERS 20000
#define SIM_HOLDOUT 180.0

/* One customer of the BG/NBD + Gamma-Gamma world, born at 0, observed to
 * T and then through a holdout of SIM_HOLDOUT days. */
static void simulate(xoshiro_t *g, const clv_model_t *truth, double T, clv_eval_row_t *row)
{
    double lambda = gamma_draw(g, truth->bg.r) / truth->bg.alpha;
    double ga = gamma_draw(g, truth->bg.a), gb = gamma_draw(g, truth->bg.b);
    double p = ga / (ga + gb);
    double nu = gamma_draw(g, truth->gg.q) / truth->gg.gamma;
    double t = 0, x = 0, t_x = 0, spend = gamma_draw(g, truth->gg.p) / nu;
    int alive = 1;

    row->actual_purchases = row->actual_spend = 0;
    while (alive) {
        t += -log(1 - xoshiro_unit(g)) / lambda;
        if (t > T + SIM_HOLDOUT)
            break;
        double value = gamma_draw(g, truth->gg.p) / nu;
        if (t <= T) {
            x++;
            t_x = t;
            spend += value;
        } else {
            row->actual_purchases++;
            row->actual_spend += value;
        }
        alive = xoshiro_unit(g) >= p;
    }
    row->cal = (clv_summary_t){ x, t_x, T, x + 1, spend / (x + 1) };
    row->last_purchases = row->last_spend = 0;
}

/* a + b < 1 makes eq. 7 and eq. 10 with x = 0 need 2F1 with c < 0: the
 * expectations stay finite, positive and grow with the horizon; a new
 * customer matches a Monte Carlo of the model. */
static void test_small_a_plus_b(void)
{
    clv_bgnbd_t bg = { 0.8, 20, 0.3, 0.5 };
    clv_summary_t one = { 0, 0, 50, 1, 10 };
    double e30 = clv_expected_purchases(&bg, &one, 30),
           e365 = clv_expected_purchases(&bg, &one, 365);
    CHECK(isfinite(e30) && e30 > 0 && e30 < e365 && isfinite(e365));
    xoshiro_t g;
    xoshiro_seed(&g, 7);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u1, u2, lam, p, t = 0;
        lam = gamma_draw(&g, bg.r) / bg.alpha;
        u1 = gamma_draw(&g, bg.a);
        u2 = gamma_draw(&g, bg.b);
        p = u1 / (u1 + u2);
        for (;;) { /* purchases in (0, 365] after a first at 0 */
            t += -log(1 - xoshiro_unit(&g)) / lam;
            if (t > 365)
                break;
            sum++;
            if (xoshiro_unit(&g) < p)
                break;
        }
    }
    CHECK_REL(clv_expected_purchases_new(&bg, 365), sum / n, 0.02);
}

static void test_recovery(void)
{
    const clv_model_t truth = { .bg = { 0.5, 40, 0.8, 2.5 }, .gg = { 6, 4, 15 } };
    static clv_eval_row_t rows[SIM_CUSTOMERS];
    static clv_summary_t cal[SIM_CUSTOMERS];
    clv_model_t m;
    xoshiro_t g;

    xoshiro_seed(&g, 20260516);
    for (int i = 0; i < SIM_CUSTOMERS; i++) {
        simulate(&g, &truth, 60 + 300 * xoshiro_unit(&g), &rows[i]);
        cal[i] = rows[i].cal;
    }
    CHECK_EQ_INT(clv_fit(cal, SIM_CUSTOMERS, &m), 0);
    printf("BG/NBD truth r %.3f alpha %.2f a %.3f b %.3f; fitted r %.3f alpha %.2f "
           "a %.3f b %.3f (loglik %.1f)\n", truth.bg.r, truth.bg.alpha, truth.bg.a,
           truth.bg.b, m.bg.r, m.bg.alpha, m.bg.a, m.bg.b, m.bg_loglik);
    printf("Gamma-Gamma truth p %.3f q %.3f gamma %.3f; fitted p %.3f q %.3f gamma %.3f "
           "(%llu spenders)\n", truth.gg.p, truth.gg.q, truth.gg.gamma, m.gg.p, m.gg.q,
           m.gg.gamma, (unsigned long long)m.spenders);
    /* the tolerances: a few standard errors at this size (r and alpha are
     * well determined; a and b, seen only through dropouts, least) */
    CHECK_REL(m.bg.r, truth.bg.r, 0.10);
    CHECK_REL(m.bg.alpha, truth.bg.alpha, 0.10);
    CHECK_REL(m.bg.a, truth.bg.a, 0.25);
    CHECK_REL(m.bg.b, truth.bg.b, 0.25);
    CHECK_REL(m.gg.p, truth.gg.p, 0.10);
    CHECK_REL(m.gg.q, truth.gg.q, 0.10);
    CHECK_REL(m.gg.gamma, truth.gg.gamma, 0.15);
    /* the estimate is a maximum: the truth is no more likely */
    CHECK(m.bg_loglik >= clv_bgnbd_loglik(&truth.bg, cal, SIM_CUSTOMERS));
    CHECK(m.gg_loglik >= clv_gg_loglik(&truth.gg, cal, SIM_CUSTOMERS));

    /* the fitted model predicts the holdout: total purchases and spend
     * within 5%, and customers ranked by prediction buy in that order */
    clv_eval_report_t r;
    CHECK_EQ_INT(clv_evaluate(rows, SIM_CUSTOMERS, SIM_HOLDOUT, &r), 0);
    printf("holdout %.0f days: purchases predicted %.0f actual %.0f; spend predicted %.0f "
           "actual %.0f; spend MAE %.2f RMSE %.2f\n", SIM_HOLDOUT, r.purchases.total_predicted,
           r.purchases.total_actual, r.spend.total_predicted, r.spend.total_actual,
           r.spend.mae, r.spend.rmse);
    CHECK_REL(r.purchases.total_predicted, r.purchases.total_actual, 0.05);
    CHECK_REL(r.spend.total_predicted, r.spend.total_actual, 0.05);
    CHECK(r.deciles[9].actual_spend > r.deciles[5].actual_spend);
    CHECK(r.deciles[5].actual_spend > r.deciles[0].actual_spend);
    CHECK_EQ_INT(r.deciles[0].customers + r.deciles[9].customers, SIM_CUSTOMERS / 5);
}

int main(void)
{
    test_bgnbd_loglik_by_hand();
    test_gg_loglik_by_hand();
    test_hyp2f1();
    test_edges();
    test_summary_from_events();
    test_small_a_plus_b();
    test_recovery();
    return test_failures ? 1 : 0;
}
