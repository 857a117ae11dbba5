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
#include "profile.h"
#include "store.h"

#define DAY_MS 86400000LL
#define DEFAULT_HOLDOUT_DAYS 90

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

static const cli_command_t commands[] = {
    { "eval-clv", "offline: lifetime-value model against last period's spend", cmd_eval_clv },
};

const cli_family_t cli_loyalty_family = { "lifetime value and loyalty analytics", commands,
                                          sizeof commands / sizeof commands[0] };
