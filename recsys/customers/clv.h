/*
 * clv.h - customer lifetime value and churn from two standard probability
 * models, fitted by maximum likelihood on a shop's purchase summaries. Pure
 * math: no storage, no I/O, no global state.
 *
 *   BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy
 *   way: an alternative to the Pareto/NBD model", Marketing Science 24(2)):
 *   while alive a customer buys as a Poisson process of rate lambda ~
 *   Gamma(r, alpha); after each repeat purchase they drop out for good with
 *   probability p ~ Beta(a, b).
 *
 *   Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value
 *   curves for customer base analysis", JMR 42(4); note "The Gamma-Gamma
 *   model of monetary value", Fader and Hardie 2013): each order's value is
 *   Gamma(p, nu), nu ~ Gamma(q, gamma) per customer, independent of the
 *   purchase process.
 *
 * A customer is summarized as (x, t_x, T, n, mean_spend), time in days:
 *   x           repeat purchases (orders after the first)
 *   t_x         days from the first order to the last
 *   T           days from the first order to the time of the summary
 *   n           orders whose values were averaged (x + 1 in Patron: every
 *               order, the first included; the model holds for any
 *               transactions, the paper dropped the first only for CDNOW's
 *               data)
 *   mean_spend  their mean value, in the shop's currency units (net of
 *               refunds); <= 0 leaves the customer out of the spend fit.
 *
 * Errors: functions returning int return 0, -EINVAL (NULL or invalid
 * argument: n == 0, negative or non-finite summaries, t_x > T), -ENOMEM,
 * or -EDOM when the likelihood could not be maximized (no finite value).
 */
#ifndef PATRON_RECSYS_CLV_H
#define PATRON_RECSYS_CLV_H

#include <stddef.h>
#include <stdint.h>

#define CLV_DAYS_PER_YEAR 365.0 /* "12 months" of a prediction */

typedef struct clv_summary {
    double x, t_x, T;
    double n, mean_spend;
} clv_summary_t;

typedef struct clv_bgnbd {
    double r, alpha, a, b;
} clv_bgnbd_t;

typedef struct clv_gg {
    double p, q, gamma;
} clv_gg_t;

/* A fitted model. has_spend is 0 when no customer had a positive mean
 * spend (then expected spend is 0). pop_spend is E[order value] of a new
 * customer: p * gamma / (q - 1) when q > 1, else the sample mean of the
 * customers' mean spends (the Gamma-Gamma mean is infinite for q <= 1). */
typedef struct clv_model {
    clv_bgnbd_t bg;
    clv_gg_t gg;
    int has_spend;
    double pop_spend;
    double bg_loglik, gg_loglik;  /* at the estimates (sums over customers) */
    uint64_t customers, spenders; /* customers in each fit */
} clv_model_t;

/* One customer's prediction over the next horizon_days. */
typedef struct clv_prediction {
    double p_alive;            /* P(alive | x, t_x, T) */
    double churn_p;            /* 1 - p_alive */
    double expected_purchases; /* E[Y(horizon) | x, t_x, T] */
    double expected_spend;     /* E[order value | n, mean_spend] */
    double value;              /* expected_purchases * expected_spend,
                                  undiscounted, currency units */
} clv_prediction_t;

/* 1 if s is a valid summary (finite, x >= 0, 0 <= t_x <= T, T > 0 or
 * x == 0, n >= 0), else 0. */
int clv_summary_ok(const clv_summary_t *s);

/* Log-likelihood of the BG/NBD at bg summed over c[0..n) (FHL 2005 eq. 6);
 * -HUGE_VAL for parameters <= 0 or non-finite. */
double clv_bgnbd_loglik(const clv_bgnbd_t *bg, const clv_summary_t *c, size_t n);

/* Log-likelihood of the Gamma-Gamma at gg summed over the customers of
 * c[0..n) with n >= 1 orders and mean_spend > 0: the density of their mean
 * spend given n. -HUGE_VAL for bad parameters. */
double clv_gg_loglik(const clv_gg_t *gg, const clv_summary_t *c, size_t n);

/* Fits both models by maximum likelihood (Nelder-Mead on the logarithms of
 * the parameters, restarted from its best point until it stops improving).
 * Returns 0, -EINVAL (n == 0 or a summary failing clv_summary_ok), -ENOMEM
 * or -EDOM. */
int clv_fit(const clv_summary_t *c, size_t n, clv_model_t *out);

/* Gauss's hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 by its
 * series, returned as its natural logarithm (the series of BG/NBD's
 * conditional expectation overflows a double for heavy buyers).
 * a, b, c > 0. NaN outside the domain or without convergence. */
double clv_log_hyp2f1(double a, double b, double c, double z);

/* 2F1(a, b; c; z) itself for 0 <= z < 1, a, b > 0 and c > -1, c != 0
 * (below 0 through a contiguous relation: BG/NBD needs c = a + b - 1,
 * negative when a + b < 1). NaN outside. */
double clv_hyp2f1(double a, double b, double c, double z);

/* P(alive | x, t_x, T) (FHL 2005 eq. 13). A customer with no repeat
 * purchase is alive with probability 1: BG/NBD lets customers drop out
 * only after a repeat purchase. */
double clv_p_alive(const clv_bgnbd_t *bg, const clv_summary_t *s);

/* E[Y(t) | x, t_x, T]: expected purchases in the next t days (FHL 2005
 * eq. 10, with 2F1). */
double clv_expected_purchases(const clv_bgnbd_t *bg, const clv_summary_t *s, double t);

/* E[purchases in (0, t]] of a customer who just made their first purchase
 * (FHL 2005 eq. 7), the unconditional expectation. */
double clv_expected_purchases_new(const clv_bgnbd_t *bg, double t);

/* E[order value | n, mean_spend] (Fader and Hardie 2013 eq. 5): a weighted
 * mean of the population mean and the customer's own. */
double clv_expected_spend(const clv_model_t *m, const clv_summary_t *s);

/* All of the above for one customer; -EINVAL for an invalid summary. */
int clv_predict(const clv_model_t *m, const clv_summary_t *s, double horizon_days,
                clv_prediction_t *out);

#endif
