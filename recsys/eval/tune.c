/*
 * tune.c - random search over implicit ALS settings on an NCF validation
 * split (see tune.h).
 *
 * reg is not drawn directly: with frequency-scaled regularization the
 * effective lambda of a row is reg (n + alpha0 N)^nu, so the same reg means
 * wildly different strengths at different nu (at ML-1M's scale nu = 1
 * multiplies it by ~1000). The search draws the effective lambda of an
 * average row and converts it back to reg for the drawn alpha0 and nu.
 */
#include "tune.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include "rng.h"
#include "monotime.h"

/* Search ranges. Factors: the sizes worth paying for on data of ML-1M's
 * scale; lambda: effective strength of an average row. */
static const uint32_t tune_factors[] = { 64, 128, 192, 256 };
#define TUNE_N_FACTORS (sizeof tune_factors / sizeof tune_factors[0])
#define TUNE_LAMBDA_MIN 0.5
#define TUNE_LAMBDA_MAX 50.0
#define TUNE_ALPHA0_MIN 0.05
#define TUNE_ALPHA0_MAX 1.0
#define TUNE_ALPHA_MAX 4.0
#define TUNE_NU_MAX 1.25
/* Metrics are reported at this cut-off (the NCF paper's). */
#define TUNE_TOPN 10

/*
 * The best found on the ML-1M validation split (ncf_validation_split, seed 1;
 * the test files were not used), by `patron tune` (24 trials) around Rendle
 * et al.'s published ML-1M settings (d = 192, lambda = 0.007, alpha0 = 0.3,
 * nu = 1), which scored HR@10 0.8406 / NDCG@10 0.6093 there. These scored
 * 0.8465 / 0.6114; 8 or 16 iterations, 256 factors, 4 CG steps, init_scale
 * 0.1 or 0.3 all scored within 0.002 NDCG of them (below what this split can
 * resolve). 12 iterations of CG take ~2.5 s on 2 cores.
 *
 * Popularity weighting (eALS's per-item unobserved weight, pop_exp, with the
 * pair strengths scaled by (n_i / mean n)^-0.6, tune_ncf_default_conf_pop_exp)
 * was then chosen on validation splits of seeds 1-5 (the split seed moves the
 * held-out ties and the negatives), mean HR@10 / NDCG@10 over seeds 1-3:
 * the settings above with alpha 0.21 and no weighting 0.8411 / 0.6060;
 * pop_exp 0.1 / 0.25 / 0.5 / 0.75 / 1: 0.8415 / 0.6073, 0.8399 / 0.6068,
 * 0.8310 / 0.5975, 0.8049 / 0.5684, 0.7542 / 0.5069; pop_exp 0.15 with
 * alpha0 0.25 / 0.4: 0.8410 / 0.6069, 0.8396 / 0.6040; with alpha 0.1 / 0.35:
 * 0.8407 / 0.6064, 0.8413 / 0.6075; strength exponent 0.1 / 0.3 / 0.6 / 1
 * alone: 0.8409 / 0.6063, 0.8424 / 0.6068, 0.8426 / 0.6070, 0.8411 / 0.6057;
 * strength 0.3 + pop_exp 0.15: 0.8420 / 0.6077; strength 0.6 + pop_exp 0.15
 * + alpha 0.35 (these): 0.8426 / 0.6088; the same with alpha 0.5:
 * 0.8404 / 0.6074; strength 0.8 + alpha 0.5: 0.8382 / 0.6054; pop_exp 0.25
 * instead: 0.8390 / 0.6055. Over seeds 1-5 these beat the unweighted
 * settings on NDCG@10 in all five splits: 0.8439 / 0.6119 against
 * 0.8434 / 0.6092. A scoring-time popularity shift, x.y + s log(1 + n_i),
 * did not help: s = -0.02 / -0.005 / 0.005 / 0.02 gave 0.8261 / 0.6019,
 * 0.8412 / 0.6064, 0.8402 / 0.6053, 0.8351 / 0.6012.
 */
void tune_ncf_defaults(ials_params_t *p)
{
    ials_params_default(p);
    p->factors = 192;
    p->iterations = 12;
    p->alpha = 0.35f;
    p->alpha0 = 0.32f;
    p->reg = 0.0088f;
    p->nu = 1.0f;
    p->solver = IALS_SOLVER_CG;
    p->cg_steps = 3;
    p->threads = 2;
    p->pop_exp = 0.15f;
}

/*
 * One model: on the same validation split (HR@10 / NDCG@10, training time on
 * 2 cores) the defaults alone scored 0.8465 / 0.6114 (1.9 s); seed ensembles
 * did not beat them: 2 x f=192 0.8462 / 0.6112 (3.9 s), 3 x f=128
 * 0.8440 / 0.6096 (4.2 s), 4 x f=64 0.8414 / 0.6026 (3.0 s). Nor did more
 * work on one model: f=256 0.8440 / 0.6103, f=384 0.8406 / 0.6010 (5.5 s),
 * 20 iterations 0.8447 / 0.6106, 16 iterations x 5 CG steps 0.8445 / 0.6109,
 * the exact solver 0.8452 / 0.6106 (11.8 s). With frequency-scaled
 * regularization the objective has one well-defined optimum, so members from
 * different seeds agree and their average adds nothing.
 */
uint32_t tune_ncf_default_members(void)
{
    return 1;
}

/*
 * The EASE blend is off by default: it did not beat iALS alone on the
 * validation split (iALS 0.8465 / 0.6114). EASE alone, lambda 100 / 250 /
 * 500 / 1000 / 2000: 0.7818 / 0.5655, 0.8127 / 0.5903, 0.8280 / 0.5999,
 * 0.8343 / 0.6033, 0.8311 / 0.5961 (fit ~1 s on 2 cores, 55 MB). Blends of
 * per-user standardized scores, iALS weight w in 0.5..0.95 at lambda 250,
 * 500, 1000, 2000: best 0.8460 / 0.6119 (lambda 500, w 0.95), within noise
 * of iALS alone and lower HR; rank-normalized blends were worse (best
 * 0.8460 / 0.6112) and raw-score blends no better (best 0.8465 / 0.6120,
 * lambda 250, w 0.95). Both models regress the same binary matrix, so on
 * ML-1M they agree on nearly every ranking. The lambda below is the best
 * EASE alone, used when --blend < 1 is asked for.
 */
float tune_ncf_default_ease_lambda(void)
{
    return 1000.0f;
}

float tune_ncf_default_blend(void)
{
    return 1.0f;
}

/* Chosen with pop_exp above; see tune_ncf_defaults. */
float tune_ncf_default_conf_pop_exp(void)
{
    return 0.6f;
}

void tune_config_default(tune_config_t *c)
{
    tune_ncf_defaults(&c->base);
    c->trials = 24;
    c->seconds = 150.0;
    c->seed = 1;
}

/* ------------------------------------------------------------ drawing --- */

static double uniform(uint64_t *s) /* [0, 1) */
{
    return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double log_uniform(uint64_t *s, double lo, double hi)
{
    return exp(log(lo) + uniform(s) * (log(hi) - log(lo)));
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Mean observed count per user and per item, for the lambda <-> reg map. */
typedef struct shape {
    double n_user, n_item; /* mean row lengths */
    uint32_t users, items;
} shape_t;

/* reg such that lambda = reg (n + alpha0 N)^nu at a mean user row. */
static float reg_for(const shape_t *sh, double lambda, double alpha0, double nu)
{
    return (float)(lambda / pow(sh->n_user + alpha0 * sh->items, nu));
}

static double lambda_of(const shape_t *sh, const ials_params_t *p)
{
    return p->reg * pow(sh->n_user + (double)p->alpha0 * sh->items, p->nu);
}

static void draw_fresh(uint64_t *s, const shape_t *sh, ials_params_t *p)
{
    p->factors = tune_factors[splitmix64(s) % TUNE_N_FACTORS];
    p->alpha = uniform(s) < 0.5 ? 0.0f
                                : (float)log_uniform(s, 0.25, TUNE_ALPHA_MAX);
    p->alpha0 = (float)log_uniform(s, TUNE_ALPHA0_MIN, TUNE_ALPHA0_MAX);
    p->nu = (float)(0.25 * (double)(splitmix64(s) % 6)); /* 0 .. 1.25 */
    p->reg = reg_for(sh, log_uniform(s, TUNE_LAMBDA_MIN, TUNE_LAMBDA_MAX),
                     p->alpha0, p->nu);
}

/* A step around the best: each knob moves by a factor of about e^+-0.3. */
static void draw_near(uint64_t *s, const shape_t *sh, const ials_params_t *best,
                      ials_params_t *p)
{
    double lambda = lambda_of(sh, best);
    uint32_t fi = 0;
    while (fi + 1 < TUNE_N_FACTORS && tune_factors[fi] < best->factors)
        fi++;
    double r = uniform(s);
    if (r < 0.2 && fi > 0)
        fi--;
    else if (r > 0.8 && fi + 1 < TUNE_N_FACTORS)
        fi++;
    p->factors = tune_factors[fi];
    p->alpha0 = (float)clamp(best->alpha0 * exp(0.6 * (uniform(s) - 0.5)),
                             TUNE_ALPHA0_MIN, TUNE_ALPHA0_MAX);
    p->alpha = best->alpha == 0.0f && uniform(s) < 0.7
                   ? 0.0f
                   : (float)clamp((best->alpha + 0.1) *
                                      exp(0.8 * (uniform(s) - 0.5)),
                                  0.0, TUNE_ALPHA_MAX);
    p->nu = (float)clamp(best->nu + 0.25 * (double)((int)(splitmix64(s) % 3) - 1),
                         0.0, TUNE_NU_MAX);
    lambda = clamp(lambda * exp(0.6 * (uniform(s) - 0.5)), TUNE_LAMBDA_MIN,
                   TUNE_LAMBDA_MAX);
    p->reg = reg_for(sh, lambda, p->alpha0, p->nu);
}

/* ---------------------------------------------------------- searching --- */

/* Trains t->params on val's training pairs and scores the validation items. */
static int run_trial(const ncf_data_t *val, tune_trial_t *t)
{
    const uint32_t f = t->params.factors;
    float *uf = malloc((size_t)val->n_users * f * sizeof *uf);
    float *itf = malloc((size_t)val->n_items * f * sizeof *itf);
    int rc = (uf && itf) ? 0 : -ENOMEM;
    if (!rc) {
        double t0 = monotime_seconds();
        rc = ials_train(&val->train, &t->params, uf, itf, NULL, NULL);
        t->seconds = monotime_seconds() - t0;
    }
    if (!rc) {
        ncf_factors_t fac = { uf, itf, f };
        ncf_metrics_t m;
        ncf_evaluate(val, ncf_score_factors, &fac, TUNE_TOPN, &m);
        t->hr = m.hr;
        t->ndcg = m.ndcg;
    }
    free(uf);
    free(itf);
    return rc;
}

static int better(const tune_trial_t *a, const tune_trial_t *b)
{
    return a->ndcg > b->ndcg || (a->ndcg == b->ndcg && a->hr > b->hr);
}

int tune_ncf(const ncf_data_t *val, const tune_config_t *c,
             tune_trial_fn on_trial, void *ctx, tune_trial_t *best)
{
    if (!val || !c || !best || c->trials < 1 || !(c->seconds >= 0.0) ||
        val->n_users == 0 || val->n_items == 0)
        return -EINVAL;
    uint64_t nnz = val->train.indptr[val->n_users];
    shape_t sh = { (double)nnz / val->n_users, (double)nnz / val->n_items,
                   val->n_users, val->n_items };
    uint64_t rng = c->seed;
    double start = monotime_seconds();

    for (uint32_t k = 0; k < c->trials; k++) {
        if (k > 0 && c->seconds > 0.0 && monotime_seconds() - start >= c->seconds)
            break;
        tune_trial_t t = { .index = k, .params = c->base };
        if (k % 2 == 1)
            draw_fresh(&rng, &sh, &t.params);
        else if (k > 0)
            draw_near(&rng, &sh, &best->params, &t.params);
        int rc = run_trial(val, &t);
        if (rc)
            return rc;
        if (k == 0 || better(&t, best))
            *best = t;
        if (on_trial && on_trial(ctx, &t, best))
            break;
    }
    return 0;
}
