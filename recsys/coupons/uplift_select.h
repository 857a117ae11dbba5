/*
 * uplift_select.h - which learner decides coupons: the logistic T-learner
 * (uplift.h) or the boosted T-learner (uplift_gbt.h), chosen on the shop's
 * own offer log out of sample ("keep what wins").
 *
 * Both are fitted on the rows not held out and valued on the held-out rows
 * by uplift_ope_top_value: the IPS-estimated incremental profit of the top
 * 1, 2.5, 5, 10 and 20 % of the held-out rows ranked by the value each
 * learner predicts,
 *   value = pt * (M - D) - pc * M,
 * with M the margin of a purchase and D the discount a redeeming buyer got,
 * both from the fitted rows' buyers (1/p-weighted means per unit of average
 * basket, scaled by the row's average basket): coupon_score's economics
 * with the log's own coupons. The boosted learner is only a candidate with
 * at least min_rows treated and min_rows control rows among the fitted ones
 * (fewer: two boosted regressions overfit, and the validation value is
 * noise), and wins only by a strictly larger value.
 *
 * Pure computation: no storage, no I/O, no global state, deterministic.
 * Errors: 0, -EINVAL (NULL, n == 0) or -ENOMEM; a fit's own error.
 */
#ifndef PATRON_RECSYS_UPLIFT_SELECT_H
#define PATRON_RECSYS_UPLIFT_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "uplift.h"
#include "uplift_gbt.h"

typedef enum uplift_learner {
    UPLIFT_LEARNER_LOGISTIC = 0,
    UPLIFT_LEARNER_BOOSTED = 1,
} uplift_learner_t;

#define UPLIFT_SELECT_MIN_ROWS 1000   /* default min_rows */

typedef struct uplift_selection {
    size_t n_fit, n_val;          /* rows fitted on / valued on */
    size_t fit_treated, fit_control;
    int boosted_considered;       /* enough rows for the boosted learner */
    double value[2];              /* validation value by uplift_learner_t
                                   * (NaN: not fitted) */
    uplift_learner_t chosen;
} uplift_selection_t;

/* Chooses between the learners on logs[0..n), held_out[i] != 0 marking the
 * validation rows (a split by customer: uplift_in_test_split). Only the
 * choice: refit the winner on every row to serve it. */
int uplift_select_learner(const uplift_log_t *logs, const uint8_t *held_out, size_t n,
                          size_t min_rows, uplift_selection_t *out);

/* The learner's name as printed ("logistic T-learner", "boosted T-learner"). */
const char *uplift_learner_name(uplift_learner_t l);

#endif
