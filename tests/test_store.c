/*
 * test_store.c - the LMDB store: items, idempotent event batches with
 * per-event rejection, per-customer history order, durability across
 * reopen, and atomic model publishing with old versions pruned.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "customers_erase.h"
#include "store.h"
#include "store_custdata.h"
#include "store_record.h"
#include "storelock.h"
#include "testutil.h"

/* Erases what the store keeps about customer_id (the store's owner alone;
 * test_erasure.c runs every owner). */
static int delete_customer(store_t *s, const char *customer_id, uint64_t *events)
{
    custdata_owner_t store_owner = store_custdata_owner();
    custdata_erased_t erased;
    int rc = customers_erase(s, &store_owner, 1, customer_id, &erased, NULL);
    *events = erased.events;
    return rc;
}

static store_t *open_store(const char *dir)
{
    store_t *s = NULL;
    int rc = store_open(dir, 64u << 20, &s);
    CHECK_EQ_INT(rc, 0);
    if (!s)
        exit(1);
    return s;
}

static void add_catalog(store_t *s)
{
    store_item_t items[] = {
        { .item_id = "i1", .title = "Red mug", .category = "kitchen",
          .price = 9.5, .unit_cost = 3.0, .in_stock = 1 },
        { .item_id = "i2", .title = "Blue mug", .category = "kitchen",
          .price = 9.5, .unit_cost = 3.0, .in_stock = 1 },
        { .item_id = "i3", .title = "Novel", .category = "books",
          .price = 15.0, .unit_cost = 8.0, .in_stock = 0 },
    };
    size_t ins = 99, upd = 99;
    CHECK_EQ_INT(store_upsert_items(s, items, 3, &ins, &upd, NULL, NULL), 0);
    CHECK_EQ_INT(ins, 3);
    CHECK_EQ_INT(upd, 0);
}

static void test_items(const char *dir)
{
    store_t *s = open_store(dir);
    store_item_t upd_item = { .item_id = "i2", .title = "Blue mug XL", .category = "kitchen",
                              .price = 11.0, .unit_cost = 3.5, .in_stock = 1 };
    store_item_t bad[] = {
        { .item_id = "i9", .title = NULL, .category = NULL,
          .price = 1.0, .unit_cost = 0.5, .in_stock = 1 },
        { .item_id = "i10", .title = NULL, .category = NULL,
          .price = -1.0, .unit_cost = 0.5, .in_stock = 1 },
    };
    size_t ins, upd, bad_index = 99;
    const char *why = NULL;
    uint32_t idx, nc, ni;

    add_catalog(s);
    CHECK_EQ_INT(store_upsert_items(s, &upd_item, 1, &ins, &upd, NULL, NULL), 0);
    CHECK_EQ_INT(ins, 0);
    CHECK_EQ_INT(upd, 1);
    CHECK_EQ_INT(store_item_index(s, "i2", &idx), 0);
    CHECK_EQ_INT(idx, 1); /* updating keeps the index */
    CHECK_EQ_INT(store_item_index(s, "nope", &idx), -ENOENT);

    /* All or nothing: the valid first item is not stored either. */
    CHECK_EQ_INT(store_upsert_items(s, bad, 2, NULL, NULL, &bad_index, &why), -EINVAL);
    CHECK_EQ_INT(bad_index, 1);
    CHECK(why && strstr(why, "price"));
    CHECK_EQ_INT(store_item_index(s, "i9", &idx), -ENOENT);
    store_item_t nan_price = { .item_id = "i11", .title = NULL, .category = NULL,
                               .price = NAN, .unit_cost = 0, .in_stock = 1 };
    CHECK(store_item_invalid(&nan_price) != NULL);
    store_item_t empty_id = { .item_id = "", .title = NULL, .category = NULL,
                              .price = 1, .unit_cost = 0, .in_stock = 1 };
    CHECK(strstr(store_item_invalid(&empty_id), "item_id") != NULL);

    CHECK_EQ_INT(store_counts(s, &nc, &ni), 0);
    CHECK_EQ_INT(nc, 0);
    CHECK_EQ_INT(ni, 3);
    store_close(s);
}

typedef struct collected {
    store_event_rec_t ev[64];
    size_t n;
} collected_t;

static int collect(void *ctx, const store_event_rec_t *ev)
{
    collected_t *c = ctx;
    if (c->n < 64)
        c->ev[c->n] = *ev;
    c->n++;
    return 0;
}

static void test_events(const char *dir)
{
    store_t *s = open_store(dir);
    store_event_t ev[] = {
        { "e1", "alice", "i1", STORE_EVENT_PURCHASE, 3000, 2, 9.5, NULL },
        { "e2", "alice", "i2", STORE_EVENT_VIEW, 1000, 0, 0, NULL },
        { "e1", "alice", "i3", STORE_EVENT_VIEW, 2000, 1, 0, NULL },   /* dup in batch */
        { "e3", "carol", "missing", STORE_EVENT_VIEW, 1000, 1, 0, NULL }, /* unknown item */
        { "e4", "bob", "i3", 0, 1000, 1, 0, NULL },                     /* bad type */
        { "e5", "bob", "i3", STORE_EVENT_CART, 0, 1, 0, NULL },         /* bad time */
        { "e6", "bob", "i3", STORE_EVENT_CART, 10, -1, 0, NULL },       /* bad qty */
        { "e7", "bob", "i3", STORE_EVENT_CART, 10, 1, INFINITY, NULL }, /* bad price */
        { "", "bob", "i3", STORE_EVENT_CART, 10, 1, 1, NULL },          /* no id */
        { "e8", "bob", "i3", STORE_EVENT_REFUND, 5000, 1, 15.0, NULL },
    };
    enum { N = sizeof ev / sizeof ev[0] };
    uint8_t out[N];
    const char *why[N];
    collected_t got = { .n = 0 };
    uint32_t alice, bob, nc;

    CHECK_EQ_INT(store_record_events(s, ev, N, out, why), 0);
    CHECK_EQ_INT(out[0], STORE_ACCEPTED);
    CHECK_EQ_INT(out[1], STORE_ACCEPTED);
    CHECK_EQ_INT(out[2], STORE_DUPLICATE);
    CHECK_EQ_INT(out[3], STORE_REJECTED);
    CHECK(strstr(why[3], "item_id") != NULL);
    CHECK(out[4] == STORE_REJECTED && strstr(why[4], "type"));
    CHECK(out[5] == STORE_REJECTED && strstr(why[5], "time"));
    CHECK(out[6] == STORE_REJECTED && strstr(why[6], "quantity"));
    CHECK(out[7] == STORE_REJECTED && strstr(why[7], "unit_price"));
    CHECK(out[8] == STORE_REJECTED && strstr(why[8], "event_id"));
    CHECK_EQ_INT(out[9], STORE_ACCEPTED);

    /* Re-sending the whole batch applies nothing twice. */
    CHECK_EQ_INT(store_record_events(s, ev, N, out, why), 0);
    CHECK_EQ_INT(out[0], STORE_DUPLICATE);
    CHECK_EQ_INT(out[1], STORE_DUPLICATE);
    CHECK_EQ_INT(out[9], STORE_DUPLICATE);
    store_close(s);

    /* Reopen: everything acknowledged is there, in time order per customer. */
    s = open_store(dir);
    CHECK_EQ_INT(store_customer_index(s, "alice", &alice), 0);
    CHECK_EQ_INT(store_customer_index(s, "bob", &bob), 0);
    CHECK_EQ_INT(store_customer_index(s, "carol", &alice), -ENOENT);
    CHECK_EQ_INT(store_counts(s, &nc, NULL), 0);
    CHECK_EQ_INT(nc, 2); /* carol (rejected events only) is not registered */
    CHECK_EQ_INT(store_customer_index(s, "alice", &alice), 0);
    CHECK_EQ_INT(store_customer_events(s, alice, collect, &got), 0);
    CHECK_EQ_INT(got.n, 2);
    CHECK_EQ_INT(got.ev[0].time_ms, 1000); /* view first, though sent second */
    CHECK_EQ_INT(got.ev[0].quantity, 1);   /* quantity 0 means 1 */
    CHECK_EQ_INT(got.ev[1].type, STORE_EVENT_PURCHASE);
    CHECK_EQ_INT(got.ev[1].quantity, 2);
    CHECK(got.ev[1].unit_price == 9.5);
    got.n = 0;
    CHECK_EQ_INT(store_scan_events(s, collect, &got), 0);
    CHECK_EQ_INT(got.n, 3);
    CHECK_EQ_INT(got.ev[2].customer, bob);
    CHECK_EQ_INT(got.ev[2].type, STORE_EVENT_REFUND);
    store_close(s);
}

/* not_interested: an item, or a whole category (item_id empty), each field
 * checked by name; a category event reads back as STORE_NO_ITEM with the
 * category's key, survives a reopen and is idempotent like any event. */
static void test_not_interested(const char *dir)
{
    store_t *s = open_store(dir);
    char long_cat[STORE_MAX_TEXT + 2];
    store_event_t ev[] = {
        { "n1", "dora", "i1", STORE_EVENT_NOT_INTERESTED, 1000, 0, 0, NULL },
        { "n2", "dora", "", STORE_EVENT_NOT_INTERESTED, 2000, 0, 0, "Garden & Patio" },
        { "n3", "dora", "", STORE_EVENT_NOT_INTERESTED, 2000, 0, 0, NULL },  /* no target */
        { "n4", "dora", "i1", STORE_EVENT_NOT_INTERESTED, 2000, 0, 0, "Garden" }, /* both */
        { "n5", "dora", "", STORE_EVENT_VIEW, 2000, 0, 0, "Garden" },  /* not for views */
        { "n6", "dora", "", STORE_EVENT_NOT_INTERESTED, 2000, 0, 0, long_cat },
        { "n7", "dora", "i1", STORE_EVENT_TYPE_MAX + 1, 2000, 0, 0, NULL }, /* unknown type */
    };
    enum { N = sizeof ev / sizeof ev[0] };
    uint8_t out[N];
    const char *why[N];
    collected_t got = { .n = 0 };
    uint32_t dora;

    add_catalog(s);
    memset(long_cat, 'x', sizeof long_cat - 1);
    long_cat[sizeof long_cat - 1] = '\0';
    CHECK_EQ_INT(store_record_events(s, ev, N, out, why), 0);
    CHECK_EQ_INT(out[0], STORE_ACCEPTED);
    CHECK_EQ_INT(out[1], STORE_ACCEPTED);
    CHECK(out[2] == STORE_REJECTED && strstr(why[2], "item_id: required (or category"));
    CHECK(out[3] == STORE_REJECTED && strstr(why[3], "item_id: must be empty"));
    CHECK(out[4] == STORE_REJECTED && strstr(why[4], "category: only for type not_interested"));
    CHECK(out[5] == STORE_REJECTED && strstr(why[5], "category:"));
    CHECK(out[6] == STORE_REJECTED && strstr(why[6], "not_interested"));
    CHECK_EQ_INT(store_record_events(s, ev, 2, out, why), 0);
    CHECK(out[0] == STORE_DUPLICATE && out[1] == STORE_DUPLICATE);
    store_close(s);

    s = open_store(dir);
    CHECK_EQ_INT(store_customer_index(s, "dora", &dora), 0);
    CHECK_EQ_INT(store_customer_events(s, dora, collect, &got), 0);
    CHECK_EQ_INT(got.n, 2);
    CHECK_EQ_INT(got.ev[0].type, STORE_EVENT_NOT_INTERESTED);
    CHECK(got.ev[0].item != STORE_NO_ITEM && got.ev[0].category == 0);
    CHECK_EQ_INT(got.ev[1].type, STORE_EVENT_NOT_INTERESTED);
    CHECK(got.ev[1].item == STORE_NO_ITEM);
    CHECK(got.ev[1].category == store_category_key("Garden & Patio"));
    CHECK(store_category_key("Garden & Patio") != store_category_key("Garden"));
    store_close(s);
}

static void test_models(const char *dir)
{
    store_t *s = open_store(dir);
    store_model_hdr_t h = { .factors = 2, .n_users = 2, .n_items = 3 }, got;
    float uf[4] = { 1, 2, 3, 4 }, itf[6] = { 1, 0, 0, 1, 1, 1 }, pop[3] = { 5, 1, 3 };
    float *u, *i, *p;
    uint64_t v = 0;

    CHECK_EQ_INT(store_current_model(s, &v), -ENOENT);
    CHECK_EQ_INT(store_load_model(s, 0, &got, &u, &i, &p), -ENOENT);
    for (int round = 1; round <= STORE_MODELS_KEPT + 2; round++) {
        uf[0] = (float)round;
        CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
        CHECK_EQ_INT(h.version, round);
    }
    CHECK_EQ_INT(store_current_model(s, &v), 0);
    CHECK_EQ_INT(v, STORE_MODELS_KEPT + 2);
    CHECK_EQ_INT(store_load_model(s, 0, &got, &u, &i, &p), 0);
    CHECK_EQ_INT(got.version, v);
    CHECK(u[0] == (float)v && u[3] == 4 && i[5] == 1 && p[0] == 5);
    free(u);
    free(i);
    free(p);
    /* The oldest versions were pruned, the last STORE_MODELS_KEPT remain. */
    CHECK(store_load_model(s, 1, &got, &u, &i, &p) != 0);
    CHECK_EQ_INT(store_load_model(s, v - STORE_MODELS_KEPT + 1, &got, &u, &i, &p), 0);
    free(u);
    free(i);
    free(p);
    store_close(s);
}

static void test_customers(const char *dir)
{
    store_t *s = open_store(dir);
    store_attrs_t a = { .signup_ms = 1000, .birth_month = 2, .birth_day = 29 }, got;
    store_attrs_t bad = { .birth_month = 4, .birth_day = 31 };
    store_model_hdr_t h = { .factors = 2, .n_users = 2, .n_items = 3 }, gh;
    float uf[4] = { 1, 2, 3, 4 }, itf[6] = { 0 }, pop[3] = { 0 }, *u, *i, *p;
    int64_t total = -1;
    uint64_t deleted = 0;
    int dup = -1;
    uint32_t idx;
    char id[16], blob[8];
    size_t len;

    strcpy(a.region, "north");
    CHECK_EQ_INT(store_set_attrs(s, "alice", &a), 0);
    CHECK_EQ_INT(store_get_attrs(s, "alice", &got), 0);
    CHECK(got.birth_day == 29 && strcmp(got.region, "north") == 0);
    CHECK(strstr(store_attrs_invalid(&bad), "birth_day") != NULL);
    CHECK_EQ_INT(store_set_attrs(s, "alice", &bad), -EINVAL);
    CHECK_EQ_INT(store_get_attrs(s, "nobody", &got), -ENOENT);
    {
        /* Customers known by attributes alone, a page at a time in id
         * order; alice (with events) is not one of them. */
        static const char *const only[3] = { "ed", "carl", "dora" };
        char page[2][STORE_MAX_ID + 1];
        size_t n = 9;
        for (int k = 0; k < 3; k++)
            CHECK_EQ_INT(store_set_attrs(s, only[k], &a), 0);
        CHECK_EQ_INT(store_attr_only_customers(s, "", page, 2, &n), 0);
        CHECK_EQ_INT(n, 2);
        CHECK(strcmp(page[0], "carl") == 0 && strcmp(page[1], "dora") == 0);
        CHECK_EQ_INT(store_attr_only_customers(s, page[1], page, 2, &n), 0);
        CHECK_EQ_INT(n, 1); /* the last page */
        CHECK_STREQ(page[0], "ed");
        CHECK_EQ_INT(store_attr_only_customers(s, "ed", page, 2, &n), 0);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(store_attr_only_customers(s, "", page, 0, &n), -EINVAL);
    }

    /* Points: never beyond what was earned, idempotent per redemption id. */
    CHECK_EQ_INT(store_points_redeem(s, "alice", "r1", 30, 0, 50, &total, &dup), 0);
    CHECK(total == 30 && dup == 0);
    CHECK_EQ_INT(store_points_redeem(s, "alice", "r1", 30, 0, 50, &total, &dup), 0);
    CHECK(total == 30 && dup == 1);
    CHECK_EQ_INT(store_points_redeem(s, "alice", "r2", 21, 0, 50, &total, &dup), -ERANGE);
    CHECK_EQ_INT(total, 30);
    CHECK_EQ_INT(store_points_redeem(s, "alice", "r3", 20, 0, 50, &total, &dup), 0);
    CHECK_EQ_INT(store_points_redeemed(s, "alice", &total), 0);
    CHECK_EQ_INT(total, 50);
    CHECK_EQ_INT(store_points_redeemed(s, "alicex", &total), 0); /* prefix-safe */
    CHECK_EQ_INT(total, 0);
    CHECK_EQ_INT(store_points_redeem(s, "alice", "r4", 0, 0, 50, &total, &dup), -EINVAL);

    /* Erasure: alice (index 0, see test_events) loses everything. */
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(store_customer_id(s, 0, id, sizeof id), 0);
    CHECK_STREQ(id, "alice");
    CHECK_EQ_INT(delete_customer(s, "alice", &deleted), 0);
    CHECK_EQ_INT(deleted, 2);
    CHECK_EQ_INT(store_customer_index(s, "alice", &idx), -ENOENT);
    CHECK_EQ_INT(store_customer_id(s, 0, id, sizeof id), -ENOENT);
    CHECK_EQ_INT(store_get_attrs(s, "alice", &got), -ENOENT);
    CHECK_EQ_INT(store_points_redeemed(s, "alice", &total), 0);
    CHECK_EQ_INT(total, 0);
    CHECK_EQ_INT(store_load_model(s, 0, &gh, &u, &i, &p), 0);
    CHECK(u[0] == 0 && u[1] == 0 && u[2] == 3 && u[3] == 4); /* bob untouched */
    free(u);
    free(i);
    free(p);
    CHECK_EQ_INT(delete_customer(s, "alice", &deleted), -ENOENT);
    {
        /* The event ids were forgotten with the events: nothing of alice
         * remains, not even which events she sent. */
        store_event_t e1 = { "e1", "alice2", "i1", STORE_EVENT_VIEW, 5, 1, 0, NULL };
        uint8_t o;
        const char *why;
        CHECK_EQ_INT(store_record_events(s, &e1, 1, &o, &why), 0);
        CHECK_EQ_INT(o, STORE_ACCEPTED);
    }
    CHECK_EQ_INT(store_put_blob(s, "k", "abc", 3), 0);
    CHECK_EQ_INT(store_get_blob(s, "k", blob, sizeof blob, &len), 0);
    CHECK(len == 3 && memcmp(blob, "abc", 3) == 0);
    CHECK_EQ_INT(store_get_blob(s, "k", blob, 2, &len), -EINVAL);
    CHECK_EQ_INT(store_get_blob(s, "nope", blob, sizeof blob, &len), -ENOENT);
    store_close(s);
}

static int count_rows(void *ctx, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
    (*(int *)ctx)++;
    return 0;
}

typedef struct budget_op {
    int64_t cost, limit;
} budget_op_t;

/* Spends cost from a counter only while it stays within limit. */
static int spend(store_tx_t *tx, void *ctx)
{
    budget_op_t *op = ctx;
    int64_t spent = 0;
    size_t len;
    int rc = store_tx_get(tx, "budget", "b", 1, &spent, sizeof spent, &len);
    if (rc && rc != -ENOENT)
        return rc;
    if (spent + op->cost > op->limit)
        return -ERANGE;
    spent += op->cost;
    return store_tx_put(tx, "budget", "b", 1, &spent, sizeof spent);
}

static void test_tables_and_compaction(const char *dir)
{
    store_t *s = open_store(dir);
    void *val = NULL;
    size_t len = 0;
    int rows = 0, granted = 0;
    budget_op_t op = { 30, 100 };
    uint64_t removed = 0, added = 0;
    store_item_t it = { .item_id = "v1", .title = NULL, .category = NULL,
                        .price = 1, .unit_cost = 0, .in_stock = 1 };
    store_event_t ev[5] = {
        { "cv1", "carl", "v1", STORE_EVENT_VIEW, 100, 1, 0, NULL },
        { "cv2", "carl", "v1", STORE_EVENT_VIEW, 200, 2, 0, NULL },
        { "cv3", "carl", "v1", STORE_EVENT_PURCHASE, 250, 1, 1, NULL },
        { "cv4", "carl", "v1", STORE_EVENT_VIEW, 300, 1, 0, NULL },
        { "cv5", "carl", "v1", STORE_EVENT_VIEW, 900, 1, 0, NULL }, /* after the horizon */
    };
    uint8_t o[5];
    const char *why[5];
    collected_t got = { .n = 0 };
    uint32_t carl;

    CHECK_EQ_INT(store_table_put(s, "t", "k1", 2, "v1", 2), 0);
    CHECK_EQ_INT(store_table_put(s, "t", "k2", 2, "v2", 2), 0);
    CHECK_EQ_INT(store_table_put(s, "tt", "k1", 2, "other", 5), 0);
    CHECK_EQ_INT(store_table_get(s, "t", "k2", 2, &val, &len), 0);
    CHECK(len == 2 && memcmp(val, "v2", 2) == 0);
    free(val);
    CHECK_EQ_INT(store_table_scan(s, "t", "k", 1, count_rows, &rows), 0);
    CHECK_EQ_INT(rows, 2); /* table "tt" is separate */
    CHECK_EQ_INT(store_table_del(s, "t", "k1", 2), 0);
    CHECK_EQ_INT(store_table_get(s, "t", "k1", 2, &val, &len), -ENOENT);
    CHECK_EQ_INT(store_table_put(s, "", "k", 1, "v", 1), -EINVAL);
    for (int i = 0; i < 5; i++)
        granted += store_table_atomic(s, spend, &op) == 0;
    CHECK_EQ_INT(granted, 3); /* 30 + 30 + 30 <= 100 < 120 */

    CHECK_EQ_INT(store_upsert_items(s, &it, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 5, o, why), 0);
    /* A horizon before every view: nothing to merge, nothing changes. */
    CHECK_EQ_INT(store_compact_views(s, 50, &removed, &added), 0);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(added, 0);
    CHECK_EQ_INT(store_compact_views(s, 500, &removed, &added), 0);
    CHECK_EQ_INT(removed, 3);
    CHECK_EQ_INT(added, 1);
    CHECK_EQ_INT(store_customer_index(s, "carl", &carl), 0);
    CHECK_EQ_INT(store_customer_events(s, carl, collect, &got), 0);
    CHECK_EQ_INT(got.n, 3); /* purchase, one aggregate view, the late view */
    CHECK_EQ_INT(got.ev[0].type, STORE_EVENT_PURCHASE);
    CHECK_EQ_INT(got.ev[1].type, STORE_EVENT_VIEW);
    CHECK_EQ_INT(got.ev[1].quantity, 4); /* 1 + 2 + 1 views */
    CHECK_EQ_INT(got.ev[1].time_ms, 300);
    CHECK_EQ_INT(got.ev[2].time_ms, 900);
    /* Compacting again changes nothing but the aggregate, kept as is. */
    CHECK_EQ_INT(store_compact_views(s, 500, &removed, &added), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(added, 1);
    store_close(s);
}

/* How often needle occurs in the file (raw bytes, free pages included). */
static int occurs(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = strlen(needle), len, cap = 1 << 20, hits = 0;
    char *buf = malloc(cap);
    long size;

    if (!f || !buf) {
        if (f)
            fclose(f);
        free(buf);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    free(buf);
    buf = malloc((size_t)size + 1);
    len = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    for (size_t i = 0; buf && i + n <= len; i++)
        hits += memcmp(buf + i, needle, n) == 0;
    free(buf);
    return (int)hits;
}

/* Vacuum: an erased customer's bytes are gone from the file, everyone else
 * is intact, and it never runs under an open store (nor the reverse). */
static void test_vacuum(const char *dir)
{
    static const char *secret = "erase-me-7c1f0d";
    char data[600];
    store_t *s = open_store(dir), *other = NULL;
    store_event_t ev[40];
    char ids[40][24];
    uint64_t deleted = 0, before = 0, after = 0;
    uint8_t out[40];
    const char *why[40];
    int lock;

    snprintf(data, sizeof data, "%s/data.mdb", dir);
    for (int i = 0; i < 40; i++) {
        snprintf(ids[i], sizeof ids[i], "v%d", i);
        ev[i] = (store_event_t){ ids[i], i % 2 ? secret : "keeper", "i1",
                                 STORE_EVENT_PURCHASE, 1000 + i, 1, 1, NULL };
    }
    store_item_t item = { .item_id = "i1", .title = "Item", .category = "cat",
                          .price = 5.0, .unit_cost = 1.0, .in_stock = 1 };
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 40, out, why), 0);
    for (int i = 0; i < 40; i++)
        CHECK_EQ_INT(out[i], STORE_ACCEPTED);
    CHECK(occurs(data, secret) > 0);
    CHECK_EQ_INT(store_vacuum(dir, NULL, NULL), -EBUSY); /* open here */
    CHECK_EQ_INT(delete_customer(s, secret, &deleted), 0);
    CHECK_EQ_INT(deleted, 20);
    store_close(s);
    printf("erased customer's id in the raw file: %d times before vacuum\n",
           occurs(data, secret));
    CHECK_EQ_INT(store_vacuum(dir, &before, &after), 0);
    CHECK(after > 0 && after <= before);
    CHECK_EQ_INT(occurs(data, secret), 0);
    CHECK(occurs(data, "keeper") > 0);
    s = open_store(dir);
    {
        store_event_list_t l = { 0 };
        uint32_t idx = 0;
        CHECK_EQ_INT(store_customer_index(s, "keeper", &idx), 0);
        CHECK_EQ_INT(store_customer_events(s, idx, store_event_list_push, &l), 0);
        CHECK_EQ_INT(l.n, 20);
        store_event_list_free(&l);
    }
    store_close(s);
    /* While a vacuum holds the lock, opening is refused, not blocked. */
    lock = store_lock_take(dir, 1);
    CHECK(lock >= 0);
    CHECK_EQ_INT(store_open(dir, 64u << 20, &other), -EBUSY);
    store_lock_release(lock);
    CHECK_EQ_INT(store_vacuum(test_tmpdir("store-empty"), NULL, NULL), -ENOENT);
}

/* Permission bits of dir/name (name NULL: dir itself), -1 if missing. */
static int mode_of(const char *dir, const char *name)
{
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "", name ? name : "");
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void check_private(const char *dir)
{
    CHECK_EQ_INT(mode_of(dir, NULL), 0700);
    CHECK_EQ_INT(mode_of(dir, "data.mdb"), 0600);
    CHECK_EQ_INT(mode_of(dir, "lock.mdb"), 0600);
    CHECK_EQ_INT(mode_of(dir, STORE_LOCK_FILE), 0600);
}

/* The store holds customer data: nobody but its owner may read it, under
 * the usual umask 022, for a store an older release left world-readable,
 * and after a vacuum rewrote the data file. */
static void test_files_are_private(void)
{
    static const char *const files[] = { "data.mdb", "lock.mdb", STORE_LOCK_FILE };
    char dir[600], path[700];
    store_t *s;
    mode_t old = umask(022);

    snprintf(dir, sizeof dir, "%s/new/store", test_tmpdir("store-private"));
    s = open_store(dir);
    check_private(dir);
    {
        char parent[600];
        snprintf(parent, sizeof parent, "%.*s", (int)(strlen(dir) - 6), dir);
        CHECK_EQ_INT(mode_of(parent, NULL), 0700); /* created by mkdir -p */
    }
    store_close(s);
    chmod(dir, 0755); /* what releases before this one made */
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        chmod(path, 0644);
    }
    s = open_store(dir);
    check_private(dir);
    store_close(s);
    CHECK_EQ_INT(store_vacuum(dir, NULL, NULL), 0);
    check_private(dir);
    umask(old);
}

/* store_usage: used bytes follow the data (up when written, down when
 * deleted, as freed pages go on LMDB's free list), the file's high-water
 * mark never drops, and the map and its limit are what store_open got. */
static void test_usage(const char *dir)
{
    store_t *s = open_store(dir);
    store_usage_t before, filled, emptied;
    static unsigned char val[64 << 10];
    char key[32];

    CHECK_EQ_INT(store_usage(s, &before), 0);
    CHECK(before.page_bytes >= 512);
    CHECK(before.used_bytes > 0);
    CHECK(before.used_bytes <= before.file_bytes);
    CHECK(before.file_bytes <= before.map_bytes);
    CHECK_EQ_INT(before.limit_bytes, 64u << 20);
    CHECK_EQ_INT(before.map_bytes, 64u << 20);
    memset(val, 0x5a, sizeof val);
    for (int i = 0; i < 64; i++) { /* 4 MiB */
        snprintf(key, sizeof key, "k%03d", i);
        CHECK_EQ_INT(store_table_put(s, "usage", key, strlen(key), val, sizeof val), 0);
    }
    CHECK_EQ_INT(store_usage(s, &filled), 0);
    CHECK(filled.used_bytes >= before.used_bytes + (4u << 20));
    CHECK(filled.file_bytes >= filled.used_bytes);
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "k%03d", i);
        CHECK_EQ_INT(store_table_del(s, "usage", key, strlen(key)), 0);
    }
    CHECK_EQ_INT(store_usage(s, &emptied), 0);
    CHECK(emptied.used_bytes + (4u << 20) <= filled.used_bytes);
    CHECK(emptied.file_bytes >= filled.file_bytes);
    CHECK_EQ_INT(store_usage(NULL, &emptied), -EINVAL);
    store_close(s);
}

/* A store whose data reaches its map size: writes fail with -EFBIG naming
 * the limit, nothing half-written, reads go on; deleting rows makes room
 * again, and a reopen with a larger limit takes more. Nothing acknowledged
 * is lost. */
static void test_map_full(const char *dir)
{
    store_t *s = NULL;
    static unsigned char val[32 << 10];
    char key[32];
    int rc = 0, acked = 0;
    void *got;
    size_t glen;

    CHECK_EQ_INT(store_open(dir, 1u << 20, &s), 0);
    if (!s)
        return;
    memset(val, 0x33, sizeof val);
    while (acked < 1000) {
        snprintf(key, sizeof key, "k%04d", acked);
        if ((rc = store_table_put(s, "fill", key, strlen(key), val, sizeof val)) != 0)
            break;
        acked++;
    }
    CHECK_EQ_INT(rc, -EFBIG);
    CHECK(acked > 4 && acked < 40);
    CHECK(strstr(store_strerror(rc), "store full: ") != NULL);
    CHECK(strstr(store_strerror(rc), " of 1.0 MiB map; raise --map-size") != NULL);
    /* Reads are served; the failed row is not there. */
    CHECK_EQ_INT(store_table_get(s, "fill", "k0000", 5, &got, &glen), 0);
    free(got);
    CHECK_EQ_INT(store_table_get(s, "fill", key, strlen(key), &got, &glen), -ENOENT);
    /* Freed pages are reused: the same write succeeds after deletions. */
    CHECK_EQ_INT(store_table_del(s, "fill", "k0000", 5), 0);
    CHECK_EQ_INT(store_table_del(s, "fill", "k0001", 5), 0);
    CHECK_EQ_INT(store_table_put(s, "fill", key, strlen(key), val, sizeof val), 0);
    acked++;
    store_close(s);
    /* A larger limit: more fits, and every acknowledged row is there. */
    CHECK_EQ_INT(store_open(dir, 4u << 20, &s), 0);
    if (!s)
        return;
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "more%02d", i);
        CHECK_EQ_INT(store_table_put(s, "fill", key, strlen(key), val, sizeof val), 0);
    }
    for (int i = 2; i < acked; i++) {
        snprintf(key, sizeof key, "k%04d", i);
        CHECK_EQ_INT(store_table_get(s, "fill", key, strlen(key), &got, &glen), 0);
        CHECK(glen == sizeof val);
        free(got);
    }
    store_close(s);
}

/* Programme events (signup, review, ...) are stored, with or without an
 * item, but only the id scan shows them: the interaction scans that
 * training and recommendation read skip them. */
typedef struct ids_seen {
    int types[8];
    char last_id[16];
    size_t n;
} ids_seen_t;

static int see_id(void *ctx, const store_event_rec_t *ev, const char *id, size_t len)
{
    ids_seen_t *g = ctx;
    if (g->n < 8)
        g->types[g->n] = ev->type;
    g->n++;
    snprintf(g->last_id, sizeof g->last_id, "%.*s", (int)len, id);
    return 0;
}

static void test_programme_events(const char *dir)
{
    store_t *s = open_store(dir);
    store_event_t ev[] = {
        { "p1", "erin", "", STORE_EVENT_SIGNUP, 1000, 0, 0, NULL },
        { "p2", "erin", "i1", STORE_EVENT_REVIEW, 2000, 0, 0, NULL },
        { "p3", "erin", "i1", STORE_EVENT_VIEW, 3000, 0, 0, NULL },
        { "p4", "erin", NULL, STORE_EVENT_CHECK_IN, 4000, 0, 0, NULL },
        { "p5", "erin", "", STORE_EVENT_VIEW, 5000, 0, 0, NULL },      /* a view needs an item */
        { "p6", "erin", "", STORE_EVENT_SURVEY, 5000, 0, 0, "Garden" }, /* no category */
        { "p7", "erin", "nope", STORE_EVENT_SHARE, 5000, 0, 0, NULL },  /* unknown item */
    };
    enum { N = sizeof ev / sizeof ev[0] };
    uint8_t out[N];
    const char *why[N];
    collected_t got = { .n = 0 };
    ids_seen_t seen = { .n = 0 };
    uint32_t erin;

    add_catalog(s);
    CHECK_EQ_INT(store_record_events(s, ev, N, out, why), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(out[i], STORE_ACCEPTED);
    CHECK(out[4] == STORE_REJECTED && strstr(why[4], "item_id"));
    CHECK(out[5] == STORE_REJECTED && strstr(why[5], "category: only for type not_interested"));
    CHECK(out[6] == STORE_REJECTED && strstr(why[6], "item_id: unknown item"));
    CHECK_EQ_INT(store_customer_index(s, "erin", &erin), 0);
    CHECK_EQ_INT(store_customer_events(s, erin, collect, &got), 0);
    CHECK_EQ_INT(got.n, 1);
    CHECK_EQ_INT(got.ev[0].type, STORE_EVENT_VIEW);
    got.n = 0;
    CHECK_EQ_INT(store_scan_events(s, collect, &got), 0);
    CHECK_EQ_INT(got.n, 1);
    CHECK_EQ_INT(store_customer_events_ids(s, erin, see_id, &seen), 0);
    CHECK_EQ_INT(seen.n, 4);
    CHECK_EQ_INT(seen.types[0], STORE_EVENT_SIGNUP);
    CHECK_EQ_INT(seen.types[1], STORE_EVENT_REVIEW);
    CHECK_EQ_INT(seen.types[3], STORE_EVENT_CHECK_IN);
    CHECK_STREQ(seen.last_id, "p4");
    CHECK_STREQ(store_event_type_name(STORE_EVENT_REFERRAL_SIGNUP), "referral_signup");
    CHECK_EQ_INT(store_event_type_parse("check_in"), STORE_EVENT_CHECK_IN);
    CHECK_EQ_INT(store_event_type_parse("checkin"), -1);
    CHECK(store_event_type_name(STORE_EVENT_TYPE_MAX + 1) == NULL);
    store_close(s);
}

int main(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("store"));
    test_items(dir);
    test_events(dir);
    test_customers(dir);
    snprintf(dir, sizeof dir, "%s", test_tmpdir("store-negative"));
    test_not_interested(dir);
    snprintf(dir, sizeof dir, "%s", test_tmpdir("store-programme"));
    test_programme_events(dir);
    snprintf(dir, sizeof dir, "%s", test_tmpdir("store-tables"));
    test_tables_and_compaction(dir);
    snprintf(dir, sizeof dir, "%s", test_tmpdir("store-models"));
    test_models(dir);
    snprintf(dir, sizeof dir, "%s", test_tmpdir("store-vacuum"));
    test_vacuum(dir);
    test_files_are_private();
    test_usage(test_tmpdir("store-usage"));
    test_map_full(test_tmpdir("store-full"));
    CHECK(store_open("/proc/definitely/not/here", 0, &(store_t *){ NULL }) < 0);
    {
        /* Missing parents are created. */
        store_t *nested = NULL;
        char path[600];
        snprintf(path, sizeof path, "%s/a/b/c", test_tmpdir("store-nested"));
        CHECK_EQ_INT(store_open(path, 64u << 20, &nested), 0);
        store_close(nested);
    }
    TEST_MAIN_END();
}
