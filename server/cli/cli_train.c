/*
 * cli_train.c - the training commands of `patron`: fitting the model a
 * store serves, and judging settings offline.
 *
 *   patron train --data DIR [training flags] [--half-life-days X] [--profiles FILE]
 *   patron eval --ncf DIR/NAME [--validation] [--ensemble N] [--ease-lambda X]
 *               [--blend W] [--pop-exp G] [--conf-pop-exp B] [training flags]
 *   patron eval --data DIR [--holdout-last N | --holdout-days D] [--ensemble N]
 *               [training flags]   (full-ranking time split of the store)
 *   patron tune --ncf DIR/NAME [--trials N] [--seconds S] [training flags]
 *   patron export-ncf --data DIR --out DIR/NAME [--seed N]
 *
 * Training flags: --factors --iterations --reg --alpha --alpha0 --nu --solver
 * --cg-steps --threads --seed. On NCF data (eval --ncf, tune) they start from
 * the tuned settings (tune.h); on a store, from train_config_default.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "customers.h"
#include "ease.h"
#include "ensemble.h"
#include "evaluate.h"
#include "ncf.h"
#include "profile_file.h"
#include "store.h"
#include "train.h"
#include "tune.h"
#include "wallclock.h"
#include "monotime.h"

typedef struct train_args {
    const char *data, *ncf, *out, *profiles;
    uint64_t map_bytes;
    int validation;
    uint32_t members;      /* eval: seed-ensemble size */
    float ease_lambda;     /* eval --ncf: EASE's lambda */
    float blend;           /* eval --ncf: iALS weight in the EASE blend (1: iALS) */
    float conf_pop_exp;    /* eval --ncf: r_ui scaled by (n_i / mean)^-this */
    uint32_t holdout_last; /* eval --data: last N purchases held out */
    double holdout_days;   /* eval --data: or the last D days */
    train_config_t train;
    tune_config_t tune;
} train_args_t;

static int parse_solver(void *dest, const char *v)
{
    if (ials_solver_parse(v, dest) != 0) {
        fprintf(stderr, "patron: --solver must be exact or cg\n");
        return -1;
    }
    return 0;
}

/* The flags of ials_params_t, for every command that trains. */
#define CLI_TRAINING_OPTS(p)                                                          \
    CLI_U32("factors", "N", "latent factors", 1, 1024, &(p)->factors),                \
    CLI_U32("iterations", "N", "alternating sweeps", 1, 1000, &(p)->iterations),      \
    CLI_FLT("reg", "X", "L2 regularization", 0, 1e6, &(p)->reg),                       \
    CLI_FLT("alpha", "X", "confidence of observed pairs", 0, 1e6, &(p)->alpha),        \
    CLI_FLT("alpha0", "X", "weight of unobserved pairs", 0, 1e6, &(p)->alpha0),        \
    CLI_FLT("nu", "X", "frequency-scaled regularization exponent", 0, 4, &(p)->nu),    \
    CLI_CALL("solver", "exact|cg", "per-row solver", parse_solver, &(p)->solver),     \
    CLI_U32("cg-steps", "N", "conjugate-gradient steps per row", 1, 1000,             \
            &(p)->cg_steps),                                                          \
    CLI_U32("threads", "N", "worker threads", 1, 256, &(p)->threads),                 \
    CLI_U64("seed", "N", "random seed", &(p)->seed)


static void train_args_default(train_args_t *a, int ncf_data)
{
    memset(a, 0, sizeof *a);
    train_config_default(&a->train);
    tune_config_default(&a->tune);
    a->members = 1;
    a->blend = 1.0f;
    /* The tuned settings are for NCF-format data; on a store, `patron eval`
     * assesses what `patron train` would train there. */
    if (ncf_data) {
        a->train.als = a->tune.base;
        a->members = tune_ncf_default_members();
        a->ease_lambda = tune_ncf_default_ease_lambda();
        a->blend = tune_ncf_default_blend();
        a->conf_pop_exp = tune_ncf_default_conf_pop_exp();
    }
}

/* ---- train --------------------------------------------------------------------- */

static int print_progress(void *ctx, uint32_t iteration, double loss)
{
    printf("iteration %3u  loss %.6g\n", iteration, loss);
    fflush(stdout);
    return 0;
}

static int train_store(const train_args_t *a)
{
    train_report_t rep;
    store_t *s;
    int rc;

    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = train_run(s, &a->train, print_progress, NULL, &rep);
    if (rc == 0) {
        /* Profiles score RFM against cut-points of the whole population,
         * recomputed with every training run. */
        profile_config_t pc;
        rfm_cutpoints_t cut;
        int rfm = cli_profile_config(a->profiles, &pc);
        if (rfm == 0 && (rfm = customers_rfm_job(s, &pc, wall_ms(), &cut)) != 0)
            cli_error(rfm, "warning: RFM cut-points not updated");
        else if (rfm)
            fprintf(stderr, "patron: warning: RFM cut-points not updated\n");
    }
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: no events to train on: import some first\n");
        return 1;
    }
    if (rc) {
        cli_error(rc, "training failed");
        return 1;
    }
    if (rep.future)
        fprintf(stderr, "patron: warning: %llu events dated after the training horizon "
                "were skipped\n", (unsigned long long)rep.future);
    printf("published model version %llu: %u customers x %u items, %llu events, "
           "%llu pairs, %u factors, %.2f s training\n",
           (unsigned long long)rep.hdr.version, rep.hdr.n_users, rep.hdr.n_items,
           (unsigned long long)rep.events, (unsigned long long)rep.nnz,
           rep.hdr.factors, rep.seconds);
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "train", "--data DIR [training flags] [--half-life-days X] [--profiles FILE]",
        "Trains iALS on every event in the store and publishes a new model version\n"
        "(a running patrond picks it up on ReloadModel); then recomputes the RFM\n"
        "cut-points of customer profiles."
    };
    static train_args_t a;
    train_args_default(&a, 0);
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        CLI_TRAINING_OPTS(&a.train.als),
        /* no --pop-exp: serving folds new events in with one uniform
         * unobserved weight (foldin.c), a model trained with per-item
         * weights would disagree */
        CLI_FLT("half-life-days", "X", "events lose half their weight every X days (0: never)",
                0, 1e6, &a.train.half_life_days),
        CLI_TIME("as-of", "train as of this time: later events are skipped (default: now + "
                 "1 day)", &a.train.as_of_ms),
        CLI_STR("profiles", "FILE", "profile settings (default: built in)", 0, &a.profiles),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : train_store(&a);
}

/* ---- eval ---------------------------------------------------------------------- */

/* Trains on NAME.train.rating (or, with --validation, on it minus each
 * user's latest interaction) and reports HR@10/NDCG@10 on the candidates. */
/* Fits EASE for the --blend of `eval --ncf`; *B is the caller's to free. */
static int eval_ncf_ease(const train_args_t *a, const ncf_data_t *d, float **B, double *secs)
{
    size_t n = d->n_items;
    double t0;
    int rc;

    if ((*B = malloc(n * n * sizeof **B + 1)) == NULL)
        return -ENOMEM;
    t0 = monotime_seconds();
    rc = ease_fit(&d->train, a->ease_lambda, *B);
    *secs = monotime_seconds() - t0;
    if (rc == 0)
        printf("ease: lambda %g, %zu x %zu item matrix (%.0f MB): fit %.2f s\n",
               a->ease_lambda, n, n, (double)(n * n * sizeof **B) / 1e6, *secs);
    return rc;
}

static int cmd_eval_ncf(const train_args_t *a)
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
        t0 = monotime_seconds();
        rc = ensemble_train(&d->train, &a->train.als, a->members, uf, itf, NULL, NULL);
        secs = monotime_seconds() - t0;
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
        cli_error(rc, "evaluation failed");
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
static int eval_store_ials(const train_args_t *a, const eval_split_t *sp)
{
    const ials_params_t *p = &a->train.als;
    uint32_t width = a->members * p->factors;
    float *uf = malloc((size_t)sp->n_users * width * sizeof *uf + 1);
    float *itf = malloc((size_t)sp->n_items * width * sizeof *itf + 1);
    eval_metrics_t m;
    double t0, secs = 0.0;
    int rc = (uf && itf) ? 0 : -ENOMEM;

    t0 = monotime_seconds();
    if (rc == 0)
        rc = ensemble_train(&sp->train, p, a->members, uf, itf, NULL, NULL);
    secs = monotime_seconds() - t0;
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
static int cmd_eval_store(const train_args_t *a)
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
    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = eval_split_make(s, &a->train, &h, &sp);
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: cannot build the split: no customer has both training "
                "data and a new held-out purchase\n");
        return 1;
    }
    if (rc) {
        cli_error(rc, "cannot build the split");
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
        cli_error(rc, "evaluation failed");
        return 1;
    }
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "eval", "--ncf DIR/NAME [--validation] [--ensemble N] [--ease-lambda X] [--blend W]\n"
                "                   [--pop-exp G] [--conf-pop-exp B] [training flags]\n"
                "   or: patron eval --data DIR [--holdout-last N | --holdout-days D]\n"
                "                   [--ensemble N] [training flags]",
        "--ncf: HR@10 / NDCG@10 on a published NCF split (leave-one-out, 99 sampled\n"
        "negatives), starting from the tuned settings. --data: full-ranking Recall@20 /\n"
        "NDCG@20 of a time split of the store, beside popularity."
    };
    static train_args_t a;
    cli_opt_t opts[] = {
        CLI_STR("ncf", "DIR/NAME", "NCF files NAME.{train.rating,test.rating,test.negative}",
                0, &a.ncf),
        CLI_STR("data", "DIR", "the store directory (time split)", 0, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        CLI_FLAG("validation", "--ncf: evaluate on a validation split of the training file",
                 &a.validation),
        CLI_U32("ensemble", "N", "seed-ensemble members", 1, ENSEMBLE_MAX_MEMBERS, &a.members),
        CLI_FLT("ease-lambda", "X", "--ncf: EASE's lambda", 1e-6, 1e9, &a.ease_lambda),
        CLI_FLT("blend", "W", "--ncf: weight on iALS in the EASE blend (1: iALS only)", 0, 1,
                &a.blend),
        CLI_FLT("pop-exp", "G", "popularity exponent of the unobserved weights", 0, 4,
                &a.train.als.pop_exp),
        CLI_FLT("conf-pop-exp", "B", "--ncf: confidence scaled by (n_i / mean)^-B", 0, 4,
                &a.conf_pop_exp),
        CLI_U32("holdout-last", "N", "--data: each customer's last N purchases held out", 1,
                1e6, &a.holdout_last),
        CLI_NUM("holdout-days", "D", "--data: purchases of the last D days held out", 1e-6, 1e6,
                &a.holdout_days),
        CLI_TRAINING_OPTS(&a.train.als),
        CLI_END,
    };
    int rc;

    /* The defaults depend on the data: parse once to see which, then for real. */
    train_args_default(&a, 1);
    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (a.data) {
        train_args_default(&a, 0);
        if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
            return rc;
    }
    if (a.data && a.ncf) {
        fprintf(stderr, "patron eval: takes --ncf or --data, not both\n");
        return CLI_USAGE;
    }
    if (!a.data && !a.ncf) {
        fprintf(stderr, "patron eval: --ncf or --data is required\n");
        return CLI_USAGE;
    }
    return a.data ? cmd_eval_store(&a) : cmd_eval_ncf(&a);
}

/* ---- tune ---------------------------------------------------------------------- */

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
static int tune_run(const train_args_t *a)
{
    ncf_data_t full, val;
    tune_config_t c = a->tune;
    tune_trial_t best;
    char err[512];
    int rc;

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
        cli_error(rc, "tuning failed");
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

static int cmd_tune(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "tune", "--ncf DIR/NAME [--trials N] [--seconds S] [training flags]",
        "Searches iALS settings on a validation split of NAME.train.rating only (the\n"
        "test file is never read) and prints the best as flags."
    };
    static train_args_t a;
    train_args_default(&a, 1);
    cli_opt_t opts[] = {
        CLI_STR("ncf", "DIR/NAME", "NCF files prefix", CLI_REQUIRED, &a.ncf),
        CLI_U32("trials", "N", "settings to try", 1, 100000, &a.tune.trials),
        CLI_NUM("seconds", "S", "time budget (0: none)", 0, 1e7, &a.tune.seconds),
        CLI_TRAINING_OPTS(&a.train.als),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : tune_run(&a);
}

/* ---- export-ncf ---------------------------------------------------------------- */

/* Writes the store's data as an NCF leave-latest-out split. */
static int export_ncf(const train_args_t *a)
{
    eval_export_report_t rep;
    char err[1024];
    store_t *s;
    int rc;

    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = eval_export_ncf(s, &a->train, a->out, 99, a->train.als.seed, &rep,
                         err, sizeof err);
    store_close(s);
    if (rc && (err[0] || rc == -ENOENT)) {
        fprintf(stderr, "patron: export failed: %s\n",
                err[0] ? err : "no customer with a purchase and earlier events");
        return 1;
    }
    if (rc) {
        cli_error(rc, "export failed");
        return 1;
    }
    printf("wrote %s.{train.rating,test.rating,test.negative}: %u customers, "
           "%u items, %llu training pairs, 99 negatives each\n", a->out,
           rep.users, rep.items, (unsigned long long)rep.train_pairs);
    return 0;
}

static int cmd_export_ncf(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "export-ncf", "--data DIR --out DIR/NAME [--seed N]",
        "Writes the store's data as an NCF leave-latest-out split with 99 sampled\n"
        "negatives per customer, for comparison with published results."
    };
    static train_args_t a;
    train_args_default(&a, 0);
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        CLI_STR("out", "DIR/NAME", "output prefix", CLI_REQUIRED, &a.out),
        CLI_U64("seed", "N", "random seed of the negatives", &a.train.als.seed),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : export_ncf(&a);
}

static const cli_command_t commands[] = {
    { "train", "train the model a store serves", cmd_train },
    { "eval", "offline accuracy on NCF data or a time split of a store", cmd_eval },
    { "tune", "search training settings on NCF data", cmd_tune },
    { "export-ncf", "write a store's data as an NCF split", cmd_export_ncf },
};

const cli_family_t cli_train_family = { "training", commands,
                                        sizeof commands / sizeof commands[0] };
