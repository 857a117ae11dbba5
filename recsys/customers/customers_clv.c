/*
 * customers_clv.c - CLV summaries from events, the fitting job, the stored
 * parameters and the rows of a time-split evaluation (customers_clv.h).
 */
#include "customers_clv.h"
#include "customers.h"

#include <errno.h>
#include <patron/store/v1/store.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define CLV_BLOB "clv_model"
#define DAY_MS 86400000.0

int customers_clv_summary(const profile_t *p, int64_t now_ms, clv_summary_t *s)
{
    memset(s, 0, sizeof *s);
    if (p->orders == 0)
        return 0;
    s->x = (double)(p->orders - 1);
    s->t_x = (double)(p->last_purchase_ms - p->first_purchase_ms) / DAY_MS;
    s->T = (double)(now_ms - p->first_purchase_ms) / DAY_MS;
    if (s->T < s->t_x) /* a purchase after now is never in a profile; guard anyway */
        s->T = s->t_x;
    s->n = (double)p->orders;
    s->mean_spend = p->average_basket;
    return 1;
}

void customers_clv_view(const clv_model_t *m, const profile_t *p, int64_t now_ms,
                        int *has, clv_prediction_t *out)
{
    clv_summary_t s;
    memset(out, 0, sizeof *out);
    *has = m && customers_clv_summary(p, now_ms, &s) &&
           clv_predict(m, &s, CLV_DAYS_PER_YEAR, out) == 0;
}

/* ---- the job ------------------------------------------------------------------- */

typedef struct summaries {
    clv_summary_t *s;
    size_t n, cap;
    const profile_config_t *cfg;
    int64_t now_ms;
} summaries_t;

static int summarize(void *ctx, uint32_t customer, const store_event_rec_t *ev, size_t n)
{
    summaries_t *sm = ctx;
    profile_t p;
    clv_summary_t s;
    int rc = profile_compute(ev, n, NULL, sm->cfg, sm->now_ms, &p);
    (void)customer;
    if (rc || !customers_clv_summary(&p, sm->now_ms, &s))
        return rc;
    if (GROW(sm->s, sm->cap, sm->n + 1) != 0)
        return -ENOMEM;
    sm->s[sm->n++] = s;
    return 0;
}

static int put_model(store_t *s, const clv_model_t *m, int64_t now_ms)
{
    Patron__Store__V1__ClvModel pb = PATRON__STORE__V1__CLV_MODEL__INIT;
    unsigned char buf[256];
    pb.r = m->bg.r;
    pb.alpha = m->bg.alpha;
    pb.a = m->bg.a;
    pb.b = m->bg.b;
    pb.p = m->gg.p;
    pb.q = m->gg.q;
    pb.gamma = m->gg.gamma;
    pb.has_spend = m->has_spend;
    pb.pop_spend = m->pop_spend;
    pb.bg_loglik = m->bg_loglik;
    pb.gg_loglik = m->gg_loglik;
    pb.customers = m->customers;
    pb.spenders = m->spenders;
    pb.fitted_as_of_ms = now_ms;
    return store_put_blob(s, CLV_BLOB, buf, protobuf_c_message_pack(&pb.base, buf));
}

int customers_clv_job(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                      clv_model_t *out)
{
    summaries_t sm = { .cfg = cfg, .now_ms = now_ms };
    int rc = customers_scan_histories(s, summarize, &sm);

    memset(out, 0, sizeof *out);
    if (rc == 0 && sm.n == 0)
        rc = -ENOENT;
    if (rc == 0)
        rc = clv_fit(sm.s, sm.n, out);
    if (rc == 0)
        rc = put_model(s, out, now_ms);
    free(sm.s);
    return rc;
}

int customers_load_clv(store_t *s, clv_model_t *out, int *fitted)
{
    unsigned char buf[256];
    size_t len = 0;
    Patron__Store__V1__ClvModel *pb;
    int rc = store_get_blob(s, CLV_BLOB, buf, sizeof buf, &len);

    memset(out, 0, sizeof *out);
    *fitted = 0;
    if (rc == -ENOENT || rc == -EINVAL)
        return 0; /* never fitted (or not ours): the next training run fits it */
    if (rc)
        return rc;
    if ((pb = patron__store__v1__clv_model__unpack(NULL, len, buf)) == NULL)
        return 0; /* derived data, likewise */
    out->bg = (clv_bgnbd_t){ pb->r, pb->alpha, pb->a, pb->b };
    out->gg = (clv_gg_t){ pb->p, pb->q, pb->gamma };
    out->has_spend = pb->has_spend;
    out->pop_spend = pb->pop_spend;
    out->bg_loglik = pb->bg_loglik;
    out->gg_loglik = pb->gg_loglik;
    out->customers = pb->customers;
    out->spenders = pb->spenders;
    patron__store__v1__clv_model__free_unpacked(pb, NULL);
    *fitted = out->bg.r > 0 && out->bg.alpha > 0 && out->bg.a > 0 && out->bg.b > 0;
    return 0;
}

/* ---- evaluation rows ------------------------------------------------------------- */

typedef struct rows_ctx {
    clv_eval_row_t *r;
    size_t n, cap;
    const profile_config_t *cfg;
    int64_t split_ms, holdout_ms;
} rows_ctx_t;

static int add_row(void *ctx, uint32_t customer, const store_event_rec_t *ev, size_t n)
{
    rows_ctx_t *rx = ctx;
    profile_t before, at, after;
    clv_eval_row_t row;
    int rc;
    (void)customer;

    /* the history up to the split summarizes; later profiles count what
     * happened in the holdout, earlier ones the baseline's period */
    if ((rc = profile_compute(ev, n, NULL, rx->cfg, rx->split_ms - 1, &at)) != 0)
        return rc;
    if (!customers_clv_summary(&at, rx->split_ms, &row.cal))
        return 0;
    if ((rc = profile_compute(ev, n, NULL, rx->cfg, rx->split_ms + rx->holdout_ms - 1,
                              &after)) != 0 ||
        (rc = profile_compute(ev, n, NULL, rx->cfg, rx->split_ms - rx->holdout_ms - 1,
                              &before)) != 0)
        return rc;
    row.actual_purchases = (double)(after.orders - at.orders);
    row.actual_spend = after.monetary - at.monetary;
    row.last_purchases = (double)(at.orders - before.orders);
    row.last_spend = at.monetary - before.monetary;
    if (GROW(rx->r, rx->cap, rx->n + 1) != 0)
        return -ENOMEM;
    rx->r[rx->n++] = row;
    return 0;
}

int customers_clv_rows(store_t *s, const profile_config_t *cfg, int64_t split_ms,
                       int64_t holdout_ms, clv_eval_row_t **rows, size_t *n)
{
    rows_ctx_t c = { .cfg = cfg, .split_ms = split_ms, .holdout_ms = holdout_ms };
    int rc = customers_scan_histories(s, add_row, &c);
    if (rc) {
        free(c.r);
        c.r = NULL;
        c.n = 0;
    }
    *rows = c.r;
    *n = c.n;
    return rc;
}

typedef struct span {
    int64_t first, last;
    int any;
} span_t;

static int span_event(void *ctx, const store_event_rec_t *ev)
{
    span_t *sp = ctx;
    if (ev->type != STORE_EVENT_PURCHASE)
        return 0;
    if (!sp->any || ev->time_ms < sp->first)
        sp->first = ev->time_ms;
    if (!sp->any || ev->time_ms > sp->last)
        sp->last = ev->time_ms;
    sp->any = 1;
    return 0;
}

int customers_purchase_span(store_t *s, int64_t *first_ms, int64_t *last_ms)
{
    span_t sp = { 0, 0, 0 };
    int rc = store_scan_events(s, span_event, &sp);
    if (rc == 0 && !sp.any)
        rc = -ENOENT;
    *first_ms = sp.first;
    *last_ms = sp.last;
    return rc;
}
