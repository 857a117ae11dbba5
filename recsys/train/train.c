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
    c->w_not_interested = 4.0f;
    c->half_life_days = 180.0f;
    c->as_of_ms = 0;
    c->copurchase = copurchase_params_defaults();
}

/* Events as read, before recency weighting; a category's not_interested
 * becomes one triplet per item of the category. */
typedef struct triplets {
    uint32_t *rows, *cols;
    float *vals;
    int64_t *times;
    uint8_t *types;
    size_t n, cap;
    uint64_t kept;                 /* events kept (before category expansion) */
    train_categories_t cats;
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
    case STORE_EVENT_NOT_INTERESTED: return -h->w_not_interested;
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

/* ---- negative feedback ---------------------------------------------------------- */

void train_pair_add(train_pair_t *p, int type, float strength)
{
    float a = fabsf(strength);
    switch (type) {
    case STORE_EVENT_PURCHASE:
        p->purchased = 1;
        p->negative = 0; /* a (re)purchase lifts earlier negative feedback */
        p->neg = 0.0f;
        p->pos += a;
        break;
    case STORE_EVENT_VIEW:
    case STORE_EVENT_CART:
        p->viewed = 1;
        p->pos += a;
        break;
    case STORE_EVENT_REFUND:
    case STORE_EVENT_NOT_INTERESTED:
        p->negative = 1;
        p->neg += a;
        break;
    default:
        break;
    }
}

float train_pair_value(const train_pair_t *p)
{
    return p->negative ? -p->neg : p->pos;
}

static int cmp_key_item(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b; /* (key, item) packed in two u64 */
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

typedef struct cat_scan {
    uint64_t *pairs; /* key, item, key, item, ... */
    size_t n, cap;
    uint32_t n_items;
} cat_scan_t;

static int cat_collect(void *ctx, uint32_t idx, const store_item_t *it)
{
    cat_scan_t *cs = ctx;
    if (idx >= cs->n_items || !it->category || !it->category[0])
        return 0;
    if (GROW(cs->pairs, cs->cap, 2 * cs->n + 2) != 0)
        return -ENOMEM;
    cs->pairs[2 * cs->n] = store_category_key(it->category);
    cs->pairs[2 * cs->n + 1] = idx;
    cs->n++;
    return 0;
}

int train_categories_load(store_t *s, uint32_t n_items, train_categories_t *out)
{
    cat_scan_t cs = { .n_items = n_items };
    int rc = store_scan_items(s, cat_collect, &cs);

    memset(out, 0, sizeof *out);
    if (rc == 0 && cs.n) {
        qsort(cs.pairs, cs.n, 2 * sizeof *cs.pairs, cmp_key_item);
        out->key = malloc(cs.n * sizeof *out->key);
        out->item = malloc(cs.n * sizeof *out->item);
        if (!out->key || !out->item)
            rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < cs.n; i++) {
            out->key[i] = cs.pairs[2 * i];
            out->item[i] = (uint32_t)cs.pairs[2 * i + 1];
        }
        out->n = cs.n;
    }
    free(cs.pairs);
    if (rc)
        train_categories_free(out);
    return rc;
}

void train_categories_free(train_categories_t *c)
{
    if (!c)
        return;
    free(c->key);
    free(c->item);
    memset(c, 0, sizeof *c);
}

void train_categories_items(const train_categories_t *c, uint64_t key, size_t *begin,
                            size_t *end)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->key[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *begin = lo;
    while (lo < c->n && c->key[lo] == key)
        lo++;
    *end = lo;
}

/* ---- the matrix ------------------------------------------------------------------ */

static int grow(triplets_t *t)
{
    void *const cols[] = { &t->rows, &t->cols, &t->vals, &t->times, &t->types };
    const size_t sizes[] = { sizeof *t->rows, sizeof *t->cols, sizeof *t->vals,
                             sizeof *t->times, sizeof *t->types };
    return grow_parallel(&t->cap, t->cap + 1, 5, cols, sizes);
}

static int push(triplets_t *t, const store_event_rec_t *ev, uint32_t item, float w)
{
    if (t->n == t->cap && grow(t) != 0)
        return -ENOMEM;
    t->rows[t->n] = ev->customer;
    t->cols[t->n] = item;
    t->vals[t->n] = w;
    t->times[t->n] = ev->time_ms;
    t->types[t->n] = ev->type;
    t->n++;
    return 0;
}

/* A not_interested in a whole category: one triplet per item it has. */
static int push_category(triplets_t *t, const store_event_rec_t *ev, float w)
{
    size_t b, e;
    int rc = 0;
    if (ev->type != STORE_EVENT_NOT_INTERESTED)
        return 0;
    train_categories_items(&t->cats, ev->category, &b, &e);
    for (size_t j = b; j < e && rc == 0; j++)
        rc = push(t, ev, t->cats.item[j], w);
    return rc;
}

static int collect(void *ctx, const store_event_rec_t *ev)
{
    triplets_t *t = ctx;
    float w;
    /* Customers/items registered after the snapshot of the counts. */
    if (ev->customer >= t->n_users || (ev->item >= t->n_items && ev->item != STORE_NO_ITEM))
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
    t->kept++;
    if (ev->item == STORE_NO_ITEM)
        return push_category(t, ev, w);
    return push(t, ev, ev->item, w);
}

/* csr_merge_fn: a pair's triplets in time order (the scan's order, kept by
 * csr_from_triplets_merged) through train_pair_t. */
static float merge_pair(void *ctx, const size_t *pos, size_t n, int *keep)
{
    const triplets_t *t = ctx;
    train_pair_t p = { 0 };
    float v;
    for (size_t k = 0; k < n; k++)
        train_pair_add(&p, t->types[pos[k]], t->vals[pos[k]]);
    v = train_pair_value(&p);
    *keep = v != 0.0f;
    return v;
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
            if (ui->values[j] > 0.0f)
                pop[ui->indices[j]] += fminf(1.0f, ui->values[j] / w_purchase);
}

static void triplets_free(triplets_t *t)
{
    free(t->rows);
    free(t->cols);
    free(t->vals);
    free(t->times);
    free(t->types);
    train_categories_free(&t->cats);
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
    h->w_not_interested = c->w_not_interested;
    h->half_life_days = c->half_life_days;
}

/* Scans the events into t and builds the matrix; h gives the weights and
 * gets newest_event_ms. */
static int build_matrix(store_t *s, triplets_t *t, store_model_hdr_t *h,
                        csr_t *ui, uint64_t *events)
{
    int rc;

    t->hdr = h;
    if ((rc = store_counts(s, &t->n_users, &t->n_items)) != 0 ||
        (rc = train_categories_load(s, t->n_items, &t->cats)) != 0)
        return rc;
    if ((rc = store_scan_events(s, collect, t)) != 0)
        return rc;
    *events = t->kept;
    if (t->n == 0 || t->n_users == 0 || t->n_items == 0)
        return -ENOENT;
    apply_recency(t, h);
    return csr_from_triplets_merged(t->n_users, t->n_items, t->n, t->rows, t->cols,
                                    t->vals, merge_pair, t, ui);
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
