/*
 * csr.h - compressed sparse rows: the customer x item matrix training,
 * evaluation and EASE read, built once from (row, col, value) triplets.
 * Pure data, no I/O.
 */
#ifndef PATRON_BASE_CSR_H
#define PATRON_BASE_CSR_H

#include <stddef.h>
#include <stdint.h>

/* indptr has n_rows + 1 entries; row r's entries are indices/values
 * [indptr[r], indptr[r + 1]). Column indices within a row are sorted
 * ascending and unique. */
typedef struct csr {
    uint32_t n_rows, n_cols;
    uint64_t *indptr;
    uint32_t *indices;
    float *values;
} csr_t;

/*
 * Builds a CSR from unsorted (row, col, value) triplets, summing duplicates
 * (in double, in input order: deterministic). Rows/cols must be <
 * n_rows/n_cols and values finite. Entries whose summed value is <= 0 are
 * dropped. On success out owns its arrays (csr_free). Returns 0, -EINVAL or
 * -ENOMEM.
 */
int csr_from_triplets(uint32_t n_rows, uint32_t n_cols, size_t nnz,
                      const uint32_t *rows, const uint32_t *cols,
                      const float *vals, csr_t *out);

/* Merges one (row, col) pair's triplets into its entry: pos[0..n) are their
 * positions in the input, in input order. Returns the entry's value (must
 * be finite); the entry is stored when *keep is set to nonzero. */
typedef float (*csr_merge_fn)(void *ctx, const size_t *pos, size_t n, int *keep);

/* As csr_from_triplets, with merge deciding each pair's entry instead of
 * the positive sum (merge NULL: exactly csr_from_triplets). */
int csr_from_triplets_merged(uint32_t n_rows, uint32_t n_cols, size_t nnz,
                             const uint32_t *rows, const uint32_t *cols,
                             const float *vals, csr_merge_fn merge, void *ctx,
                             csr_t *out);

/* Transposes m (rows x cols -> cols x rows) into out, which then owns its
 * arrays (csr_free). Returns 0, -EINVAL (m or out NULL) or -ENOMEM. */
int csr_transpose(const csr_t *m, csr_t *out);

/* Frees the arrays of a CSR (not the struct) and NULLs them. NULL-safe. */
void csr_free(csr_t *m);

/* 1 if m is well formed: indptr monotone from 0, columns in range and
 * strictly increasing per row, values finite and >= 0. */
int csr_valid(const csr_t *m);

/* The same with values of any sign (finite): the training matrix, whose
 * negative entries are negative feedback (ials.h). */
int csr_valid_signed(const csr_t *m);

/* Stored entries per column (n_cols + 1 counters, the last 0); the caller
 * frees. NULL on -ENOMEM. */
uint32_t *csr_column_counts(const csr_t *m);

#endif
