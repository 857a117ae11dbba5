/*
 * customers_erase.h - right to erasure and "export my data", over the
 * registry of customer-data owners (custdata.h).
 *
 * The caller passes the owners (assembled where the modules are wired
 * together: server/rpc/app.c, tests); this module knows none of them, so
 * coupons, experiments and memory-only owners above it can all take part.
 */
#ifndef PATRON_RECSYS_CUSTOMERS_ERASE_H
#define PATRON_RECSYS_CUSTOMERS_ERASE_H

#include <stddef.h>

#include "custdata.h"
#include "store.h"

/*
 * Erases customer_id everywhere: every owner's erase runs inside ONE store
 * transaction (all of it is durable when this returns 0, or none of it is
 * written), then, after the commit, every owner's forget clears what it
 * holds in memory. *out (may be NULL) gets what was removed.
 *
 * An id names a person: after MergeCustomers (customers_merge.h) the
 * survivor and every id merged into it are one, so erasing any of them
 * (the survivor, or an id merged away) erases all of them, links and
 * merge requests included; out->linked counts the other ids, and
 * out->had_index / out->index are the survivor's.
 * Returns 0; -EINVAL for an empty or too long id (STORE_MAX_ID); -ENOENT
 * when no owner kept anything durable about the customer (in-memory state
 * is forgotten anyway); or the first owner error, with *failed (may be
 * NULL) set to that owner's name.
 *
 * Cost: the offer log, redemptions, velocity rows and experiment tables are
 * not indexed by customer, so owners scan them inside the transaction;
 * other writers wait that long (erasure is rare; the scans read, and only
 * the customer's rows are written).
 */
int customers_erase(store_t *s, const custdata_owner_t *owners, size_t n,
                    const char *customer_id, custdata_erased_t *out,
                    const char **failed);

/*
 * Exports customer_id: calls every owner's export_rows with emit / sink, in
 * owner order, for every id of the person (as erasure: the survivor of
 * merges first, then each id merged into it, each announced by a
 * CUSTDATA_LINKED_ID row unless it is customer_id itself). Each owner reads on its own, so rows written concurrently
 * may or may not appear. Returns 0; -EINVAL for a bad id; -ENOENT when no
 * owner emitted a row; the first nonzero emit return; or an owner's error
 * with *failed (may be NULL) naming the owner.
 */
int customers_export(store_t *s, const custdata_owner_t *owners, size_t n,
                     const char *customer_id, custdata_emit_fn emit, void *sink,
                     const char **failed);

/*
 * Retention over the registry: runs every owner's retain with the same
 * horizon (rows older than before_ms), one owner after another, each in
 * its own transactions; *removed gets the total and per_owner (n entries,
 * may be NULL) each owner's count (0 for owners without retain). Returns 0
 * or the first error (*failed names the owner; the owners before it have
 * deleted their rows).
 */
int customers_retain(store_t *s, const custdata_owner_t *owners, size_t n,
                     int64_t before_ms, uint64_t *removed, uint64_t *per_owner,
                     const char **failed);

#endif
