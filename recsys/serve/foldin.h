/*
 * foldin.h - a customer's factors computed at request time from their
 * events, with the ALS user equation the trainer uses (Hu, Koren, Volinsky
 * 2008, eq. 4, with the unobserved weight alpha0 and frequency-scaled
 * regularization of Rendle et al. 2022):
 *
 *   (alpha0 Y'Y + sum_i (c_ui - alpha0) y_i y_i' + lambda_u I) x_u
 *       = sum_i c_ui y_i,      c_ui = 1 + alpha r_ui,
 *   lambda_u = reg (n_u + alpha0 N)^nu
 *
 * over the items i with positive strength r_ui (train_event_strength), and
 * with preference 0 (no right-hand side) and c_ui = 1 + alpha |r_ui| for
 * the items whose pair is negative feedback: a refund or not_interested
 * after the last purchase (train_pair_t, exactly as the trainer reads
 * them; a category's not_interested must be expanded to its items by the
 * caller, as recommend.c does). Y'Y
 * is cached per model version, so a customer with n_u items costs
 * O(n_u f^2 + f^3). Because the whole history enters the solve, a customer
 * whose events the model has all seen gets what the trainer's own user
 * update would give them against the final item factors.
 *
 * The Cholesky factor is kept for explanations: the score of item i splits
 * into contributions c_uj y_i' A^-1 y_j of the customer's items j (section 5
 * of the same paper).
 */
#ifndef PATRON_RECSYS_FOLDIN_H
#define PATRON_RECSYS_FOLDIN_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "store.h"

typedef struct foldin {
    uint32_t f;
    float *x;          /* f: the customer's factors */
    float *chol;       /* f x f, row-major lower L with A = L L' */
    uint32_t *items;   /* n distinct items with positive strength (negative
                          feedback enters the solve, not this list) */
    float *conf;       /* n: c_ui of each */
    size_t n;
} foldin_t;

/* Solves for the customer whose events are ev[0..n_ev) (in time order
 * per item: negative feedback is undone by a later purchase; items the
 * model does not know are ignored). On success *out owns its arrays
 * (foldin_free). Returns 0, -ENOENT when no event leaves a positive
 * strength on a known item, -ENOMEM, -EDOM if the system is not positive
 * definite (reg = 0 with too few items). */
int foldin_solve(const model_t *m, const store_event_rec_t *ev, size_t n_ev,
                 foldin_t *out);

/* As foldin_solve with each event's strength scaled by weight[i] (>= 0;
 * NULL: all 1), e.g. recency weights within a session (session.h). */
int foldin_solve_weighted(const model_t *m, const store_event_rec_t *ev,
                          const float *weight, size_t n_ev, foldin_t *out);

void foldin_free(foldin_t *fi); /* NULL-safe; frees the arrays */

/* The customer's items contributing most to their score of `item`, best
 * first: top[0..*n) with *n <= max, only positive contributions. Returns 0
 * or -ENOMEM. */
int foldin_explain(const model_t *m, const foldin_t *fi, uint32_t item,
                   uint32_t *top, size_t max, size_t *n);

#endif
