/*
 * couponsim - coupon targeting on simulated customers whose true response to
 * a coupon is known, comparing uplift targeting with the usual alternatives.
 *
 *   couponsim [--seed S=42] [--train N=200000] [--customers N=100000]
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
#include "uplift.h"
#include "uplift_gbt.h"
#include "rng.h"

#define SIM_MARGIN_RATE 0.30
#define SIM_PERCENT 0.15
#define SIM_CAP 15.0
#define SIM_NOW_MS 1718000000000LL   /* June 2024 */
#define SIM_PROPENSITY_KNOWN 0.8     /* share with a factor-based propensity */
#define SIM_N_BUDGETS 4

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
    double j = exp(0.25 * rng_normal(r));
    c->pc = clamp_prob(t->pc * j);
    c->pt = clamp_prob(t->pt * j);
    c->basket = rng_lognormal(r, t->basket, 0.35);

    c->x.recency_days = rng_lognormal(r, t->recency, 0.8);
    c->x.orders = 1.0 + floor(rng_lognormal(r, t->orders, 0.6));
    c->x.average_basket = c->basket * exp(0.2 * rng_normal(r));
    c->x.monetary = c->x.orders * c->x.average_basket;
    c->x.stage = stage_of(c->x.recency_days, c->x.orders);
    /* a factor model's P(buy): informative about pc, noisy, not always there */
    if (xoshiro_unit(r) < SIM_PROPENSITY_KNOWN) {
        double z = log(c->pc / (1.0 - c->pc)) + 0.8 * rng_normal(r);
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
    const uplift_model_t *models[1] = { model };
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

typedef struct order_entry {
    double score;
    size_t i;
} order_entry_t;

static int order_cmp(const void *a, const void *b)
{
    const order_entry_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Targets customers in score order (NaN never) while the true spend fits
 * the budget; true economics of the cut. */
static int cut_at_budget(const sim_customer_t *cs, const double *score,
                         size_t n, double budget, cut_t *out)
{
    order_entry_t *o = malloc(n * sizeof *o);
    if (!o)
        return -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(score[i]))
            o[m++] = (order_entry_t){ score[i], i };
    qsort(o, m, sizeof *o, order_cmp);
    memset(out, 0, sizeof *out);
    for (size_t j = 0; j < m; j++) {
        const sim_customer_t *c = &cs[o[j].i];
        if (out->spend + true_spend(c) > budget)
            break;
        out->k++;
        out->spend += true_spend(c);
        out->profit += true_incr_profit(c);
        out->types[c->type] += 1.0;
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

#define SIM_MAX_POLICIES 4
#define SIM_PROPENSITY 2  /* index of the propensity policy in run()'s list */

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
        int rc = cut_at_budget(cs, oracle_score, n, budget, &oc);
        if (rc)
            return rc;
        tab->budget[b] = budget;
        tab->oracle[b] = oc.profit;
        print_cut(budget, "oracle (true profit)", &oc, oc.profit, NAN);
        for (size_t k = 0; k < np; k++) {
            cut_t c;
            uplift_budget_eval_t est;
            rc = cut_at_budget(cs, p[k].score, n, budget, &c);
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

/* ---- main ---------------------------------------------------------------------------- */

typedef struct options {
    uint64_t seed;
    size_t train, customers;
} options_t;

static int parse_args(int argc, char **argv, options_t *o)
{
    o->seed = 42;
    o->train = 200000;
    o->customers = 100000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!v)
            return -1;
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
    return 0;
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
    double *s_or = malloc(n * sizeof *s_or);
    uplift_gbt_tl_t *gbt = malloc(sizeof *gbt);
    budget_table_t tab;
    uplift_model_t model;
    if (!train || !train_logs || !cs || !logs || !s_up || !s_pr || !s_all || !s_gbt ||
        !s_or || !gbt)
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

    printf("couponsim: seed %llu, %zu training rows (50/50 coupon), %zu "
           "customers; fit T-learner %.2f s, boosted T-learner %.2f s, %zu decisions %.2f s\n",
           (unsigned long long)o->seed, o->train, n, fit_s, gbt_s, n, decide_s);
    print_truth(cs, n);
    policy_t pol[SIM_MAX_POLICIES] = {
        { "uplift T-learner (served)", "T-learner", 1, s_up },
        { "uplift boosted T-learner", "boosted T", 1, s_gbt },
        [SIM_PROPENSITY] = { "propensity (P(buy))", "propensity", 0, s_pr },
        { "coupon to everyone", "everyone", 0, s_all },
    };
    rc = print_budgets(cs, n, s_or, pol, SIM_MAX_POLICIES, logs, &tab);
    if (!rc)
        rc = print_qini(pol, SIM_MAX_POLICIES, logs, n);
    if (!rc)
        print_shares(&tab, pol, SIM_MAX_POLICIES);
done:
    free(train);
    free(train_logs);
    free(cs);
    free(logs);
    free(s_up);
    free(s_pr);
    free(s_all);
    free(s_gbt);
    free(s_or);
    free(gbt);
    return rc;
}

int main(int argc, char **argv)
{
    options_t o;
    if (parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: couponsim [--seed S] [--train N>=100] "
                        "[--customers N>=100]\n");
        return 2;
    }
    int rc = run(&o);
    if (rc) {
        fprintf(stderr, "couponsim: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}
