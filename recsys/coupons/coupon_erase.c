/*
 * coupon_erase.c - coupons' part of the customer-data registry
 * (coupon_erase.h).
 *
 * Tables naming a customer (couponstore.c has the layouts): chist (keyed
 * by customer id), coffer and credeem (keyed by request / redemption id,
 * the row names the customer: found by a scan, as erasure is rare and the
 * logs are not indexed by customer), cvel (hashes of the accounts seen on
 * a device or address). Budgets are per campaign: only the reservations of
 * the customer's active grants come back to them.
 */
#include "coupon_erase.h"
#include "couponstore_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"
#include "hash.h"

/* Keys gathered during a scan, deleted or rewritten after it (a scan's
 * cursor must not see its own table change). */
typedef struct keys {
    const char *customer_id;
    char (*key)[STORE_MAX_TABLE_KEY + 1];
    size_t n, cap;
    uint64_t hash;               /* cvel: the customer's account hash */
} keys_t;

static int keys_add(keys_t *k, const void *key, size_t klen)
{
    if (klen > STORE_MAX_TABLE_KEY)
        return -EIO;
    if (GROW(k->key, k->cap, k->n + 1))
        return -ENOMEM;
    memcpy(k->key[k->n], key, klen);
    k->key[k->n++][klen] = '\0';
    return 0;
}

static int offer_names(void *ctx, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
    keys_t *k = ctx;
    couponstore_offer_t o;
    int rc = couponstore_rec_decode(&CS_OFFER, key, klen, val, vlen, &o);
    if (rc)
        return rc;
    return strcmp(o.customer_id, k->customer_id) == 0 ? keys_add(k, key, klen) : 0;
}

static int redeem_names(void *ctx, const void *key, size_t klen, const void *val,
                        size_t vlen)
{
    keys_t *k = ctx;
    redeem_row_t r;
    int rc = couponstore_rec_decode(&CS_REDEEM, key, klen, val, vlen, &r);
    if (rc)
        return rc;
    return strcmp(r.customer_id, k->customer_id) == 0 ? keys_add(k, key, klen) : 0;
}

static int vel_holds(void *ctx, const void *key, size_t klen, const void *val,
                     size_t vlen)
{
    keys_t *k = ctx;
    vel_row_t row;
    int rc = couponstore_rec_decode(&CS_VELOCITY, key, klen, val, vlen, &row);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < row.n && i < COUPONSTORE_MAX_ACCOUNTS; i++)
        if (row.h[i] == k->hash)
            return keys_add(k, key, klen);
    return 0;
}

/* Deletes the rows of table whose value names the customer. */
static int delete_naming(store_tx_t *tx, const char *table, store_table_visit_fn names,
                         keys_t *k, uint64_t *rows)
{
    int rc = store_tx_scan(tx, table, NULL, 0, names, k);
    for (size_t i = 0; rc == 0 && i < k->n; i++)
        rc = store_tx_del(tx, table, k->key[i], strlen(k->key[i]));
    *rows += k->n;
    k->n = 0;
    return rc;
}

/* Removes the customer's hash from the velocity rows holding it: the
 * account no longer exists, so it no longer counts on the device. */
static int forget_velocity(store_tx_t *tx, keys_t *k, uint64_t *rows)
{
    int rc = store_tx_scan(tx, T_VEL, NULL, 0, vel_holds, k);
    for (size_t i = 0; rc == 0 && i < k->n; i++) {
        vel_row_t row;
        uint32_t kept, j = 0;
        if ((rc = couponstore_row_get(tx, &CS_VELOCITY, k->key[i], &row)) != 0)
            break;
        kept = row.n < COUPONSTORE_MAX_ACCOUNTS ? row.n : COUPONSTORE_MAX_ACCOUNTS;
        for (uint32_t a = 0; a < kept; a++)
            if (row.h[a] != k->hash)
                row.h[j++] = row.h[a];
        memset(row.h + j, 0, (COUPONSTORE_MAX_ACCOUNTS - j) * sizeof row.h[0]);
        row.n--;
        rc = row.n ? couponstore_row_put(tx, &CS_VELOCITY, k->key[i], &row)
                   : store_tx_del(tx, T_VEL, k->key[i], strlen(k->key[i]));
    }
    *rows += k->n;
    k->n = 0;
    return rc;
}

/* Gives back what the active grants reserve, then deletes the history. */
static int erase_history(store_tx_t *tx, const char *customer_id, uint64_t *rows)
{
    couponstore_history_t h;
    int changed = 0, rc = couponstore_history_tx_get(tx, customer_id, &h);
    if (rc)
        return rc;
    if ((rc = couponstore_expire_grants(tx, &h, INT64_MAX, &changed)) != 0)
        return rc;
    rc = store_tx_del(tx, T_HIST, customer_id, strlen(customer_id));
    if (rc == 0)
        (*rows)++;
    return rc == -ENOENT ? 0 : rc;
}

int couponstore_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                                  custdata_erased_t *out)
{
    keys_t k = { customer_id, NULL, 0, 0, 0 };
    int rc;

    if (!tx || !out || !id_ok(customer_id, STORE_MAX_ID + 1))
        return -EINVAL;
    k.hash = fnv1a64_str(customer_id);
    if ((rc = erase_history(tx, customer_id, &out->rows)) == 0 &&
        (rc = delete_naming(tx, T_OFFER, offer_names, &k, &out->rows)) == 0 &&
        (rc = delete_naming(tx, T_REDEEM, redeem_names, &k, &out->rows)) == 0)
        rc = forget_velocity(tx, &k, &out->rows);
    free(k.key);
    return rc;
}

/* ---- export ----------------------------------------------------------------------- */

typedef struct redemptions_scan {
    const char *customer_id;
    couponstore_redemption_fn cb;
    void *ctx;
} redemptions_scan_t;

static int visit_redemption(void *ctx, const void *key, size_t klen, const void *val,
                            size_t vlen)
{
    redemptions_scan_t *sc = ctx;
    char rid[STORE_MAX_TABLE_KEY + 1];
    redeem_row_t row;
    couponstore_redemption_t r;
    int rc = couponstore_rec_decode(&CS_REDEEM, key, klen, val, vlen, &row);
    if (rc)
        return rc;
    if (strcmp(row.customer_id, sc->customer_id) != 0)
        return 0;
    memcpy(rid, key, klen);
    rid[klen] = '\0';
    r.redemption_id = rid;
    r.customer_id = row.customer_id;
    r.coupon_id = row.coupon_id;
    r.discount = row.discount;
    r.time_ms = row.time_ms;
    return sc->cb(sc->ctx, &r);
}

int couponstore_customer_redemptions(store_t *s, const char *customer_id,
                                     couponstore_redemption_fn cb, void *ctx)
{
    redemptions_scan_t sc = { customer_id, cb, ctx };
    if (!s || !cb || !id_ok(customer_id, STORE_MAX_ID + 1))
        return -EINVAL;
    return store_table_scan(s, T_REDEEM, NULL, 0, visit_redemption, &sc);
}

typedef struct export_ctx {
    const char *customer_id;
    custdata_emit_fn emit;
    void *sink;
} export_ctx_t;

static int export_offer(void *ctx, const couponstore_offer_t *o)
{
    export_ctx_t *x = ctx;
    if (strcmp(o->customer_id, x->customer_id) != 0)
        return 0;
    return x->emit(x->sink, CUSTDATA_COUPON_OFFER, o);
}

static int export_redemption(void *ctx, const couponstore_redemption_t *r)
{
    export_ctx_t *x = ctx;
    return x->emit(x->sink, CUSTDATA_COUPON_REDEMPTION, r);
}

static int coupons_export(void *ctx, store_t *s, const char *customer_id,
                          custdata_emit_fn emit, void *sink)
{
    export_ctx_t x = { customer_id, emit, sink };
    couponstore_history_t *h = malloc(sizeof *h);
    int rc;

    (void)ctx;
    if (!h)
        return -ENOMEM;
    rc = couponstore_get_history(s, customer_id, h);
    if (rc == 0 && (h->n_held || h->welcome_pack || h->n_grants || h->n_redeems))
        rc = emit(sink, CUSTDATA_COUPON_HISTORY, h);
    free(h);
    if (rc == 0)
        rc = couponstore_scan_offers(s, export_offer, &x);
    if (rc == 0)
        rc = couponstore_customer_redemptions(s, customer_id, export_redemption, &x);
    return rc;
}

static int coupons_erase(void *ctx, store_tx_t *tx, const char *customer_id,
                         custdata_erased_t *out)
{
    (void)ctx;
    return couponstore_tx_erase_customer(tx, customer_id, out);
}

/* ---- merge ------------------------------------------------------------------------------- */

/* Gives back what one active grant still reserves (it could not be kept). */
static int release_grant(store_tx_t *tx, const couponstore_held_t *e)
{
    couponstore_history_t *one = calloc(1, sizeof *one);
    int changed = 0, rc;
    if (!one)
        return -ENOMEM;
    one->n_held = 1;
    one->held[0] = *e;
    rc = couponstore_expire_grants(tx, one, INT64_MAX, &changed);
    free(one);
    return rc;
}

/* One coupon of the source's history into the survivor's: a coupon held
 * by both keeps both grants (counts, benefits and reservations summed). */
static int merge_held(store_tx_t *tx, couponstore_history_t *into,
                      const couponstore_held_t *e)
{
    couponstore_held_t *d = couponstore_held_slot(into, e->coupon_id);
    if (!d) /* every entry holds an active grant: nothing to drop for it */
        return e->active ? release_grant(tx, e) : 0;
    if (!d->campaign[0])
        memcpy(d->campaign, e->campaign, sizeof d->campaign);
    d->granted += e->granted;
    if (e->last_grant_ms > d->last_grant_ms)
        d->last_grant_ms = e->last_grant_ms;
    if (e->active) {
        if (!d->active) {
            d->stackable = e->stackable;
            d->guaranteed = e->guaranteed;
        }
        d->active = 1;
        d->uses_left += e->uses_left;
        d->reserved += e->reserved;
        if (e->valid_until_ms > d->valid_until_ms)
            d->valid_until_ms = e->valid_until_ms;
    }
    return 0;
}

/* Merges ring b (count nb, capacity cap) into ring a (count *na): the
 * newest cap times of both, oldest first. */
static void merge_ring(int64_t *a, uint32_t *na, const int64_t *b, uint32_t nb, size_t cap)
{
    int64_t all[2 * COUPONSTORE_MAX_GRANTS];
    size_t la = ring_len(*na, cap), lb = ring_len(nb, cap), n = 0, keep;
    for (size_t i = 0; i < la; i++)
        all[n++] = a[i];
    for (size_t i = 0; i < lb; i++)
        all[n++] = b[i];
    for (size_t i = 1; i < n; i++) /* insertion sort: at most 64 entries */
        for (size_t j = i; j > 0 && all[j - 1] > all[j]; j--) {
            int64_t t = all[j];
            all[j] = all[j - 1];
            all[j - 1] = t;
        }
    keep = n < cap ? n : cap;
    memcpy(a, all + (n - keep), keep * sizeof *a);
    *na = (uint32_t)keep;
}

static int coupons_merge_tx(store_tx_t *tx, const char *from, const char *into,
                            int64_t now_ms, custdata_merged_t *out)
{
    couponstore_history_t *src = malloc(sizeof *src), *dst = malloc(sizeof *dst);
    int changed = 0, rc = src && dst ? 0 : -ENOMEM;

    if (rc == 0)
        rc = couponstore_history_tx_get(tx, from, src);
    if (rc == 0 && (src->n_held || src->welcome_pack || src->n_grants || src->n_redeems)) {
        if ((rc = couponstore_history_tx_get(tx, into, dst)) == 0)
            rc = couponstore_expire_grants(tx, src, now_ms, &changed);
        if (rc == 0)
            rc = couponstore_expire_grants(tx, dst, now_ms, &changed);
        for (uint32_t i = 0; rc == 0 && i < src->n_held && i < COUPONSTORE_MAX_HELD; i++)
            rc = merge_held(tx, dst, &src->held[i]);
        if (rc == 0) {
            dst->welcome_pack |= src->welcome_pack;
            merge_ring(dst->grant_ms, &dst->n_grants, src->grant_ms, src->n_grants,
                       COUPONSTORE_MAX_GRANTS);
            merge_ring(dst->redeem_ms, &dst->n_redeems, src->redeem_ms, src->n_redeems,
                       COUPONSTORE_MAX_REDEEMS);
            rc = couponstore_row_put(tx, &CS_HISTORY, into, dst);
        }
        if (rc == 0)
            rc = store_tx_del(tx, T_HIST, from, strlen(from));
        out->rows += 1;
    }
    free(src);
    free(dst);
    return rc;
}

static int coupons_merge(void *ctx, store_tx_t *tx, const char *from_id, const char *into_id,
                         int64_t now_ms, custdata_merged_t *out)
{
    (void)ctx;
    if (!tx || !out || !id_ok(from_id, STORE_MAX_ID + 1) || !id_ok(into_id, STORE_MAX_ID + 1))
        return -EINVAL;
    return coupons_merge_tx(tx, from_id, into_id, now_ms, out);
}

static int coupons_retain(void *ctx, store_t *s, int64_t before_ms, uint64_t *removed)
{
    (void)ctx;
    return couponstore_prune_offers(s, before_ms, removed);
}

custdata_owner_t couponstore_custdata_owner(void)
{
    custdata_owner_t o = { .name = "coupons", .erase = coupons_erase,
                           .merge = coupons_merge,
                           .export_rows = coupons_export, .retain = coupons_retain,
                           .retain_what = "coupon offer log rows" };
    return o;
}
