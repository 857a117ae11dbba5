/*
 * store.h - durable storage of Patron's data in one LMDB environment.
 *
 * What lives here: the item catalog, customers (string id -> dense index),
 * customer events, the event-id idempotency set, and published model
 * versions. Every write function commits (and fsyncs, LMDB's default) before
 * it returns 0, so anything acknowledged to a caller survives a crash.
 *
 * Dense indices: the first time a customer or item is seen it gets the next
 * index (0, 1, 2, ...). Indices are never reused; model factors are stored by
 * these indices.
 *
 * Thread safety: a store_t may be used from any number of threads at once.
 * LMDB serializes writers; readers never block.
 *
 * Errors: functions return 0 on success or a negative errno value:
 * -EINVAL bad argument, -ENOENT not found, -ENOMEM, -ENOSPC map full,
 * -EIO any other storage failure. strerror(-rc) describes it.
 */
#ifndef PATRON_RECSYS_STORE_H
#define PATRON_RECSYS_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* Longest customer, item or event id accepted, in bytes (they are LMDB keys). */
#define STORE_MAX_ID 256
#define STORE_MAX_TEXT 1024        /* title, category */
#define STORE_MAX_QUANTITY 1000000
#define STORE_MAX_PRICE 1e9

/* Opens (creating if needed) the store in directory dir. The directory is
 * created if missing. map_bytes is the LMDB map size; 0 picks 64 GiB (sparse).
 * On success *out owns the environment; release it with store_close. */
int store_open(const char *dir, size_t map_bytes, store_t **out);
void store_close(store_t *s); /* NULL-safe */

/* ---- items ---------------------------------------------------------------- */

typedef struct store_item {
    const char *item_id;
    const char *title;    /* may be NULL (empty) */
    const char *category; /* may be NULL (empty) */
    double price;
    double unit_cost;
    int in_stock;
} store_item_t;

/* Checks one item. Returns NULL if valid, else a static message naming the
 * field (e.g. "price: must be finite and in 0..1e9"). */
const char *store_item_invalid(const store_item_t *it);

/* Inserts or replaces items in one transaction; all or nothing. If an item is
 * invalid nothing is written, -EINVAL is returned and *bad_index and *reason say
 * which and why (both may be NULL). inserted/updated may be NULL. */
int store_upsert_items(store_t *s, const store_item_t *items, size_t n,
                       size_t *inserted, size_t *updated,
                       size_t *bad_index, const char **reason);

/* Looks up an item's dense index. -ENOENT if unknown. */
int store_item_index(store_t *s, const char *item_id, uint32_t *idx);

/* Calls cb for every item in index order. The item's strings point into
 * LMDB memory valid only during the call: copy what you keep. A nonzero
 * return from cb stops the scan and is returned. */
typedef int (*store_item_cb)(void *ctx, uint32_t idx, const store_item_t *it);
int store_scan_items(store_t *s, store_item_cb cb, void *ctx);

/* ---- events --------------------------------------------------------------- */

typedef enum store_event_type {
    STORE_EVENT_VIEW = 1,
    STORE_EVENT_CART = 2,
    STORE_EVENT_PURCHASE = 3,
    STORE_EVENT_REFUND = 4,
} store_event_type_t;

typedef struct store_event {
    const char *event_id;
    const char *customer_id;
    const char *item_id;
    int type;          /* store_event_type_t */
    int64_t time_ms;   /* unix milliseconds, > 0 */
    int32_t quantity;  /* 0 means 1; 1..STORE_MAX_QUANTITY */
    double unit_price; /* finite, 0..STORE_MAX_PRICE */
} store_event_t;

typedef enum store_outcome {
    STORE_ACCEPTED = 0,
    STORE_DUPLICATE = 1, /* event id seen before (or earlier in this batch) */
    STORE_REJECTED = 2,
} store_outcome_t;

/* Records a batch of events in one transaction. For each event i,
 * outcome[i] says what happened and, when rejected, reason[i] is a static
 * message naming the field. Valid events are stored even when others are
 * rejected. Returns 0 once everything accepted is durable; on a storage error
 * nothing of the batch is stored and the error is returned. */
int store_record_events(store_t *s, const store_event_t *ev, size_t n,
                        uint8_t *outcome, const char **reason);

/* A stored event as the trainer and recommender read it. */
typedef struct store_event_rec {
    uint32_t customer;
    uint32_t item;
    uint8_t type;
    int32_t quantity;
    int64_t time_ms;
    double unit_price;
} store_event_rec_t;

/* Calls cb for every event, grouped by customer index and in time order
 * within a customer. A nonzero return from cb stops and is returned. */
typedef int (*store_event_cb)(void *ctx, const store_event_rec_t *ev);
int store_scan_events(store_t *s, store_event_cb cb, void *ctx);

/* The same for one customer's events only (time order). */
int store_customer_events(store_t *s, uint32_t customer, store_event_cb cb,
                          void *ctx);

/* Looks up a customer's dense index. -ENOENT if the customer has no events. */
int store_customer_index(store_t *s, const char *customer_id, uint32_t *idx);

/* Number of customers and items ever registered (the next free indices). */
int store_counts(store_t *s, uint32_t *customers, uint32_t *items);

/* ---- models --------------------------------------------------------------- */

typedef struct store_model_hdr {
    uint64_t version;       /* assigned by store_publish_model */
    int64_t trained_at_ms;
    uint32_t factors;
    uint32_t n_users;       /* rows of user_f: customer indices 0..n_users-1 */
    uint32_t n_items;       /* rows of item_f: item indices 0..n_items-1 */
    uint32_t iterations;
    float reg, alpha;
    double final_loss;
} store_model_hdr_t;

/* Number of published versions kept; older ones are deleted on publish. */
#define STORE_MODELS_KEPT 3

/* Publishes a model: assigns hdr->version (previous newest + 1), writes the
 * header, user factors (n_users x factors), item factors (n_items x factors)
 * and item popularity (n_items) and makes it current, all in one transaction:
 * readers see either the old model or the whole new one. */
int store_publish_model(store_t *s, store_model_hdr_t *hdr,
                        const float *user_f, const float *item_f,
                        const float *item_pop);

/* The current (newest) model version; -ENOENT if none was published. */
int store_current_model(store_t *s, uint64_t *version);

/* Reads model version `version` (0 = current). On success the three arrays
 * are malloc'd copies owned by the caller (free them). */
int store_load_model(store_t *s, uint64_t version, store_model_hdr_t *hdr,
                     float **user_f, float **item_f, float **item_pop);

#endif
