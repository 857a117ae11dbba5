/*
 * uplift.c - uplift model, evaluation and budget pacing (contract in
 * uplift.h).
 *
 * The model is the two-model learner of Kunzel et al., "Metalearners for
 * estimating heterogeneous treatment effects" (PNAS 2019), with logistic
 * regressions for the two arms: tau(x) = P(buy | treated, x) - P(buy |
 * control, x). It needs only randomized logs and is easy to explain; its
 * known weakness (each arm's errors add up in the difference) is what the
 * shrinkage towards per-stage priors tempers where data is thin.
 *
 * Logistic regressions are fitted by Newton's method (IRLS): with at most
 * UPLIFT_DIM coefficients the Hessian is tiny, so each iteration is one pass
 * over the rows plus a Cholesky solve, and ~10 iterations converge, with no
 * learning rate to tune and the same answer every run.
 *
 * The Qini curve follows Radcliffe, "Using control groups to target on
 * predicted lift" (2007). The pacer is a PI controller on log lambda, the
 * shape of the budget-pacing controllers in ad auctions (e.g. Balseiro &
 * Gur, "Learning in repeated auctions with budgets", 2019, use a
 * multiplicative dual update; the I term removes its steady-state lag).
 */
#include "uplift.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chol.h"
#include "hash.h"
#include "rng.h"

#define INTERCEPT_PENALTY 1e-6   /* share of l2 applied to the intercept */
#define STEP_TOL 1e-8            /* Newton stops below this largest step */
#define PROB_FLOOR 1e-12         /* keeps logit() finite */
#define DEFAULT_ASSIGN_PROB 0.5
/* Salts the train/test split hash apart from coupon.c's holdout and
 * exploration salts: the test side must not be (or avoid) the holdout. */
#define SPLIT_SALT 0x5d1c0a7e5b117e57ULL
#define HASH_UNIT 0x1.0p-53      /* 53-bit hash -> [0, 1) */

/* ---- features ------------------------------------------------------------------ */

static double nonneg(double v)
{
    return (isfinite(v) && v > 0.0) ? v : 0.0;
}

static double logit(double p)
{
    if (p < PROB_FLOOR)
        p = PROB_FLOOR;
    if (p > 1.0 - PROB_FLOOR)
        p = 1.0 - PROB_FLOOR;
    return log(p / (1.0 - p));
}

void uplift_featurize(const uplift_x_t *x, double out[UPLIFT_DIM])
{
    int known = isfinite(x->propensity) && x->propensity >= 0.0;
    memset(out, 0, UPLIFT_DIM * sizeof out[0]);
    out[0] = 1.0;
    out[1] = log1p(nonneg(x->recency_days));
    out[2] = log1p(nonneg(x->orders));
    out[3] = log1p(nonneg(x->monetary));
    out[4] = log1p(nonneg(x->average_basket));
    /* An unknown propensity contributes nothing; the flag lets the model
     * learn a separate level for those customers. */
    out[5] = known ? logit(x->propensity) : 0.0;
    out[6] = known ? 1.0 : 0.0;
    if (x->stage >= 0 && x->stage < UPLIFT_N_SEGMENTS)
        out[7 + x->stage] = 1.0;
}

/* ---- logistic regression --------------------------------------------------------- */

double uplift_logreg_predict(const double *beta, const double *x, size_t d)
{
    double z = 0.0;
    for (size_t j = 0; j < d; j++)
        z += beta[j] * x[j];
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* Gradient g and Hessian H of the penalized log-likelihood at beta (H is
 * the negated Hessian, positive definite). */
static void logreg_grad_hess(const double *X, const uint8_t *y, const double *w,
                             size_t n, size_t d, double l2, const double *prior,
                             const double *beta, double *g, double *H)
{
    memset(g, 0, d * sizeof *g);
    memset(H, 0, d * d * sizeof *H);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d;
        double wi = w ? w[i] : 1.0;
        double p = uplift_logreg_predict(beta, x, d);
        double r = wi * ((y[i] ? 1.0 : 0.0) - p);
        double v = wi * p * (1.0 - p);
        for (size_t j = 0; j < d; j++) {
            g[j] += r * x[j];
            double vx = v * x[j];
            for (size_t k = 0; k <= j; k++)
                H[j * d + k] += vx * x[k];
        }
    }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < j; k++)
            H[k * d + j] = H[j * d + k];
    for (size_t j = 0; j < d; j++) {
        double lam = j == 0 ? l2 * INTERCEPT_PENALTY : l2;
        double p0 = prior ? prior[j] : 0.0;
        g[j] -= lam * (beta[j] - p0);
        H[j * d + j] += lam;
    }
}

/* log(1 + exp(z)) without overflow. */
static double log1pexp(double z)
{
    return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* The penalized negative log-likelihood the fit minimizes. */
static double logreg_loss(const double *X, const uint8_t *y, const double *w,
                          size_t n, size_t d, double l2, const double *prior,
                          const double *beta)
{
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d;
        double z = 0.0;
        for (size_t j = 0; j < d; j++)
            z += beta[j] * x[j];
        loss += (w ? w[i] : 1.0) * (log1pexp(z) - (y[i] ? z : 0.0));
    }
    for (size_t j = 0; j < d; j++) {
        double lam = j == 0 ? l2 * INTERCEPT_PENALTY : l2;
        double diff = beta[j] - (prior ? prior[j] : 0.0);
        loss += 0.5 * lam * diff * diff;
    }
    return loss;
}

/* Plain Newton can overshoot on (nearly) separable data; halving the step
 * until the loss does not rise makes every iteration a descent step. */
#define MAX_HALVINGS 30

int uplift_logreg_fit(const double *X, const uint8_t *y, const double *w,
                      size_t n, size_t d, double l2, const double *prior,
                      int max_iter, double *beta)
{
    if ((n > 0 && (!X || !y)) || !beta || d == 0 || d > UPLIFT_DIM ||
        !(l2 >= 0.0) || max_iter < 1)
        return -EINVAL;
    double g[UPLIFT_DIM], H[UPLIFT_DIM * UPLIFT_DIM], trial[UPLIFT_DIM];
    double loss = logreg_loss(X, y, w, n, d, l2, prior, beta);
    for (int it = 0; it < max_iter; it++) {
        logreg_grad_hess(X, y, w, n, d, l2, prior, beta, g, H);
        int rc = chol_solve(H, g, d);
        if (rc)
            return rc;
        double t = 1.0, next = loss;
        for (int h = 0; h < MAX_HALVINGS; h++, t *= 0.5) {
            for (size_t j = 0; j < d; j++)
                trial[j] = beta[j] + t * g[j];
            next = logreg_loss(X, y, w, n, d, l2, prior, trial);
            if (next <= loss)
                break;
        }
        if (!isfinite(next))
            return -EDOM;
        if (next > loss)
            break;   /* no descent left: at the optimum to rounding */
        double biggest = 0.0;
        for (size_t j = 0; j < d; j++) {
            if (fabs(trial[j] - beta[j]) > biggest)
                biggest = fabs(trial[j] - beta[j]);
            beta[j] = trial[j];
        }
        loss = next;
        if (biggest < STEP_TOL)
            break;
    }
    return 0;
}

/* ---- configuration ----------------------------------------------------------------- */

void uplift_config_default(uplift_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->l2 = 1.0;
    cfg->max_iter = 25;
    cfg->prior_strength = 200.0;
    for (int s = 0; s < UPLIFT_N_SEGMENTS; s++) {
        cfg->prior[s].base_rate = 0.05;
        cfg->prior[s].uplift = 0.02;
    }
}

const char *uplift_config_invalid(const uplift_config_t *cfg)
{
    if (!cfg)
        return "config: NULL";
    if (!(cfg->l2 >= 0.0) || !isfinite(cfg->l2))
        return "l2: must be a finite number >= 0";
    if (cfg->max_iter < 1)
        return "max_iter: must be >= 1";
    if (!(cfg->prior_strength >= 0.0) || !isfinite(cfg->prior_strength))
        return "prior_strength: must be a finite number >= 0";
    for (int s = 0; s < UPLIFT_N_SEGMENTS; s++) {
        const uplift_prior_t *p = &cfg->prior[s];
        if (!(p->base_rate > 0.0 && p->base_rate < 1.0))
            return "prior.base_rate: must be in (0, 1)";
        double t = p->base_rate + p->uplift;
        if (!(t > 0.0 && t < 1.0))
            return "prior.uplift: base_rate + uplift must be in (0, 1)";
    }
    return NULL;
}

int uplift_model_init(uplift_model_t *m, const uplift_config_t *cfg)
{
    uplift_config_t def;
    if (!m)
        return -EINVAL;
    if (!cfg) {
        uplift_config_default(&def);
        cfg = &def;
    }
    if (uplift_config_invalid(cfg))
        return -EINVAL;
    memset(m, 0, sizeof *m);
    m->version = UPLIFT_MODEL_VERSION;
    m->cfg = *cfg;
    return 0;
}

/* ---- the T-learner ------------------------------------------------------------------ */

/* Mean prior purchase rate of the control (treated = 0) or treated arm. */
static double mean_prior_rate(const uplift_config_t *cfg, int treated)
{
    double s = 0.0;
    for (int k = 0; k < UPLIFT_N_SEGMENTS; k++)
        s += cfg->prior[k].base_rate + (treated ? cfg->prior[k].uplift : 0.0);
    return s / UPLIFT_N_SEGMENTS;
}

static double log_weight(const uplift_log_t *l)
{
    double p = l->assign_prob > 0.0 ? l->assign_prob : DEFAULT_ASSIGN_PROB;
    return 1.0 / p;
}

/* Fits one regression over the rows selected by arm (0 control, 1 treated,
 * -1 all), starting from and regularized towards intercept logit(rate). */
static int fit_arm(const uplift_log_t *logs, size_t n, int arm,
                   const uplift_config_t *cfg, double rate, double *X,
                   uint8_t *y, double *w, double *beta)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (arm >= 0 && (int)(logs[i].treated != 0) != arm)
            continue;
        uplift_featurize(&logs[i].x, X + m * UPLIFT_DIM);
        y[m] = logs[i].bought != 0;
        w[m] = log_weight(&logs[i]);
        m++;
    }
    double prior[UPLIFT_DIM] = { 0 };
    prior[0] = logit(rate);
    memcpy(beta, prior, sizeof prior);
    return uplift_logreg_fit(X, y, w, m, UPLIFT_DIM, cfg->l2, prior,
                             cfg->max_iter, beta);
}

static int logs_valid(const uplift_log_t *logs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(logs[i].assign_prob >= 0.0 && logs[i].assign_prob <= 1.0))
            return 0;
    return 1;
}

int uplift_fit(const uplift_log_t *logs, size_t n, const uplift_config_t *cfg,
               uplift_model_t *m)
{
    uplift_model_t out;
    if (!m || (n > 0 && !logs) || !logs_valid(logs, n))
        return -EINVAL;
    int rc = uplift_model_init(&out, cfg);
    if (rc)
        return rc;
    double *X = malloc((n ? n : 1) * UPLIFT_DIM * sizeof *X);
    uint8_t *y = malloc(n ? n : 1);
    double *w = malloc((n ? n : 1) * sizeof *w);
    if (!X || !y || !w) {
        rc = -ENOMEM;
        goto done;
    }
    double rc_rate = mean_prior_rate(&out.cfg, 0);
    double rt_rate = mean_prior_rate(&out.cfg, 1);
    rc = fit_arm(logs, n, 0, &out.cfg, rc_rate, X, y, w, out.beta_control);
    if (!rc)
        rc = fit_arm(logs, n, 1, &out.cfg, rt_rate, X, y, w, out.beta_treated);
    if (!rc)
        rc = fit_arm(logs, n, -1, &out.cfg, 0.5 * (rc_rate + rt_rate), X, y, w,
                     out.beta_response);
    if (rc)
        goto done;
    for (size_t i = 0; i < n; i++) {
        int s = logs[i].x.stage;
        if (s < 0 || s >= UPLIFT_N_SEGMENTS)
            continue;
        if (logs[i].treated)
            out.n_treated[s] += log_weight(&logs[i]);
        else
            out.n_control[s] += log_weight(&logs[i]);
    }
    out.fitted = n > 0;
    *m = out;
done:
    free(X);
    free(y);
    free(w);
    return rc;
}

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

int uplift_predict(const uplift_model_t *m, const uplift_x_t *x,
                   uplift_pred_t *out)
{
    if (!m || !x || !out || m->version != UPLIFT_MODEL_VERSION)
        return -EINVAL;
    const uplift_config_t *cfg = &m->cfg;
    int s = (x->stage >= 0 && x->stage < UPLIFT_N_SEGMENTS) ? x->stage : 0;
    uplift_prior_t prior = cfg->prior[s];
    double k = cfg->prior_strength;
    double nc = m->fitted ? m->n_control[s] : 0.0;
    double nt = m->fitted ? m->n_treated[s] : 0.0;
    double nu = nc < nt ? nc : nt;
    double f[UPLIFT_DIM];
    uplift_featurize(x, f);
    double pc_model = uplift_logreg_predict(m->beta_control, f, UPLIFT_DIM);
    double pt_model = uplift_logreg_predict(m->beta_treated, f, UPLIFT_DIM);

    /* k == 0 with no data: trust the prior (0/0 otherwise). */
    double wc = nc + k > 0.0 ? nc / (nc + k) : 0.0;
    double wu = nu + k > 0.0 ? nu / (nu + k) : 0.0;
    out->p_control = wc * pc_model + (1.0 - wc) * prior.base_rate;
    out->uplift = wu * (pt_model - pc_model) + (1.0 - wu) * prior.uplift;
    out->p_treated = clamp01(out->p_control + out->uplift);
    out->uplift = out->p_treated - out->p_control;
    out->p_response =
        m->fitted ? uplift_logreg_predict(m->beta_response, f, UPLIFT_DIM)
                  : prior.base_rate + 0.5 * prior.uplift;
    out->weight = wu;
    return 0;
}

/* ---- evaluation ---------------------------------------------------------------------- */

/* Score descending, ties by lower index; ctx is the score array. */
static int rank_cmp(const void *a, const void *b, void *ctx)
{
    const double *s = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (s[i] != s[j])
        return s[i] > s[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

size_t uplift_rank(const double *score, size_t n, size_t *order)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(score[i]))
            order[m++] = i;
    qsort_r(order, m, sizeof *order, rank_cmp, (void *)score);
    return m;
}

/* Every row in ranking order: uplift_rank's, then the NaN rows by index.
 * Returns a malloc'd array of n indices the caller frees, or NULL. */
static size_t *rank_rows(const double *score, size_t n)
{
    size_t *order = malloc(n * sizeof *order);
    if (!order)
        return NULL;
    size_t m = uplift_rank(score, n, order);
    for (size_t i = 0; i < n; i++)
        if (isnan(score[i]))
            order[m++] = i;
    return order;
}

int uplift_qini(const double *score, const uint8_t *treated,
                const double *outcome, size_t n, double *curve, double *auuc,
                double *qini)
{
    if (!score || !treated || !outcome || n == 0 || !auuc || !qini)
        return -EINVAL;
    size_t *order = rank_rows(score, n);
    if (!order)
        return -ENOMEM;
    double yt = 0.0, yc = 0.0, nt = 0.0, nc = 0.0, area = 0.0, q = 0.0;
    if (curve)
        curve[0] = 0.0;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (treated[i]) {
            yt += outcome[i];
            nt += 1.0;
        } else {
            yc += outcome[i];
            nc += 1.0;
        }
        q = yt - (nc > 0.0 ? yc * nt / nc : 0.0);
        if (curve)
            curve[k + 1] = q;
        area += q;
    }
    free(order);
    *auuc = area / (double)n;
    *qini = *auuc - q * (double)(n + 1) / (2.0 * (double)n);
    return 0;
}

int uplift_eval_budget(const double *score, const uplift_log_t *logs,
                       size_t n, double budget, uplift_budget_eval_t *out)
{
    if (!score || !logs || !out || !(budget >= 0.0) || !logs_valid(logs, n))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (n == 0)
        return 0;
    size_t *order = rank_rows(score, n);
    if (!order)
        return -ENOMEM;
    double wt = 0.0, wc = 0.0, mt = 0.0, ct = 0.0, mc = 0.0;
    for (size_t k = 0; k < n; k++) {
        const uplift_log_t *l = &logs[order[k]];
        double w = log_weight(l);
        if (l->treated) {
            wt += w;
            mt += w * l->margin;
            ct += w * l->cost;
        } else {
            wc += w;
            mc += w * l->margin;
        }
        if (wt == 0.0 || wc == 0.0)
            continue;
        double size = (double)(k + 1);
        double spend = size * ct / wt;
        if (spend > budget)
            break;
        out->k = k + 1;
        out->spend = spend;
        out->incr_margin = size * (mt / wt - mc / wc);
    }
    free(order);
    out->incr_profit = out->incr_margin - out->spend;
    out->roi = out->spend > 0.0 ? out->incr_profit / out->spend : 0.0;
    return 0;
}

/* ---- out-of-sample evaluation ------------------------------------------------------------ */

uint64_t uplift_customer_key(const char *customer_id)
{
    uint64_t h = fnv1a64_str(customer_id ? customer_id : "");
    /* FNV-1a alone leaves ids differing in the last character close
     * together; the mix spreads them over the unit interval. */
    return splitmix64_mix(h ^ SPLIT_SALT);
}

int uplift_in_test_split(uint64_t customer_key, double test_share)
{
    return (double)(customer_key >> 11) * HASH_UNIT < test_share;
}

const char *uplift_policy_name(int policy)
{
    static const char *const names[UPLIFT_N_POLICIES] = {
        "uplift model", "propensity", "coupon to everyone"
    };
    return policy >= 0 && policy < UPLIFT_N_POLICIES ? names[policy] : "?";
}

int uplift_policy_scores(const uplift_model_t *m, const uplift_log_t *logs, size_t n,
                          double *score[UPLIFT_N_POLICIES])
{
    for (size_t i = 0; i < n; i++) {
        uplift_pred_t p;
        int rc = uplift_predict(m, &logs[i].x, &p);
        if (rc)
            return rc;
        score[UPLIFT_POLICY_MODEL][i] = p.uplift;
        score[UPLIFT_POLICY_PROPENSITY][i] = p.p_response;
        score[UPLIFT_POLICY_EVERYONE][i] = 0.0;   /* ties: log order */
    }
    return 0;
}

/* Qini / AUUC and the budget cuts of one policy's scores. */
static int evaluate_policy(const double *score, const uplift_log_t *logs,
                           const uint8_t *treated, const double *bought, size_t n,
                           const double *budgets, size_t n_budgets,
                           uplift_policy_eval_t *out)
{
    int rc = uplift_qini(score, treated, bought, n, NULL, &out->auuc, &out->qini);
    for (size_t b = 0; rc == 0 && b < n_budgets; b++)
        rc = uplift_eval_budget(score, logs, n, budgets[b], &out->at_budget[b]);
    return rc;
}

int uplift_evaluate(const uplift_model_t *m, const uplift_log_t *logs, size_t n,
                    const double *budgets, size_t n_budgets,
                    uplift_policy_eval_t out[UPLIFT_N_POLICIES])
{
    if (!m || !logs || n == 0 || !out || n_budgets > UPLIFT_EVAL_MAX_BUDGETS ||
        (n_budgets > 0 && !budgets))
        return -EINVAL;
    double *score[UPLIFT_N_POLICIES] = { NULL };
    uint8_t *treated = malloc(n);
    double *bought = malloc(n * sizeof *bought);
    int rc = treated && bought ? 0 : -ENOMEM;
    for (int r = 0; rc == 0 && r < UPLIFT_N_POLICIES; r++)
        if (!(score[r] = malloc(n * sizeof *score[r])))
            rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        treated[i] = logs[i].treated != 0;
        bought[i] = logs[i].bought ? 1.0 : 0.0;
    }
    if (rc == 0)
        rc = uplift_policy_scores(m, logs, n, score);
    memset(out, 0, UPLIFT_N_POLICIES * sizeof *out);
    for (int r = 0; rc == 0 && r < UPLIFT_N_POLICIES; r++)
        rc = evaluate_policy(score[r], logs, treated, bought, n, budgets, n_budgets,
                             &out[r]);
    for (int r = 0; r < UPLIFT_N_POLICIES; r++)
        free(score[r]);
    free(treated);
    free(bought);
    return rc;
}

/* Copies the rows of one side (is_test[i] != 0 == test) into a malloc'd array. */
static uplift_log_t *split_side(const uplift_log_t *logs, const uint8_t *is_test,
                                size_t n, int test, size_t *n_side)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (is_test[i] != 0) == test;
    uplift_log_t *side = malloc((k ? k : 1) * sizeof *side);
    *n_side = k;
    if (!side)
        return NULL;
    k = 0;
    for (size_t i = 0; i < n; i++)
        if ((is_test[i] != 0) == test)
            side[k++] = logs[i];
    return side;
}

int uplift_evaluate_split(const uplift_log_t *logs, const uint8_t *is_test,
                          size_t n, const uplift_config_t *cfg,
                          const double *budgets, size_t n_budgets,
                          uplift_split_eval_t *out)
{
    uplift_split_eval_t r;
    if (!logs || !is_test || !out)
        return -EINVAL;
    memset(&r, 0, sizeof r);
    uplift_log_t *train = split_side(logs, is_test, n, 0, &r.n_train);
    uplift_log_t *test = split_side(logs, is_test, n, 1, &r.n_test);
    int rc = train && test ? 0 : -ENOMEM;
    if (rc == 0 && (r.n_train == 0 || r.n_test == 0))
        rc = -EINVAL;
    for (size_t i = 0; rc == 0 && i < r.n_test; i++) {
        r.test_treated += test[i].treated != 0;
        r.test_control += test[i].treated == 0;
    }
    if (rc == 0)
        rc = uplift_fit(train, r.n_train, cfg, &r.model);
    if (rc == 0)
        rc = uplift_evaluate(&r.model, test, r.n_test, budgets, n_budgets, r.policy);
    if (rc == 0)
        *out = r;
    free(train);
    free(test);
    return rc;
}

/* ---- pacing ------------------------------------------------------------------------------ */

void uplift_pacer_config_default(uplift_pacer_config_t *cfg)
{
    cfg->lambda_min = 1.0;
    cfg->lambda_max = 50.0;
    cfg->kp = 8.0;
    cfg->ki = 4.0;
}

static int pacer_config_ok(const uplift_pacer_config_t *c)
{
    return c->lambda_min > 0.0 && c->lambda_max >= c->lambda_min &&
           isfinite(c->lambda_max) && c->kp >= 0.0 && c->ki >= 0.0 &&
           isfinite(c->kp) && isfinite(c->ki);
}

int uplift_pacer_init(uplift_pacer_t *p, double budget, int64_t start_ms,
                      int64_t end_ms, const uplift_pacer_config_t *cfg)
{
    uplift_pacer_config_t def;
    if (!cfg) {
        uplift_pacer_config_default(&def);
        cfg = &def;
    }
    if (!p || !(budget >= 0.0) || !isfinite(budget) || end_ms <= start_ms ||
        !pacer_config_ok(cfg))
        return -EINVAL;
    memset(p, 0, sizeof *p);
    p->budget = budget;
    p->start_ms = start_ms;
    p->end_ms = end_ms;
    p->cfg = *cfg;
    p->lambda = cfg->lambda_min;
    p->integral = log(cfg->lambda_min);
    p->last_ms = start_ms;
    return 0;
}

static double elapsed_fraction(const uplift_pacer_t *p, int64_t now_ms)
{
    if (now_ms <= p->start_ms)
        return 0.0;
    if (now_ms >= p->end_ms)
        return 1.0;
    return (double)(now_ms - p->start_ms) / (double)(p->end_ms - p->start_ms);
}

double uplift_pacer_ideal(const uplift_pacer_t *p, int64_t now_ms)
{
    return p->budget * elapsed_fraction(p, now_ms);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

double uplift_pacer_update(uplift_pacer_t *p, double spent, int64_t now_ms)
{
    const uplift_pacer_config_t *c = &p->cfg;
    double lo = log(c->lambda_min), hi = log(c->lambda_max);
    double e = p->budget > 0.0 ? (spent - uplift_pacer_ideal(p, now_ms)) / p->budget
                               : (spent > 0.0 ? 1.0 : 0.0);
    if (now_ms > p->last_ms) {
        double dt = elapsed_fraction(p, now_ms) - elapsed_fraction(p, p->last_ms);
        p->integral = clampd(p->integral + c->ki * e * dt, lo, hi);
        p->last_ms = now_ms;
    }
    p->lambda = exp(clampd(c->kp * e + p->integral, lo, hi));
    return p->lambda;
}

int uplift_grant_fits(double budget, double committed, double max_cost)
{
    if (!isfinite(budget) || !isfinite(committed) || !isfinite(max_cost) ||
        max_cost < 0.0)
        return 0;
    return budget - committed >= max_cost;
}
