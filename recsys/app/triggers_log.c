/*
 * triggers_log.c - the trigger log after evaluation wrote it (triggers.h):
 * reading from a cursor, retention, the custdata owner (erasure, export),
 * and the record codecs of triggers_internal.h.
 */
#include "triggers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigendian.h"
#include "patron/store/v1/triggers.pb-c.h"
#include "store_record.h"
#include "triggers_internal.h"

#define T_LOG TRIGGERS_T_LOG
#define T_MARK TRIGGERS_T_MARK
#define T_STATE TRIGGERS_T_STATE
#define T_DROP TRIGGERS_T_DROP
#define T_META "tmeta"
#define META_NEXT "next"

/* ---- the log's counter ------------------------------------------------------------- */

int triggers_next_seq_tx(store_tx_t *tx, uint64_t *next)
{
    unsigned char b[8];
    size_t len = 0;
    int rc = store_tx_get(tx, T_META, META_NEXT, strlen(META_NEXT), b, sizeof b, &len);
    if (rc == -ENOENT) {
        *next = 1;
        return 0;
    }
    if (rc)
        return rc;
    if (len != 8)
        return store_record_bad(T_META, META_NEXT, strlen(META_NEXT), "not a sequence");
    *next = get_be64(b);
    return 0;
}

int triggers_set_next_seq_tx(store_tx_t *tx, uint64_t next)
{
    unsigned char b[8];
    put_be64(b, next);
    return store_tx_put(tx, T_META, META_NEXT, strlen(META_NEXT), b, sizeof b);
}

static int next_seq_tx(store_tx_t *tx, void *ctx)
{
    return triggers_next_seq_tx(tx, ctx);
}

int triggers_next_seq(store_t *s, uint64_t *next)
{
    return store_table_atomic(s, next_seq_tx, next);
}

/* ---- reading ----------------------------------------------------------------------- */

static int copy_strs(char (*dst)[TRIGGERS_ITEM_ID_MAX], size_t cap, size_t *n,
                     char **src, size_t n_src)
{
    *n = 0;
    for (size_t i = 0; i < n_src && *n < cap; i++)
        if (store_record_copy_str(dst[*n], TRIGGERS_ITEM_ID_MAX, src[i]))
            (*n)++;
    return 0;
}

static int record_from_msg(const Patron__Store__V1__TriggerRecord *m, triggers_record_t *out)
{
    memset(out, 0, sizeof *out);
    out->seq = m->seq;
    out->kind = (trigger_kind_t)m->kind;
    out->time_ms = m->time_ms;
    out->fired_ms = m->fired_ms;
    out->coupon_outcome = m->coupon_outcome;
    out->channel = m->channel >= 1 && m->channel <= CONSENT_N_CHANNELS ? (int)m->channel - 1 : -1;
    if (!store_record_copy_str(out->customer_id, sizeof out->customer_id, m->customer_id) ||
        !store_record_copy_str(out->rule, sizeof out->rule, m->rule) ||
        !store_record_copy_str(out->reason, sizeof out->reason, m->reason) ||
        !store_record_copy_str(out->key, sizeof out->key, m->key) ||
        !store_record_copy_str(out->coupon_request_id, sizeof out->coupon_request_id,
                               m->coupon_request_id) ||
        !store_record_copy_str(out->coupon_id, sizeof out->coupon_id, m->coupon_id) ||
        !store_record_copy_str(out->coupon_campaign, sizeof out->coupon_campaign,
                               m->coupon_campaign) ||
        !store_record_copy_str(out->coupon_reason, sizeof out->coupon_reason,
                               m->coupon_reason) ||
        !store_record_copy_str(out->message_id, sizeof out->message_id, m->message_id))
        return -1;
    copy_strs(out->items, TRIGGER_MAX_ITEMS, &out->n_items, m->items, m->n_items);
    copy_strs(out->recommended, TRIGGER_MAX_RECOMMEND_K, &out->n_recommended,
              m->recommended, m->n_recommended);
    return 0;
}

typedef struct next_op {
    uint64_t after;
    triggers_record_t *out;
    int found;
} next_op_t;

static int visit_next(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    next_op_t *op = ctx;
    int rc;

    if (klen != 8 || get_be64(key) <= op->after)
        return 0;
    if ((rc = triggers_log_decode(key, klen, val, vlen, op->out)) != 0)
        return rc;
    op->found = 1;
    return 1;
}

/* Reads block by block of 256 sequence numbers (a 7-byte key prefix), so
 * finding the next row costs one seek per block, not a scan from the start. */
typedef struct find_op {
    next_op_t *op;
    uint64_t next;
} find_op_t;

static int find_next_tx(store_tx_t *tx, void *ctx)
{
    find_op_t *f = ctx;
    int rc = triggers_next_seq_tx(tx, &f->next);
    if (rc)
        return rc;
    for (uint64_t block = (f->op->after + 1) >> 8; (block << 8) < f->next; block++) {
        unsigned char prefix[8];
        put_be64(prefix, block << 8);
        rc = store_tx_scan(tx, T_LOG, prefix, 7, visit_next, f->op);
        if (rc < 0)
            return rc;
        if (f->op->found)
            return 0;
    }
    return 0;
}

int triggers_next(store_t *s, uint64_t after, triggers_record_t *out)
{
    next_op_t op = { after, out, 0 };
    find_op_t f = { &op, 0 };
    int rc;

    if (!s || !out || after == UINT64_MAX)
        return -EINVAL;
    if ((rc = store_table_atomic(s, find_next_tx, &f)) != 0)
        return rc;
    return op.found ? 0 : -ENOENT;
}

/* ---- retention ------------------------------------------------------------------------ */

static int fired_before(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    const int64_t *before = ctx;
    ProtobufCMessage *m = NULL;
    int old;
    if (store_record_unpack(&patron__store__v1__trigger_record__descriptor, T_LOG, key, klen,
                            val, vlen, &m) != 0)
        return 0; /* kept: an unreadable row is reported where it is read */
    old = ((Patron__Store__V1__TriggerRecord *)m)->fired_ms < *before;
    store_record_free(m);
    return old;
}

int triggers_prune(store_t *s, int64_t before_ms, uint64_t *removed)
{
    return store_table_prune(s, T_LOG, fired_before, &before_ms, removed);
}

/* ---- customer data (custdata.h) ------------------------------------------------------- */

typedef struct erase_scan {
    const char *customer;
    unsigned char (*keys)[8];
    size_t n, cap;
    int rc;
} erase_scan_t;

static int gather_customer_rows(void *ctx, const void *key, size_t klen, const void *val,
                                size_t vlen)
{
    erase_scan_t *e = ctx;
    ProtobufCMessage *m = NULL;
    int mine;

    if (klen != 8 || store_record_unpack(&patron__store__v1__trigger_record__descriptor,
                                         T_LOG, key, klen, val, vlen, &m) != 0)
        return 0;
    mine = strcmp(((Patron__Store__V1__TriggerRecord *)m)->customer_id, e->customer) == 0;
    store_record_free(m);
    if (!mine)
        return 0;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        void *p = realloc(e->keys, cap * sizeof *e->keys);
        if (!p)
            return -ENOMEM;
        e->keys = p;
        e->cap = cap;
    }
    memcpy(e->keys[e->n++], key, 8);
    return 0;
}

typedef struct mark_scan {
    char (*keys)[STORE_MAX_TABLE_KEY];
    size_t *lens;
    size_t n, cap;
} mark_scan_t;

static int gather_marks(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    mark_scan_t *ms = ctx;
    (void)val;
    (void)vlen;
    if (klen > STORE_MAX_TABLE_KEY)
        return 0;
    if (ms->n == ms->cap) {
        size_t cap = ms->cap ? ms->cap * 2 : 16;
        void *k = realloc(ms->keys, cap * sizeof *ms->keys);
        if (!k)
            return -ENOMEM;
        ms->keys = k;
        if (!(k = realloc(ms->lens, cap * sizeof *ms->lens)))
            return -ENOMEM;
        ms->lens = k;
        ms->cap = cap;
    }
    memcpy(ms->keys[ms->n], key, klen);
    ms->lens[ms->n++] = klen;
    return 0;
}

/* Erasure: the customer's logged triggers (a scan of the log), marks and
 * state. A consumer's cursor stays valid: sequences are never reused. */
static int erase_triggers(void *ctx, store_tx_t *tx, const char *customer_id,
                          custdata_erased_t *out)
{
    erase_scan_t e = { customer_id, NULL, 0, 0, 0 };
    mark_scan_t ms = { NULL, NULL, 0, 0 };
    size_t plen = strlen(customer_id) + 1;
    int rc;

    (void)ctx;
    rc = store_tx_scan(tx, T_LOG, NULL, 0, gather_customer_rows, &e);
    for (size_t i = 0; rc == 0 && i < e.n; i++)
        rc = store_tx_del(tx, T_LOG, e.keys[i], 8);
    if (rc == 0)
        rc = store_tx_scan(tx, T_MARK, customer_id, plen, gather_marks, &ms);
    for (size_t i = 0; rc == 0 && i < ms.n; i++)
        rc = store_tx_del(tx, T_MARK, ms.keys[i], ms.lens[i]);
    if (rc == 0) {
        rc = store_tx_del(tx, T_STATE, customer_id, strlen(customer_id));
        if (rc == -ENOENT)
            rc = 0;
        else if (rc == 0)
            out->rows++;
    }
    if (rc == 0)
        out->rows += e.n + ms.n;
    free(e.keys);
    free(ms.keys);
    free(ms.lens);
    return rc;
}

/* Export: the customer's logged triggers, found by a scan of the log (the
 * log is keyed by sequence; exports are rare). */
typedef struct export_scan {
    const char *customer;
    custdata_emit_fn emit;
    void *sink;
    triggers_record_t *rec;        /* malloc'd: a record is large */
} export_scan_t;

static int export_row(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    export_scan_t *e = ctx;
    int rc;

    if (klen != 8)
        return 0;
    if ((rc = triggers_log_decode(key, klen, val, vlen, e->rec)) != 0)
        return rc;
    if (strcmp(e->rec->customer_id, e->customer) != 0)
        return 0;
    return e->emit(e->sink, CUSTDATA_TRIGGER, e->rec);
}

static int export_triggers(void *ctx, store_t *s, const char *customer_id,
                           custdata_emit_fn emit, void *sink)
{
    export_scan_t e = { customer_id, emit, sink, malloc(sizeof(triggers_record_t)) };
    int rc;

    (void)ctx;
    if (!e.rec)
        return -ENOMEM;
    rc = store_table_scan(s, T_LOG, NULL, 0, export_row, &e);
    free(e.rec);
    return rc;
}

static int retain_triggers(void *ctx, store_t *s, int64_t before_ms, uint64_t *removed)
{
    (void)ctx;
    return triggers_prune(s, before_ms, removed);
}

custdata_owner_t triggers_custdata_owner(void)
{
    return (custdata_owner_t){ .name = "triggers", .erase = erase_triggers,
                               .export_rows = export_triggers, .retain = retain_triggers,
                               .retain_what = "fired triggers (the log Subscribe reads)" };
}

/* ---- record codecs (triggers_internal.h) ---------------------------------------------- */

int triggers_log_decode(const void *key, size_t klen, const void *val, size_t vlen,
                        triggers_record_t *out)
{
    Patron__Store__V1__TriggerRecord *m = NULL;
    int rc = store_record_unpack(&patron__store__v1__trigger_record__descriptor, T_LOG, key,
                                 klen, val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    rc = record_from_msg(m, out);
    store_record_free(&m->base);
    return rc ? store_record_bad(T_LOG, key, klen, "a string longer than this build allows")
              : 0;
}

int triggers_state_decode(const void *key, size_t klen, const void *val, size_t vlen,
                          trigger_state_t *out)
{
    Patron__Store__V1__TriggerState *m = NULL;
    int rc = store_record_unpack(&patron__store__v1__trigger_state__descriptor, T_STATE, key,
                                 klen, val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    out->known = m->known;
    out->tier = m->tier;
    store_record_free(&m->base);
    if (out->tier < -1 || out->tier >= PROFILE_MAX_TIERS)
        return store_record_bad(T_STATE, key, klen, "tier out of range");
    return 0;
}

int triggers_state_encode(const trigger_state_t *st, void **buf, size_t *len)
{
    Patron__Store__V1__TriggerState m = PATRON__STORE__V1__TRIGGER_STATE__INIT;
    m.known = st->known != 0;
    m.tier = st->tier;
    return store_record_pack(&m.base, buf, len);
}

int triggers_drop_decode(const void *key, size_t klen, const void *val, size_t vlen,
                         trigger_price_drop_t *out)
{
    Patron__Store__V1__PriceDrop *m = NULL;
    int rc = store_record_unpack(&patron__store__v1__price_drop__descriptor, T_DROP, key, klen,
                                 val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    *out = (trigger_price_drop_t){ m->time_ms, m->old_price, m->new_price };
    store_record_free(&m->base);
    if (out->time_ms < 0 || !isfinite(out->old_price) || !isfinite(out->new_price) ||
        !(out->new_price < out->old_price))
        return store_record_bad(T_DROP, key, klen, "not a price decrease");
    return 0;
}

int triggers_drop_encode(const trigger_price_drop_t *d, void **buf, size_t *len)
{
    Patron__Store__V1__PriceDrop m = PATRON__STORE__V1__PRICE_DROP__INIT;
    m.time_ms = d->time_ms;
    m.old_price = d->old_price;
    m.new_price = d->new_price;
    return store_record_pack(&m.base, buf, len);
}
