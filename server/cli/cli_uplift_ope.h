/*
 * cli_uplift_ope.h - eval-uplift's off-policy section: what the served
 * policy and a few alternatives earn on the test split of the offer log,
 * estimated from the logged assignment probabilities (uplift_ope.h) by
 * self-normalized IPS and doubly robust, each with a 95 % CI.
 *
 * The estimand is each policy's incremental profit (margin - discount)
 * over "no coupon" on the test offers, so "no coupon" is 0 by definition.
 * Every policy keeps the guards (holdout, velocity, frequency, eligibility:
 * coupon_outcome_guarded): on those rows no policy gives a coupon. The
 * policies: the served one (its greedy choice, coupon_outcome_greedy_grant),
 * a coupon to everyone, and the model fitted on the train split ranking the
 * test offers by its predicted incremental profit (mu1 - mu0 of
 * uplift_ope_outcomes), cut at the top P% of the test offers (only offers it
 * predicts a gain for) and at every predicted gain.
 *
 * Single-threaded helper of the command; no state.
 */
#ifndef PATRON_SERVER_CLI_UPLIFT_OPE_H
#define PATRON_SERVER_CLI_UPLIFT_OPE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "couponstore.h"
#include "uplift.h"

#define CLI_UPLIFT_OPE_MAX_TOPS 8

typedef struct cli_uplift_ope_args {
    FILE *txt;                /* the table goes here */
    json_object *out;         /* non-NULL: "off_policy" is added to it */
    const double *tops;       /* percentages of the test offers, (0, 100] */
    size_t n_tops;            /* <= CLI_UPLIFT_OPE_MAX_TOPS */
    const char *rows_path;    /* non-NULL: which test offers each policy
                               * targets, as CSV, to this file */
} cli_uplift_ope_args_t;

/*
 * Estimates on the rows with is_test[i] != 0 of logs/keys[0..n), with m
 * the model fitted on the other rows (also the DR outcome model, with the
 * other rows as uplift_ope_outcomes' fit rows). Prints the table, adds the
 * JSON and writes the CSV. Returns 0, -EINVAL (no test or no train rows),
 * -ENOMEM or the CSV file's negative errno (reported on stderr).
 */
int cli_uplift_ope(const cli_uplift_ope_args_t *a, const uplift_log_t *logs,
                   const couponstore_uplift_key_t *keys, const uint8_t *is_test, size_t n,
                   const uplift_model_t *m);

#endif
