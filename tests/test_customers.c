/*
 * test_customers.c - profiles on read over the store: a hand-checked
 * customer, RFM cut-points from the job, audiences against a brute-force
 * filter, points that can never be overdrawn even by concurrent
 * redemptions, and attributes in audience rows.
 */
#include <errno.h>
#include <pthread.h>

#include "customers.h"
#include "monotime.h"
#include "testutil.h"

#define DAY 86400000LL
#define NOW (1700000000000LL + 400 * DAY)

enum { N_CUST = 60 };

static void setup(store_t *s)
{
    store_item_t items[] = {
        { .item_id = "g1", .title = NULL, .category = "Garden",
          .price = 10, .unit_cost = 5, .in_stock = 1 }, { .item_id = "g2", .title = NULL, .category = "Garden", .price = 20, .unit_cost = 5, .in_stock = 1 },
        { .item_id = "k1", .title = NULL, .category = "Kitchen",
          .price = 50, .unit_cost = 20, .in_stock = 1 }, { .item_id = "b1", .title = NULL, .category = "Books", .price = 5, .unit_cost = 1, .in_stock = 1 },
    };
    store_event_t ev[N_CUST * 6 + 4];
    char ids[N_CUST * 6 + 4][32], cust[N_CUST][16];
    uint8_t out[N_CUST * 6 + 4];
    const char *why[N_CUST * 6 + 4];
    size_t n = 0;

    CHECK_EQ_INT(store_upsert_items(s, items, 4, NULL, NULL, NULL, NULL), 0);
    /* Customer c<i> buys i % 6 + 1 times, every 10 days, ending i days ago;
     * even customers buy garden items, odd ones kitchen. */
    for (int c = 0; c < N_CUST; c++) {
        snprintf(cust[c], sizeof cust[c], "c%02d", c);
        for (int j = 0; j <= c % 6; j++) {
            snprintf(ids[n], sizeof ids[n], "e%d-%d", c, j);
            ev[n] = (store_event_t){ ids[n], cust[c], c % 2 ? "k1" : "g1",
                                     STORE_EVENT_PURCHASE,
                                     NOW - (int64_t)c * DAY - (int64_t)j * 10 * DAY, 1,
                                     c % 2 ? 50 : 10, NULL };
            n++;
        }
    }
    /* alice: 2 x g2 at 20 and a refund of one, plus a book; all recent. */
    ev[n++] = (store_event_t){ "a1", "alice", "g2", STORE_EVENT_PURCHASE, NOW - 5 * DAY, 2, 20, NULL };
    ev[n++] = (store_event_t){ "a2", "alice", "g2", STORE_EVENT_REFUND, NOW - 4 * DAY, 1, 20, NULL };
    ev[n++] = (store_event_t){ "a3", "alice", "b1", STORE_EVENT_PURCHASE, NOW - 2 * DAY, 1, 5, NULL };
    ev[n++] = (store_event_t){ "a4", "alice", "k1", STORE_EVENT_VIEW, NOW - DAY, 1, 0, NULL };
    CHECK_EQ_INT(store_record_events(s, ev, n, out, why), 0);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(out[i], STORE_ACCEPTED);
}

static void test_view(const customers_ctx_t *c)
{
    customer_view_t v;
    CHECK_EQ_INT(customers_view(c, "alice", NOW, &v), 0);
    /* monetary: 2 x 20 - 1 x 20 + 5 = 25; two orders (days apart). */
    CHECK(v.has_events);
    CHECK_EQ_INT(v.p.orders, 2);
    CHECK(v.p.monetary > 24.999 && v.p.monetary < 25.001);
    CHECK(v.p.recency_days > 1.999 && v.p.recency_days < 2.001);
    /* favourite category by net spend: Garden 20 > Books 5 */
    CHECK(v.p.n_favourites >= 1);
    CHECK_STREQ(c->cat->categories[v.p.favourites[0]], "Garden");
    /* points: 40 - 20 + 5 = 25 at 1 point per unit */
    CHECK_EQ_INT(v.points_earned, 25);
    CHECK_EQ_INT(v.points_balance, 25);
    CHECK(v.r >= 1 && v.r <= 5 && v.f >= 1 && v.m >= 1);
    CHECK(v.segment >= 0);
    CHECK_EQ_INT(customers_view(c, "nobody", NOW, &v), -ENOENT);
    CHECK_EQ_INT(customers_view(c, "", NOW, &v), -EINVAL);
}

typedef struct collected {
    char ids[N_CUST + 1][STORE_MAX_ID + 1];
    int n;
} collected_t;

static int collect(void *ctx, const customer_view_t *v)
{
    collected_t *col = ctx;
    if (col->n <= N_CUST)
        snprintf(col->ids[col->n], sizeof col->ids[0], "%s", v->customer_id);
    col->n++;
    return 0;
}

/* The same predicate written by hand over the planted data. */
static int expected(int c, int which)
{
    int orders = c % 6 + 1;
    switch (which) {
    case 0: return orders >= 4;
    case 1: return c % 2 == 1 && c <= 20;           /* kitchen, bought <= 20 days ago */
    case 2: return !(c % 2 == 0) || orders == 1;
    default: return 1;
    }
}

static void test_select(const customers_ctx_t *c)
{
    static const char *const exprs[] = {
        "orders >= 4",
        "category = \"Kitchen\" AND recency_days <= 20.5",
        "NOT category = 'Garden' OR orders = 1",
    };
    for (int w = 0; w < 3; w++) {
        audience_t *a = NULL;
        char err[128];
        collected_t col = { .n = 0 };
        int want = 0;
        CHECK_EQ_INT(audience_parse(exprs[w], c->cfg, &a, err, sizeof err), 0);
        CHECK_EQ_INT(customers_select(c, a, NOW, collect, &col), 0);
        /* alice (2 orders, Garden then Books, Kitchen only viewed) matches
         * none of the three. */
        for (int i = 0; i < N_CUST; i++)
            want += expected(i, w);
        CHECK_EQ_INT(col.n, want);
        for (int i = 0; i < col.n && i <= N_CUST; i++) {
            int id = atoi(col.ids[i] + 1);
            CHECK(col.ids[i][0] == 'c' && expected(id, w));
        }
        audience_free(a);
    }
    {
        collected_t col = { .n = 0 };
        CHECK_EQ_INT(customers_select(c, NULL, NOW, collect, &col), 0);
        CHECK_EQ_INT(col.n, N_CUST + 1);
    }
}

/* A scan whose deadline has passed stops with -ETIMEDOUT before visiting
 * anyone; one with time left visits everyone (issue 20 item 8). */
static void test_select_deadline(const customers_ctx_t *c)
{
    customers_ctx_t late = *c, soon = *c;
    collected_t col = { .n = 0 };

    late.deadline = monotime_seconds() - 0.001;
    CHECK_EQ_INT(customers_select(&late, NULL, NOW, collect, &col), -ETIMEDOUT);
    CHECK_EQ_INT(col.n, 0);
    soon.deadline = monotime_seconds() + 60;
    CHECK_EQ_INT(customers_select(&soon, NULL, NOW, collect, &col), 0);
    CHECK_EQ_INT(col.n, N_CUST + 1);
}

typedef struct redeemer {
    const customers_ctx_t *c;
    int id, ok;
} redeemer_t;

static void *redeem_loop(void *arg)
{
    redeemer_t *r = arg;
    for (int i = 0; i < 20; i++) {
        char rid[32];
        int64_t bal;
        int dup;
        snprintf(rid, sizeof rid, "t%d-%d", r->id, i);
        if (customers_redeem(r->c, "alice", rid, 1, NOW, &bal, &dup) == 0)
            r->ok++;
    }
    return NULL;
}

static void test_points(const customers_ctx_t *c)
{
    redeemer_t r[4];
    pthread_t th[4];
    customer_view_t v;
    int64_t bal = -1;
    int dup = -1, total = 0;

    CHECK_EQ_INT(customers_redeem(c, "alice", "first", 5, NOW, &bal, &dup), 0);
    CHECK(bal == 20 && dup == 0);
    CHECK_EQ_INT(customers_redeem(c, "alice", "first", 5, NOW, &bal, &dup), 0);
    CHECK(bal == 20 && dup == 1); /* a retry changes nothing */
    CHECK_EQ_INT(customers_redeem(c, "alice", "big", 21, NOW, &bal, &dup), -ERANGE);
    CHECK_EQ_INT(customers_redeem(c, "nobody", "x", 1, NOW, &bal, &dup), -ENOENT);
    /* 4 threads x 20 one-point redemptions against 20 points left. */
    for (int i = 0; i < 4; i++) {
        r[i] = (redeemer_t){ c, i, 0 };
        pthread_create(&th[i], NULL, redeem_loop, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += r[i].ok;
    }
    CHECK_EQ_INT(total, 20);
    CHECK_EQ_INT(customers_view(c, "alice", NOW, &v), 0);
    CHECK_EQ_INT(v.points_balance, 0);
    CHECK_EQ_INT(v.points_redeemed, 25);
}

static void test_attrs(const customers_ctx_t *c)
{
    store_attrs_t a = { .signup_ms = 1700000000000LL /* 2023-11-14 */, .birth_month = 7 };
    customer_view_t v;
    audience_row_t row;
    audience_t *aud = NULL;
    char err[128];

    strcpy(a.region, "north");
    CHECK_EQ_INT(store_set_attrs(c->store, "c03", &a), 0);
    CHECK_EQ_INT(store_set_attrs(c->store, "prospect", &a), 0);
    CHECK_EQ_INT(customers_view(c, "prospect", NOW, &v), 0); /* attributes only */
    CHECK(!v.has_events && v.has_attrs);
    CHECK_EQ_INT(customers_view(c, "c03", NOW, &v), 0);
    customers_audience_row(c, &v, &row);
    CHECK_STREQ(row.region, "north");
    CHECK_EQ_INT(row.signup_month, 11);
    CHECK_EQ_INT(row.birthday_month, 7);
    CHECK_EQ_INT(audience_parse("region = north AND birthday_month = 7", c->cfg, &aud,
                                err, sizeof err), 0);
    CHECK(audience_match(aud, &row));
    audience_free(aud);
}

/* Issue 20, item 9: 10,000 purchases of the largest quantity at the
 * largest price earn more than int64 holds; the sum saturates at
 * PROFILE_MAX_POINTS (the ASan+UBSan build aborted on the overflow, the
 * release build showed 0 points). Refunds of the same subtract from the
 * capped sum without overflowing either. */
static void test_points_overflow(const customers_ctx_t *c)
{
    enum { N = 10000 };
    static store_event_t ev[N];
    static store_event_rec_t rec[2 * N];
    static char ids[N][16];
    static uint8_t out[N];
    static const char *why[N];
    customer_view_t v;

    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "w%d", i);
        ev[i] = (store_event_t){ ids[i], "whale", "k1", STORE_EVENT_PURCHASE,
                                 NOW - DAY, STORE_MAX_QUANTITY, STORE_MAX_PRICE, NULL };
        rec[i] = (store_event_rec_t){ 0, 0, STORE_EVENT_PURCHASE, STORE_MAX_QUANTITY,
                                      NOW - DAY, STORE_MAX_PRICE, (uint64_t)i, 0 };
        rec[N + i] = rec[i];
        rec[N + i].type = STORE_EVENT_REFUND;
    }
    CHECK_EQ_INT(store_record_events(c->store, ev, N, out, why), 0);
    CHECK_EQ_INT(out[N - 1], STORE_ACCEPTED);
    CHECK_EQ_INT(customers_view(c, "whale", NOW, &v), 0);
    CHECK(v.points_earned == PROFILE_MAX_POINTS);
    CHECK(v.points_balance == PROFILE_MAX_POINTS);
}

int main(void)
{
    store_t *s = NULL;
    catalog_t *cat = NULL;
    profile_config_t cfg;
    rfm_cutpoints_t cut, loaded;
    customers_ctx_t c;

    CHECK_EQ_INT(store_open(test_tmpdir("customers"), 64u << 20, &s), 0);
    if (!s)
        return 1;
    setup(s);
    profile_config_default(&cfg);
    CHECK_EQ_INT(customers_load_cutpoints(s, &loaded), 0);
    CHECK_EQ_INT(loaded.n, 0); /* the job never ran */
    CHECK_EQ_INT(customers_rfm_job(s, &cfg, NOW, &cut), 0);
    CHECK_EQ_INT(cut.n, N_CUST + 1);
    CHECK_EQ_INT(customers_load_cutpoints(s, &loaded), 0);
    CHECK(memcmp(&cut, &loaded, sizeof cut) == 0);
    /* frequency: 1..6 orders, 10 customers each (+ alice with 2) */
    CHECK(cut.frequency[0] <= 2 && cut.frequency[3] >= 4);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    if (!cat)
        return 1;
    CHECK_EQ_INT(cat->n_categories, 3);
    c = (customers_ctx_t){ s, &cfg, cat, &cut, 0, NULL };
    test_view(&c);
    test_select(&c);
    test_select_deadline(&c);
    test_points(&c);
    test_attrs(&c);
    test_points_overflow(&c);
    catalog_unref(cat);
    store_close(s);
    TEST_MAIN_END();
}
