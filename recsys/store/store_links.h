/*
 * store_links.h - customer identity: the links MergeCustomers leaves from
 * a merged-away id (an anonymous visitor, a device, a second account) to
 * the id that survived, and the store's part of a merge.
 *
 * Layout (generic tables, so no format change: a store without links
 * simply has none):
 *   clink   [merged id]   -> CustomerLink { survivor, merged_ms }
 *   clinked [survivor id] -> LinkedIds { merged ids }   (the reverse)
 *   cmerge  [request id]  -> MergeRequest (a retry's answer)
 * Links are kept one hop long: when a survivor is itself merged away,
 * every id linked to it is relinked to the new survivor in the same
 * transaction, so resolving is one lookup and chains never form.
 *
 * Every write that names a customer and can race a merge resolves inside
 * its own transaction (store_record_events, store_set_attrs; a points
 * redemption refuses an id merged away meanwhile), so nothing acknowledged
 * after a merge lands under the merged-away id.
 *
 * Threads: as the store (any thread). Errors: 0 or a negative errno as in
 * store.h; -EBADMSG for an unreadable link record (store_strerror names it).
 */
#ifndef PATRON_RECSYS_STORE_LINKS_H
#define PATRON_RECSYS_STORE_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "custdata.h"
#include "store.h"

/* Resolves customer_id: out (STORE_MAX_ID + 1 bytes) gets the surviving id
 * (customer_id itself when it was never merged away). Returns 1 when
 * customer_id was merged away, 0 when not, or a store error (then out
 * holds customer_id). -EINVAL for an id that is not 1..STORE_MAX_ID
 * bytes. */
int store_resolve_customer(store_t *s, const char *customer_id, char *out);

/* The same inside a store_table_atomic transaction. */
int store_tx_resolve_customer(store_tx_t *tx, const char *customer_id, char *out);

/* Inside tx: 1 when a and b are one customer (equal, or resolving to the
 * same survivor), 0 when not, or a store error. For replays of requests
 * logged under an id merged away since. */
int store_tx_same_customer(store_tx_t *tx, const char *a, const char *b);

/* Inside tx: 1 when the store holds events or attributes for customer_id
 * (what GetProfile answers for), 0 when not, or a store error. */
int store_tx_customer_known(store_tx_t *tx, const char *customer_id);

/*
 * Inside tx, the store's part of merging from_id into into_id (both
 * resolved, different, neither merged away):
 *  - events: re-keyed under into_id's dense index (made if into_id has
 *    none) in time order, each with a new arrival sequence, so a served
 *    model trained before the merge counts them as unseen and folds the
 *    combined history in (recommend.h); event ids keep their idempotency;
 *  - the points ledger: every redemption moves to into_id (one redemption
 *    id on both: the two amounts are summed under it), so the balance is
 *    the sum of both;
 *  - attributes: into_id's, each unknown field taken from from_id's (the
 *    earlier known signup date);
 *  - the links: from_id -> into_id, and every id linked to from_id
 *    relinked to into_id.
 * from_id keeps its dense index (its factor row in stored models, never
 * reused) until the person is erased. Adds to *out. Returns 0, -EINVAL or
 * a store error.
 */
int store_tx_merge_customer(store_tx_t *tx, const char *from_id, const char *into_id,
                            int64_t now_ms, custdata_merged_t *out);

/* Inside tx: calls cb for every id merged into survivor (in merge order).
 * Returns 0, cb's nonzero return, or a store error. */
typedef int (*store_linked_fn)(void *ctx, const char *merged_id);
int store_tx_linked_ids(store_tx_t *tx, const char *survivor, store_linked_fn cb,
                        void *ctx);

/* The same in a read transaction of its own; cb runs inside it and must
 * not call the store (copy the ids). */
int store_linked_ids(store_t *s, const char *survivor, store_linked_fn cb, void *ctx);

/* Inside tx: removes every link row naming customer_id (its own link, the
 * reverse list it heads or appears in) and the merge requests naming it;
 * adds the rows to *rows. Part of store_tx_erase_customer. */
int store_tx_erase_links(store_tx_t *tx, const char *customer_id, uint64_t *rows);

/* A MergeCustomers request as applied (tables cmerge). */
typedef struct store_merge_request {
    char source[STORE_MAX_ID + 1];
    char target[STORE_MAX_ID + 1];
    char survivor[STORE_MAX_ID + 1];
    uint64_t events_moved, rows_moved;
    int already_merged;
    int64_t merged_ms;
} store_merge_request_t;

/* Inside tx: the request recorded under request_id (-ENOENT if none), and
 * recording one. */
int store_tx_merge_request_get(store_tx_t *tx, const char *request_id,
                               store_merge_request_t *out);
int store_tx_merge_request_put(store_tx_t *tx, const char *request_id,
                               const store_merge_request_t *r);

#endif
