/*
 * uplift_cate.c - DR- and X-learners of the coupon's effect on profit
 * (contract in uplift_cate.h).
 */
#include "uplift_cate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ASSIGN_PROB 0.5   /* as uplift.c: 0 means unknown */

void uplift_cate_config_default(uplift_cate_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->method = UPLIFT_CATE_DR;
    cfg->folds = 2;
    cfg->prob_clip = 0.02;
    cfg->outcome = (uplift_gbt_config_t){ 200, 0.1, 20.0, 400.0 };
    cfg->effect = (uplift_gbt_config_t){ 150, 0.05, 100.0, 2000.0 };
}

const char *uplift_cate_config_invalid(const uplift_cate_config_t *cfg)
{
    const char *why;
    if (!cfg)
        return "config: NULL";
    if (cfg->method != UPLIFT_CATE_DR && cfg->method != UPLIFT_CATE_X)
        return "method: must be UPLIFT_CATE_DR or UPLIFT_CATE_X";
    if (cfg->folds < 2 || cfg->folds > UPLIFT_CATE_MAX_FOLDS)
        return "folds: must be in 2..10";
    if (!(cfg->prob_clip >= 0.0 && cfg->prob_clip < 0.5))
        return "prob_clip: must be in [0, 0.5)";
    if ((why = uplift_gbt_config_invalid(&cfg->outcome)) != NULL)
        return why;
    return uplift_gbt_config_invalid(&cfg->effect);
}

/* P(this row's logged action). */
static double logged_prob(const uplift_log_t *l)
{
    return l->assign_prob > 0.0 ? l->assign_prob : DEFAULT_ASSIGN_PROB;
}

/* P(coupon | x) of the row, clipped; 0 for a row that was not randomized. */
static double treat_prob(const uplift_log_t *l, double clip)
{
    double p = logged_prob(l);
    if (p >= 1.0)
        return 0.0;
    double e = l->treated ? p : 1.0 - p;
    return e < clip ? clip : e > 1.0 - clip ? 1.0 - clip : e;
}

static double profit(const uplift_log_t *l)
{
    return l->margin - l->cost;
}

typedef struct scratch {
    double *X;      /* n x UPLIFT_GBT_DIM features of every row */
    double *Xs;     /* a subset's features */
    double *t, *w;  /* a subset's targets and weights */
} scratch_t;

/* Fits arm `treated`'s profit regression on the rows with
 * (fold < 0 || i % folds != fold). */
static int fit_arm(const uplift_log_t *logs, size_t n, const scratch_t *sc, int treated,
                   int fold, int folds, const uplift_gbt_config_t *cfg, uplift_gbt_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if ((logs[i].treated != 0) != treated || (fold >= 0 && (int)(i % (size_t)folds) == fold))
            continue;
        memcpy(sc->Xs + m * UPLIFT_GBT_DIM, sc->X + i * UPLIFT_GBT_DIM,
               UPLIFT_GBT_DIM * sizeof *sc->X);
        sc->t[m] = profit(&logs[i]);
        sc->w[m] = 1.0 / logged_prob(&logs[i]);
        m++;
    }
    return uplift_gbt_fit_reg(sc->Xs, sc->t, sc->w, m, cfg, out);
}

/* DR: cross-fitted pseudo-outcomes, then one regression. */
static int fit_dr(const uplift_log_t *logs, size_t n, const uplift_cate_config_t *cfg,
                  const scratch_t *sc, uplift_gbt_t *mu, uplift_cate_t *out)
{
    double *phi = malloc((n ? n : 1) * sizeof *phi), *wphi = malloc((n ? n : 1) * sizeof *wphi);
    int rc = phi && wphi ? 0 : -ENOMEM;
    for (int f = 0; rc == 0 && f < cfg->folds; f++) {
        if ((rc = fit_arm(logs, n, sc, 0, f, cfg->folds, &cfg->outcome, &mu[0])) != 0 ||
            (rc = fit_arm(logs, n, sc, 1, f, cfg->folds, &cfg->outcome, &mu[1])) != 0)
            break;
        for (size_t i = (size_t)f; i < n; i += (size_t)cfg->folds) {
            const double *x = sc->X + i * UPLIFT_GBT_DIM;
            double m0 = uplift_gbt_value(&mu[0], x), m1 = uplift_gbt_value(&mu[1], x);
            double e = treat_prob(&logs[i], cfg->prob_clip), y = profit(&logs[i]);
            wphi[i] = e > 0.0 ? 1.0 : 0.0;
            phi[i] = e <= 0.0 ? 0.0
                     : logs[i].treated ? m1 - m0 + (y - m1) / e
                                       : m1 - m0 - (y - m0) / (1.0 - e);
        }
    }
    if (rc == 0)
        rc = uplift_gbt_fit_reg(sc->X, phi, wphi, n, &cfg->effect, &out->tau[0]);
    free(phi);
    free(wphi);
    return rc;
}

/* X: imputed effects per arm against the other arm's outcome model. */
static int fit_x(const uplift_log_t *logs, size_t n, const uplift_cate_config_t *cfg,
                 const scratch_t *sc, uplift_gbt_t *mu, uplift_cate_t *out)
{
    double w1 = 0.0, w0 = 0.0;
    int rc;
    if ((rc = fit_arm(logs, n, sc, 0, -1, 1, &cfg->outcome, &mu[0])) != 0 ||
        (rc = fit_arm(logs, n, sc, 1, -1, 1, &cfg->outcome, &mu[1])) != 0)
        return rc;
    for (int arm = 0; rc == 0 && arm <= 1; arm++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if ((logs[i].treated != 0) != arm)
                continue;
            const double *x = sc->X + i * UPLIFT_GBT_DIM;
            double y = profit(&logs[i]), w = 1.0 / logged_prob(&logs[i]);
            memcpy(sc->Xs + m * UPLIFT_GBT_DIM, x, UPLIFT_GBT_DIM * sizeof *x);
            sc->t[m] = arm ? y - uplift_gbt_value(&mu[0], x) : uplift_gbt_value(&mu[1], x) - y;
            sc->w[m] = w;
            *(arm ? &w1 : &w0) += w;
            m++;
        }
        rc = uplift_gbt_fit_reg(sc->Xs, sc->t, sc->w, m, &cfg->effect, &out->tau[arm]);
    }
    /* tau = g tau0 + (1 - g) tau1, g = P(treated): the arm with more rows
     * imputes the other's effect better (Kuenzel et al. 2019, sec. 3) */
    out->g = w0 + w1 > 0.0 ? w1 / (w0 + w1) : 0.5;
    return rc;
}

int uplift_cate_fit(const uplift_log_t *logs, size_t n, const uplift_cate_config_t *cfg,
                    uplift_cate_t *out)
{
    uplift_cate_config_t def;
    if (!cfg) {
        uplift_cate_config_default(&def);
        cfg = &def;
    }
    if (!out || (n > 0 && !logs) || uplift_cate_config_invalid(cfg))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!(logs[i].assign_prob >= 0.0 && logs[i].assign_prob <= 1.0) ||
            !isfinite(logs[i].margin) || !isfinite(logs[i].cost))
            return -EINVAL;
    size_t cap = n ? n : 1;
    scratch_t sc = { malloc(cap * UPLIFT_GBT_DIM * sizeof *sc.X),
                     malloc(cap * UPLIFT_GBT_DIM * sizeof *sc.Xs), malloc(cap * sizeof *sc.t),
                     malloc(cap * sizeof *sc.w) };
    uplift_gbt_t *mu = malloc(2 * sizeof *mu);
    uplift_cate_t *m = calloc(1, sizeof *m);
    int rc = sc.X && sc.Xs && sc.t && sc.w && mu && m ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        uplift_gbt_features(&logs[i].x, sc.X + i * UPLIFT_GBT_DIM);
    if (rc == 0) {
        m->method = (uint32_t)cfg->method;
        rc = cfg->method == UPLIFT_CATE_DR ? fit_dr(logs, n, cfg, &sc, mu, m)
                                           : fit_x(logs, n, cfg, &sc, mu, m);
    }
    if (rc == 0)
        *out = *m;
    free(sc.X);
    free(sc.Xs);
    free(sc.t);
    free(sc.w);
    free(mu);
    free(m);
    return rc;
}

double uplift_cate_predict(const uplift_cate_t *m, const uplift_x_t *x)
{
    double f[UPLIFT_GBT_DIM];
    uplift_gbt_features(x, f);
    if (m->method == UPLIFT_CATE_X)
        return m->g * uplift_gbt_value(&m->tau[0], f) +
               (1.0 - m->g) * uplift_gbt_value(&m->tau[1], f);
    return uplift_gbt_value(&m->tau[0], f);
}
