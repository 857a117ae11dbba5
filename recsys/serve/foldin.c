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
    uint32_t pos;      /* position in the events: time order within an item */
    float r;           /* pair value: > 0 positive, < 0 negative feedback */
    uint8_t type;
} strength_t;

static int cmp_strength(const void *a, const void *b)
{
    const strength_t *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Positive pairs first: the explanation lists read them. */
static int cmp_positive_first(const void *a, const void *b)
{
    const strength_t *x = a, *y = b;
    int px = x->r > 0, py = y->r > 0;
    if (px != py)
        return py - px;
    return (x->item > y->item) - (x->item < y->item);
}

/* Folds each known item's events (in their order, times weight[i] when
 * weight is not NULL) through train_pair_t, as training does; keeps the
 * observed pairs, positive ones first. *n_pos gets how many are positive. */
static int item_strengths(const model_t *m, const store_event_rec_t *ev,
                          const float *weight, size_t n_ev, strength_t **out, size_t *n,
                          size_t *n_pos)
{
    strength_t *s = malloc((n_ev ? n_ev : 1) * sizeof *s);
    size_t k = 0, w = 0;

    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n_ev; i++)
        if (ev[i].item < m->hdr.n_items)
            s[k++] = (strength_t){ ev[i].item, (uint32_t)i,
                                   train_event_strength(&m->hdr, &ev[i]) *
                                       (weight ? weight[i] : 1.0f),
                                   ev[i].type };
    qsort(s, k, sizeof *s, cmp_strength);
    *n_pos = 0;
    for (size_t i = 0, j; i < k; i = j) {
        train_pair_t p = { 0 };
        float r;
        for (j = i; j < k && s[j].item == s[i].item; j++)
            train_pair_add(&p, s[j].type, s[j].r);
        r = train_pair_value(&p);
        if (r != 0) {
            s[w++] = (strength_t){ .item = s[i].item, .r = r };
            *n_pos += r > 0;
        }
    }
    if (w)
        qsort(s, w, sizeof *s, cmp_positive_first);
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
    size_t n = 0, n_pos = 0;
    double lambda;
    int info = 0, fi = (int)f, rc;

    memset(out, 0, sizeof *out);
    if ((rc = item_strengths(m, ev, weight, n_ev, &s, &n, &n_pos)) != 0)
        return rc;
    if (n_pos == 0) {
        free(s);
        return -ENOENT;
    }
    out->f = f;
    out->x = calloc(f, sizeof *out->x);
    out->chol = malloc((size_t)f * f * sizeof *out->chol);
    out->items = malloc(n_pos * sizeof *out->items);
    out->conf = malloc(n_pos * sizeof *out->conf);
    if (!out->x || !out->chol || !out->items || !out->conf) {
        free(s);
        foldin_free(out);
        return -ENOMEM;
    }
    /* A = alpha0 G + lambda I + sum (c - alpha0) y y';  b = sum c p y, with
     * c = 1 + alpha |r| and p = 0 for negative feedback (ials.h) */
    lambda = h->reg * pow((double)n + alpha0 * (double)h->n_items, h->nu);
    for (size_t i = 0; i < (size_t)f * f; i++)
        out->chol[i] = alpha0 * m->gramian[i];
    for (uint32_t d = 0; d < f; d++)
        out->chol[(size_t)d * f + d] += (float)lambda;
    for (size_t j = 0; j < n; j++) {
        const float *y = m->item_f + (size_t)s[j].item * f;
        float c = 1.0f + h->alpha * fabsf(s[j].r);
        cblas_ssyr(CblasRowMajor, CblasLower, (blasint)f, c - alpha0, y, 1, out->chol,
                   (blasint)f);
        if (j >= n_pos)
            continue; /* negative: no right-hand side, no explanation */
        out->items[j] = s[j].item;
        out->conf[j] = c;
        cblas_saxpy((blasint)f, c, y, 1, out->x, 1);
    }
    out->n = n_pos;
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
