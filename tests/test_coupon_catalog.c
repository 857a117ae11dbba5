/*
 * test_coupon_catalog.c - coupon catalog snapshots: an empty store gives an
 * empty snapshot, a reload after a write shows it (replaced definitions
 * too, in id order), and a call that pinned the old snapshot keeps deciding
 * from it and frees it when done.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coupon_catalog.h"
#include "couponstore.h"
#include "testcoupon.h"
#include "testutil.h"

#define T0 1718000000000LL
#define DAY 86400000LL

static coupon_t fixed_coupon(const char *id, double amount)
{
    return test_fixed_coupon(id, "spring", amount, 100, T0);
}

int main(void)
{
    store_t *s = NULL;
    coupon_catalog_slot_t slot;
    coupon_catalog_t *pinned, *now;
    coupon_t c = fixed_coupon("b-fix", 2.0);
    const char *why = NULL;

    CHECK_EQ_INT(store_open(test_tmpdir("coupon-catalog"), 64u << 20, &s), 0);
    if (!s)
        return 1;
    coupon_catalog_slot_init(&slot);
    CHECK(coupon_catalog_slot_get(&slot) == NULL);
    CHECK_EQ_INT(coupon_catalog_slot_reload(&slot, s), 0);
    pinned = coupon_catalog_slot_get(&slot);
    CHECK(pinned && pinned->n == 0);

    /* A write is seen after the reload; the pinned snapshot is unchanged
     * and the caller's reference is the last one. */
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, &why), 0);
    CHECK_EQ_INT(coupon_catalog_slot_reload(&slot, s), 0);
    CHECK(pinned && pinned->n == 0 && atomic_load(&pinned->refs) == 1);
    coupon_catalog_unref(pinned);              /* frees it (ASan checks) */
    now = coupon_catalog_slot_get(&slot);
    CHECK(now && now->n == 1 && strcmp(now->coupons[0].id, "b-fix") == 0);
    pinned = now;

    /* A replaced definition and a new coupon, in id order. */
    c = fixed_coupon("a-fix", 3.0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, &why), 0);
    c = fixed_coupon("b-fix", 5.0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, &why), 0);
    CHECK_EQ_INT(coupon_catalog_slot_reload(&slot, s), 0);
    now = coupon_catalog_slot_get(&slot);
    CHECK(now && now->n == 2);
    if (now && now->n == 2) {
        CHECK_STREQ(now->coupons[0].id, "a-fix");
        CHECK(now->coupons[1].benefit[0].amount == 5.0);
    }
    CHECK(pinned->coupons[0].benefit[0].amount == 2.0);
    CHECK(coupon_catalog_ref(now) == now && atomic_load(&now->refs) == 3);
    coupon_catalog_unref(now);
    coupon_catalog_unref(now);
    coupon_catalog_unref(pinned);
    coupon_catalog_unref(NULL);
    coupon_catalog_slot_destroy(&slot);
    store_close(s);
    TEST_MAIN_END();
}
