/*
 * store_events.c - customer events (recording, scans) and view compaction
 * (see store.h for the contract, store.c for the layout).
 */
#include "store_internal.h"
#include "store_links.h"
#include "grow.h"
#include "hash.h"

#include <stdlib.h>

/* ---- events ------------------------------------------------------------------- */

/* Event record: see store_internal.h. */

uint64_t store_category_key(const char *category)
{
    return fnv1a64_str(category);
}

static const char *const type_names[STORE_EVENT_TYPE_MAX + 1] = {
    [STORE_EVENT_VIEW] = "view",
    [STORE_EVENT_CART] = "cart",
    [STORE_EVENT_PURCHASE] = "purchase",
    [STORE_EVENT_REFUND] = "refund",
    [STORE_EVENT_NOT_INTERESTED] = "not_interested",
    [STORE_EVENT_SIGNUP] = "signup",
    [STORE_EVENT_REVIEW] = "review",
    [STORE_EVENT_CHECK_IN] = "check_in",
    [STORE_EVENT_SHARE] = "share",
    [STORE_EVENT_REFERRAL_SIGNUP] = "referral_signup",
    [STORE_EVENT_SURVEY] = "survey",
};

const char *store_event_type_name(int type)
{
    return type >= STORE_EVENT_VIEW && type <= STORE_EVENT_TYPE_MAX ? type_names[type] : NULL;
}

int store_event_type_parse(const char *name)
{
    for (int t = STORE_EVENT_VIEW; t <= STORE_EVENT_TYPE_MAX; t++)
        if (strcmp(name, type_names[t]) == 0)
            return t;
    return -1;
}

static int has_category(const store_event_t *e)
{
    return e->category && e->category[0];
}

static int has_item(const store_event_t *e)
{
    return e->item_id && e->item_id[0];
}

/* The target: an item, or (not_interested only) a whole category; a
 * programme event may name neither. */
static const char *target_invalid(const store_event_t *e)
{
    if (!has_category(e)) {
        if (!id_write_invalid(e->item_id))
            return NULL;
        if (e->type > STORE_EVENT_INTERACTION_MAX && !has_item(e))
            return NULL;
        if (e->type == STORE_EVENT_NOT_INTERESTED && (!e->item_id || !e->item_id[0]))
            return "item_id: required (or category, for a whole category)";
        return "item_id: must be 1..256 bytes of UTF-8 without control characters";
    }
    if (e->type != STORE_EVENT_NOT_INTERESTED)
        return "category: only for type not_interested (other events name item_id)";
    if (e->item_id && e->item_id[0])
        return "item_id: must be empty when category is set";
    if (text_invalid(e->category))
        return "category: must be valid UTF-8 of at most 1024 bytes";
    return NULL;
}

const char *store_event_invalid(const store_event_t *e)
{
    const char *bad;
    if (id_write_invalid(e->event_id))
        return "event_id: must be 1..256 bytes of UTF-8 without control characters";
    if (id_write_invalid(e->customer_id))
        return "customer_id: must be 1..256 bytes of UTF-8 without control characters";
    if (e->type < STORE_EVENT_VIEW || e->type > STORE_EVENT_TYPE_MAX)
        return "type: must be view, cart, purchase, refund, not_interested, signup, "
               "review, check_in, share, referral_signup or survey";
    if ((bad = target_invalid(e)) != NULL)
        return bad;
    if (e->time_ms <= 0)
        return "time_unix_ms: must be > 0";
    if (e->quantity < 0 || e->quantity > STORE_MAX_QUANTITY)
        return "quantity: must be in 0..1000000";
    if (money_invalid(e->unit_price))
        return "unit_price: must be finite and in 0..1e9";
    return NULL;
}

const char *store_event_time_invalid(int64_t t, int64_t now_ms, int64_t max_skew_ms)
{
    if (t < STORE_MIN_EVENT_MS) {
        if (t >= STORE_MIN_EVENT_MS / 1000 && t <= (now_ms + max_skew_ms) / 1000)
            return "time_unix_ms: before 2000-01-01; looks like seconds, "
                   "expected unix milliseconds";
        return "time_unix_ms: before 2000-01-01 (expected unix milliseconds)";
    }
    if (t > now_ms && t - now_ms > max_skew_ms)
        return "time_unix_ms: in the future beyond the allowed clock skew "
               "(patrond --max-event-skew-seconds)";
    return NULL;
}

size_t store_event_id_len(const MDB_val *v)
{
    const char *id = (const char *)v->mv_data + EVENT_REC_FIXED;
    const char *nul = memchr(id, '\0', v->mv_size - EVENT_REC_FIXED);
    return nul ? (size_t)(nul - id) : v->mv_size - EVENT_REC_FIXED;
}

const char *store_event_category(const MDB_val *v, size_t *len)
{
    size_t id_len = store_event_id_len(v), at = EVENT_REC_FIXED + id_len + 1;
    uint32_t item;
    memcpy(&item, v->mv_data, 4);
    if (item != STORE_NO_ITEM || at > v->mv_size) {
        *len = 0;
        return NULL;
    }
    *len = v->mv_size - at;
    return (const char *)v->mv_data + at;
}

/* The event's item index into *item (STORE_NO_ITEM for a category);
 * rejects an unknown item. */
static int event_item(store_t *s, MDB_txn *txn, const store_event_t *e, uint32_t *item,
                      uint8_t *outcome, const char **reason)
{
    MDB_val k, v;
    int rc;

    if (has_category(e) || !has_item(e)) {
        *item = STORE_NO_ITEM;
        return 0;
    }
    k = val_str(e->item_id);
    rc = mdb_get(txn, s->item_idx, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *outcome = STORE_REJECTED;
        *reason = "item_id: unknown item (upsert it first)";
        return 0;
    }
    if (rc || v.mv_size != 4)
        return rc ? map_err(rc) : -EIO;
    memcpy(item, v.mv_data, 4);
    return 0;
}

/* Stores one valid event under sequence number *seq (advanced when it is
 * used); *outcome says whether it was new. */
static int record_one(store_t *s, MDB_txn *txn, const store_event_t *e, uint64_t *seq,
                      uint8_t *outcome, const char **reason)
{
    MDB_val k = val_str(e->event_id), v;
    unsigned char key[EVENT_KEY_LEN],
        rec[EVENT_REC_FIXED + STORE_MAX_ID + 1 + STORE_MAX_TEXT];
    uint32_t item = STORE_NO_ITEM, cust;
    int32_t qty = e->quantity ? e->quantity : 1;
    uint8_t type = (uint8_t)e->type;
    size_t id_len = strlen(e->event_id), len = EVENT_REC_FIXED + id_len;
    store_tx_t tx = { s, txn };
    char who[STORE_MAX_ID + 1];
    int rc, created;

    rc = mdb_get(txn, s->event_ids, &k, &v);
    if (rc == 0) {
        *outcome = STORE_DUPLICATE;
        return 0;
    }
    if (rc != MDB_NOTFOUND)
        return map_err(rc);
    *outcome = STORE_ACCEPTED;
    if ((rc = event_item(s, txn, e, &item, outcome, reason)) != 0 ||
        *outcome == STORE_REJECTED)
        return rc;
    /* An id merged away: the event is the survivor's, resolved in this
     * transaction so a concurrent merge cannot strand it (store_links.h). */
    if ((rc = store_tx_resolve_customer(&tx, e->customer_id, who)) < 0)
        return rc;
    rc = store_intern_id(txn, s->customer_idx, s->customer_ids, s->meta,
                         "next_customer", who, &cust, &created);
    if (rc)
        return rc;
    put_be32(key, cust);
    put_be64(key + 4, (uint64_t)e->time_ms);
    put_be64(key + 12, (*seq)++);
    memcpy(rec, &item, 4);
    rec[4] = type;
    memcpy(rec + 5, &qty, 4);
    memcpy(rec + 9, &e->unit_price, 8);
    memcpy(rec + EVENT_REC_FIXED, e->event_id, id_len);
    if (has_category(e)) {
        size_t cat_len = strlen(e->category);
        rec[len++] = '\0';
        memcpy(rec + len, e->category, cat_len);
        len += cat_len;
    }
    k = val_mem(key, sizeof key);
    v = val_mem(rec, len);
    if ((rc = map_err(mdb_put(txn, s->events, &k, &v, 0))) != 0)
        return rc;
    k = val_str(e->event_id);
    v = val_mem(key, sizeof key);
    if ((rc = map_err(mdb_put(txn, s->event_ids, &k, &v, 0))) != 0)
        return rc;
    *outcome = STORE_ACCEPTED;
    return 0;
}

typedef struct events_op {
    const store_event_t *ev;
    size_t n;
    uint8_t *outcome;
    const char **reason;
} events_op_t;

/* The batch's events take consecutive sequence numbers: "event_seq" is
 * read once and written once per batch, not per event. */
static int record_events_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    events_op_t *op = ctx;
    uint64_t seq, first;
    int rc;

    if ((rc = store_meta_get_u64(txn, s->meta, "event_seq", &seq)) != 0)
        return rc;
    first = seq;
    for (size_t i = 0; i < op->n; i++) {
        op->reason[i] = store_event_invalid(&op->ev[i]);
        if (op->reason[i]) {
            op->outcome[i] = STORE_REJECTED;
            continue;
        }
        rc = record_one(s, txn, &op->ev[i], &seq, &op->outcome[i], &op->reason[i]);
        if (rc)
            return rc;
    }
    return seq == first ? 0 : store_meta_put_u64(txn, s->meta, "event_seq", seq);
}

int store_record_events(store_t *s, const store_event_t *ev, size_t n,
                        uint8_t *outcome, const char **reason)
{
    events_op_t op = { ev, n, outcome, reason };
    size_t seen;
    int rc;

    /* record_events_txn sets every output afresh: it may run again. */
    do {
        seen = store_map_size(s);
        rc = store_group_write(s, record_events_txn, &op, 1);
    } while (store_map_grown(s, rc, seen));
    return rc;
}

/* An asynchronous batch: the queued write and the caller's completion. */
typedef struct events_async {
    pending_t p;          /* first: the completion gets &p */
    events_op_t op;
    store_done_fn done;
    void *ctx;
} events_async_t;

static void events_async_complete(pending_t *p, int rc)
{
    events_async_t *a = (events_async_t *)p;
    store_done_fn done = a->done;
    void *ctx = a->ctx;

    free(a);
    done(ctx, rc);
}

int store_record_events_async(store_t *s, const store_event_t *ev, size_t n,
                              uint8_t *outcome, const char **reason, store_done_fn done,
                              void *ctx)
{
    events_async_t *a;
    int rc;

    if (!s || (n && (!ev || !outcome || !reason)) || !done)
        return -EINVAL;
    if (!(a = calloc(1, sizeof *a)))
        return -ENOMEM;
    a->op = (events_op_t){ ev, n, outcome, reason };
    a->p.fn = record_events_txn;
    a->p.ctx = &a->op;
    a->p.rerunnable = 1; /* record_events_txn sets every output afresh */
    a->p.complete = events_async_complete;
    a->done = done;
    a->ctx = ctx;
    if ((rc = store_group_submit(s, &a->p)) != 0)
        free(a);
    return rc;
}

int store_event_decode(const MDB_val *k, const MDB_val *v, store_event_rec_t *r)
{
    const unsigned char *p = v->mv_data;
    if (k->mv_size != EVENT_KEY_LEN || v->mv_size < EVENT_REC_FIXED)
        return -EIO;
    r->customer = get_be32(k->mv_data);
    r->time_ms = (int64_t)get_be64((const unsigned char *)k->mv_data + 4);
    r->seq = get_be64((const unsigned char *)k->mv_data + 12);
    memcpy(&r->item, p, 4);
    r->type = p[4];
    memcpy(&r->quantity, p + 5, 4);
    memcpy(&r->unit_price, p + 9, 8);
    r->category = 0;
    if (r->item == STORE_NO_ITEM) {
        size_t len;
        const char *name = store_event_category(v, &len);
        r->category = fnv1a64_update(FNV1A64_OFFSET, name ? name : "", len);
    }
    return 0;
}

/* What a scan calls: cb with interaction events only, or id_cb with every
 * event and its id. */
typedef struct scan_sink {
    store_event_cb cb;
    store_event_id_cb id_cb;
    void *ctx;
} scan_sink_t;

static int scan_deliver(const scan_sink_t *sk, const MDB_val *v, const store_event_rec_t *r)
{
    if (sk->id_cb)
        return sk->id_cb(sk->ctx, r, (const char *)v->mv_data + EVENT_REC_FIXED,
                         store_event_id_len(v));
    if (r->type > STORE_EVENT_INTERACTION_MAX)
        return 0;
    return sk->cb(sk->ctx, r);
}

/* Walks events from `first` (NULL: the beginning) while keys start with the
 * first `prefix_len` bytes of first. */
static int scan_range(store_t *s, const unsigned char *first, size_t prefix_len,
                      const scan_sink_t *sk)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, op;

    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0) {
        store_txn_abort(s, txn);
        return map_err(rc);
    }
    if (first) {
        k = val_mem(first, EVENT_KEY_LEN);
        op = MDB_SET_RANGE;
    } else {
        op = MDB_FIRST;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_event_rec_t r;
        op = MDB_NEXT;
        if (first && (k.mv_size < prefix_len || memcmp(k.mv_data, first, prefix_len)))
            break;
        if (store_event_decode(&k, &v, &r) != 0) {
            rc = -EIO;
            break;
        }
        if ((rc = scan_deliver(sk, &v, &r)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else if (rc > 0)
        rc = map_err(rc);
    mdb_cursor_close(cur);
    store_txn_abort(s, txn);
    return rc;
}

int store_event_list_push(void *ctx, const store_event_rec_t *ev)
{
    store_event_list_t *l = ctx;
    if (GROW(l->ev, l->cap, l->n + 1) != 0)
        return -ENOMEM;
    l->ev[l->n++] = *ev;
    return 0;
}

void store_event_list_free(store_event_list_t *l)
{
    if (!l)
        return;
    free(l->ev);
    memset(l, 0, sizeof *l);
}

int store_scan_events(store_t *s, store_event_cb cb, void *ctx)
{
    scan_sink_t sk = { cb, NULL, ctx };
    return scan_range(s, NULL, 0, &sk);
}

int store_customer_events(store_t *s, uint32_t customer, store_event_cb cb,
                          void *ctx)
{
    unsigned char first[EVENT_KEY_LEN] = { 0 };
    scan_sink_t sk = { cb, NULL, ctx };
    put_be32(first, customer);
    return scan_range(s, first, 4, &sk);
}

int store_customer_events_ids(store_t *s, uint32_t customer, store_event_id_cb cb,
                              void *ctx)
{
    unsigned char first[EVENT_KEY_LEN] = { 0 };
    scan_sink_t sk = { NULL, cb, ctx };
    put_be32(first, customer);
    return scan_range(s, first, 4, &sk);
}

/* ---- compaction ---------------------------------------------------------------- */

typedef struct view_agg {
    uint32_t item;
    int64_t quantity;
    int64_t latest_ms;
    unsigned char key[EVENT_KEY_LEN]; /* of the latest view, reused for the aggregate */
} view_agg_t;

static int cmp_view_agg(const void *a, const void *b)
{
    const view_agg_t *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

typedef struct compact_op {
    uint32_t customer;
    int64_t before_ms;
    uint64_t removed, added;
} compact_op_t;

/* Collects the customer's old views, deletes them (and their ids), writes
 * one aggregate per item. */
static int compact_customer_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    compact_op_t *op = ctx;
    unsigned char first[EVENT_KEY_LEN] = { 0 };
    MDB_cursor *cur;
    MDB_val k, v;
    view_agg_t *agg = NULL;
    size_t n = 0, cap = 0;
    int rc, mop = MDB_SET_RANGE;

    op->removed = op->added = 0; /* it may run again (store_with_txn) */
    put_be32(first, op->customer);
    k = val_mem(first, EVENT_KEY_LEN);
    if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, mop)) == 0) {
        store_event_rec_t r;
        mop = MDB_NEXT;
        if (k.mv_size != EVENT_KEY_LEN || memcmp(k.mv_data, first, 4) != 0)
            break;
        if (store_event_decode(&k, &v, &r) != 0) {
            rc = -EIO;
            break;
        }
        if (r.time_ms >= op->before_ms)
            break; /* keys are in time order within a customer */
        if (r.type != STORE_EVENT_VIEW)
            continue;
        if (GROW(agg, cap, n + 1) != 0) {
            rc = -ENOMEM;
            break;
        }
        agg[n].item = r.item;
        agg[n].quantity = r.quantity;
        agg[n].latest_ms = r.time_ms;
        memcpy(agg[n].key, k.mv_data, EVENT_KEY_LEN);
        n++;
        if (v.mv_size > EVENT_REC_FIXED) {
            MDB_val id = val_mem((const char *)v.mv_data + EVENT_REC_FIXED,
                                 v.mv_size - EVENT_REC_FIXED);
            int drc = mdb_del(txn, s->event_ids, &id, NULL);
            if (drc && drc != MDB_NOTFOUND) {
                rc = drc;
                break;
            }
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        op->removed++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        free(agg);
        return rc < 0 ? rc : map_err(rc);
    }
    if (n) /* agg is NULL without views, and qsort's array must not be */
        qsort(agg, n, sizeof *agg, cmp_view_agg); /* stable enough: merged below */
    rc = 0;
    for (size_t i = 0, j; i < n && rc == 0; i = j) {
        view_agg_t sum = agg[i];
        unsigned char rec[EVENT_REC_FIXED + 16];
        int32_t q;
        double price = 0;
        char id[16] = "compacted";
        for (j = i + 1; j < n && agg[j].item == agg[i].item; j++) {
            sum.quantity += agg[j].quantity;
            if (agg[j].latest_ms >= sum.latest_ms) {
                sum.latest_ms = agg[j].latest_ms;
                memcpy(sum.key, agg[j].key, EVENT_KEY_LEN);
            }
        }
        q = sum.quantity > STORE_MAX_QUANTITY ? STORE_MAX_QUANTITY : (int32_t)sum.quantity;
        memcpy(rec, &sum.item, 4);
        rec[4] = STORE_EVENT_VIEW;
        memcpy(rec + 5, &q, 4);
        memcpy(rec + 9, &price, 8);
        memcpy(rec + EVENT_REC_FIXED, id, strlen(id));
        k = val_mem(sum.key, EVENT_KEY_LEN);
        v = val_mem(rec, EVENT_REC_FIXED + strlen(id));
        rc = map_err(mdb_put(txn, s->events, &k, &v, 0));
        op->added++;
    }
    free(agg);
    return rc;
}

int store_compact_views(store_t *s, int64_t before_ms, uint64_t *removed,
                        uint64_t *added)
{
    uint32_t customers = 0;
    int rc = store_counts(s, &customers, NULL);

    *removed = *added = 0;
    for (uint32_t c = 0; rc == 0 && c < customers; c++) {
        compact_op_t op = { c, before_ms, 0, 0 };
        rc = store_with_txn(s, 1, compact_customer_txn, &op);
        *removed += op.removed;
        *added += op.added;
    }
    return rc;
}
