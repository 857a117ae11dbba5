/*
 * ials_loss.c - the iALS objective of ials.h evaluated for given factors
 * (ials_loss, and the progress value ials_train reports after each sweep),
 * and the scores of trained factors (ials_score_items).
 *
 * The unobserved term over all pairs is trace((X'X)(Y'Y)), O((m+n) f^2),
 * accumulated in double; the observed pairs then swap their alpha0 (x.y)^2
 * for c (1 - x.y)^2, over p->threads threads with rows summed in row order,
 * so the value does not depend on the thread count.
 */
#include "ials_impl.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* Rows converted to double per dsyrk call when computing the loss. */
#define IALS_LOSS_CHUNK 256u

/* G = F'F in double (full matrix), via dsyrk on chunks converted to double;
 * F' diag(w) F when w is given. */
static int gramian_double(const float *fm, uint32_t m, uint32_t f,
                          const float *w, double *g)
{
    double *buf = malloc((size_t)IALS_LOSS_CHUNK * f * sizeof *buf);
    if (!buf)
        return -ENOMEM;
    memset(g, 0, (size_t)f * f * sizeof *g);
    for (uint32_t base = 0; base < m; base += IALS_LOSS_CHUNK) {
        uint32_t cnt = m - base < IALS_LOSS_CHUNK ? m - base : IALS_LOSS_CHUNK;
        const float *src = fm + (size_t)base * f;
        for (size_t k = 0; k < (size_t)cnt * f; k++)
            buf[k] = w ? src[k] * sqrt((double)w[base + k / f]) : src[k];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)f, (int)cnt,
                    1.0, buf, (int)f, 1.0, g, (int)f);
    }
    free(buf);
    for (uint32_t i = 0; i < f; i++)
        for (uint32_t j = 0; j < i; j++)
            g[(size_t)i * f + j] = g[(size_t)j * f + i];
    return 0;
}

static double sum_squares(const float *x, size_t count)
{
    double s = 0.0;
    for (size_t k = 0; k < count; k++)
        s += (double)x[k] * x[k];
    return s;
}

/* Double-precision dot with 4 independent partial sums, so it vectorizes. */
static double dot_double(const float *restrict a, const float *restrict b,
                         uint32_t f)
{
    double acc[4] = { 0.0, 0.0, 0.0, 0.0 };
    uint32_t k = 0;
    for (; k + 4 <= f; k += 4)
        for (uint32_t l = 0; l < 4; l++)
            acc[l] += (double)a[k + l] * b[k + l];
    for (; k < f; k++)
        acc[0] += (double)a[k] * b[k];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* Rows [begin, end) of the observed-pair term, one double per row. */
typedef struct loss_part {
    const csr_t *ui;
    const float *x, *y;
    uint32_t f;
    double alpha, alpha0;
    const float *item_w; /* per-item unobserved weights, or NULL */
    uint32_t begin, end;
    double *row_sum;
} loss_part_t;

/* For each observed pair, c (p - x.y)^2 replaces the alpha0 (x.y)^2 that the
 * all-pairs trace counted. */
static void *loss_rows(void *arg)
{
    const loss_part_t *lp = arg;
    const csr_t *ui = lp->ui;
    for (uint32_t u = lp->begin; u < lp->end; u++) {
        const float *xu = lp->x + (size_t)u * lp->f;
        double s = 0.0;
        for (uint64_t e = ui->indptr[u]; e < ui->indptr[u + 1]; e++) {
            uint32_t i = ui->indices[e];
            const float *yi = lp->y + (size_t)i * lp->f;
            double pr = dot_double(xu, yi, lp->f);
            double c = 1.0 + lp->alpha * fabs((double)ui->values[e]);
            double p = ui->values[e] > 0.0f ? 1.0 : 0.0; /* < 0: negative feedback */
            double a0 = lp->item_w ? (double)lp->item_w[i] : lp->alpha0;
            s += c * (p - pr) * (p - pr) - a0 * pr * pr;
        }
        lp->row_sum[u] = s;
    }
    return NULL;
}

/*
 * The observed-pair term over p->threads threads (ranges of equal nnz). Rows
 * are summed in row order afterwards, so the value does not depend on the
 * thread count. Returns 0 or -ENOMEM.
 */
static int observed_term(const csr_t *ui, const ials_params_t *p,
                         const float *user_f, const float *item_f,
                         const float *item_w, double *out)
{
    const uint32_t n = ui->n_rows, threads = p->threads;
    const uint64_t nnz = ui->indptr[n];
    loss_part_t part[IALS_MAX_THREADS];
    pthread_t tid[IALS_MAX_THREADS];
    int started[IALS_MAX_THREADS] = { 0 };
    double *row_sum = ials_xmalloc((size_t)n * sizeof *row_sum);
    if (!row_sum)
        return -ENOMEM;

    uint32_t r = 0;
    for (uint32_t t = 0; t < threads; t++) {
        uint64_t target = nnz * (t + 1) / threads;
        part[t] = (loss_part_t){ ui, user_f, item_f, p->factors,
                                 (double)p->alpha, (double)p->alpha0, item_w,
                                 r, r, row_sum };
        while (r < n && (t + 1 == threads || ui->indptr[r + 1] <= target))
            r++;
        part[t].end = r;
    }
    for (uint32_t t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, loss_rows, &part[t]) == 0;
    for (uint32_t t = 0; t < threads; t++)
        if (!started[t])
            loss_rows(&part[t]);
    for (uint32_t t = 1; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);

    double s = 0.0;
    for (uint32_t u = 0; u < n; u++)
        s += row_sum[u];
    free(row_sum);
    *out = s;
    return 0;
}

/* sum_r lambda_r |f_r|^2 for one side; count[r] = observed pairs of row r
 * (NULL: read them from indptr); row_w[r] = row r's unobserved weight (NULL:
 * alpha0). */
static double reg_term(const float *fm, uint32_t n, uint32_t f,
                       const uint64_t *indptr, const uint32_t *count,
                       const float *row_w, uint32_t n_other,
                       const ials_params_t *p)
{
    if (p->nu == 0.0f)
        return p->reg * sum_squares(fm, (size_t)n * f);
    double s = 0.0;
    for (uint32_t r = 0; r < n; r++) {
        uint64_t c = count ? count[r] : indptr[r + 1] - indptr[r];
        float a0 = row_w ? row_w[r] : p->alpha0;
        double lambda = ials_row_lambda(p->reg, p->nu, a0, c, n_other);
        s += lambda * sum_squares(fm + (size_t)r * f, f);
    }
    return s;
}

float *ials_item_weights(const csr_t *ui, const ials_params_t *p)
{
    uint32_t *count = csr_column_counts(ui);
    float *w = ials_xmalloc((size_t)ui->n_cols * sizeof *w);
    if (!count || !w) {
        free(count);
        free(w);
        return NULL;
    }
    double sum = 0.0;
    for (uint32_t i = 0; i < ui->n_cols; i++)
        sum += pow((double)count[i], p->pop_exp);
    for (uint32_t i = 0; i < ui->n_cols; i++)
        w[i] = sum > 0.0 ? (float)((double)p->alpha0 * ui->n_cols *
                                   pow((double)count[i], p->pop_exp) / sum)
                         : p->alpha0;
    free(count);
    return w;
}

/* Both sides' regularization: lambda_u and lambda_i as in ials.h. */
static int reg_both(const csr_t *ui, const ials_params_t *p,
                    const float *user_f, const float *item_f,
                    const float *item_w, double *out)
{
    uint32_t *item_count = NULL;
    if (p->nu != 0.0f && !(item_count = csr_column_counts(ui)))
        return -ENOMEM;
    *out = reg_term(user_f, ui->n_rows, p->factors, ui->indptr, NULL, NULL,
                    ui->n_cols, p) +
           reg_term(item_f, ui->n_cols, p->factors, NULL, item_count, item_w,
                    ui->n_rows, p);
    free(item_count);
    return 0;
}

/*
 * sum over all pairs of (x.y)^2 = trace((X'X)(Y'Y)) costs O((m+n) f^2); the
 * observed pairs then swap their alpha0 (x.y)^2 for c (1 - x.y)^2. NaN on
 * -ENOMEM.
 */
double ials_loss_unchecked(const csr_t *ui, const ials_params_t *p, const float *user_f,
                           const float *item_f)
{
    const uint32_t f = p->factors;
    double *gx = malloc((size_t)f * f * sizeof *gx);
    double *gy = malloc((size_t)f * f * sizeof *gy);
    float *item_w = NULL;
    double observed = 0.0, reg = 0.0;
    int rc = (gx && gy) ? 0 : -ENOMEM;
    if (!rc && p->pop_exp != 0.0f && !(item_w = ials_item_weights(ui, p)))
        rc = -ENOMEM;
    if (!rc)
        rc = gramian_double(user_f, ui->n_rows, f, NULL, gx);
    if (!rc)
        rc = gramian_double(item_f, ui->n_cols, f, item_w, gy);
    if (!rc)
        rc = observed_term(ui, p, user_f, item_f, item_w, &observed);
    if (!rc)
        rc = reg_both(ui, p, user_f, item_f, item_w, &reg);
    double loss = NAN;
    if (!rc) {
        double trace = 0.0;
        for (size_t k = 0; k < (size_t)f * f; k++)
            trace += gx[k] * gy[k];
        loss = (item_w ? 1.0 : p->alpha0) * trace + observed + reg;
    }
    free(item_w);
    free(gx);
    free(gy);
    return loss;
}

double ials_loss(const csr_t *ui, const ials_params_t *p,
                 const float *user_f, const float *item_f)
{
    if (!ials_params_valid(p) || !csr_valid_signed(ui) ||
        (ui->n_rows && !user_f) || (ui->n_cols && !item_f))
        return NAN;
    return ials_loss_unchecked(ui, p, user_f, item_f);
}

/* Here, not in ials.c: ials.c contracts multiply-adds into FMAs
 * (fp-contract=fast), which would change the scores evaluation reports. */
void ials_score_items(const float *user_f, const float *item_f, uint32_t f,
                      uint32_t user, const uint32_t *items, size_t n, float *scores)
{
    const float *x = user_f + (size_t)user * f;
    for (size_t j = 0; j < n; j++) {
        const float *y = item_f + (size_t)items[j] * f;
        float acc = 0.0f;
        for (uint32_t k = 0; k < f; k++)
            acc += x[k] * y[k];
        scores[j] = acc;
    }
}
