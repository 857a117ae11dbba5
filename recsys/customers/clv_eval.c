/*
 * clv_eval.c - the CLV models against the last-period baseline on a time
 * split (clv_eval.h).
 */
#include "clv_eval.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct err_acc {
    double abs, sq, pred, actual;
} err_acc_t;

static void err_add(err_acc_t *e, double pred, double actual)
{
    e->abs += fabs(pred - actual);
    e->sq += (pred - actual) * (pred - actual);
    e->pred += pred;
    e->actual += actual;
}

static clv_eval_errors_t err_finish(const err_acc_t *e, size_t n)
{
    return (clv_eval_errors_t){ e->abs / (double)n, sqrt(e->sq / (double)n), e->pred,
                                e->actual };
}

/* Orders indices by predicted spend, ascending; ties by index, so deciles
 * are reproducible. */
static int by_value(const void *a, const void *b, void *ctx)
{
    const double *v = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (v[i] != v[j])
        return v[i] < v[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

static void fill_deciles(const clv_eval_row_t *rows, const double *pp, const double *ps,
                         const size_t *order, size_t n, clv_eval_report_t *out)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        clv_eval_decile_t *d = &out->deciles[k * CLV_EVAL_DECILES / n];
        d->customers++;
        d->predicted_purchases += pp[i];
        d->actual_purchases += rows[i].actual_purchases;
        d->predicted_spend += ps[i];
        d->actual_spend += rows[i].actual_spend;
        d->baseline_spend += rows[i].last_spend;
    }
    for (int j = 0; j < CLV_EVAL_DECILES; j++) {
        clv_eval_decile_t *d = &out->deciles[j];
        double c = d->customers ? (double)d->customers : 1;
        d->predicted_purchases /= c;
        d->actual_purchases /= c;
        d->predicted_spend /= c;
        d->actual_spend /= c;
        d->baseline_spend /= c;
    }
}

static int predict_all(const clv_eval_row_t *rows, size_t n, double horizon,
                       clv_eval_report_t *out, double *pp, double *ps)
{
    err_acc_t p = { 0 }, s = { 0 }, bp = { 0 }, bs = { 0 };
    clv_prediction_t pr;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if ((rc = clv_predict(&out->model, &rows[i].cal, horizon, &pr)) != 0)
            return rc;
        pp[i] = pr.expected_purchases;
        ps[i] = pr.value;
        err_add(&p, pp[i], rows[i].actual_purchases);
        err_add(&s, ps[i], rows[i].actual_spend);
        err_add(&bp, rows[i].last_purchases, rows[i].actual_purchases);
        err_add(&bs, rows[i].last_spend, rows[i].actual_spend);
    }
    out->purchases = err_finish(&p, n);
    out->spend = err_finish(&s, n);
    out->base_purchases = err_finish(&bp, n);
    out->base_spend = err_finish(&bs, n);
    return 0;
}

int clv_evaluate(const clv_eval_row_t *rows, size_t n, double holdout_days,
                 clv_eval_report_t *out)
{
    clv_summary_t *cal = NULL;
    double *pp = NULL, *ps = NULL;
    size_t *order = NULL;
    int rc;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!rows || n == 0 || !(holdout_days > 0))
        return -EINVAL;
    cal = malloc(n * sizeof *cal);
    pp = malloc(n * sizeof *pp);
    ps = malloc(n * sizeof *ps);
    order = malloc(n * sizeof *order);
    if (!cal || !pp || !ps || !order) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        cal[i] = rows[i].cal;
        order[i] = i;
    }
    if ((rc = clv_fit(cal, n, &out->model)) != 0)
        goto out;
    out->customers = n;
    out->holdout_days = holdout_days;
    if ((rc = predict_all(rows, n, holdout_days, out, pp, ps)) != 0)
        goto out;
    qsort_r(order, n, sizeof *order, by_value, ps);
    fill_deciles(rows, pp, ps, order, n, out);
out:
    free(cal);
    free(pp);
    free(ps);
    free(order);
    return rc;
}
