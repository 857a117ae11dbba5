/*
 * train.h - trains a model from the events in the store and publishes it.
 *
 * Interaction strength per (customer, item): each event weighs
 * weight(type) * (1 + ln(quantity)) * recency, where recency halves every
 * half_life_days before the newest event counted (0 disables it). Only
 * events up to the training horizon count: as_of_ms when set, else the
 * wall clock + TRAIN_FUTURE_SKEW_MS, so events dated in the future (a
 * wrong clock, a poisoned store) neither train nor become the recency
 * reference that would decay every real event to nothing.
 *
 * Negative feedback: a refund or a not_interested (on the item, or on its
 * category: that event counts for every item the category has when read)
 * that comes after the pair's last purchase makes the pair negative: its
 * matrix entry is minus the summed strengths of those negative events
 * (w_refund x (1 + ln quantity), w_not_interested, times recency), which
 * ials.h trains as preference 0 with confidence 1 + alpha |r|: the HKV
 * reading of "certainly not", rather than a smaller positive count (a net
 * of refunds) or a mere absence. A later purchase lifts it: the pair is
 * then the sum of its views, carts and purchases, earlier refunds
 * forgotten. Serving excludes the same negative pairs (train_pair_t) and
 * folds them in the same way (foldin.h). Pairs with nothing left count as
 * unobserved. The matrix is handed to ials_train and the result published
 * as a new model version.
 */
#ifndef PATRON_RECSYS_TRAIN_H
#define PATRON_RECSYS_TRAIN_H

#include "ials.h"
#include "store.h"

typedef struct copurchase_params copurchase_params_t;

typedef struct train_config {
    ials_params_t als;
    float w_view, w_cart, w_purchase, w_refund;
    float w_not_interested;
    float half_life_days;
    int64_t as_of_ms;  /* training horizon (unix ms); 0: the wall clock */
    /* Co-purchase statistics published with the model (copurchase.h);
     * NULL: none (ComplementaryItems then refuses that version). */
    const copurchase_params_t *copurchase;
} train_config_t;

/* How far past the wall clock an event still counts (without as_of_ms). */
#define TRAIN_FUTURE_SKEW_MS STORE_DEFAULT_EVENT_SKEW_MS

typedef struct train_report {
    store_model_hdr_t hdr;  /* of the published version */
    uint64_t events;        /* events read */
    uint64_t future;        /* events skipped: after the horizon */
    uint64_t nnz;           /* observed (customer, item) pairs */
    double seconds;         /* training time (excluding reading/publishing) */
} train_report_t;

void train_config_default(train_config_t *c);

/* The interaction strength one event adds (negative for refunds and
 * not_interested) under the weights, half-life and recency reference
 * recorded in a model header; used by training and, identically, by
 * serving's fold-in. */
float train_event_strength(const store_model_hdr_t *h, const store_event_rec_t *ev);

/* One (customer, item) pair's events folded in time order: what training,
 * fold-in and the recommender's exclusions all read. Zero-initialize. */
typedef struct train_pair {
    float pos;          /* summed strengths of views, carts, purchases */
    float neg;          /* summed |strength| of refunds and not_interested
                           since the last purchase */
    uint8_t purchased;  /* bought at least once */
    uint8_t negative;   /* a refund or not_interested after the last purchase:
                           never recommended; a purchase clears it */
    uint8_t viewed;     /* viewed or carted */
} train_pair_t;

/* Adds the pair's next event (in time order) of store type `type` with
 * strength train_event_strength (its sign is ignored). */
void train_pair_add(train_pair_t *p, int type, float strength);

/* The pair's matrix value: -neg when negative, else pos; 0 means
 * unobserved. */
float train_pair_value(const train_pair_t *p);

/* Category keys (store_category_key) mapped to the items that have the
 * category: how a not_interested in a whole category reaches its items. */
typedef struct train_categories {
    uint64_t *key;     /* n, sorted ascending (ties: by item) */
    uint32_t *item;    /* n */
    size_t n;
} train_categories_t;

/* Reads every item's category from the store (items with index >= n_items
 * are skipped). Returns 0, -ENOMEM or a store error; free with
 * train_categories_free (NULL-safe). */
int train_categories_load(store_t *s, uint32_t n_items, train_categories_t *out);
void train_categories_free(train_categories_t *c);

/* The items of category key: item[*begin .. *end). */
void train_categories_items(const train_categories_t *c, uint64_t key, size_t *begin,
                            size_t *end);

/* Decides whether an event counts (nonzero: keep it). */
typedef int (*train_event_filter)(void *ctx, const store_event_rec_t *ev);

/*
 * Reads the events keep accepts (all when keep is NULL) into the customer x
 * item strength matrix train_run trains on (same weights and horizon,
 * recency counted from the newest kept event, which *newest_ms gets;
 * negative feedback as negative entries, see the top); rows/columns span all
 * customer/item indices the store has registered. Shared with the offline
 * evaluation (evaluate.h) so both see the same weighting. *ui gets its own
 * arrays (csr_free); *events the number of events kept. events and
 * newest_ms may be NULL. Returns 0, -ENOENT if no event was kept, -ENOMEM
 * or a store error (then *ui is empty).
 */
int train_build_matrix(store_t *s, const train_config_t *c,
                       train_event_filter keep, void *keep_ctx,
                       csr_t *ui, uint64_t *events, int64_t *newest_ms);

/* Item popularity as published with a model: per item, the customers with a
 * positive interaction, a purchase counting 1 and a lighter signal its
 * fraction of w_purchase (negative entries count 0). pop has ui->n_cols
 * entries. */
void train_popularity(const csr_t *ui, float w_purchase, float *pop);

/* Reads all events, trains, publishes. progress as in ials_train (may be
 * NULL). Returns 0, -ENOENT if there are no events, or an error. */
int train_run(store_t *s, const train_config_t *c, ials_progress_fn progress,
              void *ctx, train_report_t *rep);

#endif
