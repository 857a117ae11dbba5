/*
 * cli_train.c - the training commands of `patron`: fitting the model a
 * store serves, and judging settings offline.
 *
 *   patron train --data DIR [training flags] [--half-life-days X] [--profiles FILE]
 *   patron eval --ncf DIR/NAME [--validation] [--ensemble N] [--ease-lambda X]
 *               [--blend W] [--pop-exp G] [--conf-pop-exp B] [training flags]
 *   patron eval --data DIR [--holdout-last N | --holdout-days D] [--ensemble N]
 *               [training flags]   (full-ranking time split of the store)
 *   patron eval --data DIR --sessions [--k K] [training flags]
 *               (held-out sessions ending in a purchase: sesseval.h)
 *   patron eval --data DIR --complements [--k K] [training flags]
 *               (basket hold-one-out of ComplementaryItems: compeval.h)
 *   patron tune --ncf DIR/NAME [--trials N] [--seconds S] [training flags]
 *   patron export-ncf --data DIR --out DIR/NAME [--seed N]
 *   patron import-model ... (cli_import_model.c)
 *
 * Training flags: --factors --iterations --reg --alpha --alpha0 --nu --solver
 * --cg-steps --threads --seed. On NCF data (eval --ncf, tune) they start from
 * the tuned settings (tune.h); on a store, from train_config_default.
 */
#include "cli.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_eval_comp.h"
#include "customers.h"
#include "customers_clv.h"
#include "ease.h"
#include "ensemble.h"
#include "evaluate.h"
#include "ncf.h"
#include "profile_file.h"
#include "sesseval.h"
#include "store.h"
#include "train.h"
#include "tune.h"
#include "wallclock.h"
#include "monotime.h"

/* At most this many cut-offs in eval --k. */
#define EVAL_MAX_KS 8

typedef struct train_args {
    const char *data, *ncf, *out, *profiles;
    uint64_t map_bytes;
    int validation;
    uint32_t members;      /* eval: seed-ensemble size */
    float ease_lambda;     /* eval --ncf: EASE's lambda */
    float blend;           /* eval --ncf: iALS weight in the EASE blend (1: iALS) */
    float conf_pop_exp;    /* eval --ncf: r_ui scaled by (n_i / mean)^-this */
    uint32_t holdout_last; /* eval --data: last N purchases held out */
    int json;              /* eval: JSON on stdout, the text on stderr */
    int sessions;          /* eval --data: the session protocol */
    int complements;       /* eval --data: the basket hold-one-out */
    uint32_t ks[EVAL_MAX_KS]; /* eval --data: the cut-offs (--k) */
    size_t n_ks;
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

/* Customer lifetime value: BG/NBD + Gamma-Gamma refitted on every
 * customer's purchases (customers_clv.h), served by patrond from the next
 * ReloadModel. A failure leaves the previous fit and warns. */
static void train_clv(store_t *s, const profile_config_t *pc, int64_t now)
{
    clv_model_t m;
    int rc = customers_clv_job(s, pc, now, &m);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: CLV model not fitted: no customer has an order\n");
        return;
    }
    if (rc) {
        cli_error(rc, "warning: CLV model not fitted");
        return;
    }
    printf("CLV model: BG/NBD r %.4g alpha %.4g a %.4g b %.4g (days) over %llu customers; "
           "Gamma-Gamma p %.4g q %.4g gamma %.4g, mean order value %.2f\n",
           m.bg.r, m.bg.alpha, m.bg.a, m.bg.b, (unsigned long long)m.customers, m.gg.p,
           m.gg.q, m.gg.gamma, m.pop_spend);
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
        int64_t now = wall_ms();
        int rfm = cli_profile_config(a->profiles, &pc);
        if (rfm == 0 && (rfm = customers_rfm_job(s, &pc, now, &cut)) != 0)
            cli_error(rfm, "warning: RFM cut-points not updated");
        else if (rfm)
            fprintf(stderr, "patron: warning: RFM cut-points not updated\n");
        if (rfm == 0)
            train_clv(s, &pc, now);
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
        "cut-points of customer profiles and refits the CLV model (BG/NBD +\n"
        "Gamma-Gamma: GetProfile's lifetime_value, audience fields clv and churn_p)."
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
        fprintf(a->json ? stderr : stdout, "ease: lambda %g, %zu x %zu item matrix (%.0f MB): fit %.2f s\n",
               a->ease_lambda, n, n, (double)(n * n * sizeof **B) / 1e6, *secs);
    return rc;
}

static int cmd_eval_ncf(const train_args_t *a)
{
    ncf_data_t full, val, *d = &full;
    ncf_metrics_t pop_m = { 0 }, m = { 0 };
    ncf_factors_t fac;
    ease_blend_t blend;
    float *pop, *uf = NULL, *itf = NULL, *B = NULL;
    char err[512];
    double t0, secs = 0, ease_secs = 0;
    uint32_t width;
    int rc = 0;
    FILE *txt = a->json ? stderr : stdout;

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
    fprintf(txt, "%s%s: %u users, %u items, %llu training pairs, %u negatives per user\n",
           a->ncf, a->validation ? " (validation split of the training file)" : "",
           d->n_users, d->n_items, (unsigned long long)d->train.indptr[d->n_users],
           d->n_neg);
    if ((rc = ials_csr_popularity_scale(&d->train, a->conf_pop_exp)) != 0)
        goto out;
    if ((pop = ncf_popularity(d)) != NULL) {
        ncf_evaluate(d, ncf_score_popularity, pop, 10, &pop_m);
        fprintf(txt, "popularity baseline: HR@10 %.4f NDCG@10 %.4f\n", pop_m.hr, pop_m.ndcg);
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
        fprintf(txt, "ials: factors %u, iterations %u, reg %g, alpha %g, alpha0 %g, nu %g, "
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
            fprintf(txt, "ials alone: HR@10 %.4f NDCG@10 %.4f\n", m.hr, m.ndcg);
        if ((rc = eval_ncf_ease(a, d, &B, &ease_secs)) != 0)
            goto out;
        blend = (ease_blend_t){ &d->train, B, uf, itf, width, a->blend };
        ncf_evaluate(d, ease_score_blend, &blend, 10, &m);
        fprintf(txt, "blend: weight %g on iALS, %g on EASE (per-user standardized scores): "
               "training %.2f s in all, %u users evaluated\n",
               a->blend, 1 - a->blend, secs + ease_secs, m.users);
    }
    fprintf(txt, "HR@10 %.4f NDCG@10 %.4f\n", m.hr, m.ndcg);
    if (a->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "protocol", json_object_new_string("ncf"));
        json_object_object_add(o, "data", json_object_new_string(a->ncf));
        json_object_object_add(o, "validation", json_object_new_boolean(a->validation));
        json_object_object_add(o, "k", json_object_new_int(10));
        json_object_object_add(o, "users", json_object_new_int64(m.users));
        json_object_object_add(o, "hr", json_object_new_double(m.hr));
        json_object_object_add(o, "ndcg", json_object_new_double(m.ndcg));
        json_object_object_add(o, "popularity_hr", json_object_new_double(pop_m.hr));
        json_object_object_add(o, "popularity_ndcg", json_object_new_double(pop_m.ndcg));
        rc = cli_json_print(o);
    }
out:
    if (rc)
        cli_error(rc, "evaluation failed");
    free(uf);
    free(itf);
    free(B);
    ncf_free(d);
    return rc ? 1 : 0;
}

/* Ranks the split at each of a's cut-offs with score: prints a line per
 * cut-off (to txt) and, with --json, appends {"k", "recall", "ndcg",
 * "coverage"} objects to *metrics (created here). */
static int rank_at_ks(const train_args_t *a, const eval_split_t *sp, eval_score_fn score,
                      void *ctx, const char *who, json_object **metrics)
{
    FILE *txt = a->json ? stderr : stdout;
    eval_metrics_t m;
    int rc = 0;

    *metrics = a->json ? json_object_new_array() : NULL;
    for (size_t i = 0; rc == 0 && i < a->n_ks; i++) {
        uint32_t k = a->ks[i];
        if ((rc = eval_rank(sp, k, score, ctx, &m)) != 0)
            break;
        fprintf(txt, "%s: Recall@%u %.4f NDCG@%u %.4f coverage %.4f\n", who, k, m.recall, k,
                m.ndcg, m.coverage);
        if (*metrics) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "k", json_object_new_int64(k));
            json_object_object_add(o, "recall", json_object_new_double(m.recall));
            json_object_object_add(o, "ndcg", json_object_new_double(m.ndcg));
            json_object_object_add(o, "coverage", json_object_new_double(m.coverage));
            json_object_array_add(*metrics, o);
        }
    }
    return rc;
}

/* {"name": name, "metrics": metrics} appended to models (JSON only). */
static json_object *model_json(json_object *models, const char *name, json_object *metrics)
{
    json_object *o;
    if (!models)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "metrics", metrics);
    json_object_array_add(models, o);
    return o;
}

/* --k 5,10,20,50: the cut-offs, each 1..1000, at most EVAL_MAX_KS. */
static int parse_ks(void *dest, const char *v)
{
    train_args_t *a = dest;
    const char *p = v;
    char *end;

    a->n_ks = 0;
    do {
        unsigned long k = strtoul(p, &end, 10);
        if (end == p || k < 1 || k > 1000 || a->n_ks == EVAL_MAX_KS ||
            (*end && *end != ','))
            goto bad;
        a->ks[a->n_ks++] = (uint32_t)k;
        p = end + 1;
    } while (*end == ',');
    return 0;
bad:
    fprintf(stderr, "patron eval: --k: expected cut-offs such as 5,10,20,50 (1..1000, at "
                    "most %d), got \"%s\"\n", EVAL_MAX_KS, v);
    return -1;
}

/* Trains the split's matrix and ranks every item for each evaluated
 * customer; prints the settings, training time and metrics. */
static int eval_store_ials(const train_args_t *a, const eval_split_t *sp, json_object *models)
{
    const ials_params_t *p = &a->train.als;
    uint32_t width = a->members * p->factors;
    float *uf = malloc((size_t)sp->n_users * width * sizeof *uf + 1);
    float *itf = malloc((size_t)sp->n_items * width * sizeof *itf + 1);
    json_object *metrics = NULL, *o;
    double t0, secs = 0.0;
    int rc = (uf && itf) ? 0 : -ENOMEM;

    t0 = monotime_seconds();
    if (rc == 0)
        rc = ensemble_train(&sp->train, p, a->members, uf, itf, NULL, NULL);
    secs = monotime_seconds() - t0;
    if (rc == 0) {
        eval_factors_t fac = { uf, itf, sp->n_items, width };
        fprintf(a->json ? stderr : stdout, "ials: factors %u, iterations %u, reg %g, alpha %g, "
                "alpha0 %g, nu %g, solver %s, threads %u, ensemble %u: training %.2f s\n",
                p->factors, p->iterations, p->reg, p->alpha, p->alpha0, p->nu,
                ials_solver_name(p->solver), p->threads, a->members, secs);
        rc = rank_at_ks(a, sp, eval_score_factors, &fac, "ials", &metrics);
    }
    if (rc == 0 && (o = model_json(models, "ials", metrics)) != NULL) {
        json_object_object_add(o, "training_seconds", json_object_new_double(secs));
        json_object_object_add(o, "factors", json_object_new_int64(p->factors));
        json_object_object_add(o, "iterations", json_object_new_int64(p->iterations));
        json_object_object_add(o, "reg", json_object_new_double(p->reg));
        json_object_object_add(o, "alpha", json_object_new_double(p->alpha));
        json_object_object_add(o, "ensemble", json_object_new_int64(a->members));
    } else {
        json_object_put(metrics);
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
    json_object *out = NULL, *models = NULL, *metrics = NULL;
    FILE *txt = a->json ? stderr : stdout;
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
        fprintf(txt, "%s: each customer's last %u purchase(s) held out", a->data, h.last_n);
    else
        fprintf(txt, "%s: purchases in the last %g days held out", a->data, h.days);
    fprintf(txt, "; %u customers evaluated, %u items, %llu training events, %llu "
            "held-out purchases\n", sp.n_eval, sp.n_items,
            (unsigned long long)sp.train_events,
            (unsigned long long)sp.held_purchases);
    if (a->json) {
        out = json_object_new_object();
        json_object_object_add(out, "protocol", json_object_new_string("time_split"));
        json_object_object_add(out, "data", json_object_new_string(a->data));
        if (h.last_n)
            json_object_object_add(out, "holdout_last", json_object_new_int64(h.last_n));
        else
            json_object_object_add(out, "holdout_days", json_object_new_double(h.days));
        json_object_object_add(out, "customers_evaluated", json_object_new_int64(sp.n_eval));
        json_object_object_add(out, "items", json_object_new_int64(sp.n_items));
        json_object_object_add(out, "training_events",
                               json_object_new_int64((int64_t)sp.train_events));
        json_object_object_add(out, "held_out_purchases",
                               json_object_new_int64((int64_t)sp.held_purchases));
        json_object_object_add(out, "models", models = json_object_new_array());
    }
    if ((pop = malloc((size_t)sp.n_items * sizeof *pop + 1)) == NULL) {
        rc = -ENOMEM;
    } else {
        eval_popularity_t ps = { pop, sp.n_items };
        train_popularity(&sp.train, a->train.w_purchase, pop);
        rc = rank_at_ks(a, &sp, eval_score_popularity, &ps, "popularity baseline",
                        &metrics);
        if (rc == 0 && model_json(models, "popularity", metrics))
            metrics = NULL;
        json_object_put(metrics);
        free(pop);
    }
    if (rc == 0)
        rc = eval_store_ials(a, &sp, models);
    eval_split_free(&sp);
    if (rc) {
        json_object_put(out);
        cli_error(rc, "evaluation failed");
        return 1;
    }
    return out && cli_json_print(out) != 0 ? 1 : 0;
}

static json_object *metrics_json(const sesseval_metrics_t *m)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "recall", json_object_new_double(m->recall));
    json_object_object_add(o, "ndcg", json_object_new_double(m->ndcg));
    return o;
}

static void print_date(FILE *f, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    fputs(buf, f);
}

/* Held-out sessions ending in a purchase: fold-in, V-SKNN and the session
 * blend learned on the validation sessions (sesseval.h). */
static int cmd_eval_sessions(const train_args_t *a)
{
    FILE *txt = a->json ? stderr : stdout;
    sesseval_config_t c;
    sesseval_report_t r;
    store_t *s;
    uint32_t k;
    int rc;

    sesseval_config_default(&c);
    c.k = k = a->ks[0];
    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = sesseval_run(s, &a->train, &c, &r);
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: no held-out sessions to evaluate: the store needs sessions "
                "that end in a purchase in both the validation and the test period\n");
        return 1;
    }
    if (rc) {
        cli_error(rc, "session evaluation failed");
        return 1;
    }
    fprintf(txt, "%s: %llu events, %zu sessions (gap %lld min); validation %zu cases from ",
            a->data, (unsigned long long)r.events, r.sessions,
            (long long)(c.gap_ms / 60000), r.n_val);
    print_date(txt, r.val_from_ms);
    fprintf(txt, ", test %zu cases from ", r.n_test);
    print_date(txt, r.test_from_ms);
    fprintf(txt, " UTC; training %.2f s\n", r.train_seconds);
    fprintf(txt, "learned on validation: blend %.1f, ", r.learned.blend);
    if (r.learned.half_life >= SESSION_HALF_LIFE_NONE)
        fprintf(txt, "no decay");
    else
        fprintf(txt, "half-life %g events", r.learned.half_life);
    fprintf(txt, " (NDCG@%u %.4f; fold-in %.4f)\n", k, r.val_session.ndcg, r.val_foldin.ndcg);
    fprintf(txt, "fold-in (whole history):    Recall@%u %.4f NDCG@%u %.4f\n", k, r.foldin.recall,
            k, r.foldin.ndcg);
    fprintf(txt, "V-SKNN (k %u, sample %u): Recall@%u %.4f NDCG@%u %.4f\n", c.knn.k,
            c.knn.sample, k, r.vsknn.recall, k, r.vsknn.ndcg);
    fprintf(txt, "session-aware:              Recall@%u %.4f NDCG@%u %.4f\n", k,
            r.session.recall, k, r.session.ndcg);
    if (a->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "protocol", json_object_new_string("sessions"));
        json_object_object_add(o, "data", json_object_new_string(a->data));
        json_object_object_add(o, "k", json_object_new_int64(k));
        json_object_object_add(o, "sessions", json_object_new_int64((int64_t)r.sessions));
        json_object_object_add(o, "validation_cases", json_object_new_int64((int64_t)r.n_val));
        json_object_object_add(o, "test_cases", json_object_new_int64((int64_t)r.n_test));
        json_object_object_add(o, "blend", json_object_new_double(r.learned.blend));
        json_object_object_add(o, "half_life_events",
                               json_object_new_double(r.learned.half_life));
        json_object_object_add(o, "fold_in", metrics_json(&r.foldin));
        json_object_object_add(o, "vsknn", metrics_json(&r.vsknn));
        json_object_object_add(o, "session_aware", metrics_json(&r.session));
        return cli_json_print(o) != 0 ? 1 : 0;
    }
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "eval", "[--json] --ncf DIR/NAME [--validation] [--ensemble N] [--ease-lambda X] [--blend W]\n"
                "                   [--pop-exp G] [--conf-pop-exp B] [training flags]\n"
                "   or: patron eval --data DIR [--holdout-last N | --holdout-days D] [--k K,..]\n"
                "                   [--ensemble N] [training flags]\n"
                "   or: patron eval --data DIR --sessions [--k K] [training flags]\n"
                "   or: patron eval --data DIR --complements [--k K] [training flags]",
        "--ncf: HR@10 / NDCG@10 on a published NCF split (leave-one-out, 99 sampled\n"
        "negatives), starting from the tuned settings. --data: full-ranking Recall@20 /\n"
        "NDCG@K (--k, default 20) of a time split of the store, beside popularity.\n"
        "--sessions: held-out sessions ending in a purchase, the purchase ranked from the\n"
        "session so far: fold-in, V-SKNN and the learned session blend.\n"
        "--complements: basket hold-one-out HR@K / NDCG@K (default K 10) of\n"
        "ComplementaryItems (the latest 20% of baskets held out, each item hidden in\n"
        "turn, the rest is the cart) beside SimilarItems, raw co-occurrence counts\n"
        "and popularity. --json:\n"
        "the figures as one JSON object on stdout (stable snake_case keys)."
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
        CLI_CALL("k", "K1,K2,...", "--data: the cut-offs (default 20), e.g. 5,10,20,50",
                 parse_ks, &a),
        CLI_FLAG("sessions", "--data: the session protocol (see above)", &a.sessions),
        CLI_FLAG("complements", "--data: the basket hold-one-out of ComplementaryItems "
                 "(see above)", &a.complements),
        CLI_FLAG("json", "the results as JSON on stdout (the text goes to stderr)", &a.json),
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
    if (a.ncf && a.n_ks) {
        fprintf(stderr, "patron eval: --k is for --data (--ncf keeps the paper's K = 10)\n");
        return CLI_USAGE;
    }
    if (a.sessions && (!a.data || a.n_ks > 1 || a.holdout_last || a.holdout_days > 0)) {
        fprintf(stderr, "patron eval: --sessions takes --data and at most one --k\n");
        return CLI_USAGE;
    }
    if (a.complements && (!a.data || a.sessions || a.n_ks > 1 || a.holdout_last ||
                          a.holdout_days > 0 || a.members > 1)) {
        fprintf(stderr, "patron eval: --complements takes --data and at most one --k\n");
        return CLI_USAGE;
    }
    if (!a.n_ks)
        a.ks[a.n_ks++] = a.complements ? 10 : 20;
    if (!a.data && !a.ncf) {
        fprintf(stderr, "patron eval: --ncf or --data is required\n");
        return CLI_USAGE;
    }
    if (a.sessions)
        return cmd_eval_sessions(&a);
    if (a.complements)
        return cli_eval_complements(a.data, a.map_bytes, &a.train, a.ks[0], a.json);
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
    { "import-model", "publish factors trained by Spark ALS or implicit", cli_import_model },
};

const cli_family_t cli_train_family = { "training", commands,
                                        sizeof commands / sizeof commands[0] };
