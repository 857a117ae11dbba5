/*
 * test_triggers.c - the durable trigger log (recsys/app/triggers.h): a
 * firing is logged once whatever evaluates it again, in sequence order with
 * its items, coupon decision, channel and recorded contact; the contact
 * policy suppresses (consent withdrawn everywhere; a cap with no waiting
 * allowed: marked, never logged) or defers (quiet hours, a day cap: nothing
 * written, delivered when allowed); reading from a cursor returns exactly
 * what follows; reopening the store keeps all of it; erasure and retention
 * remove the rows.
 */
#include <errno.h>

#include "consentstore.h"
#include "coupon_catalog.h"
#include "triggers.h"
#include "testutil.h"

#define H 3600000LL
#define NOW 1764547200000LL /* 2025-12-01T00:00:00Z */

static void record(store_t *s, const char *id, const char *cust, const char *item, int type,
                   int64_t t)
{
    store_event_t e = { id, cust, item, type, t, 1, 30, NULL };
    uint8_t out;
    const char *why;
    CHECK_EQ_INT(store_record_events(s, &e, 1, &out, &why), 0);
    CHECK_EQ_INT(out, STORE_ACCEPTED);
}

/* Sets every channel of customer to withdrawn except keep (-1: none). */
static void consent_only(store_t *s, const char *customer, int keep)
{
    consent_update_t u;
    consent_t after;
    memset(&u, 0, sizeof u);
    u.preferred = keep;
    for (int ch = 0; ch < CONSENT_N_CHANNELS; ch++)
        u.channel[ch] = ch == keep ? CONSENT_GRANTED : CONSENT_WITHDRAWN;
    CHECK_EQ_INT(consentstore_update(s, customer, &u, NOW - 10 * H, NOW - 10 * H, "test",
                                     &after, NULL),
                 0);
}

static void contact(store_t *s, const char *customer, const char *msg, int channel,
                    int64_t t)
{
    contactstore_contact_t c = { msg, t, t, channel, CONTACT_COUPON };
    CHECK_EQ_INT(contactstore_record(s, customer, &c, NULL, NULL), 0);
}

typedef struct found_contact {
    const char *message_id;
    int found, channel, kind;
} found_contact_t;

static int find_contact(void *ctx, const contactstore_contact_t *c)
{
    found_contact_t *f = ctx;
    if (strcmp(c->message_id, f->message_id) == 0) {
        f->found = 1;
        f->channel = c->channel;
        f->kind = c->kind;
    }
    return 0;
}

static int erase(store_tx_t *tx, void *ctx)
{
    custdata_owner_t o = triggers_custdata_owner();
    custdata_erased_t out;
    memset(&out, 0, sizeof out);
    return o.erase(o.ctx, tx, ctx, &out);
}

int main(void)
{
    const char *dir = test_tmpdir("triggers");
    store_item_t items[] = { { .item_id = "i1", .title = NULL, .category = "Garden",
                               .price = 30, .unit_cost = 5, .in_stock = 1 },
                             { .item_id = "i2", .title = NULL, .category = "Garden",
                               .price = 40, .unit_cost = 5, .in_stock = 1 } };
    store_t *s = NULL;
    catalog_t *cat = NULL;
    profile_config_t cfg;
    rfm_cutpoints_t cut;
    customers_ctx_t c;
    triggers_env_t env;
    triggers_result_t res;
    triggers_record_t *rec = malloc(sizeof *rec);
    tz_cache_t *zones = tz_cache_new(NULL);
    contactstore_env_t policy;
    uint64_t next = 0, removed = 0;

    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    if (!s || !rec || !zones)
        return 1;
    CHECK_EQ_INT(store_upsert_items(s, items, 2, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    profile_config_default(&cfg);
    CHECK(trigger_rule_parse(&cfg.triggers, "cart cart_abandoned 1h") == NULL);
    CHECK(trigger_rule_parse(&cfg.triggers, "hello first_purchase") == NULL);
    memset(&cut, 0, sizeof cut);
    c = (customers_ctx_t){ .store = s, .cfg = &cfg, .cat = cat, .cut = &cut };
    policy = (contactstore_env_t){ s, &cfg.contact, zones };
    env = (triggers_env_t){ .cust = &c, .contact = &policy };
    consent_only(s, "carol", -1);

    /* Empty log. */
    CHECK_EQ_INT(triggers_next_seq(s, &next), 0);
    CHECK(next == 1);
    CHECK_EQ_INT(triggers_next(s, 0, rec), -ENOENT);

    record(s, "a1", "alice", "i1", STORE_EVENT_CART, NOW - 3 * H);
    record(s, "a2", "alice", "i2", STORE_EVENT_CART, NOW - 2 * H);
    record(s, "b1", "bob", "i1", STORE_EVENT_CART, NOW - 3 * H);
    record(s, "b2", "bob", "i1", STORE_EVENT_PURCHASE, NOW - 2 * H);
    record(s, "c1", "carol", "i1", STORE_EVENT_CART, NOW - 3 * H);

    CHECK_EQ_INT(triggers_evaluate(&env, "alice", NOW, &res), 0);
    CHECK(res.logged == 1 && res.suppressed == 0 && res.last_seq == 1);
    /* Again, later: the same cart, nothing new. */
    CHECK_EQ_INT(triggers_evaluate(&env, "alice", NOW + H, &res), 0);
    CHECK(res.logged == 0 && res.suppressed == 0);
    /* Bob bought after carting: only his first purchase fires. */
    CHECK_EQ_INT(triggers_evaluate(&env, "bob", NOW, &res), 0);
    CHECK(res.logged == 1 && res.last_seq == 2);
    /* Carol withdrew every channel: her cart is suppressed (marked, not
     * logged) and stays so when she consents again. */
    CHECK_EQ_INT(triggers_evaluate(&env, "carol", NOW, &res), 0);
    CHECK(res.logged == 0 && res.suppressed == 1 && res.deferred == 0);
    consent_only(s, "carol", CONSENT_EMAIL);
    CHECK_EQ_INT(triggers_evaluate(&env, "carol", NOW + H, &res), 0);
    CHECK(res.logged == 0 && res.suppressed == 0);
    /* Unknown customer: nothing to do. */
    CHECK_EQ_INT(triggers_evaluate(&env, "nobody", NOW, &res), 0);
    CHECK(res.logged == 0);

    CHECK_EQ_INT(triggers_next(s, 0, rec), 0);
    CHECK(rec->seq == 1);
    CHECK_STREQ(rec->customer_id, "alice");
    CHECK_STREQ(rec->rule, "cart");
    CHECK(rec->kind == TRIGGER_CART_ABANDONED);
    CHECK(rec->time_ms == NOW - H);       /* the last cart + 1 hour */
    CHECK(rec->fired_ms == NOW);
    CHECK_EQ_INT(rec->n_items, 2);
    CHECK_STREQ(rec->items[0], "i2");
    CHECK_STREQ(rec->items[1], "i1");
    CHECK_EQ_INT(rec->coupon_outcome, -1); /* no coupon catalog: no decision */
    /* Sent by email (no preference: the first channel), and the contact is
     * recorded under the firing id as a trigger message. */
    CHECK_EQ_INT(rec->channel, CONSENT_EMAIL);
    CHECK(strncmp(rec->message_id, "trg-", 4) == 0 && strlen(rec->message_id) == 20);
    {
        found_contact_t f = { rec->message_id, 0, -1, -1 };
        CHECK_EQ_INT(contactstore_scan(s, "alice", find_contact, &f), 0);
        CHECK(f.found && f.channel == CONSENT_EMAIL && f.kind == CONTACT_TRIGGER);
    }
    CHECK_EQ_INT(triggers_next(s, 1, rec), 0);
    CHECK(rec->seq == 2);
    CHECK_STREQ(rec->customer_id, "bob");
    CHECK_STREQ(rec->rule, "hello");
    CHECK_EQ_INT(triggers_next(s, 2, rec), -ENOENT);

    /* Quiet hours: frank allows sms only, and NOW is 00:00 UTC, inside the
     * default 21:00-09:00 for sms: deferred, nothing written; at 09:00 it
     * is delivered on sms. */
    record(s, "f1", "frank", "i1", STORE_EVENT_CART, NOW - 3 * H);
    consent_only(s, "frank", CONSENT_SMS);
    CHECK_EQ_INT(triggers_evaluate(&env, "frank", NOW, &res), 0);
    CHECK(res.logged == 0 && res.suppressed == 0 && res.deferred == 1);
    CHECK_EQ_INT(triggers_evaluate(&env, "frank", NOW + 8 * H, &res), 0);
    CHECK(res.logged == 0 && res.deferred == 1);
    /* ... and if he buys meanwhile, the cart never fires. Gina: same, but
     * delivered at 09:00. */
    record(s, "g1", "gina", "i1", STORE_EVENT_CART, NOW - 3 * H);
    consent_only(s, "gina", CONSENT_SMS);
    CHECK_EQ_INT(triggers_evaluate(&env, "gina", NOW, &res), 0);
    CHECK(res.deferred == 1);
    record(s, "f2", "frank", "i1", STORE_EVENT_PURCHASE, NOW + 8 * H);
    CHECK_EQ_INT(triggers_evaluate(&env, "gina", NOW + 9 * H, &res), 0);
    CHECK(res.logged == 1 && res.last_seq == 3);
    CHECK_EQ_INT(triggers_evaluate(&env, "frank", NOW + 9 * H, &res), 0);
    CHECK(res.deferred == 0 && res.suppressed == 0); /* only his first purchase */
    CHECK(res.logged == 1 && res.last_seq == 4);
    CHECK_EQ_INT(triggers_next(s, 2, rec), 0);
    CHECK_STREQ(rec->customer_id, "gina");
    CHECK_EQ_INT(rec->channel, CONSENT_SMS);
    CHECK(rec->fired_ms == NOW + 9 * H);

    /* The fatigue cap: erin allows email only and got 2 emails (the day's
     * cap) in the last hours: deferred while the window can free a slot
     * within max_delay_hours; with no waiting allowed, suppressed and the
     * reason names the cap. */
    record(s, "e1", "erin", "i1", STORE_EVENT_CART, NOW - 3 * H);
    consent_only(s, "erin", CONSENT_EMAIL);
    contact(s, "erin", "m1", CONSENT_EMAIL, NOW - 5 * H);
    contact(s, "erin", "m2", CONSENT_EMAIL, NOW - 4 * H);
    CHECK_EQ_INT(triggers_evaluate(&env, "erin", NOW, &res), 0);
    CHECK(res.logged == 0 && res.deferred == 1);
    cfg.triggers.max_delay_hours = 0;
    CHECK_EQ_INT(triggers_evaluate(&env, "erin", NOW, &res), 0);
    CHECK(res.logged == 0 && res.deferred == 0 && res.suppressed == 1);
    cfg.triggers.max_delay_hours = 24;
    CHECK_EQ_INT(triggers_evaluate(&env, "erin", NOW + 24 * H, &res), 0);
    CHECK(res.logged == 0 && res.suppressed == 0 && res.deferred == 0);

    /* Durable: the same after reopening. */
    store_close(s);
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    if (!s)
        return 1;
    c.store = s;
    policy.store = s;
    CHECK_EQ_INT(triggers_next_seq(s, &next), 0);
    CHECK(next == 5);
    CHECK_EQ_INT(triggers_next(s, 1, rec), 0);
    CHECK(rec->seq == 2);

    /* A coupon catalog: the decision is made and logged under a request id
     * derived from the firing. */
    {
        coupon_catalog_t *cc = NULL;
        coupon_t cp;
        int created = 0;
        memset(&cp, 0, sizeof cp);
        snprintf(cp.id, sizeof cp.id, "ten");
        snprintf(cp.campaign, sizeof cp.campaign, "carts");
        cp.type = COUPON_FIXED;
        cp.n_benefits = 1;
        cp.benefit[0].kind = COUPON_BENEFIT_AMOUNT;
        cp.benefit[0].amount = 10;
        cp.valid_until_ms = NOW + 30 * 24 * H;
        cp.campaign_budget = 1000;
        cp.per_customer_limit = 1;
        if (coupon_invalid(&cp))
            fprintf(stderr, "coupon: %s\n", coupon_invalid(&cp));
        CHECK(coupon_invalid(&cp) == NULL);
        CHECK_EQ_INT(couponstore_put_coupon(s, &cp, &created, NULL), 0);
        CHECK_EQ_INT(coupon_catalog_load(s, &cc), 0);
        if (!cc)
            return 1;
        env.coupons = cc->coupons;
        env.n_coupons = cc->n;
        record(s, "d1", "dave", "i2", STORE_EVENT_CART, NOW - 2 * H);
        CHECK_EQ_INT(triggers_evaluate(&env, "dave", NOW, &res), 0);
        CHECK(res.logged == 1 && res.last_seq == 5);
        CHECK_EQ_INT(triggers_next(s, 4, rec), 0);
        CHECK_STREQ(rec->customer_id, "dave");
        CHECK_STREQ(rec->coupon_request_id, rec->message_id);
        CHECK(strncmp(rec->coupon_request_id, "trg-", 4) == 0 &&
              strlen(rec->coupon_request_id) == 20);
        CHECK(rec->coupon_outcome >= 0);
        {
            couponstore_offer_t offer;
            CHECK_EQ_INT(couponstore_get_offer(s, rec->coupon_request_id, &offer), 0);
            CHECK_STREQ(offer.customer_id, "dave");
            CHECK_EQ_INT(offer.outcome, rec->coupon_outcome);
        }
        env.coupons = NULL;
        env.n_coupons = 0;
        coupon_catalog_unref(cc);
    }

    /* Erasure: alice's row goes, the others stay, sequences are not reused. */
    CHECK_EQ_INT(store_table_atomic(s, erase, "alice"), 0);
    CHECK_EQ_INT(triggers_next(s, 0, rec), 0);
    CHECK(rec->seq == 2);
    CHECK_EQ_INT(triggers_next_seq(s, &next), 0);
    CHECK(next == 6);

    /* Retention by the time a trigger was logged. */
    CHECK_EQ_INT(triggers_prune(s, NOW, &removed), 0);
    CHECK(removed == 0);
    CHECK_EQ_INT(triggers_prune(s, NOW + 1, &removed), 0);
    CHECK(removed == 2);
    CHECK_EQ_INT(triggers_prune(s, NOW + 10 * H, &removed), 0);
    CHECK(removed == 2);
    CHECK_EQ_INT(triggers_next(s, 0, rec), -ENOENT);
    /* ... and nothing fires twice after it: the marks stay. */
    CHECK_EQ_INT(triggers_evaluate(&env, "bob", NOW + H, &res), 0);
    CHECK(res.logged == 0);

    /* Bad arguments. */
    CHECK_EQ_INT(triggers_next(s, UINT64_MAX, rec), -EINVAL);
    CHECK_EQ_INT(triggers_evaluate(NULL, "x", NOW, &res), -EINVAL);

    catalog_unref(cat);
    store_close(s);
    tz_cache_free(zones);
    free(rec);
    TEST_MAIN_END();
}
