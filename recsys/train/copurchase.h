/*
 * copurchase.h - "bought together": baskets from the purchase log, exact
 * co-occurrence counts, a significance-corrected score per item pair, and
 * the complements of a cart, with factor neighbours standing in for items
 * that have little co-purchase support. Computed by `patron train` beside
 * the factors and published with the same model version (one blob,
 * store_publish_model_blob), so the complements swap atomically with them.
 *
 * Baskets: a customer's purchases grouped like orders (profile.h): a basket
 * starts with a purchase and takes every later purchase less than
 * gap_minutes after that first one (anchored). Items count once per basket;
 * refunds do not undo a basket (the items were still bought together).
 * Baskets of more than max_basket distinct items (wholesale orders, stock
 * takes) are left out: |b|^2 pairs of little information each.
 *
 * Scores. N baskets, n_i of them with item i, n_ij with both i and j:
 *     e_ij     = n_i n_j / N                      co-baskets if independent
 *     lift_ij  = (n_ij + prior) / (e_ij + prior)  shrunk toward 1
 *     score_ij = (n_ij / n_i) * lift_ij ^ lift_exp
 * The shrunk lift is the posterior mean of the rate ratio n_ij / e_ij under
 * a Gamma(prior, prior) prior centred on independence (a pair seen once
 * among popular items says little; seen 20 times where 2 were expected says
 * much). lift_exp 0 ranks j by P(j | i), i.e. by raw co-occurrence counts;
 * 1 multiplies that confidence by the corrected lift, which demotes items
 * that are in every basket anyway. Pairs in fewer than min_support baskets
 * are dropped; each item keeps its max_neighbors best partners.
 *
 * A cart's complements: score_j = sum over cart items i of
 *     w_i score_ij + (1 - w_i) sum_s cos(i,s) score_sj / sum_s cos(i,s)
 * with w_i = n_i / (n_i + tail_support) and s the tail_neighbors items
 * nearest to i by factor cosine: an item bought in few baskets borrows the
 * co-purchases of the items it resembles. Cart items themselves are never
 * answered. The answer's "because" is the cart item contributing most.
 *
 * Thread safety: a copurchase_t is immutable once built or decoded, so any
 * number of threads may score carts against it, each with its own
 * copurchase_acc_t. Nothing here prints or does I/O except
 * copurchase_baskets, which reads the store.
 */
#ifndef PATRON_RECSYS_COPURCHASE_H
#define PATRON_RECSYS_COPURCHASE_H

#include <stddef.h>
#include <stdint.h>

#include "csr.h"
#include "store.h"
#include "train.h"

typedef struct copurchase_params {
    uint32_t gap_minutes;    /* [30] purchases this close are one basket */
    uint32_t max_basket;     /* [100] larger baskets are left out */
    uint32_t min_support;    /* [1] pairs in fewer baskets are dropped */
    uint32_t max_neighbors;  /* [100] partners kept per item */
    float prior;             /* [5] pseudo-baskets shrinking the lift to 1 */
    float lift_exp;          /* [0.5] weight of the lift against P(j | i) */
} copurchase_params_t;

/* Serving's long-tail fallback (the weights of the formula above). */
#define COPURCHASE_TAIL_SUPPORT 10u  /* tail_support: n_i at which w_i = 1/2 */
#define COPURCHASE_TAIL_NEIGHBORS 10u
/* Most items a cart may hold (ComplementaryItems.item_ids). */
#define COPURCHASE_MAX_CART 100u

void copurchase_params_default(copurchase_params_t *p);
/* The same defaults, read-only, for train_config_default. */
const copurchase_params_t *copurchase_params_defaults(void);

/* NULL or a static message naming the bad field. */
const char *copurchase_params_invalid(const copurchase_params_t *p);

/* Baskets as rows of a CSR (columns: item indices, values 1), with each
 * basket's first purchase time and customer index. */
typedef struct copurchase_baskets {
    csr_t items;          /* n_rows baskets x n_cols items */
    int64_t *time_ms;     /* n_rows */
    uint32_t *customer;   /* n_rows */
} copurchase_baskets_t;

/*
 * Reads every purchase up to horizon_ms (0: no limit) that keep accepts
 * (NULL: all) into baskets (params: gap_minutes). The columns span item
 * indices 0..n_items-1 (n_items 0: every item the store has registered;
 * purchases of later items are skipped). out owns its arrays
 * (copurchase_baskets_free). Returns 0 (possibly no basket), -ENOMEM or a
 * store error.
 */
int copurchase_baskets(store_t *s, const copurchase_params_t *p, int64_t horizon_ms,
                       uint32_t n_items, train_event_filter keep, void *keep_ctx,
                       copurchase_baskets_t *out);

/*
 * What `patron train` publishes beside the factors: the baskets of the
 * store's purchases up to horizon_ms over n_items items, counted under p
 * and encoded (copurchase_encode). *buf is malloc'd, the caller's. Returns
 * 0, -EINVAL, -ENOMEM or a store error.
 */
int copurchase_train_blob(store_t *s, const copurchase_params_t *p, int64_t horizon_ms,
                          uint32_t n_items, void **buf, size_t *len);

/*
 * Baskets from purchases given in (customer, time) order: purchases of one
 * customer must be consecutive and in time order. n purchases of
 * items[i] < n_items by customers[i] at times[i]. Same grouping as
 * copurchase_baskets. Returns 0, -EINVAL (order or range) or -ENOMEM.
 */
int copurchase_baskets_from(const uint32_t *customers, const uint32_t *items,
                            const int64_t *times, size_t n, uint32_t n_items,
                            const copurchase_params_t *p, copurchase_baskets_t *out);

void copurchase_baskets_free(copurchase_baskets_t *b); /* NULL-safe; arrays only */

/* The statistics: per item its partners, best score first (ties: lower
 * index first). */
typedef struct copurchase {
    uint32_t n_items;
    uint32_t n_baskets;      /* N: baskets of at most max_basket items */
    uint32_t *item_baskets;  /* n_items: n_i */
    uint64_t *ptr;           /* n_items + 1 offsets into the three below */
    uint32_t *partner;       /* j */
    uint32_t *count;         /* n_ij, exact */
    float *score;            /* score_ij */
    copurchase_params_t params;
} copurchase_t;

/*
 * Counts the pairs of the baskets (rows of b->items; b->items.n_cols items)
 * and keeps each item's best partners under p. out owns its arrays
 * (copurchase_free). Returns 0, -EINVAL (p invalid) or -ENOMEM.
 */
int copurchase_build(const copurchase_baskets_t *b, const copurchase_params_t *p,
                     copurchase_t *out);

void copurchase_free(copurchase_t *cp); /* NULL-safe; arrays only */

/* The exact co-basket count n_ij if j is among i's kept partners, else 0. */
uint32_t copurchase_count(const copurchase_t *cp, uint32_t i, uint32_t j);

/*
 * The stored form (little-endian, versioned): *buf is malloc'd, the
 * caller's to free. Returns 0 or -ENOMEM.
 */
int copurchase_encode(const copurchase_t *cp, void **buf, size_t *len);

/* Reads what copurchase_encode wrote; out owns copies. Returns 0, -ENOMEM,
 * or -EINVAL when the blob is truncated, of another version, or
 * inconsistent (offsets, partner indices out of range). */
int copurchase_decode(const void *buf, size_t len, copurchase_t *out);

/* ---- a cart's complements ------------------------------------------------------ */

/* Up to k items nearest to item in factor space (item itself left out),
 * best first, with their cosine. Returns 0 or a negative errno. */
typedef int (*copurchase_similar_fn)(void *ctx, uint32_t item, uint32_t k,
                                     uint32_t *items, float *cos, size_t *n);

typedef struct copurchase_tail {
    copurchase_similar_fn similar;  /* NULL: no long-tail fallback */
    void *ctx;
    uint32_t support;               /* tail_support (0: no fallback) */
    uint32_t neighbors;             /* tail_neighbors, <= 64 */
} copurchase_tail_t;

/* Per-request scratch: dense over n_items, reset between carts. */
typedef struct copurchase_acc {
    uint32_t n_items;
    float *score;       /* accumulated score_j */
    float *best;        /* largest single contribution to score_j ... */
    uint32_t *because;  /* ... and the cart item it came from */
    uint32_t *touched;  /* items with a contribution, n_touched of them */
    size_t n_touched;
} copurchase_acc_t;

int copurchase_acc_init(copurchase_acc_t *acc, uint32_t n_items); /* 0 or -ENOMEM */
void copurchase_acc_reset(copurchase_acc_t *acc);  /* O(touched) */
void copurchase_acc_free(copurchase_acc_t *acc);   /* NULL-safe */

/* One answer. */
typedef struct copurchase_hit {
    uint32_t item;
    float score;
    uint32_t because;   /* the cart item that contributed most */
} copurchase_hit_t;

/*
 * Adds the complements of cart (n item indices; indices >= cp->n_items,
 * and repeats, are skipped) into acc, then writes the best k (1..1000) to
 * out, leaving out cart items and items whose bit is set in deny (a
 * topk bitset over cp->n_items; NULL: none). *n gets how many: fewer than
 * k when fewer items have any co-purchase evidence. acc must be reset (or
 * fresh). Returns 0, -EINVAL (acc size, k) or the similar callback's error.
 */
int copurchase_complements(const copurchase_t *cp, const copurchase_tail_t *tail,
                           const uint32_t *cart, size_t n_cart, const uint64_t *deny,
                           uint32_t k, copurchase_acc_t *acc, copurchase_hit_t *out,
                           size_t *n);

#endif
