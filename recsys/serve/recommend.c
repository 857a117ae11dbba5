/*
 * recommend.c - "for you" lists, similar items and re-ranking (recommend.h).
 *
 * Every exclusion a request asks for is folded into one deny bitset before
 * the scan: filters cost time in proportion to the items they touch (the
 * catalog snapshot keeps items grouped by category and sorted by price;
 * stock and prices are read from it, never from the model), and the
 * customer's history is one LMDB range read. The scan itself then skips
 * denied items and keeps the best k of the rest.
 */
#include "recommend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foldin.h"
#include "session.h"
#include "topk.h"
#include "train.h"

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
    const char *bad;

    if (!q->customer_id || !q->customer_id[0])
        return "customer_id: required";
    if (strlen(q->customer_id) > STORE_MAX_ID)
        return "customer_id: longer than 256 bytes";
    if (q->k < 1 || q->k > REC_MAX_K)
        return "k: must be in 1..1000";
    if (!(q->popularity_blend >= 0 && q->popularity_blend <= 1))
        return "popularity_blend: must be in 0..1";
    if ((bad = div_params_invalid(&q->diversity)) != NULL ||
        (bad = promo_invalid(q->promotion, q->k)) != NULL)
        return bad;
    return rec_filters_invalid(q->filters);
}

/* ---- deny bitset ------------------------------------------------------------- */

/* The deny bitset covers the model's items; the catalog may list more
 * (items added after training), which cannot be scored and are skipped. */
static void deny_set(uint64_t *deny, uint32_t n_items, uint32_t i)
{
    if (i < n_items)
        topk_bitset_set(deny, i);
}

static void deny_category(const catalog_t *c, uint32_t n_items, uint32_t id,
                          uint64_t *deny, int set)
{
    uint32_t begin, end;
    catalog_category_items(c, id, &begin, &end);
    for (uint32_t j = begin; j < end; j++) {
        uint32_t i = c->cat_items[j];
        if (i >= n_items)
            continue;
        if (set)
            topk_bitset_set(deny, i);
        else
            deny[i >> 6] &= ~((uint64_t)1 << (i & 63));
    }
}

/* Position of the first item (in price order) priced >= p, or > p when
 * strictly is set. */
static size_t price_bound(const catalog_t *c, double p, int strictly)
{
    size_t lo = 0, hi = c->n_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double v = c->price[c->by_price[mid]];
        if (strictly ? v <= p : v < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Model items the catalog snapshot does not list (it is older than the
 * model) have no id to answer with. */
static void deny_unlisted(const catalog_t *c, uint32_t n_items, uint64_t *deny)
{
    for (uint32_t i = c->n_items; i < n_items; i++)
        topk_bitset_set(deny, i);
}

static void apply_filters(const catalog_t *c, uint32_t n_items, const rec_filters_t *f,
                          uint64_t *deny)
{
    size_t words = TOPK_BITSET_WORDS(n_items), cwords = TOPK_BITSET_WORDS(c->n_items);
    uint32_t id, i;

    if (!f)
        return;
    if (f->n_allow) {
        memset(deny, 0xff, words * sizeof *deny);
        for (size_t a = 0; a < f->n_allow; a++)
            if (catalog_category_index(c, f->allow_categories[a], &id) == 0)
                deny_category(c, n_items, id, deny, 0);
    }
    for (size_t d = 0; d < f->n_deny; d++)
        if (catalog_category_index(c, f->deny_categories[d], &id) == 0)
            deny_category(c, n_items, id, deny, 1);
    if (f->min_price > 0)
        for (size_t j = 0, end = price_bound(c, f->min_price, 0); j < end; j++)
            deny_set(deny, n_items, c->by_price[j]);
    if (f->max_price > 0)
        for (size_t j = price_bound(c, f->max_price, 1); j < c->n_items; j++)
            deny_set(deny, n_items, c->by_price[j]);
    if (f->in_stock_only)
        for (size_t w = 0; w < words && w < cwords; w++)
            deny[w] |= c->out_of_stock[w];
    for (size_t e = 0; e < f->n_exclude; e++)
        if (catalog_item_index(c, f->exclude_items[e], &i) == 0)
            deny_set(deny, n_items, i);
}

/* Everything a request's item set excludes before the customer's history
 * is looked at: the filters, the items the customer's standing in the
 * programme does not allow, and model items the catalog does not list. */
static void request_deny(const catalog_t *c, uint32_t n_items, const rec_filters_t *f,
                         const rec_access_t *access, uint64_t *deny)
{
    apply_filters(c, n_items, f, deny);
    rec_access_deny(c, n_items, access, deny);
    deny_unlisted(c, n_items, deny);
}

void rec_filters_deny(const catalog_t *c, uint32_t n_items, const rec_filters_t *f,
                      const rec_access_t *access, uint64_t *deny)
{
    request_deny(c, n_items, f, access, deny);
}

/* The customer's events: from the store, plus inline ones. Exclusions and
 * fold-in both read this one list. */
typedef struct history {
    store_event_list_t l;
    int unseen;        /* an event the model was not trained on */
    size_t n_inline;   /* the last n_inline of l are the request's events */
} history_t;

/* Appends ev to the history, a category's not_interested as one such
 * event per item the catalog lists in the category (every reader then
 * sees item events only); a category the catalog does not know adds
 * nothing. */
static int history_push(history_t *h, const catalog_t *c, const store_event_rec_t *ev,
                        uint32_t cat)
{
    uint32_t begin, end;
    int rc = 0;

    if (ev->item != STORE_NO_ITEM)
        return store_event_list_push(&h->l, ev);
    if (cat == CATALOG_NO_CATEGORY || ev->type != STORE_EVENT_NOT_INTERESTED)
        return 0;
    catalog_category_items(c, cat, &begin, &end);
    for (uint32_t j = begin; j < end && rc == 0; j++) {
        store_event_rec_t one = *ev;
        one.item = c->cat_items[j];
        one.category = 0;
        rc = store_event_list_push(&h->l, &one);
    }
    return rc;
}

typedef struct history_load {
    history_t *h;
    const catalog_t *c;
} history_load_t;

/* store_event_cb for the stored history. */
static int push_stored(void *ctx, const store_event_rec_t *ev)
{
    history_load_t *hl = ctx;
    uint32_t cat = CATALOG_NO_CATEGORY;
    if (ev->item == STORE_NO_ITEM && catalog_category_by_key(hl->c, ev->category, &cat) != 0)
        return 0;
    return history_push(hl->h, hl->c, ev, cat);
}

/* An inline event as a record (seq UINT64_MAX: after every stored one);
 * 0 with *r and *cat set, or -ENOENT for an item or category the catalog
 * does not know (ignored). */
static int inline_record(const catalog_t *c, uint32_t customer, const rec_inline_event_t *e,
                         store_event_rec_t *r, uint32_t *cat)
{
    *r = (store_event_rec_t){ .customer = customer, .type = (uint8_t)e->type,
                              .quantity = e->quantity ? e->quantity : 1,
                              .time_ms = e->time_ms, .seq = UINT64_MAX };
    *cat = CATALOG_NO_CATEGORY;
    if (e->category && e->category[0]) {
        r->item = STORE_NO_ITEM;
        return catalog_category_index(c, e->category, cat) == 0 ? 0 : -ENOENT;
    }
    return catalog_item_index(c, e->item_id, &r->item) == 0 ? 0 : -ENOENT;
}

static int load_history(store_t *s, const model_t *m, const catalog_t *c,
                        const rec_query_t *q, int known, uint32_t customer, history_t *h)
{
    history_load_t hl = { h, c };
    int rc = 0;
    if (known && (rc = store_customer_events(s, customer, push_stored, &hl)) != 0)
        return rc;
    for (size_t i = 0; i < h->l.n; i++)
        if (h->l.ev[i].seq >= m->hdr.train_seq)
            h->unseen = 1;
    for (size_t i = 0; i < q->n_inline && rc == 0 && !q->non_personalized; i++) {
        store_event_rec_t r;
        uint32_t cat;
        size_t before = h->l.n;
        if (inline_record(c, customer, &q->inline_events[i], &r, &cat) != 0)
            continue;
        h->unseen = 1;
        rc = history_push(h, c, &r, cat);
        h->n_inline += h->l.n - before;
    }
    return rc;
}

typedef struct touch {
    uint32_t item;
    uint32_t pos;     /* position in the history: time order per item */
    uint8_t type;
} touch_t;

static int cmp_touch(const void *a, const void *b)
{
    const touch_t *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Whether a pair's item is excluded: negative feedback always, bought
 * items unless include_purchased, viewed ones with exclude_viewed. */
static int excluded(const train_pair_t *p, int purchased, int viewed)
{
    return p->negative || (purchased && p->purchased) || (viewed && p->viewed);
}

/* The exclusions (see recommend.h) into deny, when deny is not NULL;
 * purchased/viewed: exclude bought/viewed items too. Returns the number of
 * distinct known items the customer touched without negative feedback, or
 * -ENOMEM. */
static long scan_history(const history_t *h, uint32_t n_items, int purchased,
                         int viewed, uint64_t *deny)
{
    touch_t *t = malloc((h->l.n ? h->l.n : 1) * sizeof *t);
    size_t n = 0;
    long distinct = 0;

    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < h->l.n; i++) {
        const store_event_rec_t *ev = &h->l.ev[i];
        if (ev->item >= n_items)
            continue; /* newer than the model: cannot be recommended anyway */
        t[n++] = (touch_t){ ev->item, (uint32_t)i, ev->type };
    }
    qsort(t, n, sizeof *t, cmp_touch);
    for (size_t i = 0, j; i < n; i = j) {
        train_pair_t p = { 0 };
        for (j = i; j < n && t[j].item == t[i].item; j++)
            train_pair_add(&p, t[j].type, 1.0f);
        distinct += !p.negative;
        if (deny && excluded(&p, purchased, viewed))
            topk_bitset_set(deny, t[i].item);
    }
    free(t);
    return distinct;
}

/* ---- answers ------------------------------------------------------------------- */

/* The trained factors of a customer, or NULL when the model has none (new
 * since training, erased since, or all-zero: no positive interaction when
 * trained). */
static const float *trained_vector(const model_t *m, int known, uint32_t customer)
{
    const float *x;
    if (!known || customer >= m->hdr.n_users || model_user_erased(m, customer))
        return NULL;
    x = m->user_f + (size_t)customer * m->hdr.factors;
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
    return rc;
}

/* Personalized top-k of w x.y_i + (1 - w) pop_i: exact through the
 * compact index with popularity as an exact per-row bias, or, for catalogs
 * with an IVF index, approximately over rows [y_i, pop_i] with query
 * [w x, 1 - w]. */
static int search_blended(const model_t *m, const float *x, float w,
                          const uint64_t *deny, uint32_t k, topk_hit_t *hits,
                          size_t *n)
{
    uint32_t f = m->hdr.factors, got = 0;
    float *q = malloc((f + 1) * sizeof *q);
    int rc;

    if (!q)
        return -ENOMEM;
    for (uint32_t d = 0; d < f; d++)
        q[d] = w * x[d];
    q[f] = 1.0f - w;
    if (m->ivf)
        rc = ivf_search(m->ivf, q, deny, k, m->ann_probes, hits, &got);
    else
        rc = flat_index_search_bias(m->flat, q, m->pop_norm, 1.0f - w, deny, k, hits, &got);
    *n = got;
    free(q);
    return rc;
}

/* Who the customer is to the model: trained factors when the model has
 * seen all their events, factors folded in from the history otherwise (or
 * when explanations need the customer's system), else none (popularity). */
typedef struct customer_state {
    history_t h;
    foldin_t fi;
    const float *x;     /* NULL: no usable factors */
    float *xs;          /* x blended with the current session, when there is one */
    uint8_t reason;
    float w;            /* weight of x against popularity */
} customer_state_t;

/* The current session: the request's inline events, after the stored
 * events of the customer's last session when its latest event is within
 * the session gap of q->now_ms (0: only inline events). Blends the
 * session's vector into cs->x (session.h); no session, no change. */
static int apply_session(const model_t *m, const rec_query_t *q, customer_state_t *cs)
{
    const store_event_rec_t *ev = cs->h.l.ev;
    size_t n = cs->h.l.n, stored = n - cs->h.n_inline, start = stored;
    uint32_t f = m->hdr.factors;
    session_params_t p;
    foldin_t sf;
    int rc;

    session_params_default(&p);
    if (q->now_ms > 0 && stored && ev[stored - 1].time_ms >= q->now_ms - p.gap_ms)
        start = session_last_start(ev, stored, p.gap_ms);
    if (start == n)
        return 0;
    if ((rc = session_fold(m, ev + start, n - start, &p, &sf)) != 0)
        return rc == -ENOENT ? 0 : rc;
    if ((cs->xs = malloc(f * sizeof *cs->xs)) != NULL) {
        session_blend(cs->x, sf.x, p.blend, f, cs->xs);
        cs->x = cs->xs;
    }
    foldin_free(&sf);
    return cs->xs ? 0 : -ENOMEM;
}

static int resolve_customer(store_t *s, const model_t *m, const catalog_t *c,
                            const rec_query_t *q, int want_system, uint64_t *deny,
                            customer_state_t *cs)
{
    uint32_t customer = 0;
    int known = !q->non_personalized && store_customer_index(s, q->customer_id, &customer) == 0;
    long distinct;
    int rc;

    memset(cs, 0, sizeof *cs);
    cs->reason = REC_REASON_POPULAR;
    if ((rc = load_history(s, m, c, q, known, customer, &cs->h)) != 0)
        return rc;
    distinct = scan_history(&cs->h, m->hdr.n_items, !q->include_purchased,
                            q->exclude_viewed, deny);
    if (distinct < 0)
        return (int)distinct;
    cs->x = trained_vector(m, known, customer);
    if (cs->x)
        cs->reason = REC_REASON_PERSONALIZED;
    if ((!cs->x || cs->h.unseen || want_system) && cs->h.l.n) {
        rc = foldin_solve(m, cs->h.l.ev, cs->h.l.n, &cs->fi);
        if (rc && rc != -ENOENT)
            return rc;
        if (rc == 0 && (!cs->x || cs->h.unseen)) {
            cs->x = cs->fi.x;
            cs->reason = REC_REASON_FOLD_IN;
        }
    }
    if (cs->x && (rc = apply_session(m, q, cs)) != 0)
        return rc;
    cs->w = (float)distinct / ((float)distinct + REC_BLEND_EVENTS) *
            (1.0f - q->popularity_blend);
    return 0;
}

static void customer_state_free(customer_state_t *cs)
{
    foldin_free(&cs->fi);
    free(cs->xs);
    store_event_list_free(&cs->h.l);
}

static void copy_hits(const topk_hit_t *hits, size_t got, uint8_t reason,
                      rec_item_t *out)
{
    for (size_t i = 0; i < got; i++)
        out[i] = (rec_item_t){ .item = hits[i].id, .score = hits[i].score,
                               .reason = reason };
}

static int explain(const model_t *m, const foldin_t *fi, rec_item_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t got = 0;
        int rc = foldin_explain(m, fi, out[i].item, out[i].because, REC_MAX_BECAUSE, &got);
        if (rc)
            return rc;
        out[i].n_because = (uint8_t)got;
    }
    return 0;
}

/* The best `want` items for the customer (all when want = n_items). */
static int candidates(const model_t *m, const customer_state_t *cs,
                      const uint64_t *deny, uint32_t want, topk_hit_t *hits,
                      size_t *got)
{
    if (cs->x)
        return search_blended(m, cs->x, cs->w, deny, want, hits, got);
    *got = topk_scores(m->item_pop, m->hdr.n_items, deny, want, hits);
    return 0;
}

/* A diversified list: MMR and category caps over a pool of candidates, the
 * pool widened (up to the whole catalog) while the caps leave the list
 * short. */
static int diversified(const model_t *m, const catalog_t *c, const customer_state_t *cs,
                       const rec_query_t *q, const uint64_t *deny,
                       topk_hit_t *out, size_t *n)
{
    uint32_t n_items = m->hdr.n_items, want = div_pool_size(q->k, n_items);
    topk_hit_t *pool = NULL;
    size_t got = 0;
    int rc;

    for (;;) {
        topk_hit_t *grown = realloc(pool, (want ? want : 1) * sizeof *pool);
        if (!grown) {
            rc = -ENOMEM;
            break;
        }
        pool = grown;
        if ((rc = candidates(m, cs, deny, want, pool, &got)) != 0 ||
            (rc = diversify(pool, got, m->item_unit, m->hdr.factors, c->item_cat,
                            c->n_categories, &q->diversity, q->k, out, n)) != 0)
            break;
        if (*n == q->k || got < want || want == n_items)
            break;
        want = want > n_items / 4 ? n_items : want * 4;
    }
    free(pool);
    return rc;
}

/* Reserves the query's promotion slots in hits[0..*n) (room for q->k):
 * the customer's best promoted items not yet listed, under the same deny
 * set, merged by promo_merge; flags[i] marks promoted items. */
static int promote(const model_t *m, const catalog_t *c, const customer_state_t *cs,
                   const rec_query_t *q, const uint64_t *deny, topk_hit_t *hits,
                   size_t *n, uint8_t *flags)
{
    size_t words = TOPK_BITSET_WORDS(m->hdr.n_items) + 1;
    uint32_t slots = q->promotion->slots;
    uint64_t *in = calloc(words, sizeof *in), *rest = malloc(words * sizeof *rest);
    topk_hit_t *best = malloc(slots * sizeof *best);
    size_t got = 0;
    int rc = -ENOMEM;

    if (in && rest && best) {
        promo_members(c, m->hdr.n_items, q->promotion, in);
        for (size_t w = 0; w < words; w++)
            rest[w] = deny[w] | ~in[w];
        for (size_t i = 0; i < *n; i++)
            topk_bitset_set(rest, hits[i].id);
        if ((rc = candidates(m, cs, rest, slots, best, &got)) == 0)
            *n = promo_merge(hits, *n, q->k, best, got, slots, in, flags);
    }
    free(in);
    free(rest);
    free(best);
    return rc;
}

int rec_recommend(store_t *s, const model_t *m, const catalog_t *c,
                  const rec_query_t *q, rec_item_t *out, size_t *n, int *personalized)
{
    uint32_t n_items = m->hdr.n_items;
    uint64_t *deny = NULL;
    topk_hit_t *hits = NULL;
    uint8_t *flags = NULL;
    customer_state_t cs = { 0 };
    size_t got = 0;
    int rc;

    if (rec_query_invalid(q))
        return -EINVAL;
    deny = calloc(TOPK_BITSET_WORDS(n_items) + 1, sizeof *deny);
    hits = malloc(q->k * sizeof *hits);
    flags = calloc(q->k, 1);
    if (!deny || !hits || !flags) {
        rc = -ENOMEM;
        goto out;
    }
    request_deny(c, n_items, q->filters, q->access, deny);
    for (size_t i = 0; i < q->n_deny_items; i++)
        if (q->deny_items[i] < n_items)
            topk_bitset_set(deny, q->deny_items[i]);
    if ((rc = resolve_customer(s, m, c, q, q->explain, deny, &cs)) != 0)
        goto out;
    if (div_active(&q->diversity))
        rc = diversified(m, c, &cs, q, deny, hits, &got);
    else
        rc = candidates(m, &cs, deny, q->k, hits, &got);
    if (rc == 0 && promo_active(q->promotion))
        rc = promote(m, c, &cs, q, deny, hits, &got, flags);
    if (rc)
        goto out;
    copy_hits(hits, got, cs.reason, out);
    for (size_t i = 0; i < got; i++)
        out[i].promoted = flags[i];
    if (cs.x && q->explain && cs.fi.n && (rc = explain(m, &cs.fi, out, got)) != 0)
        goto out;
    *n = got;
    *personalized = cs.x != NULL;
out:
    customer_state_free(&cs);
    free(deny);
    free(hits);
    free(flags);
    return rc;
}

int rec_similar(const model_t *m, const catalog_t *c, uint32_t item, uint32_t k,
                const rec_filters_t *filters, const rec_access_t *access,
                rec_item_t *out, size_t *n)
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
    request_deny(c, n_items, filters, access, deny);
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
    int negative;  /* the customer's negative feedback: after the others */
} ranked_t;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;
    if (x->negative != y->negative)
        return x->negative - y->negative;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

int rec_rank(store_t *s, const model_t *m, const catalog_t *c, const char *customer_id,
             const uint32_t *items, size_t n, rec_item_t *out, int *personalized)
{
    rec_query_t q = { .customer_id = customer_id, .k = 1 };
    return rec_rank_query(s, m, c, &q, items, n, out, personalized);
}

int rec_rank_query(store_t *s, const model_t *m, const catalog_t *c,
                   const rec_query_t *query, const uint32_t *items, size_t n,
                   rec_item_t *out, int *personalized)
{
    uint32_t f = m->hdr.factors;
    rec_query_t q = *query;
    customer_state_t cs;
    uint64_t *negative;
    ranked_t *r;
    int rc;

    q.k = 1;
    q.include_purchased = 1; /* ranking a given list drops nothing: */
    q.exclude_viewed = 0;    /* negative feedback only goes last */
    if (rec_query_invalid(&q) || n > REC_MAX_LIST)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (items[i] >= m->hdr.n_items)
            return -EINVAL;
    r = malloc((n ? n : 1) * sizeof *r);
    negative = calloc(TOPK_BITSET_WORDS(m->hdr.n_items) + 1, sizeof *negative);
    if (!r || !negative) {
        free(r);
        free(negative);
        return -ENOMEM;
    }
    if ((rc = resolve_customer(s, m, c, &q, 0, negative, &cs)) != 0) {
        customer_state_free(&cs);
        free(negative);
        free(r);
        return rc;
    }
    /* The same blended score Recommend ranks by. */
    for (size_t i = 0; i < n; i++) {
        const float *y = m->item_f + (size_t)items[i] * f;
        float score = 0;
        if (cs.x) {
            for (uint32_t d = 0; d < f; d++)
                score += cs.x[d] * y[d];
            score = cs.w * score + (1.0f - cs.w) * m->pop_norm[items[i]];
        } else {
            score = m->item_pop[items[i]];
        }
        r[i] = (ranked_t){ score, (uint32_t)i,
                           topk_bitset_test(negative, items[i]) != 0 };
    }
    free(negative);
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n; i++)
        out[i] = (rec_item_t){ .item = items[r[i].pos], .score = r[i].score,
                               .reason = cs.x ? cs.reason : REC_REASON_POPULAR };
    *personalized = cs.x != NULL;
    customer_state_free(&cs);
    free(r);
    return 0;
}
