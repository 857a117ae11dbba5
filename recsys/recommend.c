/*
 * recommend.c - "for you" lists, similar items and re-ranking (recommend.h).
 *
 * Every exclusion a request asks for is folded into one deny bitset before
 * the scan: filters cost time in proportion to the items they touch (the
 * model keeps items grouped by category and sorted by price), and the
 * customer's history is one LMDB range read. The scan itself then skips
 * denied items and keeps the best k of the rest.
 */
#include "recommend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

static const char *list_invalid(const char *const *list, size_t n)
{
    if (n > REC_MAX_LIST)
        return "too many entries (at most 10000)";
    for (size_t i = 0; i < n; i++)
        if (!list[i] || strlen(list[i]) > STORE_MAX_TEXT)
            return "entry missing or longer than 1024 bytes";
    return NULL;
}

const char *rec_filters_invalid(const rec_filters_t *f)
{
    if (!f)
        return NULL;
    if (list_invalid(f->allow_categories, f->n_allow))
        return "filters.allow_categories: at most 10000 names of <= 1024 bytes";
    if (list_invalid(f->deny_categories, f->n_deny))
        return "filters.deny_categories: at most 10000 names of <= 1024 bytes";
    if (list_invalid(f->exclude_items, f->n_exclude))
        return "filters.exclude_item_ids: at most 10000 ids";
    if (!isfinite(f->min_price) || f->min_price < 0)
        return "filters.min_price: must be finite and >= 0";
    if (!isfinite(f->max_price) || f->max_price < 0)
        return "filters.max_price: must be finite and >= 0 (0 = no limit)";
    if (f->max_price > 0 && f->max_price < f->min_price)
        return "filters.max_price: must be >= min_price";
    return NULL;
}

const char *rec_query_invalid(const rec_query_t *q)
{
    if (!q->customer_id || !q->customer_id[0])
        return "customer_id: required";
    if (strlen(q->customer_id) > STORE_MAX_ID)
        return "customer_id: longer than 256 bytes";
    if (q->k < 1 || q->k > REC_MAX_K)
        return "k: must be in 1..1000";
    return rec_filters_invalid(q->filters);
}

/* ---- deny bitset ------------------------------------------------------------- */

static void deny_category(const model_t *m, uint32_t c, uint64_t *deny, int set)
{
    for (uint32_t j = m->cat_ptr[c]; j < m->cat_ptr[c + 1]; j++) {
        uint32_t i = m->cat_items[j];
        if (set)
            topk_bitset_set(deny, i);
        else
            deny[i >> 6] &= ~((uint64_t)1 << (i & 63));
    }
}

/* Position of the first item (in price order) priced >= p, or > p when
 * strictly is set. */
static size_t price_bound(const model_t *m, double p, int strictly)
{
    size_t lo = 0, hi = m->hdr.n_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double v = m->item_price[m->by_price[mid]];
        if (strictly ? v <= p : v < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void apply_filters(const model_t *m, const rec_filters_t *f, uint64_t *deny)
{
    size_t words = TOPK_BITSET_WORDS(m->hdr.n_items);
    uint32_t c, i;

    if (!f)
        return;
    if (f->n_allow) {
        memset(deny, 0xff, words * sizeof *deny);
        for (size_t a = 0; a < f->n_allow; a++)
            if (model_category_index(m, f->allow_categories[a], &c) == 0)
                deny_category(m, c, deny, 0);
    }
    for (size_t d = 0; d < f->n_deny; d++)
        if (model_category_index(m, f->deny_categories[d], &c) == 0)
            deny_category(m, c, deny, 1);
    if (f->min_price > 0)
        for (size_t j = 0, end = price_bound(m, f->min_price, 0); j < end; j++)
            topk_bitset_set(deny, m->by_price[j]);
    if (f->max_price > 0)
        for (size_t j = price_bound(m, f->max_price, 1); j < m->hdr.n_items; j++)
            topk_bitset_set(deny, m->by_price[j]);
    if (f->in_stock_only)
        for (size_t w = 0; w < words; w++)
            deny[w] |= m->out_of_stock[w];
    for (size_t e = 0; e < f->n_exclude; e++)
        if (model_item_index(m, f->exclude_items[e], &i) == 0)
            topk_bitset_set(deny, i);
}

/* The customer's events on the model's items, as (item, net quantity,
 * touched) records; sorted and merged after reading. Sized by the history,
 * not the catalog, so a large catalog costs nothing here. */
typedef struct touch {
    uint32_t item;
    int32_t net;      /* purchases minus refunds */
    uint8_t viewed;   /* viewed or carted */
} touch_t;

typedef struct history {
    touch_t *t;
    size_t n, cap;
    uint32_t n_items;
} history_t;

static int collect_history(void *ctx, const store_event_rec_t *ev)
{
    history_t *h = ctx;
    touch_t t = { ev->item, 0, 0 };
    if (ev->item >= h->n_items)
        return 0; /* item newer than the model: it cannot be recommended anyway */
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        touch_t *p = realloc(h->t, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        h->t = p;
        h->cap = cap;
    }
    switch (ev->type) {
    case STORE_EVENT_PURCHASE: t.net = ev->quantity; break;
    case STORE_EVENT_REFUND: t.net = -ev->quantity; break;
    default: t.viewed = 1; break;
    }
    h->t[h->n++] = t;
    return 0;
}

static int cmp_touch(const void *a, const void *b)
{
    const touch_t *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

static int deny_history(store_t *s, uint32_t customer, uint32_t n_items,
                        int purchased, int viewed, uint64_t *deny)
{
    history_t h = { .n_items = n_items };
    int rc = store_customer_events(s, customer, collect_history, &h);

    if (rc == 0 && h.n) {
        qsort(h.t, h.n, sizeof *h.t, cmp_touch);
        for (size_t i = 0, j; i < h.n; i = j) {
            int64_t net = 0;
            int seen = 0;
            for (j = i; j < h.n && h.t[j].item == h.t[i].item; j++) {
                net += h.t[j].net;
                seen |= h.t[j].viewed;
            }
            if ((purchased && net > 0) || (viewed && seen))
                topk_bitset_set(deny, h.t[i].item);
        }
    }
    free(h.t);
    return rc;
}

/* ---- answers ------------------------------------------------------------------- */

/* A customer whose factors are all zero had no positive interactions when
 * the model was trained (ALS gives them x_u = 0): popularity serves better. */
static const float *user_vector(const model_t *m, const char *customer_id,
                                store_t *s, uint32_t *customer, int *known)
{
    const float *x;
    *known = store_customer_index(s, customer_id, customer) == 0;
    if (!*known || *customer >= m->hdr.n_users)
        return NULL;
    x = m->user_f + (size_t)*customer * m->hdr.factors;
    for (uint32_t d = 0; d < m->hdr.factors; d++)
        if (x[d] != 0.0f)
            return x;
    return NULL;
}

/* Exact top-k through a compact index (same answer as a float32 scan, a
 * quarter of the bytes read). */
static int search(const flat_index_t *idx, const float *q, const uint64_t *deny,
                  uint32_t k, topk_hit_t *hits, size_t *n)
{
    uint32_t got = 0;
    int rc = flat_index_search(idx, q, deny, k, hits, &got);
    *n = got;
    return rc == FLAT_OK ? 0 : -ENOMEM;
}

/* Personalized top-k: the IVF index when the model has one (large
 * catalogs), else exact. */
static int search_items(const model_t *m, const float *x, const uint64_t *deny,
                        uint32_t k, topk_hit_t *hits, size_t *n)
{
    uint32_t got = 0;
    int rc;
    if (!m->ivf)
        return search(m->flat, x, deny, k, hits, n);
    rc = ivf_search(m->ivf, x, deny, k, m->ann_probes, hits, &got);
    *n = got;
    return rc == 0 ? 0 : -ENOMEM;
}

static void copy_hits(const topk_hit_t *hits, size_t got, uint8_t reason,
                      rec_item_t *out)
{
    for (size_t i = 0; i < got; i++)
        out[i] = (rec_item_t){ hits[i].id, hits[i].score, reason };
}

int rec_recommend(store_t *s, const model_t *m, const rec_query_t *q,
                  rec_item_t *out, size_t *n, int *personalized)
{
    uint32_t n_items = m->hdr.n_items, customer = 0;
    uint64_t *deny = NULL;
    topk_hit_t *hits = NULL;
    const float *x;
    size_t got;
    int known, rc = 0;

    if (rec_query_invalid(q))
        return -EINVAL;
    x = user_vector(m, q->customer_id, s, &customer, &known);
    deny = calloc(TOPK_BITSET_WORDS(n_items) + 1, sizeof *deny);
    hits = malloc(q->k * sizeof *hits);
    if (!deny || !hits) {
        rc = -ENOMEM;
        goto out;
    }
    apply_filters(m, q->filters, deny);
    if (known && (!q->include_purchased || q->exclude_viewed) &&
        (rc = deny_history(s, customer, n_items, !q->include_purchased,
                           q->exclude_viewed, deny)) != 0)
        goto out;
    if (x)
        rc = search_items(m, x, deny, q->k, hits, &got);
    else
        got = topk_scores(m->item_pop, n_items, deny, q->k, hits);
    if (rc)
        goto out;
    copy_hits(hits, got, x ? REC_REASON_PERSONALIZED : REC_REASON_POPULAR, out);
    *n = got;
    *personalized = x != NULL;
out:
    free(deny);
    free(hits);
    return rc;
}

int rec_similar(const model_t *m, uint32_t item, uint32_t k,
                const rec_filters_t *filters, rec_item_t *out, size_t *n)
{
    uint32_t n_items = m->hdr.n_items;
    uint64_t *deny;
    topk_hit_t *hits;
    int rc = 0;

    if (k < 1 || k > REC_MAX_K || item >= n_items || rec_filters_invalid(filters))
        return -EINVAL;
    deny = calloc(TOPK_BITSET_WORDS(n_items) + 1, sizeof *deny);
    hits = malloc(k * sizeof *hits);
    if (!deny || !hits) {
        rc = -ENOMEM;
        goto out;
    }
    apply_filters(m, filters, deny);
    topk_bitset_set(deny, item);
    rc = search(m->flat_unit, m->item_unit + (size_t)item * m->hdr.factors,
                deny, k, hits, n);
    if (rc == 0)
        copy_hits(hits, *n, REC_REASON_SIMILAR_ITEM, out);
out:
    free(deny);
    free(hits);
    return rc;
}

/* Stable order: score descending, then the caller's position. */
typedef struct ranked {
    float score;
    uint32_t pos;
} ranked_t;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

int rec_rank(store_t *s, const model_t *m, const char *customer_id,
             const uint32_t *items, size_t n, rec_item_t *out, int *personalized)
{
    uint32_t customer, f = m->hdr.factors;
    ranked_t *r;
    const float *x;
    int known;

    if (!customer_id || !customer_id[0] || strlen(customer_id) > STORE_MAX_ID ||
        n > REC_MAX_LIST)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (items[i] >= m->hdr.n_items)
            return -EINVAL;
    if (!(r = malloc((n ? n : 1) * sizeof *r)))
        return -ENOMEM;
    x = user_vector(m, customer_id, s, &customer, &known);
    for (size_t i = 0; i < n; i++) {
        float score = 0;
        if (x) {
            const float *y = m->item_f + (size_t)items[i] * f;
            for (uint32_t d = 0; d < f; d++)
                score += x[d] * y[d];
        } else {
            score = m->item_pop[items[i]];
        }
        r[i] = (ranked_t){ score, (uint32_t)i };
    }
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n; i++)
        out[i] = (rec_item_t){ items[r[i].pos], r[i].score,
                               x ? REC_REASON_PERSONALIZED : REC_REASON_POPULAR };
    *personalized = x != NULL;
    free(r);
    return 0;
}
