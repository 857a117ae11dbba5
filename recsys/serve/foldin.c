/*
 * foldin.c - the ALS user equation at request time (foldin.h). The f x f
 * system is factored by LAPACK's spotrf (OpenBLAS ships it) and solved with
 * two BLAS triangular solves.
 */
#include "foldin.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* LAPACK Cholesky (Fortran ABI; the hidden string length comes last). */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda,
                    int *info, size_t uplo_len);

typedef struct strength {
    uint32_t item;
    float r;
} strength_t;

static int cmp_strength(const void *a, const void *b)
{
    const strength_t *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

/* Sums event strengths (times weight[i] when weight is not NULL) per known
 * item; keeps the positive ones. */
static int item_strengths(const model_t *m, const store_event_rec_t *ev,
                          const float *weight, size_t n_ev, strength_t **out, size_t *n)
{
    strength_t *s = malloc((n_ev ? n_ev : 1) * sizeof *s);
    size_t k = 0, w = 0;

    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n_ev; i++)
        if (ev[i].item < m->hdr.n_items)
            s[k++] = (strength_t){ ev[i].item, train_event_strength(&m->hdr, &ev[i]) *
                                                   (weight ? weight[i] : 1.0f) };
    qsort(s, k, sizeof *s, cmp_strength);
    for (size_t i = 0, j; i < k; i = j) {
        float r = 0;
        for (j = i; j < k && s[j].item == s[i].item; j++)
            r += s[j].r;
        if (r > 0)
            s[w++] = (strength_t){ s[i].item, r };
    }
    *out = s;
    *n = w;
    return 0;
}

/* Solves L L' z = b in place. */
static void chol_solve(const float *l, uint32_t f, float *b)
{
    cblas_strsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (blasint)f, l,
                (blasint)f, b, 1);
    cblas_strsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (blasint)f, l,
                (blasint)f, b, 1);
}

int foldin_solve(const model_t *m, const store_event_rec_t *ev, size_t n_ev,
                 foldin_t *out)
{
    return foldin_solve_weighted(m, ev, NULL, n_ev, out);
}

int foldin_solve_weighted(const model_t *m, const store_event_rec_t *ev,
                          const float *weight, size_t n_ev, foldin_t *out)
{
    const store_model_hdr_t *h = &m->hdr;
    uint32_t f = h->factors;
    float alpha0 = h->alpha0 > 0 ? h->alpha0 : 1.0f; /* models before alpha0 */
    strength_t *s = NULL;
    size_t n = 0;
    double lambda;
    int info = 0, fi = (int)f, rc;

    memset(out, 0, sizeof *out);
    if ((rc = item_strengths(m, ev, weight, n_ev, &s, &n)) != 0)
        return rc;
    if (n == 0) {
        free(s);
        return -ENOENT;
    }
    out->f = f;
    out->x = calloc(f, sizeof *out->x);
    out->chol = malloc((size_t)f * f * sizeof *out->chol);
    out->items = malloc(n * sizeof *out->items);
    out->conf = malloc(n * sizeof *out->conf);
    if (!out->x || !out->chol || !out->items || !out->conf) {
        free(s);
        foldin_free(out);
        return -ENOMEM;
    }
    /* A = alpha0 G + lambda I + sum (c - alpha0) y y';  b = sum c y */
    lambda = h->reg * pow((double)n + alpha0 * (double)h->n_items, h->nu);
    for (size_t i = 0; i < (size_t)f * f; i++)
        out->chol[i] = alpha0 * m->gramian[i];
    for (uint32_t d = 0; d < f; d++)
        out->chol[(size_t)d * f + d] += (float)lambda;
    for (size_t j = 0; j < n; j++) {
        const float *y = m->item_f + (size_t)s[j].item * f;
        float c = 1.0f + h->alpha * s[j].r;
        out->items[j] = s[j].item;
        out->conf[j] = c;
        cblas_ssyr(CblasRowMajor, CblasLower, (blasint)f, c - alpha0, y, 1, out->chol,
                   (blasint)f);
        cblas_saxpy((blasint)f, c, y, 1, out->x, 1);
    }
    out->n = n;
    free(s);
    /* Row-major lower is column-major upper: ask LAPACK for "U". */
    spotrf_("U", &fi, out->chol, &fi, &info, 1);
    if (info != 0) {
        foldin_free(out);
        return -EDOM;
    }
    for (uint32_t r = 0; r < f; r++) /* keep L clean: zero the upper part */
        for (uint32_t c = r + 1; c < f; c++)
            out->chol[(size_t)r * f + c] = 0;
    chol_solve(out->chol, f, out->x);
    return 0;
}

void foldin_free(foldin_t *fi)
{
    if (!fi)
        return;
    free(fi->x);
    free(fi->chol);
    free(fi->items);
    free(fi->conf);
    memset(fi, 0, sizeof *fi);
}

int foldin_explain(const model_t *m, const foldin_t *fi, uint32_t item,
                   uint32_t *top, size_t max, size_t *n)
{
    uint32_t f = fi->f;
    float *v;
    float best[8];

    *n = 0;
    if (max == 0) /* nothing to rank into: best[max - 1] does not exist */
        return 0;
    if (max > 8)
        max = 8;
    if (!(v = malloc(f * sizeof *v)))
        return -ENOMEM;
    memcpy(v, m->item_f + (size_t)item * f, f * sizeof *v);
    chol_solve(fi->chol, f, v); /* v = A^-1 y_i */
    for (size_t j = 0; j < fi->n; j++) {
        float c = fi->conf[j] * cblas_sdot((blasint)f, v, 1,
                                           m->item_f + (size_t)fi->items[j] * f, 1);
        size_t at = *n;
        if (c <= 0 || (at == max && c <= best[max - 1]))
            continue;
        if (at == max)
            at--;
        while (at > 0 && best[at - 1] < c) { /* insertion into the top list */
            best[at] = best[at - 1];
            top[at] = top[at - 1];
            at--;
        }
        best[at] = c;
        top[at] = fi->items[j];
        if (*n < max)
            (*n)++;
    }
    free(v);
    return 0;
}
