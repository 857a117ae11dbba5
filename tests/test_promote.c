/*
 * test_promote.c - merchandising slots: where promoted items go, what gives
 * way, and the checks on a promotion.
 */
#include "promote.h"
#include "testutil.h"

enum { K = 8 };

/* Items 0..6 are the ranked list's; 10..13 are promoted. */
static uint64_t in[1];

static size_t merge(const uint32_t *ids, size_t n, uint32_t k, const uint32_t *promo,
                    size_t n_promo, uint32_t slots, uint32_t *got, uint8_t *flags)
{
    topk_hit_t list[K], p[K];
    size_t len;
    for (size_t i = 0; i < n; i++)
        list[i] = (topk_hit_t){ ids[i], 10.0f - (float)i };
    for (size_t i = 0; i < n_promo; i++)
        p[i] = (topk_hit_t){ promo[i], 1.0f - 0.1f * (float)i };
    len = promo_merge(list, n, k, p, n_promo, slots, in, flags);
    for (size_t i = 0; i < len; i++)
        got[i] = list[i].id;
    return len;
}

static void check_ids(const uint32_t *got, size_t n, const uint32_t *want, size_t nw)
{
    CHECK_EQ_INT(n, nw);
    for (size_t i = 0; i < n && i < nw; i++)
        CHECK_EQ_INT(got[i], want[i]);
}

static void test_merge(void)
{
    static const uint32_t list5[] = { 0, 1, 2, 3, 4 };
    static const uint32_t with12[] = { 0, 12, 1, 2, 3 };
    static const uint32_t promo[] = { 10, 11, 13 };
    uint32_t got[K];
    uint8_t flags[K];
    size_t n;

    in[0] = (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13);
    /* Two slots in a full list of 5: the two lowest (4, 3) give way, the
     * promoted go to places 5/3 = 1 and 10/3 = 3. */
    n = merge(list5, 5, 5, promo, 3, 2, got, flags);
    check_ids(got, n, (const uint32_t[]){ 0, 10, 1, 11, 2 }, 5);
    CHECK(!flags[0] && flags[1] && !flags[2] && flags[3] && !flags[4]);
    /* One promoted item ranked there already counts: one more is added. */
    n = merge(with12, 5, 5, promo, 3, 2, got, flags);
    check_ids(got, n, (const uint32_t[]){ 0, 12, 10, 1, 2 }, 5);
    CHECK(flags[1] && flags[2] && !flags[3]);
    /* Enough already listed: nothing changes. */
    n = merge(with12, 5, 5, promo, 3, 1, got, flags);
    check_ids(got, n, with12, 5);
    /* A short list (fewer items pass than k) grows instead of dropping. */
    n = merge(list5, 2, 5, promo, 3, 2, got, flags);
    check_ids(got, n, (const uint32_t[]){ 0, 10, 11, 1 }, 4);
    /* Fewer promoted items pass than slots: what there is. */
    n = merge(list5, 5, 5, promo, 1, 3, got, flags);
    check_ids(got, n, (const uint32_t[]){ 0, 1, 10, 2, 3 }, 5);
    n = merge(list5, 5, 5, promo, 0, 3, got, flags);
    check_ids(got, n, list5, 5);
    /* Every place promoted. */
    n = merge(list5, 2, 2, promo, 3, 2, got, flags);
    check_ids(got, n, (const uint32_t[]){ 10, 11 }, 2);
    CHECK(flags[0] && flags[1]);
    /* Listed members never give way: with members at the bottom, the
     * lowest non-members drop. */
    {
        static const uint32_t tail[] = { 0, 1, 2, 12, 13 };
        n = merge(tail, 5, 5, promo, 3, 3, got, flags);
        check_ids(got, n, (const uint32_t[]){ 0, 1, 10, 12, 13 }, 5);
    }
}

static void test_validation(void)
{
    const char *ids[] = { "a" }, *empty[] = { "" }, *cats[] = { "books" };
    rec_promotion_t ok = { ids, 1, cats, 1, 2 }, none = { 0 };
    rec_promotion_t no_slots = { ids, 1, NULL, 0, 0 };
    rec_promotion_t too_many = { ids, 1, NULL, 0, 11 };
    rec_promotion_t no_set = { NULL, 0, NULL, 0, 1 };
    rec_promotion_t empty_id = { empty, 1, NULL, 0, 1 };

    CHECK(promo_invalid(&ok, 10) == NULL);
    CHECK(promo_invalid(NULL, 10) == NULL);
    CHECK(promo_invalid(&none, 10) == NULL);
    CHECK(!promo_active(&none) && !promo_active(NULL) && promo_active(&ok));
    CHECK(strstr(promo_invalid(&no_slots, 10), "promotion.slots") != NULL);
    CHECK(strstr(promo_invalid(&too_many, 10), "promotion.slots") != NULL);
    CHECK(strstr(promo_invalid(&no_set, 10), "promotion") != NULL);
    CHECK(strstr(promo_invalid(&empty_id, 10), "promotion.item_ids") != NULL);
}

int main(void)
{
    test_merge();
    test_validation();
    TEST_MAIN_END();
}
