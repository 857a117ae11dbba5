/*
 * train.c - from stored events to a published model version.
 *
 * Reads a consistent snapshot of the event log, turns it into interaction
 * strengths r_ui (see train.h), trains implicit ALS and publishes factors
 * plus item popularity in one LMDB transaction. Nothing is written until
 * training has finished, so a crash mid-training leaves the previous model
 * current.
 */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "copurchase.h"
#include "grow.h"
#include "monotime.h"


void train_config_default(train_config_t *c)
{
    ials_params_default(&c->als);
    c->w_view = 1.0f;
    c->w_cart = 2.0f;
    c->w_purchase = 4.0f;
    c->w_refund = 4.0f;
    c->half_life_days = 180.0f;
    c->as_of_ms = 0;
    c->copurchase = copurchase_params_defaults();
}

/* Events as read, before recency weighting. */
typedef struct triplets {
    uint32_t *rows, *cols;
    float *vals;
    int64_t *times;
    size_t n, cap;
    uint32_t n_users, n_items;
    const store_model_hdr_t *hdr;  /* weights; newest_event_ms is set here */
    train_event_filter keep;       /* NULL: every event */
    void *keep_ctx;
    int64_t horizon;               /* later events are skipped ... */
    uint64_t future;               /* ... and counted here */
} triplets_t;

/* weight(type) x (1 + ln quantity), before recency. */
static float event_weight(const store_model_hdr_t *h, const store_event_rec_t *ev)
{
    float q = 1.0f + logf((float)(ev->quantity > 0 ? ev->quantity : 1));
    switch (ev->type) {
    case STORE_EVENT_VIEW: return h->w_view * q;
    case STORE_EVENT_CART: return h->w_cart * q;
    case STORE_EVENT_PURCHASE: return h->w_purchase * q;
    case STORE_EVENT_REFUND: return -h->w_refund * q;
    default: return 0.0f;
    }
}

/* Halves every half_life_days before newest_ms; events after it count 1. */
static float recency(const store_model_hdr_t *h, int64_t time_ms)
{
    double age_days = (double)(h->newest_event_ms - time_ms) / CIVIL_DAY_MS;
    if (h->half_life_days <= 0 || age_days <= 0)
        return 1.0f;
    return (float)exp2(-age_days / h->half_life_days);
}

float train_event_strength(const store_model_hdr_t *h, const store_event_rec_t *ev)
{
    return event_weight(h, ev) * recency(h, ev->time_ms);
}

static int grow(triplets_t *t)
{
    void *const cols[] = { &t->rows, &t->cols, &t->vals, &t->times };
    const size_t sizes[] = { sizeof *t->rows, sizeof *t->cols, sizeof *t->vals,
                             sizeof *t->times };
    return grow_parallel(&t->cap, t->cap + 1, 4, cols, sizes);
}

static int collect(void *ctx, const store_event_rec_t *ev)
{
    triplets_t *t = ctx;
    float w;
    /* Customers/items registered after the snapshot of the counts. */
    if (ev->customer >= t->n_users || ev->item >= t->n_items)
        return 0;
    if (ev->time_ms > t->horizon) {
        t->future++;
        return 0;
    }
    if (t->keep && !t->keep(t->keep_ctx, ev))
        return 0;
    w = event_weight(t->hdr, ev);
    if (w == 0.0f)
        return 0;
    if (t->n == t->cap && grow(t) != 0)
        return -ENOMEM;
    t->rows[t->n] = ev->customer;
    t->cols[t->n] = ev->item;
    t->vals[t->n] = w;
    t->times[t->n] = ev->time_ms;
    t->n++;
    return 0;
}

/* The newest event is the recency reference; then every weight decays. */
static void apply_recency(triplets_t *t, store_model_hdr_t *h)
{
    h->newest_event_ms = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->times[i] > h->newest_event_ms)
            h->newest_event_ms = t->times[i];
    for (size_t i = 0; i < t->n; i++)
        t->vals[i] *= recency(h, t->times[i]);
}

void train_popularity(const csr_t *ui, float w_purchase, float *pop)
{
    memset(pop, 0, ui->n_cols * sizeof *pop);
    for (uint32_t u = 0; u < ui->n_rows; u++)
        for (uint64_t j = ui->indptr[u]; j < ui->indptr[u + 1]; j++)
            pop[ui->indices[j]] += fminf(1.0f, ui->values[j] / w_purchase);
}

static void triplets_free(triplets_t *t)
{
    free(t->rows);
    free(t->cols);
    free(t->vals);
    free(t->times);
}

static int64_t horizon_ms(const train_config_t *c)
{
    struct timespec wall;
    if (c->as_of_ms)
        return c->as_of_ms;
    clock_gettime(CLOCK_REALTIME, &wall);
    return (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000 + TRAIN_FUTURE_SKEW_MS;
}

/* The weighting part of a model header, from the configuration. */
static void weights_to_hdr(const train_config_t *c, store_model_hdr_t *h)
{
    h->w_view = c->w_view;
    h->w_cart = c->w_cart;
    h->w_purchase = c->w_purchase;
    h->w_refund = c->w_refund;
    h->half_life_days = c->half_life_days;
}

/* Scans the events into t and builds the matrix; h gives the weights and
 * gets newest_event_ms. */
static int build_matrix(store_t *s, triplets_t *t, store_model_hdr_t *h,
                        csr_t *ui, uint64_t *events)
{
    int rc;

    t->hdr = h;
    if ((rc = store_counts(s, &t->n_users, &t->n_items)) != 0)
        return rc;
    if ((rc = store_scan_events(s, collect, t)) != 0)
        return rc;
    *events = t->n;
    if (t->n == 0 || t->n_users == 0 || t->n_items == 0)
        return -ENOENT;
    apply_recency(t, h);
    return csr_from_triplets(t->n_users, t->n_items, t->n, t->rows,
                                  t->cols, t->vals, ui);
}

int train_build_matrix(store_t *s, const train_config_t *c,
                       train_event_filter keep, void *keep_ctx,
                       csr_t *ui, uint64_t *events, int64_t *newest_ms)
{
    triplets_t t = { .keep = keep, .keep_ctx = keep_ctx, .horizon = horizon_ms(c) };
    store_model_hdr_t h = { 0 };
    uint64_t n = 0;
    int rc;

    memset(ui, 0, sizeof *ui);
    weights_to_hdr(c, &h);
    rc = build_matrix(s, &t, &h, ui, &n);
    triplets_free(&t);
    if (events)
        *events = n;
    if (newest_ms)
        *newest_ms = h.newest_event_ms;
    return rc;
}

int train_run(store_t *s, const train_config_t *c, ials_progress_fn progress,
              void *ctx, train_report_t *rep)
{
    triplets_t t = { .horizon = horizon_ms(c) };
    csr_t ui = { 0 };
    float *user_f = NULL, *item_f = NULL, *pop = NULL;
    void *extra = NULL;
    size_t extra_len = 0;
    uint32_t f = c->als.factors;
    struct timespec wall;
    double t0;
    int rc;

    memset(rep, 0, sizeof *rep);
    weights_to_hdr(c, &rep->hdr);
    rep->hdr.alpha0 = c->als.alpha0;
    rep->hdr.nu = c->als.nu;
    /* Read before the scan: every event stored later has seq >= train_seq,
     * so serving knows which events the model has not seen. */
    if ((rc = store_event_seq(s, &rep->hdr.train_seq)) != 0)
        return rc;
    rc = build_matrix(s, &t, &rep->hdr, &ui, &rep->events);
    rep->future = t.future;
    if (rc != 0)
        goto out;
    rep->nnz = ui.indptr[ui.n_rows];
    user_f = malloc((size_t)t.n_users * f * sizeof *user_f);
    item_f = malloc((size_t)t.n_items * f * sizeof *item_f);
    pop = malloc((size_t)t.n_items * sizeof *pop);
    if (!user_f || !item_f || !pop) {
        rc = -ENOMEM;
        goto out;
    }
    t0 = monotime_seconds();
    if ((rc = ials_train(&ui, &c->als, user_f, item_f, progress, ctx)) != 0)
        goto out;
    rep->seconds = monotime_seconds() - t0;
    train_popularity(&ui, c->w_purchase, pop);

    clock_gettime(CLOCK_REALTIME, &wall);
    rep->hdr.trained_at_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    rep->hdr.factors = f;
    rep->hdr.n_users = t.n_users;
    rep->hdr.n_items = t.n_items;
    rep->hdr.iterations = c->als.iterations;
    rep->hdr.reg = c->als.reg;
    rep->hdr.alpha = c->als.alpha;
    rep->hdr.final_loss = ials_loss(&ui, &c->als, user_f, item_f);
    if (c->copurchase &&
        (rc = copurchase_train_blob(s, c->copurchase, t.horizon, t.n_items, &extra,
                                    &extra_len)) != 0)
        goto out;
    rc = store_publish_model_extra(s, &rep->hdr, user_f, item_f, pop, extra, extra_len);
out:
    free(extra);
    triplets_free(&t);
    csr_free(&ui);
    free(user_f);
    free(item_f);
    free(pop);
    return rc;
}
