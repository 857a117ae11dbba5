/*
 * uplift_gbt.h - gradient-boosted trees for a purchase probability, and the
 * two-model ("T-") uplift learner built from them.
 *
 * The logistic T-learner (uplift.h) sees each feature through one slope, so
 * it cannot express "persuadable = lapsing for a while but not gone, low
 * purchase propensity, mid-sized basket": an interaction the type structure
 * of real customers has. Shallow boosted trees (Friedman, "Greedy function
 * approximation: a gradient boosting machine", 2001; the second-order leaf
 * and gain formulas of Chen & Guestrin, "XGBoost", KDD 2016) learn such
 * interactions from the same randomized log and stay cheap to evaluate
 * (UPLIFT_GBT_DEPTH comparisons per tree).
 *
 *  - Features: recency, orders, monetary, average basket, the factor-based
 *    propensity (unknown = -1, below every known value) and the lifecycle
 *    stage as a number (trees split it into groups), uplift_gbt_features.
 *  - Splits are searched over at most UPLIFT_GBT_BINS quantile cut points per
 *    feature (histogram boosting), so a tree costs two passes over the rows
 *    per level.
 *  - Trees are complete binary trees of depth UPLIFT_GBT_DEPTH stored as
 *    plain arrays: a node that does not split sends every row left
 *    (threshold +inf). The model is a plain value with no pointers.
 *
 * Pure computation: no storage, no I/O, no global state, no random numbers;
 * the same rows in the same order give the same model bit for bit.
 * Thread safety: a fitted model is read-only; share it freely.
 *
 * Errors: functions returning int return 0, -EINVAL for a NULL or invalid
 * argument, or -ENOMEM.
 */
#ifndef PATRON_RECSYS_UPLIFT_GBT_H
#define PATRON_RECSYS_UPLIFT_GBT_H

#include <stddef.h>
#include <stdint.h>

#include "uplift.h"

#define UPLIFT_GBT_DIM 6
#define UPLIFT_GBT_DEPTH 3
#define UPLIFT_GBT_NODES 7     /* internal nodes: 2^DEPTH - 1 */
#define UPLIFT_GBT_LEAVES 8    /* 2^DEPTH */
#define UPLIFT_GBT_MAX_TREES 200
#define UPLIFT_GBT_BINS 64

typedef struct uplift_gbt_config {
    int n_trees;          /* [120] 1..UPLIFT_GBT_MAX_TREES */
    double learn_rate;    /* [0.1] shrinkage per tree, in (0, 1] */
    double l2;            /* [5] ridge on leaf values (hessian units), >= 0 */
    double min_hess;      /* [20] least hessian (about p(1-p) x weighted
                           * rows) each side of a split must keep, >= 0 */
} uplift_gbt_config_t;

void uplift_gbt_config_default(uplift_gbt_config_t *cfg);

/* NULL if usable, else a static message naming the field. */
const char *uplift_gbt_config_invalid(const uplift_gbt_config_t *cfg);

/* One tree: node j's children are 2j+1 and 2j+2; a row goes left when
 * x[feature[j]] <= threshold[j]; after UPLIFT_GBT_DEPTH steps it reaches
 * leaf (node - UPLIFT_GBT_NODES). */
typedef struct uplift_gbt_tree {
    uint8_t feature[UPLIFT_GBT_NODES];
    double threshold[UPLIFT_GBT_NODES];
    double leaf[UPLIFT_GBT_LEAVES];
} uplift_gbt_tree_t;

/* P(y=1|x) = 1/(1+exp(-(base + sum of the trees' leaves))). */
typedef struct uplift_gbt {
    uint32_t n_trees;
    double base;          /* logit of the weighted mean outcome */
    uplift_gbt_tree_t tree[UPLIFT_GBT_MAX_TREES];
} uplift_gbt_t;

/* Maps x to the trees' feature vector out[UPLIFT_GBT_DIM]. Negative or
 * non-finite values count as 0, an unknown propensity as -1 and a stage
 * outside the enum as -1. */
void uplift_gbt_features(const uplift_x_t *x, double out[UPLIFT_GBT_DIM]);

/*
 * Fits P(y=1|x) on n rows of X (row-major n x UPLIFT_GBT_DIM, finite), y in
 * {0,1}, w optional per-row weights (NULL = 1) by Newton boosting of the
 * logistic loss (cfg NULL: defaults). With n == 0 (or zero total weight)
 * the model is the constant logit(0.5) with no trees. Returns 0, -EINVAL or
 * -ENOMEM; *out is written only on success.
 */
int uplift_gbt_fit(const double *X, const uint8_t *y, const double *w, size_t n,
                   const uplift_gbt_config_t *cfg, uplift_gbt_t *out);

/*
 * Fits E[t|x] for real targets t[0..n) (finite) by boosting the squared loss
 * with the same trees (g = w (F - t), h = w, so min_hess and l2 count
 * weighted rows); the base is the weighted mean of t. Predict with
 * uplift_gbt_value. Returns 0, -EINVAL or -ENOMEM; *out is written only on
 * success.
 */
int uplift_gbt_fit_reg(const double *X, const double *t, const double *w, size_t n,
                       const uplift_gbt_config_t *cfg, uplift_gbt_t *out);

/* The model's P(y=1|x) for one feature vector (UPLIFT_GBT_DIM values). */
double uplift_gbt_predict(const uplift_gbt_t *m, const double *x);

/* base + the trees' leaves for x: a uplift_gbt_fit_reg model's prediction
 * (a uplift_gbt_fit model's logit). */
double uplift_gbt_value(const uplift_gbt_t *m, const double *x);

/* NULL if m could have come from uplift_gbt_fit (tree count in range,
 * feature indices valid, numbers not NaN), else a static message: for
 * models read back from storage. */
const char *uplift_gbt_invalid(const uplift_gbt_t *m);

/* ---- the boosted T-learner --------------------------------------------------- */

/* P(buy | coupon, x) and P(buy | no coupon, x), each fitted on its arm's rows
 * of a randomized log weighted 1 / assign_prob. */
typedef struct uplift_gbt_tl {
    uplift_gbt_t treated, control;
} uplift_gbt_tl_t;

/* Fits both arms on logs[0..n) (cfg NULL: defaults). Returns 0, -EINVAL
 * (NULL, an assign_prob outside [0, 1]) or -ENOMEM; *out is written only on
 * success. */
int uplift_gbt_tl_fit(const uplift_log_t *logs, size_t n,
                      const uplift_gbt_config_t *cfg, uplift_gbt_tl_t *out);

/* The two arms' probabilities for x into out (p_control, p_treated,
 * uplift = their difference, p_response = their mean, weight 1). */
void uplift_gbt_tl_predict(const uplift_gbt_tl_t *m, const uplift_x_t *x,
                           uplift_pred_t *out);

#endif
