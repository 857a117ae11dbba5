/*
 * fuzz_records.c - libFuzzer driver for the decoders of stored records: a
 * damaged or hostile store (a disk error, a restored backup from elsewhere,
 * a newer release's records) must make the store say which record is bad,
 * never crash. The first input byte picks the kind of record; for the kinds
 * whose decoder reads the key too, the next byte is the key's length.
 *
 * Kinds: the coupon tables (couponstore_rec_decode: coupon, budget,
 * history, velocity, offer, redemption, uplift model), experiment
 * definitions (expcodec_decode), the store's own events, model
 * headers, customer attributes and points ledger (store_internal.h), and
 * the trigger tables (triggers_internal.h): the trigger log, the dedup
 * marks (read only for existence: the generic record path), what the last
 * evaluation saw of a customer, and price drops; catalog items with their
 * loyalty terms (store_item_decode: member prices are read into a fixed
 * arena).
 *
 * What must hold beyond "no crash, no leak, no undefined behaviour": a
 * record is either decoded or refused with -EBADMSG and a message naming
 * its table; a decoded record, encoded again where the kind has an encoder,
 * decodes to the same bytes once more (what is read is what is written).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "couponstore_internal.h"
#include "expcodec.h"
#include "fuzz_common.h"
#include "store_internal.h"
#include "store_record.h"
#include "triggers_internal.h"
#include "uplift.h"
#include "patron/store/v1/triggers.pb-c.h"

typedef struct coupon_kind {
    const couponstore_rec_t *rec;
    size_t row_size;
} coupon_kind_t;

static const coupon_kind_t coupon_kinds[] = {
    { &CS_COUPON, sizeof(coupon_t) },
    { &CS_BUDGET, sizeof(couponstore_budget_t) },
    { &CS_HISTORY, sizeof(couponstore_history_t) },
    { &CS_VELOCITY, sizeof(vel_row_t) },
    { &CS_OFFER, sizeof(couponstore_offer_t) },
    { &CS_REDEEM, sizeof(redeem_row_t) },
    { &CS_MODEL, sizeof(uplift_model_t) },
    { &CS_BOOSTED, sizeof(uplift_gbt_tl_t) },
};
#define N_COUPON_KINDS (sizeof coupon_kinds / sizeof coupon_kinds[0])

enum {
    K_EXPERIMENT = N_COUPON_KINDS, K_EVENT, K_MODEL_HEADER, K_ATTRS, K_POINTS,
    K_TRIGGER_LOG, K_TRIGGER_MARK, K_TRIGGER_STATE, K_PRICE_DROP, K_ITEM, K_COUNT
};

static const char *const names[K_COUNT] = {
    "coupon", "budget", "history", "velocity", "offer", "redemption", "uplift_model",
    "uplift_boosted",
    "experiment", "event", "model_header", "attrs", "points",
    "trigger_log", "trigger_mark", "trigger_state", "price_drop", "item",
};

const char *const *fuzz_targets(size_t *n)
{
    *n = K_COUNT;
    return names;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

/* A refused record names what it was. */
static void check_refusal(int rc, const char *kind, const char *table)
{
    FUZZ_ASSERT(rc == -EBADMSG || rc == -ENOMEM, "%s: decode returned %d", kind, rc);
    if (rc == -EBADMSG && table)
        FUZZ_ASSERT(strstr(store_strerror(-EBADMSG), table) != NULL,
                    "%s: the message does not name table %s: %s", kind, table,
                    store_strerror(-EBADMSG));
}

static void same_bytes(const char *kind, const void *a, size_t la, const void *b, size_t lb)
{
    FUZZ_ASSERT(la == lb && memcmp(a, b, la) == 0,
                "%s: a decoded record re-encodes differently (%zu vs %zu bytes)", kind,
                la, lb);
}

static int coupon_record(const coupon_kind_t *k, const char *kind, const uint8_t *b,
                         size_t len)
{
    void *row = calloc(1, k->row_size), *again = calloc(1, k->row_size);
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    int rc;

    FUZZ_ASSERT(row && again, "out of memory");
    rc = couponstore_rec_decode(k->rec, "key", 3, b, len, row);
    if (rc) {
        check_refusal(rc, kind, k->rec->table);
    } else {
        FUZZ_ASSERT(k->rec->encode(row, &b1, &l1) == 0, "%s: cannot re-encode", kind);
        FUZZ_ASSERT(couponstore_rec_decode(k->rec, "key", 3, b1, l1, again) == 0,
                    "%s: the re-encoded record is refused: %s", kind,
                    store_strerror(-EBADMSG));
        FUZZ_ASSERT(k->rec->encode(again, &b2, &l2) == 0, "%s: cannot re-encode", kind);
        same_bytes(kind, b1, l1, b2, l2);
    }
    free(b1);
    free(b2);
    free(row);
    free(again);
    return rc == 0;
}

static int experiment_record(const uint8_t *b, size_t len)
{
    experiment_t e, again;
    unsigned char *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    int rc = expcodec_decode(b, len, &e);

    if (rc) {
        check_refusal(rc, "experiment", NULL);
        return 0;
    }
    FUZZ_ASSERT(expcodec_encode(&e, &b1, &l1) == 0, "experiment: cannot re-encode");
    FUZZ_ASSERT(expcodec_decode(b1, l1, &again) == 0,
                "experiment: the re-encoded record is refused");
    FUZZ_ASSERT(expcodec_encode(&again, &b2, &l2) == 0, "experiment: cannot re-encode");
    same_bytes("experiment", b1, l1, b2, l2);
    free((void *)e.forced);
    free((void *)again.forced);
    free(b1);
    free(b2);
    return 1;
}

/* Key and value: a length byte (mod 64), the key, the value. */
static void split_key(const uint8_t *b, size_t len, MDB_val *k, MDB_val *v)
{
    size_t klen = len ? b[0] % 64u : 0;
    if (len)
        b++, len--;
    if (klen > len)
        klen = len;
    *k = (MDB_val){ klen, (void *)b };
    *v = (MDB_val){ len - klen, (void *)(b + klen) };
}

static int store_record(int kind, const uint8_t *b, size_t len)
{
    MDB_val k, v;
    int rc;

    split_key(b, len, &k, &v);
    switch (kind) {
    case K_EVENT: {
        store_event_rec_t r;
        rc = store_event_decode(&k, &v, &r);
        /* the events table's rows are fixed layout: refused as -EIO */
        FUZZ_ASSERT(rc == 0 || rc == -EIO || rc == -EBADMSG, "event: decode returned %d", rc);
        return rc == 0;
    }
    case K_MODEL_HEADER: {
        store_model_hdr_t hd, again;
        void *b1 = NULL, *b2 = NULL;
        size_t l1 = 0, l2 = 0;
        MDB_val v1;
        if ((rc = store_model_hdr_decode(&k, &v, &hd)) != 0) {
            check_refusal(rc, "model_header", "models");
            return 0;
        }
        FUZZ_ASSERT(store_model_hdr_encode(&hd, &b1, &l1) == 0, "model_header: re-encode");
        v1 = (MDB_val){ l1, b1 };
        FUZZ_ASSERT(store_model_hdr_decode(&k, &v1, &again) == 0,
                    "model_header: the re-encoded record is refused");
        FUZZ_ASSERT(store_model_hdr_encode(&again, &b2, &l2) == 0, "model_header: re-encode");
        same_bytes("model_header", b1, l1, b2, l2);
        free(b1);
        free(b2);
        return 1;
    }
    case K_ATTRS: {
        store_attrs_t a;
        if ((rc = store_attrs_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &a)) != 0)
            check_refusal(rc, "attrs", "attrs");
        return rc == 0;
    }
    default: {
        store_points_entry_t e;
        unsigned char buf[STORE_POINTS_REC_MAX];
        MDB_val v1;
        if ((rc = store_points_decode(&k, &v, &e)) != 0) {
            check_refusal(rc, "points", "points");
            return 0;
        }
        v1 = (MDB_val){ store_points_encode(&e, buf), buf };
        FUZZ_ASSERT(store_points_decode(&k, &v1, &e) == 0,
                    "points: the re-encoded record is refused");
        return 1;
    }
    }
}

/* A decoded trigger holds only what fits: NUL-terminated strings, lists
 * within the build's limits, a channel or -1. */
static void check_trigger(const triggers_record_t *t)
{
    FUZZ_ASSERT(t->n_items <= TRIGGER_MAX_ITEMS && t->n_recommended <= TRIGGER_MAX_RECOMMEND_K,
                "trigger_log: %zu items, %zu recommended", t->n_items, t->n_recommended);
    FUZZ_ASSERT(t->channel >= -1 && t->channel < CONSENT_N_CHANNELS,
                "trigger_log: channel %d", t->channel);
    FUZZ_ASSERT(memchr(t->customer_id, 0, sizeof t->customer_id) &&
                    memchr(t->rule, 0, sizeof t->rule) && memchr(t->key, 0, sizeof t->key) &&
                    memchr(t->reason, 0, sizeof t->reason) &&
                    memchr(t->message_id, 0, sizeof t->message_id),
                "trigger_log: a string without its NUL");
    for (size_t i = 0; i < t->n_items; i++)
        FUZZ_ASSERT(memchr(t->items[i], 0, TRIGGERS_ITEM_ID_MAX), "trigger_log: item %zu", i);
}

static int trigger_log(const MDB_val *k, const MDB_val *v)
{
    triggers_record_t *t = malloc(sizeof *t);
    int rc;
    FUZZ_ASSERT(t, "out of memory");
    rc = triggers_log_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, t);
    if (rc)
        check_refusal(rc, "trigger_log", TRIGGERS_T_LOG);
    else
        check_trigger(t);
    free(t);
    return rc == 0;
}

/* The generic record path: unpacked, packed again, the same bytes. */
static int trigger_mark(const MDB_val *k, const MDB_val *v)
{
    ProtobufCMessage *m = NULL, *again = NULL;
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    int rc = store_record_unpack(&patron__store__v1__trigger_mark__descriptor,
                                 TRIGGERS_T_MARK, k->mv_data, k->mv_size, v->mv_data,
                                 v->mv_size, &m);
    if (rc) {
        check_refusal(rc, "trigger_mark", TRIGGERS_T_MARK);
        return 0;
    }
    FUZZ_ASSERT(store_record_pack(m, &b1, &l1) == 0, "trigger_mark: re-encode");
    FUZZ_ASSERT(store_record_unpack(&patron__store__v1__trigger_mark__descriptor,
                                    TRIGGERS_T_MARK, k->mv_data, k->mv_size, b1, l1,
                                    &again) == 0,
                "trigger_mark: the re-encoded record is refused");
    FUZZ_ASSERT(store_record_pack(again, &b2, &l2) == 0, "trigger_mark: re-encode");
    same_bytes("trigger_mark", b1, l1, b2, l2);
    store_record_free(m);
    store_record_free(again);
    free(b1);
    free(b2);
    return 1;
}

static int trigger_state(const MDB_val *k, const MDB_val *v)
{
    trigger_state_t st, again;
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    int rc = triggers_state_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, &st);
    if (rc) {
        check_refusal(rc, "trigger_state", TRIGGERS_T_STATE);
        return 0;
    }
    FUZZ_ASSERT(st.tier >= -1 && st.tier < PROFILE_MAX_TIERS, "trigger_state: tier %d",
                (int)st.tier);
    FUZZ_ASSERT(triggers_state_encode(&st, &b1, &l1) == 0, "trigger_state: re-encode");
    FUZZ_ASSERT(triggers_state_decode(k->mv_data, k->mv_size, b1, l1, &again) == 0,
                "trigger_state: the re-encoded record is refused");
    FUZZ_ASSERT(triggers_state_encode(&again, &b2, &l2) == 0, "trigger_state: re-encode");
    same_bytes("trigger_state", b1, l1, b2, l2);
    free(b1);
    free(b2);
    return 1;
}

static int price_drop(const MDB_val *k, const MDB_val *v)
{
    trigger_price_drop_t d, again;
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    int rc = triggers_drop_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, &d);
    if (rc) {
        check_refusal(rc, "price_drop", TRIGGERS_T_DROP);
        return 0;
    }
    FUZZ_ASSERT(d.new_price < d.old_price, "price_drop: not a decrease");
    FUZZ_ASSERT(triggers_drop_encode(&d, &b1, &l1) == 0, "price_drop: re-encode");
    FUZZ_ASSERT(triggers_drop_decode(k->mv_data, k->mv_size, b1, l1, &again) == 0,
                "price_drop: the re-encoded record is refused");
    FUZZ_ASSERT(triggers_drop_encode(&again, &b2, &l2) == 0, "price_drop: re-encode");
    same_bytes("price_drop", b1, l1, b2, l2);
    free(b1);
    free(b2);
    return 1;
}

/* The trigger tables' records: a key length byte, the key, the value. */
static int trigger_record(int kind, const uint8_t *b, size_t len)
{
    MDB_val k, v;
    split_key(b, len, &k, &v);
    switch (kind) {
    case K_TRIGGER_LOG: return trigger_log(&k, &v);
    case K_TRIGGER_MARK: return trigger_mark(&k, &v);
    case K_TRIGGER_STATE: return trigger_state(&k, &v);
    default: return price_drop(&k, &v);
    }
}

/* An items record (a key length byte, the key, the value): decoded into a
 * valid item with at most STORE_MAX_MEMBER_PRICES prices, or refused naming
 * the table; re-encoded, it decodes to the same bytes. */
static int item_record(const uint8_t *b, size_t len)
{
    store_item_strings_t *str = store_item_strings_new();
    unsigned char b1[STORE_ITEM_REC_MAX], b2[STORE_ITEM_REC_MAX];
    store_item_t it;
    size_t l1, l2;
    MDB_val k, v, v1;
    int rc;

    FUZZ_ASSERT(str != NULL, "item: out of memory");
    split_key(b, len, &k, &v);
    if ((rc = store_item_decode(&k, &v, &it, str)) != 0) {
        check_refusal(rc, "item", "items");
        free(str);
        return 0;
    }
    FUZZ_ASSERT(store_item_invalid(&it) == NULL && it.n_member_prices <= STORE_MAX_MEMBER_PRICES,
                "item: a decoded item is invalid");
    l1 = store_item_encode(&it, b1);
    v1 = (MDB_val){ l1, b1 };
    FUZZ_ASSERT(store_item_decode(&k, &v1, &it, str) == 0,
                "item: the re-encoded record is refused");
    l2 = store_item_encode(&it, b2);
    same_bytes("item", b1, l1, b2, l2);
    free(str);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t target, len;
    const uint8_t *b;
    int ok;

    if (fuzz_pick(data, size, &target, &b, &len) != 0)
        return 0;
    if (target < N_COUPON_KINDS)
        ok = coupon_record(&coupon_kinds[target], names[target], b, len);
    else if (target == K_EXPERIMENT)
        ok = experiment_record(b, len);
    else if (target == K_ITEM)
        ok = item_record(b, len);
    else if (target >= K_TRIGGER_LOG)
        ok = trigger_record((int)target, b, len);
    else
        ok = store_record((int)target, b, len);
    if (ok)
        fuzz_accepted(target);
    return 0;
}
