/*
 * test_couponstore.c - coupon state in LMDB: the catalog round trip, the
 * hard budget under concurrent grants and across a restart, idempotent
 * requests and redemptions, expiry releasing reservations, the
 * training join of offers with purchases, and the boosted learner stored
 * beside the logistic one deciding until it is removed, and entitlements
 * granted once per period inside their campaign's budget, durably.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "couponstore.h"
#include "store_record.h"
#include "testcoupon.h"
#include "testutil.h"

#define T0 1718000000000LL          /* June 2024 */
#define DAY 86400000LL
#define N_THREADS 4
#define PER_THREAD 60

/* A fixed 2.00 off: under the default priors its value is positive for a
 * customer with an average basket, so every eligible request grants it. */
static coupon_t fixed_coupon(const char *id, const char *campaign, double budget)
{
    return test_fixed_coupon(id, campaign, 2.0, budget, T0);
}

static coupon_config_t test_cfg(void)
{
    coupon_config_t cfg;
    coupon_config_default(&cfg);
    cfg.holdout_rate = 0.0;  /* determinism: everyone may be granted */
    cfg.explore_rate = 0.0;
    return cfg;
}

static coupon_customer_t customer(const char *id)
{
    coupon_customer_t c;
    memset(&c, 0, sizeof c);
    c.customer_id = id;
    c.x.orders = 3;
    c.x.monetary = 120;
    c.x.average_basket = 40;
    c.x.recency_days = 10;
    c.x.stage = PROFILE_STAGE_ACTIVE;
    c.x.propensity = -1;
    c.tier = -1;
    c.segment = -1;
    return c;
}

/* One TargetCoupons-like call; returns the store's rc. */
static int target(store_t *s, const char *cust_id, const char *req_id,
                  const coupon_t *cat, size_t n, int64_t now, couponstore_offer_t *o,
                  int *replayed)
{
    coupon_config_t cfg = test_cfg();
    coupon_customer_t cust = customer(cust_id);
    couponstore_target_t t = { .request_id = req_id, .cust = &cust, .catalog = cat,
                               .n = n, .cfg = &cfg, .now_ms = now };
    return couponstore_target(s, &t, o, replayed);
}

static void test_catalog_round_trip(void)
{
    store_t *s;
    coupon_t c = fixed_coupon("fix2", "spring", 100), got, *all = NULL;
    coupon_t bad = c;
    couponstore_budget_t b;
    const char *why = NULL;
    size_t n = 0;
    int created = 0;

    if (store_open(test_tmpdir("cs-cat"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, &created, &why), 0);
    CHECK_EQ_INT(created, 1);
    CHECK_EQ_INT(couponstore_get_coupon(s, "fix2", &got), 0);
    CHECK(memcmp(&got, &c, sizeof c) == 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "spring", &b), 0);
    CHECK(b.budget == 100 && b.spent == 0 && b.committed == 0);
    CHECK(b.pacer.start_ms == c.valid_from_ms && b.pacer.end_ms == c.valid_until_ms);

    /* A second upsert replaces, and sets the campaign's budget. */
    c.campaign_budget = 250;
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, &created, &why), 0);
    CHECK_EQ_INT(created, 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "spring", &b), 0);
    CHECK(b.budget == 250);

    /* Invalid definitions are rejected with the field, and not stored. */
    snprintf(bad.id, sizeof bad.id, "bad");
    bad.type = COUPON_PERCENT;
    bad.benefit[0].kind = COUPON_BENEFIT_PERCENT;
    bad.benefit[0].percent = 0.2;
    bad.benefit[0].cap = 0;
    CHECK_EQ_INT(couponstore_put_coupon(s, &bad, NULL, &why), -EINVAL);
    CHECK(why && strstr(why, "cap"));
    CHECK_EQ_INT(couponstore_get_coupon(s, "bad", &got), -ENOENT);
    bad = fixed_coupon("b2", "spring", 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &bad, NULL, &why), -EINVAL);
    CHECK(why && strstr(why, "budget"));

    CHECK_EQ_INT(couponstore_load_catalog(s, &all, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK(n == 1 && strcmp(all[0].id, "fix2") == 0);
    free(all);
    store_close(s);
}

/* ---- the hard budget under concurrency ----------------------------------------------- */

typedef struct hammer {
    store_t *s;
    const coupon_t *cat;
    int thread;
    int errors;
} hammer_t;

static void *hammer_run(void *arg)
{
    hammer_t *h = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char cust[32], req[32];
        couponstore_offer_t o;
        snprintf(cust, sizeof cust, "c-%d-%d", h->thread, i);
        snprintf(req, sizeof req, "r-%d-%d", h->thread, i);
        if (target(h->s, cust, req, h->cat, 1, T0 + i, &o, NULL) != 0)
            h->errors++;
    }
    return NULL;
}

typedef struct tally {
    size_t offers, grants;
    double granted_cost;
} tally_t;

static int tally_offer(void *ctx, const couponstore_offer_t *o)
{
    tally_t *t = ctx;
    t->offers++;
    if (o->coupon_id[0]) {
        t->grants++;
        t->granted_cost += o->max_cost;
    }
    return 0;
}

static void test_budget_never_exceeded(void)
{
    /* 101 fits 50 grants of 2.00 and not 51: the check must be exact. */
    const char *dir = test_tmpdir("cs-budget");
    coupon_t c = fixed_coupon("fix2", "tight", 101);
    hammer_t h[N_THREADS];
    pthread_t th[N_THREADS];
    couponstore_budget_t b;
    couponstore_offer_t o;
    tally_t t = { 0 };
    store_t *s;

    /* The campaign is nearly over, so pacing lets the budget be spent and
     * only the hard cap stops the grants. */
    c.valid_from_ms = T0 - 30 * DAY;
    c.valid_until_ms = T0 + DAY;
    if (store_open(dir, 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, NULL), 0);
    for (int i = 0; i < N_THREADS; i++) {
        h[i] = (hammer_t){ s, &c, i, 0 };
        CHECK_EQ_INT(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(h[i].errors, 0);
    }
    CHECK_EQ_INT(couponstore_scan_offers(s, tally_offer, &t), 0);
    CHECK_EQ_INT(t.offers, N_THREADS * PER_THREAD);
    CHECK_EQ_INT(t.grants, 50);
    CHECK(t.granted_cost <= 101.0);
    CHECK_EQ_INT(couponstore_get_budget(s, "tight", &b), 0);
    CHECK(b.committed == t.granted_cost && b.spent == 0 && b.grants == 50);

    /* Restart: the accounting survives and still refuses the 51st. */
    store_close(s);
    if (store_open(dir, 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_get_budget(s, "tight", &b), 0);
    CHECK(b.committed == 100.0 && b.grants == 50);
    CHECK_EQ_INT(target(s, "late", "r-late", &c, 1, T0 + 1000, &o, NULL), 0);
    CHECK_STREQ(o.coupon_id, "");
    CHECK_EQ_INT(o.outcome, COUPON_NONE_INELIGIBLE);
    CHECK(strstr(o.reason, "budget") != NULL);
    store_close(s);
}

/* ---- idempotency, history, redemption, expiry ----------------------------------------- */

static void test_request_replay_and_history(void)
{
    store_t *s;
    coupon_t c = fixed_coupon("fix2", "camp", 100);
    couponstore_offer_t o1, o2;
    couponstore_history_t hist;
    couponstore_budget_t b;
    int replayed = -1;

    if (store_open(test_tmpdir("cs-replay"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, NULL), 0);
    CHECK_EQ_INT(target(s, "alice", "req-1", &c, 1, T0, &o1, &replayed), 0);
    CHECK_EQ_INT(replayed, 0);
    CHECK_STREQ(o1.coupon_id, "fix2");
    CHECK(o1.max_cost == 2.0 && o1.assign_prob == 1.0);
    /* The same request id again: the logged answer, nothing reserved twice. */
    CHECK_EQ_INT(target(s, "alice", "req-1", &c, 1, T0 + 5, &o2, &replayed), 0);
    CHECK_EQ_INT(replayed, 1);
    CHECK(memcmp(&o1, &o2, sizeof o1) == 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &b), 0);
    CHECK(b.committed == 2.0 && b.grants == 1);
    /* A new request for alice: she holds an active copy, so none. */
    CHECK_EQ_INT(target(s, "alice", "req-2", &c, 1, T0 + 10, &o2, &replayed), 0);
    CHECK_STREQ(o2.coupon_id, "");
    CHECK_EQ_INT(couponstore_get_history(s, "alice", &hist), 0);
    CHECK_EQ_INT(hist.n_held, 1);
    CHECK_EQ_INT(hist.held[0].active, 1);
    CHECK_EQ_INT(hist.n_grants, 1);
    CHECK_EQ_INT(couponstore_get_history(s, "nobody", &hist), 0);
    CHECK_EQ_INT(hist.n_held, 0);
    {
        /* The log row is a patron.store.v1.Offer record, a fraction of the
         * struct's size... */
        void *v = NULL;
        size_t len = 0;
        couponstore_offer_t back;
        CHECK_EQ_INT(store_table_get(s, "coffer", "req-1", 5, &v, &len), 0);
        CHECK(len > 0 && len < sizeof o1 / 2);
        free(v);
        CHECK_EQ_INT(couponstore_get_offer(s, "req-1", &back), 0);
        CHECK(memcmp(&back, &o1, sizeof o1) == 0);
        /* ...and a damaged one is -EBADMSG naming the table and key, not
         * garbage and not a bare I/O error. (A struct image, as the previous
         * release wrote, is converted by the migration at store_open.) */
        CHECK_EQ_INT(store_table_put(s, "coffer", "req-bad", 7, "garbage", 7), 0);
        CHECK_EQ_INT(couponstore_get_offer(s, "req-bad", &back), -EBADMSG);
        CHECK(strstr(store_strerror(-EBADMSG), "table coffer, key \"req-bad\"") != NULL);
        CHECK(strstr(store_strerror(-EBADMSG), "patron.store.v1.Offer") != NULL);
    }
    store_close(s);
}

static void test_redemption(void)
{
    store_t *s;
    coupon_t c = fixed_coupon("fix2", "camp", 100);
    couponstore_offer_t o;
    couponstore_budget_t b;
    couponstore_redemption_t r = { "red-1", "bob", "fix2", 1.5, T0 + 100 };
    int dup = -1;

    if (store_open(test_tmpdir("cs-redeem"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, NULL), 0);
    /* Nothing granted yet: not found. */
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -ENOENT);
    CHECK_EQ_INT(target(s, "bob", "req-b", &c, 1, T0, &o, NULL), 0);
    CHECK_STREQ(o.coupon_id, "fix2");
    /* More than reserved: refused, nothing changes. */
    r.discount = 2.5;
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -ERANGE);
    r.discount = 1.5;
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), 0);
    CHECK_EQ_INT(dup, 0);
    /* 1.5 spent; the rest of the 2.00 reservation is released. */
    CHECK(b.spent == 1.5 && b.committed == 0.0 && b.redemptions == 1);
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), 0);
    CHECK_EQ_INT(dup, 1);
    CHECK(b.spent == 1.5 && b.committed == 0.0 && b.redemptions == 1);
    /* Issue 20, item 10: the id is bob's; carol reusing it for her own
     * grant is refused (it answered "duplicate" and recorded nothing), a
     * fresh id works. The same id for another coupon is refused too. */
    CHECK_EQ_INT(target(s, "carol", "req-c", &c, 1, T0, &o, NULL), 0);
    r.customer_id = "carol";
    dup = -1;
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -EEXIST);
    CHECK_EQ_INT(dup, -1);
    r.redemption_id = "red-1c";
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), 0);
    CHECK_EQ_INT(dup, 0);
    CHECK(b.spent == 3.0 && b.redemptions == 2);
    r.redemption_id = "red-1";
    r.customer_id = "bob";
    r.coupon_id = "other";
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -EEXIST);
    r.coupon_id = "fix2";
    /* A different id for the used grant: not found. */
    r.redemption_id = "red-2";
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -ENOENT);
    r.customer_id = "carol";
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -ENOENT);
    r.discount = -1;
    CHECK_EQ_INT(couponstore_redeem(s, &r, &b, &dup), -EINVAL);
    store_close(s);
}

static void test_expiry_releases(void)
{
    store_t *s;
    coupon_t c = fixed_coupon("short", "camp", 100);
    couponstore_offer_t o;
    couponstore_budget_t b;

    c.valid_until_ms = T0 + DAY;
    if (store_open(test_tmpdir("cs-expiry"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, NULL), 0);
    CHECK_EQ_INT(target(s, "dan", "req-d1", &c, 1, T0, &o, NULL), 0);
    CHECK_STREQ(o.coupon_id, "short");
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &b), 0);
    CHECK(b.committed == 2.0);
    /* After the coupon's end dan's next request gives the reservation back. */
    CHECK_EQ_INT(target(s, "dan", "req-d2", &c, 1, T0 + 2 * DAY, &o, NULL), 0);
    CHECK_STREQ(o.coupon_id, "");
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &b), 0);
    CHECK(b.committed == 0.0 && b.spent == 0.0);
    store_close(s);
}

/* ---- the training join ------------------------------------------------------------------ */

static void test_uplift_logs_join(void)
{
    store_t *s;
    coupon_t c = fixed_coupon("fix2", "camp", 100);
    store_item_t item = { .item_id = "i1", .title = "Item", .category = "books",
                          .price = 10.0, .unit_cost = 6.0, .in_stock = 1 };
    store_event_t ev = { "e1", "erin", "i1", STORE_EVENT_PURCHASE, T0 + 1000, 2, 10.0, NULL };
    couponstore_redemption_t r = { "red-e", "erin", "fix2", 2.0, T0 + 1000 };
    couponstore_offer_t o;
    uplift_log_t *logs = NULL;
    couponstore_uplift_key_t *keys = NULL;
    uint8_t outcome;
    const char *why;
    size_t n = 0;

    if (store_open(test_tmpdir("cs-join"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, NULL), 0);
    CHECK_EQ_INT(target(s, "erin", "req-e", &c, 1, T0, &o, NULL), 0);
    CHECK_EQ_INT(target(s, "frank", "req-f", &c, 1, T0, &o, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, &ev, 1, &outcome, &why), 0);
    CHECK_EQ_INT(couponstore_redeem(s, &r, NULL, NULL), 0);
    /* Before the window closes nothing is ready. */
    CHECK_EQ_INT(couponstore_uplift_logs(s, 7 * DAY, T0 + DAY, &logs, NULL, &n), 0);
    CHECK_EQ_INT(n, 0);
    free(logs);
    CHECK_EQ_INT(couponstore_uplift_logs(s, 7 * DAY, T0 + 8 * DAY, &logs, &keys, &n), 0);
    CHECK_EQ_INT(n, 2);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(logs[i].treated, 1);
        CHECK(logs[i].assign_prob == 1.0);
    }
    /* Rows come in request id order: req-e (erin) first. The keys say whose
     * row and which coupon, so eval-uplift can split by customer and
     * train-uplift --per-coupon can group by coupon. */
    if (n == 2 && keys) {
        CHECK_EQ_INT(logs[0].bought, 1);
        CHECK(logs[0].margin == 8.0 && logs[0].cost == 2.0);
        CHECK_EQ_INT(logs[1].bought, 0);
        CHECK(logs[1].margin == 0.0 && logs[1].cost == 0.0);
        CHECK(keys[0].customer == uplift_customer_key("erin"));
        CHECK(keys[1].customer == uplift_customer_key("frank"));
        CHECK_STREQ(keys[0].coupon_id, "fix2");
        CHECK_STREQ(keys[1].coupon_id, "fix2");
        /* and the decision behind the row, for the off-policy estimates */
        CHECK_STREQ(keys[0].customer_id, "erin");
        CHECK_STREQ(keys[0].request_id, "req-e");
        CHECK_EQ_INT(keys[0].outcome, COUPON_GRANT);
        CHECK(keys[0].value > 0.0);
    }
    free(logs);
    free(keys);
    store_close(s);
}

static int count_offer(void *ctx, const couponstore_offer_t *o)
{
    (void)o;
    ++*(int *)ctx;
    return 0;
}

/* Retention deletes old offer rows only: grants held, budgets and newer rows
 * stay. */
static void test_prune_offers(void)
{
    store_t *s;
    coupon_t c = fixed_coupon("fix2", "camp", 100);
    couponstore_offer_t o;
    couponstore_budget_t before, after;
    couponstore_history_t h;
    uint64_t removed = 99;
    int replayed, rows = 0;

    if (store_open(test_tmpdir("cs-prune"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &c, NULL, NULL), 0);
    CHECK_EQ_INT(target(s, "ann", "r-old-1", &c, 1, T0, &o, &replayed), 0);
    CHECK_EQ_INT(target(s, "bob", "r-old-2", &c, 1, T0 + DAY, &o, &replayed), 0);
    CHECK_EQ_INT(target(s, "cat", "r-new", &c, 1, T0 + 10 * DAY, &o, &replayed), 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &before), 0);
    CHECK_EQ_INT(couponstore_prune_offers(s, T0 + 5 * DAY, &removed), 0);
    CHECK_EQ_INT(removed, 2);
    CHECK_EQ_INT(couponstore_get_offer(s, "r-old-1", &o), -ENOENT);
    CHECK_EQ_INT(couponstore_get_offer(s, "r-new", &o), 0);
    CHECK_EQ_INT(couponstore_scan_offers(s, count_offer, &rows), 0);
    CHECK_EQ_INT(rows, 1);
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &after), 0);
    CHECK(after.committed == before.committed && after.grants == before.grants);
    CHECK_EQ_INT(couponstore_get_history(s, "ann", &h), 0);
    CHECK_EQ_INT(h.n_grants, 1); /* ann still holds what she was given */
    CHECK_EQ_INT(couponstore_prune_offers(s, T0 + 5 * DAY, &removed), 0);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(couponstore_prune_offers(NULL, 0, &removed), -EINVAL);
    store_close(s);
}

/* 400 randomized rows where the coupon works (treated_buys) or backfires. */
static void learner_logs(uplift_log_t *logs, size_t n, int treated_buys)
{
    memset(logs, 0, n * sizeof *logs);
    for (size_t i = 0; i < n; i++) {
        coupon_customer_t c = customer("x");
        logs[i].x = c.x;
        logs[i].x.recency_days = 5 + (double)(i % 20);
        logs[i].treated = i % 2;
        logs[i].assign_prob = 0.5;
        logs[i].bought = logs[i].treated ? (treated_buys || i % 10 == 1)
                                         : (!treated_buys && i % 4 == 0);
        logs[i].margin = logs[i].bought ? 12.0 : 0.0;
    }
}

static int granted(store_t *s, const char *req, const coupon_t *cat, size_t n)
{
    couponstore_offer_t o;
    int rc = target(s, req, req, cat, n, T0 + 1000, &o, NULL);
    CHECK_EQ_INT(rc, 0);
    return rc == 0 && o.coupon_id[0] != '\0';
}

static void test_boosted_learner_decides(void)
{
    store_t *s;
    static uplift_log_t bad[400], good[400];
    static uplift_gbt_tl_t boosted, back;
    uplift_model_t negative;
    coupon_t cat[1] = { fixed_coupon("fix-b", "boost", 1000) };

    if (store_open(test_tmpdir("cs-boost"), 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    learner_logs(bad, 400, 0);
    learner_logs(good, 400, 1);
    CHECK_EQ_INT(uplift_fit(bad, 400, NULL, &negative), 0);
    CHECK_EQ_INT(uplift_gbt_tl_fit(good, 400, NULL, &boosted), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[0], NULL, NULL), 0);

    /* The logistic model alone: the coupon backfires, nobody gets it. */
    CHECK_EQ_INT(couponstore_put_learner(s, COUPONSTORE_DEFAULT_MODEL, &negative, NULL), 0);
    CHECK(!granted(s, "bl-1", cat, 1));
    CHECK_EQ_INT(couponstore_get_boosted(s, COUPONSTORE_DEFAULT_MODEL, &back), -ENOENT);

    /* The boosted learner beside it decides, and reads back as stored. */
    CHECK_EQ_INT(couponstore_put_learner(s, COUPONSTORE_DEFAULT_MODEL, &negative, &boosted), 0);
    CHECK(granted(s, "bl-2", cat, 1));
    CHECK_EQ_INT(couponstore_get_boosted(s, COUPONSTORE_DEFAULT_MODEL, &back), 0);
    for (size_t i = 0; i < 400; i += 37) {
        uplift_pred_t a, b;
        uplift_gbt_tl_predict(&boosted, &good[i].x, &a);
        uplift_gbt_tl_predict(&back, &good[i].x, &b);
        CHECK(a.p_treated == b.p_treated && a.p_control == b.p_control);
    }

    /* A coupon with a model of its own keeps it: the default learner is
     * only the fallback. */
    CHECK_EQ_INT(couponstore_put_model(s, "fix-b", &negative), 0);
    CHECK(!granted(s, "bl-3", cat, 1));
    couponstore_models_t ms;
    CHECK_EQ_INT(couponstore_models_load(s, cat, 1, &ms), 0);
    CHECK(ms.m[0].boosted == NULL && ms.m[0].logistic != NULL);
    couponstore_models_free(&ms);
    coupon_t other[1] = { fixed_coupon("fix-c", "boost", 1000) };
    CHECK_EQ_INT(couponstore_put_coupon(s, &other[0], NULL, NULL), 0);
    CHECK(granted(s, "bl-4", other, 1));

    /* Storing the logistic model alone removes the boosted one. */
    CHECK_EQ_INT(couponstore_put_learner(s, COUPONSTORE_DEFAULT_MODEL, &negative, NULL), 0);
    CHECK_EQ_INT(couponstore_get_boosted(s, COUPONSTORE_DEFAULT_MODEL, &back), -ENOENT);
    CHECK(!granted(s, "bl-5", other, 1));

    /* A learner that could not have been fitted is refused, nothing stored. */
    back = boosted;
    back.treated.tree[0].leaf[2] = NAN;
    CHECK_EQ_INT(couponstore_put_learner(s, COUPONSTORE_DEFAULT_MODEL, &negative, &back),
                 -EINVAL);
    CHECK_EQ_INT(couponstore_put_learner(s, "", &negative, &boosted), -EINVAL);
    CHECK_EQ_INT(couponstore_get_boosted(s, COUPONSTORE_DEFAULT_MODEL, &back), -ENOENT);
    store_close(s);
}

/* ---- entitlements ------------------------------------------------------------------ */

/* A 5.00 birthday gift, guaranteed once a calendar year, valid 400 days. */
static coupon_t birthday_gift(double budget)
{
    coupon_t c = test_fixed_coupon("bday", "birthdays", 5.0, budget, T0);
    c.type = COUPON_BIRTHDAY;
    c.valid_until_ms = T0 + 400 * DAY;
    c.per_customer_limit = 5;
    c.mode = COUPON_GUARANTEED;
    c.period = COUPON_PERIOD_YEAR;
    return c;
}

/* A TargetCoupons-like call asking for entitlements, for a customer born
 * in June; *n_es entitlements into es. */
static int target_entitled(store_t *s, const char *cust_id, const char *req_id,
                           const coupon_t *cat, size_t n, int64_t now, couponstore_offer_t *o,
                           int *replayed, coupon_entitlement_t *es, size_t *n_es)
{
    coupon_config_t cfg = test_cfg();
    coupon_customer_t cust = customer(cust_id);
    couponstore_target_t t = { .request_id = req_id, .cust = &cust, .catalog = cat,
                               .n = n, .cfg = &cfg, .now_ms = now, .entitlements = es,
                               .n_entitlements = n_es };
    cust.birth_month = 6;
    return couponstore_target(s, &t, o, replayed);
}

static void test_entitlements_granted_once_per_period(void)
{
    const char *dir = test_tmpdir("cs-entitle");
    const int64_t next_year = T0 + 365 * DAY;   /* June 2025 */
    store_t *s;
    coupon_t cat[2] = { fixed_coupon("fix2", "spring", 100), birthday_gift(12) };
    couponstore_offer_t o, o2;
    couponstore_history_t hist;
    couponstore_budget_t b;
    coupon_entitlement_t es[2];
    uplift_log_t *logs = NULL;
    size_t n = 0;
    int replayed = -1;

    if (store_open(dir, 256u << 20, &s) != 0) {
        fprintf(stderr, "cannot open a store\n");
        exit(1);
    }
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[0], NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[1], NULL, NULL), 0);
    /* The targeted decision and the entitlement, side by side. */
    CHECK_EQ_INT(target_entitled(s, "ann", "a1", cat, 2, T0, &o, &replayed, es, &n), 0);
    CHECK_EQ_INT(replayed, 0);
    CHECK_STREQ(o.coupon_id, "fix2");
    CHECK_EQ_INT(o.outcome, COUPON_GRANT);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(es[0].index, 1);
    CHECK_EQ_INT(es[0].status, COUPON_ENTITLED_GRANT);
    CHECK(es[0].max_cost == 5.0 && es[0].valid_until_ms == 1735689600000LL);
    CHECK_EQ_INT(o.n_entitled, 1);
    CHECK_STREQ(o.entitled[0], "bday");
    CHECK_EQ_INT(couponstore_get_budget(s, "birthdays", &b), 0);
    CHECK(b.committed == 5.0 && b.grants == 1);
    CHECK_EQ_INT(couponstore_get_history(s, "ann", &hist), 0);
    CHECK_EQ_INT(hist.n_grants, 1);            /* the weekly cap counts fix2 only */
    /* The same request again: the same answer, nothing granted twice. */
    CHECK_EQ_INT(target_entitled(s, "ann", "a1", cat, 2, T0 + 5, &o2, &replayed, es, &n), 0);
    CHECK_EQ_INT(replayed, 1);
    CHECK(memcmp(&o, &o2, sizeof o) == 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(es[0].status, COUPON_ENTITLED_GRANT);
    /* A new request in the same year: held already, nothing reserved. */
    CHECK_EQ_INT(target_entitled(s, "ann", "a2", cat, 2, T0 + DAY, &o, &replayed, es, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(es[0].status, COUPON_ENTITLED_HELD);
    CHECK(es[0].granted_ms == T0);
    CHECK_EQ_INT(o.n_entitled, 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "birthdays", &b), 0);
    CHECK(b.committed == 5.0 && b.grants == 1);
    /* Still inside the budget: a second customer fits (10 of 12), a third
     * does not. */
    CHECK_EQ_INT(target_entitled(s, "bob", "b1", cat, 2, T0, &o, NULL, es, &n), 0);
    CHECK(n == 1 && es[0].status == COUPON_ENTITLED_GRANT);
    CHECK_EQ_INT(target_entitled(s, "cat", "c1", cat, 2, T0, &o, NULL, es, &n), 0);
    CHECK(n == 1 && es[0].status == COUPON_ENTITLED_BUDGET);
    CHECK(strstr(es[0].reason, "budget") != NULL);
    CHECK_EQ_INT(o.n_entitled, 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "birthdays", &b), 0);
    CHECK(b.committed == 10.0 && b.grants == 2);
    /* Entitlements are not uplift decisions: only the targeted rows train. */
    CHECK_EQ_INT(couponstore_uplift_logs(s, DAY, T0 + 10 * DAY, &logs, NULL, &n), 0);
    CHECK_EQ_INT(n, 4);   /* a1, a2, b1, c1: their targeted decisions */
    free(logs);

    /* Durable across a restart; the next year grants again (last year's
     * grant expired with its year and gave its reservation back). */
    store_close(s);
    CHECK_EQ_INT(store_open(dir, 256u << 20, &s), 0);
    CHECK_EQ_INT(target_entitled(s, "ann", "a3", cat, 2, next_year, &o, NULL, es, &n), 0);
    CHECK(n == 1 && es[0].status == COUPON_ENTITLED_GRANT);
    CHECK_EQ_INT(couponstore_get_history(s, "ann", &hist), 0);
    for (uint32_t i = 0; i < hist.n_held; i++)
        if (strcmp(hist.held[i].coupon_id, "bday") == 0)
            CHECK(hist.held[i].granted == 2 && hist.held[i].last_grant_ms == next_year);
    CHECK_EQ_INT(couponstore_get_budget(s, "birthdays", &b), 0);
    CHECK(b.committed == 10.0 && b.grants == 3);
    /* Without entitlements asked for, a guaranteed coupon is never granted
     * (nor decided on by uplift). */
    CHECK_EQ_INT(target(s, "dan", "d1", &cat[1], 1, T0, &o, NULL), 0);
    CHECK_EQ_INT(o.outcome, COUPON_NONE_INELIGIBLE);
    store_close(s);
}

int main(void)
{
    test_catalog_round_trip();
    test_budget_never_exceeded();
    test_request_replay_and_history();
    test_redemption();
    test_expiry_releases();
    test_uplift_logs_join();
    test_prune_offers();
    test_boosted_learner_decides();
    test_entitlements_granted_once_per_period();
    TEST_MAIN_END();
}
