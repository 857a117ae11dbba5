/*
 * test_srv_cli_retention.c - `patron compact --customer-data-older-than-days`
 * (the real binary, $PATRON_BIN) runs the retention of every owner of
 * customer data through the registry: rows older than the horizon are gone
 * from every owner that has a retention (the coupon offer log, experiment
 * request ids), newer ones stay, and the store keeps its events. The
 * per-table options still prune one owner each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "couponstore.h"
#include "expstore.h"
#include "store.h"
#include "testcli.h"
#include "testcoupon.h"
#include "testutil.h"

#define DAY 86400000LL

static char dir[512];

static int count_row(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    ++*(int *)ctx;
    return 0;
}

/* Rows of table whose key starts with prefix. */
static int rows(store_t *s, const char *table, const char *prefix)
{
    int n = 0;
    CHECK_EQ_INT(store_table_scan(s, table, prefix, strlen(prefix), count_row, &n), 0);
    return n;
}

/* Two offers and two exposures, 10 days and 1 day old, and one event. */
static void fill(int64_t now)
{
    coupon_t cat = test_fixed_coupon("cpn", "camp", 2.0, 100, now - 20 * DAY);
    couponstore_offer_t o;
    uint32_t shown[1] = { 0 };
    expstore_exposure_t old_x = { "xr-old", "cust-old", "exp-1", 0, 0, now - 10 * DAY,
                                  shown, 1 };
    expstore_exposure_t new_x = { "xr-new", "cust-new", "exp-1", 1, 0, now - DAY, shown, 1 };
    store_item_t item = { .item_id = "i1", .title = "One", .category = "c",
                          .price = 10, .unit_cost = 4, .in_stock = 1 };
    store_event_t ev = { "ev-old", "cust-old", "i1", STORE_EVENT_PURCHASE, now - 10 * DAY,
                         1, 10, NULL };
    uint8_t outcome;
    const char *why;
    store_t *s;

    snprintf(dir, sizeof dir, "%s", test_tmpdir("cli-retention"));
    if (store_open(dir, 0, &s) != 0)
        exit(1);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat, NULL, NULL), 0);
    CHECK_EQ_INT(test_grant(s, "cust-old", "req-old", &cat, 1, now - 10 * DAY, &o), 0);
    CHECK_STREQ(o.coupon_id, "cpn");
    CHECK_EQ_INT(test_grant(s, "cust-new", "req-new", &cat, 1, now - DAY, &o), 0);
    CHECK_STREQ(o.coupon_id, "cpn");
    CHECK_EQ_INT(expstore_log(s, &old_x), 0);
    CHECK_EQ_INT(expstore_log(s, &new_x), 0);
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, &ev, 1, &outcome, &why), 0);
    store_close(s);
}

/* Runs `patron compact --data DIR OPTS`, checks exit 0 and each of the
 * lines wanted (NULL-terminated) in its output. */
static void compact(const char *opts, const char *const *wanted)
{
    char args[1024], out[4096];
    int st;

    snprintf(args, sizeof args, "compact --data '%s' %s", dir, opts);
    st = run(args, out, sizeof out);
    CHECK_EQ_INT(st, 0);
    for (; *wanted; wanted++)
        if (!strstr(out, *wanted)) {
            fprintf(stderr, "patron %s: no \"%s\" in:\n%s\n", args, *wanted, out);
            test_failures++;
        }
}

int main(void)
{
    static const char *const registry[] = {
        "coupons: deleted 1 coupon offer log rows", "experiments: deleted 1 experiment "
        "exposure request ids", "store: nothing removed by age", NULL };
    static const char *const offers[] = { "deleted 1 coupon offer log rows older", NULL };
    static const char *const ids[] = { "forgot 1 experiment request ids", NULL };
    int64_t now = (int64_t)time(NULL) * 1000;
    couponstore_offer_t o;
    couponstore_history_t h;
    uint32_t idx;
    store_t *s;

    test_patron_bin();
    fill(now);
    compact("--customer-data-older-than-days 5", registry);
    if (store_open(dir, 0, &s) != 0)
        return 1;
    CHECK_EQ_INT(couponstore_get_offer(s, "req-old", &o), -ENOENT); /* older: gone */
    CHECK_EQ_INT(rows(s, "exp_req", "xr-old"), 0);
    CHECK_EQ_INT(couponstore_get_offer(s, "req-new", &o), 0);       /* newer: kept */
    CHECK_EQ_INT(rows(s, "exp_req", "xr-new"), 1);
    CHECK_EQ_INT(couponstore_get_history(s, "cust-old", &h), 0);    /* the grant stays */
    CHECK_EQ_INT(h.n_grants, 1);
    CHECK_EQ_INT(rows(s, "exp_cust", "exp-1"), 2);                  /* results stay */
    CHECK_EQ_INT(store_customer_index(s, "cust-old", &idx), 0);     /* events stay */
    store_close(s);

    /* The per-table options, each on its own horizon. */
    compact("--offers-older-than-days 0.5", offers);
    compact("--exposure-ids-older-than-days 0.5", ids);
    if (store_open(dir, 0, &s) != 0)
        return 1;
    CHECK_EQ_INT(couponstore_get_offer(s, "req-new", &o), -ENOENT);
    CHECK_EQ_INT(rows(s, "exp_req", "xr-new"), 0);
    store_close(s);
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
