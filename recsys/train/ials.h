/*
 * ials.h - implicit-feedback alternating least squares (Hu, Koren, Volinsky,
 * "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008).
 *
 * Pure math over a sparse matrix: no LMDB, no I/O. The caller builds the
 * customer x item matrix of interaction strengths r_ui (CSR), the trainer
 * learns X (users x f) and Y (items x f) minimizing
 *
 *   sum_{(u,i) observed} (1 + alpha * |r_ui|) (p_ui - x_u.y_i)^2
 *   + alpha0 * sum_{(u,i) not observed} (x_u.y_i)^2
 *   + sum_u lambda_u |x_u|^2 + sum_i lambda_i |y_i|^2
 *
 * with p_ui = 1 for r_ui > 0 and p_ui = 0 for r_ui < 0. A negative entry is
 * negative feedback (a refund, "not interested"): HKV's preference 0, but
 * with a raised confidence instead of the unobserved alpha0, so the
 * trainer pushes x_u.y_i towards 0 as firmly as a purchase pushes it
 * towards 1. Negative weights in the loss would make the systems
 * indefinite; a confident 0 keeps every one of them positive definite and
 * costs nothing extra (the same rank-1 term, no right-hand side).
 *
 * with lambda_u = reg * (n_u + alpha0 * n_items)^nu, n_u the user's observed
 * count (lambda_i likewise with n_users): the frequency-scaled regularization
 * of Rendle et al., "Revisiting the Performance of iALS on Item
 * Recommendation Benchmarks" (RecSys 2022). alpha0 = 1, nu = 0 is the
 * original HKV objective with lambda = reg.
 *
 * Optionally (pop_exp = g > 0) the unobserved weight depends on the item:
 * alpha0 above becomes alpha0_i = alpha0 N n_i^g / sum_j n_j^g, n_i the
 * item's observed count, so the weights still average alpha0 but popular
 * items count more as negatives: the popularity-aware weighting of He et al.,
 * "Fast Matrix Factorization for Online Recommendation with Implicit
 * Feedback" (eALS, SIGIR 2016, eq. 8). lambda_i then uses alpha0_i. g = 0 is
 * the uniform objective, computed exactly as before.
 *
 * Each half-sweep computes the Gramian Y'Y once with BLAS ssyrk, so the
 * unobserved term costs nothing per row. Two solvers for the per-row f x f
 * system: "exact" (Cholesky) and "cg" (a few conjugate-gradient steps
 * warm-started from the current factors; Takacs, Pilaszy, Tikk, RecSys 2011),
 * which costs O(n_u f) per step instead of O(n_u f^2 + f^3) per row.
 */
#ifndef PATRON_RECSYS_IALS_H
#define PATRON_RECSYS_IALS_H

#include <stddef.h>
#include <stdint.h>

#include "csr.h"


typedef enum ials_solver {
    IALS_SOLVER_EXACT = 0, /* Cholesky of the full normal equations */
    IALS_SOLVER_CG = 1,    /* cg_steps conjugate-gradient steps per row */
} ials_solver_t;

typedef struct ials_params {
    uint32_t factors;     /* f, e.g. 64 */
    uint32_t iterations;  /* full sweeps (users then items) */
    float reg;            /* L2 regularization lambda */
    float alpha;          /* confidence scale: c_ui = 1 + alpha * r_ui */
    float init_scale;     /* factors start uniform in [0, init_scale) / sqrt(f) */
    uint32_t threads;     /* worker threads, >= 1 */
    uint64_t seed;
    float alpha0;         /* weight of unobserved pairs, >= 0 (HKV: 1) */
    float nu;             /* regularization exponent, >= 0 (0: lambda = reg) */
    ials_solver_t solver;
    uint32_t cg_steps;    /* CG steps per row and half-sweep, >= 1 */
    float pop_exp;        /* popularity exponent g of the unobserved weight,
                           * 0 <= g <= 4 (0: uniform alpha0) */
} ials_params_t;

/* Sensible defaults (f=64, 15 iterations, reg=0.05, alpha=2, alpha0=1, nu=0,
 * exact solver, cg_steps=3, 1 thread, pop_exp=0). */
void ials_params_default(ials_params_t *p);

/* "exact" / "cg"; NULL for an unknown value. */
const char *ials_solver_name(ials_solver_t s);

/* Parses "exact" or "cg" into *out. Returns 0 or -EINVAL. */
int ials_solver_parse(const char *name, ials_solver_t *out);

/* Called after every sweep with the iteration number (1-based) and the full
 * objective above. Return nonzero to stop early. May be NULL. */
typedef int (*ials_progress_fn)(void *ctx, uint32_t iteration, double loss);

/*
 * Trains factors for ui (users x items). user_f must hold n_rows * f floats,
 * item_f n_cols * f floats; both are initialized by the trainer from seed.
 * Same inputs and seed give bit-identical factors (whatever the thread count)
 * on the same machine: the kernels are chosen by CPU features at load time,
 * and another instruction set may round differently.
 * ui must be well formed (columns sorted and unique per row, values finite;
 * csr_valid_signed). OpenBLAS is set to 1 thread while this runs (a process-wide
 * setting) and restored on return.
 * Returns 0, or -EINVAL (bad params/matrix; factors untouched), -ENOMEM,
 * -EDOM (a system was not numerically positive definite: in practice only
 * with reg = 0 and the exact solver). The CG solver does not solve each row
 * exactly, so its loss may stall rather than fall every sweep. After -ENOMEM
 * or -EDOM the factor contents are unspecified.
 */
int ials_train(const csr_t *ui, const ials_params_t *p,
               float *user_f, float *item_f,
               ials_progress_fn progress, void *ctx);

/* The objective above for given factors (double precision accumulation).
 * Uses p->threads threads; the value does not depend on the thread count.
 * NaN on bad params/matrix or out of memory. */
double ials_loss(const csr_t *ui, const ials_params_t *p,
                 const float *user_f, const float *item_f);

/*
 * Scales every value r_ij by (n_j / mean n)^(-beta), n_j the column's count
 * of stored entries and mean n their average over all columns, so that with
 * c = 1 + alpha r the confidence of a pair with a popular item grows less
 * (beta > 0): a popular item's pair says less about one user's taste. The
 * average column keeps its values. Returns 0, -EINVAL (beta not finite, or a
 * malformed matrix) or -ENOMEM; the matrix is untouched on error.
 */
int ials_csr_popularity_scale(csr_t *m, float beta);

/* scores[j] = x_user . y_items[j] for trained factors (user_f n_users x f,
 * item_f n_items x f, row-major): what evaluation and the EASE blend rank
 * by. */
void ials_score_items(const float *user_f, const float *item_f, uint32_t f,
                      uint32_t user, const uint32_t *items, size_t n, float *scores);

#endif
