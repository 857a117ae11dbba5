/*
 * couponstore_uplift.c - the uplift training join: offers logged, the
 * purchases and redemptions that followed them (couponstore_uplift_logs).
 */
#include "couponstore_internal.h"
#include "store_links.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>

typedef struct join {
    store_t *s;
    int64_t window_ms, now_ms;
    uplift_log_t *logs;
    couponstore_uplift_key_t *keys;   /* NULL: not wanted */
    size_t n, cap;
    redeem_row_t *red;
    size_t n_red, cap_red;
    double *unit_cost;        /* by item index */
    uint32_t n_items;
    /* the offer being joined */
    int64_t from_ms, until_ms;
    uplift_log_t *cur;
} join_t;

static int collect_redemption(void *ctx, const void *key, size_t klen, const void *val,
                              size_t vlen)
{
    join_t *j = ctx;
    redeem_row_t r;
    int rc = couponstore_rec_decode(&CS_REDEEM, key, klen, val, vlen, &r);
    if (rc)
        return rc;
    if (GROW(j->red, j->cap_red, j->n_red + 1) != 0)
        return -ENOMEM;
    j->red[j->n_red++] = r;
    return 0;
}

static int collect_cost(void *ctx, uint32_t idx, const store_item_t *it)
{
    join_t *j = ctx;
    if (idx < j->n_items)
        j->unit_cost[idx] = it->unit_cost;
    return 0;
}

static int add_purchase(void *ctx, const store_event_rec_t *ev)
{
    join_t *j = ctx;
    double q = ev->quantity > 0 ? ev->quantity : 1;
    double cost = ev->item < j->n_items ? j->unit_cost[ev->item] : 0.0;
    if (ev->type != STORE_EVENT_PURCHASE || ev->time_ms <= j->from_ms ||
        ev->time_ms > j->until_ms)
        return 0;
    j->cur->bought = 1;
    j->cur->margin += q * (ev->unit_price - cost);
    return 0;
}

/* Doubles the room for rows (and their keys, when wanted). */
static int join_grow(join_t *j)
{
    void *const cols[] = { &j->logs, &j->keys };
    const size_t sizes[] = { sizeof *j->logs, sizeof *j->keys };
    return grow_parallel(&j->cap, j->cap + 1, j->keys ? 2 : 1, cols, sizes);
}

static int join_offer(void *ctx, const couponstore_offer_t *o)
{
    join_t *j = ctx;
    uplift_log_t *l;
    char who[STORE_MAX_ID + 1];
    uint32_t idx;
    int rc;

    if (o->time_ms > j->now_ms - j->window_ms)
        return 0;
    if (j->n == j->cap && (rc = join_grow(j)) != 0)
        return rc;
    /* An offer logged for an id merged since (store_links.h): the person's
     * purchases now live under the survivor, and they are one customer
     * when splitting by customer. */
    if ((rc = store_resolve_customer(j->s, o->customer_id, who)) < 0)
        return rc;
    if (j->keys) {
        j->keys[j->n].customer = uplift_customer_key(who);
        couponstore_uplift_key_t *k = &j->keys[j->n];
        couponstore_copy_id(k->coupon_id, o->coupon_id, sizeof k->coupon_id);
        couponstore_copy_id(k->customer_id, who, sizeof k->customer_id);
        couponstore_copy_id(k->request_id, o->request_id, sizeof k->request_id);
        k->outcome = o->outcome;
        k->value = o->numbers.value;
    }
    l = &j->logs[j->n++];
    memset(l, 0, sizeof *l);
    l->x = o->x;
    l->treated = o->coupon_id[0] != '\0';
    l->assign_prob = o->assign_prob;
    j->from_ms = o->time_ms;
    j->until_ms = o->time_ms + j->window_ms;
    j->cur = l;
    rc = store_customer_index(j->s, who, &idx);
    if (rc == 0)
        rc = store_customer_events(j->s, idx, add_purchase, j);
    if (rc && rc != -ENOENT)
        return rc;
    for (size_t i = 0; l->treated && i < j->n_red; i++)
        if ((strcmp(j->red[i].customer_id, o->customer_id) == 0 ||
             strcmp(j->red[i].customer_id, who) == 0) &&
            strcmp(j->red[i].coupon_id, o->coupon_id) == 0 &&
            j->red[i].time_ms > j->from_ms && j->red[i].time_ms <= j->until_ms)
            l->cost += j->red[i].discount;
    return 0;
}

int couponstore_uplift_logs(store_t *s, int64_t window_ms, int64_t now_ms,
                            uplift_log_t **out, couponstore_uplift_key_t **keys,
                            size_t *n)
{
    join_t j;
    uint32_t n_cust;
    int rc;

    if (!s || window_ms <= 0 || !out || !n)
        return -EINVAL;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.window_ms = window_ms;
    j.now_ms = now_ms;
    /* A non-NULL placeholder until join_grow sizes it with the rows. */
    if (keys && !(j.keys = malloc(sizeof *j.keys)))
        return -ENOMEM;
    if ((rc = store_counts(s, &n_cust, &j.n_items)) == 0 &&
        !(j.unit_cost = calloc(j.n_items ? j.n_items : 1, sizeof *j.unit_cost)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = store_scan_items(s, collect_cost, &j);
    if (rc == 0)
        rc = store_table_scan(s, T_REDEEM, NULL, 0, collect_redemption, &j);
    if (rc == 0)
        rc = couponstore_scan_offers(s, join_offer, &j);
    free(j.unit_cost);
    free(j.red);
    if (rc) {
        free(j.logs);
        free(j.keys);
        j.logs = NULL;
        j.keys = NULL;
        j.n = 0;
    }
    *out = j.logs;
    if (keys)
        *keys = j.keys;
    *n = j.n;
    return rc;
}
