/*
 * store_points.c - the stored part of a customer's points ledger (store.h):
 * redemptions and manual adjustments in the `points` table, keyed by
 * customer id NUL entry id. The ledger itself is derived (recsys/customers
 * points.c); what is stored here is what the events cannot tell: what the
 * customer spent and what an operator adjusted.
 *
 * Never overdrawing: an entry that spends is written only if the net spent
 * total read in the write transaction plus what it spends stays within the
 * caller's limit (that total plus the balance the caller derived), and
 * writers are serialized, so two concurrent spends cannot both pass on the
 * same balance.
 */
#include "store_internal.h"
#include "store_links.h"
#include "store_record.h"

#include <patron/store/v1/store.pb-c.h>

#include <stdlib.h>

size_t store_points_key(unsigned char *key, const char *customer, const char *redemption)
{
    size_t a = strlen(customer), b = redemption ? strlen(redemption) : 0;
    memcpy(key, customer, a);
    key[a] = '\0';
    if (b)
        memcpy(key + a + 1, redemption, b);
    return a + 1 + b;
}

const char *store_points_entry_invalid(const store_points_entry_t *e)
{
    if (!e)
        return "entry: required";
    if ((e->points > 0) == (e->adjust != 0) || e->points < 0)
        return "points: exactly one of a redemption (points > 0) and an adjustment required";
    if (e->time_ms < 0)
        return "time_unix_ms: must be >= 0";
    if (strlen(e->reason) > STORE_POINTS_REASON_MAX || !utf8_valid(e->reason, strlen(e->reason)))
        return "reason: at most 200 bytes of UTF-8";
    if (e->operator_id[0] && id_write_invalid(e->operator_id))
        return "operator: at most 256 bytes of UTF-8 without control characters";
    if (e->cash < 0 || e->cash != e->cash)
        return "cash: must be >= 0";
    return NULL;
}

size_t store_points_encode(const store_points_entry_t *e, unsigned char buf[STORE_POINTS_REC_MAX])
{
    Patron__Store__V1__PointsRedemption m = PATRON__STORE__V1__POINTS_REDEMPTION__INIT;
    m.points = e->points;
    m.time_unix_ms = e->time_ms;
    m.adjust = e->adjust;
    m.reason = (char *)e->reason;
    m.operator_id = (char *)e->operator_id;
    m.reward_id = (char *)e->reward_id;
    m.coupon_id = (char *)e->coupon_id;
    m.cash = e->cash;
    m.tier = (char *)e->tier;
    m.until_unix_ms = e->until_ms;
    /* Bounded: every string field has its maximum (store_points_entry_t). */
    return protobuf_c_message_pack(&m.base, buf);
}

/* Copies src into dst[cap]; -EBADMSG when it does not fit. */
static int copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        return -EBADMSG;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return 0;
}

int store_points_decode(const MDB_val *k, const MDB_val *v, store_points_entry_t *e)
{
    Patron__Store__V1__PointsRedemption *m;
    int rc = store_record_unpack(&patron__store__v1__points_redemption__descriptor, "points",
                                 k->mv_data, k->mv_size, v->mv_data, v->mv_size,
                                 (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    memset(e, 0, sizeof *e);
    e->points = m->points;
    e->time_ms = m->time_unix_ms;
    e->adjust = m->adjust;
    e->cash = m->cash;
    e->until_ms = m->until_unix_ms;
    if (copy_field(e->reason, sizeof e->reason, m->reason) ||
        copy_field(e->operator_id, sizeof e->operator_id, m->operator_id) ||
        copy_field(e->reward_id, sizeof e->reward_id, m->reward_id) ||
        copy_field(e->coupon_id, sizeof e->coupon_id, m->coupon_id) ||
        copy_field(e->tier, sizeof e->tier, m->tier))
        rc = -EBADMSG;
    store_record_free(&m->base);
    return rc;
}

/* What an entry takes from the balance (an adjustment up: negative). */
static int64_t entry_spends(const store_points_entry_t *e)
{
    return e->points - e->adjust;
}

/* Sums what one customer's entries spent, net, inside txn. */
static int points_sum(store_t *s, MDB_txn *txn, const char *customer, int64_t *total)
{
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t plen = store_points_key(prefix, customer, NULL);
    MDB_cursor *cur;
    MDB_val k = val_mem(prefix, plen), v;
    int rc, op = MDB_SET_RANGE;

    *total = 0;
    if ((rc = mdb_cursor_open(txn, s->points, &cur)) != 0)
        return map_err(rc);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_points_entry_t e;
        op = MDB_NEXT;
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if ((rc = store_points_decode(&k, &v, &e)) != 0)
            break;
        *total += entry_spends(&e);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc < 0 ? rc : map_err(rc);
}

typedef struct write_op {
    const char *customer, *id;
    const store_points_entry_t *e;
    int64_t limit, total;
    int duplicate;
    store_points_entry_t *stored;
} write_op_t;

static int redeemed_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    write_op_t *op = ctx;
    return points_sum(s, txn, op->customer, &op->total);
}

/* The entry already stored under the id: a retry, or (another kind) a
 * clash of ids. */
static int write_duplicate(store_t *s, MDB_txn *txn, write_op_t *op, const MDB_val *k,
                           const MDB_val *v)
{
    store_points_entry_t have;
    int rc = store_points_decode(k, v, &have);
    if (rc)
        return rc;
    op->duplicate = 1;
    if (op->stored)
        *op->stored = have;
    if ((have.adjust != 0) != (op->e->adjust != 0))
        return -EEXIST;
    return points_sum(s, txn, op->customer, &op->total);
}

static int write_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    write_op_t *op = ctx;
    unsigned char key[2 * STORE_MAX_ID + 2], rec[STORE_POINTS_REC_MAX];
    MDB_val k = val_mem(key, store_points_key(key, op->customer, op->id)), v;
    store_tx_t tx = { s, txn };
    char who[STORE_MAX_ID + 1];
    int64_t spends = entry_spends(op->e);
    int rc = store_tx_resolve_customer(&tx, op->customer, who);

    /* Merged away since the caller derived the balance: the caller
     * resolves again and retries (customers_redeem). */
    if (rc != 0)
        return rc < 0 ? rc : -ESTALE;
    rc = mdb_get(txn, s->points, &k, &v);
    if (rc == 0)
        return write_duplicate(s, txn, op, &k, &v);
    if (rc != MDB_NOTFOUND)
        return map_err(rc);
    if ((rc = points_sum(s, txn, op->customer, &op->total)) != 0)
        return rc;
    if (spends > 0 && op->total + spends > op->limit)
        return -ERANGE;
    v = val_mem(rec, store_points_encode(op->e, rec));
    if ((rc = map_err(mdb_put(txn, s->points, &k, &v, 0))) != 0)
        return rc;
    op->total += spends;
    return 0;
}

int store_points_redeemed(store_t *s, const char *customer_id, int64_t *total)
{
    write_op_t op = { .customer = customer_id };
    int rc;
    if (id_invalid(customer_id))
        return -EINVAL;
    rc = store_with_txn(s, 0, redeemed_txn, &op);
    *total = op.total;
    return rc;
}

static int write_args_invalid(const char *customer_id, const char *entry_id,
                              const store_points_entry_t *e)
{
    return id_write_invalid(customer_id) || id_write_invalid(entry_id) ||
           store_points_entry_invalid(e) != NULL;
}

int store_points_write(store_t *s, const char *customer_id, const char *entry_id,
                       const store_points_entry_t *e, int64_t limit, int64_t *net_total,
                       int *duplicate, store_points_entry_t *stored)
{
    write_op_t op = { customer_id, entry_id, e, limit, 0, 0, stored };
    int rc;
    if (!s || write_args_invalid(customer_id, entry_id, e))
        return -EINVAL;
    rc = store_with_txn(s, 1, write_txn, &op);
    if (rc == -ERANGE) /* the read-only sum for the caller's message */
        store_with_txn(s, 0, redeemed_txn, &op);
    *net_total = op.total;
    *duplicate = op.duplicate;
    return rc;
}

int store_tx_points_write(store_tx_t *tx, const char *customer_id, const char *entry_id,
                          const store_points_entry_t *e, int64_t limit, int64_t *net_total,
                          int *duplicate, store_points_entry_t *stored)
{
    write_op_t op = { customer_id, entry_id, e, limit, 0, 0, stored };
    int rc;
    if (!tx || write_args_invalid(customer_id, entry_id, e))
        return -EINVAL;
    rc = write_txn(tx->s, tx->txn, &op);
    *net_total = op.total;
    *duplicate = op.duplicate;
    return rc;
}

int store_tx_points_get(store_tx_t *tx, const char *customer_id, const char *entry_id,
                        store_points_entry_t *out)
{
    unsigned char key[2 * STORE_MAX_ID + 2];
    MDB_val k, v;
    int rc;
    if (!tx || id_invalid(customer_id) || id_invalid(entry_id) || !out)
        return -EINVAL;
    k = val_mem(key, store_points_key(key, customer_id, entry_id));
    if ((rc = mdb_get(tx->txn, tx->s->points, &k, &v)) != 0)
        return map_err(rc);
    return store_points_decode(&k, &v, out);
}

int store_points_redeem(store_t *s, const char *customer_id,
                        const char *redemption_id, int64_t points, int64_t time_ms,
                        int64_t earned, int64_t *redeemed_total, int *duplicate)
{
    store_points_entry_t e;
    memset(&e, 0, sizeof e);
    e.points = points;
    e.time_ms = time_ms;
    return store_points_write(s, customer_id, redemption_id, &e, earned, redeemed_total,
                              duplicate, NULL);
}
