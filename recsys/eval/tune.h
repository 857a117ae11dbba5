/*
 * tune.h - hyper-parameter search for the implicit ALS trainer on the NCF
 * leave-one-out protocol (see ncf.h), scored on a validation split carved
 * from the training file only (ncf_validation_split), so the test files never
 * steer a choice.
 *
 * The search is a seeded random search: trial 0 is the base settings, later
 * trials alternate between a fresh draw from the search ranges and a
 * perturbation of the best trial so far (a cheap local refinement). It
 * searches factors, alpha, alpha0, reg and nu; everything else (iterations,
 * solver, threads, seed) comes from the base settings. Pure: no printing, a
 * callback reports each trial.
 */
#ifndef PATRON_RECSYS_TUNE_H
#define PATRON_RECSYS_TUNE_H

#include "ials.h"
#include "ncf.h"

/* The best settings found by searching the ML-1M validation split (tune.c
 * records the numbers behind them); `patron eval` starts from these. Sets
 * every field of *p. */
void tune_ncf_defaults(ials_params_t *p);

/* Members of the seed ensemble (ensemble.h) `patron eval` trains by default
 * with tune_ncf_defaults, chosen on the same validation split. */
uint32_t tune_ncf_default_members(void);

/* The EASE blend (ease.h) `patron eval --ncf` uses by default: EASE's lambda
 * and the weight of the iALS side (1: iALS alone, EASE not fitted), chosen
 * on the same validation split. */
float tune_ncf_default_ease_lambda(void);
float tune_ncf_default_blend(void);

/* The popularity exponent beta `patron eval --ncf` scales each training
 * pair's strength by, (n_i / mean n)^(-beta) (ials_csr_popularity_scale),
 * chosen on the same validation split; 0 leaves the data as it is. */
float tune_ncf_default_conf_pop_exp(void);

typedef struct tune_trial {
    uint32_t index;        /* 0-based */
    ials_params_t params;
    double hr, ndcg;       /* HR@10, NDCG@10 on the validation split */
    double seconds;        /* training time */
} tune_trial_t;

/* Called after every trial with it and the best so far (by NDCG@10, then
 * HR@10). Return nonzero to stop the search. */
typedef int (*tune_trial_fn)(void *ctx, const tune_trial_t *trial,
                             const tune_trial_t *best);

typedef struct tune_config {
    ials_params_t base;    /* trial 0, and the fields not searched */
    uint32_t trials;       /* >= 1, including trial 0 */
    double seconds;        /* stop starting trials after this (0: no limit) */
    uint64_t seed;         /* of the search, not of training */
} tune_config_t;

/* trials 24, seconds 150, seed 1, base = tune_ncf_defaults. */
void tune_config_default(tune_config_t *c);

/*
 * Runs the search on val (a validation split: its test items are the held-out
 * validation items) and stores the best trial in *best. Same config and data
 * give the same trials, unless the time budget cuts the search short.
 * Returns 0, -EINVAL (bad config), -ENOMEM, or an ials_train error; trials
 * already reported stay valid.
 */
int tune_ncf(const ncf_data_t *val, const tune_config_t *c,
             tune_trial_fn on_trial, void *ctx, tune_trial_t *best);

#endif
