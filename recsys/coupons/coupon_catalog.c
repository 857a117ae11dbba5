/*
 * coupon_catalog.c - coupon catalog snapshots and their slot
 * (coupon_catalog.h). Reads go through couponstore_load_catalog, the one
 * decoder of stored coupons.
 */
#include "coupon_catalog.h"

#include <errno.h>
#include <stdlib.h>

#include "couponstore.h"

int coupon_catalog_load(store_t *s, coupon_catalog_t **out)
{
    coupon_catalog_t *c = calloc(1, sizeof *c);
    int rc;

    if (!c)
        return -ENOMEM;
    if ((rc = couponstore_load_catalog(s, &c->coupons, &c->n)) != 0) {
        free(c);
        return rc;
    }
    atomic_init(&c->refs, 1);
    *out = c;
    return 0;
}

coupon_catalog_t *coupon_catalog_ref(coupon_catalog_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void coupon_catalog_unref(coupon_catalog_t *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        free(c->coupons);
        free(c);
    }
}

void coupon_catalog_slot_init(coupon_catalog_slot_t *slot)
{
    pthread_mutex_init(&slot->mu, NULL);
    pthread_mutex_init(&slot->build_mu, NULL);
    slot->cur = NULL;
}

void coupon_catalog_slot_destroy(coupon_catalog_slot_t *slot)
{
    coupon_catalog_unref(slot->cur);
    slot->cur = NULL;
    pthread_mutex_destroy(&slot->mu);
    pthread_mutex_destroy(&slot->build_mu);
}

coupon_catalog_t *coupon_catalog_slot_get(coupon_catalog_slot_t *slot)
{
    coupon_catalog_t *c;
    pthread_mutex_lock(&slot->mu);
    c = slot->cur ? coupon_catalog_ref(slot->cur) : NULL;
    pthread_mutex_unlock(&slot->mu);
    return c;
}

int coupon_catalog_slot_reload(coupon_catalog_slot_t *slot, store_t *s)
{
    coupon_catalog_t *fresh, *old = NULL;
    int rc;

    pthread_mutex_lock(&slot->build_mu);
    if ((rc = coupon_catalog_load(s, &fresh)) == 0) {
        pthread_mutex_lock(&slot->mu);
        old = slot->cur;
        slot->cur = fresh;
        pthread_mutex_unlock(&slot->mu);
    }
    pthread_mutex_unlock(&slot->build_mu);
    coupon_catalog_unref(old);
    return rc;
}
