/*
 * contactstore.h - the contacts sent to customers, kept durably, and the
 * contact policy (contact.h) applied to them: the storage shell any sender
 * (the CheckContact / RecordContact RPCs, trigger delivery, campaign
 * audiences) goes through.
 *
 * Tables (records in proto/patron/store/v1/consent.proto):
 *   contacts[customer id NUL message id] = the contact (time, channel, kind);
 *   contactids[message id] = 8-byte big-endian time, then the customer id:
 *     message ids are unique across customers, and retention finds the
 *     index rows by time.
 * Recording is idempotent by message id: the same id again (same customer)
 * changes nothing and says so; the same id for another customer is -EEXIST.
 * An id merged away (MergeCustomers, store_links.h) records for its
 * survivor, resolved in the recording's transaction; the merge moves the
 * merged id's contacts to the survivor (contactstore_tx_merge), so they
 * count toward the survivor's caps and their message ids stay duplicates.
 *
 * Errors: 0 or a negative errno: -EINVAL a bad argument, -EEXIST (above),
 * -EBADMSG an unreadable record, or a store error. Thread-safe as the store
 * is; the zone cache is thread-safe.
 */
#ifndef PATRON_RECSYS_CONTACTSTORE_H
#define PATRON_RECSYS_CONTACTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "consent.h"
#include "contact.h"
#include "custdata.h"
#include "store.h"
#include "tz.h"

#define CONTACTSTORE_MESSAGE_ID_MAX 128  /* bytes */

/* One stored contact (CUSTDATA_CONTACT); message_id valid during the
 * callback only. */
typedef struct contactstore_contact {
    const char *message_id;
    int64_t time_ms;       /* when it was sent */
    int64_t recorded_ms;   /* when RecordContact stored it */
    int channel;           /* consent_channel_t */
    int kind;              /* contact_kind_t */
} contactstore_contact_t;

/* Records c for customer_id (message id 1..CONTACTSTORE_MESSAGE_ID_MAX
 * printable bytes, channel and kind in range, time_ms > 0). *duplicate
 * (may be NULL) is 1 when the message id was recorded before for this
 * customer (nothing written; *stored, may be NULL, gets the first
 * recording's time, channel and kind). Durable when it returns 0. */
int contactstore_record(store_t *s, const char *customer_id,
                        const contactstore_contact_t *c, int *duplicate,
                        contactstore_contact_t *stored);

/* Inside tx: records c as contactstore_record does (same checks, same
 * idempotency by message id), for a sender whose own write must commit
 * with its contact (a trigger's log row). */
int contactstore_tx_record(store_tx_t *tx, const char *customer_id,
                           const contactstore_contact_t *c, int *duplicate);

/* Calls cb for each of the customer's stored contacts (message id order).
 * A nonzero return from cb stops and is returned. */
typedef int (*contactstore_fn)(void *ctx, const contactstore_contact_t *c);
int contactstore_scan(store_t *s, const char *customer_id, contactstore_fn cb, void *ctx);

/* The customer's contacts sent after since_ms (at most
 * CONTACT_MAX_RECENT, the newest), as contact_decide reads them: *out is
 * malloc'd (caller frees; NULL when none), *n its length. */
int contactstore_recent(store_t *s, const char *customer_id, int64_t since_ms,
                        contact_sent_t **out, size_t *n);

/* What a policy check needs besides the request; borrowed. */
typedef struct contactstore_env {
    store_t *store;
    const contact_config_t *cfg;
    tz_cache_t *zones;
} contactstore_env_t;

/*
 * The policy for customer_id on channel for kind at now_ms: reads their
 * consent (consentstore.h), the contacts that can matter (the last week,
 * or the minimum gap if longer) and their zone (theirs, else the
 * operator's; a stored zone that no longer loads is -ENOENT), and calls
 * contact_decide. *personalization (may be NULL) gets whether the
 * customer allows personalized content (the message may then carry
 * recommendations from their history).
 */
int contactstore_check(const contactstore_env_t *env, const char *customer_id,
                       int channel, int kind, int64_t now_ms, contact_decision_t *out,
                       int *personalization);

/*
 * The channel to contact customer_id on for kind at now_ms, for a sender
 * free to choose it (trigger delivery): the candidates are the customer's
 * preferred channel, then email, sms, push, in_app; the first the policy
 * allows is chosen (*channel, out->allowed 1). When none allows, *channel
 * and *out are the refusal of the first candidate with channel and
 * marketing consent (else of the preferred channel), and
 * out->next_allowed_ms is the earliest instant any candidate allows (0:
 * none ever will under the current consent and settings). Reads consent,
 * contacts and zone once.
 */
int contactstore_choose(const contactstore_env_t *env, const char *customer_id, int kind,
                        int64_t now_ms, int *channel, contact_decision_t *out);

/* Inside tx: deletes the customer's contacts and their message ids; adds
 * the count to out->rows. */
int contactstore_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                                   custdata_erased_t *out);

/* Deletes contacts (and their message ids) sent before before_ms:
 * retention (patron compact). *removed gets the rows deleted. */
int contactstore_prune(store_t *s, int64_t before_ms, uint64_t *removed);

/* Inside tx, MergeCustomers' part for contacts (from_id into into_id, both
 * resolved, neither merged away): every contact of from_id moves to
 * into_id, its message id's index row naming into_id; adds the count to
 * out->rows. Message ids are unique across customers, so the two ids'
 * contacts never collide and a merge of an id without contacts (a repeated
 * merge) moves nothing. */
int contactstore_tx_merge(store_tx_t *tx, const char *from_id, const char *into_id,
                          custdata_merged_t *out);

/* Contacts as a custdata owner: erase, merge, export (CUSTDATA_CONTACT
 * rows) and retain as above. */
custdata_owner_t contactstore_custdata_owner(void);

#endif
