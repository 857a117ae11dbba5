/*
 * test_referrals.c - the referral programme (referrals.c, referral_def.c,
 * referral_store.c, referral_owner.c): codes, the settings line, when a
 * friend's orders earn the referral, caps, self-referral and rings, the
 * ledger rows of both sides with exact points (balance = sum of the rows),
 * and erasure and merging of signups and links.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "customers_erase.h"
#include "customers_merge.h"
#include "owners.h"
#include "points_store.h"
#include "referral_store.h"
#include "referrals.h"
#include "store_custdata.h"
#include "settings_testutil.h"
#include "testutil.h"

#define DAY CIVIL_DAY_MS
#define T0 (civil_to_days(2026, 3, 2) * DAY) /* 2026-03-02 00:00 UTC */

/* ---- pure parts ------------------------------------------------------------------ */

static void test_codes(void)
{
    char a[REFERRAL_CODE_LEN + 1], b[REFERRAL_CODE_LEN + 1], n[REFERRAL_CODE_LEN + 1];
    referral_code_of("alice", a);
    referral_code_of("alice", b);
    CHECK_STREQ(a, b);
    CHECK_EQ_INT(strlen(a), REFERRAL_CODE_LEN);
    referral_code_of("alicf", b);
    CHECK(strcmp(a, b) != 0);
    /* typed in lower case, with O for 0 and l for 1 */
    CHECK_EQ_INT(referral_code_normalize("ab0o1liz9y", n), 0);
    CHECK_STREQ(n, "AB00111Z9Y");
    CHECK_EQ_INT(referral_code_normalize("AB00111Z9", n), -EINVAL);   /* 9 characters */
    CHECK_EQ_INT(referral_code_normalize("AB00111Z9U", n), -EINVAL);  /* U is not base32 */
    CHECK_EQ_INT(referral_code_normalize("AB00111Z9-", n), -EINVAL);
}

static void expect_load_error(const char *text, const char *want)
{
    settings_load_refused("referral-conf", text, want);
}

static void test_settings(void)
{
    char err[512];
    profile_config_t cfg;
    const char *path = test_write_file(
        test_tmpdir("referral-conf"), "ok.conf",
        "tier = bronze 0 0 0\n"
        "referral = referrer_points 500 friend_points 200 window_days 14 cap 10 per year\n");
    CHECK_EQ_INT(profile_config_load(path, &cfg, err, sizeof err), 0);
    CHECK(cfg.referral.enabled);
    CHECK_EQ_INT(cfg.referral.referrer_points, 500);
    CHECK_EQ_INT(cfg.referral.friend_points, 200);
    CHECK_EQ_INT(cfg.referral.window_days, 14);
    CHECK_EQ_INT(cfg.referral.cap, 10);
    CHECK_EQ_INT(cfg.referral.cap_period, REFERRAL_CAP_YEAR);
    CHECK_EQ_INT(cfg.referral.line, 2);

    expect_load_error("\nreferral = referrer_points 500\n",
                      "bad.conf:2: referral: expected referrer_points N friend_points M");
    expect_load_error("referral = referrer_points -1 friend_points 2\n",
                      ":1: referral: referrer_points:");
    expect_load_error("referral = referrer_points 1 friend_points 2 cap 10 per week\n",
                      ":1: referral: cap: the period is year, month or ever");
    expect_load_error("referral = referrer_points 1 friend_points 2 cap 10\n", "cap:");
    expect_load_error("referral = referrer_points 1 friend_points 2 window_days 0\n",
                      "window_days:");
    expect_load_error("referral = referrer_points 1 friend_points 2 bonus 3\n",
                      "unknown option");
}

static store_event_rec_t ev(int type, uint32_t item, int64_t t)
{
    return (store_event_rec_t){ .type = (uint8_t)type, .item = item, .time_ms = t,
                                .quantity = 1, .unit_price = 10 };
}

static void test_qualifying_order(void)
{
    /* the first order is refunded inside the 30-day window; the second is not */
    store_event_rec_t h[] = {
        ev(STORE_EVENT_VIEW, 1, T0 - DAY),
        ev(STORE_EVENT_PURCHASE, 1, T0),
        ev(STORE_EVENT_REFUND, 1, T0 + 5 * DAY),
        ev(STORE_EVENT_PURCHASE, 2, T0 + 10 * DAY),
        ev(STORE_EVENT_REFUND, 2, T0 + 41 * DAY), /* after its window: kept */
    };
    size_t order = 99;
    CHECK_EQ_INT(referral_qualifying_order(h, 5, 30, T0 + 40 * DAY - 1, &order), 0);
    CHECK_EQ_INT(referral_qualifying_order(h, 5, 30, T0 + 40 * DAY, &order), T0 + 40 * DAY);
    CHECK_EQ_INT(order, 3);
    /* only the refunded order: nothing, however long one waits */
    CHECK_EQ_INT(referral_qualifying_order(h, 3, 30, T0 + 400 * DAY, &order), 0);
    /* a refund on the window's last millisecond still counts */
    {
        store_event_rec_t e[] = { ev(STORE_EVENT_PURCHASE, 1, T0),
                                  ev(STORE_EVENT_REFUND, 1, T0 + 30 * DAY) };
        CHECK_EQ_INT(referral_qualifying_order(e, 2, 30, T0 + 99 * DAY, &order), 0);
    }
}

static void test_allocate(void)
{
    referral_config_t cfg;
    int64_t y27 = civil_to_days(2027, 1, 5) * DAY;
    referral_candidate_t c[] = {
        { .friend_id = "f5", .reward_ms = T0 + 5 * DAY },
        { .friend_id = "f1", .reward_ms = T0 + 1 * DAY },
        { .friend_id = "f3", .reward_ms = T0 + 3 * DAY },
        { .friend_id = "f0", .reward_ms = 0 },                         /* pending */
        { .friend_id = "fr", .reward_ms = T0, .ring = 1 },            /* ring */
        { .friend_id = "fs", .reward_ms = T0, .self = 1 },            /* self */
        { .friend_id = "f9", .reward_ms = y27 },                       /* next year */
        { .friend_id = "f2", .reward_ms = T0 + 3 * DAY },             /* tie: by id */
    };
    const char *want_state[][2] = { { "f0", "pending" }, { "fr", "ring" }, { "fs", "self" },
                                    { "f1", "paid" },    { "f2", "paid" }, { "f3", "capped" },
                                    { "f5", "capped" },  { "f9", "paid" } };
    referral_config_default(&cfg);
    CHECK(referral_def_line(&cfg, "referral",
                            "referrer_points 5 friend_points 2 cap 2 per year", 1) == NULL);
    referral_allocate(c, 8, &cfg);
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 8; j++)
            if (strcmp(c[j].friend_id, want_state[i][0]) == 0)
                CHECK_STREQ(referral_state_name(c[j].state), want_state[i][1]);
}

/* ---- in the store ----------------------------------------------------------------- */

static void items(store_t *s)
{
    store_item_t it[2] = {
        { .item_id = "i1", .title = "One", .category = "c", .price = 100, .unit_cost = 40,
          .in_stock = 1 },
        { .item_id = "i2", .title = "Two", .category = "c", .price = 50, .unit_cost = 20,
          .in_stock = 1 },
    };
    CHECK_EQ_INT(store_upsert_items(s, it, 2, NULL, NULL, NULL, NULL), 0);
}

static void event(store_t *s, const char *id, const char *cust, const char *item, int type,
                  int64_t t, double price)
{
    store_event_t e = { id, cust, item, type, t, 1, price, NULL };
    uint8_t out;
    const char *why;
    CHECK_EQ_INT(store_record_events(s, &e, 1, &out, &why), 0);
    CHECK_EQ_INT(out, STORE_ACCEPTED);
}

static char code_buf[8][REFERRAL_CODE_LEN + 1];

static const char *code(const char *id)
{
    static int k;
    char *c = code_buf[k++ % 8];
    referral_code_of(id, c);
    return c;
}

static int signup(store_t *s, const char *id, int64_t t, const char *with_code,
                  const char *device, const char **why)
{
    referral_signup_t in = { .customer_id = id, .time_ms = t, .code = with_code,
                             .device = device };
    referral_signup_result_t res;
    const char *w = NULL;
    int rc = referral_store_signup(s, &in, t, &res, &w);
    if (why)
        *why = w;
    return rc;
}

/* The customer's ledger as of now: checks balance = sum of the rows and
 * returns the referral rows' total, with *balance the available balance. */
static int64_t referral_points(store_t *s, const profile_config_t *cfg, const char *id,
                               int64_t now, int64_t *balance)
{
    points_store_view_t pv;
    int64_t sum = 0, ref = 0;
    CHECK_EQ_INT(points_store_ledger(s, cfg, NULL, id, now, &pv), 0);
    for (size_t i = 0; i < pv.ledger.n; i++) {
        sum += pv.ledger.rows[i].delta;
        if (pv.ledger.rows[i].reason == POINTS_REFERRAL)
            ref += pv.ledger.rows[i].delta;
    }
    CHECK_EQ_INT(sum, pv.ledger.balance);
    if (balance)
        *balance = pv.ledger.balance;
    points_store_view_free(&pv);
    return ref;
}

static void config(profile_config_t *cfg, const char *line)
{
    profile_config_default(cfg);
    CHECK(referral_def_line(&cfg->referral, "referral", line, 1) == NULL);
}

static void test_reward_after_window(void)
{
    profile_config_t cfg;
    store_t *s = NULL;
    const char *why;
    int64_t bal;
    points_store_view_t pv;

    config(&cfg, "referrer_points 500 friend_points 200");
    CHECK_EQ_INT(store_open(test_tmpdir("referral-window"), 64u << 20, &s), 0);
    if (!s)
        return;
    items(s);
    event(s, "e1", "alice", "i2", STORE_EVENT_VIEW, T0 - 9 * DAY, 0); /* alice has events */
    /* alice never signed up: her code is found by walking the customers */
    CHECK_EQ_INT(signup(s, "bob", T0 - DAY, code("alice"), "dev-b", &why), 0);
    /* the same signup again is a replay; other details are refused */
    CHECK_EQ_INT(signup(s, "bob", T0 - DAY, code("alice"), "dev-b", &why), 0);
    CHECK_EQ_INT(signup(s, "bob", T0 - DAY, NULL, "dev-b", &why), -EEXIST);
    CHECK_STREQ(why, "customer_id: the customer signed up before with other details");

    /* bob's first order (100, 100 points) is refunded inside the window */
    event(s, "o1", "bob", "i1", STORE_EVENT_PURCHASE, T0, 100);
    event(s, "r1", "bob", "i1", STORE_EVENT_REFUND, T0 + 3 * DAY, 100);
    CHECK_EQ_INT(referral_points(s, &cfg, "alice", T0 + 60 * DAY, NULL), 0);
    CHECK_EQ_INT(referral_points(s, &cfg, "bob", T0 + 60 * DAY, NULL), 0);
    /* a later order of 50 is kept: both paid 30 days after it */
    event(s, "o2", "bob", "i2", STORE_EVENT_PURCHASE, T0 + 61 * DAY, 50);
    CHECK_EQ_INT(referral_points(s, &cfg, "alice", T0 + 91 * DAY - 1, NULL), 0);
    CHECK_EQ_INT(referral_points(s, &cfg, "alice", T0 + 91 * DAY, &bal), 500);
    CHECK_EQ_INT(bal, 500);
    CHECK_EQ_INT(referral_points(s, &cfg, "bob", T0 + 91 * DAY, &bal), 200);
    CHECK_EQ_INT(bal, 250); /* 100 earned, 100 refunded, 50, 200 */

    /* the rows name the friend and the order, at the window's end */
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, "alice", T0 + 100 * DAY, &pv), 0);
    CHECK_EQ_INT(pv.ledger.n, 1);
    CHECK_EQ_INT(pv.ledger.rows[0].time_ms, T0 + 91 * DAY);
    CHECK_STREQ(pv.ledger.rows[0].source, "referral:bob:o2");
    CHECK_EQ_INT(pv.referral.friends, 1);
    CHECK_EQ_INT(pv.referral.by_state[REFERRAL_PAID], 1);
    points_store_view_free(&pv);
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, "bob", T0 + 100 * DAY, &pv), 0);
    CHECK_STREQ(pv.referral.referrer, "alice");
    CHECK_EQ_INT(pv.referral.state, REFERRAL_PAID);
    CHECK_EQ_INT(pv.referral.reward_ms, T0 + 91 * DAY);
    points_store_view_free(&pv);

    /* without a referral line nothing is paid, the link is kept */
    profile_config_default(&cfg);
    CHECK_EQ_INT(referral_points(s, &cfg, "alice", T0 + 100 * DAY, NULL), 0);
    store_close(s);
}

static void test_refusals(void)
{
    store_t *s = NULL;
    const char *why;
    char who[STORE_MAX_ID + 1];

    CHECK_EQ_INT(store_open(test_tmpdir("referral-refusals"), 64u << 20, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(signup(s, "carol", T0, NULL, NULL, &why), 0);
    /* self-referral */
    CHECK_EQ_INT(signup(s, "carol", T0, code("carol"), NULL, &why), -EINVAL);
    CHECK_STREQ(why, "referral_code: the customer's own code (self-referral is refused)");
    /* an unknown code, a malformed one */
    CHECK_EQ_INT(signup(s, "dave", T0, "ZZZZZZZZZZ", NULL, &why), -ENOENT);
    CHECK_STREQ(why, "referral_code: unknown referral code (no customer has it)");
    CHECK_EQ_INT(signup(s, "dave", T0, "short", NULL, &why), -EINVAL);
    CHECK(strstr(why, "referral_code:") == why);
    CHECK_EQ_INT(signup(s, "dave", 0, NULL, NULL, &why), -EINVAL);
    CHECK_STREQ(why, "time_unix_ms: must be > 0");
    /* codes resolve once signed up, lower case too */
    {
        char lower[REFERRAL_CODE_LEN + 1];
        strcpy(lower, code("carol"));
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        CHECK_EQ_INT(referral_store_resolve_code(s, lower, who), 0);
        CHECK_STREQ(who, "carol");
    }
    store_close(s);
}

/* A referral ring: four accounts on one phone, each referred by the one
 * before (and all by the first): only the first account is clean, and no
 * referral among them pays. A friend on another phone is paid. */
static void test_ring_and_caps(void)
{
    static const char *const ring[] = { "ring-1", "ring-2", "ring-3", "ring-4" };
    profile_config_t cfg;
    store_t *s = NULL;
    points_store_view_t pv;
    char oid[32];

    config(&cfg, "referrer_points 500 friend_points 200 cap 2 per year");
    CHECK_EQ_INT(store_open(test_tmpdir("referral-ring"), 64u << 20, &s), 0);
    if (!s)
        return;
    items(s);
    CHECK_EQ_INT(signup(s, ring[0], T0, NULL, "phone-x", NULL), 0);
    for (int i = 1; i < 4; i++)
        CHECK_EQ_INT(signup(s, ring[i], T0 + i, code(ring[i - 1]), "phone-x", NULL), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(oid, sizeof oid, "ro-%d", i);
        event(s, oid, ring[i], "i1", STORE_EVENT_PURCHASE, T0 + DAY, 100);
    }
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(referral_points(s, &cfg, ring[i], T0 + 90 * DAY, NULL), 0);
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, ring[2], T0 + 90 * DAY, &pv), 0);
    CHECK_EQ_INT(pv.referral.state, REFERRAL_RING);
    CHECK_EQ_INT(pv.referral.accounts_on_fingerprint, 4);
    CHECK(pv.referral.shared_fingerprint);
    CHECK_EQ_INT(pv.referral.by_state[REFERRAL_RING], 1); /* ring-4 */
    points_store_view_free(&pv);
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, ring[0], T0 + 90 * DAY, &pv), 0);
    CHECK(!pv.referral.shared_fingerprint);
    points_store_view_free(&pv);

    /* ring-1 refers three friends on their own phones: cap 2 a year */
    for (int i = 0; i < 3; i++) {
        char fid[24], dev[24];
        snprintf(fid, sizeof fid, "pal-%d", i);
        snprintf(dev, sizeof dev, "phone-%d", i);
        snprintf(oid, sizeof oid, "po-%d", i);
        CHECK_EQ_INT(signup(s, fid, T0 + DAY, code(ring[0]), dev, NULL), 0);
        event(s, oid, fid, "i2", STORE_EVENT_PURCHASE, T0 + (2 + i) * DAY, 50);
    }
    CHECK_EQ_INT(referral_points(s, &cfg, ring[0], T0 + 90 * DAY, NULL), 1000);
    CHECK_EQ_INT(referral_points(s, &cfg, "pal-0", T0 + 90 * DAY, NULL), 200);
    CHECK_EQ_INT(referral_points(s, &cfg, "pal-1", T0 + 90 * DAY, NULL), 200);
    CHECK_EQ_INT(referral_points(s, &cfg, "pal-2", T0 + 90 * DAY, NULL), 0); /* capped */
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, "pal-2", T0 + 90 * DAY, &pv), 0);
    CHECK_EQ_INT(pv.referral.state, REFERRAL_CAPPED);
    points_store_view_free(&pv);
    store_close(s);
}

typedef struct trace {
    const char *id;
    int found;
} trace_t;

static int find_id(void *ctx, const char *db, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
    trace_t *t = ctx;
    size_t l = strlen(t->id);
    if ((klen >= l && memmem(key, klen, t->id, l)) || (vlen >= l && memmem(val, vlen, t->id, l))) {
        fprintf(stderr, "trace of %s in %s\n", t->id, db);
        t->found++;
    }
    return 0;
}

static void test_erase_and_merge(void)
{
    custdata_owner_t o[OWNERS_DURABLE];
    size_t n = owners_durable(o);
    profile_config_t cfg;
    customers_merge_result_t mr;
    custdata_erased_t erased;
    store_t *s = NULL;
    trace_t t = { "zz-referrer-7", 0 };
    points_store_view_t pv;

    config(&cfg, "referrer_points 500 friend_points 200");
    CHECK_EQ_INT(store_open(test_tmpdir("referral-erase"), 64u << 20, &s), 0);
    if (!s)
        return;
    items(s);
    CHECK_EQ_INT(signup(s, "zz-referrer-7", T0, NULL, "dev-r", NULL), 0);
    CHECK_EQ_INT(signup(s, "zz-friend-a", T0, code("zz-referrer-7"), "dev-a", NULL), 0);
    CHECK_EQ_INT(signup(s, "zz-friend-b", T0, code("zz-referrer-7"), "dev-b", NULL), 0);
    event(s, "qa", "zz-friend-a", "i2", STORE_EVENT_PURCHASE, T0 + DAY, 50);
    event(s, "qb", "zz-friend-b", "i2", STORE_EVENT_PURCHASE, T0 + DAY, 50);
    CHECK_EQ_INT(referral_points(s, &cfg, "zz-referrer-7", T0 + 40 * DAY, NULL), 1000);

    /* the referrer merged into a new account: the friends follow */
    event(s, "qn", "zz-new-acct", "i2", STORE_EVENT_VIEW, T0, 0);
    CHECK_EQ_INT(customers_merge(s, o, n, "zz-referrer-7", "zz-new-acct", "m1", T0, &mr, NULL),
                 0);
    CHECK_EQ_INT(referral_points(s, &cfg, "zz-new-acct", T0 + 40 * DAY, NULL), 1000);
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, "zz-new-acct", T0 + 40 * DAY, &pv), 0);
    CHECK(pv.referral.signed_up); /* the source's signup moved */
    CHECK_EQ_INT(pv.referral.friends, 2);
    points_store_view_free(&pv);

    /* a friend erased: its referral goes from the referrer's ledger */
    CHECK_EQ_INT(customers_erase(s, o, n, "zz-friend-b", &erased, NULL), 0);
    CHECK_EQ_INT(referral_points(s, &cfg, "zz-new-acct", T0 + 40 * DAY, NULL), 500);
    /* the referrer erased: no trace of it, the friend keeps no link */
    CHECK_EQ_INT(customers_erase(s, o, n, "zz-new-acct", &erased, NULL), 0);
    CHECK_EQ_INT(store_debug_scan_all(s, find_id, &t), 0);
    CHECK_EQ_INT(t.found, 0);
    t = (trace_t){ "zz-new-acct", 0 };
    CHECK_EQ_INT(store_debug_scan_all(s, find_id, &t), 0);
    CHECK_EQ_INT(t.found, 0);
    t = (trace_t){ "zz-friend-b", 0 };
    CHECK_EQ_INT(store_debug_scan_all(s, find_id, &t), 0);
    CHECK_EQ_INT(t.found, 0);
    CHECK_EQ_INT(points_store_ledger(s, &cfg, NULL, "zz-friend-a", T0 + 40 * DAY, &pv), 0);
    CHECK_STREQ(pv.referral.referrer, "");
    CHECK(pv.referral.signed_up);
    points_store_view_free(&pv);
    store_close(s);
}

int main(void)
{
    test_codes();
    test_settings();
    test_qualifying_order();
    test_allocate();
    test_reward_after_window();
    test_refusals();
    test_ring_and_caps();
    test_erase_and_merge();
    TEST_MAIN_END();
}
