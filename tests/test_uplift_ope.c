/*
 * test_uplift_ope.c - off-policy estimates (recsys/coupons/uplift_ope.h):
 * self-normalized IPS and doubly robust values and standard errors on a
 * hand-made log match the hand computation, untargeted rows count for
 * nothing, and on a simulated epsilon-greedy log the 95 % intervals cover a
 * known effect; uplift_ope_top_value sums the IPS values of the top shares.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"
#include "uplift_ope.h"

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-9 * (1.0 + fabs(b)))

static uplift_log_t row(int treated, double p, double margin, double cost)
{
    uplift_log_t l;
    memset(&l, 0, sizeof l);
    l.treated = (uint8_t)treated;
    l.assign_prob = p;
    l.bought = margin > 0.0;
    l.margin = margin;
    l.cost = cost;
    l.x.average_basket = 20.0;
    return l;
}

/* uplift_ope.c's variance blend: n_eff effective rows against 20. */
static double blend(double sample, double pooled, double n_eff)
{
    return (n_eff * sample + 20.0 * pooled) / (n_eff + 20.0);
}

static void test_hand_made_log(void)
{
    uplift_log_t logs[5] = { row(1, 0.5, 10, 2), row(1, 0.25, 0, 0), row(0, 0.5, 6, 0),
                             row(0, 0.75, 0, 0), row(1, 0.5, 100, 0) };
    uint8_t target[5] = { 1, 1, 1, 1, 0 };
    double mu0[5] = { 3, 3, 3, 3, 3 }, mu1[5] = { 5, 5, 5, 5, 5 };
    uplift_ope_t r;
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, target, mu0, mu1, &r), 0);
    CHECK_EQ_INT((int)r.n_target, 4);
    CHECK_EQ_INT((int)r.n_target_treated, 2);
    /* IPS: treated mean (2*8 + 4*0)/6 = 8/3, control (2*6 + 4/3*0)/(10/3)
     * = 3.6; 4 targeted: 4 * (8/3 - 3.6) = -56/15 */
    CHECK(NEAR(r.ips.value, -56.0 / 15.0));
    /* influence terms 64/9, -64/9 (treated), -5.76, 5.76 (control), each
     * arm blended with the log-wide arm variance (treated rows 8, 0, 100 at
     * weights 2, 4, 2: 1787; control 6, 0 at 2, 4/3: 8.64) times the set's
     * squared weight shares (treated (4/3)^2 + (8/3)^2 = 80/9, control
     * 2.4^2 + 1.6^2 = 8.32), by effective rows 36/20 and (10/3)^2/(52/9)
     * against 20 */
    double var = blend(2 * (64.0 / 9) * (64.0 / 9), 80.0 / 9 * 1787, 36.0 / 20) +
                 blend(2 * 5.76 * 5.76, 8.32 * 8.64, 100.0 / 52);
    CHECK(NEAR(r.ips.se, sqrt(var)));
    CHECK(NEAR(r.ips.lo, r.ips.value - UPLIFT_OPE_Z95 * sqrt(var)));
    CHECK(NEAR(r.ips.hi, r.ips.value + UPLIFT_OPE_Z95 * sqrt(var)));
    /* DR terms: 2 + 2*(8-5) = 8, 2 + 4*(0-5) = -18, 2 - 2*(6-3) = -4,
     * 2 - 4/3*(0-3) = 6: sum -8; squared deviations from the mean -2 per
     * arm 100 + 256 and 4 + 64, times 4/3 (4 rows, n - 1); blended with the
     * log-wide residual variances (treated 3, -5, 95 at 2, 4, 2: 2271;
     * control 3, -3 at 2, 4/3: 9) times the squared weights (20, 52/9) */
    CHECK(NEAR(r.dr.value, -8.0));
    CHECK(NEAR(r.dr.se, sqrt(blend(4.0 / 3 * 356, 20 * 2271.0, 36.0 / 20) +
                             blend(4.0 / 3 * 68, 52.0 / 9 * 9, 100.0 / 52))));

    /* without an outcome model: IPS only */
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, target, NULL, NULL, &r), 0);
    CHECK(r.dr.value == 0.0 && r.dr.se == 0.0);
    /* nobody targeted: 0 */
    memset(target, 0, sizeof target);
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, target, mu0, mu1, &r), 0);
    CHECK(r.ips.value == 0.0 && r.dr.value == 0.0);
    /* bad input */
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 0, target, NULL, NULL, &r), -EINVAL);
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, target, mu0, NULL, &r), -EINVAL);
    logs[2].assign_prob = 1.5;
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, target, NULL, NULL, &r), -EINVAL);
}

static void test_outcome_model(void)
{
    /* treated buyer: profit 8 on basket 20 -> 0.4 per unit; control buyer:
     * profit 6 on basket 20 -> 0.3 */
    uplift_log_t fit[4] = { row(1, 0.5, 10, 2), row(1, 0.5, 0, 0), row(0, 0.5, 6, 0),
                            row(0, 0.5, 0, 0) };
    uplift_log_t rows[2] = { row(0, 0.5, 0, 0), row(1, 0.5, 0, 0) };
    rows[1].x.average_basket = 0;   /* missing: the fit rows' mean, 20 */
    double pc[2] = { 0.1, 0.2 }, pt[2] = { 0.5, 0.25 }, mu0[2], mu1[2];
    CHECK_EQ_INT(uplift_ope_outcomes(fit, 4, rows, pc, pt, 2, mu0, mu1), 0);
    CHECK(NEAR(mu0[0], 0.1 * 0.3 * 20) && NEAR(mu1[0], 0.5 * 0.4 * 20));
    CHECK(NEAR(mu0[1], 0.2 * 0.3 * 20) && NEAR(mu1[1], 0.25 * 0.4 * 20));
}

/* xorshift64* */
static double unit(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

static void test_epsilon_greedy_coverage(void)
{
    /* two kinds of customer, the logger greedy on kind A (coupon w.p. 0.95)
     * and mostly not on kind B (0.05). True incremental profit per coupon:
     * A: 0.4*10 - 0.1*10 - 0.4*2 = 2.2, B: 0.2*10 - 0.2*10 - 0.2*2 = -0.4.
     * The policy "coupon to everyone" earns 2.2 nA - 0.4 nB. */
    enum { N = 40000 };
    static uplift_log_t logs[N];
    static uint8_t all[N];
    uint64_t s = 77;
    double nA = 0, nB = 0;
    for (int i = 0; i < N; i++) {
        int a = i % 2 == 0;
        double pg = a ? 0.95 : 0.05;
        int t = unit(&s) < pg;
        double pb = t ? (a ? 0.4 : 0.2) : (a ? 0.1 : 0.2);
        int b = unit(&s) < pb;
        logs[i] = row(t, t ? pg : 1.0 - pg, b ? 10.0 : 0.0, b && t ? 2.0 : 0.0);
        all[i] = 1;
        nA += a;
        nB += !a;
    }
    double truth = 2.2 * nA - 0.4 * nB;
    uplift_ope_t r;
    CHECK_EQ_INT(uplift_ope_evaluate(logs, N, all, NULL, NULL, &r), 0);
    CHECK(r.ips.lo <= truth && truth <= r.ips.hi);
    CHECK(r.ips.se > 0.0);
}

static void test_top_value(void)
{
    uplift_log_t logs[5] = { row(1, 0.5, 10, 2), row(1, 0.25, 0, 0), row(0, 0.5, 6, 0),
                             row(0, 0.75, 0, 0), row(1, 0.5, 100, 0) };
    /* ranked 4, 0, 2, 1; row 3 never (NaN) */
    double score[5] = { 3, 1, 2, NAN, 9 };
    double shares[2] = { 0.4, 1.0 }, v;
    uint8_t top2[5] = { 1, 0, 0, 0, 1 }, all4[5] = { 1, 1, 1, 0, 1 };
    uplift_ope_t a, b;
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, top2, NULL, NULL, &a), 0);
    CHECK_EQ_INT(uplift_ope_evaluate(logs, 5, all4, NULL, NULL, &b), 0);
    CHECK_EQ_INT(uplift_ope_top_value(logs, 5, score, shares, 2, &v), 0);
    CHECK(NEAR(v, a.ips.value + b.ips.value));
    shares[1] = 1.5;
    CHECK_EQ_INT(uplift_ope_top_value(logs, 5, score, shares, 2, &v), -EINVAL);
    CHECK_EQ_INT(uplift_ope_top_value(logs, 0, score, shares, 1, &v), -EINVAL);
}

int main(void)
{
    test_hand_made_log();
    test_outcome_model();
    test_epsilon_greedy_coverage();
    test_top_value();
    TEST_MAIN_END();
}
