/*
 * uplift_gbt.c - histogram gradient boosting of the logistic and squared
 * losses and the T-learner built from them (contract in uplift_gbt.h).
 *
 * Each tree is grown level by level to a fixed depth: one pass over the rows
 * sums the gradients g = w (p - y) and hessians h = w p (1 - p) per (node,
 * feature, bin), every node takes the split with the largest second-order
 * gain GL^2/(HL+l2) + GR^2/(HR+l2) - G^2/(H+l2) (Chen & Guestrin 2016, eq.
 * 7) among those leaving min_hess on each side, and a second pass routes the
 * rows. Leaves get the Newton step -G/(H+l2), shrunk by the learning rate.
 * Depth 3 lets a tree express three-way interactions, which is what the
 * customer types need; the shrinkage and min_hess keep the trees from
 * chasing noise in the small arms.
 */
#include "uplift_gbt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROB_FLOOR 1e-6          /* keeps the base logit finite */
#define MIN_GAIN 1e-9            /* below this a split is not worth it */
#define NO_SPLIT 0xffff          /* a node's split bin when it does not split */
#define DEFAULT_ASSIGN_PROB 0.5  /* as uplift.c: 0 means unknown */

void uplift_gbt_config_default(uplift_gbt_config_t *cfg)
{
    cfg->n_trees = 120;
    cfg->learn_rate = 0.1;
    cfg->l2 = 5.0;
    cfg->min_hess = 20.0;
}

const char *uplift_gbt_config_invalid(const uplift_gbt_config_t *cfg)
{
    if (!cfg)
        return "config: NULL";
    if (cfg->n_trees < 1 || cfg->n_trees > UPLIFT_GBT_MAX_TREES)
        return "n_trees: must be in 1..200";
    if (!(cfg->learn_rate > 0.0 && cfg->learn_rate <= 1.0))
        return "learn_rate: must be in (0, 1]";
    if (!(cfg->l2 >= 0.0) || !isfinite(cfg->l2))
        return "l2: must be a finite number >= 0";
    if (!(cfg->min_hess >= 0.0) || !isfinite(cfg->min_hess))
        return "min_hess: must be a finite number >= 0";
    return NULL;
}

static double nonneg(double v)
{
    return (isfinite(v) && v > 0.0) ? v : 0.0;
}

void uplift_gbt_features(const uplift_x_t *x, double out[UPLIFT_GBT_DIM])
{
    int known = isfinite(x->propensity) && x->propensity >= 0.0;
    out[0] = nonneg(x->recency_days);
    out[1] = nonneg(x->orders);
    out[2] = nonneg(x->monetary);
    out[3] = nonneg(x->average_basket);
    out[4] = known ? (x->propensity > 1.0 ? 1.0 : x->propensity) : -1.0;
    out[5] = (x->stage >= 0 && x->stage < UPLIFT_N_SEGMENTS) ? (double)x->stage : -1.0;
}

static double sigmoid(double z)
{
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static double tree_output(const uplift_gbt_tree_t *t, const double *x)
{
    unsigned j = 0;
    while (j < UPLIFT_GBT_NODES)
        j = 2 * j + (x[t->feature[j]] <= t->threshold[j] ? 1u : 2u);
    return t->leaf[j - UPLIFT_GBT_NODES];
}

double uplift_gbt_value(const uplift_gbt_t *m, const double *x)
{
    double z = m->base;
    for (uint32_t k = 0; k < m->n_trees && k < UPLIFT_GBT_MAX_TREES; k++)
        z += tree_output(&m->tree[k], x);
    return z;
}

double uplift_gbt_predict(const uplift_gbt_t *m, const double *x)
{
    return sigmoid(uplift_gbt_value(m, x));
}

const char *uplift_gbt_invalid(const uplift_gbt_t *m)
{
    if (!m)
        return "model: NULL";
    if (m->n_trees > UPLIFT_GBT_MAX_TREES)
        return "trees: more than this build has";
    if (!isfinite(m->base))
        return "base: not a finite number";
    for (uint32_t k = 0; k < m->n_trees; k++) {
        const uplift_gbt_tree_t *t = &m->tree[k];
        for (int j = 0; j < UPLIFT_GBT_NODES; j++)
            if (t->feature[j] >= UPLIFT_GBT_DIM || isnan(t->threshold[j]))
                return "tree: a split on an unknown feature or a NaN threshold";
        for (int j = 0; j < UPLIFT_GBT_LEAVES; j++)
            if (!isfinite(t->leaf[j]))
                return "tree: a leaf value that is not a finite number";
    }
    return NULL;
}

/* ---- binning --------------------------------------------------------------------- */

/* Quantile cut points of each feature: cuts[f][0..n_cuts[f]) ascending. */
typedef struct bins {
    double cuts[UPLIFT_GBT_DIM][UPLIFT_GBT_BINS - 1];
    int n_cuts[UPLIFT_GBT_DIM];
} bins_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int make_bins(const double *X, size_t n, bins_t *b)
{
    double *v = malloc(n * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (int f = 0; f < UPLIFT_GBT_DIM; f++) {
        for (size_t i = 0; i < n; i++)
            v[i] = X[i * UPLIFT_GBT_DIM + (size_t)f];
        qsort(v, n, sizeof *v, cmp_double);
        int m = 0;
        for (size_t q = 1; q < UPLIFT_GBT_BINS; q++) {
            double c = v[q * n / UPLIFT_GBT_BINS];
            /* a cut at the maximum would leave its right side empty */
            if (c < v[n - 1] && (m == 0 || c > b->cuts[f][m - 1]))
                b->cuts[f][m++] = c;
        }
        b->n_cuts[f] = m;
    }
    free(v);
    return 0;
}

/* The bin of value x: the first cut >= x, or n_cuts past the last. */
static uint8_t bin_of(const double *cuts, int n_cuts, double x)
{
    int lo = 0, hi = n_cuts;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (x <= cuts[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return (uint8_t)lo;
}

/* ---- growing one tree ------------------------------------------------------------- */

typedef struct grow {
    size_t n;
    const uint8_t *bin;    /* n x UPLIFT_GBT_DIM */
    const double *g, *h;
    uint8_t *node;         /* per row: its node at the current level */
    const bins_t *bins;
    const uplift_gbt_config_t *cfg;
} grow_t;

typedef struct hist {
    double g[UPLIFT_GBT_DIM][UPLIFT_GBT_BINS];
    double h[UPLIFT_GBT_DIM][UPLIFT_GBT_BINS];
} hist_t;

static double leaf_score(double g, double h, double l2)
{
    return h + l2 > 0.0 ? g * g / (h + l2) : 0.0;
}

/* The best split of one node from its histogram: sets *feature, *split_bin
 * (NO_SPLIT if none gains) and *threshold. */
static void best_split(const grow_t *G, const hist_t *hs, uint8_t *feature,
                       unsigned *split_bin, double *threshold)
{
    const uplift_gbt_config_t *c = G->cfg;
    double best = MIN_GAIN;
    double gt = 0.0, ht = 0.0;
    for (int b = 0; b < UPLIFT_GBT_BINS; b++) {
        gt += hs->g[0][b];
        ht += hs->h[0][b];
    }
    double parent = leaf_score(gt, ht, c->l2);
    *feature = 0;
    *split_bin = NO_SPLIT;
    *threshold = INFINITY;
    for (int f = 0; f < UPLIFT_GBT_DIM; f++) {
        double gl = 0.0, hl = 0.0;
        for (int b = 0; b < G->bins->n_cuts[f]; b++) {
            gl += hs->g[f][b];
            hl += hs->h[f][b];
            double gr = gt - gl, hr = ht - hl;
            if (hl < c->min_hess || hr < c->min_hess)
                continue;
            double gain = leaf_score(gl, hl, c->l2) + leaf_score(gr, hr, c->l2) - parent;
            if (gain > best) {
                best = gain;
                *feature = (uint8_t)f;
                *split_bin = (unsigned)b;
                *threshold = G->bins->cuts[f][b];
            }
        }
    }
}

/* Grows the splits of level d (nodes first..first+count) and routes rows. */
static int grow_level(const grow_t *G, unsigned first, unsigned count, uplift_gbt_tree_t *t)
{
    hist_t *hs = calloc(count, sizeof *hs);
    unsigned split[UPLIFT_GBT_NODES];
    if (!hs)
        return -ENOMEM;
    for (size_t i = 0; i < G->n; i++) {
        hist_t *h = &hs[G->node[i] - first];
        const uint8_t *b = G->bin + i * UPLIFT_GBT_DIM;
        for (int f = 0; f < UPLIFT_GBT_DIM; f++) {
            h->g[f][b[f]] += G->g[i];
            h->h[f][b[f]] += G->h[i];
        }
    }
    for (unsigned k = 0; k < count; k++)
        best_split(G, &hs[k], &t->feature[first + k], &split[first + k],
                   &t->threshold[first + k]);
    for (size_t i = 0; i < G->n; i++) {
        unsigned j = G->node[i];
        int left = split[j] == NO_SPLIT || G->bin[i * UPLIFT_GBT_DIM + t->feature[j]] <= split[j];
        G->node[i] = (uint8_t)(2 * j + (left ? 1 : 2));
    }
    free(hs);
    return 0;
}

/* Grows one tree on the current gradients and sets its leaves. */
static int grow_tree(const grow_t *G, uplift_gbt_tree_t *t)
{
    double lg[UPLIFT_GBT_LEAVES] = { 0 }, lh[UPLIFT_GBT_LEAVES] = { 0 };
    memset(t, 0, sizeof *t);
    memset(G->node, 0, G->n);
    for (unsigned d = 0; d < UPLIFT_GBT_DEPTH; d++) {
        int rc = grow_level(G, (1u << d) - 1, 1u << d, t);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < G->n; i++) {
        lg[G->node[i] - UPLIFT_GBT_NODES] += G->g[i];
        lh[G->node[i] - UPLIFT_GBT_NODES] += G->h[i];
    }
    for (int l = 0; l < UPLIFT_GBT_LEAVES; l++)
        t->leaf[l] = lh[l] + G->cfg->l2 > 0.0
                         ? -G->cfg->learn_rate * lg[l] / (lh[l] + G->cfg->l2)
                         : 0.0;
    return 0;
}

/* ---- fitting ------------------------------------------------------------------------ */

static double base_logit(const uint8_t *y, const double *w, size_t n)
{
    double sw = 0.0, sy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        sw += wi;
        sy += y[i] ? wi : 0.0;
    }
    double p = sw > 0.0 ? sy / sw : 0.5;
    p = p < PROB_FLOOR ? PROB_FLOOR : p > 1.0 - PROB_FLOOR ? 1.0 - PROB_FLOOR : p;
    return log(p / (1.0 - p));
}

/* Boosts m (base set) on labels y (logistic loss) or, when y is NULL, on
 * real targets t (squared loss: g = w (F - t), h = w). */
static int boost(const double *X, const uint8_t *y, const double *t, const double *w,
                 size_t n, const uplift_gbt_config_t *cfg, uplift_gbt_t *m)
{
    bins_t *bins = malloc(sizeof *bins);
    uint8_t *bin = malloc(n * UPLIFT_GBT_DIM), *node = malloc(n);
    double *F = malloc(n * sizeof *F), *g = malloc(n * sizeof *g), *h = malloc(n * sizeof *h);
    int rc = bins && bin && node && F && g && h ? 0 : -ENOMEM;
    if (rc == 0)
        rc = make_bins(X, n, bins);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        for (int f = 0; f < UPLIFT_GBT_DIM; f++)
            bin[i * UPLIFT_GBT_DIM + (size_t)f] =
                bin_of(bins->cuts[f], bins->n_cuts[f], X[i * UPLIFT_GBT_DIM + (size_t)f]);
        F[i] = m->base;
    }
    grow_t G = { n, bin, g, h, node, bins, cfg };
    for (int k = 0; rc == 0 && k < cfg->n_trees; k++) {
        for (size_t i = 0; i < n; i++) {
            double wi = w ? w[i] : 1.0;
            if (y) {
                double p = sigmoid(F[i]);
                g[i] = wi * (p - (y[i] ? 1.0 : 0.0));
                h[i] = wi * p * (1.0 - p);
            } else {
                g[i] = wi * (F[i] - t[i]);
                h[i] = wi;
            }
        }
        uplift_gbt_tree_t *tree = &m->tree[k];
        if ((rc = grow_tree(&G, tree)) != 0)
            break;
        for (size_t i = 0; i < n; i++)
            F[i] += tree->leaf[node[i] - UPLIFT_GBT_NODES];
        m->n_trees = (uint32_t)k + 1;
    }
    free(bins);
    free(bin);
    free(node);
    free(F);
    free(g);
    free(h);
    return rc;
}

/* The weighted mean of t (0 without weight). */
static double base_mean(const double *t, const double *w, size_t n)
{
    double sw = 0.0, st = 0.0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        sw += wi;
        st += wi * t[i];
    }
    return sw > 0.0 ? st / sw : 0.0;
}

/* Checks the arguments of both fits and boosts (y: labels, else t). */
static int fit_checked(const double *X, const uint8_t *y, const double *t, const double *w,
                       size_t n, const uplift_gbt_config_t *cfg, uplift_gbt_t *out)
{
    uplift_gbt_config_t def;
    if (!cfg) {
        uplift_gbt_config_default(&def);
        cfg = &def;
    }
    if (!out || (n > 0 && (!X || (!y && !t))) || uplift_gbt_config_invalid(cfg))
        return -EINVAL;
    for (size_t i = 0; i < n * UPLIFT_GBT_DIM; i++)
        if (!isfinite(X[i]))
            return -EINVAL;
    for (size_t i = 0; w && i < n; i++)
        if (!(w[i] >= 0.0) || !isfinite(w[i]))
            return -EINVAL;
    for (size_t i = 0; !y && i < n; i++)
        if (!isfinite(t[i]))
            return -EINVAL;
    uplift_gbt_t *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->base = y ? base_logit(y, w, n) : base_mean(t, w, n);
    int rc = n > 0 ? boost(X, y, t, w, n, cfg, m) : 0;
    if (rc == 0)
        *out = *m;
    free(m);
    return rc;
}

int uplift_gbt_fit(const double *X, const uint8_t *y, const double *w, size_t n,
                   const uplift_gbt_config_t *cfg, uplift_gbt_t *out)
{
    if (n > 0 && !y)
        return -EINVAL;
    return fit_checked(X, y, NULL, w, n, cfg, out);
}

int uplift_gbt_fit_reg(const double *X, const double *t, const double *w, size_t n,
                       const uplift_gbt_config_t *cfg, uplift_gbt_t *out)
{
    if (n > 0 && !t)
        return -EINVAL;
    return fit_checked(X, NULL, t, w, n, cfg, out);
}

/* ---- the T-learner -------------------------------------------------------------------- */

static int fit_arm(const uplift_log_t *logs, size_t n, int treated,
                   const uplift_gbt_config_t *cfg, double *X, uint8_t *y, double *w,
                   uplift_gbt_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if ((logs[i].treated != 0) != treated)
            continue;
        uplift_gbt_features(&logs[i].x, X + m * UPLIFT_GBT_DIM);
        y[m] = logs[i].bought != 0;
        w[m] = 1.0 / (logs[i].assign_prob > 0.0 ? logs[i].assign_prob : DEFAULT_ASSIGN_PROB);
        m++;
    }
    return uplift_gbt_fit(X, y, w, m, cfg, out);
}

int uplift_gbt_tl_fit(const uplift_log_t *logs, size_t n,
                      const uplift_gbt_config_t *cfg, uplift_gbt_tl_t *out)
{
    if (!out || (n > 0 && !logs) || (cfg && uplift_gbt_config_invalid(cfg)))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!(logs[i].assign_prob >= 0.0 && logs[i].assign_prob <= 1.0))
            return -EINVAL;
    /* calloc: an arm with no rows passes zeroed (unread) buffers */
    double *X = calloc((n ? n : 1) * UPLIFT_GBT_DIM, sizeof *X);
    uint8_t *y = calloc(n ? n : 1, 1);
    double *w = calloc(n ? n : 1, sizeof *w);
    uplift_gbt_tl_t *m = malloc(sizeof *m);
    int rc = X && y && w && m ? 0 : -ENOMEM;
    if (rc == 0)
        rc = fit_arm(logs, n, 1, cfg, X, y, w, &m->treated);
    if (rc == 0)
        rc = fit_arm(logs, n, 0, cfg, X, y, w, &m->control);
    if (rc == 0)
        *out = *m;
    free(X);
    free(y);
    free(w);
    free(m);
    return rc;
}

void uplift_gbt_tl_predict(const uplift_gbt_tl_t *m, const uplift_x_t *x,
                           uplift_pred_t *out)
{
    double f[UPLIFT_GBT_DIM];
    uplift_gbt_features(x, f);
    out->p_control = uplift_gbt_predict(&m->control, f);
    out->p_treated = uplift_gbt_predict(&m->treated, f);
    out->uplift = out->p_treated - out->p_control;
    out->p_response = 0.5 * (out->p_control + out->p_treated);
    out->weight = 1.0;
}
