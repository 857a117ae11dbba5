/*
 * customers_merge.h - identity: MergeCustomers over the registry of
 * customer-data owners (custdata.h), the way Braze merges an alias into a
 * profile and Recombee merges users: an anonymous visitor (or a device, or
 * a second account of the same person) becomes part of the account it
 * logged in as.
 *
 * One store transaction resolves both ids through earlier merges, runs
 * every owner's merge (the store: events, points ledger, attributes;
 * coupons: the coupon history; contacts: the contact log, so the fatigue
 * caps count both ids' messages; consent: per field the choice made later,
 * a withdrawal after a grant withdrawing whichever id recorded it, and the
 * merged id's audit rows appended to the survivor's trail: see
 * consentstore_tx_merge) and records the link, so a crash leaves the
 * two customers either apart or merged, never half merged. From then on
 * the merged-away id is a link (store_links.h): events sent with it are
 * stored as the survivor's, reads answer for the survivor, erasing either
 * erases the person (customers_erase.h).
 *
 * Idempotent: a retry with the same request id answers as the first call
 * and changes nothing; merging two ids that already resolve to one
 * customer (A into B twice, or A into C after A -> B -> C) changes nothing
 * and says so. A merge is not undone: the moved rows keep no trace of
 * where they came from.
 *
 * Rows an owner does not merge (the offer log, redemptions, velocity
 * counters, experiment exposures and pins: logs of what that id was
 * shown or did) stay under the merged-away id and are erased with the
 * person.
 *
 * Threads: any; writers are serialized by the store.
 */
#ifndef PATRON_RECSYS_CUSTOMERS_MERGE_H
#define PATRON_RECSYS_CUSTOMERS_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "custdata.h"
#include "store.h"

typedef struct customers_merge_result {
    char survivor[STORE_MAX_ID + 1];  /* the id everything lives under now */
    uint64_t events_moved, rows_moved;
    int already_merged;               /* both ids were one customer already */
    int replayed;                     /* a retried request id: the first answer */
    const char *missing;              /* -ENOENT: "source_customer_id" or
                                         "target_customer_id" */
} customers_merge_result_t;

/*
 * Merges source_id into target_id at now_ms (unix ms) with every owner's
 * merge (owners without one keep their rows under source_id). Both ids are
 * resolved first (an id merged away stands for its survivor), and both
 * must be known: events or attributes stored, or rows an owner holds
 * (custdata_owner_t.holds: preferences, contacts). request_id (NULL or "": none)
 * is an idempotency key kept until the person is erased.
 *
 * Returns 0 with *out filled; -EINVAL for an empty or too long id, or the
 * same id twice; -ENOENT when an id is unknown (out->missing names which);
 * -EEXIST when request_id was used for another pair; or an owner's error
 * (*failed, may be NULL, names it) with nothing written.
 */
int customers_merge(store_t *s, const custdata_owner_t *owners, size_t n,
                    const char *source_id, const char *target_id,
                    const char *request_id, int64_t now_ms,
                    customers_merge_result_t *out, const char **failed);

#endif
