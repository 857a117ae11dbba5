/*
 * uplift_cate.h - learners of a coupon's expected incremental profit per
 * customer (the conditional average treatment effect on profit, "CATE"),
 * built from the boosted regressions of uplift_gbt.h.
 *
 * The T-learners (uplift.h, uplift_gbt.h) model P(buy) per arm and rank by
 * the difference of two separately fitted models, whose errors do not
 * cancel; the value of a coupon then adds the economics (margin, discount)
 * by assumption. The learners here fit the quantity targeting ranks by --
 * the coupon's effect on profit = margin - discount -- directly:
 *
 *  - DR-learner (Kennedy, "Towards optimal doubly robust estimation of
 *    heterogeneous causal effects", 2020/2023): per-arm profit regressions
 *    mu0, mu1 are cross-fitted (each row predicted by models fitted on the
 *    other folds), every row gets the doubly robust pseudo-outcome
 *      phi = mu1 - mu0 + T (Y - mu1) / e - (1 - T) (Y - mu0) / (1 - e)
 *    (e = P(coupon | x) from the log's assignment probability), and the
 *    effect is the boosted regression of phi on x.
 *  - X-learner (Kuenzel, Sekhon, Bickel & Yu, PNAS 2019): imputed effects
 *    Y - mu0(x) on the treated rows and mu1(x) - Y on the control rows, one
 *    regression per arm, combined as g tau0 + (1 - g) tau1 with g the
 *    log's weighted share of treated rows.
 *
 * Rows weigh 1 / assign_prob in the outcome regressions; rows logged with
 * probability 1 (guards: nothing was randomized) inform the outcome models
 * but not the effect (their e is 0 or 1). Folds are by row position (row i
 * in fold i mod folds), so the same rows in the same order give the same
 * model bit for bit.
 *
 * Pure computation: no storage, no I/O, no global state, no random numbers.
 * A fitted model is a plain read-only value; share it between threads.
 * Errors: 0, -EINVAL (NULL, an invalid config, an assign_prob outside
 * [0, 1], a non-finite margin or cost) or -ENOMEM.
 */
#ifndef PATRON_RECSYS_UPLIFT_CATE_H
#define PATRON_RECSYS_UPLIFT_CATE_H

#include <stddef.h>
#include <stdint.h>

#include "uplift.h"
#include "uplift_gbt.h"

typedef enum uplift_cate_method {
    UPLIFT_CATE_DR = 0,
    UPLIFT_CATE_X = 1,
} uplift_cate_method_t;

#define UPLIFT_CATE_MAX_FOLDS 10

typedef struct uplift_cate_config {
    int method;                   /* [UPLIFT_CATE_DR] uplift_cate_method_t */
    int folds;                    /* [2] DR cross-fitting folds, 2..10 */
    double prob_clip;             /* [0.02] e kept in [clip, 1 - clip], [0, 0.5) */
    uplift_gbt_config_t outcome;  /* per-arm profit regressions [200 trees, rate
                                   * 0.1, l2 20, min_hess 400] */
    uplift_gbt_config_t effect;   /* the effect regression(s) [150 trees, rate
                                   * 0.05, l2 100, min_hess 2000] */
} uplift_cate_config_t;

void uplift_cate_config_default(uplift_cate_config_t *cfg);

/* NULL if usable, else a static message naming the field. */
const char *uplift_cate_config_invalid(const uplift_cate_config_t *cfg);

typedef struct uplift_cate {
    uint32_t method;        /* uplift_cate_method_t */
    double g;               /* X-learner: weight of tau0 (control-arm model) */
    uplift_gbt_t tau[2];    /* DR: tau[0] only; X: tau0 (control), tau1 (treated) */
} uplift_cate_t;

/* Fits on logs[0..n) (cfg NULL: defaults), profit = margin - cost. Returns
 * 0, -EINVAL or -ENOMEM; *out is written only on success. */
int uplift_cate_fit(const uplift_log_t *logs, size_t n, const uplift_cate_config_t *cfg,
                    uplift_cate_t *out);

/* The expected incremental profit of giving x the coupon (in the log's
 * money: margin - discount, with the coupon minus without). */
double uplift_cate_predict(const uplift_cate_t *m, const uplift_x_t *x);

#endif
