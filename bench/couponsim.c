/*
 * couponsim - coupon targeting on simulated customers whose true response to
 * a coupon is known, comparing uplift targeting with the usual alternatives.
 *
 *   couponsim [--seed S=42] [--train N=200000] [--customers N=100000]
 *             [--store DIR --truth FILE]
 *
 * Customers are of four hidden types (the classic uplift quadrants):
 *   sure buyer    buys anyway (a coupon only costs the discount)
 *   persuadable   buys mostly when given the coupon
 *   lost cause    rarely buys either way
 *   sleeping dog  less likely to buy when pushed
 * Each has profile-like features (recency, orders, monetary, basket,
 * lifecycle stage, a noisy factor-based propensity) drawn from type-dependent
 * distributions that overlap, so the type is never observable for sure.
 *
 * The oracle ranks by the true expected incremental profit (known here,
 * never in a shop); every policy is reported as a share of it per budget.
 *
 * Steps: (a) a randomized experiment (50/50 coupon) over --train customers
 * gives logs to fit the uplift model (uplift.h); (b) a fresh population of
 * --customers is ranked three ways: by the decision's value (coupon_decide:
 * expected incremental profit), by predicted purchase propensity, and at
 * random ("coupon to everyone", cut where the budget runs out). The ranking
 * is cut at each budget by true expected spend, and the true incremental
 * profit of each cut is computed from the known probabilities; a randomized
 * log over the same population gives each ranking's Qini and AUUC, and the
 * log-based profit estimate (uplift_eval_budget) next to the true one.
 * Stronger learners are fitted on 80% of the training log with a few
 * settings each, the settings valued on the other 20% (IPS of the top
 * 1..20%), the best of each kind refitted on the whole log: the boosted
 * T-learner (uplift_gbt.h), the DR- and X-learners of the effect on profit
 * (uplift_cate.h), and their ensemble (the mean of the three scores).
 * (c) the served T-learner decides through coupon_decide with 10%
 * exploration, and every policy's budget cut is valued from that log off
 * policy (uplift_ope.h) against its truth.
 *
 * The Bayes ceiling ranks by E[true incremental profit | features] computed
 * from the simulator's own generative model (bayes_value): no policy that
 * sees only the features can expect more, so its share of the oracle is
 * the most a learner can reach at each budget (the oracle sees the hidden
 * type and jitter). It is printed in value order, like every other policy,
 * and in order of value per unit of expected spend (the knapsack order).
 *
 * --store DIR --truth FILE: instead, writes (c)'s log for the --customers
 * as a Patron store (offers through couponstore_target with their
 * probabilities, purchases, redemptions; see write_store) and each
 * customer's true incremental profit as CSV, for `patron eval-uplift`
 * (tests/integration/test_uplift_ope.py).
 *
 * The coupon is 15% off capped at 15; margin is 30% of the basket.
 * Output depends only on the arguments (xoshiro256** seeded by splitmix64).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coupon.h"
#include "couponstore.h"
#include "store.h"
#include "uplift.h"
#include "uplift_cate.h"
#include "uplift_gbt.h"
#include "uplift_ope.h"
#include "rng.h"

#define SIM_MARGIN_RATE 0.30
#define SIM_PERCENT 0.15
#define SIM_CAP 15.0
#define SIM_NOW_MS 1718000000000LL   /* June 2024 */
#define SIM_PROPENSITY_KNOWN 0.8     /* share with a factor-based propensity */
#define SIM_N_BUDGETS 4
/* The generative model's spreads (draw_customer; score_bayes inverts them). */
#define SIM_SD_JITTER 0.25     /* log of the individual jitter on pc and pt */
#define SIM_SD_BASKET 0.35     /* log of the true basket around the type median */
#define SIM_SD_RECENCY 0.8     /* log of the recency around the type median */
#define SIM_SD_ORDERS 0.6      /* log of the (orders - 1) draw before flooring */
#define SIM_SD_AVG_BASKET 0.2  /* log of the observed average basket around the true one */
#define SIM_SD_PROPENSITY 0.8  /* logit of the factor propensity around logit(pc) */

enum { SURE, PERSUADABLE, LOST, SLEEPING, N_TYPES };

static const char *const type_names[N_TYPES] = { "sure buyer", "persuadable",
                                                 "lost cause", "sleeping dog" };

/* Per type: population share, P(buy) without / with the coupon, and the
 * medians of the feature distributions. */
typedef struct type_spec {
    double share, pc, pt;
    double recency, orders, basket;
} type_spec_t;

static const type_spec_t types[N_TYPES] = {
    [SURE] = { 0.20, 0.70, 0.72, 12.0, 7.0, 60.0 },
    [PERSUADABLE] = { 0.20, 0.06, 0.40, 45.0, 3.0, 55.0 },
    [LOST] = { 0.45, 0.02, 0.03, 150.0, 1.5, 40.0 },
    [SLEEPING] = { 0.15, 0.35, 0.20, 20.0, 5.0, 70.0 },
};

/* ---- random numbers (xoshiro256**, base/rng.h) ---------------------------- */

static double rng_normal(xoshiro_t *r)
{
    double u = xoshiro_unit(r), v = xoshiro_unit(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static double rng_lognormal(xoshiro_t *r, double median, double sigma)
{
    return median * exp(sigma * rng_normal(r));
}

/* ---- customers ----------------------------------------------------------------- */

typedef struct sim_customer {
    int type;
    double pc, pt;      /* true purchase probabilities */
    double basket;      /* true basket when buying */
    uplift_x_t x;       /* what the shop sees */
    char id[24];
} sim_customer_t;

static int draw_type(xoshiro_t *r)
{
    double u = xoshiro_unit(r), acc = 0.0;
    for (int t = 0; t < N_TYPES; t++) {
        acc += types[t].share;
        if (u < acc)
            return t;
    }
    return LOST;
}

static int stage_of(double recency, double orders)
{
    if (orders <= 1.0 && recency <= 30.0)
        return PROFILE_STAGE_NEW;
    if (recency <= 30.0)
        return PROFILE_STAGE_ACTIVE;
    if (recency <= 90.0)
        return PROFILE_STAGE_AT_RISK;
    return PROFILE_STAGE_LAPSED;
}

static double clamp_prob(double p)
{
    return p < 0.001 ? 0.001 : p > 0.999 ? 0.999 : p;
}

static void draw_customer(xoshiro_t *r, size_t idx, sim_customer_t *c)
{
    const type_spec_t *t;
    c->type = draw_type(r);
    t = &types[c->type];
    /* individual jitter on the true probabilities (+-25%) */
    double j = exp(SIM_SD_JITTER * rng_normal(r));
    c->pc = clamp_prob(t->pc * j);
    c->pt = clamp_prob(t->pt * j);
    c->basket = rng_lognormal(r, t->basket, SIM_SD_BASKET);

    c->x.recency_days = rng_lognormal(r, t->recency, SIM_SD_RECENCY);
    c->x.orders = 1.0 + floor(rng_lognormal(r, t->orders, SIM_SD_ORDERS));
    c->x.average_basket = c->basket * exp(SIM_SD_AVG_BASKET * rng_normal(r));
    c->x.monetary = c->x.orders * c->x.average_basket;
    c->x.stage = stage_of(c->x.recency_days, c->x.orders);
    /* a factor model's P(buy): informative about pc, noisy, not always there */
    if (xoshiro_unit(r) < SIM_PROPENSITY_KNOWN) {
        double z = log(c->pc / (1.0 - c->pc)) + SIM_SD_PROPENSITY * rng_normal(r);
        c->x.propensity = 1.0 / (1.0 + exp(-z));
    } else {
        c->x.propensity = -1.0;
    }
    snprintf(c->id, sizeof c->id, "c%zu", idx);
}

static double true_discount(const sim_customer_t *c)
{
    double d = SIM_PERCENT * c->basket;
    return d < SIM_CAP ? d : SIM_CAP;
}

/* Expected incremental profit and spend if c gets the coupon. */
static double true_incr_profit(const sim_customer_t *c)
{
    double m = c->basket * SIM_MARGIN_RATE;
    return c->pt * (m - true_discount(c)) - c->pc * m;
}

static double true_spend(const sim_customer_t *c)
{
    return c->pt * true_discount(c);
}

/* One randomized log row for c: 50/50 coupon, outcome drawn. */
static void draw_log(xoshiro_t *r, const sim_customer_t *c, uplift_log_t *l)
{
    l->x = c->x;
    l->treated = xoshiro_unit(r) < 0.5;
    l->assign_prob = 0.5;
    l->bought = xoshiro_unit(r) < (l->treated ? c->pt : c->pc);
    l->margin = l->bought ? c->basket * SIM_MARGIN_RATE : 0.0;
    l->cost = (l->bought && l->treated) ? true_discount(c) : 0.0;
}

/* ---- policies --------------------------------------------------------------------- */

static void sim_coupon(coupon_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "pct15");
    snprintf(c->campaign, sizeof c->campaign, "sim");
    c->type = COUPON_PERCENT;
    c->n_benefits = 1;
    c->benefit[0].kind = COUPON_BENEFIT_PERCENT;
    c->benefit[0].percent = SIM_PERCENT;
    c->benefit[0].cap = SIM_CAP;
    c->valid_from_ms = 0;
    c->valid_until_ms = INT64_MAX;
    c->campaign_budget = 1e12;
    c->per_customer_limit = 1;
}

/* The decision's value for each customer (NAN when it grants nothing:
 * those are never targeted). */
static int score_uplift(const sim_customer_t *cs, size_t n,
                        const uplift_model_t *model, double *score)
{
    coupon_t coupon;
    coupon_config_t cfg;
    sim_coupon(&coupon);
    coupon_config_default(&cfg);
    cfg.margin_rate = SIM_MARGIN_RATE;
    cfg.holdout_rate = 0.0;   /* the simulation measures the policy itself */
    cfg.explore_rate = 0.0;
    coupon_model_t models[1] = { { model, NULL } };
    for (size_t i = 0; i < n; i++) {
        coupon_customer_t cust = { .customer_id = cs[i].id, .x = cs[i].x,
                                   .tier = -1, .segment = -1 };
        coupon_decision_t d;
        coupon_option_t opt;
        size_t nopt;
        int rc = coupon_decide(&coupon, 1, models, NULL, &cust, NULL, NULL,
                               &cfg, SIM_NOW_MS, &d, &opt, &nopt);
        if (rc)
            return rc;
        score[i] = d.choice == COUPON_NONE ? NAN : d.chosen.value;
    }
    return 0;
}

/* The decision's value under the boosted T-learner's probabilities (same
 * economics as coupon_decide: coupon_score at lambda 1; NaN when the value
 * is not positive, as coupon_decide grants nothing then). */
static int score_gbt(const sim_customer_t *cs, size_t n, const uplift_gbt_tl_t *model,
                     double *score)
{
    coupon_t coupon;
    coupon_config_t cfg;
    sim_coupon(&coupon);
    coupon_config_default(&cfg);
    cfg.margin_rate = SIM_MARGIN_RATE;
    for (size_t i = 0; i < n; i++) {
        coupon_customer_t cust = { .customer_id = cs[i].id, .x = cs[i].x,
                                   .tier = -1, .segment = -1 };
        uplift_pred_t p;
        coupon_option_t opt;
        uplift_gbt_tl_predict(model, &cs[i].x, &p);
        int rc = coupon_score(&coupon, &cust, &p, 1.0, &cfg, &opt);
        if (rc)
            return rc;
        score[i] = opt.value > 0.0 ? opt.value : NAN;
    }
    return 0;
}

/* The oracle: customers by their true expected incremental profit, only
 * those it is positive for. */
static void score_oracle(const sim_customer_t *cs, size_t n, double *score)
{
    for (size_t i = 0; i < n; i++) {
        double v = true_incr_profit(&cs[i]);
        score[i] = v > 0.0 ? v : NAN;
    }
}

/* ---- the Bayes ceiling ------------------------------------------------------------ */

/* The best any ranking from the observable features can do in expectation:
 * E[true_incr_profit | x] under the simulator's own generative model (so a
 * ceiling, not a learner). Given the type, the jitter j is informed only by
 * the propensity and the basket only by the average basket, so
 *   E[value | t, x] = E[pt | t, q] E[m - d | t, a] - E[pc | t, q] E[m | t, a]
 * and E[value | x] = sum_t P(t | x) E[value | t, x], with P(t | x) from the
 * shares and the likelihoods of recency, orders, average basket and
 * propensity (stage and monetary are functions of these). The jitter is
 * integrated on a grid of SIM_BAYES_NODES normal quantiles over +-6 sd;
 * the basket in closed form (lognormal-normal conjugate in log space). */

#define SIM_BAYES_NODES 121
#define SIM_BAYES_SPAN 6.0

static double norm_cdf(double z)
{
    return 0.5 * erfc(-z / M_SQRT2);
}

/* log of the normal density of v with mean mu and sd sd */
static double log_normal_pdf(double v, double mu, double sd)
{
    double z = (v - mu) / sd;
    return -0.5 * z * z - log(sd) - 0.5 * log(2.0 * M_PI);
}

/* log P(orders = k | median) for orders = 1 + floor(lognormal(median, sd)) */
static double log_p_orders(double k, double median, double sd)
{
    double mu = log(median);
    double lo = k > 1.0 ? (log(k - 1.0) - mu) / sd : -INFINITY, hi = (log(k) - mu) / sd;
    /* the difference on the side of the tail where it keeps its precision */
    double p = lo > 0.0 ? 0.5 * (erfc(lo / M_SQRT2) - erfc(hi / M_SQRT2))
                        : norm_cdf(hi) - norm_cdf(lo);
    return log(p > 1e-300 ? p : 1e-300);
}

static double logit(double p)
{
    return log(p / (1.0 - p));
}

/* E[value | x] for one customer's features. */
static double bayes_value(const uplift_x_t *x, double *spend)
{
    double logw[N_TYPES], ev[N_TYPES], es[N_TYPES], top = -INFINITY;
    double la = log(x->average_basket), lr = log(x->recency_days);
    int known = x->propensity >= 0.0;
    double lq = known ? logit(x->propensity) : 0.0;
    /* log basket | a, t: prior N(log median, SD_BASKET^2), observation
     * log a = log b + N(0, SD_AVG_BASKET^2) */
    double vb = SIM_SD_BASKET * SIM_SD_BASKET, va = SIM_SD_AVG_BASKET * SIM_SD_AVG_BASKET;
    double s2 = 1.0 / (1.0 / vb + 1.0 / va), s = sqrt(s2);
    double cap_b = SIM_CAP / SIM_PERCENT;   /* the basket above which the cap binds */
    for (int t = 0; t < N_TYPES; t++) {
        const type_spec_t *ty = &types[t];
        double mb = log(ty->basket);
        logw[t] = log(ty->share) + log_normal_pdf(lr, log(ty->recency), SIM_SD_RECENCY) +
                  log_p_orders(x->orders, ty->orders, SIM_SD_ORDERS) +
                  log_normal_pdf(la, mb, sqrt(vb + va));
        /* the jitter's posterior on the grid (propensity likelihood; the
         * Jacobian of q -> logit q is the same for every j and t) */
        double wsum = 0.0, epc = 0.0, ept = 0.0, lmax = -INFINITY;
        double lw[SIM_BAYES_NODES];
        for (int k = 0; k < SIM_BAYES_NODES; k++) {
            double z = -SIM_BAYES_SPAN + 2.0 * SIM_BAYES_SPAN * k / (SIM_BAYES_NODES - 1);
            lw[k] = -0.5 * z * z;
            if (known)
                lw[k] += log_normal_pdf(lq, logit(clamp_prob(ty->pc * exp(SIM_SD_JITTER * z))),
                                        SIM_SD_PROPENSITY);
            lmax = lw[k] > lmax ? lw[k] : lmax;
        }
        for (int k = 0; k < SIM_BAYES_NODES; k++) {
            double z = -SIM_BAYES_SPAN + 2.0 * SIM_BAYES_SPAN * k / (SIM_BAYES_NODES - 1);
            double j = exp(SIM_SD_JITTER * z), w = exp(lw[k] - lmax);
            wsum += w;
            epc += w * clamp_prob(ty->pc * j);
            ept += w * clamp_prob(ty->pt * j);
        }
        /* P(q | t) up to a factor shared by the types */
        logw[t] += lmax + log(wsum);
        epc /= wsum;
        ept /= wsum;
        double m = s2 * (mb / vb + la / va);
        double eb = exp(m + 0.5 * s2);                     /* E[basket | a, t] */
        double ed = SIM_PERCENT * eb * norm_cdf((log(cap_b) - m - s2) / s) +
                    SIM_CAP * (1.0 - norm_cdf((log(cap_b) - m) / s));   /* E[discount] */
        double em = SIM_MARGIN_RATE * eb;
        ev[t] = ept * (em - ed) - epc * em;
        es[t] = ept * ed;
        top = logw[t] > top ? logw[t] : top;
    }
    double num = 0.0, den = 0.0, sp = 0.0;
    for (int t = 0; t < N_TYPES; t++) {
        double w = exp(logw[t] - top);
        num += w * ev[t];
        sp += w * es[t];
        den += w;
    }
    *spend = sp / den;
    return num / den;
}

/* The Bayes ceiling's scores where E[value | x] is positive (else NaN):
 * by_value[i] = E[value | x], by_roi[i] = E[value | x] / E[spend | x]. A
 * budget is a knapsack, so the order by value per unit of spend is the one
 * that gets most from it (what the pacer's lambda threshold does online);
 * the oracle and the learners are ranked by value, as the issue defines. */
static void score_bayes(const sim_customer_t *cs, size_t n, double *by_value, double *by_roi)
{
    for (size_t i = 0; i < n; i++) {
        double spend, v = bayes_value(&cs[i].x, &spend);
        by_value[i] = v > 0.0 ? v : NAN;
        by_roi[i] = v > 0.0 && spend > 0.0 ? v / spend : NAN;
    }
}

static int score_propensity(const sim_customer_t *cs, size_t n,
                            const uplift_model_t *model, double *score)
{
    for (size_t i = 0; i < n; i++) {
        uplift_pred_t p;
        int rc = uplift_predict(model, &cs[i].x, &p);
        if (rc)
            return rc;
        score[i] = p.p_response;
    }
    return 0;
}

static void score_random(size_t n, uint64_t seed, double *score)
{
    xoshiro_t r;
    xoshiro_seed(&r, seed ^ 0x5ca1ab1eULL);
    for (size_t i = 0; i < n; i++)
        score[i] = xoshiro_unit(&r);
}

/* ---- evaluation ------------------------------------------------------------------- */

typedef struct cut {
    size_t k;
    double spend, profit, types[N_TYPES];
} cut_t;

/* Targets customers in score order (NaN never) while the true spend fits
 * the budget; true economics of the cut. */
static int cut_at_budget(const sim_customer_t *cs, const double *score,
                         size_t n, double budget, cut_t *out, uint8_t *in_cut)
{
    if (in_cut)
        memset(in_cut, 0, n);
    size_t *o = malloc(n * sizeof *o);
    if (!o)
        return -ENOMEM;
    size_t m = uplift_rank(score, n, o);
    memset(out, 0, sizeof *out);
    for (size_t j = 0; j < m; j++) {
        const sim_customer_t *c = &cs[o[j]];
        if (out->spend + true_spend(c) > budget)
            break;
        out->k++;
        out->spend += true_spend(c);
        out->profit += true_incr_profit(c);
        out->types[c->type] += 1.0;
        if (in_cut)
            in_cut[o[j]] = 1;
    }
    free(o);
    return 0;
}

typedef struct policy {
    const char *name;
    const char *short_name;
    int learner;          /* an uplift learner: the oracle-share goal applies */
    double *score;
} policy_t;

#define SIM_MAX_POLICIES 10
#define SIM_PROPENSITY 6  /* index of the propensity policy in run()'s list */

static int print_qini(const policy_t *p, size_t np, const uplift_log_t *logs,
                      size_t n)
{
    uint8_t *treated = malloc(n);
    double *profit = malloc(n * sizeof *profit);
    double *bought = malloc(n * sizeof *bought);
    double *score = malloc(n * sizeof *score);
    int rc = (!treated || !profit || !bought || !score) ? -ENOMEM : 0;
    for (size_t i = 0; !rc && i < n; i++) {
        treated[i] = logs[i].treated;
        profit[i] = logs[i].margin - logs[i].cost;
        bought[i] = logs[i].bought;
    }
    printf("\nRanking quality on a randomized log of the same customers (per "
           "customer, higher is better):\n");
    printf("  %-22s %12s %12s %14s %14s\n", "policy", "AUUC(buy)", "Qini(buy)",
           "AUUC(profit)", "Qini(profit)");
    for (size_t k = 0; !rc && k < np; k++) {
        double a1, q1, a2, q2;
        /* an untargeted customer (NaN) ranks last, as the cut treats them */
        for (size_t i = 0; i < n; i++)
            score[i] = isnan(p[k].score[i]) ? -INFINITY : p[k].score[i];
        rc = uplift_qini(score, treated, bought, n, NULL, &a1, &q1);
        if (!rc)
            rc = uplift_qini(score, treated, profit, n, NULL, &a2, &q2);
        if (!rc)
            printf("  %-22s %12.5f %12.5f %14.4f %14.4f\n", p[k].name,
                   a1 / (double)n, q1 / (double)n, a2 / (double)n,
                   q2 / (double)n);
    }
    free(treated);
    free(profit);
    free(bought);
    free(score);
    return rc;
}

/* Policy k's true profit at budget b, and the oracle's, for the share table. */
typedef struct budget_table {
    double budget[SIM_N_BUDGETS];
    double oracle[SIM_N_BUDGETS];
    double profit[SIM_N_BUDGETS][SIM_MAX_POLICIES];
} budget_table_t;

static void print_cut(double budget, const char *name, const cut_t *c, double oracle,
                      double est)
{
    printf("%-8.0f %-26s %8zu %10.0f %12.0f %7.2f %8.1f%% %11.0f  %.0f/%.0f/%.0f/%.0f\n",
           budget, name, c->k, c->spend, c->profit, c->spend > 0 ? c->profit / c->spend : 0.0,
           oracle > 0.0 ? 100.0 * c->profit / oracle : 0.0, est, c->types[SURE],
           c->types[PERSUADABLE], c->types[LOST], c->types[SLEEPING]);
}

static int print_budgets(const sim_customer_t *cs, size_t n, const double *oracle_score,
                         const policy_t *p, size_t np, const uplift_log_t *logs,
                         budget_table_t *tab)
{
    static const double share[SIM_N_BUDGETS] = { 0.02, 0.05, 0.10, 0.20 };
    double all_spend = 0.0, all_profit = 0.0;
    for (size_t i = 0; i < n; i++) {
        all_spend += true_spend(&cs[i]);
        all_profit += true_incr_profit(&cs[i]);
    }
    printf("\nCoupon to all %zu customers: spend %.0f, incremental profit "
           "%.0f\n\n",
           n, all_spend, all_profit);
    printf("%-8s %-26s %8s %10s %12s %7s %9s %11s  %s\n", "budget", "policy", "coupons",
           "spend", "incr.profit", "ROI", "of oracle", "est.(logs)", "sure/pers/lost/sleep");
    for (int b = 0; b < SIM_N_BUDGETS; b++) {
        double budget = share[b] * all_spend;
        cut_t oc;
        int rc = cut_at_budget(cs, oracle_score, n, budget, &oc, NULL);
        if (rc)
            return rc;
        tab->budget[b] = budget;
        tab->oracle[b] = oc.profit;
        print_cut(budget, "oracle (true profit)", &oc, oc.profit, NAN);
        for (size_t k = 0; k < np; k++) {
            cut_t c;
            uplift_budget_eval_t est;
            rc = cut_at_budget(cs, p[k].score, n, budget, &c, NULL);
            if (!rc)
                rc = uplift_eval_budget(p[k].score, logs, n, budget, &est);
            if (rc)
                return rc;
            tab->profit[b][k] = c.profit;
            print_cut(budget, p[k].name, &c, oc.profit, est.incr_profit);
        }
        printf("\n");
    }
    return 0;
}

/* The share table and the targets; returns 1 if learner k reaches the
 * oracle-share goal at every budget. */
static void print_shares(const budget_table_t *tab, const policy_t *p, size_t np)
{
    printf("\nShare of the oracle's true incremental profit per budget (fresh "
           "customers, out of sample):\n");
    printf("%-8s %10s", "budget", "oracle");
    for (size_t k = 0; k < np; k++)
        printf(" %14.14s", p[k].short_name);
    printf("\n");
    for (int b = 0; b < SIM_N_BUDGETS; b++) {
        printf("%-8.0f %10.0f", tab->budget[b], tab->oracle[b]);
        for (size_t k = 0; k < np; k++)
            printf(" %13.1f%%", tab->oracle[b] > 0.0
                                    ? 100.0 * tab->profit[b][k] / tab->oracle[b] : 0.0);
        printf("\n");
    }
    for (size_t k = 0; k < np; k++) {
        if (!p[k].learner)
            continue;
        double worst = INFINITY, vs_prop = INFINITY;
        for (int b = 0; b < SIM_N_BUDGETS; b++) {
            double s = tab->oracle[b] > 0.0 ? tab->profit[b][k] / tab->oracle[b] : 0.0;
            worst = s < worst ? s : worst;
            double pr = tab->profit[b][SIM_PROPENSITY];
            double r = pr > 0.0 ? tab->profit[b][k] / pr : INFINITY;
            vs_prop = r < vs_prop ? r : vs_prop;
        }
        printf("Target %-14s >= 85%% of the oracle at every budget: %s (lowest %.1f%%); "
               ">= 1.5x propensity: %s\n", p[k].short_name, worst >= 0.85 ? "met" : "NOT met",
               100.0 * worst, vs_prop >= 1.5 ? "met" : "NOT met");
    }
}

/* ---- learners tuned on validation ---------------------------------------------------- */

/* A candidate learner: a boosted T-learner (its coupon value) or a CATE
 * learner (its predicted incremental profit). */
typedef struct candidate {
    int cate;                     /* 0: boosted T-learner, 1: uplift_cate */
    uplift_gbt_config_t gbt;      /* the T-learner's trees */
    uplift_cate_config_t cc;      /* the CATE learner's settings */
} candidate_t;

typedef struct fitted {
    uplift_gbt_tl_t tl;
    uplift_cate_t cate;
} fitted_t;

static int fit_candidate(const candidate_t *c, const uplift_log_t *logs, size_t n, fitted_t *f)
{
    return c->cate ? uplift_cate_fit(logs, n, &c->cc, &f->cate)
                   : uplift_gbt_tl_fit(logs, n, &c->gbt, &f->tl);
}

/* Score of each x (NaN: not worth a coupon, never targeted). */
static int score_candidate(const candidate_t *c, const fitted_t *f, const uplift_x_t *xs,
                           size_t stride, size_t n, double *score)
{
    coupon_t coupon;
    coupon_config_t cfg;
    sim_coupon(&coupon);
    coupon_config_default(&cfg);
    cfg.margin_rate = SIM_MARGIN_RATE;
    for (size_t i = 0; i < n; i++) {
        const uplift_x_t *x = (const uplift_x_t *)((const char *)xs + i * stride);
        double v;
        if (c->cate) {
            v = uplift_cate_predict(&f->cate, x);
        } else {
            coupon_customer_t cust = { .customer_id = "v", .x = *x, .tier = -1, .segment = -1 };
            uplift_pred_t p;
            coupon_option_t opt;
            uplift_gbt_tl_predict(&f->tl, x, &p);
            int rc = coupon_score(&coupon, &cust, &p, 1.0, &cfg, &opt);
            if (rc)
                return rc;
            v = opt.value;
        }
        score[i] = v > 0.0 ? v : NAN;
    }
    return 0;
}

#define SIM_VAL_SHARE 0.2
#define SIM_N_VAL_CUTS 5
static const double val_cuts[SIM_N_VAL_CUTS] = { 0.01, 0.025, 0.05, 0.10, 0.20 };

/* Fits every candidate on the first (1 - SIM_VAL_SHARE) of the training
 * log, values it on the rest, and returns in *best the index of the best of
 * each kind (0: boosted T, 1: DR, 2: X) after printing the table. */
static int tune(const candidate_t *cand, size_t nc, const uplift_log_t *logs, size_t n,
                size_t best[3])
{
    size_t n_fit = (size_t)((1.0 - SIM_VAL_SHARE) * (double)n), n_val = n - n_fit;
    fitted_t *f = malloc(sizeof *f);
    double *score = malloc(n_val * sizeof *score), top[3] = { -INFINITY, -INFINITY, -INFINITY };
    int rc = f && score ? 0 : -ENOMEM;
    static const char *const kind[3] = { "boosted T", "DR-learner", "X-learner" };
    if (rc == 0)
        printf("\nLearners tuned on validation (fitted on %zu training rows, valued on the "
               "other %zu by IPS: sum of the incremental profit of the top 1/2.5/5/10/20%%):\n",
               n_fit, n_val);
    for (size_t c = 0; rc == 0 && c < nc; c++) {
        const uplift_gbt_config_t *g = cand[c].cate ? &cand[c].cc.effect : &cand[c].gbt;
        int k = cand[c].cate ? 1 + cand[c].cc.method : 0;
        double v;
        if ((rc = fit_candidate(&cand[c], logs, n_fit, f)) != 0 ||
            (rc = score_candidate(&cand[c], f, &logs[n_fit].x, sizeof *logs, n_val, score)) != 0 ||
            (rc = uplift_ope_top_value(logs + n_fit, n_val, score, val_cuts, SIM_N_VAL_CUTS,
                                       &v)) != 0)
            break;
        printf("  %-10s trees %3d rate %.2f l2 %5.0f min_hess %5.0f: %9.0f\n", kind[k], g->n_trees,
               g->learn_rate, g->l2, g->min_hess, v);
        if (v > top[k]) {
            top[k] = v;
            best[k] = c;
        }
    }
    free(f);
    free(score);
    return rc;
}

/* The candidates: a few tree counts and leaf sizes per learner. */
static size_t candidates(candidate_t *c)
{
    static const int gbt_trees[2] = { 120, 200 };
    static const double gbt_hess[2] = { 20, 100 };
    static const int eff_trees[2] = { 100, 200 };
    static const double eff_hess[3] = { 200, 500, 2000 };
    size_t k = 0;
    for (int t = 0; t < 2; t++)
        for (int h = 0; h < 2; h++) {
            memset(&c[k], 0, sizeof c[k]);
            uplift_gbt_config_default(&c[k].gbt);
            c[k].gbt.n_trees = gbt_trees[t];
            c[k].gbt.min_hess = gbt_hess[h];
            k++;
        }
    for (int m = UPLIFT_CATE_DR; m <= UPLIFT_CATE_X; m++)
        for (int t = 0; t < 2; t++)
            for (int h = 0; h < 3; h++) {
                memset(&c[k], 0, sizeof c[k]);
                c[k].cate = 1;
                uplift_cate_config_default(&c[k].cc);
                c[k].cc.method = m;
                c[k].cc.effect.n_trees = eff_trees[t];
                c[k].cc.effect.min_hess = eff_hess[h];
                k++;
            }
    return k;
}

#define SIM_MAX_CANDIDATES 16

/* ---- off-policy evaluation ----------------------------------------------------------- */

#define SIM_EXPLORE 0.10   /* the logging policy's exploration rate */

/* The log a shop running the served policy collects: coupon_decide with
 * the T-learner, the default 5% permanent holdout and SIM_EXPLORE
 * exploration, each decision with its logged probability. */
static int draw_served_log(xoshiro_t *r, const sim_customer_t *cs, size_t n,
                           const uplift_model_t *model, uplift_log_t *logs)
{
    coupon_t coupon;
    coupon_config_t cfg;
    sim_coupon(&coupon);
    coupon_config_default(&cfg);
    cfg.margin_rate = SIM_MARGIN_RATE;
    cfg.explore_rate = SIM_EXPLORE;
    coupon_model_t models[1] = { { model, NULL } };
    for (size_t i = 0; i < n; i++) {
        coupon_customer_t cust = { .customer_id = cs[i].id, .x = cs[i].x,
                                   .tier = -1, .segment = -1 };
        coupon_decision_t d;
        coupon_option_t opt;
        size_t nopt;
        int rc = coupon_decide(&coupon, 1, models, NULL, &cust, NULL, NULL, &cfg,
                               SIM_NOW_MS, &d, &opt, &nopt);
        if (rc)
            return rc;
        uplift_log_t *l = &logs[i];
        l->x = cs[i].x;
        l->treated = d.choice != COUPON_NONE;
        l->assign_prob = d.assign_prob;
        l->bought = xoshiro_unit(r) < (l->treated ? cs[i].pt : cs[i].pc);
        l->margin = l->bought ? cs[i].basket * SIM_MARGIN_RATE : 0.0;
        l->cost = (l->bought && l->treated) ? true_discount(&cs[i]) : 0.0;
    }
    return 0;
}

static void print_est(const char *name, const uplift_ope_est_t *e, double truth)
{
    int in = e->lo <= truth && truth <= e->hi;
    printf("  %-5s %10.0f  [%9.0f, %9.0f]", name, e->value, e->lo, e->hi);
    printf(" %s", in ? "yes" : "NO ");
}

/* Each policy's set at each budget, valued from the served log by IPS and
 * DR, against its true incremental profit. */
static int print_ope(const sim_customer_t *cs, size_t n, const uplift_log_t *served,
                     const uplift_log_t *train_logs, size_t n_train,
                     const uplift_model_t *model, const policy_t *p, size_t np,
                     const budget_table_t *tab, int *covered, int *total)
{
    double *pc = malloc(n * sizeof *pc), *pt = malloc(n * sizeof *pt);
    double *mu0 = malloc(n * sizeof *mu0), *mu1 = malloc(n * sizeof *mu1);
    uint8_t *in = malloc(n);
    size_t nt = 0;
    int rc = pc && pt && mu0 && mu1 && in ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uplift_pred_t pr;
        rc = uplift_predict(model, &cs[i].x, &pr);
        pc[i] = pr.p_control;
        pt[i] = pr.p_treated;
        nt += served[i].treated;
    }
    if (rc == 0)
        rc = uplift_ope_outcomes(train_logs, n_train, served, pc, pt, n, mu0, mu1);
    if (rc == 0) {
        printf("\nOff-policy estimates from the served log (coupon_decide with the T-learner, "
               "5%% holdout, %.0f%% exploration: %zu of %zu customers got a coupon), each "
               "policy's budget cut valued by self-normalized IPS and doubly robust (outcome "
               "model: the T-learner fitted on the training log), 95%% CI, against the true "
               "incremental profit:\n", 100.0 * SIM_EXPLORE, nt, n);
        printf("%-8s %-26s %9s %10s  %-5s %10s  %-21s %s  %-5s %10s  %-21s %s\n", "budget",
               "policy", "targeted", "truth", "", "IPS", "95% CI", "in?", "", "DR",
               "95% CI", "in?");
    }
    *covered = *total = 0;
    for (int b = 0; rc == 0 && b < SIM_N_BUDGETS; b++) {
        for (size_t k = 0; rc == 0 && k < np; k++) {
            cut_t c;
            uplift_ope_t e;
            rc = cut_at_budget(cs, p[k].score, n, tab->budget[b], &c, in);
            if (rc == 0)
                rc = uplift_ope_evaluate(served, n, in, mu0, mu1, &e);
            if (rc)
                break;
            printf("%-8.0f %-26s %9zu %10.0f", tab->budget[b], p[k].name, c.k, c.profit);
            print_est("", &e.ips, c.profit);
            print_est("", &e.dr, c.profit);
            printf("\n");
            *covered += (e.ips.lo <= c.profit && c.profit <= e.ips.hi) +
                        (e.dr.lo <= c.profit && c.profit <= e.dr.hi);
            *total += 2;
        }
    }
    free(pc);
    free(pt);
    free(mu0);
    free(mu1);
    free(in);
    return rc;
}

/* ---- the served log as a Patron store (--store) ---------------------------------------- */

#define SIM_DAY_MS 86400000LL
#define SIM_STORE_BATCH 1000

typedef struct store_sim {
    const sim_customer_t *cs;
    size_t from, to;
    const coupon_t *coupon;
    const coupon_config_t *cfg;
    uint8_t *treated;
} store_sim_t;

/* Decides for customers [from, to) in one transaction, as TargetCoupons would. */
static int decide_batch(store_tx_t *tx, void *ctx)
{
    store_sim_t *b = ctx;
    for (size_t i = b->from; i < b->to; i++) {
        char req[32];
        coupon_customer_t cust = { .customer_id = b->cs[i].id, .x = b->cs[i].x,
                                   .tier = -1, .segment = -1 };
        couponstore_target_t t = { .request_id = req, .cust = &cust, .catalog = b->coupon,
                                   .n = 1, .cfg = b->cfg, .now_ms = SIM_NOW_MS + (int64_t)i };
        couponstore_offer_t o;
        int replayed = 0, rc;
        snprintf(req, sizeof req, "r%zu", i);
        if ((rc = couponstore_target_tx(tx, &t, &o, &replayed)) != 0)
            return rc;
        b->treated[i] = o.coupon_id[0] != '\0';
    }
    return 0;
}

/* Writes what a shop serving the T-learner through TargetCoupons (5%
 * holdout, SIM_EXPLORE exploration) logs for customers cs[0..n): the
 * offers with their probabilities, the purchases within a day (quantity =
 * the basket in units of price 1 and cost 1 - SIM_MARGIN_RATE, so the
 * margin is the simulator's) and the redemptions of treated buyers; and
 * truth_path: each customer's true expected incremental profit of a coupon
 * (their basket rounded to whole units, as in the store). */
static int write_store(const char *dir, const char *truth_path, xoshiro_t *r,
                       const sim_customer_t *cs_in, size_t n, const uplift_model_t *model)
{
    store_t *s = NULL;
    coupon_t coupon;
    coupon_config_t cfg;
    store_item_t item = { .item_id = "unit", .title = "one unit of basket", .category = "sim",
                          .price = 1.0, .unit_cost = 1.0 - SIM_MARGIN_RATE, .in_stock = 1 };
    sim_customer_t *cs = malloc(n * sizeof *cs);
    uint8_t *treated = calloc(n, 1);
    store_event_t *ev = malloc(n * sizeof *ev);
    char (*ev_id)[24] = malloc(n * sizeof *ev_id);
    FILE *truth = NULL;
    size_t n_ev = 0, n_red = 0;
    int rc = cs && treated && ev && ev_id ? 0 : -ENOMEM;

    sim_coupon(&coupon);
    coupon.valid_from_ms = SIM_NOW_MS - 30 * SIM_DAY_MS;
    coupon.valid_until_ms = SIM_NOW_MS + 30 * SIM_DAY_MS;
    coupon.campaign_budget = 1e9;
    coupon_config_default(&cfg);
    cfg.margin_rate = SIM_MARGIN_RATE;
    cfg.explore_rate = SIM_EXPLORE;
    if (rc == 0)
        rc = store_open(dir, (size_t)1 << 31, &s);
    if (rc == 0)
        rc = store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL);
    if (rc == 0)
        rc = couponstore_put_coupon(s, &coupon, NULL, NULL);
    if (rc == 0)
        rc = couponstore_put_model(s, COUPONSTORE_DEFAULT_MODEL, model);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cs[i] = cs_in[i];
        cs[i].basket = fmax(1.0, round(cs[i].basket));
    }
    for (size_t from = 0; rc == 0 && from < n; from += SIM_STORE_BATCH) {
        store_sim_t b = { cs, from, from + SIM_STORE_BATCH < n ? from + SIM_STORE_BATCH : n,
                          &coupon, &cfg, treated };
        rc = store_table_atomic(s, decide_batch, &b);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int64_t when = SIM_NOW_MS + SIM_DAY_MS + (int64_t)i;
        if (!(xoshiro_unit(r) < (treated[i] ? cs[i].pt : cs[i].pc)))
            continue;
        snprintf(ev_id[n_ev], sizeof ev_id[n_ev], "p%zu", i);
        ev[n_ev] = (store_event_t){ ev_id[n_ev], cs[i].id, "unit", STORE_EVENT_PURCHASE,
                                    when, (int32_t)cs[i].basket, 1.0, NULL };
        n_ev++;
        if (treated[i]) {
            char red[24];
            snprintf(red, sizeof red, "d%zu", i);
            couponstore_redemption_t rd = { red, cs[i].id, coupon.id, true_discount(&cs[i]),
                                            when };
            rc = couponstore_redeem(s, &rd, NULL, NULL);
            n_red++;
        }
    }
    for (size_t from = 0; rc == 0 && from < n_ev; from += SIM_STORE_BATCH) {
        size_t k = from + SIM_STORE_BATCH < n_ev ? SIM_STORE_BATCH : n_ev - from;
        uint8_t outcome[SIM_STORE_BATCH];
        const char *why[SIM_STORE_BATCH];
        rc = store_record_events(s, ev + from, k, outcome, why);
        for (size_t j = 0; rc == 0 && j < k; j++)
            if (outcome[j] == STORE_REJECTED) {
                fprintf(stderr, "couponsim: event %s: %s\n", ev[from + j].event_id, why[j]);
                rc = -EINVAL;
            }
    }
    if (rc == 0 && !(truth = fopen(truth_path, "w")))
        rc = -errno;
    if (truth) {
        fprintf(truth, "customer_id,true_incr_profit\n");
        for (size_t i = 0; i < n; i++)
            fprintf(truth, "%s,%.6f\n", cs[i].id, true_incr_profit(&cs[i]));
        if (fclose(truth) != 0 && rc == 0)
            rc = -EIO;
    }
    size_t n_treated = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        n_treated += treated[i];
    if (rc == 0)
        printf("store %s: %zu offers (%zu with a coupon), %zu purchases, %zu redemptions; "
               "truth in %s; evaluate with --as-of %lld\n", dir, n, n_treated, n_ev, n_red,
               truth_path, (long long)(SIM_NOW_MS + 9 * SIM_DAY_MS));
    store_close(s);
    free(cs);
    free(treated);
    free(ev);
    free(ev_id);
    return rc;
}

/* ---- main ---------------------------------------------------------------------------- */

typedef struct options {
    uint64_t seed;
    size_t train, customers;
    const char *store, *truth;   /* --store DIR --truth FILE: write the served log */
} options_t;

static int parse_args(int argc, char **argv, options_t *o)
{
    o->seed = 42;
    o->train = 200000;
    o->customers = 100000;
    o->store = o->truth = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!v)
            return -1;
        if (strcmp(a, "--store") == 0 || strcmp(a, "--truth") == 0) {
            *(a[2] == 's' ? &o->store : &o->truth) = v;
            i++;
            continue;
        }
        unsigned long long x = strtoull(v, &end, 10);
        if (*end || end == v)
            return -1;
        if (strcmp(a, "--seed") == 0)
            o->seed = x;
        else if (strcmp(a, "--train") == 0 && x >= 100)
            o->train = (size_t)x;
        else if (strcmp(a, "--customers") == 0 && x >= 100)
            o->customers = (size_t)x;
        else
            return -1;
        i++;
    }
    return (o->store != NULL) == (o->truth != NULL) ? 0 : -1;
}

static void print_truth(const sim_customer_t *cs, size_t n)
{
    double cnt[N_TYPES] = { 0 }, prof[N_TYPES] = { 0 };
    for (size_t i = 0; i < n; i++) {
        cnt[cs[i].type] += 1.0;
        prof[cs[i].type] += true_incr_profit(&cs[i]);
    }
    printf("Population (ground truth): ");
    for (int t = 0; t < N_TYPES; t++)
        printf("%s%s %.0f (%.2f profit/coupon)", t ? ", " : "", type_names[t],
               cnt[t], cnt[t] > 0 ? prof[t] / cnt[t] : 0.0);
    printf("\n");
}

static int run(const options_t *o)
{
    xoshiro_t r;
    int rc = -ENOMEM;
    size_t n = o->customers;
    sim_customer_t *train = malloc(o->train * sizeof *train);
    uplift_log_t *train_logs = malloc(o->train * sizeof *train_logs);
    sim_customer_t *cs = malloc(n * sizeof *cs);
    uplift_log_t *logs = malloc(n * sizeof *logs);
    double *s_up = malloc(n * sizeof *s_up), *s_pr = malloc(n * sizeof *s_pr);
    double *s_all = malloc(n * sizeof *s_all), *s_gbt = malloc(n * sizeof *s_gbt);
    double *s_or = malloc(n * sizeof *s_or), *s_by = malloc(n * sizeof *s_by);
    double *s_byr = malloc(n * sizeof *s_byr);
    uplift_gbt_tl_t *gbt = malloc(sizeof *gbt);
    uplift_log_t *served = malloc(n * sizeof *served);
    double *s_tuned[4] = { malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                           malloc(n * sizeof(double)), malloc(n * sizeof(double)) };
    candidate_t *cand = malloc(SIM_MAX_CANDIDATES * sizeof *cand);
    fitted_t *fit = malloc(sizeof *fit);
    size_t best[3] = { 0, 0, 0 }, n_cand = 0;
    double tuned_s = 0.0;
    budget_table_t tab;
    uplift_model_t model;
    if (!train || !train_logs || !cs || !logs || !s_up || !s_pr || !s_all || !s_gbt ||
        !s_or || !s_by || !s_byr || !gbt || !served || !s_tuned[0] || !s_tuned[1] || !s_tuned[2] ||
        !s_tuned[3] || !cand || !fit)
        goto done;
    xoshiro_seed(&r, o->seed);
    for (size_t i = 0; i < o->train; i++) {
        draw_customer(&r, i, &train[i]);
        draw_log(&r, &train[i], &train_logs[i]);
    }
    clock_t t0 = clock();
    rc = uplift_fit(train_logs, o->train, NULL, &model);
    if (rc)
        goto done;
    double fit_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    t0 = clock();
    rc = uplift_gbt_tl_fit(train_logs, o->train, NULL, gbt);
    if (rc)
        goto done;
    double gbt_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    for (size_t i = 0; i < n; i++) {
        draw_customer(&r, o->train + i, &cs[i]);
        draw_log(&r, &cs[i], &logs[i]);
    }
    t0 = clock();
    rc = score_uplift(cs, n, &model, s_up);
    double decide_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (!rc)
        rc = score_gbt(cs, n, gbt, s_gbt);
    if (!rc)
        rc = score_propensity(cs, n, &model, s_pr);
    if (rc)
        goto done;
    score_random(n, o->seed, s_all);
    score_oracle(cs, n, s_or);
    score_bayes(cs, n, s_by, s_byr);
    if (o->store) {   /* only the store: eval-uplift reads it */
        rc = write_store(o->store, o->truth, &r, cs, n, &model);
        goto done;
    }
    n_cand = candidates(cand);
    if ((rc = tune(cand, n_cand, train_logs, o->train, best)) != 0)
        goto done;
    /* the winner of each kind refitted on the whole training log */
    t0 = clock();
    for (int k = 0; k < 3; k++)
        if ((rc = fit_candidate(&cand[best[k]], train_logs, o->train, fit)) != 0 ||
            (rc = score_candidate(&cand[best[k]], fit, &cs[0].x, sizeof *cs, n, s_tuned[k])) != 0)
            goto done;
    tuned_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    /* the ensemble: the three tuned scores' mean (NaN counts as no gain) */
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        for (int k = 0; k < 3; k++)
            v += isnan(s_tuned[k][i]) ? 0.0 : s_tuned[k][i];
        s_tuned[3][i] = v > 0.0 ? v / 3.0 : NAN;
    }

    printf("couponsim: seed %llu, %zu training rows (50/50 coupon), %zu "
           "customers; fit T-learner %.2f s, boosted T-learner %.2f s, the three tuned "
           "learners %.2f s, %zu decisions %.2f s\n",
           (unsigned long long)o->seed, o->train, n, fit_s, gbt_s, tuned_s, n, decide_s);
    print_truth(cs, n);
    policy_t pol[SIM_MAX_POLICIES] = {
        { "uplift T-learner (served)", "T-learner", 1, s_up },
        { "uplift boosted T-learner", "boosted T", 1, s_gbt },
        { "boosted T-learner, tuned", "boosted T tun", 1, s_tuned[0] },
        { "DR-learner (profit)", "DR-learner", 1, s_tuned[1] },
        { "X-learner (profit)", "X-learner", 1, s_tuned[2] },
        { "mean of the tuned three", "ensemble", 1, s_tuned[3] },
        [SIM_PROPENSITY] = { "propensity (P(buy))", "propensity", 0, s_pr },
        { "coupon to everyone", "everyone", 0, s_all },
        /* the simulator's own model: the most any learner can expect */
        { "Bayes ceiling (E[v|x])", "Bayes ceiling", 0, s_by },
        { "Bayes ceiling, ROI order", "Bayes ROI", 0, s_byr },
    };
    rc = print_budgets(cs, n, s_or, pol, SIM_MAX_POLICIES, logs, &tab);
    if (!rc)
        rc = print_qini(pol, SIM_MAX_POLICIES, logs, n);
    if (!rc)
        print_shares(&tab, pol, SIM_MAX_POLICIES);
    int covered, total;
    policy_t all[SIM_MAX_POLICIES + 1] = { { "oracle (true profit)", "oracle", 0, s_or } };
    memcpy(all + 1, pol, sizeof pol);
    if (!rc)
        rc = draw_served_log(&r, cs, n, &model, served);
    if (!rc)
        rc = print_ope(cs, n, served, train_logs, o->train, &model, all,
                       SIM_MAX_POLICIES + 1, &tab, &covered, &total);
    if (!rc)
        printf("Truth inside the 95%% CI: %d of %d estimates\n", covered, total);
done:
    for (int k = 0; k < 4; k++)
        free(s_tuned[k]);
    free(cand);
    free(fit);
    free(served);
    free(train);
    free(train_logs);
    free(cs);
    free(logs);
    free(s_up);
    free(s_pr);
    free(s_all);
    free(s_gbt);
    free(s_or);
    free(s_by);
    free(s_byr);
    free(gbt);
    return rc;
}

int main(int argc, char **argv)
{
    options_t o;
    if (parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: couponsim [--seed S] [--train N>=100] "
                        "[--customers N>=100] [--store DIR --truth FILE]\n");
        return 2;
    }
    int rc = run(&o);
    if (rc) {
        fprintf(stderr, "couponsim: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}
