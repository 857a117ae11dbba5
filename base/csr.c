/*
 * csr.c - compressed sparse rows (contract in csr.h). Building sorts the
 * triplets with two stable counting sorts (by column, then by row), so it is
 * O(nnz + rows + cols) and the duplicates' sum order is the input order.
 */
#include "csr.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void csr_free(csr_t *m)
{
    if (!m)
        return;
    free(m->indptr);
    free(m->indices);
    free(m->values);
    m->indptr = NULL;
    m->indices = NULL;
    m->values = NULL;
}

/* malloc that never returns NULL for a zero-size request. */
static void *xmalloc(size_t n)
{
    return malloc(n ? n : 1);
}

static int csr_alloc(csr_t *out, uint32_t n_rows, uint32_t n_cols,
                     uint64_t nnz)
{
    out->n_rows = n_rows;
    out->n_cols = n_cols;
    out->indptr = calloc((size_t)n_rows + 1, sizeof *out->indptr);
    out->indices = xmalloc(nnz * sizeof *out->indices);
    out->values = xmalloc(nnz * sizeof *out->values);
    if (!out->indptr || !out->indices || !out->values) {
        csr_free(out);
        return -ENOMEM;
    }
    return 0;
}

int csr_transpose(const csr_t *m, csr_t *out)
{
    if (!m || !m->indptr || !out)
        return -EINVAL;
    uint64_t nnz = m->indptr[m->n_rows];
    int rc = csr_alloc(out, m->n_cols, m->n_rows, nnz);
    if (rc)
        return rc;
    /* Counting sort by column; walking rows in order keeps the new column
     * indices (old rows) sorted ascending. */
    uint64_t *next = out->indptr + 1;
    for (uint64_t e = 0; e < nnz; e++)
        next[m->indices[e]]++;
    for (uint32_t c = 1; c < m->n_cols; c++)
        next[c] += next[c - 1];
    /* next[c] now ends column c; shift to starts by walking backwards. */
    for (uint32_t r = m->n_rows; r-- > 0;) {
        for (uint64_t e = m->indptr[r + 1]; e-- > m->indptr[r];) {
            uint32_t c = m->indices[e];
            uint64_t pos = --next[c];
            out->indices[pos] = r;
            out->values[pos] = m->values[e];
        }
    }
    /* After the backward walk next[c] = start of column c = indptr[c];
     * indptr[n_cols] still holds the total. */
    memmove(out->indptr, next, (size_t)m->n_cols * sizeof *next);
    out->indptr[m->n_cols] = nnz;
    return 0;
}

/* Stable counting sort of perm_in by key[perm_in[t]] into perm_out. */
static int counting_sort(const uint32_t *key, uint32_t n_keys, size_t nnz,
                         const size_t *perm_in, size_t *perm_out)
{
    size_t *start = calloc((size_t)n_keys + 1, sizeof *start);
    if (!start)
        return -ENOMEM;
    for (size_t t = 0; t < nnz; t++)
        start[key[t] + 1]++;
    for (uint32_t c = 0; c < n_keys; c++)
        start[c + 1] += start[c];
    for (size_t t = 0; t < nnz; t++) {
        size_t src = perm_in ? perm_in[t] : t;
        perm_out[start[key[src]]++] = src;
    }
    free(start);
    return 0;
}

/* Walks triplets sorted by (row, col, input order) and stores one entry per
 * pair: without merge, the sum of its values in double (in input order, so
 * the result is deterministic) when positive; else what merge decides. */
static void csr_merge_sorted(const uint32_t *rows, const uint32_t *cols,
                             const float *vals, size_t nnz, const size_t *perm,
                             csr_merge_fn merge, void *ctx, csr_t *out)
{
    uint64_t w = 0;
    size_t t = 0;
    for (uint32_t r = 0; r < out->n_rows; r++) {
        out->indptr[r] = w;
        while (t < nnz && rows[perm[t]] == r) {
            uint32_t c = cols[perm[t]];
            size_t first = t;
            double sum = 0.0;
            int keep;
            for (; t < nnz && rows[perm[t]] == r && cols[perm[t]] == c; t++)
                sum += vals[perm[t]];
            if (merge)
                sum = merge(ctx, perm + first, t - first, &keep);
            else
                keep = sum > 0.0;
            if (keep) {
                out->indices[w] = c;
                out->values[w] = (float)sum;
                w++;
            }
        }
    }
    out->indptr[out->n_rows] = w;
}

int csr_from_triplets(uint32_t n_rows, uint32_t n_cols, size_t nnz,
                      const uint32_t *rows, const uint32_t *cols,
                      const float *vals, csr_t *out)
{
    return csr_from_triplets_merged(n_rows, n_cols, nnz, rows, cols, vals, NULL, NULL, out);
}

int csr_from_triplets_merged(uint32_t n_rows, uint32_t n_cols, size_t nnz,
                             const uint32_t *rows, const uint32_t *cols,
                             const float *vals, csr_merge_fn merge, void *ctx,
                             csr_t *out)
{
    if (!out || (nnz && (!rows || !cols || !vals)))
        return -EINVAL;
    for (size_t t = 0; t < nnz; t++)
        if (rows[t] >= n_rows || cols[t] >= n_cols || !isfinite(vals[t]))
            return -EINVAL;

    /* Radix sort: by column, then stably by row -> (row, col, input order). */
    size_t *by_col = xmalloc(nnz * sizeof *by_col);
    size_t *by_row = xmalloc(nnz * sizeof *by_row);
    int rc = (by_col && by_row) ? 0 : -ENOMEM;
    if (!rc)
        rc = counting_sort(cols, n_cols, nnz, NULL, by_col);
    if (!rc)
        rc = counting_sort(rows, n_rows, nnz, by_col, by_row);
    if (!rc)
        rc = csr_alloc(out, n_rows, n_cols, nnz);
    if (!rc)
        csr_merge_sorted(rows, cols, vals, nnz, by_row, merge, ctx, out);
    free(by_col);
    free(by_row);
    return rc;
}

/* indptr monotone from 0, columns in range, strictly increasing per row,
 * values finite and, unless signed, >= 0 (so every confidence is >= 1 and
 * every system SPD; ials.h reads a negative value r as confidence
 * 1 + alpha |r|, which keeps that). */
static int csr_check(const csr_t *m, int signed_values)
{
    if (!m || !m->indptr || m->indptr[0] != 0)
        return 0;
    uint64_t nnz = m->indptr[m->n_rows];
    if (nnz && (!m->indices || !m->values))
        return 0;
    for (uint32_t r = 0; r < m->n_rows; r++) {
        uint64_t b = m->indptr[r], e = m->indptr[r + 1];
        if (e < b || e > nnz)
            return 0;
        for (uint64_t k = b; k < e; k++) {
            if (m->indices[k] >= m->n_cols)
                return 0;
            if (k > b && m->indices[k] <= m->indices[k - 1])
                return 0;
            if (!isfinite(m->values[k]) || (!signed_values && m->values[k] < 0.0f))
                return 0;
        }
    }
    return 1;
}

int csr_valid(const csr_t *m)
{
    return csr_check(m, 0);
}

int csr_valid_signed(const csr_t *m)
{
    return csr_check(m, 1);
}

/* Observed pairs per column of m (caller frees; NULL on -ENOMEM). */
uint32_t *csr_column_counts(const csr_t *m)
{
    uint32_t *count = calloc((size_t)m->n_cols + 1, sizeof *count);
    if (count)
        for (uint64_t e = 0; e < m->indptr[m->n_rows]; e++)
            count[m->indices[e]]++;
    return count;
}
