/*
 * test_diversify.c - maximal marginal relevance and category caps on small
 * pools where the right list is known by hand.
 */
#include <errno.h>
#include <math.h>

#include "diversify.h"
#include "testutil.h"

enum { F = 2 };

/* Items 0..5: unit vectors and categories. 0 and 1 point the same way; 2 is
 * orthogonal to them; 3 is between; 4 and 5 are near 2. */
static const float unit[6 * F] = {
    1, 0,  1, 0,  0, 1,  0.70710678f, 0.70710678f,  0.1f, 0.99498744f,
    0.2f, 0.97979590f,
};
static const uint32_t cat[6] = { 0, 0, 1, 2, 1, 1 };

/* A pool in relevance order 0..5 with falling scores. */
static const topk_hit_t pool[6] = {
    { 0, 10.0f }, { 1, 9.5f }, { 2, 8.0f }, { 3, 7.0f }, { 4, 6.0f }, { 5, 5.0f },
};

static size_t pick(float lambda, uint32_t cap, uint32_t k, uint32_t *ids)
{
    div_params_t p = { lambda, cap };
    topk_hit_t out[6];
    size_t n = 99;
    CHECK_EQ_INT(diversify(pool, 6, unit, F, cat, 3, &p, k, out, &n), 0);
    for (size_t i = 0; i < n; i++) {
        ids[i] = out[i].id;
        CHECK(out[i].score == pool[out[i].id].score); /* scores kept */
    }
    return n;
}

static void test_relevance_order_without_settings(void)
{
    uint32_t ids[6];
    div_params_t none = { 0, 0 };
    CHECK(!div_active(&none));
    CHECK_EQ_INT(pick(0, 0, 4, ids), 4);
    for (uint32_t i = 0; i < 4; i++)
        CHECK_EQ_INT(ids[i], i);
}

static void test_mmr_skips_near_duplicates(void)
{
    uint32_t ids[6];
    /* 1 is a copy of 0: with equal weight on novelty the orthogonal 2 comes
     * second (0.5 x 0.6 - 0 beats 0.5 x 0.9 - 0.5 x 1), then 1 (-0.05)
     * before 3, which is 0.71 like both (0.5 x 0.4 - 0.5 x 0.71). */
    CHECK_EQ_INT(pick(0.5f, 0, 3, ids), 3);
    CHECK_EQ_INT(ids[0], 0);
    CHECK_EQ_INT(ids[1], 2);
    CHECK_EQ_INT(ids[2], 1);
    /* More weight on novelty: 3 before the copy 1. */
    CHECK_EQ_INT(pick(0.8f, 0, 3, ids), 3);
    CHECK_EQ_INT(ids[2], 3);
    /* A little weight only breaks near ties: 1 (9.5) still beats 2 (8). */
    CHECK_EQ_INT(pick(0.05f, 0, 2, ids), 2);
    CHECK_EQ_INT(ids[1], 1);
    /* lambda 1: the first is the most relevant, then the least similar. */
    CHECK_EQ_INT(pick(1.0f, 0, 2, ids), 2);
    CHECK_EQ_INT(ids[0], 0);
    CHECK_EQ_INT(ids[1], 2);
}

static void test_category_cap(void)
{
    uint32_t ids[6];
    /* One per category, in relevance order: 0 (cat 0), 2 (cat 1), 3 (cat 2). */
    CHECK_EQ_INT(pick(0, 1, 3, ids), 3);
    CHECK_EQ_INT(ids[0], 0);
    CHECK_EQ_INT(ids[1], 2);
    CHECK_EQ_INT(ids[2], 3);
    /* Only three categories: asking for five gives three. */
    CHECK_EQ_INT(pick(0, 1, 5, ids), 3);
    /* Two per category: 0 1 (cat 0), 2 4 (cat 1), 3 (cat 2); 5 is left. */
    CHECK_EQ_INT(pick(0, 2, 6, ids), 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(ids[i] != 5);
}

static void test_edges(void)
{
    div_params_t bad[] = { { -0.1f, 0 }, { 1.5f, 0 }, { NAN, 0 } };
    div_params_t ok = { 0.3f, 0 };
    topk_hit_t out[6];
    size_t n = 99;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(div_params_invalid(&bad[i]) != NULL);
        CHECK(strstr(div_params_invalid(&bad[i]), "diversity") != NULL);
        CHECK_EQ_INT(diversify(pool, 6, unit, F, cat, 3, &bad[i], 2, out, &n), -EINVAL);
    }
    /* An empty pool gives an empty list. */
    CHECK_EQ_INT(diversify(pool, 0, unit, F, cat, 3, &ok, 2, out, &n), 0);
    CHECK_EQ_INT(n, 0);
    /* Equal scores everywhere: still deterministic, every item once. */
    {
        topk_hit_t flat[6];
        uint32_t seen = 0;
        for (uint32_t i = 0; i < 6; i++)
            flat[i] = (topk_hit_t){ i, 1.0f };
        CHECK_EQ_INT(diversify(flat, 6, unit, F, cat, 3, &ok, 6, out, &n), 0);
        CHECK_EQ_INT(n, 6);
        for (size_t i = 0; i < n; i++)
            seen |= 1u << out[i].id;
        CHECK_EQ_INT(seen, 0x3f);
        CHECK_EQ_INT(out[0].id, 0);
    }
    CHECK_EQ_INT(div_pool_size(10, 1000), 90);
    CHECK_EQ_INT(div_pool_size(10, 60), 60);
    CHECK_EQ_INT(div_pool_size(1000, 100000), 4050);
}

/* Items without a category (ids past n_cat) are capped as one group. */
static void test_uncategorized_capped_together(void)
{
    static const uint32_t none[6] = { UINT32_MAX, UINT32_MAX, 1, UINT32_MAX, 7, 0 };
    div_params_t p = { 0, 1 };
    topk_hit_t out[6];
    size_t n = 99;
    /* 0 (none), 1 (none: full), 2 (cat 1), 3 (none: full), 4 (7 >= n_cat:
     * none, full), 5 (cat 0). */
    CHECK_EQ_INT(diversify(pool, 6, unit, F, none, 3, &p, 6, out, &n), 0);
    CHECK_EQ_INT(n, 3);
    CHECK(n == 3 && out[0].id == 0 && out[1].id == 2 && out[2].id == 5);
}

int main(void)
{
    test_relevance_order_without_settings();
    test_mmr_skips_near_duplicates();
    test_category_cap();
    test_edges();
    test_uncategorized_capped_together();
    TEST_MAIN_END();
}
