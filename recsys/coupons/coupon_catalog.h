/*
 * coupon_catalog.h - an immutable, reference-counted snapshot of the coupon
 * definitions (couponstore's catalog table), plus the slot holding the one
 * TargetCoupons decides from.
 *
 * Coupons change rarely (UpsertCoupon) and are read on every TargetCoupons
 * call, so the catalog is read from the store once per change, not once per
 * call: the slot is reloaded after each successful write, and a call pins
 * the snapshot it decides from. A snapshot never changes after
 * coupon_catalog_load returns; any number of threads may read it.
 */
#ifndef PATRON_RECSYS_COUPON_CATALOG_H
#define PATRON_RECSYS_COUPON_CATALOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "coupon.h"
#include "store.h"

typedef struct coupon_catalog {
    coupon_t *coupons;   /* n, in id order (NULL when empty) */
    size_t n;
    atomic_int refs;
} coupon_catalog_t;

/* Reads every stored coupon into a new snapshot with one reference.
 * Returns 0, -ENOMEM or a store error. */
int coupon_catalog_load(store_t *s, coupon_catalog_t **out);

coupon_catalog_t *coupon_catalog_ref(coupon_catalog_t *c); /* returns c */
void coupon_catalog_unref(coupon_catalog_t *c); /* NULL-safe; frees on the last */

typedef struct coupon_catalog_slot {
    pthread_mutex_t mu;        /* guards cur */
    pthread_mutex_t build_mu;  /* one reload at a time: the last built is newest */
    coupon_catalog_t *cur;
} coupon_catalog_slot_t;

void coupon_catalog_slot_init(coupon_catalog_slot_t *slot);
void coupon_catalog_slot_destroy(coupon_catalog_slot_t *slot); /* drops cur */
/* The current snapshot with a reference taken (drop with
 * coupon_catalog_unref), or NULL before the first reload. */
coupon_catalog_t *coupon_catalog_slot_get(coupon_catalog_slot_t *slot);
/* Builds a snapshot from the store and installs it; call after each
 * committed coupon write. On error the old one stays. Returns 0 or
 * coupon_catalog_load's error. */
int coupon_catalog_slot_reload(coupon_catalog_slot_t *slot, store_t *s);

#endif
