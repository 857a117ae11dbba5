/*
 * cli_coupons.c - `patron train-uplift` and `patron eval-uplift`: the uplift
 * model behind TargetCoupons, fitted and judged on Patron's own offer log.
 *
 * Both read the training rows couponstore_uplift_logs builds: every logged
 * decision joined with the customer's purchases in the attribution window
 * after it (treated = a coupon was granted; rows weigh 1 / assign_prob, so
 * exploration draws and the holdout make the comparison unbiased).
 *
 * train-uplift fits the T-learner on every row and stores it as the default
 * model that every coupon without its own model uses. With --learner auto
 * (the default) it first compares the logistic and the boosted T-learner
 * on a held-out fifth of the customers (uplift_select.h) and stores the
 * boosted one beside the logistic model when it earns more there, so that
 * TargetCoupons decides with it (--learner logistic|boosted forces one);
 * with --per-coupon it
 * also fits one model per catalog coupon with enough rows of its own (its
 * treated rows against the shared control rows: "no coupon" is the same
 * treatment whichever coupon was withheld), stored under the coupon id,
 * which couponstore_target prefers to the default.
 *
 * eval-uplift judges out of sample: customers are split by a hash of their id
 * (uplift_in_test_split), a fresh T-learner is fitted on the train side only,
 * and the test side is ranked three ways (the model's uplift, its purchase
 * propensity, everyone in log order) with Qini / AUUC and the incremental
 * profit and ROI of each ranking cut at each budget; then the off-policy
 * section (cli_uplift_ope.h): the served policy's and alternatives' profit on
 * the test side estimated from the logged assignment probabilities. --in-sample
 * adds the old, optimistic figures: the stored default model scored on every
 * row, rows it was (probably) trained on.
 */
#include "cli.h"
#include "cli_uplift_ope.h"
#include "cli_uplift_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "coupon.h"
#include "couponstore.h"
#include "store.h"
#include "uplift.h"
#include "uplift_gbt.h"
#include "uplift_select.h"
#include "wallclock.h"

#define DEFAULT_WINDOW_DAYS 7.0
#define DEFAULT_TEST_SHARE 0.3
/* Rows per arm a coupon needs for a model of its own: with fewer, the
 * difference of two regressions is mostly noise and the default model
 * (which pools every coupon's rows) predicts better. */
#define DEFAULT_MIN_ROWS 200
#define MAX_MIN_ROWS 100000000L
/* The share of customers train-uplift --learner auto holds out to compare. */
#define SELECT_HELD_OUT 0.2

typedef struct uplift_args {
    const char *data;
    uint64_t map_bytes;
    double window_days;
    long long as_of;
    double budgets[UPLIFT_EVAL_MAX_BUDGETS];
    size_t n_budgets;
    double test_share;
    int in_sample;
    int per_coupon;
    int learner;         /* train-uplift: -1 auto, else uplift_learner_t */
    int json;            /* eval-uplift: JSON on stdout, the text on stderr */
    const char *svg;     /* eval-uplift: the Qini curves to this file */
    FILE *txt;           /* where the text goes */
    json_object *out;    /* eval-uplift --json: the object being filled */
    uint32_t min_rows;
    double ope_tops[CLI_UPLIFT_OPE_MAX_TOPS];   /* eval-uplift: model cuts, % of offers */
    size_t n_ope_tops;
    const char *ope_rows;   /* eval-uplift: each policy's offers as CSV to this file */
} uplift_args_t;

static int parse_budgets(void *dest, const char *s)
{
    uplift_args_t *a = dest;
    const char *p = s;
    a->n_budgets = 0;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0 && v <= 1e12) || a->n_budgets == UPLIFT_EVAL_MAX_BUDGETS ||
            (*end && *end != ','))
            break;
        a->budgets[a->n_budgets++] = v;
        p = *end ? end + 1 : end;
    }
    if (*p || !a->n_budgets) {
        fprintf(stderr, "patron: --budgets: expected positive numbers B1,B2,... "
                        "(at most %d), got \"%s\"\n", UPLIFT_EVAL_MAX_BUDGETS, s);
        return -1;
    }
    return 0;
}

static int parse_ope_tops(void *dest, const char *s)
{
    uplift_args_t *a = dest;
    const char *p = s;
    a->n_ope_tops = 0;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0 && v <= 100) || a->n_ope_tops == CLI_UPLIFT_OPE_MAX_TOPS ||
            (*end && *end != ','))
            break;
        a->ope_tops[a->n_ope_tops++] = v;
        p = *end ? end + 1 : end;
    }
    if (*p || !a->n_ope_tops) {
        fprintf(stderr, "patron: --ope-top: expected percentages in (0, 100] P1,P2,... "
                        "(at most %d), got \"%s\"\n", CLI_UPLIFT_OPE_MAX_TOPS, s);
        return -1;
    }
    return 0;
}

static int parse_learner(void *dest, const char *s)
{
    int *l = dest;
    if (strcmp(s, "auto") == 0)
        *l = -1;
    else if (strcmp(s, "logistic") == 0)
        *l = UPLIFT_LEARNER_LOGISTIC;
    else if (strcmp(s, "boosted") == 0)
        *l = UPLIFT_LEARNER_BOOSTED;
    else {
        fprintf(stderr, "patron: --learner: expected auto, logistic or boosted, got \"%s\"\n",
                s);
        return -1;
    }
    return 0;
}

static void uplift_args_default(uplift_args_t *a)
{
    static const double tops[] = { 5, 10, 20, 50 };
    memset(a, 0, sizeof *a);
    memcpy(a->ope_tops, tops, sizeof tops);
    a->n_ope_tops = sizeof tops / sizeof tops[0];
    a->window_days = DEFAULT_WINDOW_DAYS;
    a->test_share = DEFAULT_TEST_SHARE;
    a->min_rows = DEFAULT_MIN_ROWS;
    a->learner = -1;
    a->as_of = wall_ms();
}

/* Flags both commands take. */
#define UPLIFT_COMMON_OPTS(a)                                                            \
    CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &(a)->data),             \
    CLI_MAP_SIZE(&(a)->map_bytes),                                                       \
    CLI_NUM("window-days", "D", "attribution window after each offer (default 7)",      \
            1e-9, 365, &(a)->window_days),                                               \
    CLI_TIME("as-of", "offers must have ended their window by then (default now)",        \
             &(a)->as_of)

/* Opens the store and joins the offer log with purchases. */
static int load_logs(const uplift_args_t *a, store_t **s, uplift_log_t **logs,
                     couponstore_uplift_key_t **keys, size_t *n)
{
    int rc = cli_store_open(a->data, a->map_bytes, 0, s);
    if (rc)
        return rc;
    rc = couponstore_uplift_logs(*s, (int64_t)(a->window_days * CIVIL_DAY_MS), a->as_of, logs,
                                 keys, n);
    if (rc)
        cli_error(rc, "reading the offer log");
    return rc;
}

static void print_arms(FILE *txt, const uplift_log_t *logs, size_t n, json_object *out)
{
    size_t nt = 0, nc = 0, bt = 0, bc = 0;
    for (size_t i = 0; i < n; i++) {
        if (logs[i].treated) {
            nt++;
            bt += logs[i].bought;
        } else {
            nc++;
            bc += logs[i].bought;
        }
    }
    fprintf(txt, "offers %zu: treated %zu (bought %.1f%%), control %zu (bought %.1f%%)\n", n,
            nt, nt ? 100.0 * (double)bt / (double)nt : 0.0, nc,
            nc ? 100.0 * (double)bc / (double)nc : 0.0);
    if (out) {
        json_object_object_add(out, "offers", json_object_new_int64((int64_t)n));
        json_object_object_add(out, "treated", json_object_new_int64((int64_t)nt));
        json_object_object_add(out, "control", json_object_new_int64((int64_t)nc));
        json_object_object_add(out, "treated_bought", json_object_new_int64((int64_t)bt));
        json_object_object_add(out, "control_bought", json_object_new_int64((int64_t)bc));
    }
}

/* ---- train-uplift ---------------------------------------------------------------------- */

/* Copies into rows the training rows of coupon_id: its treated rows and
 * every control row. Returns their count; *nt, *nc count the arms. */
static size_t coupon_rows(const uplift_log_t *logs, const couponstore_uplift_key_t *keys,
                          size_t n, const char *coupon_id, uplift_log_t *rows, size_t *nt,
                          size_t *nc)
{
    size_t k = 0;
    *nt = *nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (logs[i].treated && strcmp(keys[i].coupon_id, coupon_id) != 0)
            continue;
        (*(logs[i].treated ? nt : nc))++;
        rows[k++] = logs[i];
    }
    return k;
}

/* Fits and stores coupon c's own model if it has min_rows rows per arm. */
static int train_coupon(store_t *s, const coupon_t *c, const uplift_log_t *logs,
                        const couponstore_uplift_key_t *keys, size_t n, size_t min_rows,
                        uplift_log_t *rows)
{
    size_t nt, nc, k = coupon_rows(logs, keys, n, c->id, rows, &nt, &nc);
    uplift_model_t m;
    int rc;

    if (nt < min_rows || nc < min_rows) {
        int had = (rc = couponstore_get_model(s, c->id, &m)) == 0;
        if (rc && rc != -ENOENT) {
            cli_error(rc, "reading the uplift model of coupon \"%s\"", c->id);
            return rc;
        }
        printf("coupon \"%s\": %zu treated / %zu control rows, fewer than %zu per arm: "
               "skipped (%s)\n", c->id, nt, nc, min_rows,
               had ? "keeps its model from an earlier run" : "uses the default model");
        return 0;
    }
    if ((rc = uplift_fit(rows, k, NULL, &m)) != 0) {
        cli_error(rc, "fitting the uplift model of coupon \"%s\"", c->id);
        return rc;
    }
    if ((rc = couponstore_put_model(s, c->id, &m)) != 0) {
        cli_error(rc, "storing the uplift model of coupon \"%s\"", c->id);
        return rc;
    }
    printf("uplift model \"%s\" stored (%zu treated, %zu control rows)\n", c->id, nt, nc);
    return 0;
}

/* One model per catalog coupon with enough rows. */
static int train_per_coupon(store_t *s, const uplift_log_t *logs,
                            const couponstore_uplift_key_t *keys, size_t n, size_t min_rows)
{
    coupon_t *cat = NULL;
    size_t n_cat = 0;
    uplift_log_t *rows = malloc((n ? n : 1) * sizeof *rows);
    int rc = rows ? couponstore_load_catalog(s, &cat, &n_cat) : -ENOMEM;

    if (rc)
        cli_error(rc, "reading the coupon catalog");
    else if (n_cat == 0)
        printf("no coupons in the catalog: no per-coupon models\n");
    for (size_t i = 0; rc == 0 && i < n_cat; i++)
        rc = train_coupon(s, &cat[i], logs, keys, n, min_rows, rows);
    free(cat);
    free(rows);
    return rc;
}

/* The learner train-uplift stores: a->learner if forced, else the one that
 * earns more on the held-out customers (printing both figures). */
static int choose_learner(const uplift_args_t *a, const uplift_log_t *logs,
                          const couponstore_uplift_key_t *keys, size_t n,
                          uplift_learner_t *learner)
{
    uplift_selection_t sel;
    uint8_t *held;
    int rc;

    *learner = UPLIFT_LEARNER_LOGISTIC;
    if (a->learner >= 0) {
        *learner = (uplift_learner_t)a->learner;
        printf("learner: %s (--learner)\n", uplift_learner_name(*learner));
        return 0;
    }
    if (n == 0)
        return 0;
    if (!(held = malloc(n))) {
        cli_error(-ENOMEM, "choosing the learner");
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        held[i] = (uint8_t)uplift_in_test_split(keys[i].customer, SELECT_HELD_OUT);
    rc = uplift_select_learner(logs, held, n, UPLIFT_SELECT_MIN_ROWS, &sel);
    free(held);
    if (rc) {
        cli_error(rc, "choosing the learner");
        return rc;
    }
    printf("learner selection: fitted on %zu offers (%zu treated, %zu control), valued on "
           "the %zu offers of a held-out %.0f%% of the customers (IPS incremental profit of "
           "the top 1/2.5/5/10/20%%):\n", sel.n_fit, sel.fit_treated, sel.fit_control,
           sel.n_val, 100.0 * SELECT_HELD_OUT);
    printf("  %-20s %12.2f\n", uplift_learner_name(UPLIFT_LEARNER_LOGISTIC),
           sel.value[UPLIFT_LEARNER_LOGISTIC]);
    if (sel.boosted_considered)
        printf("  %-20s %12.2f\n", uplift_learner_name(UPLIFT_LEARNER_BOOSTED),
               sel.value[UPLIFT_LEARNER_BOOSTED]);
    else
        printf("  %-20s not tried: fewer than %d treated and %d control offers to fit\n",
               uplift_learner_name(UPLIFT_LEARNER_BOOSTED), UPLIFT_SELECT_MIN_ROWS,
               UPLIFT_SELECT_MIN_ROWS);
    *learner = sel.chosen;
    printf("learner: %s (refitted on all %zu offers)\n", uplift_learner_name(*learner), n);
    return 0;
}

static int cmd_train_uplift(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "train-uplift", "--data DIR [--window-days D] [--as-of TIME]\n"
                        "                           [--learner auto|logistic|boosted]\n"
                        "                           [--per-coupon [--min-rows N]]",
        "Fits the default uplift model on every finished offer; with --learner auto\n"
        "the boosted T-learner serves instead of the logistic one when it earns\n"
        "more on a held-out fifth of the customers. --per-coupon also fits one\n"
        "logistic model per catalog coupon with at least N treated and N control rows."
    };
    uplift_args_t a;
    uplift_args_default(&a);
    cli_opt_t opts[] = {
        UPLIFT_COMMON_OPTS(&a),
        CLI_CALL("learner", "L", "auto (default: the one that earns more on held-out "
                 "customers), logistic or boosted", parse_learner, &a.learner),
        CLI_FLAG("per-coupon", "also one model per coupon with enough rows", &a.per_coupon),
        CLI_U32("min-rows", "N", "rows per arm a coupon needs (default 200; needs "
                "--per-coupon)", 1, MAX_MIN_ROWS, &a.min_rows),
        CLI_END,
    };
    uplift_log_t *logs = NULL;
    couponstore_uplift_key_t *keys = NULL;
    uplift_gbt_tl_t *boosted = NULL;
    uplift_learner_t learner = UPLIFT_LEARNER_LOGISTIC;
    uplift_model_t m;
    store_t *s = NULL;
    size_t n = 0;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (cli_opt_find(opts, "min-rows")->given && !a.per_coupon) {
        fprintf(stderr, "patron train-uplift: --min-rows needs --per-coupon\n");
        return CLI_USAGE;
    }
    if ((rc = load_logs(&a, &s, &logs, &keys, &n)) != 0)
        goto out;
    print_arms(stdout, logs, n, NULL);
    if ((rc = choose_learner(&a, logs, keys, n, &learner)) != 0)
        goto out;
    if ((rc = uplift_fit(logs, n, NULL, &m)) != 0) {
        cli_error(rc, "fitting the uplift model");
        goto out;
    }
    if (learner == UPLIFT_LEARNER_BOOSTED &&
        (!(boosted = malloc(sizeof *boosted)) ||
         (rc = uplift_gbt_tl_fit(logs, n, NULL, boosted)) != 0)) {
        cli_error(boosted ? rc : -ENOMEM, "fitting the boosted T-learner");
        rc = rc ? rc : -ENOMEM;
        goto out;
    }
    if ((rc = couponstore_put_learner(s, COUPONSTORE_DEFAULT_MODEL, &m, boosted)) != 0) {
        cli_error(rc, "storing the uplift model");
        goto out;
    }
    printf("uplift model \"%s\" stored (%s); coupons are decided by the %s\n",
           COUPONSTORE_DEFAULT_MODEL,
           n ? "fitted" : "no finished offers yet: stage priors only",
           uplift_learner_name(learner));
    if (a.per_coupon)
        rc = train_per_coupon(s, logs, keys, n, a.min_rows);
out:
    free(logs);
    free(keys);
    free(boosted);
    store_close(s);
    return rc ? 1 : 0;
}

/* ---- eval-uplift --------------------------------------------------------------------- */

static void print_policies(const uplift_args_t *a, const uplift_policy_eval_t *pe,
                           const char *rows_label)
{
    FILE *txt = a->txt;
    fprintf(txt, "%-20s %10s %10s\n", "policy", "AUUC", "Qini");
    for (int r = 0; r < UPLIFT_N_POLICIES; r++)
        fprintf(txt, "%-20s %10.4f %10.4f\n", uplift_policy_name(r), pe[r].auuc, pe[r].qini);
    for (size_t b = 0; b < a->n_budgets; b++) {
        fprintf(txt, "budget %.2f (%s):\n", a->budgets[b], rows_label);
        for (int r = 0; r < UPLIFT_N_POLICIES; r++) {
            const uplift_budget_eval_t *e = &pe[r].at_budget[b];
            fprintf(txt, "  %-20s k %8zu  spend %10.2f  incr. margin %10.2f  "
                    "incr. profit %10.2f  ROI %7.3f\n",
                   uplift_policy_name(r), e->k, e->spend, e->incr_margin, e->incr_profit,
                   e->roi);
        }
    }
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* Distinct customers on one side of the split; 0 if out of memory. */
static size_t side_customers(const couponstore_uplift_key_t *keys, const uint8_t *is_test,
                             size_t n, int test)
{
    uint64_t *k = malloc((n ? n : 1) * sizeof *k);
    size_t m = 0, distinct = 0;
    if (!k)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((is_test[i] != 0) == test)
            k[m++] = keys[i].customer;
    qsort(k, m, sizeof *k, cmp_u64);
    for (size_t i = 0; i < m; i++)
        distinct += i == 0 || k[i] != k[i - 1];
    free(k);
    return distinct;
}

static void print_split(FILE *txt, const uplift_log_t *logs,
                        const couponstore_uplift_key_t *keys, const uint8_t *is_test, size_t n,
                        double share)
{
    fprintf(txt, "out of sample: customers split by a hash of their id, test share %.2f\n", share);
    for (int test = 0; test <= 1; test++) {
        size_t rows = 0, nt = 0;
        for (size_t i = 0; i < n; i++) {
            if ((is_test[i] != 0) != test)
                continue;
            rows++;
            nt += logs[i].treated != 0;
        }
        fprintf(txt, "  %-5s split: %zu offers from %zu customers (treated %zu, control %zu)\n",
               test ? "test" : "train", rows, side_customers(keys, is_test, n, test), nt,
               rows - nt);
    }
}

/* --svg: the Qini curves of the n_test test rows under the model fitted on
 * the train rows. */
static int qini_svg(const uplift_args_t *a, const uplift_log_t *logs, const uint8_t *is_test,
                    size_t n, size_t n_test, const uplift_model_t *m)
{
    uplift_log_t *rows = malloc((n_test ? n_test : 1) * sizeof *rows);
    char title[160];
    size_t k = 0;
    int rc;

    if (!rows)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (is_test[i])
            rows[k++] = logs[i];
    snprintf(title, sizeof title, "Qini curves, test split (%zu offers, test share %.2f)",
             n_test, a->test_share);
    rc = cli_uplift_svg(a->svg, m, rows, k, title);
    free(rows);
    if (rc)
        cli_error(rc, "writing %s", a->svg);
    else
        fprintf(a->txt, "Qini curves written to %s\n", a->svg);
    return rc;
}

/* Fits on the train customers, evaluates on the test customers. */
static int eval_out_of_sample(const uplift_args_t *a, const uplift_log_t *logs,
                              const couponstore_uplift_key_t *keys, size_t n)
{
    uint8_t *is_test = malloc(n ? n : 1);
    uplift_split_eval_t *ev = malloc(sizeof *ev);
    size_t n_test = 0;
    int rc = is_test && ev ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++)
        n_test += is_test[i] = (uint8_t)uplift_in_test_split(keys[i].customer, a->test_share);
    if (rc == 0)
        print_split(a->txt, logs, keys, is_test, n, a->test_share);
    if (rc == 0 && (n_test == 0 || n_test == n)) {
        fprintf(stderr, "patron: the %s split is empty: too few customers for a test share "
                        "of %.2f (log more offers, or use --in-sample)\n",
                n_test ? "train" : "test", a->test_share);
        rc = -ENOENT;
        goto out;
    }
    if (rc == 0)
        rc = uplift_evaluate_split(logs, is_test, n, NULL, a->budgets, a->n_budgets, ev);
    if (rc) {
        cli_error(rc, "evaluating out of sample");
        goto out;
    }
    if (ev->test_treated == 0 || ev->test_control == 0)
        fprintf(a->txt, "note: the test split has no %s rows: Qini and incremental profit "
               "cannot be estimated from it\n", ev->test_treated ? "control" : "treated");
    fprintf(a->txt, "T-learner fitted on the train split (%zu offers), evaluated on the test "
            "split (%zu offers):\n", ev->n_train, ev->n_test);
    print_policies(a, ev->policy, "test split");
    if (a->out) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "test_share", json_object_new_double(a->test_share));
        json_object_object_add(o, "train_offers", json_object_new_int64((int64_t)ev->n_train));
        json_object_object_add(o, "test_offers", json_object_new_int64((int64_t)ev->n_test));
        json_object_object_add(o, "test_treated",
                               json_object_new_int64((int64_t)ev->test_treated));
        json_object_object_add(o, "test_control",
                               json_object_new_int64((int64_t)ev->test_control));
        json_object_object_add(o, "policies", cli_uplift_policies_json(ev->policy, a->budgets,
                                                                       a->n_budgets));
        json_object_object_add(a->out, "out_of_sample", o);
    }
    {
        cli_uplift_ope_args_t oa = { a->txt, a->out, a->ope_tops, a->n_ope_tops, a->ope_rows };
        rc = cli_uplift_ope(&oa, logs, keys, is_test, n, &ev->model);
    }
    if (rc == 0 && a->svg)
        rc = qini_svg(a, logs, is_test, n, n_test, &ev->model);
out:
    free(is_test);
    free(ev);
    return rc;
}

/* The stored default model scored on every row: optimistic. */
static int eval_in_sample(store_t *s, const uplift_args_t *a, const uplift_log_t *logs,
                          size_t n)
{
    uplift_policy_eval_t pe[UPLIFT_N_POLICIES];
    uplift_model_t m;
    int rc = couponstore_get_model(s, COUPONSTORE_DEFAULT_MODEL, &m);

    fprintf(a->txt, "IN SAMPLE (optimistic): the stored \"%s\" model scored on all %zu "
            "offers, which it was probably trained on:\n", COUPONSTORE_DEFAULT_MODEL, n);
    if (rc == -ENOENT) {
        fprintf(a->txt, "no stored uplift model (run patron train-uplift): stage priors\n");
        rc = uplift_model_init(&m, NULL);
    }
    if (rc == 0)
        rc = uplift_evaluate(&m, logs, n, a->budgets, a->n_budgets, pe);
    if (rc) {
        cli_error(rc, "evaluating in sample");
        return rc;
    }
    print_policies(a, pe, "in sample");
    if (a->out) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "offers", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "policies", cli_uplift_policies_json(pe, a->budgets,
                                                                       a->n_budgets));
        json_object_object_add(a->out, "in_sample", o);
    }
    return 0;
}

static int cmd_eval_uplift(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "eval-uplift", "--data DIR [--budgets B1,B2,...] [--test-share F] [--in-sample]\n"
                       "                          [--window-days D] [--as-of TIME] [--json] [--svg FILE]\n"
                       "                          [--ope-top P1,P2,...] [--ope-rows FILE]",
        "Fits on the customers outside a test share (by a hash of the id) and reports\n"
        "Qini / AUUC and profit per budget on the customers inside it, and each\n"
        "policy's incremental profit there estimated off-policy from the logged\n"
        "assignment probabilities (IPS and doubly robust, 95% CI)."
    };
    uplift_args_t a;
    uplift_args_default(&a);
    cli_opt_t opts[] = {
        UPLIFT_COMMON_OPTS(&a),
        CLI_CALL("budgets", "B1,B2,...", "coupon budgets to report", parse_budgets, &a),
        CLI_NUM("test-share", "F", "share of customers held out (default 0.3)", 1e-9,
                1 - 1e-9, &a.test_share),
        CLI_FLAG("in-sample", "add the stored model's optimistic in-sample figures",
                 &a.in_sample),
        CLI_FLAG("json", "the figures as one JSON object on stdout (the text goes to stderr)",
                 &a.json),
        CLI_STR("svg", "FILE", "write the test split's Qini curves (one line per policy) as SVG",
                0, &a.svg),
        CLI_CALL("ope-top", "P1,P2,...", "off-policy: the model's top P% of the test offers "
                 "(default 5,10,20,50)", parse_ope_tops, &a),
        CLI_STR("ope-rows", "FILE", "off-policy: write which test offers each policy targets "
                "(CSV)", 0, &a.ope_rows),
        CLI_END,
    };
    uplift_log_t *logs = NULL;
    couponstore_uplift_key_t *keys = NULL;
    store_t *s = NULL;
    size_t n = 0;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    a.txt = a.json ? stderr : stdout;
    if (a.json && !(a.out = json_object_new_object()))
        return CLI_FAIL;
    if ((rc = load_logs(&a, &s, &logs, &keys, &n)) != 0)
        goto out;
    print_arms(a.txt, logs, n, a.out);
    if (n == 0) {
        fprintf(stderr, "patron: no finished offers to evaluate\n");
        rc = -ENOENT;
        goto out;
    }
    rc = eval_out_of_sample(&a, logs, keys, n);
    if (a.in_sample) {
        int rc2 = eval_in_sample(s, &a, logs, n);
        rc = rc ? rc : rc2;
    }
    if (rc == 0 && a.out) {
        rc = cli_json_print(a.out);
        a.out = NULL;
    }
out:
    json_object_put(a.out);
    free(logs);
    free(keys);
    store_close(s);
    return rc ? 1 : 0;
}

static const cli_command_t commands[] = {
    { "train-uplift", "fit the coupon uplift model(s) on the offer log", cmd_train_uplift },
    { "eval-uplift", "judge the uplift model out of sample", cmd_eval_uplift },
};

const cli_family_t cli_coupons_family = { "coupons", commands,
                                          sizeof commands / sizeof commands[0] };
