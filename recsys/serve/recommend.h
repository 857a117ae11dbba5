/*
 * recommend.h - answers for the storefront from a model snapshot and the
 * customer's stored history: "for you" lists, similar items, and re-ranking
 * a caller's candidate list.
 *
 * Known customers (index < model's n_users) are scored by x_u . y_i over all
 * items; unknown ones get the most popular items. Request filters and the
 * exclusions become one deny bitset applied inside the scan, so the list is
 * filled to k whenever k items pass, in one pass. Exclusions read the
 * customer's whole history, events newer than the model and inline events
 * included, per item in time order (train_pair_t):
 *  - negative feedback, always (include_purchased does not lift it): an item
 *    refunded, or marked not_interested (itself or through its category:
 *    every item the category has in the catalog snapshot, items added
 *    later included), after its last purchase. A later purchase lifts it;
 *    views and carts do not.
 *  - bought items (any purchase), unless include_purchased;
 *  - viewed or carted items, with exclude_viewed.
 * RankItems (rec_rank_query) keeps every candidate but ranks the
 * customer's negative-feedback items after all others.
 */
#ifndef PATRON_RECSYS_RECOMMEND_H
#define PATRON_RECSYS_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "catalog.h"
#include "diversify.h"
#include "model.h"
#include "promote.h"
#include "store.h"

#define REC_MAX_K 1000
#define REC_MAX_LIST 10000   /* longest filter list or RankItems candidate list */

/* Values match patron.v1.Reason. */
typedef enum rec_reason {
    REC_REASON_UNSPECIFIED = 0,
    REC_REASON_PERSONALIZED = 1,   /* the customer's trained factors */
    REC_REASON_POPULAR = 2,
    REC_REASON_SIMILAR_ITEM = 3,
    REC_REASON_FOLD_IN = 4,        /* factors folded in from events the model
                                    * has not seen (or inline events) */
    REC_REASON_COMPLEMENT = 5,     /* bought together with a cart item */
} rec_reason_t;

/* Personalized scores are blended with popularity by how much the service
 * knows of a customer: w = n / (n + REC_BLEND_EVENTS) for n distinct items
 * with positive strength; score = w x.y_i + (1 - w) popularity_i (0..1). */
#define REC_BLEND_EVENTS 1.0f
#define REC_MAX_BECAUSE 3
#define REC_MAX_INLINE 1000

/* An event passed in the request (anonymous visitors' sessions). */
typedef struct rec_inline_event {
    const char *item_id;         /* unknown items are ignored */
    int type;                    /* store_event_type_t */
    int64_t time_ms;
    int32_t quantity;
    const char *category;        /* NULL or "": about item_id; else a
                                    not_interested in every item of this
                                    category (unknown ones are ignored) */
} rec_inline_event_t;

/* Business-rule filters. Unknown category names or item ids match nothing
 * (they are not errors: catalogs change under storefronts). */
typedef struct rec_filters {
    const char *const *allow_categories; /* empty: every category */
    size_t n_allow;
    const char *const *deny_categories;
    size_t n_deny;
    double min_price;                    /* >= 0 */
    double max_price;                    /* 0: no upper bound */
    int in_stock_only;
    const char *const *exclude_items;
    size_t n_exclude;
} rec_filters_t;

typedef struct rec_query {
    const char *customer_id;
    uint32_t k;                  /* 1..REC_MAX_K */
    int include_purchased;       /* 0: exclude what the customer bought */
    int exclude_viewed;          /* 1: also exclude items viewed or carted */
    const rec_filters_t *filters;/* may be NULL */
    const rec_inline_event_t *inline_events; /* counted as the customer's */
    size_t n_inline;             /* <= REC_MAX_INLINE */
    int explain;                 /* fill rec_item_t.because */
    float popularity_blend;      /* 0..1: extra share of popularity (an
                                    experiment arm's setting); 0 = none */
    const uint32_t *deny_items;  /* item indices to exclude as well (e.g.
                                    recently shown); indices past the model's
                                    items are ignored */
    size_t n_deny_items;
    div_params_t diversity;      /* zero: rank by relevance alone; else the
                                    list is chosen from a larger pool by
                                    diversify.h, in the order chosen */
    const rec_promotion_t *promotion; /* may be NULL; see promote.h */
    int64_t now_ms;              /* the request's time: stored events of a
                                    session still going on at now_ms count as
                                    the current session (session.h); 0: only
                                    inline events do */
    const rec_access_t *access;  /* the customer's standing in the loyalty
                                    programme (access.h): members-only and
                                    early-access items it does not allow are
                                    excluded like filtered ones; NULL: no
                                    tier, no item with a release time */
    int non_personalized;        /* 1: the customer withdrew personalization
                                    consent: none of their data is read (no
                                    factors, history, session or inline
                                    events, so nothing bought is excluded):
                                    popular items, REC_REASON_POPULAR */
} rec_query_t;

typedef struct rec_item {
    uint32_t item;               /* item index (model and catalog share them) */
    float score;
    uint8_t reason;              /* rec_reason_t */
    uint8_t n_because;           /* explain: contributing past items */
    uint8_t promoted;            /* a member of the query's promotion */
    uint32_t because[REC_MAX_BECAUSE];
} rec_item_t;

/* Validation: each returns NULL or a static message naming the bad field. */
const char *rec_filters_invalid(const rec_filters_t *f);
const char *rec_query_invalid(const rec_query_t *q);

/* Sets in deny (a zeroed topk bitset over n_items model items) every item
 * the filters exclude (f may be NULL), every item access does not allow
 * (access.h; NULL: no tier) and every model item catalog c does not list.
 * f must be valid. */
void rec_filters_deny(const catalog_t *c, uint32_t n_items, const rec_filters_t *f,
                      const rec_access_t *access, uint64_t *deny);

/* Re-ranks like rec_rank, with the query's customer, inline events and
 * popularity blend (q->k is not used). */
int rec_rank_query(store_t *s, const model_t *m, const catalog_t *c,
                   const rec_query_t *q, const uint32_t *items, size_t n,
                   rec_item_t *out, int *personalized);

/*
 * Every answer reads two snapshots the caller pinned: model m (factors,
 * indexes) and catalog c (ids, stock, prices, categories: filters and the
 * ids of inline events and exclusions resolve against it). Items the
 * catalog lists beyond the model (added after training) are never
 * returned; model items the catalog does not list are not either.
 *
 * Answers q from model m. out must hold q->k entries; *n gets the number
 * written (k, or fewer only when fewer items pass, or when
 * q->diversity.max_per_cat leaves fewer). *personalized is 1 when
 * the customer's factors (trained or folded in) were used.
 *
 * Which factors: the trained ones when the model has seen all of the
 * customer's events; otherwise (events stored after training, a customer
 * new since training, or inline events) the factors are folded in from the
 * whole history at request time (foldin.h). No usable event: popularity.
 * The current session (inline events, and with q->now_ms the customer's
 * latest stored session if still going on) is folded in with recency
 * weights and blended with those factors (session.h).
 * Returns 0, -EINVAL (invalid query), -ENOMEM or a store error.
 */
int rec_recommend(store_t *s, const model_t *m, const catalog_t *c,
                  const rec_query_t *q, rec_item_t *out, size_t *n, int *personalized);

/*
 * Items most similar to `item` (cosine of item factors), the item itself
 * excluded, filters and access (access.h; NULL: no tier) applied. out holds
 * k entries; *n gets the count. Returns 0, -EINVAL (k or filters), -ENOMEM.
 */
int rec_similar(const model_t *m, const catalog_t *c, uint32_t item, uint32_t k,
                const rec_filters_t *filters, const rec_access_t *access,
                rec_item_t *out, size_t *n);

/*
 * Re-ranks candidates (item indices, n <= REC_MAX_LIST) for a customer: by
 * x_u . y_i when the model knows the customer, else by popularity; the
 * customer's negative-feedback items (see the top) come last. out[i]
 * gets candidate order best first (stable for equal scores: the caller's
 * order). Returns 0, -EINVAL, -ENOMEM or a store error.
 */
int rec_rank(store_t *s, const model_t *m, const catalog_t *c, const char *customer_id,
             const uint32_t *items, size_t n, rec_item_t *out, int *personalized);

#endif
