/*
 * ease.h - EASE, the item-item linear autoencoder of Steck, "Embarrassingly
 * Shallow Autoencoders for Sparse Data" (WWW 2019), and its blend with a
 * factor model.
 *
 * With X the users x items matrix and G = X'X, the closed form is
 *
 *   P = (G + lambda I)^-1,   B = I - P diag(1 / diag(P))   (diag(B) = 0)
 *
 * so B_ij = -P_ij / P_jj for i != j, and user u's scores are the row x_u B:
 * score(u, j) = sum_{i in u} x_ui B_ij. Pure math over a CSR and dense float
 * arrays: no I/O, no printing. The item x item matrix is dense, so memory is
 * n_items^2 floats (ML-1M: 3706^2 x 4 bytes = 55 MB).
 */
#ifndef PATRON_RECSYS_EASE_H
#define PATRON_RECSYS_EASE_H

#include <stddef.h>
#include <stdint.h>

#include "ials.h"

/*
 * Fits B for ui (users x items; the stored values are X's entries, so pass
 * 1 per pair for Steck's binary model). B must hold n_cols x n_cols floats
 * (row-major, caller-owned); it is overwritten, also on error. The inverse
 * is LAPACK's Cholesky spotrf + spotri, threaded by OpenBLAS with its
 * process-wide thread count. Returns 0, -EINVAL (lambda not > 0 and
 * finite, no columns, malformed matrix), -ENOMEM, or -EDOM (G + lambda I
 * was not numerically positive definite).
 */
int ease_fit(const csr_t *ui, float lambda, float *B);

/* Scores items[0..n) for ui's row user: scores[j] = sum_{i in row} x_ui
 * B[i, items[j]], with B from ease_fit on ui. */
void ease_score(const csr_t *ui, const float *B, uint32_t user,
                const uint32_t *items, size_t n, float *scores);

/*
 * A blend of a factor model and EASE over the same candidates. Each model's
 * scores are standardized over the user's candidates (minus their mean,
 * divided by their standard deviation; all-equal scores become 0), because
 * the two live on unrelated scales, then mixed as
 *
 *   w z(x_u . y_j) + (1 - w) z(ease(u, j))
 *
 * w = 1 is the factor model alone, w = 0 EASE alone.
 */
typedef struct ease_blend {
    const csr_t *ui;          /* the training rows ease_fit saw */
    const float *B;                /* n_cols x n_cols from ease_fit */
    const float *user_f, *item_f;  /* factors, row-major */
    uint32_t factors;
    float w;                       /* weight of the factor model, 0..1 */
} ease_blend_t;

/* An ncf_score_fn (ncf.h) over an ease_blend_t ctx. Allocates nothing and
 * keeps no state, so it may run on several threads at once. */
void ease_score_blend(void *ctx, uint32_t user, const uint32_t *items,
                      size_t n, float *scores);

#endif
