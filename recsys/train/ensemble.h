/*
 * ensemble.h - an average of implicit ALS models trained from different
 * seeds, stored as one wider factor model.
 *
 * Member k (0-based) is ials_train with seed p->seed + k and otherwise the
 * same settings. Their mean score (1/n) sum_k x_u^k . y_i^k is itself a dot
 * product: concatenate the members' factors side by side and scale the user
 * half by 1/n. So an ensemble of n models with f factors is an ordinary
 * model with n * f factors, and everything that serves or evaluates factors
 * takes it unchanged.
 *
 * Why it helps: ALS from a random start lands in different local optima;
 * averaging their scores cancels part of each one's noise (measured on the
 * ML-1M validation split: see tune.c).
 */
#ifndef PATRON_RECSYS_ENSEMBLE_H
#define PATRON_RECSYS_ENSEMBLE_H

#include <stdint.h>

#include "ials.h"

/* Upper bound on members: beyond a handful the gain is gone. */
#define ENSEMBLE_MAX_MEMBERS 16u

/*
 * Trains `members` (1..ENSEMBLE_MAX_MEMBERS) models on ui and writes the
 * combined factors: user_f n_rows x (members * f), item_f n_cols x
 * (members * f), row-major, both caller-owned. members = 1 is exactly
 * ials_train. progress is called per member sweep with the member's loss
 * (may be NULL). Returns 0, -EINVAL, -ENOMEM or an ials_train error (the
 * factor contents are then unspecified).
 */
int ensemble_train(const csr_t *ui, const ials_params_t *p,
                   uint32_t members, float *user_f, float *item_f,
                   ials_progress_fn progress, void *ctx);

#endif
