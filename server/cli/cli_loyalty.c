/*
 * cli_loyalty.c - lifetime value and programme analytics, offline on a
 * store:
 *
 *   patron eval-clv --data DIR [--split TIME] [--holdout-days N] [--json]
 *       BG/NBD + Gamma-Gamma fitted on the purchases before the split,
 *       judged on the holdout against "next period's spend = last period's
 *       spend" (customers_clv.h, clv_eval.h).
 */
#include "cli.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clv_eval.h"
#include "customers_clv.h"
#include "loyalty_store.h"
#include "wallclock.h"
#include "profile.h"
#include "store.h"

#define DAY_MS 86400000LL
#define DEFAULT_HOLDOUT_DAYS 90
/* Liability per point by default: the default earn rate is 1 point per
 * currency unit, so 0.01 values the programme at 1% back. */
#define DEFAULT_POINT_VALUE 0.01
#define DEFAULT_COHORT_MONTHS 12

typedef struct clv_args {
    const char *data, *profiles;
    uint64_t map_bytes;
    long long split_ms;  /* 0: last purchase - holdout */
    double holdout_days; /* 0: the default, or up to the last purchase after --split */
    int json;
} clv_args_t;

/* ---- eval-clv ------------------------------------------------------------------ */

/* --split: cli_parse_time, the flag named when it fails. */
static int parse_split(void *dest, const char *v)
{
    if (cli_parse_time(dest, v) == 0)
        return 0;
    fprintf(stderr, "patron eval-clv: --split: not a time: \"%s\"\n", v);
    return -1;
}

static void print_errors(FILE *f, const char *what, const char *who,
                         const clv_eval_errors_t *e)
{
    fprintf(f, "  %-8s %-20s MAE %10.3f  RMSE %10.3f  total predicted %12.1f  actual %12.1f\n",
            what, who, e->mae, e->rmse, e->total_predicted, e->total_actual);
}

static void print_report(FILE *f, const clv_args_t *a, int64_t split, const clv_eval_report_t *r)
{
    char when[CLI_TIME_CAP];
    const clv_model_t *m = &r->model;

    fprintf(f, "%s: split at %s, holdout %.4g days; %llu customers with an order before the "
            "split\n", a->data, cli_time_format(split, when), r->holdout_days,
            (unsigned long long)r->customers);
    fprintf(f, "fitted on the calibration period: BG/NBD r %.4g alpha %.4g a %.4g b %.4g "
            "(days); Gamma-Gamma p %.4g q %.4g gamma %.4g (mean order value %.2f)\n",
            m->bg.r, m->bg.alpha, m->bg.a, m->bg.b, m->gg.p, m->gg.q, m->gg.gamma,
            m->pop_spend);
    fprintf(f, "calibration by decile of predicted holdout spend (means per customer):\n");
    fprintf(f, "  decile customers  orders: predicted  actual   spend: predicted    actual  "
            "last period\n");
    for (int i = 0; i < CLV_EVAL_DECILES; i++) {
        const clv_eval_decile_t *d = &r->deciles[i];
        fprintf(f, "  %6d %9llu  %17.3f %7.3f  %16.2f %9.2f %12.2f\n", i + 1,
                (unsigned long long)d->customers, d->predicted_purchases,
                d->actual_purchases, d->predicted_spend, d->actual_spend, d->baseline_spend);
    }
    fprintf(f, "errors per customer over the holdout (money in the shop's currency units):\n");
    print_errors(f, "orders", "BG/NBD", &r->purchases);
    print_errors(f, "orders", "last period", &r->base_purchases);
    print_errors(f, "spend", "BG/NBD+Gamma-Gamma", &r->spend);
    print_errors(f, "spend", "last period", &r->base_spend);
    fprintf(f, "spend: the model's MAE is %.1f%% and RMSE %.1f%% of the baseline's\n",
            100 * r->spend.mae / r->base_spend.mae, 100 * r->spend.rmse / r->base_spend.rmse);
}

static json_object *errors_json(const clv_eval_errors_t *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "mae", json_object_new_double(e->mae));
    json_object_object_add(o, "rmse", json_object_new_double(e->rmse));
    json_object_object_add(o, "total_predicted", json_object_new_double(e->total_predicted));
    json_object_object_add(o, "total_actual", json_object_new_double(e->total_actual));
    return o;
}

static int report_json(const clv_args_t *a, int64_t split, const clv_eval_report_t *r)
{
    char when[CLI_TIME_CAP];
    json_object *o = json_object_new_object(), *m = json_object_new_object();
    json_object *dec = json_object_new_array(), *model = json_object_new_object(),
                *base = json_object_new_object();

    json_object_object_add(o, "data", json_object_new_string(a->data));
    json_object_object_add(o, "split", json_object_new_string(cli_time_format(split, when)));
    json_object_object_add(o, "holdout_days", json_object_new_double(r->holdout_days));
    json_object_object_add(o, "customers", json_object_new_int64((int64_t)r->customers));
    json_object_object_add(m, "r", json_object_new_double(r->model.bg.r));
    json_object_object_add(m, "alpha", json_object_new_double(r->model.bg.alpha));
    json_object_object_add(m, "a", json_object_new_double(r->model.bg.a));
    json_object_object_add(m, "b", json_object_new_double(r->model.bg.b));
    json_object_object_add(m, "p", json_object_new_double(r->model.gg.p));
    json_object_object_add(m, "q", json_object_new_double(r->model.gg.q));
    json_object_object_add(m, "gamma", json_object_new_double(r->model.gg.gamma));
    json_object_object_add(m, "mean_order_value", json_object_new_double(r->model.pop_spend));
    json_object_object_add(o, "parameters", m);
    for (int i = 0; i < CLV_EVAL_DECILES; i++) {
        const clv_eval_decile_t *d = &r->deciles[i];
        json_object *x = json_object_new_object();
        json_object_object_add(x, "decile", json_object_new_int(i + 1));
        json_object_object_add(x, "customers", json_object_new_int64((int64_t)d->customers));
        json_object_object_add(x, "predicted_orders", json_object_new_double(d->predicted_purchases));
        json_object_object_add(x, "actual_orders", json_object_new_double(d->actual_purchases));
        json_object_object_add(x, "predicted_spend", json_object_new_double(d->predicted_spend));
        json_object_object_add(x, "actual_spend", json_object_new_double(d->actual_spend));
        json_object_object_add(x, "last_period_spend", json_object_new_double(d->baseline_spend));
        json_object_array_add(dec, x);
    }
    json_object_object_add(o, "deciles", dec);
    json_object_object_add(model, "orders", errors_json(&r->purchases));
    json_object_object_add(model, "spend", errors_json(&r->spend));
    json_object_object_add(base, "orders", errors_json(&r->base_purchases));
    json_object_object_add(base, "spend", errors_json(&r->base_spend));
    json_object_object_add(o, "model", model);
    json_object_object_add(o, "baseline", base);
    json_object_object_add(o, "beats_baseline",
                           json_object_new_boolean(r->spend.mae < r->base_spend.mae &&
                                                   r->spend.rmse < r->base_spend.rmse));
    return cli_json_print(o);
}

/* Places the split: --split, else the holdout's length before the last
 * purchase; the holdout runs from the split for --holdout-days, else to
 * the last purchase. Returns 0, or CLI_USAGE after a message. */
static int place_split(const clv_args_t *a, int64_t first, int64_t last, int64_t *split,
                       int64_t *holdout)
{
    double days = a->holdout_days > 0 ? a->holdout_days : DEFAULT_HOLDOUT_DAYS;
    if (a->split_ms) {
        *split = a->split_ms;
        *holdout = a->holdout_days > 0 ? (int64_t)(days * DAY_MS) : last + 1 - *split;
    } else {
        *holdout = (int64_t)(days * DAY_MS);
        *split = last + 1 - *holdout;
    }
    if (*split <= first || *holdout <= 0) {
        char f[CLI_TIME_CAP], l[CLI_TIME_CAP];
        fprintf(stderr, "patron eval-clv: %s: the split must fall after the first purchase "
                "(%s) and before the last (%s)\n", a->split_ms ? "--split" : "--holdout-days",
                cli_time_format(first, f), cli_time_format(last, l));
        return CLI_USAGE;
    }
    return 0;
}

static int eval_clv(const clv_args_t *a)
{
    profile_config_t pc;
    clv_eval_row_t *rows = NULL;
    clv_eval_report_t r;
    int64_t first, last, split, holdout;
    size_t n = 0;
    store_t *s;
    int rc;

    if (cli_profile_config(a->profiles, &pc) != 0)
        return CLI_USAGE;
    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = customers_purchase_span(s, &first, &last);
    if (rc == -ENOENT) {
        store_close(s);
        fprintf(stderr, "patron eval-clv: %s has no purchases\n", a->data);
        return CLI_FAIL;
    }
    if (rc == 0 && (rc = place_split(a, first, last, &split, &holdout)) != 0) {
        store_close(s);
        return rc;
    }
    if (rc == 0)
        rc = customers_clv_rows(s, &pc, split, holdout, &rows, &n);
    store_close(s);
    if (rc == 0 && n == 0)
        rc = -ENOENT;
    if (rc == 0)
        rc = clv_evaluate(rows, n, (double)holdout / DAY_MS, &r);
    free(rows);
    if (rc) {
        cli_error(rc, "eval-clv failed");
        return CLI_FAIL;
    }
    print_report(a->json ? stderr : stdout, a, split, &r);
    if (a->json && report_json(a, split, &r) != 0)
        return CLI_FAIL;
    return CLI_OK;
}

static int cmd_eval_clv(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "eval-clv", "--data DIR [--split TIME] [--holdout-days N] [--profiles FILE] [--json]",
        "Fits BG/NBD + Gamma-Gamma on every customer's orders before the split and\n"
        "predicts each one's orders and spend over the holdout, beside the naive\n"
        "baseline \"next period's spend = the spend of the period of the same length\n"
        "before the split\". Prints calibration by decile of predicted spend and MAE /\n"
        "RMSE per customer and on the total. Default: the last 90 days held out; with\n"
        "--split alone, the holdout runs to the last purchase. --json: the figures as\n"
        "one JSON object on stdout (the text goes to stderr)."
    };
    static clv_args_t a;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        CLI_CALL("split", "TIME", "the end of the calibration period (default: the last "
                 "purchase minus the holdout)", parse_split, &a.split_ms),
        CLI_NUM("holdout-days", "N", "length of the holdout in days (default 90)", 1, 36500,
                &a.holdout_days),
        CLI_STR("profiles", "FILE", "profile settings: the order gap (default: built in)", 0,
                &a.profiles),
        CLI_FLAG("json", "the results as JSON on stdout (the text goes to stderr)", &a.json),
        CLI_END,
    };
    memset(&a, 0, sizeof a);
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : eval_clv(&a);
}

/* ---- report loyalty ----------------------------------------------------------- */

typedef struct report_args {
    const char *data, *profiles;
    uint64_t map_bytes;
    long long as_of;
    double point_value;
    uint32_t months;
    int json;
} report_args_t;

/* --as-of: cli_parse_time, the flag named when it fails. */
static int parse_as_of(void *dest, const char *v)
{
    if (cli_parse_time(dest, v) == 0)
        return 0;
    fprintf(stderr, "patron report loyalty: --as-of: not a time: \"%s\"\n", v);
    return -1;
}

static void month_name(int64_t month, char buf[32])
{
    snprintf(buf, 32, "%04lld-%02d", (long long)(month / 12), (int)(month % 12) + 1);
}

static double share(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

static void print_group(FILE *f, const char *name, const loyalty_group_t *g)
{
    fprintf(f, "  %-12s %9llu %7llu %11.1f%% %12.2f %11.2f %11.2f\n", name,
            (unsigned long long)g->customers, (unsigned long long)g->buyers,
            100 * g->repeat_rate, g->orders_per_buyer, g->spend_per_buyer, g->order_value);
}

static void print_loyalty(FILE *f, const report_args_t *a, const profile_config_t *pc,
                          const loyalty_report_t *r)
{
    char when[CLI_TIME_CAP], m[32];
    const loyalty_funnel_t *fu = &r->funnel;
    const loyalty_cohorts_t *c = &r->cohorts;

    fprintf(f, "%s: loyalty programme as of %s\n", a->data, cli_time_format(r->now_ms, when));
    fprintf(f, "repeat-purchase rate %.1f%%: %llu of %llu buyers ordered twice or more "
            "(%llu customers with events)\n", 100 * r->all.repeat_rate,
            (unsigned long long)r->all.repeat_buyers, (unsigned long long)r->all.buyers,
            (unsigned long long)r->all.customers);
    fprintf(f, "members (a tier above the floor, a redemption or a signup date) against the "
            "rest; money net of refunds:\n");
    fprintf(f, "  %-12s %9s %7s %12s %12s %11s %11s\n", "", "customers", "buyers",
            "repeat rate", "orders/buyer", "spend/buyer", "order value");
    print_group(f, "members", &r->members);
    print_group(f, "non-members", &r->non_members);
    print_group(f, "all", &r->all);
    fprintf(f, "by tier held:\n");
    for (size_t i = 0; i < r->n_tiers; i++)
        print_group(f, profile_tier_name(pc, (int)i), &r->tiers[i]);
    if (r->no_tier.customers)
        print_group(f, "(none)", &r->no_tier);
    fprintf(f, "points: issued %lld, pending %lld, redeemed %lld (%.1f%%), expired %lld, "
            "outstanding %lld; liability at %g per point: %.2f\n", (long long)r->points_issued,
            (long long)r->points_pending, (long long)r->points_redeemed,
            100 * share((uint64_t)r->points_redeemed, (uint64_t)r->points_issued),
            (long long)r->points_expired, (long long)r->points_outstanding, r->point_value,
            r->liability);
    fprintf(f, "funnel, customers: viewed %llu, carted %llu, purchased %llu\n",
            (unsigned long long)fu->viewers, (unsigned long long)fu->carters,
            (unsigned long long)fu->buyers);
    fprintf(f, "funnel, (customer, item) pairs: viewed %llu -> carted after a view %llu "
            "(%.1f%%) -> bought after that cart %llu (%.1f%%)\n",
            (unsigned long long)fu->viewed_pairs, (unsigned long long)fu->carted_after_view,
            100 * fu->cart_rate, (unsigned long long)fu->bought_after_cart,
            100 * fu->purchase_rate);
    fprintf(f, "cohort retention: share of each month's new buyers ordering k months later "
            "(complete months only)\n");
    fprintf(f, "  %-7s %6s", "cohort", "size");
    for (size_t k = 0; k < c->n_offsets; k++) {
        char col[24];
        snprintf(col, sizeof col, "m%zu", k);
        fprintf(f, " %6s", col);
    }
    fputc('\n', f);
    for (size_t i = 0; i < c->n_cohorts; i++) {
        month_name(c->first_month + (int64_t)i, m);
        fprintf(f, "  %-7s %6llu", m, (unsigned long long)c->size[i]);
        for (size_t k = 0; k < c->n_offsets; k++) {
            if (c->first_month + (int64_t)(i + k) >= c->now_month || !c->size[i])
                break; /* not complete yet, nor any later month */
            fprintf(f, " %5.1f%%", 100 * share(c->active[i * c->n_offsets + k], c->size[i]));
        }
        fputc('\n', f);
    }
}

static json_object *group_json(const loyalty_group_t *g)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "customers", json_object_new_int64((int64_t)g->customers));
    json_object_object_add(o, "buyers", json_object_new_int64((int64_t)g->buyers));
    json_object_object_add(o, "repeat_buyers", json_object_new_int64((int64_t)g->repeat_buyers));
    json_object_object_add(o, "orders", json_object_new_int64((int64_t)g->orders));
    json_object_object_add(o, "spend", json_object_new_double(g->spend));
    json_object_object_add(o, "repeat_rate", json_object_new_double(g->repeat_rate));
    json_object_object_add(o, "orders_per_buyer", json_object_new_double(g->orders_per_buyer));
    json_object_object_add(o, "spend_per_buyer", json_object_new_double(g->spend_per_buyer));
    json_object_object_add(o, "order_value", json_object_new_double(g->order_value));
    return o;
}

static int loyalty_json(const report_args_t *a, const profile_config_t *pc,
                        const loyalty_report_t *r)
{
    char when[CLI_TIME_CAP], m[32];
    json_object *o = json_object_new_object(), *tiers = json_object_new_array(),
                *pts = json_object_new_object(), *fu = json_object_new_object(),
                *co = json_object_new_array();
    const loyalty_cohorts_t *c = &r->cohorts;

    json_object_object_add(o, "data", json_object_new_string(a->data));
    json_object_object_add(o, "as_of", json_object_new_string(cli_time_format(r->now_ms, when)));
    json_object_object_add(o, "repeat_purchase_rate", json_object_new_double(r->all.repeat_rate));
    json_object_object_add(o, "all", group_json(&r->all));
    json_object_object_add(o, "members", group_json(&r->members));
    json_object_object_add(o, "non_members", group_json(&r->non_members));
    for (size_t i = 0; i < r->n_tiers; i++) {
        json_object *t = group_json(&r->tiers[i]);
        json_object_object_add(t, "tier", json_object_new_string(profile_tier_name(pc, (int)i)));
        json_object_array_add(tiers, t);
    }
    json_object_object_add(o, "tiers", tiers);
    json_object_object_add(pts, "issued", json_object_new_int64(r->points_issued));
    json_object_object_add(pts, "pending", json_object_new_int64(r->points_pending));
    json_object_object_add(pts, "redeemed", json_object_new_int64(r->points_redeemed));
    json_object_object_add(pts, "expired", json_object_new_int64(r->points_expired));
    json_object_object_add(pts, "outstanding", json_object_new_int64(r->points_outstanding));
    json_object_object_add(pts, "point_value", json_object_new_double(r->point_value));
    json_object_object_add(pts, "liability", json_object_new_double(r->liability));
    json_object_object_add(o, "points", pts);
    json_object_object_add(fu, "viewers", json_object_new_int64((int64_t)r->funnel.viewers));
    json_object_object_add(fu, "carters", json_object_new_int64((int64_t)r->funnel.carters));
    json_object_object_add(fu, "buyers", json_object_new_int64((int64_t)r->funnel.buyers));
    json_object_object_add(fu, "viewed_pairs",
                           json_object_new_int64((int64_t)r->funnel.viewed_pairs));
    json_object_object_add(fu, "carted_after_view",
                           json_object_new_int64((int64_t)r->funnel.carted_after_view));
    json_object_object_add(fu, "bought_after_cart",
                           json_object_new_int64((int64_t)r->funnel.bought_after_cart));
    json_object_object_add(fu, "cart_rate", json_object_new_double(r->funnel.cart_rate));
    json_object_object_add(fu, "purchase_rate", json_object_new_double(r->funnel.purchase_rate));
    json_object_object_add(o, "funnel", fu);
    for (size_t i = 0; i < c->n_cohorts; i++) {
        json_object *row = json_object_new_object(), *ret = json_object_new_array();
        month_name(c->first_month + (int64_t)i, m);
        json_object_object_add(row, "cohort", json_object_new_string(m));
        json_object_object_add(row, "customers", json_object_new_int64((int64_t)c->size[i]));
        for (size_t k = 0; k < c->n_offsets && c->first_month + (int64_t)(i + k) < c->now_month;
             k++)
            json_object_array_add(ret, json_object_new_int64(
                                           (int64_t)c->active[i * c->n_offsets + k]));
        json_object_object_add(row, "active_by_month", ret);
        json_object_array_add(co, row);
    }
    json_object_object_add(o, "cohorts", co);
    return cli_json_print(o);
}

static int report_loyalty(const report_args_t *a)
{
    profile_config_t pc;
    loyalty_report_t r;
    store_t *s;
    int rc;

    if (cli_profile_config(a->profiles, &pc) != 0)
        return CLI_USAGE;
    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = loyalty_store_report(s, &pc, a->as_of ? a->as_of : wall_ms(), a->point_value,
                              a->months + 1, &r);
    store_close(s);
    if (rc) {
        loyalty_free(&r);
        cli_error(rc, "report loyalty failed");
        return CLI_FAIL;
    }
    print_loyalty(a->json ? stderr : stdout, a, &pc, &r);
    rc = a->json ? loyalty_json(a, &pc, &r) : 0;
    loyalty_free(&r);
    return rc ? CLI_FAIL : CLI_OK;
}

static int report_loyalty_cmd(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "report loyalty", "--data DIR [--as-of TIME] [--point-value X] [--months N] "
                          "[--profiles FILE] [--json]",
        "Programme KPIs of a store as of a time (default now): repeat-purchase rate;\n"
        "members (a tier above the floor tier everyone holds, a points redemption or a\n"
        "signup date) against non-members and tier by tier: buyers, repeat rate,\n"
        "orders and net spend per buyer, order value; the points economy from every\n"
        "customer's ledger under the programme's rules (--profiles): issued (net of\n"
        "refunds), pending, redeemed, expired, outstanding and the liability\n"
        "(outstanding x --point-value); the view -> cart -> purchase funnel by customer and by\n"
        "(customer, item); cohort retention by UTC month of first purchase (the share\n"
        "of each cohort with a purchase k months later, k = 0..--months, for months\n"
        "that ended before --as-of). --json: one JSON object on stdout (the text goes\n"
        "to stderr)."
    };
    static report_args_t a;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        CLI_CALL("as-of", "TIME", "report as of this time: later events are ignored "
                 "(default now)", parse_as_of, &a.as_of),
        CLI_NUM("point-value", "X", "currency units one point is worth (default 0.01)", 0, 1e9,
                &a.point_value),
        CLI_U32("months", "N", "cohort columns: months after the first purchase (default 12)",
                1, 1200, &a.months),
        CLI_STR("profiles", "FILE", "the programme's settings: tiers, order gap, points rules "
                "and expiry (default: built in)", 0, &a.profiles),
        CLI_FLAG("json", "the results as JSON on stdout (the text goes to stderr)", &a.json),
        CLI_END,
    };
    memset(&a, 0, sizeof a);
    a.point_value = DEFAULT_POINT_VALUE;
    a.months = DEFAULT_COHORT_MONTHS;
    int rc = cli_parse(argc, argv, 2, &cmd, opts);
    return rc != CLI_PARSED ? rc : report_loyalty(&a);
}

static const char report_usage[] =
    "usage: patron report loyalty [flags]   (patron report loyalty --help for its flags)\n";

static int cmd_report(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (!strcmp(sub, "loyalty"))
        return report_loyalty_cmd(argc, argv);
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(report_usage, stdout);
        return CLI_OK;
    }
    fprintf(stderr, "patron report: expected loyalty%s%s\n", sub[0] ? ", got " : "", sub);
    fputs(report_usage, stderr);
    return CLI_USAGE;
}

static const cli_command_t commands[] = {
    { "eval-clv", "offline: lifetime-value model against last period's spend", cmd_eval_clv },
    { "report", "loyalty: offline programme KPIs (repeat rate, members, points, funnel, "
                "cohorts)", cmd_report },
};

const cli_family_t cli_loyalty_family = { "lifetime value and loyalty analytics", commands,
                                          sizeof commands / sizeof commands[0] };
