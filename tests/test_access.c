/*
 * test_access.c - members-only items, early access and member prices
 * (recsys/serve/access.h, catalog terms in recsys/catalog/catalog_terms.c,
 * the tier side in recsys/app/members.h): items stored with their terms
 * round-trip through the store and the catalog (loaded and patched);
 * Recommend leaves out what the customer's tier does not allow and still
 * fills k; early access opens the item early_access_hours before release;
 * the customer's price is their list's member price, else the regular one;
 * bad terms are refused naming the field.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "access.h"
#include "catalog.h"
#include "members.h"
#include "model.h"
#include "recommend.h"
#include "store.h"
#include "testutil.h"

enum { N_ITEMS = 6, F = 2 };

#define HOUR 3600000LL
#define NOW 1800000000000LL

static const store_member_price_t GOLD_PRICE[] = { { "gold_prices", 7.5 },
                                                   { "silver_prices", 9 } };

/* a: gold only; b: released in 2 hours; c: released in 30 hours; d: member
 * prices; e, f: plain. Scores for alice: a > b > c > d > e > f. */
static void setup(store_t *s)
{
    static const char *ids[N_ITEMS] = { "a", "b", "c", "d", "e", "f" };
    store_item_t items[N_ITEMS];
    float uf[1 * F] = { 1, 0 };
    float itf[N_ITEMS * F] = { 6, 1, 5, 2, 4, 3, 3, 4, 2, 5, 1, 6 };
    float pop[N_ITEMS] = { 6, 5, 4, 3, 2, 1 };
    store_model_hdr_t h = { .factors = F, .n_users = 1, .n_items = N_ITEMS,
                            .reg = 0.1f, .alpha = 1, .alpha0 = 1, .w_view = 1,
                            .w_cart = 2, .w_purchase = 4, .w_refund = 4 };
    store_event_t ev = { "e1", "alice", "f", STORE_EVENT_VIEW, 100, 1, 1, NULL };
    uint8_t out[1];
    const char *why[1];

    for (int i = 0; i < N_ITEMS; i++)
        items[i] = (store_item_t){ .item_id = ids[i], .category = "c", .price = 10,
                                   .unit_cost = 1, .in_stock = 1 };
    items[0].member_tier = "gold";
    items[1].release_ms = NOW + 2 * HOUR;
    items[2].release_ms = NOW + 30 * HOUR;
    items[3].member_prices = GOLD_PRICE;
    items[3].n_member_prices = 2;
    CHECK_EQ_INT(store_upsert_items(s, items, N_ITEMS, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, &ev, 1, out, why), 0);
    CHECK_EQ_INT(store_event_seq(s, &h.train_seq), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
}

/* A ranking bronze < silver < gold, the customer holding `tier`, gold
 * seeing new items 24 hours early. */
static rec_access_t access_of(int tier, int64_t now)
{
    rec_access_t a = { .n_tiers = 3, .tier = tier, .now_ms = now };
    strcpy(a.tier_names[0], "bronze");
    strcpy(a.tier_names[1], "silver");
    strcpy(a.tier_names[2], "gold");
    if (tier == 2) {
        a.early_access_ms = 24 * HOUR;
        strcpy(a.price_list, "gold_prices");
    }
    return a;
}

/* The ids recommended (k = n_items) to alice under a, concatenated. */
static const char *answer(store_t *s, const model_t *m, const catalog_t *c,
                          const rec_access_t *a, uint32_t k)
{
    static char ids[N_ITEMS + 1];
    rec_query_t q = { .customer_id = "alice", .k = k, .access = a };
    rec_item_t out[N_ITEMS];
    size_t n = 0;
    int pers = 0;

    CHECK_EQ_INT(rec_recommend(s, m, c, &q, out, &n, &pers), 0);
    for (size_t i = 0; i < n; i++)
        ids[i] = c->ids[out[i].item][0];
    ids[n] = '\0';
    return ids;
}

static void test_catalog_terms(const catalog_t *c)
{
    int member = -1;

    CHECK(c->terms[0] && strcmp(c->terms[0]->member_tier, "gold") == 0);
    CHECK(c->terms[1] && c->terms[1]->release_ms == NOW + 2 * HOUR);
    CHECK(c->terms[4] == NULL && c->terms[5] == NULL);
    CHECK_EQ_INT(c->n_gated, 3);
    CHECK_EQ_INT(c->n_members_only, 1);
    CHECK_EQ_INT(c->n_member_priced, 1);
    CHECK(c->last_release_ms == NOW + 30 * HOUR);
    CHECK(catalog_gates_at(c, NOW));
    /* the price a customer pays */
    CHECK(catalog_item_price(c, 3, "gold_prices", &member) == 7.5 && member == 1);
    CHECK(catalog_item_price(c, 3, "silver_prices", &member) == 9 && member == 1);
    CHECK(catalog_item_price(c, 3, "bronze_prices", &member) == 10 && member == 0);
    CHECK(catalog_item_price(c, 3, "", &member) == 10 && member == 0);
    CHECK(catalog_item_price(c, 4, "gold_prices", &member) == 10 && member == 0);
    CHECK(catalog_item_price(c, 3, NULL, NULL) == 10);
}

static void test_gating(store_t *s, const model_t *m, const catalog_t *c)
{
    rec_access_t none = access_of(-1, NOW), silver = access_of(1, NOW),
                 gold = access_of(2, NOW);

    /* gold sees its item and b (2 h to release, 24 h early access), not c
     * (30 h away); silver and no tier neither a nor the unreleased ones;
     * the list is still filled to k from the rest */
    CHECK_STREQ(answer(s, m, c, &gold, 4), "abde");
    CHECK_STREQ(answer(s, m, c, &silver, 3), "def");
    CHECK_STREQ(answer(s, m, c, &none, 6), "def");
    CHECK_STREQ(answer(s, m, c, NULL, 6), "def");
    /* after b's release everyone sees it; 6 h before c's, gold sees c */
    none.now_ms = silver.now_ms = NOW + 2 * HOUR;
    CHECK_STREQ(answer(s, m, c, &none, 6), "bdef");
    gold.now_ms = NOW + 24 * HOUR;
    CHECK_STREQ(answer(s, m, c, &gold, 6), "abcdef");
    /* exactly at the early-access boundary */
    gold.now_ms = NOW + 6 * HOUR - 1;
    CHECK_STREQ(answer(s, m, c, &gold, 6), "abdef");
    gold.now_ms = NOW + 6 * HOUR;
    CHECK_STREQ(answer(s, m, c, &gold, 6), "abcdef");
    /* a tier the ranking does not know hides the item from everyone */
    gold = access_of(2, NOW);
    strcpy(gold.tier_names[2], "Gold");
    CHECK(!rec_access_allows(c, 0, &gold));
    CHECK(rec_access_allows(c, 4, NULL));
    CHECK(!rec_access_allows(c, 1, NULL));
}

static void test_similar(const model_t *m, const catalog_t *c)
{
    rec_access_t none = access_of(-1, NOW), gold = access_of(2, NOW);
    rec_item_t out[N_ITEMS];
    size_t n = 0;

    CHECK_EQ_INT(rec_similar(m, c, 5, 5, NULL, &none, out, &n), 0);
    CHECK_EQ_INT(n, 2); /* d, e: a, b and c are gated */
    CHECK_EQ_INT(rec_similar(m, c, 5, 5, NULL, &gold, out, &n), 0);
    CHECK_EQ_INT(n, 4);
}

/* members_access_for_tier: the settings' ranking and the tier's benefits. */
static void test_members(void)
{
    profile_config_t cfg;
    rec_access_t a;

    profile_config_default(&cfg); /* bronze, silver, gold, platinum */
    cfg.tiers[2].benefits.early_access_hours = 48;
    strcpy(cfg.tiers[2].benefits.price_list, "gold_prices");
    members_access_for_tier(&cfg, 2, NOW, &a);
    CHECK_EQ_INT(a.n_tiers, 4);
    CHECK_STREQ(a.tier_names[3], "platinum");
    CHECK_EQ_INT(a.tier, 2);
    CHECK(a.early_access_ms == 48 * HOUR);
    CHECK_STREQ(a.price_list, "gold_prices");
    CHECK(a.now_ms == NOW);
    members_access_for_tier(&cfg, -1, NOW, &a);
    CHECK_EQ_INT(a.tier, -1);
    CHECK(a.early_access_ms == 0);
    CHECK_STREQ(a.price_list, "");
    members_access_for_tier(NULL, -1, NOW, &a);
    CHECK_EQ_INT(a.n_tiers, 0);
}

/* A patched snapshot carries the written terms, shares the others, and
 * one without gated items skips the tier. */
static void test_patch(store_t *s)
{
    catalog_slot_t slot;
    catalog_t *c;
    store_item_t w[2] = {
        { .item_id = "a", .category = "c", .price = 10, .unit_cost = 1, .in_stock = 1 },
        { .item_id = "g", .category = "c", .price = 4, .unit_cost = 1, .in_stock = 1,
          .member_tier = "silver" },
    };
    int rrc = -1;

    catalog_slot_init(&slot);
    CHECK_EQ_INT(catalog_slot_reload(&slot, s), 0);
    CHECK_EQ_INT(catalog_slot_upsert(&slot, s, w, 2, NULL, NULL, NULL, NULL, &rrc), 0);
    CHECK_EQ_INT(rrc, 0);
    c = catalog_slot_get(&slot);
    CHECK(c->terms[0] == NULL); /* a is public now */
    CHECK(c->terms[6] && strcmp(c->terms[6]->member_tier, "silver") == 0);
    CHECK(c->terms[3] && c->terms[3]->n_prices == 2);
    CHECK_EQ_INT(c->n_gated, 3);
    CHECK_EQ_INT(c->n_members_only, 1);
    CHECK(members_need_tier(c, NOW, 0));
    catalog_unref(c);
    /* g public and c, b released: nothing gates, prices only when shown */
    w[1].member_tier = NULL;
    CHECK_EQ_INT(catalog_slot_upsert(&slot, s, &w[1], 1, NULL, NULL, NULL, NULL, &rrc), 0);
    c = catalog_slot_get(&slot);
    CHECK(!catalog_gates_at(c, NOW + 30 * HOUR));
    CHECK(!members_need_tier(c, NOW + 30 * HOUR, 0));
    CHECK(members_need_tier(c, NOW + 30 * HOUR, 1));
    CHECK(members_need_tier(c, NOW, 0));
    catalog_unref(c);
    catalog_slot_destroy(&slot);
}

static void test_invalid(store_t *s)
{
    store_member_price_t neg[] = { { "gold", -1 } }, nan_p[] = { { "gold", NAN } },
                         twice[] = { { "gold", 1 }, { "gold", 2 } },
                         bad_name[] = { { "gold prices", 1 } }, none[] = { { "", 1 } };
    store_member_price_t many[STORE_MAX_MEMBER_PRICES + 1];
    char names[STORE_MAX_MEMBER_PRICES + 1][8];
    store_item_t it = { .item_id = "x", .price = 1 };
    const char *why = NULL;
    size_t bad = 99;

    it.member_prices = neg, it.n_member_prices = 1;
    CHECK(strstr(store_item_invalid(&it), "member_prices.price:") != NULL);
    it.member_prices = nan_p;
    CHECK(strstr(store_item_invalid(&it), "member_prices.price:") != NULL);
    it.member_prices = bad_name;
    CHECK(strstr(store_item_invalid(&it), "member_prices.price_list:") != NULL);
    it.member_prices = none;
    CHECK(strstr(store_item_invalid(&it), "member_prices.price_list:") != NULL);
    it.member_prices = twice, it.n_member_prices = 2;
    CHECK(strstr(store_item_invalid(&it), "given twice") != NULL);
    for (int i = 0; i <= STORE_MAX_MEMBER_PRICES; i++) {
        snprintf(names[i], sizeof names[i], "l%u", (unsigned)i % 100u);
        many[i] = (store_member_price_t){ names[i], 1 };
    }
    it.member_prices = many, it.n_member_prices = STORE_MAX_MEMBER_PRICES;
    CHECK(store_item_invalid(&it) == NULL);
    it.n_member_prices = STORE_MAX_MEMBER_PRICES + 1;
    CHECK(strstr(store_item_invalid(&it), "member_prices: at most 8") != NULL);
    it.n_member_prices = 0;
    it.member_tier = "go ld";
    CHECK(strstr(store_item_invalid(&it), "member_tier:") != NULL);
    it.member_tier = "gold";
    it.release_ms = -1;
    CHECK(strstr(store_item_invalid(&it), "release_unix_ms:") != NULL);
    it.release_ms = 0;
    CHECK(store_item_invalid(&it) == NULL);
    /* refused writes store nothing */
    it.member_prices = neg, it.n_member_prices = 1;
    CHECK_EQ_INT(store_upsert_items(s, &it, 1, NULL, NULL, &bad, &why), -EINVAL);
    CHECK_EQ_INT(bad, 0);
    CHECK(why && strstr(why, "member_prices.price") != NULL);
}

int main(void)
{
    store_t *s = NULL;
    model_t *m = NULL;
    catalog_t *c = NULL;

    CHECK_EQ_INT(store_open(test_tmpdir("access"), 64u << 20, &s), 0);
    if (!s)
        return 1;
    setup(s);
    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    CHECK_EQ_INT(catalog_load(s, &c), 0);
    if (!m || !c)
        return 1;
    test_catalog_terms(c);
    test_gating(s, m, c);
    test_similar(m, c);
    test_members();
    test_invalid(s);
    test_patch(s);
    catalog_unref(c);
    model_unref(m);
    store_close(s);
    TEST_MAIN_END();
}
