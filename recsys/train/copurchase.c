/*
 * copurchase.c - baskets, pair counts and cart complements (copurchase.h).
 *
 * Counting goes item by item over the item -> baskets transpose: for item i
 * a dense counter gathers n_ij over the baskets holding i, so the work is
 * sum over baskets of |b|^2 and the memory one counter per item, with no
 * pair hash. The kept partners are the only output; the counts of pairs
 * below an item's max_neighbors best are not stored.
 */
#include "copurchase.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define MS_PER_MINUTE 60000LL
#define BLOB_MAGIC 0x31504350u /* "PCP1", little-endian */
#define BLOB_VERSION 1u

const copurchase_params_t *copurchase_params_defaults(void)
{
    /* Measured by `patron eval --complements` on bench/shopsim seed 42
     * (README): min_support 1 rather than 2 raised the served HR@10 from
     * 0.277 to 0.458 (long-tail carts 0.273 to 0.479) on the default shop
     * and from 0.492 to 0.569 (0.329 to 0.467) with --complement-rate 0.35:
     * the shrunk lift already discounts a pair seen once. On that shop the
     * prior (0.5 to 20), the lift exponent (0 to 1) and the tail support (3
     * to 20) moved HR@10 by about a point either way, within the noise of
     * ~1300 cases. */
    static const copurchase_params_t defaults = { 30, 100, 1, 100, 5.0f, 0.5f };
    return &defaults;
}

void copurchase_params_default(copurchase_params_t *p)
{
    *p = *copurchase_params_defaults();
}

const char *copurchase_params_invalid(const copurchase_params_t *p)
{
    if (p->gap_minutes < 1 || p->gap_minutes > 10080)
        return "gap_minutes: must be in 1..10080";
    if (p->max_basket < 2 || p->max_basket > 10000)
        return "max_basket: must be in 2..10000";
    if (p->min_support < 1)
        return "min_support: must be at least 1";
    if (p->max_neighbors < 1 || p->max_neighbors > 10000)
        return "max_neighbors: must be in 1..10000";
    if (!(p->prior > 0 && p->prior <= 1e6f))
        return "prior: must be in (0, 1e6]";
    if (!(p->lift_exp >= 0 && p->lift_exp <= 4))
        return "lift_exp: must be in 0..4";
    return NULL;
}

/* ---- baskets --------------------------------------------------------------------- */

/* (basket, item) pairs as they are found, with the basket's attributes. */
typedef struct basket_acc {
    uint32_t *rows, *cols;
    size_t n, cap;
    int64_t *time_ms;
    uint32_t *customer;
    size_t n_baskets, bcap;
    uint32_t n_items;
    int64_t gap_ms, horizon_ms;
    uint32_t last_customer;
    int64_t start_ms;            /* the open basket's first purchase */
    train_event_filter keep;
    void *keep_ctx;
} basket_acc_t;

static int basket_add(basket_acc_t *a, uint32_t customer, uint32_t item, int64_t t)
{
    if (a->n_baskets == 0 || customer != a->last_customer || t - a->start_ms >= a->gap_ms) {
        void *const cols[] = { &a->time_ms, &a->customer };
        const size_t sizes[] = { sizeof *a->time_ms, sizeof *a->customer };
        if (grow_parallel(&a->bcap, a->n_baskets + 1, 2, cols, sizes) != 0)
            return -ENOMEM;
        a->time_ms[a->n_baskets] = t;
        a->customer[a->n_baskets] = customer;
        a->n_baskets++;
        a->last_customer = customer;
        a->start_ms = t;
    }
    {
        void *const cols[] = { &a->rows, &a->cols };
        const size_t sizes[] = { sizeof *a->rows, sizeof *a->cols };
        if (grow_parallel(&a->cap, a->n + 1, 2, cols, sizes) != 0)
            return -ENOMEM;
    }
    a->rows[a->n] = (uint32_t)(a->n_baskets - 1);
    a->cols[a->n] = item;
    a->n++;
    return 0;
}

static void basket_acc_free(basket_acc_t *a)
{
    free(a->rows);
    free(a->cols);
    free(a->time_ms);
    free(a->customer);
}

/* Hands the accumulated pairs over to out (a CSR: duplicates merge). */
static int basket_finish(basket_acc_t *a, copurchase_baskets_t *out)
{
    float *ones = malloc((a->n ? a->n : 1) * sizeof *ones);
    int rc;

    if (!ones)
        return -ENOMEM;
    for (size_t i = 0; i < a->n; i++)
        ones[i] = 1.0f;
    rc = csr_from_triplets((uint32_t)a->n_baskets, a->n_items, a->n, a->rows, a->cols,
                           ones, &out->items);
    free(ones);
    if (rc)
        return rc;
    /* A basket counts an item once, however many lines or units. */
    for (uint64_t e = 0; e < out->items.indptr[out->items.n_rows]; e++)
        out->items.values[e] = 1.0f;
    out->time_ms = a->time_ms;
    out->customer = a->customer;
    a->time_ms = NULL;
    a->customer = NULL;
    return 0;
}

static int collect_purchase(void *ctx, const store_event_rec_t *ev)
{
    basket_acc_t *a = ctx;
    if (ev->type != STORE_EVENT_PURCHASE || ev->item >= a->n_items)
        return 0;
    if (a->horizon_ms && ev->time_ms > a->horizon_ms)
        return 0;
    if (a->keep && !a->keep(a->keep_ctx, ev))
        return 0;
    return basket_add(a, ev->customer, ev->item, ev->time_ms);
}

int copurchase_baskets(store_t *s, const copurchase_params_t *p, int64_t horizon_ms,
                       uint32_t n_items, train_event_filter keep, void *keep_ctx,
                       copurchase_baskets_t *out)
{
    basket_acc_t a = { .gap_ms = (int64_t)p->gap_minutes * MS_PER_MINUTE,
                       .horizon_ms = horizon_ms, .keep = keep, .keep_ctx = keep_ctx,
                       .n_items = n_items };
    uint32_t n_users;
    int rc;

    memset(out, 0, sizeof *out);
    if (!n_items && (rc = store_counts(s, &n_users, &a.n_items)) != 0)
        return rc;
    rc = store_scan_events(s, collect_purchase, &a);
    if (rc == 0)
        rc = basket_finish(&a, out);
    basket_acc_free(&a);
    if (rc)
        copurchase_baskets_free(out);
    return rc;
}

int copurchase_baskets_from(const uint32_t *customers, const uint32_t *items,
                            const int64_t *times, size_t n, uint32_t n_items,
                            const copurchase_params_t *p, copurchase_baskets_t *out)
{
    basket_acc_t a = { .gap_ms = (int64_t)p->gap_minutes * MS_PER_MINUTE,
                       .n_items = n_items };
    int rc = 0;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (items[i] >= n_items ||
            (i > 0 && customers[i] == customers[i - 1] && times[i] < times[i - 1]))
            rc = -EINVAL;
        else
            rc = basket_add(&a, customers[i], items[i], times[i]);
    }
    if (rc == 0)
        rc = basket_finish(&a, out);
    basket_acc_free(&a);
    if (rc)
        copurchase_baskets_free(out);
    return rc;
}

int copurchase_train_blob(store_t *s, const copurchase_params_t *p, int64_t horizon_ms,
                          uint32_t n_items, void **buf, size_t *len)
{
    copurchase_baskets_t b;
    copurchase_t cp;
    int rc;

    *buf = NULL;
    *len = 0;
    if (copurchase_params_invalid(p))
        return -EINVAL;
    if ((rc = copurchase_baskets(s, p, horizon_ms, n_items, NULL, NULL, &b)) != 0)
        return rc;
    rc = copurchase_build(&b, p, &cp);
    copurchase_baskets_free(&b);
    if (rc == 0) {
        rc = copurchase_encode(&cp, buf, len);
        copurchase_free(&cp);
    }
    return rc;
}

void copurchase_baskets_free(copurchase_baskets_t *b)
{
    if (!b)
        return;
    csr_free(&b->items);
    free(b->time_ms);
    free(b->customer);
    b->time_ms = NULL;
    b->customer = NULL;
}

/* ---- counting ---------------------------------------------------------------------- */

typedef struct cand {
    uint32_t j, count;
    float score;
} cand_t;

static int cand_cmp(const void *x, const void *y)
{
    const cand_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->j > b->j) - (a->j < b->j);
}

static float pair_score(const copurchase_params_t *p, double n, double ni, double nj,
                        double nij)
{
    double e = ni * nj / n;
    double lift = (nij + p->prior) / (e + p->prior);
    return (float)(nij / ni * pow(lift, p->lift_exp));
}

typedef struct out_lists {
    uint32_t *partner, *count;
    float *score;
    size_t n, cap;
} out_lists_t;

static int lists_push(out_lists_t *o, const cand_t *c)
{
    void *const cols[] = { &o->partner, &o->count, &o->score };
    const size_t sizes[] = { sizeof *o->partner, sizeof *o->count, sizeof *o->score };
    if (grow_parallel(&o->cap, o->n + 1, 3, cols, sizes) != 0)
        return -ENOMEM;
    o->partner[o->n] = c->j;
    o->count[o->n] = c->count;
    o->score[o->n] = c->score;
    o->n++;
    return 0;
}

/* Baskets of 2..max_basket items: the ones that count. */
static int basket_counts(const csr_t *b, uint32_t max_basket, uint32_t r)
{
    uint64_t size = b->indptr[r + 1] - b->indptr[r];
    return size >= 1 && size <= max_basket;
}

/* Item i's partners, best first, appended to o. cnt is a zeroed dense
 * counter (left zeroed), touched room for n_items. */
static int item_partners(const copurchase_t *cp, const csr_t *b, const csr_t *ib,
                         uint32_t i, uint32_t *cnt, uint32_t *touched, cand_t *cands,
                         out_lists_t *o)
{
    const copurchase_params_t *p = &cp->params;
    size_t nt = 0, nc = 0;
    int rc = 0;

    for (uint64_t e = ib->indptr[i]; e < ib->indptr[i + 1]; e++) {
        uint32_t r = ib->indices[e];
        if (b->indptr[r + 1] - b->indptr[r] > p->max_basket)
            continue;
        for (uint64_t f = b->indptr[r]; f < b->indptr[r + 1]; f++) {
            uint32_t j = b->indices[f];
            if (j == i)
                continue;
            if (cnt[j]++ == 0)
                touched[nt++] = j;
        }
    }
    for (size_t t = 0; t < nt; t++) {
        uint32_t j = touched[t];
        if (cnt[j] >= p->min_support)
            cands[nc++] = (cand_t){ j, cnt[j],
                                    pair_score(p, cp->n_baskets, cp->item_baskets[i],
                                               cp->item_baskets[j], cnt[j]) };
        cnt[j] = 0;
    }
    qsort(cands, nc, sizeof *cands, cand_cmp);
    for (size_t t = 0; t < nc && t < p->max_neighbors && rc == 0; t++)
        rc = lists_push(o, &cands[t]);
    return rc;
}

int copurchase_build(const copurchase_baskets_t *bk, const copurchase_params_t *p,
                     copurchase_t *out)
{
    const csr_t *b = &bk->items;
    uint32_t n_items = b->n_cols, *cnt = NULL, *touched = NULL;
    csr_t ib = { 0 };
    cand_t *cands = NULL;
    out_lists_t o = { 0 };
    int rc;

    memset(out, 0, sizeof *out);
    if (copurchase_params_invalid(p))
        return -EINVAL;
    out->params = *p;
    out->n_items = n_items;
    out->item_baskets = calloc(n_items + 1, sizeof *out->item_baskets);
    out->ptr = calloc((size_t)n_items + 1, sizeof *out->ptr);
    cnt = calloc(n_items + 1, sizeof *cnt);
    touched = malloc((n_items + 1) * sizeof *touched);
    cands = malloc((n_items + 1) * sizeof *cands);
    if (!out->item_baskets || !out->ptr || !cnt || !touched || !cands) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t r = 0; r < b->n_rows; r++) {
        if (!basket_counts(b, p->max_basket, r))
            continue;
        out->n_baskets++;
        for (uint64_t e = b->indptr[r]; e < b->indptr[r + 1]; e++)
            out->item_baskets[b->indices[e]]++;
    }
    if ((rc = csr_transpose(b, &ib)) != 0)
        goto out;
    for (uint32_t i = 0; i < n_items && rc == 0; i++) {
        rc = item_partners(out, b, &ib, i, cnt, touched, cands, &o);
        out->ptr[i + 1] = o.n;
    }
out:
    csr_free(&ib);
    free(cnt);
    free(touched);
    free(cands);
    out->partner = o.partner;
    out->count = o.count;
    out->score = o.score;
    if (rc)
        copurchase_free(out);
    return rc;
}

void copurchase_free(copurchase_t *cp)
{
    if (!cp)
        return;
    free(cp->item_baskets);
    free(cp->ptr);
    free(cp->partner);
    free(cp->count);
    free(cp->score);
    memset(cp, 0, sizeof *cp);
}

uint32_t copurchase_count(const copurchase_t *cp, uint32_t i, uint32_t j)
{
    if (i >= cp->n_items)
        return 0;
    for (uint64_t e = cp->ptr[i]; e < cp->ptr[i + 1]; e++)
        if (cp->partner[e] == j)
            return cp->count[e];
    return 0;
}

/* ---- the stored form ------------------------------------------------------------------ */

/* Header: magic, version, n_items, n_baskets, gap_minutes, max_basket,
 * min_support, max_neighbors (u32 each), prior, lift_exp (f32), n_pairs
 * (u64); then item_baskets (u32 x n_items), ptr (u64 x n_items + 1),
 * partner (u32), count (u32), score (f32) x n_pairs. Host order: the build
 * is little-endian only (store_models.c asserts it for factor blobs). */
#define BLOB_HDR (8 * 4 + 2 * 4 + 8)

static unsigned char *put(unsigned char *at, const void *src, size_t n)
{
    if (n) /* an empty array may be NULL, which memcpy does not allow */
        memcpy(at, src, n);
    return at + n;
}

int copurchase_encode(const copurchase_t *cp, void **buf, size_t *len)
{
    uint64_t pairs = cp->ptr ? cp->ptr[cp->n_items] : 0;
    uint32_t h[8] = { BLOB_MAGIC, BLOB_VERSION, cp->n_items, cp->n_baskets,
                      cp->params.gap_minutes, cp->params.max_basket,
                      cp->params.min_support, cp->params.max_neighbors };
    float fl[2] = { cp->params.prior, cp->params.lift_exp };
    size_t n = BLOB_HDR + (size_t)cp->n_items * 4 + ((size_t)cp->n_items + 1) * 8 +
               (size_t)pairs * 12;
    unsigned char *b = malloc(n), *at = b;

    if (!b)
        return -ENOMEM;
    at = put(at, h, sizeof h);
    at = put(at, fl, sizeof fl);
    at = put(at, &pairs, 8);
    at = put(at, cp->item_baskets, (size_t)cp->n_items * 4);
    at = put(at, cp->ptr, ((size_t)cp->n_items + 1) * 8);
    at = put(at, cp->partner, (size_t)pairs * 4);
    at = put(at, cp->count, (size_t)pairs * 4);
    put(at, cp->score, (size_t)pairs * 4);
    *buf = b;
    *len = n;
    return 0;
}

static void *take(const unsigned char **at, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p) {
        memcpy(p, *at, n);
        *at += n;
    }
    return p;
}

/* Offsets ascend from 0 to pairs; partners in range and not the item. */
static int decoded_consistent(const copurchase_t *cp, uint64_t pairs)
{
    if (cp->ptr[0] != 0 || cp->ptr[cp->n_items] != pairs)
        return 0;
    for (uint32_t i = 0; i < cp->n_items; i++) {
        if (cp->ptr[i + 1] < cp->ptr[i])
            return 0;
        for (uint64_t e = cp->ptr[i]; e < cp->ptr[i + 1]; e++)
            if (cp->partner[e] >= cp->n_items || cp->partner[e] == i ||
                !isfinite(cp->score[e]))
                return 0;
    }
    return 1;
}

int copurchase_decode(const void *buf, size_t len, copurchase_t *out)
{
    const unsigned char *at = buf;
    uint32_t h[8];
    float fl[2];
    uint64_t pairs;

    memset(out, 0, sizeof *out);
    if (len < BLOB_HDR)
        return -EINVAL;
    memcpy(h, at, sizeof h);
    memcpy(fl, at + sizeof h, sizeof fl);
    memcpy(&pairs, at + sizeof h + sizeof fl, 8);
    at += BLOB_HDR;
    if (h[0] != BLOB_MAGIC || h[1] != BLOB_VERSION || pairs > (len / 12) ||
        len != BLOB_HDR + (size_t)h[2] * 4 + ((size_t)h[2] + 1) * 8 + (size_t)pairs * 12)
        return -EINVAL;
    out->n_items = h[2];
    out->n_baskets = h[3];
    out->params = (copurchase_params_t){ h[4], h[5], h[6], h[7], fl[0], fl[1] };
    out->item_baskets = take(&at, (size_t)h[2] * 4);
    out->ptr = take(&at, ((size_t)h[2] + 1) * 8);
    out->partner = take(&at, (size_t)pairs * 4);
    out->count = take(&at, (size_t)pairs * 4);
    out->score = take(&at, (size_t)pairs * 4);
    if (!out->item_baskets || !out->ptr || !out->partner || !out->count || !out->score) {
        copurchase_free(out);
        return -ENOMEM;
    }
    if (!decoded_consistent(out, pairs)) {
        copurchase_free(out);
        return -EINVAL;
    }
    return 0;
}

/* ---- a cart's complements ------------------------------------------------------------ */

int copurchase_acc_init(copurchase_acc_t *acc, uint32_t n_items)
{
    memset(acc, 0, sizeof *acc);
    acc->n_items = n_items;
    acc->score = calloc(n_items + 1, sizeof *acc->score);
    acc->best = calloc(n_items + 1, sizeof *acc->best);
    acc->because = calloc(n_items + 1, sizeof *acc->because);
    acc->touched = malloc((n_items + 1) * sizeof *acc->touched);
    if (!acc->score || !acc->best || !acc->because || !acc->touched) {
        copurchase_acc_free(acc);
        return -ENOMEM;
    }
    return 0;
}

void copurchase_acc_reset(copurchase_acc_t *acc)
{
    for (size_t t = 0; t < acc->n_touched; t++) {
        uint32_t j = acc->touched[t];
        acc->score[j] = acc->best[j] = 0.0f;
    }
    acc->n_touched = 0;
}

void copurchase_acc_free(copurchase_acc_t *acc)
{
    if (!acc)
        return;
    free(acc->score);
    free(acc->best);
    free(acc->because);
    free(acc->touched);
    memset(acc, 0, sizeof *acc);
}

/* Adds w x item src's partner list, crediting cart item `from`. */
static void add_partners(const copurchase_t *cp, uint32_t src, float w, uint32_t from,
                         copurchase_acc_t *acc)
{
    for (uint64_t e = cp->ptr[src]; e < cp->ptr[src + 1]; e++) {
        uint32_t j = cp->partner[e];
        float v = w * cp->score[e];
        if (!(v > 0.0f))
            continue;
        if (acc->best[j] == 0.0f)
            acc->touched[acc->n_touched++] = j;
        acc->score[j] += v;
        if (v > acc->best[j]) {
            acc->best[j] = v;
            acc->because[j] = from;
        }
    }
}

/* Cart item i's own partners, weighted by its support, and (for items with
 * little support) the partners of its factor neighbours. */
static int add_item(const copurchase_t *cp, const copurchase_tail_t *tail, uint32_t i,
                    copurchase_acc_t *acc)
{
    uint32_t nb[64];
    float cos[64], w = 1.0f, sum = 0.0f;
    size_t n = 0;
    int rc;

    if (tail && tail->similar && tail->support > 0) {
        uint32_t want = tail->neighbors < 64 ? tail->neighbors : 64;
        w = (float)cp->item_baskets[i] / (float)(cp->item_baskets[i] + tail->support);
        if (w < 1.0f && want > 0) {
            if ((rc = tail->similar(tail->ctx, i, want, nb, cos, &n)) != 0)
                return rc;
            for (size_t s = 0; s < n; s++)
                sum += cos[s] > 0 ? cos[s] : 0.0f;
        }
    }
    if (sum <= 0.0f)
        w = 1.0f;
    add_partners(cp, i, w, i, acc);
    for (size_t s = 0; s < n && sum > 0.0f; s++)
        if (cos[s] > 0 && nb[s] < cp->n_items)
            add_partners(cp, nb[s], (1.0f - w) * cos[s] / sum, i, acc);
    return 0;
}

static int in_list(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

static int hit_cmp(const void *x, const void *y)
{
    const copurchase_hit_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

int copurchase_complements(const copurchase_t *cp, const copurchase_tail_t *tail,
                           const uint32_t *cart, size_t n_cart, const uint64_t *deny,
                           uint32_t k, copurchase_acc_t *acc, copurchase_hit_t *out,
                           size_t *n)
{
    copurchase_hit_t *all;
    size_t m = 0;
    int rc = 0;

    *n = 0;
    if (acc->n_items != cp->n_items || k < 1 || k > 1000)
        return -EINVAL;
    for (size_t c = 0; c < n_cart && rc == 0; c++)
        if (cart[c] < cp->n_items && !in_list(cart, c, cart[c]))
            rc = add_item(cp, tail, cart[c], acc);
    if (rc)
        return rc;
    if (!(all = malloc((acc->n_touched + 1) * sizeof *all)))
        return -ENOMEM;
    for (size_t t = 0; t < acc->n_touched; t++) {
        uint32_t j = acc->touched[t];
        if ((deny && (deny[j >> 6] >> (j & 63)) & 1) || in_list(cart, n_cart, j))
            continue;
        all[m++] = (copurchase_hit_t){ j, acc->score[j], acc->because[j] };
    }
    qsort(all, m, sizeof *all, hit_cmp);
    *n = m < k ? m : k;
    if (*n)
        memcpy(out, all, *n * sizeof *out);
    free(all);
    return 0;
}
