/*
 * cli_uplift_report.h - `patron eval-uplift --json` and `--svg FILE`: the
 * figures cli_coupons.c prints as text, as JSON (stable snake_case keys),
 * and the Qini curve of each targeting policy as one self-contained SVG.
 * Single-threaded helpers of the command; no state.
 */
#ifndef PATRON_SERVER_CLI_UPLIFT_REPORT_H
#define PATRON_SERVER_CLI_UPLIFT_REPORT_H

#include <json-c/json.h>
#include <stddef.h>

#include "uplift.h"

/* The UPLIFT_N_POLICIES policies of pe as a new JSON array of
 * {"policy", "auuc", "qini", "budgets": [{"budget", "k", "spend",
 * "incr_margin", "incr_profit", "roi"}]} (NULL when out of memory). */
json_object *cli_uplift_policies_json(const uplift_policy_eval_t *pe, const double *budgets,
                                      size_t n_budgets);

/* Writes to path an SVG of the Qini curves of rows[0..n) ranked by each
 * policy under model m: one <polyline data-policy="NAME"> per policy (at
 * most ~400 points each), x the share of customers targeted, y the
 * incremental buyers, axes with ticks, a legend and title (escaped). No
 * scripts, fonts or links. Returns 0, -EINVAL (n == 0), -ENOMEM or the
 * file's negative errno. */
int cli_uplift_svg(const char *path, const uplift_model_t *m, const uplift_log_t *rows,
                   size_t n, const char *title);

#endif
