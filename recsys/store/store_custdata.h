/*
 * store_custdata.h - the store's part of the customer-data registry
 * (custdata.h): what it keeps about a customer (events and their
 * idempotency keys, the id <-> dense index mapping, attributes, the points
 * ledger, the customer's factor row in every stored model), erased inside
 * a caller's transaction and exported through store reads; plus the debug
 * iterator the erasure test checks every database with.
 */
#ifndef PATRON_RECSYS_STORE_CUSTDATA_H
#define PATRON_RECSYS_STORE_CUSTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "custdata.h"
#include "store.h"

/* An exported event (CUSTDATA_EVENT); strings valid during the emit only. */
typedef struct store_export_event {
    const char *event_id;
    const char *item_id;   /* "" for a category's not_interested */
    int type;              /* store_event_type_t */
    int64_t time_ms;
    int32_t quantity;
    double unit_price;
    const char *category;  /* "" unless a not_interested in a category */
} store_export_event_t;

/* An exported points ledger entry (CUSTDATA_POINTS). */
typedef struct store_export_points {
    const char *redemption_id;
    int64_t points;
    int64_t time_ms;       /* when redeemed (unix ms); 0: unknown, redeemed
                              before times were kept */
    const store_points_entry_t *entry; /* the whole entry: an adjustment's
                                          delta, reason and operator, what a
                                          reward issued */
} store_export_points_t;

/*
 * Inside tx: deletes customer_id's events and their idempotency keys,
 * attributes, points ledger and id mappings, and zeroes the customer's row
 * of the user factors in every stored model version. Adds to *out (rows,
 * events, the dense index). Returns 0 (also when the store knew nothing of
 * the customer: out->rows unchanged), -EINVAL or a store error.
 */
int store_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                            custdata_erased_t *out);

/* The store as a custdata owner: erase = store_tx_erase_customer, export =
 * events (time order, with event and item ids), attributes, points ledger. */
custdata_owner_t store_custdata_owner(void);

/* Calls cb for every entry of customer_id's points ledger (redemption id
 * order). Returns 0, the first nonzero cb return, -EINVAL or a store error. */
typedef int (*store_points_fn)(void *ctx, const store_export_points_t *p);
int store_scan_points(store_t *s, const char *customer_id, store_points_fn cb, void *ctx);

/*
 * Debugging and tests: calls visit for every key/value of every LMDB
 * database of the store (db = its name; the named databases in name order,
 * each in key order), in one read transaction. Data valid during the call.
 * A nonzero return stops and is returned; -EIO when the main database
 * holds a key that is not a database. Not concurrently with another
 * store_debug_scan_all or store_open in the same process (it opens
 * database handles, which LMDB serializes by process).
 */
typedef int (*store_debug_visit_fn)(void *ctx, const char *db, const void *key,
                                    size_t klen, const void *val, size_t vlen);
int store_debug_scan_all(store_t *s, store_debug_visit_fn visit, void *ctx);

#endif
