/*
 * test_copurchase.c - copurchase.h on a hand-built purchase log: baskets
 * grouped by the anchored order gap, exact pair counts, the shrunk-lift
 * score worked out by hand, min_support, the kept order, a cart's
 * complements (cart items and denied items left out, because = the cart
 * item contributing most, k), the factor-neighbour fallback for an item
 * with little support, and the stored form (round trip, corruption).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "copurchase.h"
#include "testutil.h"

#define MIN (60 * 1000LL)

/*
 * c0: items 0,1,2 within two minutes; then 0,1 an hour later.
 * c1: 0 at 0, 1 at 20 min, 3 at 40 min: anchored at the first purchase, so
 *     {0,1} and {3} (a chained gap would make one basket).
 * c2: 2 and 4 together, 2 twice (counted once).
 * Baskets {0,1,2} {0,1} {0,1} {3} {2,4}: N = 5; n_0 = n_1 = 3, n_2 = 2,
 * n_3 = n_4 = 1; n_01 = 3, n_02 = n_12 = n_24 = 1.
 */
static const uint32_t cust[] = { 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2 };
static const uint32_t item[] = { 0, 1, 2, 0, 1, 0, 1, 3, 2, 4, 2 };
static const int64_t when[] = { 0, 1 * MIN, 2 * MIN, 60 * MIN, 61 * MIN, 0, 20 * MIN,
                                40 * MIN, 5, 6, 7 };
#define N_PURCHASES (sizeof cust / sizeof cust[0])

static void build(uint32_t min_support, float lift_exp, copurchase_t *cp)
{
    copurchase_params_t p;
    copurchase_baskets_t b;
    copurchase_params_default(&p);
    p.min_support = min_support;
    p.prior = 1.0f;
    p.lift_exp = lift_exp;
    CHECK_EQ_INT(copurchase_baskets_from(cust, item, when, N_PURCHASES, 5, &p, &b), 0);
    CHECK_EQ_INT((int)b.items.n_rows, 5);
    CHECK_EQ_INT(copurchase_build(&b, &p, cp), 0);
    copurchase_baskets_free(&b);
}

static void test_counts_and_scores(void)
{
    copurchase_t cp;
    build(1, 1.0f, &cp);
    CHECK_EQ_INT((int)cp.n_baskets, 5);
    CHECK_EQ_INT((int)cp.item_baskets[0], 3);
    CHECK_EQ_INT((int)cp.item_baskets[2], 2);
    CHECK_EQ_INT((int)cp.item_baskets[3], 1);
    CHECK_EQ_INT((int)copurchase_count(&cp, 0, 1), 3);
    CHECK_EQ_INT((int)copurchase_count(&cp, 1, 0), 3);
    CHECK_EQ_INT((int)copurchase_count(&cp, 0, 2), 1);
    CHECK_EQ_INT((int)copurchase_count(&cp, 2, 4), 1);
    CHECK_EQ_INT((int)copurchase_count(&cp, 0, 3), 0); /* different baskets */
    CHECK_EQ_INT((int)copurchase_count(&cp, 1, 3), 0);
    CHECK_EQ_INT((int)(cp.ptr[4] - cp.ptr[3]), 0);      /* 3 was bought alone */
    /* score(0 -> 1) = 3/3 * (3 + 1) / (9/5 + 1) = 1.428571 */
    CHECK(cp.partner[cp.ptr[0]] == 1 && fabsf(cp.score[cp.ptr[0]] - 1.428571f) < 1e-5f);
    /* item 2: 4 (1/2 * 2 / 1.4 = 0.714286), then 0 and 1 (1/2 * 2 / 2.2 =
     * 0.454545 each; the tie goes to the lower index). */
    CHECK_EQ_INT((int)(cp.ptr[3] - cp.ptr[2]), 3);
    CHECK_EQ_INT((int)cp.partner[cp.ptr[2]], 4);
    CHECK(fabsf(cp.score[cp.ptr[2]] - 0.714286f) < 1e-5f);
    CHECK_EQ_INT((int)cp.partner[cp.ptr[2] + 1], 0);
    CHECK_EQ_INT((int)cp.partner[cp.ptr[2] + 2], 1);
    CHECK(fabsf(cp.score[cp.ptr[2] + 1] - 0.454545f) < 1e-5f);
    copurchase_free(&cp);

    /* lift_exp 0: P(j | i), the raw co-occurrence order: 2 -> 0 = 1/2. */
    build(1, 0.0f, &cp);
    CHECK(fabsf(cp.score[cp.ptr[2] + 0] - 0.5f) < 1e-6f);
    copurchase_free(&cp);

    /* min_support 2: only the pair seen three times is left. */
    build(2, 1.0f, &cp);
    CHECK_EQ_INT((int)(cp.ptr[1] - cp.ptr[0]), 1);
    CHECK_EQ_INT((int)(cp.ptr[3] - cp.ptr[2]), 0);
    CHECK_EQ_INT((int)copurchase_count(&cp, 0, 2), 0);
    copurchase_free(&cp);
}

static void test_cart(void)
{
    copurchase_t cp;
    copurchase_acc_t acc;
    copurchase_hit_t hits[8];
    uint64_t deny[1] = { 0 };
    size_t n;
    uint32_t one[] = { 2 }, two[] = { 0, 2, 2 };

    build(1, 1.0f, &cp);
    CHECK_EQ_INT(copurchase_acc_init(&acc, cp.n_items), 0);
    CHECK_EQ_INT(copurchase_complements(&cp, NULL, one, 1, NULL, 8, &acc, hits, &n), 0);
    CHECK_EQ_INT((int)n, 3);
    CHECK(hits[0].item == 4 && hits[1].item == 0 && hits[2].item == 1);
    CHECK(hits[0].because == 2);
    copurchase_acc_reset(&acc);

    deny[0] = 1u << 4; /* e.g. out of stock */
    CHECK_EQ_INT(copurchase_complements(&cp, NULL, one, 1, deny, 8, &acc, hits, &n), 0);
    CHECK(n == 2 && hits[0].item == 0);
    copurchase_acc_reset(&acc);

    /* Cart {0, 2}: 1 gets 1.428571 (from 0) + 0.454545 (from 2), credited
     * to 0; the cart's own items never come back; k cuts the list. */
    CHECK_EQ_INT(copurchase_complements(&cp, NULL, two, 3, NULL, 8, &acc, hits, &n), 0);
    CHECK_EQ_INT((int)n, 2);
    CHECK(hits[0].item == 1 && hits[0].because == 0);
    CHECK(fabsf(hits[0].score - 1.883117f) < 1e-5f);
    CHECK(hits[1].item == 4 && hits[1].because == 2);
    copurchase_acc_reset(&acc);
    CHECK_EQ_INT(copurchase_complements(&cp, NULL, two, 3, NULL, 1, &acc, hits, &n), 0);
    CHECK_EQ_INT((int)n, 1);
    copurchase_acc_reset(&acc);
    CHECK_EQ_INT(copurchase_complements(&cp, NULL, two, 3, NULL, 0, &acc, hits, &n), -EINVAL);
    copurchase_acc_free(&acc);
    copurchase_free(&cp);
}

/* Item 3's nearest neighbour in factor space is item 0. */
static int fake_similar(void *ctx, uint32_t it, uint32_t k, uint32_t *items, float *cos,
                        size_t *n)
{
    (void)ctx;
    *n = 0;
    if (it == 3 && k >= 1) {
        items[0] = 0;
        cos[0] = 0.8f;
        *n = 1;
    }
    return 0;
}

static void test_long_tail(void)
{
    copurchase_t cp;
    copurchase_acc_t acc;
    copurchase_hit_t hits[8];
    copurchase_tail_t tail = { fake_similar, NULL, 1, 10 };
    uint32_t cart[] = { 3 };
    size_t n;

    build(1, 1.0f, &cp);
    CHECK_EQ_INT(copurchase_acc_init(&acc, cp.n_items), 0);
    /* Without the fallback item 3 (bought alone) has no complement. */
    CHECK_EQ_INT(copurchase_complements(&cp, NULL, cart, 1, NULL, 8, &acc, hits, &n), 0);
    CHECK_EQ_INT((int)n, 0);
    copurchase_acc_reset(&acc);
    /* n_3 = 1, support 1: w = 1/2, so 3 borrows half of 0's partners. */
    CHECK_EQ_INT(copurchase_complements(&cp, &tail, cart, 1, NULL, 8, &acc, hits, &n), 0);
    CHECK_EQ_INT((int)n, 2);
    CHECK(hits[0].item == 1 && fabsf(hits[0].score - 0.714286f) < 1e-5f);
    CHECK(hits[0].because == 3);
    CHECK(hits[1].item == 2 && fabsf(hits[1].score - 0.151515f) < 1e-5f);
    copurchase_acc_free(&acc);
    copurchase_free(&cp);
}

static void test_blob(void)
{
    copurchase_t cp, back;
    void *buf;
    size_t len;

    build(1, 1.0f, &cp);
    CHECK_EQ_INT(copurchase_encode(&cp, &buf, &len), 0);
    CHECK_EQ_INT(copurchase_decode(buf, len, &back), 0);
    CHECK_EQ_INT((int)back.n_items, 5);
    CHECK_EQ_INT((int)back.n_baskets, 5);
    CHECK(back.ptr[5] == cp.ptr[5]);
    CHECK(memcmp(back.score, cp.score, cp.ptr[5] * sizeof(float)) == 0);
    CHECK_EQ_INT((int)copurchase_count(&back, 0, 1), 3);
    CHECK(back.params.prior == 1.0f && back.params.lift_exp == 1.0f);
    copurchase_free(&back);
    CHECK_EQ_INT(copurchase_decode(buf, len - 1, &back), -EINVAL);   /* truncated */
    ((unsigned char *)buf)[0] ^= 1;                                  /* not ours */
    CHECK_EQ_INT(copurchase_decode(buf, len, &back), -EINVAL);
    ((unsigned char *)buf)[0] ^= 1;
    /* A partner index out of range (the first partner sits after the
     * header, n_i and the offsets). */
    size_t at = 8 * 4 + 2 * 4 + 8 + 5 * 4 + 6 * 8;
    uint32_t bad = 99;
    memcpy((unsigned char *)buf + at, &bad, 4);
    CHECK_EQ_INT(copurchase_decode(buf, len, &back), -EINVAL);
    free(buf);
    copurchase_free(&cp);
}

static void test_bad_input(void)
{
    copurchase_params_t p;
    copurchase_baskets_t b;
    uint32_t c2[] = { 0, 0 }, i2[] = { 0, 9 };
    int64_t t2[] = { 5, 1 };
    copurchase_params_default(&p);
    CHECK(copurchase_params_invalid(&p) == NULL);
    p.prior = 0;
    CHECK(copurchase_params_invalid(&p) != NULL);
    copurchase_params_default(&p);
    /* Out of time order within a customer; an item out of range. */
    CHECK_EQ_INT(copurchase_baskets_from(c2, item, t2, 2, 5, &p, &b), -EINVAL);
    t2[1] = 9;
    CHECK_EQ_INT(copurchase_baskets_from(c2, i2, t2, 2, 5, &p, &b), -EINVAL);
}

int main(void)
{
    test_counts_and_scores();
    test_cart();
    test_long_tail();
    test_blob();
    test_bad_input();
    TEST_MAIN_END();
}
