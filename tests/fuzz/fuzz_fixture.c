/* fuzz_fixture.c - the handler driver's shop (fuzz_fixture.h). */
#include "fuzz_fixture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "couponstore.h"
#include "expstore.h"
#include "store.h"
#include "store_record.h"
#include "testcoupon.h"
#include "testexperiment.h"
#include "train.h"

#define CUSTOMERS 40
#define PER_CATEGORY 15
#define DAY_MS 86400000LL

static const char *const categories[] = { "books", "garden", "kitchen", "toys" };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz fixture: %s: %s\n", what, store_strerror(rc));
    return rc;
}

static int add_items(store_t *s)
{
    store_item_t items[4 * PER_CATEGORY];
    char ids[4 * PER_CATEGORY][16], titles[4 * PER_CATEGORY][32];
    for (int c = 0, n = 0; c < 4; c++)
        for (int j = 0; j < PER_CATEGORY; j++, n++) {
            snprintf(ids[n], sizeof ids[n], "%s-%02d", categories[c], j);
            snprintf(titles[n], sizeof titles[n], "Item %s-%02d", categories[c], j);
            items[n] = (store_item_t){ .item_id = ids[n], .title = titles[n], .category = categories[c],
                                       .price = 2.5 + n, .unit_cost = 1.0, .in_stock = j != PER_CATEGORY - 1 };
        }
    return store_upsert_items(s, items, 4 * PER_CATEGORY, NULL, NULL, NULL, NULL);
}

/* Each customer buys its category's flagship and two others, views three,
 * over the last 60 days. */
static int add_events(store_t *s, int64_t now)
{
    enum { PER_CUSTOMER = 6 };
    store_event_t ev[CUSTOMERS * PER_CUSTOMER];
    char eid[CUSTOMERS * PER_CUSTOMER][32], cid[CUSTOMERS][24];
    char iid[CUSTOMERS * PER_CUSTOMER][24];
    uint8_t out[CUSTOMERS * PER_CUSTOMER];
    const char *why[CUSTOMERS * PER_CUSTOMER];
    size_t n = 0;

    for (int u = 0; u < CUSTOMERS; u++) {
        const char *cat = categories[u % 4];
        snprintf(cid[u], sizeof cid[u], "cust-%02d", u);
        for (int j = 0; j < PER_CUSTOMER; j++, n++) {
            int item = j == 0 ? 0 : 1 + (u * 7 + j * 3) % (PER_CATEGORY - 1);
            snprintf(eid[n], sizeof eid[n], "ev-%05zu", n);
            snprintf(iid[n], sizeof iid[n], "%s-%02d", cat, item);
            ev[n] = (store_event_t){ eid[n], cid[u], iid[n],
                                     j < 3 ? STORE_EVENT_PURCHASE : STORE_EVENT_VIEW,
                                     now - (int64_t)(60 - (u + j) % 60) * DAY_MS, 1,
                                     j < 3 ? 12.5 : 0, NULL };
        }
    }
    return store_record_events(s, ev, n, out, why);
}

static int add_attrs(store_t *s, int64_t now)
{
    for (int u = 0; u < CUSTOMERS; u += 3) {
        store_attrs_t a = { .signup_ms = now - 400 * DAY_MS, .birth_month = (uint8_t)(1 + u % 12),
                            .birth_day = (uint8_t)(1 + u % 28) };
        char id[24];
        int rc;
        snprintf(a.region, sizeof a.region, "%s", u % 2 ? "north" : "south");
        snprintf(id, sizeof id, "cust-%02d", u);
        if ((rc = store_set_attrs(s, id, &a)) != 0)
            return rc;
    }
    return 0;
}

/* Three coupons, "fix2" (campaign "aud") granted to "dora": the ids the
 * integration tests' coupon requests use, so seeds reach redemption and
 * campaign audiences. */
static int add_coupons(store_t *s, int64_t now)
{
    coupon_t c[3] = { test_fixed_coupon("welcome", "spring", 2.0, 1000, now),
                      test_fixed_coupon("books5", "books-push", 5.0, 50, now),
                      test_fixed_coupon("fix2", "aud", 2.0, 1000, now) };
    couponstore_offer_t o;
    const char *why = NULL;
    int rc = 0;

    for (int i = 0; i < 3 && rc == 0; i++)
        rc = couponstore_put_coupon(s, &c[i], NULL, &why);
    if (rc && why)
        fprintf(stderr, "fuzz fixture: coupon: %s\n", why);
    if (rc == 0)
        rc = test_grant(s, "dora", "req-dora-1", &c[2], 1, now, &o);
    return rc;
}

static int add_experiment(store_t *s, int64_t now)
{
    experiment_forced_t forced = { "cust-01", "popular" };
    experiment_t e = test_two_arms("blend-test", "fuzz", "control", "popular",
                                   now - 30 * DAY_MS);
    e.arms[1].diversity = 0.5;
    e.arms[1].coupon_lambda = 0.1;
    e.forced = &forced;
    e.n_forced = 1;
    return expstore_save(s, &e);
}

static int train(store_t *s)
{
    train_config_t cfg;
    train_report_t rep;
    train_config_default(&cfg);
    cfg.als.factors = 8;
    cfg.als.iterations = 4;
    cfg.als.threads = 1;
    return train_run(s, &cfg, NULL, NULL, &rep);
}

int fuzz_fixture_build(const char *dir)
{
    store_t *s = NULL;
    int64_t now = now_ms();
    int rc = store_open(dir, 64u << 20, &s);

    if (rc)
        return fail("opening the store", rc);
    if ((rc = add_items(s)) != 0)
        fail("items", rc);
    else if ((rc = add_events(s, now)) != 0)
        fail("events", rc);
    else if ((rc = add_attrs(s, now)) != 0)
        fail("attributes", rc);
    else if ((rc = add_coupons(s, now)) != 0)
        fail("coupons", rc);
    else if ((rc = train(s)) != 0)
        fail("training", rc);
    else if ((rc = add_experiment(s, now)) != 0)
        fail("experiment", rc);
    store_close(s);
    return rc;
}
