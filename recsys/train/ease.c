/*
 * ease.c - EASE item-item model and its blend with factors (see ease.h).
 *
 * The Gram matrix is accumulated straight from the sparse rows, pair by pair
 * within each user's row: O(sum_u n_u^2) adds instead of the O(users
 * items^2) of a dense ssyrk, and on ML-1M that is ~10x fewer operations.
 * Only one triangle is built, inverted in place by LAPACK's Cholesky
 * (spotrf + spotri) and mirrored while B is formed, so the whole fit needs
 * the caller's n x n buffer and one n-vector.
 */
#include "ease.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK Cholesky factorization and inverse from it (Fortran ABI; the hidden
 * string length comes last). */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda,
                    int *info, size_t uplo_len);
extern void spotri_(const char *uplo, const int *n, float *a, const int *lda,
                    int *info, size_t uplo_len);

static int csr_ok(const csr_t *m)
{
    if (!m || !m->indptr || m->n_cols == 0 || m->n_cols > INT_MAX ||
        m->indptr[0] != 0)
        return 0;
    for (uint32_t u = 0; u < m->n_rows; u++) {
        if (m->indptr[u + 1] < m->indptr[u])
            return 0;
        for (uint64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
            if (m->indices[k] >= m->n_cols ||
                (k > m->indptr[u] && m->indices[k] <= m->indices[k - 1]))
                return 0;
    }
    return 1;
}

/* G = X'X + lambda I into the row-major upper triangle of g (i <= j); the
 * strict lower triangle is zeroed. Columns are sorted within a row, so
 * pairs (a, b >= a) of a row land at or above the diagonal. */
static void gram_upper(const csr_t *m, float lambda, float *restrict g)
{
    const size_t n = m->n_cols;

    memset(g, 0, n * n * sizeof *g);
    for (uint32_t u = 0; u < m->n_rows; u++) {
        const uint64_t lo = m->indptr[u], hi = m->indptr[u + 1];
        for (uint64_t a = lo; a < hi; a++) {
            float *restrict row = g + (size_t)m->indices[a] * n;
            const float va = m->values[a];
            for (uint64_t b = a; b < hi; b++)
                row[m->indices[b]] += va * m->values[b];
        }
    }
    for (size_t i = 0; i < n; i++)
        g[i * n + i] += lambda;
}

/* P = g^-1 in place, upper triangle in, upper triangle out. Row-major upper
 * is column-major lower: LAPACK's "L". */
static int invert_spd_upper(float *g, uint32_t n)
{
    const int ni = (int)n;
    int info = 0;

    spotrf_("L", &ni, g, &ni, &info, 1);
    if (info != 0)
        return -EDOM;
    spotri_("L", &ni, g, &ni, &info, 1);
    return info != 0 ? -EDOM : 0;
}

/* B_ij = -P_ij / P_jj, B_ii = 0, from P's upper triangle (P symmetric). The
 * strict lower triangle is written from the upper one before that is
 * overwritten, so this works in place. */
static int form_b(float *p, uint32_t n, float *scratch)
{
    for (uint32_t j = 0; j < n; j++) {
        const float d = p[(size_t)j * n + j];
        if (!(d > 0.0f))
            return -EDOM;
        scratch[j] = 1.0f / d;
    }
    for (uint32_t i = 0; i < n; i++) {
        float *restrict row = p + (size_t)i * n;
        row[i] = 0.0f;
        for (uint32_t j = i + 1; j < n; j++) {
            const float pij = row[j];
            p[(size_t)j * n + i] = -pij * scratch[i];
            row[j] = -pij * scratch[j];
        }
    }
    return 0;
}

int ease_fit(const csr_t *ui, float lambda, float *B)
{
    float *inv_diag;
    int rc;

    if (!(lambda > 0.0f) || !isfinite(lambda) || !B || !csr_ok(ui))
        return -EINVAL;
    if ((inv_diag = malloc(ui->n_cols * sizeof *inv_diag)) == NULL)
        return -ENOMEM;
    gram_upper(ui, lambda, B);
    rc = invert_spd_upper(B, ui->n_cols);
    if (rc == 0)
        rc = form_b(B, ui->n_cols, inv_diag);
    free(inv_diag);
    return rc;
}

void ease_score(const csr_t *ui, const float *B, uint32_t user,
                const uint32_t *items, size_t n, float *scores)
{
    const size_t nc = ui->n_cols;
    const uint64_t lo = ui->indptr[user], hi = ui->indptr[user + 1];

    for (size_t j = 0; j < n; j++)
        scores[j] = 0.0f;
    for (uint64_t k = lo; k < hi; k++) {
        const float *row = B + (size_t)ui->indices[k] * nc;
        const float x = ui->values[k];
        for (size_t j = 0; j < n; j++)
            scores[j] += x * row[items[j]];
    }
}

/* Standardizes s[0..n) in place: (s - mean) / sd, or 0 when sd is 0. */
static void standardize(float *s, size_t n)
{
    double sum = 0.0, sq = 0.0, mean, sd;

    if (n == 0)
        return;
    for (size_t j = 0; j < n; j++)
        sum += s[j];
    mean = sum / (double)n;
    for (size_t j = 0; j < n; j++)
        sq += (s[j] - mean) * (s[j] - mean);
    sd = sqrt(sq / (double)n);
    for (size_t j = 0; j < n; j++)
        s[j] = sd > 0.0 ? (float)((s[j] - mean) / sd) : 0.0f;
}

/* Candidates are blended in chunks so that a fixed stack buffer holds the
 * EASE side: the standardization needs every candidate's score first, so
 * the mean and deviation come from a first pass. */
#define EASE_CHUNK 128

/* Mean and standard deviation of EASE's scores over items[0..n). */
static void ease_moments(const ease_blend_t *b, uint32_t user,
                         const uint32_t *items, size_t n, double *mean, double *sd)
{
    float buf[EASE_CHUNK];
    double sum = 0.0, sq = 0.0;

    for (size_t at = 0; at < n; at += EASE_CHUNK) {
        size_t m = n - at < EASE_CHUNK ? n - at : EASE_CHUNK;
        ease_score(b->ui, b->B, user, items + at, m, buf);
        for (size_t j = 0; j < m; j++) {
            sum += buf[j];
            sq += (double)buf[j] * buf[j];
        }
    }
    *mean = n ? sum / (double)n : 0.0;
    *sd = n ? sqrt(fmax(sq / (double)n - *mean * *mean, 0.0)) : 0.0;
}

void ease_score_blend(void *ctx, uint32_t user, const uint32_t *items,
                      size_t n, float *scores)
{
    const ease_blend_t *b = ctx;
    const double w = b->w;
    float buf[EASE_CHUNK];
    double mean = 0.0, sd = 0.0;

    if (w > 0.0) {
        ials_score_items(b->user_f, b->item_f, b->factors, user, items, n, scores);
        standardize(scores, n);
    } else {
        memset(scores, 0, n * sizeof *scores);
    }
    if (w >= 1.0)
        return;
    ease_moments(b, user, items, n, &mean, &sd);
    for (size_t at = 0; at < n; at += EASE_CHUNK) {
        size_t m = n - at < EASE_CHUNK ? n - at : EASE_CHUNK;
        ease_score(b->ui, b->B, user, items + at, m, buf);
        for (size_t j = 0; j < m; j++) {
            double z = sd > 0.0 ? (buf[j] - mean) / sd : 0.0;
            scores[at + j] = (float)(w * scores[at + j] + (1.0 - w) * z);
        }
    }
}
