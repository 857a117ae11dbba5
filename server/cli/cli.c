/*
 * cli.c - `patron`, the operator's command line.
 *
 *   patron import --data DIR [--items F] [--events F] [--format patron|online-retail]
 *   patron train  --data DIR [--factors N] [--iterations N] [--reg X] [--alpha X]
 *                 [--alpha0 X] [--nu X] [--solver exact|cg] [--cg-steps N]
 *                 [--threads N] [--seed N] [--half-life-days X]
 *   patron recommend --addr HOST:PORT --user ID [-k N] [--include-purchased]
 *   patron health --addr HOST:PORT [--service NAME]
 *   patron model-info --addr HOST:PORT
 *   patron eval --ncf DIR/NAME [--validation] [--ensemble N] [--ease-lambda X]
 *               [--blend W] [--pop-exp G] [--conf-pop-exp B] [training flags]
 *   patron eval --data DIR [--holdout-last N | --holdout-days D] [--ensemble N]
 *               [training flags]   (full-ranking time split of the store)
 *   patron export-ncf --data DIR --out DIR/NAME [--seed N]
 *   patron tune --ncf DIR/NAME [--trials N] [--seconds S] [training flags]
 *   patron profile --addr HOST:PORT --user ID [--as-of MS]
 *   patron audience --addr HOST:PORT [--expr EXPR] [--limit N] [--as-of MS]  (CSV)
 *   patron segments --data DIR [--as-of MS]   (RFM segment and lifecycle sizes)
 *   patron compact --data DIR --older-than-days D   (aggregate old views)
 *
 * Exit status: 0 success, 1 failure (storage, RPC error, not serving),
 * 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_coupons.h"
#include "cli_experiments.h"
#include "client.h"
#include "status_names.h"
#include "wallclock.h"
#include "customers.h"
#include "couponstore.h"
#include "ease.h"
#include "expstore.h"
#include "ensemble.h"
#include "evaluate.h"
#include "grpc/health/v1/health.pb-c.h"
#include "importer.h"
#include "ncf.h"
#include "profile_file.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "store.h"
#include "train.h"
#include "tune.h"

#define RPC_TIMEOUT_MS 5000

/* ---- argument parsing --------------------------------------------------------- */

typedef struct args {
    const char *data, *items, *events, *format, *addr, *user, *service, *ncf;
    long k;
    int include_purchased, validation;
    uint32_t members;     /* eval: seed-ensemble size */
    float ease_lambda;    /* eval --ncf: EASE's lambda */
    float blend;          /* eval --ncf: iALS weight in the EASE blend (1: iALS) */
    float conf_pop_exp;   /* eval --ncf: r_ui scaled by (n_i / mean)^-this */
    float diversity;      /* recommend: RecommendRequest.diversity */
    uint32_t max_per_category;
    uint32_t holdout_last; /* eval --data: last N purchases held out */
    double holdout_days;   /* eval --data: or the last D days */
    const char *out;       /* export-ncf: output prefix */
    train_config_t train;
    tune_config_t tune;
    const char *expr, *profiles;
    long long limit, as_of;
    double older_than_days;
    double offers_older_than_days; /* compact: coupon offer log retention */
    double exposure_ids_older_than_days; /* compact: experiment request ids */
} args_t;

enum { O_DATA = 256, O_ITEMS, O_EVENTS, O_FORMAT, O_ADDR, O_USER, O_SERVICE,
       O_FACTORS, O_ITERS, O_REG, O_ALPHA, O_THREADS, O_SEED, O_HALFLIFE,
       O_INCLUDE, O_NCF, O_VALIDATION, O_ALPHA0, O_NU, O_SOLVER, O_CG_STEPS,
       O_TRIALS, O_SECONDS, O_EXPR, O_LIMIT, O_AS_OF, O_ENSEMBLE,
       O_HOLDOUT_LAST, O_HOLDOUT_DAYS, O_OUT, O_OLDER,
       O_EASE_LAMBDA, O_BLEND , O_PROFILES, O_POP_EXP,
       O_CONF_POP_EXP, O_DIVERSITY, O_MAX_PER_CAT, O_OFFERS_OLDER,
       O_EXPOSURE_IDS_OLDER };

static const struct option longopts[] = {
    { "data", required_argument, NULL, O_DATA },
    { "items", required_argument, NULL, O_ITEMS },
    { "events", required_argument, NULL, O_EVENTS },
    { "format", required_argument, NULL, O_FORMAT },
    { "addr", required_argument, NULL, O_ADDR },
    { "user", required_argument, NULL, O_USER },
    { "service", required_argument, NULL, O_SERVICE },
    { "factors", required_argument, NULL, O_FACTORS },
    { "iterations", required_argument, NULL, O_ITERS },
    { "reg", required_argument, NULL, O_REG },
    { "alpha", required_argument, NULL, O_ALPHA },
    { "threads", required_argument, NULL, O_THREADS },
    { "seed", required_argument, NULL, O_SEED },
    { "half-life-days", required_argument, NULL, O_HALFLIFE },
    { "include-purchased", no_argument, NULL, O_INCLUDE },
    { "ncf", required_argument, NULL, O_NCF },
    { "validation", no_argument, NULL, O_VALIDATION },
    { "alpha0", required_argument, NULL, O_ALPHA0 },
    { "nu", required_argument, NULL, O_NU },
    { "solver", required_argument, NULL, O_SOLVER },
    { "cg-steps", required_argument, NULL, O_CG_STEPS },
    { "trials", required_argument, NULL, O_TRIALS },
    { "seconds", required_argument, NULL, O_SECONDS },
    { "expr", required_argument, NULL, O_EXPR },
    { "limit", required_argument, NULL, O_LIMIT },
    { "as-of", required_argument, NULL, O_AS_OF },
    { "older-than-days", required_argument, NULL, O_OLDER },
    { "offers-older-than-days", required_argument, NULL, O_OFFERS_OLDER },
    { "exposure-ids-older-than-days", required_argument, NULL, O_EXPOSURE_IDS_OLDER },
    { "profiles", required_argument, NULL, O_PROFILES },
    { "ensemble", required_argument, NULL, O_ENSEMBLE },
    { "holdout-last", required_argument, NULL, O_HOLDOUT_LAST },
    { "holdout-days", required_argument, NULL, O_HOLDOUT_DAYS },
    { "out", required_argument, NULL, O_OUT },
    { "ease-lambda", required_argument, NULL, O_EASE_LAMBDA },
    { "blend", required_argument, NULL, O_BLEND },
    { "pop-exp", required_argument, NULL, O_POP_EXP },
    { "conf-pop-exp", required_argument, NULL, O_CONF_POP_EXP },
    { "diversity", required_argument, NULL, O_DIVERSITY },
    { "max-per-category", required_argument, NULL, O_MAX_PER_CAT },
    { NULL, 0, NULL, 0 },
};

static void usage(void)
{
    fputs("usage:\n"
          "  patron import --data DIR [--items F] [--events F] [--format patron|online-retail]\n"
          "  patron train --data DIR [--factors N] [--iterations N] [--reg X] [--alpha X]\n"
          "               [--alpha0 X] [--nu X] [--solver exact|cg] [--cg-steps N]\n"
          "               [--threads N] [--seed N] [--half-life-days X]\n"
          "  patron recommend --addr HOST:PORT --user ID [-k N] [--include-purchased]\n"
          "                   [--diversity X] [--max-per-category N]\n"
          "  patron health --addr HOST:PORT [--service NAME]\n"
          "  patron model-info --addr HOST:PORT\n"
          "  patron stats --addr HOST:PORT   (calls, errors, latency per method)\n"
          "  patron eval --ncf DIR/NAME [--validation] [--ensemble N] [--ease-lambda X]\n"
          "              [--blend W] [--pop-exp G] [--conf-pop-exp B]\n"
          "              [training flags as for train]\n"
          "  patron eval --data DIR [--holdout-last N | --holdout-days D] [--ensemble N]\n"
          "              [training flags as for train]\n"
          "  patron export-ncf --data DIR --out DIR/NAME [--seed N]\n"
          "  patron tune --ncf DIR/NAME [--trials N] [--seconds S] [training flags]\n"
          "  patron profile --addr HOST:PORT --user ID [--as-of UNIX_MS]\n"
          "  patron audience --addr HOST:PORT [--expr EXPR] [--limit N] [--as-of UNIX_MS]\n"
          "  patron segments --data DIR [--as-of UNIX_MS] [--profiles FILE]\n"
          "  patron compact --data DIR [--older-than-days D] [--offers-older-than-days D]\n"
          "                 [--exposure-ids-older-than-days D]\n"
          "  patron vacuum --data DIR   (offline: rewrites the file without freed pages)\n"
          "  patron experiment create|update|list|report|assign ... (patron experiment --help)\n"
          "  patron simulate-experiment --data DIR [--days N] [--customers N]\n"
          "  patron train-uplift --data DIR [--window-days D] [--as-of UNIX_MS]\n"
          "  patron eval-uplift --data DIR [--budgets B1,B2,...] [--window-days D] [--as-of UNIX_MS]\n",
          stderr);
}

static int num(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "patron: --%s: expected a number in %g..%g, got \"%s\"\n",
                name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Whether argv holds flag (as "--flag" or "--flag=value"). */
static int has_flag(int argc, char **argv, const char *flag)
{
    size_t n = strlen(flag);
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], flag, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
            return 1;
    return 0;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    double v;
    int c;

    memset(a, 0, sizeof *a);
    a->k = 10;
    train_config_default(&a->train);
    tune_config_default(&a->tune);
    a->members = 1;
    a->blend = 1.0f;
    /* The tuned settings are for NCF-format data; evaluating a store
     * assesses what `patron train` would train there. */
    if ((strcmp(argv[1], "eval") == 0 && !has_flag(argc, argv, "--data")) ||
        strcmp(argv[1], "tune") == 0) {
        a->train.als = a->tune.base; /* start from the tuned settings */
        a->members = tune_ncf_default_members();
        a->ease_lambda = tune_ncf_default_ease_lambda();
        a->blend = tune_ncf_default_blend();
        a->conf_pop_exp = tune_ncf_default_conf_pop_exp();
    }
    optind = 2; /* after the subcommand */
    while ((c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
        switch (c) {
        case O_DATA: a->data = optarg; break;
        case O_ITEMS: a->items = optarg; break;
        case O_EVENTS: a->events = optarg; break;
        case O_FORMAT: a->format = optarg; break;
        case O_ADDR: a->addr = optarg; break;
        case O_USER: a->user = optarg; break;
        case O_SERVICE: a->service = optarg; break;
        case O_INCLUDE: a->include_purchased = 1; break;
        case O_NCF: a->ncf = optarg; break;
        case O_VALIDATION: a->validation = 1; break;
        case 'k':
            if (num("k", optarg, 1, 1000, &v)) return -1;
            a->k = (long)v;
            break;
        case O_FACTORS:
            if (num("factors", optarg, 1, 1024, &v)) return -1;
            a->train.als.factors = (uint32_t)v;
            break;
        case O_ITERS:
            if (num("iterations", optarg, 1, 1000, &v)) return -1;
            a->train.als.iterations = (uint32_t)v;
            break;
        case O_REG:
            if (num("reg", optarg, 0, 1e6, &v)) return -1;
            a->train.als.reg = (float)v;
            break;
        case O_ALPHA:
            if (num("alpha", optarg, 0, 1e6, &v)) return -1;
            a->train.als.alpha = (float)v;
            break;
        case O_THREADS:
            if (num("threads", optarg, 1, 256, &v)) return -1;
            a->train.als.threads = (uint32_t)v;
            break;
        case O_SEED:
            if (num("seed", optarg, 0, 1e18, &v)) return -1;
            a->train.als.seed = (uint64_t)v;
            break;
        case O_ALPHA0:
            if (num("alpha0", optarg, 0, 1e6, &v)) return -1;
            a->train.als.alpha0 = (float)v;
            break;
        case O_NU:
            if (num("nu", optarg, 0, 4, &v)) return -1;
            a->train.als.nu = (float)v;
            break;
        case O_SOLVER:
            if (ials_solver_parse(optarg, &a->train.als.solver) != 0) {
                fprintf(stderr, "patron: --solver must be exact or cg\n");
                return -1;
            }
            break;
        case O_CG_STEPS:
            if (num("cg-steps", optarg, 1, 1000, &v)) return -1;
            a->train.als.cg_steps = (uint32_t)v;
            break;
        case O_TRIALS:
            if (num("trials", optarg, 1, 100000, &v)) return -1;
            a->tune.trials = (uint32_t)v;
            break;
        case O_EXPR: a->expr = optarg; break;
        case O_PROFILES: a->profiles = optarg; break;
        case O_OLDER:
            if (num("older-than-days", optarg, 0, 36500, &v)) return -1;
            a->older_than_days = v;
            break;
        case O_EXPOSURE_IDS_OLDER:
            if (num("exposure-ids-older-than-days", optarg, 1e-6, 1e6, &v)) return -1;
            a->exposure_ids_older_than_days = v;
            break;
        case O_OFFERS_OLDER:
            if (num("offers-older-than-days", optarg, 1e-6, 1e6, &v)) return -1;
            a->offers_older_than_days = v;
            break;
        case O_LIMIT:
            if (num("limit", optarg, 0, 1e15, &v)) return -1;
            a->limit = (long long)v;
            break;
        case O_AS_OF:
            if (num("as-of", optarg, 0, 1e16, &v)) return -1;
            a->as_of = (long long)v;
            break;
        case O_SECONDS:
            if (num("seconds", optarg, 0, 1e7, &v)) return -1;
            a->tune.seconds = v;
            break;
        case O_ENSEMBLE:
            if (num("ensemble", optarg, 1, ENSEMBLE_MAX_MEMBERS, &v)) return -1;
            a->members = (uint32_t)v;
            break;
        case O_HOLDOUT_LAST:
            if (num("holdout-last", optarg, 1, 1e6, &v)) return -1;
            a->holdout_last = (uint32_t)v;
            break;
        case O_HOLDOUT_DAYS:
            if (num("holdout-days", optarg, 1e-6, 1e6, &v)) return -1;
            a->holdout_days = v;
            break;
        case O_OUT: a->out = optarg; break;
        case O_EASE_LAMBDA:
            if (num("ease-lambda", optarg, 1e-6, 1e9, &v)) return -1;
            a->ease_lambda = (float)v;
            break;
        case O_BLEND:
            if (num("blend", optarg, 0, 1, &v)) return -1;
            a->blend = (float)v;
            break;
        case O_POP_EXP:
            if (num("pop-exp", optarg, 0, 4, &v)) return -1;
            a->train.als.pop_exp = (float)v;
            break;
        case O_CONF_POP_EXP:
            if (num("conf-pop-exp", optarg, 0, 4, &v)) return -1;
            a->conf_pop_exp = (float)v;
            break;
        case O_DIVERSITY:
            if (num("diversity", optarg, 0, 1, &v)) return -1;
            a->diversity = (float)v;
            break;
        case O_MAX_PER_CAT:
            if (num("max-per-category", optarg, 0, 1000, &v)) return -1;
            a->max_per_category = (uint32_t)v;
            break;
        case O_HALFLIFE:
            if (num("half-life-days", optarg, 0, 1e6, &v)) return -1;
            a->train.half_life_days = (float)v;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "patron: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int need(const char *value, const char *flag)
{
    if (value)
        return 0;
    fprintf(stderr, "patron: %s is required\n", flag);
    return -1;
}

/* ---- import / train -------------------------------------------------------------- */

static void print_problem(void *ctx, uint64_t line, const char *msg)
{
    fprintf(stderr, "%s:%llu: %s\n", (const char *)ctx, (unsigned long long)line, msg);
}

static int cmd_import(const args_t *a)
{
    import_report_t rep = { 0 };
    import_format_t fmt = IMPORT_PATRON;
    store_t *s;
    int rc = 0;

    if (need(a->data, "--data"))
        return 2;
    if (!a->items && !a->events) {
        fprintf(stderr, "patron: import needs --items and/or --events\n");
        return 2;
    }
    if (a->format && strcmp(a->format, "online-retail") == 0)
        fmt = IMPORT_ONLINE_RETAIL;
    else if (a->format && strcmp(a->format, "patron") != 0) {
        fprintf(stderr, "patron: --format must be patron or online-retail\n");
        return 2;
    }
    if ((rc = store_open(a->data, 0, &s)) != 0) {
        fprintf(stderr, "patron: cannot open %s: %s\n", a->data, strerror(-rc));
        return 1;
    }
    if (a->items)
        rc = import_items_csv(s, a->items, &rep, print_problem, (void *)a->items);
    if (rc == 0 && a->events)
        rc = import_events_csv(s, a->events, fmt, &rep, print_problem,
                               (void *)a->events);
    store_close(s);
    printf("rows %llu: items inserted %llu, updated %llu; events accepted %llu, "
           "duplicate %llu, rejected %llu; malformed rows %llu, rows without "
           "customer %llu, cancellations %llu\n",
           (unsigned long long)rep.rows, (unsigned long long)rep.items_inserted,
           (unsigned long long)rep.items_updated,
           (unsigned long long)rep.events_accepted,
           (unsigned long long)rep.events_duplicate,
           (unsigned long long)rep.events_rejected,
           (unsigned long long)rep.malformed,
           (unsigned long long)rep.missing_customer,
           (unsigned long long)rep.cancellations);
    if (rc) {
        fprintf(stderr, "patron: import failed: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

static int print_progress(void *ctx, uint32_t iteration, double loss)
{
    printf("iteration %3u  loss %.6g\n", iteration, loss);
    fflush(stdout);
    return 0;
}

/* The profile settings: --profiles FILE, else the built-in defaults.
 * Prints the problem and returns nonzero when the file is bad. */
static int load_profile_config(const args_t *a, profile_config_t *pc)
{
    char err[512];
    if (!a->profiles) {
        profile_config_default(pc);
        return 0;
    }
    if (profile_config_load(a->profiles, pc, err, sizeof err) != 0) {
        fprintf(stderr, "patron: %s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_train(const args_t *a)
{
    train_report_t rep;
    store_t *s;
    int rc;

    if (need(a->data, "--data"))
        return 2;
    if (a->train.als.pop_exp != 0 || a->conf_pop_exp != 0) {
        /* Serving folds new events in with one uniform unobserved weight
         * (foldin.c); a model trained with per-item weights would disagree. */
        fprintf(stderr, "patron: --pop-exp and --conf-pop-exp are for patron eval only\n");
        return 2;
    }
    if ((rc = store_open(a->data, 0, &s)) != 0) {
        fprintf(stderr, "patron: cannot open %s: %s\n", a->data, strerror(-rc));
        return 1;
    }
    rc = train_run(s, &a->train, print_progress, NULL, &rep);
    if (rc == 0) {
        /* Profiles score RFM against cut-points of the whole population,
         * recomputed with every training run. */
        profile_config_t pc;
        rfm_cutpoints_t cut;
        if (load_profile_config(a, &pc) != 0 ||
            customers_rfm_job(s, &pc, wall_ms(), &cut) != 0)
            fprintf(stderr, "patron: warning: RFM cut-points not updated\n");
    }
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: no events to train on: import some first\n");
        return 1;
    }
    if (rc) {
        fprintf(stderr, "patron: training failed: %s\n", strerror(-rc));
        return 1;
    }
    printf("published model version %llu: %u customers x %u items, %llu events, "
           "%llu pairs, %u factors, %.2f s training\n",
           (unsigned long long)rep.hdr.version, rep.hdr.n_users, rep.hdr.n_items,
           (unsigned long long)rep.events, (unsigned long long)rep.nnz,
           rep.hdr.factors, rep.seconds);
    return 0;
}

/* ---- offline evaluation -------------------------------------------------------- */

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Trains on NAME.train.rating (or, with --validation, on it minus each
 * user's latest interaction) and reports HR@10/NDCG@10 on the candidates. */
/* Fits EASE for the --blend of `eval --ncf`; *B is the caller's to free. */
static int eval_ncf_ease(const args_t *a, const ncf_data_t *d, float **B, double *secs)
{
    size_t n = d->n_items;
    double t0;
    int rc;

    if ((*B = malloc(n * n * sizeof **B + 1)) == NULL)
        return -ENOMEM;
    t0 = seconds_now();
    rc = ease_fit(&d->train, a->ease_lambda, *B);
    *secs = seconds_now() - t0;
    if (rc == 0)
        printf("ease: lambda %g, %zu x %zu item matrix (%.0f MB): fit %.2f s\n",
               a->ease_lambda, n, n, (double)(n * n * sizeof **B) / 1e6, *secs);
    return rc;
}

static int cmd_eval_ncf(const args_t *a)
{
    ncf_data_t full, val, *d = &full;
    ncf_metrics_t pop_m, m;
    ncf_factors_t fac;
    ease_blend_t blend;
    float *pop, *uf = NULL, *itf = NULL, *B = NULL;
    char err[512];
    double t0, secs = 0, ease_secs = 0;
    uint32_t width;
    int rc = 0;

    if (need(a->ncf, "--ncf"))
        return 2;
    if ((rc = ncf_load(a->ncf, &full, err, sizeof err)) != 0) {
        fprintf(stderr, "patron: %s\n", err);
        return 1;
    }
    if (a->validation) {
        if (ncf_validation_split(&full, a->train.als.seed, &val) != 0) {
            ncf_free(&full);
            fprintf(stderr, "patron: out of memory\n");
            return 1;
        }
        ncf_free(&full);
        d = &val;
    }
    printf("%s%s: %u users, %u items, %llu training pairs, %u negatives per user\n",
           a->ncf, a->validation ? " (validation split of the training file)" : "",
           d->n_users, d->n_items, (unsigned long long)d->train.indptr[d->n_users],
           d->n_neg);
    if ((rc = ials_csr_popularity_scale(&d->train, a->conf_pop_exp)) != 0)
        goto out;
    if ((pop = ncf_popularity(d)) != NULL) {
        ncf_evaluate(d, ncf_score_popularity, pop, 10, &pop_m);
        printf("popularity baseline: HR@10 %.4f NDCG@10 %.4f\n", pop_m.hr, pop_m.ndcg);
        free(pop);
    }
    width = a->members * a->train.als.factors;
    fac = (ncf_factors_t){ NULL, NULL, width };
    if (a->blend > 0) { /* --blend 0 is EASE alone: no factors to train */
        uf = malloc((size_t)d->n_users * width * sizeof *uf);
        itf = malloc((size_t)d->n_items * width * sizeof *itf);
        if (!uf || !itf) {
            rc = -ENOMEM;
            goto out;
        }
        t0 = seconds_now();
        rc = ensemble_train(&d->train, &a->train.als, a->members, uf, itf, NULL, NULL);
        secs = seconds_now() - t0;
        if (rc)
            goto out;
        fac = (ncf_factors_t){ uf, itf, width };
        ncf_evaluate(d, ncf_score_factors, &fac, 10, &m);
        printf("ials: factors %u, iterations %u, reg %g, alpha %g, alpha0 %g, nu %g, "
               "pop-exp %g, conf-pop-exp %g, solver %s, cg-steps %u, threads %u, "
               "ensemble %u: training %.2f s, %u users evaluated\n",
               a->train.als.factors, a->train.als.iterations, a->train.als.reg,
               a->train.als.alpha, a->train.als.alpha0, a->train.als.nu,
               a->train.als.pop_exp, a->conf_pop_exp,
               ials_solver_name(a->train.als.solver), a->train.als.cg_steps,
               a->train.als.threads, a->members, secs, m.users);
    }
    if (a->blend < 1) {
        if (a->blend > 0)
            printf("ials alone: HR@10 %.4f NDCG@10 %.4f\n", m.hr, m.ndcg);
        if ((rc = eval_ncf_ease(a, d, &B, &ease_secs)) != 0)
            goto out;
        blend = (ease_blend_t){ &d->train, B, uf, itf, width, a->blend };
        ncf_evaluate(d, ease_score_blend, &blend, 10, &m);
        printf("blend: weight %g on iALS, %g on EASE (per-user standardized scores): "
               "training %.2f s in all, %u users evaluated\n",
               a->blend, 1 - a->blend, secs + ease_secs, m.users);
    }
    printf("HR@10 %.4f NDCG@10 %.4f\n", m.hr, m.ndcg);
out:
    if (rc)
        fprintf(stderr, "patron: evaluation failed: %s\n", strerror(-rc));
    free(uf);
    free(itf);
    free(B);
    ncf_free(d);
    return rc ? 1 : 0;
}

/* Cut-off of the time-split report. */
#define EVAL_TOPN 20u

static void print_ranking(const char *who, const eval_metrics_t *m)
{
    printf("%s: Recall@%u %.4f NDCG@%u %.4f coverage %.4f\n", who, EVAL_TOPN,
           m->recall, EVAL_TOPN, m->ndcg, m->coverage);
}

/* Trains the split's matrix and ranks every item for each evaluated
 * customer; prints the settings, training time and metrics. */
static int eval_store_ials(const args_t *a, const eval_split_t *sp)
{
    const ials_params_t *p = &a->train.als;
    uint32_t width = a->members * p->factors;
    float *uf = malloc((size_t)sp->n_users * width * sizeof *uf + 1);
    float *itf = malloc((size_t)sp->n_items * width * sizeof *itf + 1);
    eval_metrics_t m;
    double t0, secs = 0.0;
    int rc = (uf && itf) ? 0 : -ENOMEM;

    t0 = seconds_now();
    if (rc == 0)
        rc = ensemble_train(&sp->train, p, a->members, uf, itf, NULL, NULL);
    secs = seconds_now() - t0;
    if (rc == 0) {
        eval_factors_t fac = { uf, itf, sp->n_items, width };
        rc = eval_rank(sp, EVAL_TOPN, eval_score_factors, &fac, &m);
    }
    if (rc == 0) {
        printf("ials: factors %u, iterations %u, reg %g, alpha %g, alpha0 %g, "
               "nu %g, solver %s, threads %u, ensemble %u: training %.2f s\n",
               p->factors, p->iterations, p->reg, p->alpha, p->alpha0, p->nu,
               ials_solver_name(p->solver), p->threads, a->members, secs);
        print_ranking("ials", &m);
    }
    free(uf);
    free(itf);
    return rc;
}

/* Full-ranking time split of the store's own data, beside popularity. */
static int cmd_eval_store(const args_t *a)
{
    eval_holdout_t h = { a->holdout_last, a->holdout_days };
    eval_split_t sp;
    eval_metrics_t m;
    store_t *s;
    float *pop;
    int rc;

    if (h.last_n && h.days > 0) {
        fprintf(stderr, "patron: give --holdout-last or --holdout-days, not both\n");
        return 2;
    }
    if (!h.last_n && !(h.days > 0))
        h.last_n = 1;
    if ((rc = store_open(a->data, 0, &s)) != 0) {
        fprintf(stderr, "patron: cannot open %s: %s\n", a->data, strerror(-rc));
        return 1;
    }
    rc = eval_split_make(s, &a->train, &h, &sp);
    store_close(s);
    if (rc) {
        fprintf(stderr, "patron: cannot build the split: %s\n",
                rc == -ENOENT ? "no customer has both training data and a new "
                                "held-out purchase" : strerror(-rc));
        return 1;
    }
    if (h.last_n)
        printf("%s: each customer's last %u purchase(s) held out", a->data, h.last_n);
    else
        printf("%s: purchases in the last %g days held out", a->data, h.days);
    printf("; %u customers evaluated, %u items, %llu training events, %llu "
           "held-out purchases\n", sp.n_eval, sp.n_items,
           (unsigned long long)sp.train_events,
           (unsigned long long)sp.held_purchases);
    if ((pop = malloc((size_t)sp.n_items * sizeof *pop + 1)) == NULL) {
        rc = -ENOMEM;
    } else {
        eval_popularity_t ps = { pop, sp.n_items };
        train_popularity(&sp.train, a->train.w_purchase, pop);
        if ((rc = eval_rank(&sp, EVAL_TOPN, eval_score_popularity, &ps, &m)) == 0)
            print_ranking("popularity baseline", &m);
        free(pop);
    }
    if (rc == 0)
        rc = eval_store_ials(a, &sp);
    eval_split_free(&sp);
    if (rc) {
        fprintf(stderr, "patron: evaluation failed: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

static int cmd_eval(const args_t *a)
{
    if (a->data && a->ncf) {
        fprintf(stderr, "patron: eval takes --ncf or --data, not both\n");
        return 2;
    }
    return a->data ? cmd_eval_store(a) : cmd_eval_ncf(a);
}

/* Writes the store's data as an NCF leave-latest-out split. */
static int cmd_export_ncf(const args_t *a)
{
    eval_export_report_t rep;
    char err[1024];
    store_t *s;
    int rc;

    if (need(a->data, "--data") || need(a->out, "--out"))
        return 2;
    if ((rc = store_open(a->data, 0, &s)) != 0) {
        fprintf(stderr, "patron: cannot open %s: %s\n", a->data, strerror(-rc));
        return 1;
    }
    rc = eval_export_ncf(s, &a->train, a->out, 99, a->train.als.seed, &rep,
                         err, sizeof err);
    store_close(s);
    if (rc) {
        fprintf(stderr, "patron: export failed: %s\n",
                err[0] ? err : rc == -ENOENT ? "no customer with a purchase "
                                               "and earlier events"
                                             : strerror(-rc));
        return 1;
    }
    printf("wrote %s.{train.rating,test.rating,test.negative}: %u customers, "
           "%u items, %llu training pairs, 99 negatives each\n", a->out,
           rep.users, rep.items, (unsigned long long)rep.train_pairs);
    return 0;
}

/* Prints one line per settings: the trial's, or the best's. */
static void print_trial(const char *tag, const tune_trial_t *t)
{
    const ials_params_t *p = &t->params;
    printf("%s %3u: factors %u, alpha %g, alpha0 %g, reg %.4g, nu %g: "
           "HR@10 %.4f NDCG@10 %.4f (%.2f s)\n",
           tag, t->index, p->factors, p->alpha, p->alpha0, p->reg, p->nu, t->hr,
           t->ndcg, t->seconds);
    fflush(stdout);
}

static int on_trial(void *ctx, const tune_trial_t *t, const tune_trial_t *best)
{
    (void)ctx;
    (void)best;
    print_trial("trial", t);
    return 0;
}

/* Searches settings on a validation split of NAME.train.rating only. */
static int cmd_tune(const args_t *a)
{
    ncf_data_t full, val;
    tune_config_t c = a->tune;
    tune_trial_t best;
    char err[512];
    int rc;

    if (need(a->ncf, "--ncf"))
        return 2;
    if ((rc = ncf_load(a->ncf, &full, err, sizeof err)) != 0) {
        fprintf(stderr, "patron: %s\n", err);
        return 1;
    }
    rc = ncf_validation_split(&full, a->train.als.seed, &val);
    ncf_free(&full);
    if (rc) {
        fprintf(stderr, "patron: out of memory\n");
        return 1;
    }
    c.base = a->train.als;
    printf("%s: validation split of the training file, %u users; up to %u "
           "trials, %g s; iterations %u, solver %s, threads %u\n",
           a->ncf, val.n_users, c.trials, c.seconds, c.base.iterations,
           ials_solver_name(c.base.solver), c.base.threads);
    rc = tune_ncf(&val, &c, on_trial, NULL, &best);
    ncf_free(&val);
    if (rc) {
        fprintf(stderr, "patron: tuning failed: %s\n", strerror(-rc));
        return 1;
    }
    print_trial("best", &best);
    printf("flags: --factors %u --alpha %g --alpha0 %g --reg %.4g --nu %g "
           "--iterations %u --solver %s\n", best.params.factors,
           best.params.alpha, best.params.alpha0, best.params.reg,
           best.params.nu, best.params.iterations,
           ials_solver_name(best.params.solver));
    return 0;
}

/* ---- RPC commands ---------------------------------------------------------------- */

/* Packs msg, calls method, and unpacks the answer with `resp_desc`. Prints
 * the status and returns NULL on failure. */
static ProtobufCMessage *call(const char *addr, const char *method,
                              const ProtobufCMessage *msg,
                              const ProtobufCMessageDescriptor *resp_desc)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    client_result_t res;
    ProtobufCMessage *out = NULL;
    client_t *c;

    if (!buf || client_open(addr, &c) != 0) {
        free(buf);
        fprintf(stderr, "patron: out of memory\n");
        return NULL;
    }
    protobuf_c_message_pack(msg, buf);
    if (client_unary(c, method, buf, len, RPC_TIMEOUT_MS, &res) != 0)
        fprintf(stderr, "patron: could not start the call\n");
    else if (res.code != GRPC_STATUS_OK)
        fprintf(stderr, "patron: %s failed: %s: %s\n", method, status_name((int)res.code),
                res.details);
    else if (!(out = protobuf_c_message_unpack(resp_desc, NULL, res.len, res.body)))
        fprintf(stderr, "patron: the server's answer is not a valid %s\n",
                resp_desc->name);
    free(res.body);
    free(buf);
    client_close(c);
    return out;
}

static const char *reason_name(Patron__V1__Reason r)
{
    switch (r) {
    case PATRON__V1__REASON__REASON_PERSONALIZED: return "personalized";
    case PATRON__V1__REASON__REASON_POPULAR: return "popular";
    case PATRON__V1__REASON__REASON_SIMILAR_ITEM: return "similar-item";
    case PATRON__V1__REASON__REASON_FOLD_IN: return "fold-in";
    default: return "unspecified";
    }
}

static int cmd_recommend(const args_t *a)
{
    Patron__V1__RecommendRequest req = PATRON__V1__RECOMMEND_REQUEST__INIT;
    Patron__V1__RecommendResponse *resp;

    if (need(a->addr, "--addr") || need(a->user, "--user"))
        return 2;
    req.customer_id = (char *)a->user;
    req.k = (uint32_t)a->k;
    req.include_purchased = a->include_purchased;
    req.include_item_details = 1;
    req.diversity = a->diversity;
    req.max_per_category = a->max_per_category;
    resp = (Patron__V1__RecommendResponse *)call(
        a->addr, "/patron.v1.Recommender/Recommend", &req.base,
        &patron__v1__recommend_response__descriptor);
    if (!resp)
        return 1;
    printf("customer %s: %s, model version %llu, request %s\n", a->user,
           resp->personalized ? "personalized" : "popular fallback",
           resp->provenance ? (unsigned long long)resp->provenance->model_version : 0ULL,
           resp->provenance ? resp->provenance->request_id : "");
    for (size_t i = 0; i < resp->n_items; i++) {
        const Patron__V1__ScoredItem *it = resp->items[i];
        printf("  %2zu. %-12s %9.4f  %-12s  %-16.16s %s\n", i + 1, it->item_id,
               it->score, reason_name(it->reason),
               it->details ? it->details->category : "",
               it->details ? it->details->title : "");
    }
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return 0;
}

static int cmd_health(const args_t *a)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *resp;
    int serving;

    if (need(a->addr, "--addr"))
        return 2;
    req.service = (char *)(a->service ? a->service : "");
    resp = (Grpc__Health__V1__HealthCheckResponse *)call(
        a->addr, "/grpc.health.v1.Health/Check", &req.base,
        &grpc__health__v1__health_check_response__descriptor);
    if (!resp)
        return 1;
    serving = resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    printf("%s\n", serving ? "SERVING" : "NOT_SERVING");
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return serving ? 0 : 1;
}

static int cmd_model_info(const args_t *a)
{
    Patron__V1__GetModelInfoRequest req = PATRON__V1__GET_MODEL_INFO_REQUEST__INIT;
    Patron__V1__ModelInfo *m;

    if (need(a->addr, "--addr"))
        return 2;
    m = (Patron__V1__ModelInfo *)call(a->addr, "/patron.v1.Admin/GetModelInfo",
                                      &req.base, &patron__v1__model_info__descriptor);
    if (!m)
        return 1;
    printf("model version %llu trained at %lld ms: %u factors, %u customers, "
           "%u items, %u iterations, reg %g, alpha %g, loss %.6g, %.1f MB in memory\n",
           (unsigned long long)m->version, (long long)m->trained_at_unix_ms,
           m->factors, m->customers, m->items, m->iterations, m->regularization,
           m->alpha, m->final_loss, (double)m->memory_bytes / 1e6);
    for (size_t i = 0; i < m->n_also_loaded; i++)
        printf("  also loaded for experiments: version %llu, %.1f MB\n",
               (unsigned long long)m->also_loaded[i]->version,
               (double)m->also_loaded[i]->memory_bytes / 1e6);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return 0;
}

static int cmd_stats(const args_t *a)
{
    Patron__V1__GetServerStatsRequest req = PATRON__V1__GET_SERVER_STATS_REQUEST__INIT;
    Patron__V1__ServerStats *s;

    if (need(a->addr, "--addr"))
        return 2;
    s = (Patron__V1__ServerStats *)call(a->addr, "/patron.v1.Admin/GetServerStats",
                                        &req.base, &patron__v1__server_stats__descriptor);
    if (!s)
        return 1;
    printf("up %.0f s, model version %llu\n", s->uptime_seconds,
           (unsigned long long)s->model_version);
    printf("%-52s %9s %7s %8s %8s %8s %8s  %s\n", "method", "calls", "errors", "mean_ms",
           "p50_ms", "p99_ms", "max_ms", "statuses");
    for (size_t i = 0; i < s->n_methods; i++) {
        const Patron__V1__MethodStats *m = s->methods[i];
        printf("%-52s %9llu %7llu %8.3f %8.3f %8.3f %8.3f ", m->method,
               (unsigned long long)m->calls, (unsigned long long)m->errors, m->mean_ms,
               m->p50_ms, m->p99_ms, m->max_ms);
        for (size_t c = 0; c < m->n_by_status; c++)
            printf(" %s %llu", m->by_status[c]->code,
                   (unsigned long long)m->by_status[c]->calls);
        printf("\n");
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return 0;
}

/* ---- customers ----------------------------------------------------------------- */

static const char *stage_label(int stage)
{
    const char *n = profile_stage_name((profile_stage_t)stage);
    return n && n[0] ? n : "prospect";
}

static int cmd_profile(const args_t *a)
{
    Patron__V1__GetProfileRequest req = PATRON__V1__GET_PROFILE_REQUEST__INIT;
    Patron__V1__Profile *p;

    if (need(a->addr, "--addr") || need(a->user, "--user"))
        return 2;
    req.customer_id = (char *)a->user;
    req.as_of_unix_ms = a->as_of;
    p = (Patron__V1__Profile *)call(a->addr, "/patron.v1.Profiles/GetProfile", &req.base,
                                    &patron__v1__profile__descriptor);
    if (!p)
        return 1;
    printf("customer %s: %u orders, %u purchases, net %.2f, basket %.2f, last %.1f days "
           "ago, typical gap %.1f days\n  RFM %u%u%u segment %s, tier %s, stage %s, "
           "points %lld (earned %lld, redeemed %lld)\n  favourite categories:",
           p->customer_id, p->orders, p->purchases, p->monetary, p->average_basket,
           p->recency_days, p->typical_gap_days, p->recency_score, p->frequency_score,
           p->monetary_score, p->segment[0] ? p->segment : "-", p->tier,
           stage_label(p->stage), (long long)p->points, (long long)p->points_earned,
           (long long)p->points_redeemed);
    for (size_t i = 0; i < p->n_favourite_categories; i++)
        printf(" %s;", p->favourite_categories[i]);
    printf("\n");
    protobuf_c_message_free_unpacked(&p->base, NULL);
    return 0;
}

/* CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

typedef struct audience_out {
    uint64_t total, rows;
    int bad;
} audience_out_t;

static int print_member(void *ctx, const uint8_t *msg, size_t len)
{
    audience_out_t *o = ctx;
    Patron__V1__AudienceMember *m = patron__v1__audience_member__unpack(NULL, len, msg);
    const Patron__V1__Profile *p;

    if (!m) {
        o->bad = 1;
        return 1;
    }
    if (o->rows == 0)
        o->total = m->total;
    if (m->customer_id[0] && (p = m->profile) != NULL) {
        csv_field(m->customer_id);
        printf(",%s,%s,%s,%u,%u,%u,%u,%.2f,%.1f,%lld,", p->segment, p->tier,
               stage_label(p->stage), p->recency_score, p->frequency_score,
               p->monetary_score, p->orders, p->monetary, p->recency_days,
               (long long)p->points);
        csv_field(p->n_favourite_categories ? p->favourite_categories[0] : "");
        putchar(',');
        csv_field(p->attributes ? p->attributes->region : "");
        putchar('\n');
        o->rows++;
    }
    patron__v1__audience_member__free_unpacked(m, NULL);
    return 0;
}

static int cmd_audience(const args_t *a)
{
    Patron__V1__SelectAudienceRequest req = PATRON__V1__SELECT_AUDIENCE_REQUEST__INIT;
    audience_out_t o = { 0 };
    client_result_t res;
    client_t *c;
    uint8_t *buf;
    size_t len;
    int rc;

    if (need(a->addr, "--addr"))
        return 2;
    req.expression = (char *)(a->expr ? a->expr : "");
    req.limit = (uint64_t)a->limit;
    req.as_of_unix_ms = a->as_of;
    len = protobuf_c_message_get_packed_size(&req.base);
    if (!(buf = malloc(len ? len : 1)) || client_open(a->addr, &c) != 0) {
        free(buf);
        return 1;
    }
    protobuf_c_message_pack(&req.base, buf);
    printf("customer_id,segment,tier,stage,r,f,m,orders,monetary,recency_days,points,"
           "top_category,region\n");
    rc = client_unary_stream(c, "/patron.v1.Profiles/SelectAudience", buf, len, 600000,
                             print_member, &o, &res);
    client_close(c);
    free(buf);
    if (rc || res.code != GRPC_STATUS_OK || o.bad) {
        fprintf(stderr, "patron: SelectAudience failed: %s: %s\n", status_name((int)res.code),
                res.details);
        return 1;
    }
    fflush(stdout);
    fprintf(stderr, "%llu of %llu matching customers written\n",
            (unsigned long long)o.rows, (unsigned long long)o.total);
    return 0;
}

/* Offline: RFM segment sizes and the lifecycle distribution of a store. */
typedef struct segment_counts {
    const profile_config_t *cfg;
    uint64_t segment[PROFILE_MAX_SEGMENTS + 1], stage[6], tier[PROFILE_MAX_TIERS + 1];
    uint64_t customers;
} segment_counts_t;

static int count_segments(void *ctx, const customer_view_t *v)
{
    segment_counts_t *sc = ctx;
    sc->customers++;
    sc->segment[v->segment >= 0 ? v->segment : PROFILE_MAX_SEGMENTS]++;
    sc->stage[v->p.stage <= 5 ? v->p.stage : 0]++;
    sc->tier[v->p.tier >= 0 ? v->p.tier : PROFILE_MAX_TIERS]++;
    return 0;
}

static int cmd_segments(const args_t *a)
{
    profile_config_t pc;
    rfm_cutpoints_t cut;
    catalog_t *cat = NULL;
    customers_ctx_t c;
    segment_counts_t sc = { 0 };
    int64_t as_of;
    store_t *s;
    int rc;

    if (need(a->data, "--data"))
        return 2;
    as_of = a->as_of ? a->as_of : wall_ms();
    if ((rc = store_open(a->data, 0, &s)) != 0) {
        fprintf(stderr, "patron: cannot open %s: %s\n", a->data, strerror(-rc));
        return 1;
    }
    if (load_profile_config(a, &pc) != 0) {
        store_close(s);
        return 2;
    }
    rc = customers_rfm_job(s, &pc, as_of, &cut);
    if (rc == 0)
        rc = catalog_load(s, &cat);
    if (rc == 0) {
        c = (customers_ctx_t){ s, &pc, cat, &cut };
        sc.cfg = &pc;
        rc = customers_select(&c, NULL, as_of, count_segments, &sc);
    }
    catalog_unref(cat);
    store_close(s);
    if (rc) {
        fprintf(stderr, "patron: segments failed: %s\n", strerror(-rc));
        return 1;
    }
    printf("%llu customers with events, as of %lld ms (RFM cut-points recomputed)\n",
           (unsigned long long)sc.customers, (long long)as_of);
    printf("RFM segments:");
    for (int i = 0; i < PROFILE_MAX_SEGMENTS; i++)
        if (sc.segment[i])
            printf(" %s %llu;", profile_segment_name(&pc, i), (unsigned long long)sc.segment[i]);
    if (sc.segment[PROFILE_MAX_SEGMENTS])
        printf(" (no orders) %llu;", (unsigned long long)sc.segment[PROFILE_MAX_SEGMENTS]);
    printf("\nlifecycle:");
    for (int i = 0; i < 6; i++)
        if (sc.stage[i])
            printf(" %s %llu;", stage_label(i), (unsigned long long)sc.stage[i]);
    printf("\ntiers:");
    for (int i = 0; i < PROFILE_MAX_TIERS; i++)
        if (sc.tier[i])
            printf(" %s %llu;", profile_tier_name(&pc, i), (unsigned long long)sc.tier[i]);
    printf("\n");
    return 0;
}

/* Aggregates views older than the horizon (measured from the newest event
 * would be surprising for live shops: it is measured from now). */
static int cmd_vacuum(const args_t *a)
{
    uint64_t before = 0, after = 0;
    int rc;

    if (need(a->data, "--data"))
        return 2;
    if ((rc = store_vacuum(a->data, &before, &after)) != 0) {
        if (rc == -EBUSY)
            fprintf(stderr, "patron: %s is open in another process (patrond or a "
                    "patron command): stop it first, vacuum works offline\n", a->data);
        else if (rc == -ENOENT)
            fprintf(stderr, "patron: no store in %s\n", a->data);
        else
            fprintf(stderr, "patron: vacuum failed: %s (the store is unchanged)\n",
                    strerror(-rc));
        return 1;
    }
    printf("vacuumed %s: data file %.1f MB -> %.1f MB; freed pages (erased "
           "customers, compacted views) are gone from disk\n", a->data,
           (double)before / 1e6, (double)after / 1e6);
    return 0;
}

static int cmd_compact(const args_t *a)
{
    uint64_t removed = 0, added = 0, pruned = 0;
    int64_t now_ms;
    store_t *s;
    int rc = 0;

    if (need(a->data, "--data"))
        return 2;
    if (a->older_than_days <= 0 && a->offers_older_than_days <= 0 &&
        a->exposure_ids_older_than_days <= 0) {
        fprintf(stderr, "patron: give --older-than-days (views), --offers-older-than-days "
                "(coupon offer log) and/or --exposure-ids-older-than-days (experiment "
                "request ids), > 0\n");
        return 2;
    }
    if ((rc = store_open(a->data, 0, &s)) != 0) {
        fprintf(stderr, "patron: cannot open %s: %s\n", a->data, strerror(-rc));
        return 1;
    }
    now_ms = wall_ms();
    if (a->older_than_days > 0) {
        rc = store_compact_views(s, now_ms - (int64_t)(a->older_than_days * 86400000.0),
                                 &removed, &added);
        if (rc == 0)
            printf("compacted %llu old view events into %llu (purchases, carts and "
                   "refunds untouched)\n", (unsigned long long)removed,
                   (unsigned long long)added);
    }
    if (rc == 0 && a->offers_older_than_days > 0) {
        rc = couponstore_prune_offers(
            s, now_ms - (int64_t)(a->offers_older_than_days * 86400000.0), &pruned);
        if (rc == 0)
            printf("deleted %llu coupon offer log rows older than %g days (budgets, "
                   "grants and redemptions untouched)\n", (unsigned long long)pruned,
                   a->offers_older_than_days);
    }
    if (rc == 0 && a->exposure_ids_older_than_days > 0) {
        rc = expstore_prune_requests(
            s, now_ms - (int64_t)(a->exposure_ids_older_than_days * 86400000.0), &pruned);
        if (rc == 0)
            printf("forgot %llu experiment request ids older than %g days (results "
                   "untouched; a retry of those would count again)\n",
                   (unsigned long long)pruned, a->exposure_ids_older_than_days);
    }
    store_close(s);
    if (rc) {
        fprintf(stderr, "patron: compaction failed: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const args_t *);
    } cmds[] = {
        { "import", cmd_import },     { "train", cmd_train },
        { "recommend", cmd_recommend }, { "health", cmd_health },
        { "model-info", cmd_model_info }, { "eval", cmd_eval },
        { "profile", cmd_profile },       { "audience", cmd_audience },
        { "segments", cmd_segments },     { "compact", cmd_compact },
        { "vacuum", cmd_vacuum },         { "stats", cmd_stats },
        { "tune", cmd_tune },
        { "export-ncf", cmd_export_ncf },
    };
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv); /* argv[0] is the command */
    } own_cmds[] = {
        { "experiment", cli_experiment },
        { "simulate-experiment", cli_simulate_experiment },
        { "train-uplift", cli_train_uplift },
        { "eval-uplift", cli_eval_uplift },
    };
    args_t a;

    if (argc < 2) {
        usage();
        return 2;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        if (parse_args(argc, argv, &a) != 0) {
            usage();
            return 2;
        }
        return cmds[i].run(&a);
    }
    /* Commands that parse their own flags (server/cli_*.c). */
    for (size_t i = 0; i < sizeof own_cmds / sizeof own_cmds[0]; i++)
        if (strcmp(argv[1], own_cmds[i].name) == 0)
            return own_cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "patron: unknown command \"%s\"\n", argv[1]);
    usage();
    return 2;
}
