/*
 * cli_coupons.c - `patron train-uplift` and `patron eval-uplift`: the uplift
 * model behind TargetCoupons, fitted and judged on Patron's own offer log.
 *
 * Both read the training rows couponstore_uplift_logs builds: every logged
 * decision joined with the customer's purchases in the attribution window
 * after it (treated = a coupon was granted; rows weigh 1 / assign_prob, so
 * exploration draws and the holdout make the comparison unbiased).
 * train-uplift fits the T-learner and stores it as the default model that
 * every coupon without its own model uses. eval-uplift ranks the same rows
 * three ways (stored model's uplift, purchase propensity, everyone in log
 * order) and prints Qini / AUUC and the incremental profit and ROI of each
 * ranking cut at each budget.
 */
#include "cli_coupons.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couponstore.h"
#include "store.h"
#include "uplift.h"

#define MS_PER_DAY 86400000LL
#define DEFAULT_WINDOW_DAYS 7.0
#define MAX_BUDGETS 16

typedef struct uplift_args {
    const char *data;
    double window_days;
    long long as_of;
    double budgets[MAX_BUDGETS];
    size_t n_budgets;
} uplift_args_t;

enum { O_DATA = 256, O_WINDOW, O_AS_OF, O_BUDGETS };

static const struct option uplift_opts[] = {
    { "data", required_argument, NULL, O_DATA },
    { "window-days", required_argument, NULL, O_WINDOW },
    { "as-of", required_argument, NULL, O_AS_OF },
    { "budgets", required_argument, NULL, O_BUDGETS },
    { NULL, 0, NULL, 0 },
};

static void uplift_usage(void)
{
    fputs("usage:\n"
          "  patron train-uplift --data DIR [--window-days D] [--as-of UNIX_MS]\n"
          "  patron eval-uplift --data DIR [--budgets B1,B2,...] [--window-days D]\n"
          "                     [--as-of UNIX_MS]\n",
          stderr);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_budgets(const char *s, uplift_args_t *a)
{
    const char *p = s;
    a->n_budgets = 0;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0 && v <= 1e12) || a->n_budgets == MAX_BUDGETS ||
            (*end && *end != ','))
            return -1;
        a->budgets[a->n_budgets++] = v;
        p = *end ? end + 1 : end;
    }
    return a->n_budgets ? 0 : -1;
}

/* Parses argv (argv[0] = the command); 0 or -1 with a message printed. */
static int parse_uplift_args(int argc, char **argv, uplift_args_t *a)
{
    int c;
    char *end;
    memset(a, 0, sizeof *a);
    a->window_days = DEFAULT_WINDOW_DAYS;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", uplift_opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: a->data = optarg; break;
        case O_WINDOW:
            a->window_days = strtod(optarg, &end);
            if (*end || !(a->window_days > 0 && a->window_days <= 365)) {
                fprintf(stderr, "patron: --window-days: expected 0..365, got \"%s\"\n", optarg);
                return -1;
            }
            break;
        case O_AS_OF:
            a->as_of = strtoll(optarg, &end, 10);
            if (*end || a->as_of <= 0) {
                fprintf(stderr, "patron: --as-of: expected unix milliseconds, got \"%s\"\n",
                        optarg);
                return -1;
            }
            break;
        case O_BUDGETS:
            if (parse_budgets(optarg, a) != 0) {
                fprintf(stderr, "patron: --budgets: expected positive numbers B1,B2,... "
                                "(at most %d), got \"%s\"\n", MAX_BUDGETS, optarg);
                return -1;
            }
            break;
        default: return -1;
        }
    }
    if (optind != argc || !a->data) {
        fprintf(stderr, "patron: %s\n", a->data ? "unexpected arguments" : "--data is required");
        return -1;
    }
    if (!a->as_of)
        a->as_of = now_ms();
    return 0;
}

/* Opens the store and joins the offer log with purchases. */
static int load_logs(const uplift_args_t *a, store_t **s, uplift_log_t **logs, size_t *n)
{
    int rc = store_open(a->data, 0, s);
    if (rc) {
        fprintf(stderr, "patron: opening %s: %s\n", a->data, strerror(-rc));
        return rc;
    }
    rc = couponstore_uplift_logs(*s, (int64_t)(a->window_days * MS_PER_DAY), a->as_of, logs, n);
    if (rc)
        fprintf(stderr, "patron: reading the offer log: %s\n", strerror(-rc));
    return rc;
}

static void print_arms(const uplift_log_t *logs, size_t n)
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
    printf("offers %zu: treated %zu (bought %.1f%%), control %zu (bought %.1f%%)\n", n, nt,
           nt ? 100.0 * (double)bt / (double)nt : 0.0, nc,
           nc ? 100.0 * (double)bc / (double)nc : 0.0);
}

int cli_train_uplift(int argc, char **argv)
{
    uplift_args_t a;
    uplift_log_t *logs = NULL;
    uplift_model_t m;
    store_t *s = NULL;
    size_t n = 0;
    int rc;

    if (parse_uplift_args(argc, argv, &a) != 0) {
        uplift_usage();
        return 2;
    }
    if ((rc = load_logs(&a, &s, &logs, &n)) != 0)
        goto out;
    print_arms(logs, n);
    if ((rc = uplift_fit(logs, n, NULL, &m)) != 0) {
        fprintf(stderr, "patron: fitting the uplift model: %s\n", strerror(-rc));
        goto out;
    }
    if ((rc = couponstore_put_model(s, COUPONSTORE_DEFAULT_MODEL, &m)) != 0) {
        fprintf(stderr, "patron: storing the uplift model: %s\n", strerror(-rc));
        goto out;
    }
    printf("uplift model \"%s\" stored (%s)\n", COUPONSTORE_DEFAULT_MODEL,
           n ? "fitted" : "no finished offers yet: stage priors only");
out:
    free(logs);
    store_close(s);
    return rc ? 1 : 0;
}

/* ---- eval-uplift --------------------------------------------------------------------- */

enum { RANK_UPLIFT, RANK_PROPENSITY, RANK_EVERYONE, N_RANKINGS };
static const char *const ranking_names[N_RANKINGS] = { "uplift model", "propensity",
                                                       "coupon to everyone" };

/* Scores of every row under each ranking. */
static int score_rows(const uplift_model_t *m, const uplift_log_t *logs, size_t n,
                      double *score[N_RANKINGS])
{
    for (size_t i = 0; i < n; i++) {
        uplift_pred_t p;
        int rc = uplift_predict(m, &logs[i].x, &p);
        if (rc)
            return rc;
        score[RANK_UPLIFT][i] = p.uplift;
        score[RANK_PROPENSITY][i] = p.p_response;
        score[RANK_EVERYONE][i] = 0.0; /* ties: log order */
    }
    return 0;
}

static int print_eval(const uplift_args_t *a, const uplift_log_t *logs, size_t n,
                      double *score[N_RANKINGS])
{
    uint8_t *treated = malloc(n);
    double *bought = malloc(n * sizeof *bought);
    int rc = treated && bought ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        treated[i] = logs[i].treated;
        bought[i] = logs[i].bought;
    }
    printf("%-20s %10s %10s\n", "ranking", "AUUC", "Qini");
    for (int r = 0; rc == 0 && r < N_RANKINGS; r++) {
        double auuc, qini;
        if ((rc = uplift_qini(score[r], treated, bought, n, NULL, &auuc, &qini)) == 0)
            printf("%-20s %10.4f %10.4f\n", ranking_names[r], auuc, qini);
    }
    for (size_t b = 0; rc == 0 && b < a->n_budgets; b++) {
        printf("budget %.2f:\n", a->budgets[b]);
        for (int r = 0; rc == 0 && r < N_RANKINGS; r++) {
            uplift_budget_eval_t e;
            if ((rc = uplift_eval_budget(score[r], logs, n, a->budgets[b], &e)) == 0)
                printf("  %-20s k %8zu  spend %10.2f  incr. margin %10.2f  "
                       "incr. profit %10.2f  ROI %7.3f\n",
                       ranking_names[r], e.k, e.spend, e.incr_margin, e.incr_profit, e.roi);
        }
    }
    free(treated);
    free(bought);
    return rc;
}

int cli_eval_uplift(int argc, char **argv)
{
    uplift_args_t a;
    uplift_log_t *logs = NULL;
    uplift_model_t m;
    double *score[N_RANKINGS] = { NULL };
    store_t *s = NULL;
    size_t n = 0;
    int rc;

    if (parse_uplift_args(argc, argv, &a) != 0) {
        uplift_usage();
        return 2;
    }
    if ((rc = load_logs(&a, &s, &logs, &n)) != 0)
        goto out;
    print_arms(logs, n);
    if (n == 0) {
        fprintf(stderr, "patron: no finished offers to evaluate\n");
        rc = -ENOENT;
        goto out;
    }
    rc = couponstore_get_model(s, COUPONSTORE_DEFAULT_MODEL, &m);
    if (rc == -ENOENT) {
        printf("no stored uplift model (run patron train-uplift): stage priors\n");
        rc = uplift_model_init(&m, NULL);
    }
    for (int r = 0; rc == 0 && r < N_RANKINGS; r++)
        if (!(score[r] = malloc(n * sizeof *score[r])))
            rc = -ENOMEM;
    if (rc == 0)
        rc = score_rows(&m, logs, n, score);
    if (rc == 0)
        rc = print_eval(&a, logs, n, score);
    if (rc)
        fprintf(stderr, "patron: evaluating: %s\n", strerror(-rc));
out:
    for (int r = 0; r < N_RANKINGS; r++)
        free(score[r]);
    free(logs);
    store_close(s);
    return rc ? 1 : 0;
}
