/*
 * ials.h - implicit-feedback alternating least squares (Hu, Koren, Volinsky,
 * "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008).
 *
 * Pure math over a sparse matrix: no LMDB, no I/O. The caller builds the
 * customer x item matrix of interaction strengths r_ui (CSR), the trainer
 * learns X (users x f) and Y (items x f) minimizing
 *
 *   sum_{(u,i) observed} (1 + alpha * r_ui) (1 - x_u.y_i)^2
 *   + sum_{(u,i) not observed} (x_u.y_i)^2
 *   + reg * (|X|^2 + |Y|^2)
 *
 * Each half-sweep computes the Gramian Y'Y once with BLAS ssyrk and solves one
 * f x f system per row by Cholesky (the "exact" solver), so the unobserved
 * term costs nothing per row.
 */
#ifndef PATRON_RECSYS_IALS_H
#define PATRON_RECSYS_IALS_H

#include <stddef.h>
#include <stdint.h>

/* Compressed sparse rows. indptr has n_rows + 1 entries. Column indices within
 * a row are sorted ascending and unique. */
typedef struct ials_csr {
    uint32_t n_rows, n_cols;
    uint64_t *indptr;
    uint32_t *indices;
    float *values;
} ials_csr_t;

typedef struct ials_params {
    uint32_t factors;     /* f, e.g. 64 */
    uint32_t iterations;  /* full sweeps (users then items) */
    float reg;            /* L2 regularization lambda */
    float alpha;          /* confidence scale: c_ui = 1 + alpha * r_ui */
    float init_scale;     /* factors start uniform in [0, init_scale) / sqrt(f) */
    uint32_t threads;     /* worker threads, >= 1 */
    uint64_t seed;
} ials_params_t;

/* Sensible defaults (f=64, 15 iterations, reg=0.05, alpha=2, 1 thread). */
void ials_params_default(ials_params_t *p);

/* Called after every sweep with the iteration number (1-based) and the full
 * objective above. Return nonzero to stop early. May be NULL. */
typedef int (*ials_progress_fn)(void *ctx, uint32_t iteration, double loss);

/*
 * Trains factors for ui (users x items). user_f must hold n_rows * f floats,
 * item_f n_cols * f floats; both are initialized by the trainer from seed.
 * Same inputs and seed give bit-identical factors (whatever the thread count).
 * ui must be well formed (columns sorted and unique per row, values finite
 * and >= 0). OpenBLAS is set to 1 thread while this runs (a process-wide
 * setting) and restored on return.
 * Returns 0, or -EINVAL (bad params/matrix; factors untouched), -ENOMEM,
 * -EDOM (a system was not numerically positive definite: in practice only
 * with reg = 0). After -ENOMEM or -EDOM the factor contents are unspecified.
 */
int ials_train(const ials_csr_t *ui, const ials_params_t *p,
               float *user_f, float *item_f,
               ials_progress_fn progress, void *ctx);

/* The objective above for given factors (double precision accumulation).
 * Uses p->threads threads; the value does not depend on the thread count.
 * NaN on bad params/matrix or out of memory. */
double ials_loss(const ials_csr_t *ui, const ials_params_t *p,
                 const float *user_f, const float *item_f);

/* Transposes a CSR matrix (users x items -> items x users). The result owns its
 * arrays; free with ials_csr_free. Returns 0 or -ENOMEM. */
int ials_csr_transpose(const ials_csr_t *m, ials_csr_t *out);

/* Frees the arrays of a CSR the library allocated (not the struct). NULL-safe. */
void ials_csr_free(ials_csr_t *m);

/*
 * Builds a CSR from unsorted (row, col, value) triplets, summing duplicates.
 * Rows/cols must be < n_rows/n_cols. Entries whose summed value is <= 0 are
 * dropped. Returns 0, -EINVAL or -ENOMEM.
 */
int ials_csr_from_triplets(uint32_t n_rows, uint32_t n_cols, size_t nnz,
                           const uint32_t *rows, const uint32_t *cols,
                           const float *vals, ials_csr_t *out);

#endif
