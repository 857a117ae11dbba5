/*
 * test_catalog.c - catalog snapshots: what a snapshot holds and the lookups
 * built over it, category ids that stay put as items are added, reference
 * counts and swapping the served snapshot while a request pins the old
 * one, items added after a model was trained (the catalog grows past
 * the model; answers never name an item without factors), and
 * copy-on-write patches that equal a rebuild field by field.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "catalog.h"
#include "catalog_internal.h"
#include "model.h"
#include "recommend.h"
#include "store.h"
#include "testutil.h"

static void upsert(store_t *s, const char *id, const char *cat, double price, int stock)
{
    store_item_t it = { .item_id = id, .title = "T", .category = cat,
                        .price = price, .unit_cost = price / 2, .in_stock = stock };
    CHECK_EQ_INT(store_upsert_items(s, &it, 1, NULL, NULL, NULL, NULL), 0);
}

static void test_empty(store_t *s)
{
    catalog_t *c = NULL;
    uint32_t i;
    CHECK_EQ_INT(catalog_load(s, &c), 0);
    if (!c)
        return;
    CHECK_EQ_INT(c->n_items, 0);
    CHECK_EQ_INT(c->n_categories, 0);
    CHECK_EQ_INT(catalog_item_index(c, "a", &i), -ENOENT);
    CHECK_EQ_INT(catalog_category_index(c, "books", &i), -ENOENT);
    catalog_unref(c);
}

static void test_contents_and_lookups(store_t *s)
{
    catalog_t *c = NULL;
    uint32_t i, id, b, e;

    /* Index order: z(toys) a(books) m() k(toys) q(books). */
    upsert(s, "z", "toys", 30, 1);
    upsert(s, "a", "books", 10, 0);
    upsert(s, "m", NULL, 20, 1);
    upsert(s, "k", "toys", 5, 1);
    upsert(s, "q", "books", 10, 1);
    CHECK_EQ_INT(catalog_load(s, &c), 0);
    if (!c)
        return;
    CHECK_EQ_INT(c->n_items, 5);
    CHECK_STREQ(c->ids[1], "a");
    CHECK_STREQ(c->titles[1], "T");
    CHECK(c->price[0] == 30 && c->unit_cost[0] == 15);
    CHECK(!c->in_stock[1] && c->in_stock[0]);
    /* Lookups by id. */
    CHECK_EQ_INT(catalog_item_index(c, "k", &i), 0);
    CHECK_EQ_INT(i, 3);
    CHECK_EQ_INT(catalog_item_index(c, "nope", &i), -ENOENT);
    CHECK_EQ_INT(catalog_item_index(c, "", &i), -ENOENT);
    /* Category ids by first appearance: toys 0, books 1; m has none. */
    CHECK_EQ_INT(c->n_categories, 2);
    CHECK_EQ_INT(catalog_category_index(c, "toys", &id), 0);
    CHECK_EQ_INT(id, 0);
    CHECK_EQ_INT(catalog_category_index(c, "books", &id), 0);
    CHECK_EQ_INT(id, 1);
    CHECK_EQ_INT(catalog_category_index(c, "garden", &id), -ENOENT);
    CHECK_EQ_INT(c->item_cat[2], CATALOG_NO_CATEGORY);
    CHECK_STREQ(catalog_item_category(c, 2), "");
    CHECK_STREQ(catalog_item_category(c, 4), "books");
    catalog_category_items(c, 1, &b, &e);
    CHECK(e - b == 2 && c->cat_items[b] == 1 && c->cat_items[b + 1] == 4);
    CHECK_EQ_INT(catalog_category_index(c, "", &id), 0);
    catalog_category_items(c, id, &b, &e);
    CHECK(e - b == 1 && c->cat_items[b] == 2);
    /* Price order (ties by index) and the stock bitset. */
    CHECK(c->by_price[0] == 3 && c->by_price[1] == 1 && c->by_price[2] == 4 &&
          c->by_price[3] == 2 && c->by_price[4] == 0);
    CHECK_EQ_INT(c->out_of_stock[0], 1u << 1);
    CHECK(catalog_bytes(c) > 5 * (sizeof(double) * 2));
    catalog_unref(c);

    /* A new category later in index order keeps the old ids; so does a
     * price change (the snapshot built before it keeps the old price). */
    upsert(s, "b", "garden", 1, 1);
    CHECK_EQ_INT(catalog_load(s, &c), 0);
    if (!c)
        return;
    CHECK_EQ_INT(catalog_category_index(c, "garden", &id), 0);
    CHECK_EQ_INT(id, 2);
    CHECK_EQ_INT(catalog_category_index(c, "books", &id), 0);
    CHECK_EQ_INT(id, 1);
    catalog_unref(c);
}

static void test_slot_swap_while_pinned(store_t *s)
{
    catalog_slot_t slot;
    catalog_t *pinned, *now;
    uint32_t i;

    catalog_slot_init(&slot);
    CHECK(catalog_slot_get(&slot) == NULL);
    CHECK_EQ_INT(catalog_slot_reload(&slot, s), 0);
    CHECK_EQ_INT(slot.swaps, 1);
    pinned = catalog_slot_get(&slot);          /* an in-flight request */
    if (!pinned)
        return;
    CHECK_EQ_INT(atomic_load(&pinned->refs), 2);
    upsert(s, "a", "books", 12, 1);           /* back in stock, new price */
    CHECK_EQ_INT(catalog_slot_reload(&slot, s), 0);
    CHECK_EQ_INT(slot.swaps, 2);
    /* The pinned snapshot is unchanged and now only the request holds it. */
    CHECK_EQ_INT(atomic_load(&pinned->refs), 1);
    CHECK_EQ_INT(catalog_item_index(pinned, "a", &i), 0);
    CHECK(pinned->price[i] == 10 && !pinned->in_stock[i]);
    now = catalog_slot_get(&slot);
    CHECK(now != pinned);
    if (now) {
        CHECK(now->price[i] == 12 && now->in_stock[i]);
        CHECK_EQ_INT(now->out_of_stock[0] & (1u << i), 0);
        CHECK_EQ_INT(catalog_ref(now) == now, 1);
        CHECK_EQ_INT(atomic_load(&now->refs), 3);
        catalog_unref(now);
    }
    catalog_unref(now);
    catalog_unref(pinned);                     /* frees it (ASan checks) */
    catalog_unref(NULL);
    catalog_slot_destroy(&slot);
}

/* A model over the first n_items, then two more items: they have details,
 * filters pass over them, and no answer names them. */
static void test_items_beyond_model(void)
{
    enum { F = 2 };
    store_t *t = NULL;
    catalog_t *c = NULL;
    model_t *m = NULL;
    float uf[F] = { 1, 0 }, itf[3 * F] = { 3, 0, 2, 0, 1, 0 }, pop[3] = { 1, 2, 3 };
    store_model_hdr_t h = { .factors = F, .n_users = 1, .n_items = 3, .reg = 0.1f,
                            .alpha = 1, .alpha0 = 1, .w_view = 1, .w_cart = 2,
                            .w_purchase = 4, .w_refund = 4 };
    rec_filters_t in_stock = { .in_stock_only = 1 };
    rec_query_t q = { .customer_id = "stranger", .k = 10, .filters = &in_stock };
    rec_item_t out[10];
    size_t n = 0;
    uint32_t cand[1], i;
    int pers;

    CHECK_EQ_INT(store_open(test_tmpdir("catalog-grow"), 64u << 20, &t), 0);
    if (!t)
        return;
    upsert(t, "x", "toys", 1, 1);
    upsert(t, "y", "toys", 2, 0);
    upsert(t, "z", "toys", 3, 1);
    CHECK_EQ_INT(store_publish_model(t, &h, uf, itf, pop), 0);
    upsert(t, "new1", "toys", 4, 1);
    upsert(t, "new2", "books", 5, 1);
    CHECK_EQ_INT(model_load(t, 0, NULL, &m), 0);
    CHECK_EQ_INT(catalog_load(t, &c), 0);
    if (!m || !c)
        goto out;
    CHECK_EQ_INT(c->n_items, 5);
    CHECK_EQ_INT(m->hdr.n_items, 3);
    CHECK_EQ_INT(rec_recommend(t, m, c, &q, out, &n, &pers), 0);
    CHECK_EQ_INT(n, 2);                        /* z, x: y is out of stock */
    CHECK(n == 2 && out[0].item == 2 && out[1].item == 0);
    q.filters = NULL;
    CHECK_EQ_INT(rec_recommend(t, m, c, &q, out, &n, &pers), 0);
    CHECK_EQ_INT(n, 3);
    for (size_t j = 0; j < n; j++)
        CHECK(out[j].item < m->hdr.n_items);
    CHECK_EQ_INT(rec_similar(m, c, 0, 10, NULL, NULL, out, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(catalog_item_index(c, "new2", &i), 0);
    CHECK_STREQ(catalog_item_category(c, i), "books");
    cand[0] = i;                               /* no factors: not rankable */
    CHECK_EQ_INT(rec_rank(t, m, c, "stranger", cand, 1, out, &pers), -EINVAL);
out:
    model_unref(m);
    catalog_unref(c);
    store_close(t);
}

/* ---- copy-on-write patches give exactly the rebuilt snapshot ---------------------- */

static int same_terms(const catalog_terms_t *a, const catalog_terms_t *b)
{
    if (!a || !b)
        return a == b;
    if (strcmp(a->member_tier, b->member_tier) != 0 || a->release_ms != b->release_ms ||
        a->n_prices != b->n_prices)
        return 0;
    for (uint32_t p = 0; p < a->n_prices; p++)
        if (strcmp(a->prices[p].price_list, b->prices[p].price_list) != 0 ||
            a->prices[p].price != b->prices[p].price)
            return 0;
    return 1;
}

static void check_same(const catalog_t *p, const catalog_t *r)
{
    int same = p->n_items == r->n_items && p->n_categories == r->n_categories;
    for (uint32_t i = 0; same && i < r->n_items; i++)
        same = strcmp(p->ids[i], r->ids[i]) == 0 && strcmp(p->titles[i], r->titles[i]) == 0 &&
               p->price[i] == r->price[i] && p->unit_cost[i] == r->unit_cost[i] &&
               p->in_stock[i] == r->in_stock[i] && p->item_cat[i] == r->item_cat[i] &&
               p->by_price[i] == r->by_price[i] && p->by_id[i] == r->by_id[i] &&
               p->cat_items[i] == r->cat_items[i];
    for (uint32_t k = 0; same && k < r->n_categories; k++)
        same = strcmp(p->categories[k], r->categories[k]) == 0 &&
               p->cat_by_name[k] == r->cat_by_name[k];
    for (uint32_t k = 0; same && k < r->n_categories + 2; k++)
        same = p->cat_ptr[k] == r->cat_ptr[k];
    for (uint32_t w = 0; same && w <= r->n_items / 64; w++)
        same = p->out_of_stock[w] == r->out_of_stock[w];
    for (uint32_t i = 0; same && i < r->n_items; i++)
        same = same_terms(p->terms[i], r->terms[i]);
    same = same && p->n_gated == r->n_gated && p->n_members_only == r->n_members_only &&
           p->n_member_priced == r->n_member_priced &&
           p->last_release_ms == r->last_release_ms;
    for (uint32_t j = 0; same && j < r->n_gated; j++)
        same = p->gated[j] == r->gated[j];
    CHECK(same);
}

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

/* Rounds of writes through catalog_slot_upsert: price, stock and title
 * changes of existing items and new items (known, new and no categories),
 * each round compared field by field with a rebuild from the store. */
static void test_patch_equals_rebuild(void)
{
    static const char *cats[] = { "toys", "books", "", "garden", "kitchen" };
    static const store_member_price_t prices[] = { { "gold", 1.5 }, { "vip", 1 } };
    store_t *s = NULL;
    catalog_slot_t slot;
    char ids[20][16], titles[20][16];
    store_item_t w[20];
    uint32_t x = 12345, next = 0, max_depth = 0;

    CHECK_EQ_INT(store_open(test_tmpdir("catalog-patch"), 64u << 20, &s), 0);
    if (!s)
        return;
    catalog_slot_init(&slot);
    for (int round = 0; round < 60; round++) {
        size_t n = 1 + lcg(&x) % 20, ins = 0, upd = 0;
        catalog_t *cur, *rebuilt = NULL;
        int rrc = -1;
        for (size_t i = 0; i < n; i++) {
            int fresh = next == 0 || lcg(&x) % 3 == 0;
            uint32_t id = fresh ? next++ : lcg(&x) % next;
            snprintf(ids[i], sizeof ids[i], "i%03u", (id * 37) % 1000);
            snprintf(titles[i], sizeof titles[i], "t%u", lcg(&x) % 4);
            /* a fixed category per item: changing one forces a rebuild */
            w[i] = (store_item_t){ .item_id = ids[i], .title = titles[i],
                                   .category = cats[id % 5 == 3 && id < 20 ? 2 : id % 5],
                                   .price = (double)(lcg(&x) % 50), .unit_cost = 1.5,
                                   .in_stock = (int)(lcg(&x) % 4 != 0) };
            /* programme terms come and go (catalog_terms.c) */
            switch (lcg(&x) % 6) {
            case 0: w[i].member_tier = "gold"; break;
            case 1: w[i].release_ms = 1000 + lcg(&x) % 100; break;
            case 2: w[i].member_prices = prices, w[i].n_member_prices = 2; break;
            default: break;
            }
            for (size_t j = 0; j < i; j++)
                if (strcmp(ids[j], ids[i]) == 0)
                    w[i] = w[j]; /* a repeated id in one write: same fields */
        }
        CHECK_EQ_INT(catalog_slot_upsert(&slot, s, w, n, &ins, &upd, NULL, NULL, &rrc), 0);
        CHECK_EQ_INT(rrc, 0);
        cur = catalog_slot_get(&slot);
        CHECK_EQ_INT(catalog_load(s, &rebuilt), 0);
        if (cur && rebuilt)
            check_same(cur, rebuilt);
        if (cur && cur->strings->depth > max_depth)
            max_depth = cur->strings->depth;
        catalog_unref(cur);
        catalog_unref(rebuilt);
    }
    CHECK(max_depth > 10); /* most writes were patches, not rebuilds */
    /* An existing item changing category is rebuilt (ids could move). */
    {
        catalog_t *before = catalog_slot_get(&slot), *after, *rebuilt = NULL;
        store_item_t moved = { .item_id = "i000", .title = "t", .category = "brand-new",
                               .price = 3, .unit_cost = 1, .in_stock = 1 };
        int rrc = -1;
        CHECK_EQ_INT(catalog_slot_upsert(&slot, s, &moved, 1, NULL, NULL, NULL, NULL, &rrc), 0);
        after = catalog_slot_get(&slot);
        CHECK(before && after && after->strings->depth == 1 && rrc == 0);
        CHECK_EQ_INT(catalog_load(s, &rebuilt), 0);
        if (after && rebuilt)
            check_same(after, rebuilt);
        catalog_unref(before);
        catalog_unref(after);
        catalog_unref(rebuilt);
    }
    catalog_slot_destroy(&slot);
    store_close(s);
}

/* catalog_patch declines what only a rebuild gets right. */
static void test_patch_declines(void)
{
    store_t *s = NULL;
    catalog_t *base = NULL, *out = NULL;
    store_item_t beside = { .item_id = "b", .title = "T", .category = "toys",
                            .price = 2, .unit_cost = 1, .in_stock = 1 },
                 recat = { .item_id = "a", .title = "T", .category = "garden",
                           .price = 1, .unit_cost = 1, .in_stock = 1 };
    uint32_t idx = 0;

    CHECK_EQ_INT(store_open(test_tmpdir("catalog-decline"), 64u << 20, &s), 0);
    if (!s)
        return;
    upsert(s, "a", "toys", 1, 1);
    CHECK_EQ_INT(catalog_load(s, &base), 0);
    if (!base)
        return;
    /* An item stored beside the write (as by patron import). */
    upsert(s, "b", "toys", 2, 1);
    upsert(s, "c", "toys", 3, 1);
    idx = 2;
    beside.item_id = "c";
    CHECK_EQ_INT(catalog_patch(base, &beside, &idx, 1, 3, &out), -EAGAIN);
    /* An existing item moving to another category. */
    idx = 0;
    CHECK_EQ_INT(catalog_patch(base, &recat, &idx, 1, 1, &out), -EAGAIN);
    /* An index past the store's count. */
    idx = 7;
    CHECK_EQ_INT(catalog_patch(base, &beside, &idx, 1, 3, &out), -EAGAIN);
    CHECK(out == NULL);
    catalog_unref(base);
    store_close(s);
}

/* Writers racing through catalog_slot_upsert while readers pin snapshots:
 * every write lands (the last snapshot equals a rebuild), and a pinned
 * snapshot never changes under its reader. */
typedef struct racer {
    store_t *s;
    catalog_slot_t *slot;
    int id;
    int failures;
} racer_t;

static void *write_items(void *arg)
{
    racer_t *r = arg;
    for (int round = 0; round < 40; round++) {
        char id[2][16];
        store_item_t w[2];
        int rrc = -1;
        for (int j = 0; j < 2; j++) {
            snprintf(id[j], sizeof id[j], "w%d-%d", r->id, (round + j) % 25);
            w[j] = (store_item_t){ .item_id = id[j], .title = "T", .category = r->id % 2 ? "odd" : "even",
                                   .price = (double)(round * 3 + j), .unit_cost = 1, .in_stock = round % 3 != 0 };
        }
        if (catalog_slot_upsert(r->slot, r->s, w, 2, NULL, NULL, NULL, NULL, &rrc) != 0 || rrc)
            r->failures++;
    }
    return NULL;
}

static void *read_items(void *arg)
{
    racer_t *r = arg;
    for (int round = 0; round < 400; round++) {
        catalog_t *c = catalog_slot_get(r->slot);
        uint32_t n = c ? c->n_items : 0;
        double sum = 0, again = 0;
        for (uint32_t i = 0; i < n; i++)
            sum += c->price[c->by_price[i]];
        for (uint32_t i = 0; i < n; i++)
            again += c->price[i];
        if (sum != again)
            r->failures++;
        catalog_unref(c);
    }
    return NULL;
}

static void test_concurrent_writes(void)
{
    store_t *s = NULL;
    catalog_slot_t slot;
    pthread_t th[4];
    racer_t r[4];
    catalog_t *last, *rebuilt = NULL;

    CHECK_EQ_INT(store_open(test_tmpdir("catalog-race"), 64u << 20, &s), 0);
    if (!s)
        return;
    catalog_slot_init(&slot);
    CHECK_EQ_INT(catalog_slot_reload(&slot, s), 0);
    for (int i = 0; i < 4; i++) {
        r[i] = (racer_t){ s, &slot, i, 0 };
        pthread_create(&th[i], NULL, i < 3 ? write_items : read_items, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(r[i].failures, 0);
    }
    last = catalog_slot_get(&slot);
    CHECK_EQ_INT(catalog_load(s, &rebuilt), 0);
    if (last && rebuilt) {
        CHECK_EQ_INT(last->n_items, 75);
        check_same(last, rebuilt);
    }
    catalog_unref(last);
    catalog_unref(rebuilt);
    catalog_slot_destroy(&slot);
    store_close(s);
}

int main(void)
{
    store_t *s = NULL;
    CHECK_EQ_INT(store_open(test_tmpdir("catalog"), 64u << 20, &s), 0);
    if (!s)
        return 1;
    test_empty(s);
    test_contents_and_lookups(s);
    test_slot_swap_while_pinned(s);
    test_items_beyond_model();
    test_patch_equals_rebuild();
    test_patch_declines();
    test_concurrent_writes();
    store_close(s);
    TEST_MAIN_END();
}
