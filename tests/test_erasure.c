/*
 * test_erasure.c - the right to erasure across every owner of customer
 * data (custdata.h): a customer with events, points, attributes, a factor
 * row, coupons granted and redeemed, offer log rows, velocity counters,
 * experiment exposures, a pin to an experiment arm, consent with its audit
 * trail and a contact is exported (every kind of row), erased in one
 * transaction, and then no database of the store holds a trace of the id,
 * its account hash, its request ids or its dense index keys; the other customer's data,
 * the campaign's spend and the other factor row are untouched, and the
 * erased customer's open reservation went back to the budget.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "consentstore.h"
#include "contactstore.h"
#include "coupon_erase.h"
#include "couponstore.h"
#include "customers_erase.h"
#include "exp_erase.h"
#include "hash.h"
#include "owners.h"
#include "referral_store.h"
#include "store_custdata.h"
#include "testcoupon.h"
#include "testexperiment.h"
#include "testutil.h"

#define T0 1718000000000LL
#define DAY 86400000LL
#define GONE "erase-me-7f3e"   /* distinctive: any occurrence is a leak */
#define KEPT "keep-me-51c0"

static coupon_t coupon(const char *id, const char *campaign)
{
    return test_fixed_coupon(id, campaign, 2.0, 100, T0);
}

/* A grant of the catalog's best coupon to cust_id (request req). */
static void grant(store_t *s, const char *cust_id, const char *req, const coupon_t *cat,
                  size_t n, int64_t now, couponstore_offer_t *o)
{
    CHECK_EQ_INT(test_grant(s, cust_id, req, cat, n, now, o), 0);
}

/* Events, attributes, points and a model for both customers; GONE gets
 * dense index 0, KEPT index 1. */
static void fill_store(store_t *s)
{
    store_item_t items[2] = { { .item_id = "i1", .title = "One", .category = "c",
                                .price = 10, .unit_cost = 4, .in_stock = 1 }, { .item_id = "i2", .title = "Two", .category = "c", .price = 20, .unit_cost = 5, .in_stock = 1 } };
    store_event_t ev[5] = {
        { "ev-g1", GONE, "i1", STORE_EVENT_VIEW, T0 - 3 * DAY, 1, 0, NULL },
        { "ev-g2", GONE, "i2", STORE_EVENT_PURCHASE, T0 - 2 * DAY, 2, 20, NULL },
        /* a category's not_interested: its value holds id and category */
        { "ev-g3-cat", GONE, "", STORE_EVENT_NOT_INTERESTED, T0 - DAY, 1, 0, "c" },
        { "ev-k1", KEPT, "i1", STORE_EVENT_PURCHASE, T0 - 2 * DAY, 1, 10, NULL },
        { "ev-k2", KEPT, "i2", STORE_EVENT_VIEW, T0 - DAY, 1, 0, NULL },
    };
    store_attrs_t a = { T0 - 100 * DAY, 3, 14, "north" };
    store_model_hdr_t h = { .factors = 2, .n_users = 2, .n_items = 2 };
    float uf[4] = { 1, 2, 3, 4 }, itf[4] = { 1, 0, 0, 1 }, pop[2] = { 1, 1 };
    uint8_t out[5];
    const char *why[5];
    int64_t total;
    int dup;

    CHECK_EQ_INT(store_upsert_items(s, items, 2, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 5, out, why), 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(out[i], STORE_ACCEPTED);
    CHECK_EQ_INT(store_set_attrs(s, GONE, &a), 0);
    CHECK_EQ_INT(store_set_attrs(s, KEPT, &a), 0);
    CHECK_EQ_INT(store_points_redeem(s, GONE, "pts-g1", 5, 0, 40, &total, &dup), 0);
    CHECK_EQ_INT(store_points_redeem(s, KEPT, "pts-k1", 5, 0, 40, &total, &dup), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
}

/* Two coupons: GONE is granted A and redeems it, then is granted B (still
 * open: 2.00 reserved); KEPT is granted A and redeems it. */
static void fill_coupons(store_t *s)
{
    coupon_t cat[2] = { coupon("cpn-a", "camp"), coupon("cpn-b", "camp") };
    couponstore_offer_t o;
    couponstore_redemption_t rg = { "red-g1", GONE, "", 1.5, T0 + 10 };
    couponstore_redemption_t rk = { "red-k1", KEPT, "", 1.0, T0 + 10 };
    couponstore_budget_t b;

    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[0], NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[1], NULL, NULL), 0);
    grant(s, GONE, "req-g1", cat, 2, T0, &o);
    rg.coupon_id = strdup(o.coupon_id);
    CHECK_EQ_INT(couponstore_redeem(s, &rg, NULL, NULL), 0);
    grant(s, GONE, "req-g2", cat, 2, T0 + DAY, &o);
    CHECK(o.coupon_id[0] != '\0'); /* the other coupon, still open */
    grant(s, KEPT, "req-k1", cat, 2, T0, &o);
    rk.coupon_id = strdup(o.coupon_id);
    CHECK_EQ_INT(couponstore_redeem(s, &rk, NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &b), 0);
    CHECK(b.committed > 1.9); /* GONE's open grant */
    free((void *)rg.coupon_id);
    free((void *)rk.coupon_id);
}

/* exp-1 pins both customers to an arm (QA forced arms). */
static void fill_exposures(store_t *s)
{
    experiment_forced_t forced[2] = { { GONE, "b" }, { KEPT, "a" } };
    experiment_t def;
    uint32_t shown[2] = { 0, 1 };
    expstore_exposure_t e[3] = {
        { "xr-g1", GONE, "exp-1", 0, 0, T0, shown, 2 },
        { "xr-g2", GONE, "exp-2", 1, 0, T0, shown, 1 },
        { "xr-k1", KEPT, "exp-1", 1, 0, T0, shown, 2 },
    };
    def = test_two_arms("exp-1", "default", "a", "b", T0);
    def.forced = forced;
    def.n_forced = 2;
    CHECK_EQ_INT(expstore_save(s, &def), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(expstore_log(s, &e[i]), 0);
}

/* Both customers set preferences (two audit rows each) and were sent a
 * message; the contact's index row names the customer too. */
static void fill_consent(store_t *s)
{
    const char *who[2] = { GONE, KEPT };
    for (int i = 0; i < 2; i++) {
        consent_update_t u = { .preferred = -1, .language = "de" };
        contactstore_contact_t c = { i ? "msg-k1" : "msg-g1", T0, T0, CONSENT_SMS,
                                     CONTACT_COUPON };
        consent_t out;
        size_t changed = 0;
        u.channel[CONSENT_EMAIL] = CONSENT_WITHDRAWN;
        CHECK_EQ_INT(consentstore_update(s, who[i], &u, T0, T0, "web:prefs", &out, &changed),
                     0);
        CHECK_EQ_INT(changed, 2);
        CHECK_EQ_INT(contactstore_record(s, who[i], &c, NULL, NULL), 0);
    }
}

/* GONE signed up with KEPT's code and referred a friend of its own: its
 * signup, fingerprint rows, code row and both links name it. */
static void fill_referrals(store_t *s)
{
    char code[REFERRAL_CODE_LEN + 1];
    referral_signup_result_t res;
    const char *why;
    referral_signup_t k = { .customer_id = KEPT, .time_ms = T0, .device = "dev-k" };
    referral_signup_t g = { .customer_id = GONE, .time_ms = T0, .device = "dev-g",
                            .address = "addr-g", .payment = "card-g" };
    referral_signup_t f = { .customer_id = "friend-of-g", .time_ms = T0, .device = "dev-f" };
    CHECK_EQ_INT(referral_store_signup(s, &k, T0, &res, &why), 0);
    referral_code_of(KEPT, code);
    g.code = code;
    CHECK_EQ_INT(referral_store_signup(s, &g, T0, &res, &why), 0);
    CHECK_STREQ(res.referrer, KEPT);
    referral_code_of(GONE, code);
    f.code = code;
    CHECK_EQ_INT(referral_store_signup(s, &f, T0, &res, &why), 0);
    CHECK_STREQ(res.referrer, GONE);
}

/* ---- the owners, and a memory owner that records what it was told -------------- */

typedef struct memory {
    char forgot[64];
    custdata_erased_t erased;
} memory_t;

static void memory_forget(void *ctx, const char *customer_id, const custdata_erased_t *e)
{
    memory_t *m = ctx;
    snprintf(m->forgot, sizeof m->forgot, "%s", customer_id);
    m->erased = *e;
}

/* The server's durable owners (owners.h), then a memory owner. */
static size_t owners(custdata_owner_t *o, memory_t *m)
{
    size_t n = owners_durable(o);
    o[n++] = (custdata_owner_t){ .name = "memory", .ctx = m, .forget = memory_forget };
    return n;
}

/* ---- export ----------------------------------------------------------------------- */

typedef struct kinds {
    int n[CUSTDATA_REFERRED + 1];
    char first_item[64], first_event[64];
} kinds_t;

static int count_kind(void *sink, custdata_kind_t kind, const void *row)
{
    kinds_t *k = sink;
    if ((int)kind < 1 || kind > CUSTDATA_REFERRED)
        return -EINVAL;
    k->n[kind]++;
    if (kind == CUSTDATA_EVENT && !k->first_item[0]) {
        const store_export_event_t *e = row;
        snprintf(k->first_item, sizeof k->first_item, "%s", e->item_id);
        snprintf(k->first_event, sizeof k->first_event, "%s", e->event_id);
    }
    if (kind == CUSTDATA_EXPOSURE) {
        const expstore_customer_t *x = row;
        CHECK(x->n_shown >= 1 && strcmp(x->shown_item_ids[0], "i1") == 0);
    }
    return 0;
}

static void check_export(store_t *s, const custdata_owner_t *o, size_t n, const char *id,
                         int events, int exposures, int coupons, int consent)
{
    kinds_t k;
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(customers_export(s, o, n, id, count_kind, &k, NULL), 0);
    CHECK_EQ_INT(k.n[CUSTDATA_EVENT], events);
    CHECK_STREQ(k.first_item, "i1");
    CHECK_STREQ(k.first_event, strcmp(id, GONE) == 0 ? "ev-g1" : "ev-k1");
    CHECK_EQ_INT(k.n[CUSTDATA_ATTRS], 1);
    CHECK_EQ_INT(k.n[CUSTDATA_POINTS], 1);
    CHECK_EQ_INT(k.n[CUSTDATA_COUPON_HISTORY], coupons ? 1 : 0);
    CHECK(coupons ? k.n[CUSTDATA_COUPON_OFFER] >= 1 : k.n[CUSTDATA_COUPON_OFFER] == 0);
    CHECK_EQ_INT(k.n[CUSTDATA_COUPON_REDEMPTION], coupons ? 1 : 0);
    CHECK_EQ_INT(k.n[CUSTDATA_EXPOSURE], exposures);
    CHECK_EQ_INT(k.n[CUSTDATA_EXPERIMENT_PIN], 1);
    CHECK_EQ_INT(k.n[CUSTDATA_CONSENT], consent ? 1 : 0);
    CHECK_EQ_INT(k.n[CUSTDATA_CONSENT_CHANGE], consent ? 2 : 0);
    CHECK_EQ_INT(k.n[CUSTDATA_CONTACT], consent ? 1 : 0);
}

/* ---- the scan for traces ------------------------------------------------------------ */

typedef struct traces {
    unsigned char needle[5][32];
    size_t len[5];
    unsigned char index_be[4];   /* GONE's dense index, as keys hold it */
    int found, quiet;
    int kept_seen;
} traces_t;

static int contains(const void *hay, size_t n, const void *needle, size_t m)
{
    const unsigned char *h = hay;
    for (size_t i = 0; m && i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0)
            return 1;
    return 0;
}

static int look(void *ctx, const char *db, const void *key, size_t klen, const void *val,
                size_t vlen)
{
    traces_t *t = ctx;
    for (int i = 0; i < 5; i++)
        if (contains(key, klen, t->needle[i], t->len[i]) ||
            contains(val, vlen, t->needle[i], t->len[i])) {
            if (!t->quiet)
                fprintf(stderr, "trace %d of the erased customer in database %s\n", i, db);
            t->found++;
        }
    /* Keys that start with the dense index: the event history and the
     * index -> id mapping. */
    if ((strcmp(db, "events") == 0 || strcmp(db, "customer_ids") == 0) && klen >= 4 &&
        memcmp(key, t->index_be, 4) == 0) {
        if (!t->quiet)
            fprintf(stderr, "a key of dense index 0 in database %s\n", db);
        t->found++;
    }
    t->kept_seen += contains(key, klen, KEPT, strlen(KEPT)) ||
                    contains(val, vlen, KEPT, strlen(KEPT));
    return 0;
}

static void scan_for_traces(store_t *s, int expect_found)
{
    traces_t t;
    uint64_t h = fnv1a64_str(GONE);
    memset(&t, 0, sizeof t);
    t.quiet = expect_found;
    memcpy(t.needle[0], GONE, t.len[0] = strlen(GONE));
    memcpy(t.needle[1], &h, t.len[1] = sizeof h);   /* velocity account hash */
    memcpy(t.needle[2], "req-g2", t.len[2] = 6);    /* an offer log key */
    memcpy(t.needle[3], "xr-g1", t.len[3] = 5);     /* an exposure request id */
    memcpy(t.needle[4], "ev-g3-cat", t.len[4] = 9); /* a category event's id key */
    CHECK_EQ_INT(store_debug_scan_all(s, look, &t), 0);
    if (expect_found)
        CHECK(t.found > 0);
    else
        CHECK_EQ_INT(t.found, 0);
    CHECK(t.kept_seen > 0);
}

static void test_erase_everything(void)
{
    store_t *s = NULL;
    custdata_owner_t o[OWNERS_DURABLE + 1];
    memory_t mem;
    size_t n = owners(o, &mem);
    custdata_erased_t erased;
    couponstore_budget_t b;
    couponstore_history_t hist;
    store_model_hdr_t hdr;
    float *uf = NULL, *itf = NULL, *pop = NULL;
    kinds_t k;
    double spent_before;

    memset(&mem, 0, sizeof mem);
    if (store_open(test_tmpdir("erasure"), 256u << 20, &s) != 0)
        exit(1);
    fill_store(s);
    fill_coupons(s);
    fill_exposures(s);
    fill_consent(s);
    fill_referrals(s);
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(customers_export(s, o, n, GONE, count_kind, &k, NULL), 0);
    CHECK_EQ_INT(k.n[CUSTDATA_REFERRAL_SIGNUP], 1);
    CHECK_EQ_INT(k.n[CUSTDATA_REFERRED], 1);
    check_export(s, o, n, GONE, 3, 2, 1, 1);
    check_export(s, o, n, KEPT, 2, 1, 1, 1);
    scan_for_traces(s, 1); /* the scan does see the customer before */
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &b), 0);
    spent_before = b.spent;

    CHECK_EQ_INT(customers_erase(s, o, n, GONE, &erased, NULL), 0);
    CHECK_EQ_INT(erased.events, 3);
    CHECK(erased.had_index && erased.index == 0);
    CHECK(erased.rows >= 2 + 2 + 1 + 1 + 1 + 1 + 2 + 1 + 2 + 1 + 2 + 1);
    CHECK_STREQ(mem.forgot, GONE);
    CHECK(mem.erased.had_index && mem.erased.index == 0);

    scan_for_traces(s, 0);
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(customers_export(s, o, n, GONE, count_kind, &k, NULL), -ENOENT);
    CHECK_EQ_INT(customers_erase(s, o, n, GONE, &erased, NULL), -ENOENT);

    /* The open grant's reservation went back; spend stays (it happened). */
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &b), 0);
    CHECK(b.committed < 1e-9);
    CHECK(b.spent == spent_before);
    CHECK_EQ_INT(couponstore_get_history(s, GONE, &hist), 0);
    CHECK_EQ_INT(hist.n_held, 0);

    /* The factor row is zeroed, the other one intact. */
    CHECK_EQ_INT(store_load_model(s, 0, &hdr, &uf, &itf, &pop), 0);
    CHECK(uf && uf[0] == 0 && uf[1] == 0 && uf[2] == 3 && uf[3] == 4);
    free(uf);
    free(itf);
    free(pop);

    check_export(s, o, n, KEPT, 2, 1, 1, 1);
    {
        /* exp-1 keeps KEPT's pin, loses GONE's. */
        expstore_defs_t defs;
        CHECK_EQ_INT(expstore_load(s, &defs), 0);
        CHECK(defs.n == 1 && defs.defs[0].n_forced == 1 &&
              strcmp(defs.defs[0].forced[0].customer_id, KEPT) == 0);
        expstore_defs_free(&defs);
    }
    store_close(s);
}

/* A failing owner aborts the whole erasure: nothing of the customer goes. */
static int failing_erase(void *ctx, store_tx_t *tx, const char *id, custdata_erased_t *out)
{
    (void)ctx;
    (void)tx;
    (void)id;
    (void)out;
    return -EIO;
}

static void test_all_or_nothing(void)
{
    store_t *s = NULL;
    custdata_owner_t o[OWNERS_DURABLE + 2];
    memory_t mem;
    size_t n = owners(o, &mem);
    const char *failed = NULL;
    custdata_erased_t erased;
    uint32_t idx;

    memset(&mem, 0, sizeof mem);
    if (store_open(test_tmpdir("erasure-fail"), 256u << 20, &s) != 0)
        exit(1);
    fill_store(s);
    fill_exposures(s);
    o[n++] = (custdata_owner_t){ .name = "broken", .erase = failing_erase };
    CHECK_EQ_INT(customers_erase(s, o, n, GONE, &erased, &failed), -EIO);
    CHECK_STREQ(failed, "broken");
    CHECK_EQ_INT(mem.forgot[0], 0); /* memory untouched when nothing committed */
    CHECK_EQ_INT(store_customer_index(s, GONE, &idx), 0);
    check_export(s, o, OWNERS_DURABLE, GONE, 3, 2, 0, 0);

    /* Bad ids. */
    CHECK_EQ_INT(customers_erase(s, o, OWNERS_DURABLE, "", &erased, NULL), -EINVAL);
    {
        char long_id[STORE_MAX_ID + 2];
        memset(long_id, 'x', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = '\0';
        CHECK_EQ_INT(customers_erase(s, o, OWNERS_DURABLE, long_id, &erased, NULL), -EINVAL);
        CHECK_EQ_INT(customers_export(s, o, OWNERS_DURABLE, long_id, count_kind, NULL, NULL), -EINVAL);
    }
    store_close(s);
}

/* Rows of the experiment request-id table for request id req. */
static int count_row(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    ++*(int *)ctx;
    return 0;
}

static int request_rows(store_t *s, const char *req)
{
    int rows = 0;
    CHECK_EQ_INT(store_table_scan(s, "exp_req", req, strlen(req), count_row, &rows), 0);
    return rows;
}

/* Retention over the registry: every owner's retain with one horizon;
 * rows older than it are gone from every owner that has a retain, newer
 * ones and the kept kinds stay. */
static void test_retain(void)
{
    store_t *s = NULL;
    custdata_owner_t o[OWNERS_DURABLE + 1];
    memory_t mem;
    size_t n = owners(o, &mem);
    uint64_t removed = 0, per[OWNERS_DURABLE + 1];
    uint32_t shown[1] = { 0 };
    expstore_exposure_t newer = { "xr-new", KEPT, "exp-1", 1, 0, T0 + 2 * DAY, shown, 1 };
    couponstore_offer_t off;
    couponstore_history_t hist;
    store_event_list_t events = { 0 };

    if (store_open(test_tmpdir("erasure-retain"), 256u << 20, &s) != 0)
        exit(1);
    fill_store(s);
    fill_coupons(s);
    fill_exposures(s);
    CHECK_EQ_INT(expstore_log(s, &newer), 0);
    CHECK_EQ_INT(customers_retain(s, o, n, T0 + 1, &removed, per, NULL), 0);
    /* offers req-g1 and req-k1 (at T0), and the three exposure request ids
     * at T0; per owner, in registry order */
    CHECK_EQ_INT(removed, 2 + 3);
    CHECK_STREQ(o[1].name, "coupons");
    CHECK_STREQ(o[2].name, "experiments");
    CHECK_EQ_INT(per[0], 0); /* the store keeps its events: no retain */
    CHECK(o[0].retain == NULL && o[1].retain_what && o[2].retain_what);
    CHECK_EQ_INT(per[1], 2);
    CHECK_EQ_INT(per[2], 3);
    CHECK_EQ_INT(per[3], 0);
    /* older: gone */
    CHECK_EQ_INT(couponstore_get_offer(s, "req-g1", &off), -ENOENT);
    CHECK_EQ_INT(couponstore_get_offer(s, "req-k1", &off), -ENOENT);
    CHECK_EQ_INT(request_rows(s, "xr-g1"), 0);
    CHECK_EQ_INT(request_rows(s, "xr-g2"), 0);
    CHECK_EQ_INT(request_rows(s, "xr-k1"), 0);
    /* newer: kept */
    CHECK_EQ_INT(couponstore_get_offer(s, "req-g2", &off), 0);
    CHECK_EQ_INT(request_rows(s, "xr-new"), 1);
    /* what retention keeps by design: grants, events */
    CHECK_EQ_INT(couponstore_get_history(s, GONE, &hist), 0);
    CHECK_EQ_INT(hist.n_grants, 2);
    CHECK_EQ_INT(store_customer_events(s, 0, store_event_list_push, &events), 0);
    CHECK_EQ_INT(events.n, 3); /* GONE's view, purchase and not_interested, before T0 */
    store_event_list_free(&events);
    /* Again: nothing more to remove. */
    CHECK_EQ_INT(customers_retain(s, o, n, T0 + 1, &removed, per, NULL), 0);
    CHECK_EQ_INT(removed, 0);
    store_close(s);
}

int main(void)
{
    test_erase_everything();
    test_all_or_nothing();
    test_retain();
    TEST_MAIN_END();
}
