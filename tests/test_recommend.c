/*
 * test_recommend.c - the recommender over a hand-built model: personalized
 * order, exclusion of bought items (net of refunds, including purchases newer
 * than the model) while still returning exactly k, the popularity fallback,
 * and query validation. Also model snapshots and the serving slot.
 */
#include <errno.h>
#include <math.h>

#include "model.h"
#include "recommend.h"
#include "store.h"
#include "testutil.h"

enum { N_ITEMS = 6, F = 2 };

/* The catalog snapshot the answers are read with (loaded after setup). */
static catalog_t *cat;

static void setup(store_t *s)
{
    static const char *ids[N_ITEMS] = { "a", "b", "c", "d", "e", "f" };
    store_item_t items[N_ITEMS];
    /* alice (idx 0) likes dimension 0, bob (idx 1) dimension 1, zed (idx 2)
     * has no signal (all-zero factors). */
    float uf[3 * F] = { 1, 0, 0, 1, 0, 0 };
    /* item scores for alice: a=6 b=5 c=4 d=3 e=2 f=1; for bob reversed. */
    float itf[N_ITEMS * F] = { 6, 1, 5, 2, 4, 3, 3, 4, 2, 5, 1, 6 };
    float pop[N_ITEMS] = { 1, 2, 9, 3, 8, 0 }; /* c, e, d, b, a, f */
    store_model_hdr_t h = { .factors = F, .n_users = 3, .n_items = N_ITEMS,
                            .reg = 0.1f, .alpha = 1, .alpha0 = 1, .w_view = 1,
                            .w_cart = 2, .w_purchase = 4, .w_refund = 4 };
    store_event_t ev[] = {
        { "e1", "alice", "a", STORE_EVENT_PURCHASE, 100, 1, 1, NULL },
        { "e4", "alice", "c", STORE_EVENT_VIEW, 300, 1, 1, NULL },   /* only viewed */
        { "e5", "bob", "f", STORE_EVENT_CART, 100, 1, 1, NULL },
        { "e6", "zed", "c", STORE_EVENT_PURCHASE, 100, 1, 1, NULL },
    };
    uint8_t out[6];
    const char *why[6];

    static const char *cats[N_ITEMS] = { "kitchen", "kitchen", "books",
                                         "books", "garden", "garden" };
    static const double price[N_ITEMS] = { 10, 20, 5, 30, 15, 50 };
    for (int i = 0; i < N_ITEMS; i++)
        items[i] = (store_item_t){ .item_id = ids[i], .title = NULL, .category = cats[i],
                                   .price = price[i], .unit_cost = 1.0,
                                   .in_stock = i != 2 /* c is out of stock */ };
    CHECK_EQ_INT(store_upsert_items(s, items, N_ITEMS, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 4, out, why), 0);
    /* The model has seen every event so far. */
    CHECK_EQ_INT(store_event_seq(s, &h.train_seq), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
}

static size_t ask(store_t *s, const model_t *m, const char *who, uint32_t k,
                  int include, rec_item_t *out, int *personalized)
{
    rec_query_t q = { .customer_id = who, .k = k, .include_purchased = include };
    size_t n = 0;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, personalized), 0);
    return n;
}

static void test_personalized(store_t *s, const model_t *m)
{
    rec_item_t out[N_ITEMS];
    int pers = 0;
    size_t n = ask(s, m, "alice", 3, 0, out, &pers);

    CHECK(pers);
    CHECK_EQ_INT(n, 3);
    /* a is bought (excluded); c only viewed: allowed. */
    CHECK_STREQ(cat->ids[out[0].item], "b");
    CHECK_STREQ(cat->ids[out[1].item], "c");
    CHECK_STREQ(cat->ids[out[2].item], "d");
    /* alice touched 2 items: score = 2/3 x.y + 1/3 pop / max pop */
    CHECK(fabsf(out[0].score - (2.0f / 3 * 5 + 1.0f / 3 * 2.0f / 9)) < 1e-5f);
    CHECK_EQ_INT(out[0].reason, REC_REASON_PERSONALIZED);

    /* Exactly k even when k = catalog - bought. */
    n = ask(s, m, "alice", N_ITEMS - 1, 0, out, &pers);
    CHECK_EQ_INT(n, N_ITEMS - 1);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(cat->ids[out[i].item], "a") != 0);
    /* Asking for more than remain returns what remains. */
    CHECK_EQ_INT(ask(s, m, "alice", 100, 0, out, &pers), N_ITEMS - 1);
    /* include_purchased brings a back, on top. */
    n = ask(s, m, "alice", 1, 1, out, &pers);
    CHECK_STREQ(cat->ids[out[0].item], "a");

    n = ask(s, m, "bob", 2, 0, out, &pers);
    CHECK_STREQ(cat->ids[out[0].item], "f"); /* carted, not bought */
    CHECK_STREQ(cat->ids[out[1].item], "e");
}

static void test_fallbacks(store_t *s, const model_t *m)
{
    rec_item_t out[N_ITEMS];
    int pers = 1;
    size_t n = ask(s, m, "stranger", 3, 0, out, &pers);
    store_event_t late = { "e9", "alice", "b", STORE_EVENT_PURCHASE, 900, 1, 1, NULL };
    store_event_t newbie = { "e10", "newbie", "c", STORE_EVENT_PURCHASE, 900, 1, 1, NULL };
    uint8_t o;
    const char *why;

    CHECK(!pers);
    CHECK_EQ_INT(n, 3);
    CHECK_STREQ(cat->ids[out[0].item], "c");
    CHECK_STREQ(cat->ids[out[1].item], "e");
    CHECK_STREQ(cat->ids[out[2].item], "d");
    CHECK_EQ_INT(out[0].reason, REC_REASON_POPULAR);

    /* zed is in the model with zero factors but has a purchase: folded in
     * from it (c is like d), minus what zed bought. */
    n = ask(s, m, "zed", 2, 0, out, &pers);
    CHECK(pers);
    CHECK_EQ_INT(out[0].reason, REC_REASON_FOLD_IN);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(cat->ids[out[i].item], "c") != 0);

    /* A purchase recorded after training is excluded at once, and alice's
     * factors are folded in from her whole history now. */
    CHECK_EQ_INT(store_record_events(s, &late, 1, &o, &why), 0);
    n = ask(s, m, "alice", 4, 0, out, &pers);
    CHECK(pers && n == 4);
    CHECK_EQ_INT(out[0].reason, REC_REASON_FOLD_IN);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(cat->ids[out[i].item], "a") != 0 &&
              strcmp(cat->ids[out[i].item], "b") != 0);
    /* A brand-new customer is personalized from their first event. */
    CHECK_EQ_INT(store_record_events(s, &newbie, 1, &o, &why), 0);
    n = ask(s, m, "newbie", 1, 0, out, &pers);
    CHECK(pers);
    CHECK_EQ_INT(out[0].reason, REC_REASON_FOLD_IN);
    CHECK(strcmp(cat->ids[out[0].item], "c") != 0);
}

/* Runs a filtered query for alice and returns the ids joined, e.g. "bde". */
static const char *filtered(store_t *s, const model_t *m, const rec_filters_t *f,
                            int exclude_viewed)
{
    static char got[N_ITEMS + 1];
    rec_item_t out[3];
    rec_query_t q = { .customer_id = "alice", .k = 3, .filters = f,
                      .exclude_viewed = exclude_viewed };
    size_t n = 0;
    int pers;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    for (size_t i = 0; i < n; i++)
        got[i] = cat->ids[out[i].item][0];
    got[n] = '\0';
    return got;
}

static void test_filters(store_t *s, const model_t *m)
{
    const char *books[] = { "books" }, *kitchen[] = { "kitchen" },
               *books_garden[] = { "books", "garden", "no-such-category" },
               *ex[] = { "b", "no-such-item" };
    rec_filters_t f;

    /* alice's order without filters: b c d (a is bought). */
    CHECK_STREQ(filtered(s, m, NULL, 0), "bcd");
    f = (rec_filters_t){ .allow_categories = books, .n_allow = 1 };
    CHECK_STREQ(filtered(s, m, &f, 0), "cd"); /* fewer than k pass */
    f = (rec_filters_t){ .deny_categories = kitchen, .n_deny = 1 };
    CHECK_STREQ(filtered(s, m, &f, 0), "cde");
    f = (rec_filters_t){ .min_price = 12, .max_price = 40 };
    CHECK_STREQ(filtered(s, m, &f, 0), "bde");
    f = (rec_filters_t){ .min_price = 15, .max_price = 15 }; /* bounds inclusive */
    CHECK_STREQ(filtered(s, m, &f, 0), "e");
    f = (rec_filters_t){ .in_stock_only = 1 };
    CHECK_STREQ(filtered(s, m, &f, 0), "bde");
    f = (rec_filters_t){ .exclude_items = ex, .n_exclude = 2 };
    CHECK_STREQ(filtered(s, m, &f, 0), "cde");
    CHECK_STREQ(filtered(s, m, NULL, 1), "bde"); /* c was viewed */
    f = (rec_filters_t){ .allow_categories = books_garden, .n_allow = 3,
                         .in_stock_only = 1, .max_price = 40 };
    CHECK_STREQ(filtered(s, m, &f, 0), "de");
    f = (rec_filters_t){ .allow_categories = books, .n_allow = 1,
                         .deny_categories = books, .n_deny = 1 };
    CHECK_STREQ(filtered(s, m, &f, 0), ""); /* nothing passes: empty, no error */

    f = (rec_filters_t){ .min_price = -1 };
    CHECK(strstr(rec_filters_invalid(&f), "min_price") != NULL);
    f = (rec_filters_t){ .min_price = 10, .max_price = 5 };
    CHECK(strstr(rec_filters_invalid(&f), "max_price") != NULL);
    f = (rec_filters_t){ .max_price = NAN };
    CHECK(rec_filters_invalid(&f) != NULL);
}

static void test_similar_and_rank(store_t *s, const model_t *m)
{
    rec_item_t out[N_ITEMS];
    const char *books[] = { "books" };
    rec_filters_t f = { .deny_categories = books, .n_deny = 1 };
    uint32_t a, c, fi, cand[3];
    size_t n = 0;
    int pers;

    CHECK_EQ_INT(catalog_item_index(cat, "a", &a), 0);
    CHECK_EQ_INT(catalog_item_index(cat, "nope", &c), -ENOENT);
    /* cos(a,b)=0.976 > cos(a,c)=0.888 > cos(a,d)=0.72 > e > f; a itself never. */
    CHECK_EQ_INT(rec_similar(m, cat, a, 3, NULL, NULL, out, &n), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_STREQ(cat->ids[out[0].item], "b");
    CHECK_STREQ(cat->ids[out[1].item], "c");
    CHECK_STREQ(cat->ids[out[2].item], "d");
    CHECK(out[0].score > 0.97f && out[0].score < 0.98f);
    CHECK_EQ_INT(out[0].reason, REC_REASON_SIMILAR_ITEM);
    CHECK_EQ_INT(rec_similar(m, cat, a, 10, &f, NULL, out, &n), 0);
    CHECK_EQ_INT(n, 3); /* b e f */
    CHECK_STREQ(cat->ids[out[1].item], "e");
    CHECK_EQ_INT(rec_similar(m, cat, a, 0, NULL, NULL, out, &n), -EINVAL);
    CHECK_EQ_INT(rec_similar(m, cat, N_ITEMS, 1, NULL, NULL, out, &n), -EINVAL);

    catalog_item_index(cat, "c", &c);
    catalog_item_index(cat, "f", &fi);
    cand[0] = fi, cand[1] = a, cand[2] = c;
    CHECK_EQ_INT(rec_rank(s, m, cat, "alice", cand, 3, out, &pers), 0);
    CHECK(pers);
    CHECK(out[0].item == a && out[1].item == c && out[2].item == fi);
    CHECK_EQ_INT(rec_rank(s, m, cat, "stranger", cand, 3, out, &pers), 0);
    CHECK(!pers);
    CHECK(out[0].item == c && out[1].item == a && out[2].item == fi); /* pop 9,1,0 */
    CHECK_EQ_INT(rec_rank(s, m, cat, "alice", cand, 0, out, &pers), 0);
    cand[0] = N_ITEMS;
    CHECK_EQ_INT(rec_rank(s, m, cat, "alice", cand, 1, out, &pers), -EINVAL);
}

static void test_diversity(store_t *s, const model_t *m)
{
    rec_item_t out[N_ITEMS];
    rec_query_t q = { .customer_id = "alice", .k = 3,
                      .diversity = { .max_per_cat = 1 } };
    size_t n = 0;
    int pers = 0;
    const char *want[3] = { "b", "c", "e" };

    /* alice's order without a (bought): b c d e f; kitchen, books, books,
     * garden, garden. One per category: b, c, e. */
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK(pers);
    CHECK_EQ_INT(n, 3);
    for (size_t i = 0; i < n && i < 3; i++)
        CHECK_STREQ(cat->ids[out[i].item], want[i]);
    /* The caps cannot fill 5 from three categories. */
    q.k = 5;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK_EQ_INT(n, 3);
    /* The popularity fallback is capped the same way: c (books), e (garden),
     * b (kitchen) by popularity 9, 8, 2; d (books, 3) is skipped. */
    q.customer_id = "stranger";
    q.k = 3;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK(!pers && n == 3);
    CHECK_STREQ(cat->ids[out[2].item], "b");
    /* Out of range diversity is refused, naming the field. */
    q.diversity.lambda = 1.5f;
    CHECK(strstr(rec_query_invalid(&q), "diversity") != NULL);
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), -EINVAL);
}

static void test_promotion(store_t *s, const model_t *m)
{
    static const char *garden[] = { "garden" }, *deny[] = { "garden" };
    static const char *ids[] = { "a", "nope" };
    rec_promotion_t promo = { NULL, 0, garden, 1, 1 };
    rec_filters_t no_garden = { .deny_categories = deny, .n_deny = 1 };
    rec_query_t q = { .customer_id = "alice", .k = 3, .promotion = &promo };
    rec_item_t out[N_ITEMS];
    size_t n = 0;
    int pers = 0;

    /* alice: b c d, then e f (garden). One garden slot: e, her best garden
     * item, replaces d and goes to place 1. */
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_STREQ(cat->ids[out[0].item], "b");
    CHECK_STREQ(cat->ids[out[1].item], "e");
    CHECK_STREQ(cat->ids[out[2].item], "c");
    CHECK(!out[0].promoted && out[1].promoted && !out[2].promoted);
    /* Promoted items obey the filters: none pass, the list is as ranked. */
    q.filters = &no_garden;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_STREQ(cat->ids[out[2].item], "d");
    CHECK(!out[0].promoted && !out[1].promoted && !out[2].promoted);
    /* ... and the exclusions: a (bought) is never promoted back. */
    q.filters = NULL;
    promo = (rec_promotion_t){ ids, 2, NULL, 0, 1 };
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(cat->ids[out[i].item], "a") != 0 && !out[i].promoted);
    /* More slots than k is refused, naming the field. */
    promo.slots = 4;
    CHECK(strstr(rec_query_invalid(&q), "promotion.slots") != NULL);
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), -EINVAL);
}

static void test_validation(store_t *s, const model_t *m)
{
    rec_item_t out[2];
    size_t n;
    int pers;
    rec_query_t bad_k0 = { .customer_id = "alice", .k = 0 },
                bad_k = { .customer_id = "alice", .k = 1001 },
                no_id = { .customer_id = "", .k = 5 },
                null_id = { .customer_id = NULL, .k = 5 };
    CHECK(strstr(rec_query_invalid(&bad_k0), "k:") != NULL);
    CHECK(strstr(rec_query_invalid(&bad_k), "k:") != NULL);
    CHECK(strstr(rec_query_invalid(&no_id), "customer_id") != NULL);
    CHECK(strstr(rec_query_invalid(&null_id), "customer_id") != NULL);
    CHECK_EQ_INT(rec_recommend(s, m, cat, &bad_k, out, &n, &pers), -EINVAL);
}

/* Erasing a customer in the snapshot being served (no reload) stops its
 * trained factors at once. Here bob's events are still stored (the
 * server's store erases them too), so he is folded in from them instead;
 * with no events left the answer is popularity. */
static void test_erase_user(store_t *s)
{
    model_t *m = NULL;
    rec_item_t out[3];
    size_t n = 0;
    int pers = 0;
    rec_query_t q = { .customer_id = "bob", .k = 3, .include_purchased = 1 };

    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    if (!m)
        return;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK(pers && out[0].reason == REC_REASON_PERSONALIZED);
    CHECK(!model_user_erased(m, 1));
    model_erase_user(m, 1);                 /* bob */
    model_erase_user(m, 1000);              /* past n_users: ignored */
    CHECK(model_user_erased(m, 1) && !model_user_erased(m, 0) &&
          !model_user_erased(m, 1000));
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    CHECK(n == 3 && out[0].reason == REC_REASON_FOLD_IN);
    model_unref(m);
}

static void test_slot(store_t *s)
{
    model_slot_t slot;
    model_t *a = NULL, *b = NULL, *held;
    model_slot_init(&slot);
    CHECK(model_slot_get(&slot) == NULL);
    CHECK_EQ_INT(model_load(s, 0, NULL, &a), 0);
    CHECK_EQ_INT(model_load(s, 0, NULL, &b), 0);
    model_slot_set(&slot, a);
    held = model_slot_get(&slot);         /* an in-flight request's reference */
    CHECK(held == a);
    model_slot_set(&slot, b);             /* swap: a survives until released */
    CHECK_EQ_INT(atomic_load(&held->refs), 1);
    CHECK_EQ_INT(held->hdr.n_items, N_ITEMS);
    model_unref(held);                    /* frees a (ASan checks this) */
    held = model_slot_get(&slot);
    CHECK(held == b);
    model_unref(held);
    model_slot_destroy(&slot);
}

/* Records one event of nina's (a customer with no trained factors). */
static void nina(store_t *s, const char *id, int type, const char *item, int64_t t,
                 const char *category)
{
    store_event_t e = { id, "nina", item, type, t, 1, 1, category };
    uint8_t o = 9;
    const char *why = NULL;
    CHECK_EQ_INT(store_record_events(s, &e, 1, &o, &why), 0);
    CHECK_EQ_INT(o, STORE_ACCEPTED);
}

/* nina's list with include_purchased set: every item but her negative
 * feedback, joined as "cd". */
static const char *nina_list(store_t *s, const model_t *m, int include,
                             const rec_inline_event_t *inl, size_t n_inl)
{
    static char got[N_ITEMS + 1];
    rec_item_t out[N_ITEMS];
    rec_query_t q = { .customer_id = "nina", .k = N_ITEMS, .include_purchased = include,
                      .inline_events = inl, .n_inline = n_inl };
    size_t n = 0;
    int pers;
    CHECK_EQ_INT(rec_recommend(s, m, cat, &q, out, &n, &pers), 0);
    for (size_t i = 0; i < n; i++)
        got[i] = cat->ids[out[i].item][0];
    got[n] = '\0';
    /* sorted, so that the checks read the set */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && got[j - 1] > got[j]; j--) {
            char t = got[j];
            got[j] = got[j - 1];
            got[j - 1] = t;
        }
    return got;
}

/*
 * Negative feedback: a refunded item and not_interested items (one, or a
 * whole category) are excluded at once, even with include_purchased; views
 * do not lift it, a later purchase does (that item only); inline events
 * count the same; RankItems ranks them last.
 */
static void test_negative_feedback(store_t *s, const model_t *m)
{
    uint32_t cand[4], idx;
    rec_item_t out[4];
    int pers;

    nina(s, "n1", STORE_EVENT_PURCHASE, "a", 1000, NULL);
    nina(s, "n2", STORE_EVENT_PURCHASE, "c", 1000, NULL);
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "abcdef");
    CHECK_STREQ(nina_list(s, m, 0, NULL, 0), "bdef");
    /* bought 1, refunded 1: excluded although include_purchased is set */
    nina(s, "n3", STORE_EVENT_REFUND, "a", 1100, NULL);
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "bcdef");
    /* not interested in b, then in the whole garden category (e, f) */
    nina(s, "n4", STORE_EVENT_NOT_INTERESTED, "b", 1200, NULL);
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "cdef");
    nina(s, "n5", STORE_EVENT_NOT_INTERESTED, "", 1300, "garden");
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "cd");
    CHECK_STREQ(nina_list(s, m, 0, NULL, 0), "d");
    /* looking at them again lifts nothing */
    nina(s, "n6", STORE_EVENT_VIEW, "a", 1400, NULL);
    nina(s, "n7", STORE_EVENT_CART, "e", 1400, NULL);
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "cd");
    /* a repurchase lifts the item's exclusion, and only that item's */
    nina(s, "n8", STORE_EVENT_PURCHASE, "a", 1500, NULL);
    nina(s, "n9", STORE_EVENT_PURCHASE, "f", 1500, NULL);
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "acdf");
    CHECK_STREQ(nina_list(s, m, 0, NULL, 0), "d");
    /* a refund after the repurchase excludes it again */
    nina(s, "n10", STORE_EVENT_REFUND, "f", 1600, NULL);
    CHECK_STREQ(nina_list(s, m, 1, NULL, 0), "acd");
    /* inline events count like stored ones; an unknown category is ignored */
    {
        rec_inline_event_t inl[] = {
            { "", STORE_EVENT_NOT_INTERESTED, 1700, 1, "books" },
            { "", STORE_EVENT_NOT_INTERESTED, 1700, 1, "no-such-category" },
            { "f", STORE_EVENT_PURCHASE, 1800, 1, NULL },
        };
        CHECK_STREQ(nina_list(s, m, 1, inl, 3), "af");
    }
    /* RankItems keeps every candidate, negative feedback last */
    for (int i = 0; i < 4; i++) {
        static const char *ids[4] = { "b", "c", "e", "d" };
        CHECK_EQ_INT(catalog_item_index(cat, ids[i], &idx), 0);
        cand[i] = idx;
    }
    CHECK_EQ_INT(rec_rank(s, m, cat, "nina", cand, 4, out, &pers), 0);
    CHECK(strchr("cd", cat->ids[out[0].item][0]) && strchr("cd", cat->ids[out[1].item][0]));
    CHECK(strchr("be", cat->ids[out[2].item][0]) && strchr("be", cat->ids[out[3].item][0]));
}

int main(void)
{
    store_t *s = NULL;
    model_t *m = NULL;
    CHECK_EQ_INT(store_open(test_tmpdir("recommend"), 64u << 20, &s), 0);
    if (!s)
        return 1;
    CHECK_EQ_INT(model_load(s, 0, NULL, &m), -ENOENT);
    setup(s);
    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    if (!m)
        return 1;
    CHECK_EQ_INT(m->hdr.version, 1);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    if (!cat)
        return 1;
    CHECK_STREQ(cat->ids[5], "f");
    test_personalized(s, m);
    test_filters(s, m);
    test_similar_and_rank(s, m);
    test_validation(s, m);
    test_diversity(s, m);
    test_promotion(s, m);
    test_fallbacks(s, m);
    test_negative_feedback(s, m);
    model_unref(m);
    test_erase_user(s);
    catalog_unref(cat);
    test_slot(s);
    store_close(s);
    TEST_MAIN_END();
}
