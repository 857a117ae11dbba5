/*
 * uplift.h - how much a coupon changes a customer's purchase probability,
 * learnt from randomized logs, and how to evaluate and pace targeting by it.
 *
 *  - Features: a few profile values (recency, orders, monetary, basket,
 *    lifecycle stage one-hot, an optional factor-based purchase propensity)
 *    mapped to a fixed-length vector (uplift_featurize).
 *  - Model: a two-model ("T-") learner: one logistic regression for
 *    P(buy | treated, x), one for P(buy | control, x), plus a response model
 *    P(buy | x) over everyone (what "target the likeliest buyers" uses). The
 *    uplift is the difference, shrunk towards a configured prior per lifecycle
 *    stage while that stage has little data (no data: the prior alone).
 *  - Evaluation on randomized logs: Qini curve, AUUC, and incremental profit
 *    and ROI of a ranking cut at a budget; out of sample on a train/test
 *    split by customer (uplift_evaluate_split).
 *  - Pacing: one shadow price lambda per campaign, raised when spend runs
 *    ahead of the ideal curve and lowered (never below lambda_min) when it
 *    lags, so the budget lasts the campaign. The hard cap is the caller's
 *    (LMDB accounting); uplift_grant_fits is the check it applies.
 *
 * Pure computation: no storage, no I/O, no global state, deterministic (the
 * fit is Newton/IRLS with a fixed iteration order; no random numbers).
 *
 * Errors: functions returning int return 0, -EINVAL for a NULL or invalid
 * argument, -ENOMEM, or -EDOM when a fit cannot be solved (singular system).
 */
#ifndef PATRON_RECSYS_UPLIFT_H
#define PATRON_RECSYS_UPLIFT_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Segments for priors and shrinkage are the lifecycle stages (profile_stage_t). */
#define UPLIFT_N_SEGMENTS 6
/* bias, log1p(recency), log1p(orders), log1p(monetary), log1p(basket),
 * logit(propensity), propensity-known flag, 6 stage indicators. */
#define UPLIFT_DIM 13
#define UPLIFT_MODEL_VERSION 1

/* What the model sees of a customer (filled from profile_t). */
typedef struct uplift_x {
    double recency_days;    /* profile_t.recency_days, 0 without orders */
    double orders;          /* profile_t.orders */
    double monetary;        /* profile_t.monetary */
    double average_basket;  /* profile_t.average_basket */
    int stage;              /* profile_stage_t */
    double propensity;      /* factor-based P(buy) in [0,1]; < 0 = unknown */
} uplift_x_t;

/* Maps x to the feature vector out[UPLIFT_DIM]. Negative or non-finite
 * values count as 0; a stage outside the enum sets no indicator. */
void uplift_featurize(const uplift_x_t *x, double out[UPLIFT_DIM]);

/* ---- logistic regression ------------------------------------------------------ */

/*
 * Fits P(y=1|x) = 1/(1+exp(-beta.x)) by Newton's method (IRLS) with a ridge
 * penalty l2/2 * |beta - prior|^2 on every coefficient but beta[0] (the
 * intercept gets a millionth of it, which only matters without data: it
 * keeps the system solvable and the intercept at prior[0]).
 * X is row-major n x d, y in {0,1}, w optional per-row weights (NULL = 1;
 * inverse assignment probabilities make exploration logs unbiased), prior
 * optional (NULL = 0). d <= UPLIFT_DIM. beta (d values) is the start point on
 * entry and the fit on return. Stops when the largest step < 1e-8 or after
 * max_iter iterations. Returns 0, -EINVAL or -EDOM.
 */
int uplift_logreg_fit(const double *X, const uint8_t *y, const double *w,
                      size_t n, size_t d, double l2, const double *prior,
                      int max_iter, double *beta);

/* 1/(1+exp(-beta.x)) over d values, computed without overflow. */
double uplift_logreg_predict(const double *beta, const double *x, size_t d);

/* ---- the T-learner ------------------------------------------------------------ */

/* What a stage is believed to do before there is data: purchase rate without
 * a coupon and the change a coupon causes (absolute probability). */
typedef struct uplift_prior {
    double base_rate;   /* [0.05] in (0,1) */
    double uplift;      /* [0.02] in (-base_rate, 1 - base_rate) */
} uplift_prior_t;

typedef struct uplift_config {
    double l2;                 /* [1.0] ridge strength, >= 0 */
    int max_iter;              /* [25] Newton iterations, >= 1 */
    double prior_strength;     /* [200] pseudo-observations per arm given
                                * to the stage prior when shrinking, >= 0 */
    uplift_prior_t prior[UPLIFT_N_SEGMENTS];
} uplift_config_t;

void uplift_config_default(uplift_config_t *cfg);

/* NULL if usable, else a static message naming the field. */
const char *uplift_config_invalid(const uplift_config_t *cfg);

/* One randomized log row: the customer's features when the offer was decided,
 * whether they were treated (given the coupon), whether they bought within
 * the attribution window, the gross margin of that purchase (before any
 * discount; 0 if none), the discount actually paid (0 if not redeemed), and
 * the probability the logged assignment had (1 for a 50/50 experiment's
 * "either arm" is 0.5; 0 means unknown and is read as 0.5). */
typedef struct uplift_log {
    uplift_x_t x;
    uint8_t treated;
    uint8_t bought;
    double margin;
    double cost;
    double assign_prob;
} uplift_log_t;

/* A fitted model. A plain value (no pointers), so it can be stored as bytes
 * (check version == UPLIFT_MODEL_VERSION after loading). */
typedef struct uplift_model {
    uint32_t version;
    uint32_t fitted;               /* 0: priors only */
    double beta_treated[UPLIFT_DIM];
    double beta_control[UPLIFT_DIM];
    double beta_response[UPLIFT_DIM];
    double n_treated[UPLIFT_N_SEGMENTS];  /* weighted rows per stage and arm */
    double n_control[UPLIFT_N_SEGMENTS];
    uplift_config_t cfg;
} uplift_model_t;

/* A model that knows only cfg's priors (cfg NULL: defaults). Returns 0 or
 * -EINVAL (invalid cfg). */
int uplift_model_init(uplift_model_t *m, const uplift_config_t *cfg);

/* Fits the three regressions on logs[0..n) (cfg NULL: defaults), each
 * regularized towards zero slopes and the intercept of the mean prior rate
 * of its arm. Rows weigh 1/assign_prob. Returns 0, -EINVAL, -ENOMEM or
 * -EDOM; *m is written only on success. */
int uplift_fit(const uplift_log_t *logs, size_t n, const uplift_config_t *cfg,
               uplift_model_t *m);

typedef struct uplift_pred {
    double p_control;   /* P(buy | no coupon) */
    double p_treated;   /* P(buy | coupon) = p_control + uplift, in [0,1] */
    double uplift;      /* shrunk towards the stage prior */
    double p_response;  /* P(buy) over everyone: the "propensity" ranking */
    double weight;      /* share of the estimate that came from data, 0..1 */
} uplift_pred_t;

/* Predicts for x. With k = cfg.prior_strength, the stage's control rate is
 * (nc * model + k * prior) / (nc + k) with nc its control rows, and the
 * uplift (n * model + k * prior) / (n + k) with n the smaller of its treated
 * and control rows; so an unfitted model or an unseen stage gives the prior.
 * p_response is the response model's (the mean of the arms' priors when
 * unfitted). Returns 0 or -EINVAL. */
int uplift_predict(const uplift_model_t *m, const uplift_x_t *x,
                   uplift_pred_t *out);

/* ---- evaluation on randomized logs --------------------------------------------- */

/*
 * Qini curve of a ranking: rows sorted by score, highest first (ties by lower
 * index); for the top k rows, q(k) = Yt(k) - Yc(k) * Nt(k) / Nc(k), where
 * Yt, Yc sum outcome[] over the treated / control rows among them and Nt, Nc
 * count them (the Yc term is 0 while Nc is 0). curve (optional) receives
 * q(0..n), n + 1 values. *auuc = mean of q(1..n); *qini = *auuc minus the
 * same mean for the random ranking, q(n) * (n + 1) / (2n). Returns 0,
 * -EINVAL (n == 0 or NULL arrays) or -ENOMEM.
 */
int uplift_qini(const double *score, const uint8_t *treated,
                const double *outcome, size_t n, double *curve, double *auuc,
                double *qini);

/* A ranking's economics when the coupon goes to its top k customers. */
typedef struct uplift_budget_eval {
    size_t k;             /* customers targeted */
    double spend;         /* estimated discount paid: k * mean treated cost */
    double incr_margin;   /* k * (mean treated margin - mean control margin) */
    double incr_profit;   /* incr_margin - spend */
    double roi;           /* incr_profit / spend (0 when spend is 0) */
} uplift_budget_eval_t;

/*
 * The order every ranking here is cut in: writes to order[] the indices of
 * the rows of score[0..n) that are not NaN, score descending, ties by the
 * lower index (deterministic), and returns their count. NaN means "never
 * targeted": uplift_qini and uplift_eval_budget put those rows last, in
 * index order.
 */
size_t uplift_rank(const double *score, size_t n, size_t *order);

/*
 * Estimates from randomized logs what targeting the top-ranked customers
 * earns: the largest prefix (by score, as uplift_qini) whose estimated spend
 * stays within budget, cut earlier at the first k where it would not, and
 * only counting prefixes with at least one treated and one control row.
 * Means are inverse-propensity weighted within each arm. Returns 0, -EINVAL
 * or -ENOMEM.
 */
int uplift_eval_budget(const double *score, const uplift_log_t *logs,
                       size_t n, double budget, uplift_budget_eval_t *out);

/* ---- out-of-sample evaluation ---------------------------------------------------- */

/*
 * A model judged on the rows it was fitted on looks better than it is, so
 * evaluation holds customers out: a hash of the customer id alone decides
 * the side, which keeps all of a customer's rows together (repeat customers
 * would otherwise leak from train to test) and gives the same split on every
 * run and machine. The hash is salted apart from coupon.c's holdout and
 * exploration hashes, so the test side is not the holdout group.
 */

/* The 64-bit split key of a customer id (NULL: the key of ""). */
uint64_t uplift_customer_key(const char *customer_id);

/* 1 if the customer with this key is on the test side of a split that puts
 * test_share of customers there (<= 0: nobody, >= 1: everybody), else 0. */
int uplift_in_test_split(uint64_t customer_key, double test_share);

/* The targeting policies compared: who gets the coupon first. */
typedef enum uplift_policy {
    UPLIFT_POLICY_MODEL = 0,       /* highest predicted uplift */
    UPLIFT_POLICY_PROPENSITY = 1,  /* highest predicted P(buy) */
    UPLIFT_POLICY_EVERYONE = 2,    /* no ranking (log order) */
    UPLIFT_N_POLICIES = 3
} uplift_policy_t;

/* "uplift model", "propensity", "coupon to everyone"; "?" out of range. */
const char *uplift_policy_name(int policy);

/* The score of every row of logs[0..n) under each policy and model m (the
 * ranking uplift_evaluate judges; higher first): score[r] has n entries per
 * policy r. Returns 0 or -EINVAL. */
int uplift_policy_scores(const uplift_model_t *m, const uplift_log_t *logs, size_t n,
                         double *score[UPLIFT_N_POLICIES]);

#define UPLIFT_EVAL_MAX_BUDGETS 16

typedef struct uplift_policy_eval {
    double auuc, qini;   /* uplift_qini with outcome = bought */
    uplift_budget_eval_t at_budget[UPLIFT_EVAL_MAX_BUDGETS];
} uplift_policy_eval_t;

/* Ranks logs[0..n) by each policy under model m and evaluates the ranking:
 * Qini / AUUC and uplift_eval_budget at budgets[0..n_budgets) (n_budgets <=
 * UPLIFT_EVAL_MAX_BUDGETS). out has UPLIFT_N_POLICIES entries. Returns 0,
 * -EINVAL (n == 0, too many budgets, a NULL or invalid argument) or
 * -ENOMEM. */
int uplift_evaluate(const uplift_model_t *m, const uplift_log_t *logs, size_t n,
                    const double *budgets, size_t n_budgets,
                    uplift_policy_eval_t out[UPLIFT_N_POLICIES]);

/* Out-of-sample result: the model fitted on the train side, judged on the
 * test side. */
typedef struct uplift_split_eval {
    size_t n_train, n_test;              /* rows per side */
    size_t test_treated, test_control;   /* test rows per arm */
    uplift_model_t model;                /* fitted on the train rows only */
    uplift_policy_eval_t policy[UPLIFT_N_POLICIES];   /* on the test rows */
} uplift_split_eval_t;

/* Fits the T-learner (cfg NULL: defaults) on the rows with is_test[i] == 0
 * and evaluates it as uplift_evaluate on the rows with is_test[i] != 0.
 * Returns 0, -EINVAL (either side empty, or as uplift_fit / uplift_evaluate),
 * -ENOMEM or -EDOM; *out is written only on success. */
int uplift_evaluate_split(const uplift_log_t *logs, const uint8_t *is_test,
                          size_t n, const uplift_config_t *cfg,
                          const double *budgets, size_t n_budgets,
                          uplift_split_eval_t *out);

/* ---- budget pacing ----------------------------------------------------------- */

typedef struct uplift_pacer_config {
    double lambda_min;   /* [1.0] never lower: below 1 a coupon losing money
                          * would look worth granting just to spend budget */
    double lambda_max;   /* [50] */
    double kp;           /* [8] proportional gain on log lambda, per unit of
                          * (spend - ideal) / budget */
    double ki;           /* [4] integral gain, per unit of that error times
                          * the fraction of the campaign it lasted */
} uplift_pacer_config_t;

void uplift_pacer_config_default(uplift_pacer_config_t *cfg);

/* One campaign's pacing state: a plain value the caller persists with the
 * campaign's spend counters. */
typedef struct uplift_pacer {
    double budget;
    int64_t start_ms, end_ms;
    double lambda;
    double integral;       /* accumulated error, for the I term */
    int64_t last_ms;       /* time of the last update */
    uplift_pacer_config_t cfg;
} uplift_pacer_t;

/* Starts pacing budget over [start_ms, end_ms) with lambda = lambda_min (cfg
 * NULL: defaults). Returns 0 or -EINVAL (budget < 0, end <= start, bad cfg). */
int uplift_pacer_init(uplift_pacer_t *p, double budget, int64_t start_ms,
                      int64_t end_ms, const uplift_pacer_config_t *cfg);

/* The spend the campaign should have reached by now_ms: linear in time,
 * 0 before start, budget from end on. */
double uplift_pacer_ideal(const uplift_pacer_t *p, int64_t now_ms);

/* Feeds the campaign's actual total spend (or committed spend) at now_ms and
 * updates lambda: log lambda = kp * e + I, I += ki * e * dt / duration, with
 * e = (spent - ideal) / budget, clamped to [lambda_min, lambda_max] (the
 * integral is clamped with it, so it does not wind up). Updates with now_ms
 * earlier than the last one leave the integral unchanged. Returns lambda. */
double uplift_pacer_update(uplift_pacer_t *p, double spent, int64_t now_ms);

/* Whether a grant whose worst-case cost is max_cost fits: budget - committed
 * >= max_cost, where committed is spend plus the worst case of outstanding
 * grants. The caller evaluates it inside the transaction that reserves. */
int uplift_grant_fits(double budget, double committed, double max_cost);

#endif
