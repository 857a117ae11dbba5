/*
 * consentstore.h - a customer's consent and preferences (consent.h), kept
 * in the store with an audit trail: every changed field is one row with
 * the time the customer made the choice, the time it was stored and its
 * source ("web-preferences", "sms-STOP", "support:agent-17"), listable and
 * exported with the customer's data, erased with them.
 *
 * Tables (store.h generic tables, records in proto/patron/store/v1/
 * consent.proto): consent[customer id] = the current choices;
 * consentlog[customer id NUL seq (big-endian u64)] = one change. An update
 * reads, applies and writes both in one store_table_atomic transaction, so
 * the trail never misses or invents a change, also under concurrent
 * updates.
 *
 * Identity (MergeCustomers, store_links.h): an update naming an id merged
 * away is stored for its survivor (resolved inside the update's
 * transaction), and the merge combines the two ids' choices, per field the
 * one made later (consent_combine), appending the merged id's audit rows to
 * the survivor's trail (consentstore_tx_merge).
 *
 * Errors: 0 or a negative errno: -EINVAL a bad argument, -EBADMSG a stored
 * record that cannot be read (store_strerror names it), or a store error.
 * Thread-safe as the store is.
 */
#ifndef PATRON_RECSYS_CONSENTSTORE_H
#define PATRON_RECSYS_CONSENTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "consent.h"
#include "custdata.h"
#include "store.h"

/* The customer's choices into *out; consent_init's (nothing recorded) and
 * *found = 0 (may be NULL) when none were ever stored. */
int consentstore_get(store_t *s, const char *customer_id, consent_t *out, int *found);

/*
 * Applies u (consent_update_invalid must pass; -EINVAL otherwise) to the
 * customer's stored choices as of time_ms (when the customer chose),
 * recorded at recorded_ms, from source (1..CONSENT_SOURCE_MAX bytes).
 * Every changed field becomes one audit row; an update that changes
 * nothing writes nothing (*changed = 0). *out gets the choices afterwards.
 * An id merged away is resolved in the transaction: the survivor's choices
 * change. Durable when it returns 0.
 */
int consentstore_update(store_t *s, const char *customer_id, const consent_update_t *u,
                        int64_t time_ms, int64_t recorded_ms, const char *source,
                        consent_t *out, size_t *changed);

/* One audit row (CUSTDATA_CONSENT_CHANGE); strings valid during the
 * callback only. */
typedef struct consentstore_change {
    uint64_t seq;          /* 1, 2, ... per customer, in the order stored */
    int64_t time_ms;       /* when the customer made the choice */
    int64_t recorded_ms;   /* when it was stored */
    const char *source;
    const char *field;
    const char *old_value;
    const char *new_value;
    const char *merged_from; /* "" or the id it was recorded under, merged
                                into this customer since */
} consentstore_change_t;

/* Calls cb for the customer's audit rows in the order stored (seq): the
 * rows of ids merged into the customer follow the rows stored before the
 * merge, keeping their times. A nonzero return from cb stops and is
 * returned. */
typedef int (*consentstore_change_fn)(void *ctx, const consentstore_change_t *c);
int consentstore_scan_changes(store_t *s, const char *customer_id,
                              consentstore_change_fn cb, void *ctx);

/*
 * Whether the stored choices of customer_id allow channel (-1: no channel,
 * the purpose alone) for purpose, unset ones counting as unset_means
 * (consent_allows). *ok gets 1 or 0.
 */
int consentstore_allows(store_t *s, const char *customer_id, int channel,
                        consent_purpose_t purpose, consent_state_t unset_means, int *ok);

/* Inside tx: deletes the customer's choices and audit rows; adds the count
 * to out->rows. */
int consentstore_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                                   custdata_erased_t *out);

/*
 * Inside tx, MergeCustomers' part for consent (from_id into into_id, both
 * resolved, neither merged away): into_id's choices become the
 * combination of both, per field the one made later (consent_combine, the
 * times read from each id's audit rows); every audit row of from_id is
 * appended to into_id's trail with the next sequence numbers, its times,
 * source and values unchanged and merged_from naming where it was recorded
 * (kept from an earlier merge), so the survivor's trail lists every change
 * of the person; from_id then holds nothing. Adds the rows moved to
 * out->rows. A from_id without consent is nothing to do.
 */
int consentstore_tx_merge(store_tx_t *tx, const char *from_id, const char *into_id,
                          custdata_merged_t *out);

/* Consent as a custdata owner: erase and merge as above; export emits the
 * choices (CUSTDATA_CONSENT, a consent_t) when stored, then every audit
 * row (CUSTDATA_CONSENT_CHANGE, a consentstore_change_t). */
custdata_owner_t consentstore_custdata_owner(void);

#endif
