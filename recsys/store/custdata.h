/*
 * custdata.h - who keeps data about a customer: the registry that erasure
 * (customers_erase) and export (customers_export) walk.
 *
 * Every module that stores rows keyed by, or naming, a customer describes
 * itself with one custdata_owner_t: how to erase what it keeps inside the
 * erasure's store transaction, how to export it, and (for memory) how to
 * forget it once the erasure has committed. The list of owners is assembled
 * where the modules are wired together (server/rpc/app.c, tests), so this
 * header names none of them and every module can provide an owner without
 * the dependency direction changing: store <- customers <- coupons, store
 * <- experiments, and the list above them all.
 *
 * A module that adds a table naming customers adds (or extends) its owner:
 * tests/test_erasure.c scans every table after an erasure and fails on any
 * trace left behind.
 */
#ifndef PATRON_RECSYS_CUSTDATA_H
#define PATRON_RECSYS_CUSTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The kinds of exported rows; each names the type `row` points to in the
 * emit call (declared by the module that owns it). */
typedef enum custdata_kind {
    CUSTDATA_EVENT = 1,         /* store_export_event_t     (store_custdata.h) */
    CUSTDATA_ATTRS = 2,         /* store_attrs_t            (store.h) */
    CUSTDATA_POINTS = 3,        /* store_export_points_t    (store_custdata.h) */
    CUSTDATA_COUPON_HISTORY = 4,/* couponstore_history_t    (couponstore.h) */
    CUSTDATA_COUPON_OFFER = 5,  /* couponstore_offer_t      (couponstore.h) */
    CUSTDATA_COUPON_REDEMPTION = 6, /* couponstore_redemption_t (couponstore.h) */
    CUSTDATA_EXPOSURE = 7,      /* expstore_customer_t      (exp_erase.h) */
    CUSTDATA_EXPERIMENT_PIN = 8,/* expstore_pin_t           (exp_erase.h) */
    CUSTDATA_LINKED_ID = 9,     /* const char: another id of the person
                                   (MergeCustomers), emitted by
                                   customers_export before that id's rows */
    CUSTDATA_CONSENT = 10,      /* consent_t                (consent.h) */
    CUSTDATA_CONSENT_CHANGE = 11, /* consentstore_change_t  (consentstore.h) */
    CUSTDATA_CONTACT = 12,      /* contactstore_contact_t   (contactstore.h) */
    CUSTDATA_TRIGGER = 13,      /* triggers_record_t        (triggers.h) */
    CUSTDATA_REFERRAL_SIGNUP = 14, /* referral_export_signup_t (referral_store.h) */
    CUSTDATA_REFERRED = 15,     /* const char: a friend the customer referred */
} custdata_kind_t;

/* Receives one exported row; row and everything it points to are valid
 * during the call only. A nonzero return stops the export and is returned. */
typedef int (*custdata_emit_fn)(void *sink, custdata_kind_t kind, const void *row);

/* What an erasure removed, summed over the owners. */
typedef struct custdata_erased {
    uint64_t rows;         /* rows deleted or rewritten: 0 = customer unknown */
    uint64_t events;       /* of which stored events */
    int had_index;         /* the customer had a dense index (factor row) */
    uint32_t index;        /* ... this one: what served models must patch */
    uint32_t linked;       /* customers_erase: other ids of the person
                              (merged into it) erased with it */
} custdata_erased_t;

/* What a merge moved, summed over the owners. */
typedef struct custdata_merged {
    uint64_t rows;         /* rows moved, combined or rewritten */
    uint64_t events;       /* of which stored events */
} custdata_merged_t;

typedef struct custdata_owner {
    const char *name;      /* for errors: "coupons" */
    void *ctx;             /* passed to every function below */

    /* Deletes (or rewrites without the customer) every row the owner keeps
     * about customer_id, inside tx, and adds what it did to *out. Returns 0
     * or a store error; any error aborts the whole erasure. NULL: the owner
     * keeps nothing durable. */
    int (*erase)(void *ctx, store_tx_t *tx, const char *customer_id,
                 custdata_erased_t *out);

    /* Merge (customers_merge.h): moves what the owner keeps about from_id
     * to into_id inside tx at now_ms (unix ms), combining with what into_id
     * already has, and
     * adds what it did to *out. Neither id is merged away when it is
     * called; afterwards from_id must hold nothing the owner would answer
     * for. Returns 0 or a store error; any error aborts the whole merge.
     * NULL: the owner's rows stay under from_id (a log of what that id
     * did), erased with the person (customers_erase follows the links). */
    int (*merge)(void *ctx, store_tx_t *tx, const char *from_id, const char *into_id,
                 int64_t now_ms, custdata_merged_t *out);

    /* Merge: 1 when the owner keeps rows it would merge about customer_id
     * (so a merge may name an id known only by them: a visitor who set
     * preferences before any event), 0 when not, or a store error. NULL:
     * the owner makes no id known. */
    int (*holds)(void *ctx, store_tx_t *tx, const char *customer_id);

    /* Emits every row the owner keeps about customer_id through emit(sink,
     * ...), reading with the owner's public read functions. Returns 0, the
     * first nonzero emit return, or a store error. NULL: nothing to export. */
    int (*export_rows)(void *ctx, store_t *s, const char *customer_id,
                       custdata_emit_fn emit, void *sink);

    /* Retention: deletes the owner's customer rows older than before_ms
     * (*removed gets the count). NULL: the owner keeps no time-bounded
     * data. */
    int (*retain)(void *ctx, store_t *s, int64_t before_ms, uint64_t *removed);
    /* What retain deletes, for operators (`patron compact` prints it):
     * "coupon offer log rows". NULL when retain is. */
    const char *retain_what;

    /* In memory: forgets customer_id after the erasure committed (erased
     * says what was removed, e.g. the factor row to patch). Must not fail.
     * NULL: the owner keeps nothing in memory. */
    void (*forget)(void *ctx, const char *customer_id, const custdata_erased_t *erased);
} custdata_owner_t;

#endif
