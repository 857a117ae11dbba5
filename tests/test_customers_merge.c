/*
 * test_customers_merge.c - identity (customers_merge.h, store_links.h): an
 * anonymous visitor merged into an account combines events (in time order,
 * as unseen by the model), points (balance = the sum of both, a shared
 * redemption id summed), attributes and coupon history, once: a retry by
 * request id or by pair changes nothing; chains resolve one hop; later
 * events, attributes and redemptions naming the old id land on the
 * survivor; consent combines per field by the later choice with both audit
 * trails kept, contacts move so the fatigue caps count them, and later
 * preferences and contacts naming the old id land on the survivor; a
 * failing owner leaves both customers untouched; erasing the
 * survivor or the merged-away id erases every id of the person and leaves
 * no trace of any of them in any database.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "consentstore.h"
#include "contactstore.h"
#include "coupon_erase.h"
#include "couponstore.h"
#include "customers.h"
#include "customers_erase.h"
#include "customers_merge.h"
#include "owners.h"
#include "store_custdata.h"
#include "store_links.h"
#include "testcoupon.h"
#include "testutil.h"

#define T0 1718000000000LL
#define MIN 60000LL
#define DAY 86400000LL

static void items(store_t *s)
{
    store_item_t it[4] = { { .item_id = "i1", .title = "One", .category = "c",
                             .price = 10, .unit_cost = 4, .in_stock = 1 }, { .item_id = "i2", .title = "Two", .category = "c", .price = 20, .unit_cost = 5, .in_stock = 1 },
                           { .item_id = "i3", .title = "Three", .category = "d",
                             .price = 30, .unit_cost = 5, .in_stock = 1 }, { .item_id = "i4", .title = "Four", .category = "d", .price = 40, .unit_cost = 5, .in_stock = 1 } };
    CHECK_EQ_INT(store_upsert_items(s, it, 4, NULL, NULL, NULL, NULL), 0);
}

static void event(store_t *s, const char *id, const char *cust, const char *item, int type,
                  int64_t t, double price, int want)
{
    store_event_t e = { id, cust, item, type, t, 1, price, NULL };
    uint8_t out;
    const char *why;
    CHECK_EQ_INT(store_record_events(s, &e, 1, &out, &why), 0);
    CHECK_EQ_INT(out, want);
}

static size_t owners(custdata_owner_t *o)
{
    return owners_durable(o);
}

/* The customer's stored events (none when it has no index). */
static void history(store_t *s, const char *id, store_event_list_t *l)
{
    uint32_t idx;
    memset(l, 0, sizeof *l);
    if (store_customer_index(s, id, &idx) == 0)
        CHECK_EQ_INT(store_customer_events(s, idx, store_event_list_push, l), 0);
}

static int64_t balance(const customers_ctx_t *c, const char *id)
{
    customer_view_t v;
    int rc = customers_view(c, id, T0 + DAY, &v);
    return rc == 0 ? v.points_balance : -1;
}

static int merge(store_t *s, const char *from, const char *into, const char *req,
                 customers_merge_result_t *r)
{
    custdata_owner_t o[OWNERS_DURABLE];
    size_t n = owners(o);
    return customers_merge(s, o, n, from, into, req, T0 + DAY, r, NULL);
}

/* ---- the anonymous visitor logs in ----------------------------------------------- */

static void test_anonymous_login(store_t *s, const customers_ctx_t *c)
{
    store_attrs_t anon_attrs = { 0, 0, 0, "north" }, acct_attrs = { T0 - 90 * DAY, 5, 2, "" },
                  got;
    store_event_list_t h;
    customers_merge_result_t r, again;
    coupon_t cat[2] = { test_fixed_coupon("cpn-a", "camp", 2.0, 100, T0),
                        test_fixed_coupon("cpn-b", "camp", 3.0, 100, T0) };
    couponstore_history_t ch;
    couponstore_budget_t before, after;
    couponstore_offer_t o;
    char who[STORE_MAX_ID + 1];
    uint64_t seq_before;
    int64_t total, bal_anon, bal_acct;
    int dup;

    /* the account: two purchases; the visitor: a view, a cart, a purchase */
    event(s, "acct-e1", "acct", "i3", STORE_EVENT_PURCHASE, T0 + 1 * MIN, 30, STORE_ACCEPTED);
    event(s, "acct-e2", "acct", "i4", STORE_EVENT_PURCHASE, T0 + 4 * MIN, 40, STORE_ACCEPTED);
    event(s, "anon-e1", "anon", "i1", STORE_EVENT_VIEW, T0 + 0 * MIN, 0, STORE_ACCEPTED);
    event(s, "anon-e2", "anon", "i2", STORE_EVENT_CART, T0 + 2 * MIN, 0, STORE_ACCEPTED);
    event(s, "anon-e3", "anon", "i1", STORE_EVENT_PURCHASE, T0 + 3 * MIN, 10, STORE_ACCEPTED);
    CHECK_EQ_INT(store_set_attrs(s, "anon", &anon_attrs), 0);
    CHECK_EQ_INT(store_set_attrs(s, "acct", &acct_attrs), 0);
    /* points: one redemption id on both ledgers ("r-shared") */
    CHECK_EQ_INT(store_points_redeem(s, "acct", "r-shared", 5, 0, 70, &total, &dup), 0);
    CHECK_EQ_INT(store_points_redeem(s, "anon", "r-shared", 2, 0, 10, &total, &dup), 0);
    CHECK_EQ_INT(store_points_redeem(s, "anon", "r-anon", 3, 0, 10, &total, &dup), 0);
    bal_anon = balance(c, "anon");
    bal_acct = balance(c, "acct");
    CHECK_EQ_INT(bal_anon, 10 - 5);
    CHECK_EQ_INT(bal_acct, 70 - 5);
    /* coupons: the visitor holds cpn-a, the account cpn-b */
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[0], NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[1], NULL, NULL), 0);
    CHECK_EQ_INT(test_grant(s, "anon", "req-anon", cat, 1, T0, &o), 0);
    CHECK_STREQ(o.coupon_id, "cpn-a");
    CHECK_EQ_INT(test_grant(s, "acct", "req-acct", cat + 1, 1, T0, &o), 0);
    CHECK_STREQ(o.coupon_id, "cpn-b");
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &before), 0);
    CHECK_EQ_INT(store_event_seq(s, &seq_before), 0);

    CHECK_EQ_INT(merge(s, "anon", "acct", "login-1", &r), 0);
    CHECK_STREQ(r.survivor, "acct");
    CHECK_EQ_INT(r.events_moved, 3);
    CHECK(r.rows_moved >= 3 + 2 + 1 + 1); /* events, points, attrs, coupons */
    CHECK_EQ_INT(r.already_merged, 0);
    CHECK_EQ_INT(r.replayed, 0);

    /* events of both ids under the survivor, in time order; the moved ones
     * arrived now (a model trained before counts them as unseen) */
    history(s, "acct", &h);
    CHECK_EQ_INT(h.n, 5);
    for (size_t i = 1; i < h.n; i++)
        CHECK(h.ev[i - 1].time_ms <= h.ev[i].time_ms);
    for (size_t i = 0; i < h.n; i++)
        if (h.ev[i].time_ms != T0 + 1 * MIN && h.ev[i].time_ms != T0 + 4 * MIN)
            CHECK(h.ev[i].seq >= seq_before);
    store_event_list_free(&h);
    history(s, "anon", &h);
    CHECK_EQ_INT(h.n, 0);
    store_event_list_free(&h);

    /* points: balance = the sum of both; the shared id kept both amounts */
    CHECK_EQ_INT(balance(c, "acct"), bal_anon + bal_acct);
    CHECK_EQ_INT(store_points_redeemed(s, "acct", &total), 0);
    CHECK_EQ_INT(total, 5 + 2 + 3);
    CHECK_EQ_INT(store_points_redeemed(s, "anon", &total), 0);
    CHECK_EQ_INT(total, 0);

    /* attributes: the account's, with the visitor's region filled in */
    CHECK_EQ_INT(store_get_attrs(s, "acct", &got), 0);
    CHECK_EQ_INT(got.signup_ms, T0 - 90 * DAY);
    CHECK_EQ_INT(got.birth_month, 5);
    CHECK_STREQ(got.region, "north");
    CHECK_EQ_INT(store_get_attrs(s, "anon", &got), -ENOENT);

    /* coupon history: both grants under the account, budget unchanged */
    CHECK_EQ_INT(couponstore_get_history(s, "acct", &ch), 0);
    CHECK_EQ_INT(ch.n_held, 2);
    CHECK_EQ_INT(ch.n_grants, 2);
    CHECK(ch.held[0].active && ch.held[1].active);
    CHECK_EQ_INT(couponstore_get_history(s, "anon", &ch), 0);
    CHECK_EQ_INT(ch.n_held, 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "camp", &after), 0);
    CHECK(after.committed == before.committed);

    /* the link */
    CHECK_EQ_INT(store_resolve_customer(s, "anon", who), 1);
    CHECK_STREQ(who, "acct");
    CHECK_EQ_INT(store_resolve_customer(s, "acct", who), 0);
    CHECK_STREQ(who, "acct");

    /* once: the same request id replays; the same pair is already merged */
    CHECK_EQ_INT(merge(s, "anon", "acct", "login-1", &again), 0);
    CHECK_EQ_INT(again.replayed, 1);
    CHECK_EQ_INT(again.events_moved, 3);
    CHECK_STREQ(again.survivor, "acct");
    CHECK_EQ_INT(merge(s, "anon", "acct", "login-2", &again), 0);
    CHECK_EQ_INT(again.already_merged, 1);
    CHECK_EQ_INT(again.events_moved, 0);
    CHECK_EQ_INT(merge(s, "anon", "acct", NULL, &again), 0);
    CHECK_EQ_INT(again.already_merged, 1);
    history(s, "acct", &h);
    CHECK_EQ_INT(h.n, 5);
    store_event_list_free(&h);
    CHECK_EQ_INT(balance(c, "acct"), bal_anon + bal_acct);
    /* a request id reused for another pair */
    CHECK_EQ_INT(merge(s, "acct", "anon", "login-1", &again), -EEXIST);

    /* later writes naming the old id land on the survivor */
    event(s, "anon-e4", "anon", "i2", STORE_EVENT_VIEW, T0 + 5 * MIN, 0, STORE_ACCEPTED);
    event(s, "anon-e1", "anon", "i1", STORE_EVENT_VIEW, T0, 0, STORE_DUPLICATE);
    history(s, "acct", &h);
    CHECK_EQ_INT(h.n, 6);
    CHECK_EQ_INT(h.ev[5].time_ms, T0 + 5 * MIN);
    store_event_list_free(&h);
    history(s, "anon", &h);
    CHECK_EQ_INT(h.n, 0);
    store_event_list_free(&h);
    anon_attrs.birth_month = 7;
    anon_attrs.birth_day = 9;
    CHECK_EQ_INT(store_set_attrs(s, "anon", &anon_attrs), 0);
    CHECK_EQ_INT(store_get_attrs(s, "acct", &got), 0);
    CHECK_EQ_INT(got.birth_month, 7);
    CHECK_EQ_INT(store_get_attrs(s, "anon", &got), -ENOENT);
    {
        int64_t bal = 0;
        CHECK_EQ_INT(customers_redeem(c, "anon", "r-late", 1, T0 + DAY, &bal, &dup), 0);
        CHECK_EQ_INT(bal, bal_anon + bal_acct - 1);
        /* the store alone refuses the stale id: its caller computed earned
         * for the wrong history */
        CHECK_EQ_INT(store_points_redeem(s, "anon", "r-stale", 1, 0, 1000, &total, &dup),
                     -ESTALE);
    }
    /* a coupon decided for the old id would land in a history nobody reads:
     * refused, the caller resolves again */
    CHECK_EQ_INT(test_grant(s, "anon", "req-stale", cat, 1, T0 + MIN, &o), -ESTALE);
    CHECK_EQ_INT(couponstore_get_offer(s, "req-stale", &o), -ENOENT);
}

/* ---- chains -------------------------------------------------------------------------- */

static void test_chains(store_t *s)
{
    customers_merge_result_t r;
    char who[STORE_MAX_ID + 1];
    store_event_list_t h;

    event(s, "c-a", "chain-a", "i1", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    event(s, "c-b", "chain-b", "i2", STORE_EVENT_VIEW, T0 + MIN, 0, STORE_ACCEPTED);
    event(s, "c-c", "chain-c", "i3", STORE_EVENT_VIEW, T0 + 2 * MIN, 0, STORE_ACCEPTED);
    event(s, "c-d", "chain-d", "i4", STORE_EVENT_VIEW, T0 + 3 * MIN, 0, STORE_ACCEPTED);

    /* A -> B, then B -> C: A follows (relinked to C, one hop) */
    CHECK_EQ_INT(merge(s, "chain-a", "chain-b", NULL, &r), 0);
    CHECK_EQ_INT(merge(s, "chain-b", "chain-c", NULL, &r), 0);
    CHECK_STREQ(r.survivor, "chain-c");
    CHECK_EQ_INT(r.events_moved, 2);
    CHECK_EQ_INT(store_resolve_customer(s, "chain-a", who), 1);
    CHECK_STREQ(who, "chain-c");
    CHECK_EQ_INT(store_resolve_customer(s, "chain-b", who), 1);
    CHECK_STREQ(who, "chain-c");
    history(s, "chain-c", &h);
    CHECK_EQ_INT(h.n, 3);
    store_event_list_free(&h);

    /* A into C: one customer already */
    CHECK_EQ_INT(merge(s, "chain-a", "chain-c", NULL, &r), 0);
    CHECK_EQ_INT(r.already_merged, 1);
    CHECK_STREQ(r.survivor, "chain-c");
    /* D into B, an id merged away: follows the link to C */
    CHECK_EQ_INT(merge(s, "chain-d", "chain-b", NULL, &r), 0);
    CHECK_STREQ(r.survivor, "chain-c");
    CHECK_EQ_INT(r.events_moved, 1);
    history(s, "chain-c", &h);
    CHECK_EQ_INT(h.n, 4);
    store_event_list_free(&h);
    /* C into A (A stands for C): the same customer */
    CHECK_EQ_INT(merge(s, "chain-c", "chain-a", NULL, &r), 0);
    CHECK_EQ_INT(r.already_merged, 1);
}

/* ---- consent and contacts ----------------------------------------------------------- */

#define H 3600000LL

/* One preference change of customer at t: channel ch (or -1) to state st,
 * and language lang (NULL: unchanged). */
static void prefer(store_t *s, const char *customer, int ch, int st, const char *lang,
                   int64_t t)
{
    consent_update_t u = { .preferred = -1, .language = lang };
    consent_t after;
    if (ch >= 0)
        u.channel[ch] = (uint8_t)st;
    CHECK_EQ_INT(consentstore_update(s, customer, &u, t, t, "test", &after, NULL), 0);
}

typedef struct trail {
    int n;
    char row[16][64];   /* "field=new_value@merged_from" */
    uint64_t seq[16];
} trail_t;

static int keep_change(void *ctx, const consentstore_change_t *c)
{
    trail_t *t = ctx;
    if (t->n < 16) {
        snprintf(t->row[t->n], sizeof t->row[0], "%s=%s@%s", c->field, c->new_value,
                 c->merged_from);
        t->seq[t->n] = c->seq;
    }
    t->n++;
    return 0;
}

static trail_t trail(store_t *s, const char *customer)
{
    trail_t t = { 0 };
    CHECK_EQ_INT(consentstore_scan_changes(s, customer, keep_change, &t), 0);
    return t;
}

static int count_contact(void *ctx, const contactstore_contact_t *c)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

static int contacts(store_t *s, const char *customer)
{
    int n = 0;
    CHECK_EQ_INT(contactstore_scan(s, customer, count_contact, &n), 0);
    return n;
}

static void contact(store_t *s, const char *customer, const char *message_id, int64_t t,
                    int want_dup)
{
    contactstore_contact_t c = { message_id, t, t, CONSENT_SMS, CONTACT_COUPON };
    int dup = -1;
    CHECK_EQ_INT(contactstore_record(s, customer, &c, &dup, NULL), 0);
    CHECK_EQ_INT(dup, want_dup);
}

/* The account granted email, sms and in_app at T0 + 1h and chose German;
 * the visitor withdrew email later (T0 + 2h), sms earlier (T0), in_app at
 * the same instant, chose French earlier and push as preferred channel. */
static void test_consent_contacts(store_t *s, tz_cache_t *zones)
{
    contact_config_t cfg;
    contactstore_env_t env = { s, &cfg, zones };
    customers_merge_result_t r;
    contact_decision_t d;
    consent_t c;
    trail_t t;
    int found = -1;

    contact_config_default(&cfg);
    cfg.min_gap_minutes = 0;
    cfg.quiet = 0;
    cfg.per_day[CONSENT_SMS] = 3;
    event(s, "k-1", "k-acct", "i1", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    event(s, "k-2", "k-anon", "i2", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    prefer(s, "k-acct", CONSENT_EMAIL, CONSENT_GRANTED, "de", T0 + H);
    prefer(s, "k-acct", CONSENT_SMS, CONSENT_GRANTED, NULL, T0 + H);
    prefer(s, "k-acct", CONSENT_IN_APP, CONSENT_GRANTED, NULL, T0 + H);
    prefer(s, "k-anon", CONSENT_SMS, CONSENT_WITHDRAWN, "fr", T0);
    prefer(s, "k-anon", CONSENT_IN_APP, CONSENT_WITHDRAWN, NULL, T0 + H);
    prefer(s, "k-anon", CONSENT_EMAIL, CONSENT_WITHDRAWN, NULL, T0 + 2 * H);
    {
        consent_update_t u = { .preferred = CONSENT_PUSH };
        CHECK_EQ_INT(consentstore_update(s, "k-anon", &u, T0, T0, "app", &c, NULL), 0);
    }
    /* two sms to the visitor, one to the account: the cap is 3 a day */
    contact(s, "k-anon", "msg-anon-1", T0 + 3 * H, 0);
    contact(s, "k-anon", "msg-anon-2", T0 + 4 * H, 0);
    contact(s, "k-acct", "msg-acct-1", T0 + 5 * H, 0);

    CHECK_EQ_INT(merge(s, "k-anon", "k-acct", NULL, &r), 0);
    CHECK_STREQ(r.survivor, "k-acct");
    CHECK(r.rows_moved >= 2 + 1 + 5); /* contacts, consent, its audit rows */

    /* per field the later choice: the visitor's later withdrawal of email,
     * the account's later sms grant and language, the tie on in_app
     * withdrawn, the visitor's preferred channel (the account chose none) */
    CHECK_EQ_INT(consentstore_get(s, "k-acct", &c, &found), 0);
    CHECK_EQ_INT(c.channel[CONSENT_EMAIL], CONSENT_WITHDRAWN);
    CHECK_EQ_INT(c.channel[CONSENT_SMS], CONSENT_GRANTED);
    CHECK_EQ_INT(c.channel[CONSENT_IN_APP], CONSENT_WITHDRAWN);
    CHECK_STREQ(c.language, "de");
    CHECK_EQ_INT(c.preferred, CONSENT_PUSH);
    CHECK_EQ_INT(c.updated_ms, T0 + H); /* the later of the two records' */
    CHECK_EQ_INT(c.changes, 9);
    /* both trails under the survivor: its own 4 rows, then the visitor's 5 */
    t = trail(s, "k-acct");
    CHECK_EQ_INT(t.n, 9);
    CHECK_STREQ(t.row[0], "email=granted@");
    CHECK_STREQ(t.row[4], "sms=withdrawn@k-anon");
    CHECK_STREQ(t.row[7], "email=withdrawn@k-anon");
    CHECK_STREQ(t.row[8], "preferred_channel=push@k-anon");
    for (int i = 0; i < 9; i++)
        CHECK_EQ_INT(t.seq[i], (uint64_t)i + 1);
    CHECK_EQ_INT(trail(s, "k-anon").n, 0);
    CHECK_EQ_INT(consentstore_get(s, "k-anon", &c, &found), 0);
    CHECK_EQ_INT(found, 0);

    /* contacts: all three count toward the survivor's sms cap */
    CHECK_EQ_INT(contacts(s, "k-acct"), 3);
    CHECK_EQ_INT(contacts(s, "k-anon"), 0);
    CHECK_EQ_INT(contactstore_check(&env, "k-acct", CONSENT_SMS, CONTACT_COUPON, T0 + 6 * H,
                                    &d, NULL), 0);
    CHECK_EQ_INT(d.used_day, 3);
    CHECK_EQ_INT(d.verdict, CONTACT_CHANNEL_DAY_CAP);
    /* their message ids stay duplicates, under either id */
    contact(s, "k-acct", "msg-anon-1", T0 + 3 * H, 1);
    contact(s, "k-anon", "msg-anon-2", T0 + 4 * H, 1);

    /* a repeated merge changes nothing */
    CHECK_EQ_INT(merge(s, "k-anon", "k-acct", NULL, &r), 0);
    CHECK_EQ_INT(r.already_merged, 1);
    CHECK_EQ_INT(trail(s, "k-acct").n, 9);
    CHECK_EQ_INT(contacts(s, "k-acct"), 3);

    /* later choices and contacts naming the old id land on the survivor */
    prefer(s, "k-anon", CONSENT_EMAIL, CONSENT_GRANTED, NULL, T0 + 7 * H);
    contact(s, "k-anon", "msg-anon-3", T0 + 7 * H, 0);
    CHECK_EQ_INT(consentstore_get(s, "k-acct", &c, NULL), 0);
    CHECK_EQ_INT(c.channel[CONSENT_EMAIL], CONSENT_GRANTED);
    t = trail(s, "k-acct");
    CHECK_EQ_INT(t.n, 10);
    CHECK_STREQ(t.row[9], "email=granted@");
    CHECK_EQ_INT(t.seq[9], 10);
    CHECK_EQ_INT(contacts(s, "k-acct"), 4);
    CHECK_EQ_INT(trail(s, "k-anon").n + contacts(s, "k-anon"), 0);

    /* the survivor merged into a third account: every row keeps the id it
     * was recorded under; the later email grant (T0 + 7h) beats the new
     * account's withdrawal at T0 + 6h */
    event(s, "k-3", "k-main", "i3", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    prefer(s, "k-main", CONSENT_EMAIL, CONSENT_WITHDRAWN, NULL, T0 + 6 * H);
    CHECK_EQ_INT(merge(s, "k-acct", "k-main", NULL, &r), 0);
    t = trail(s, "k-main");
    CHECK_EQ_INT(t.n, 11);
    CHECK_STREQ(t.row[1], "email=granted@k-acct");
    CHECK_STREQ(t.row[5], "sms=withdrawn@k-anon");
    CHECK_STREQ(t.row[10], "email=granted@k-acct");
    CHECK_EQ_INT(consentstore_get(s, "k-main", &c, NULL), 0);
    CHECK_EQ_INT(c.channel[CONSENT_EMAIL], CONSENT_GRANTED);
    CHECK_EQ_INT(contacts(s, "k-main"), 4);
}

/* A visitor who only chose in a cookie banner (preferences, no events) and
 * one only ever messaged (a contact) are known: merged into an account,
 * the withdrawal and the contact land there. An id with nothing stays
 * unknown. */
static void test_known_by_consent(store_t *s)
{
    customers_merge_result_t r;
    consent_t c;

    event(s, "p-1", "p-acct", "i1", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    prefer(s, "p-acct", CONSENT_PUSH, CONSENT_GRANTED, NULL, T0);
    prefer(s, "p-banner", CONSENT_PUSH, CONSENT_WITHDRAWN, NULL, T0 + H);
    contact(s, "p-messaged", "msg-p-1", T0 + H, 0);
    CHECK_EQ_INT(merge(s, "p-banner", "p-acct", NULL, &r), 0);
    CHECK_EQ_INT(r.events_moved, 0);
    CHECK_EQ_INT(consentstore_get(s, "p-acct", &c, NULL), 0);
    CHECK_EQ_INT(c.channel[CONSENT_PUSH], CONSENT_WITHDRAWN);
    CHECK_EQ_INT(merge(s, "p-messaged", "p-banner", NULL, &r), 0);
    CHECK_STREQ(r.survivor, "p-acct");
    CHECK_EQ_INT(contacts(s, "p-acct"), 1);
    CHECK_EQ_INT(merge(s, "p-nobody", "p-acct", NULL, &r), -ENOENT);
    CHECK_STREQ(r.missing, "source_customer_id");
}

/* ---- retries of coupon requests logged under the merged-away id ------------------ */

static void test_coupon_replays(store_t *s)
{
    coupon_t cat[1] = { test_fixed_coupon("cpn-r", "campr", 2.0, 100, T0) };
    couponstore_redemption_t rd = { "cr-1", "rep-anon", "cpn-r", 1.0, T0 + MIN };
    couponstore_offer_t o;
    customers_merge_result_t r;
    int dup = 0;

    event(s, "r-1", "rep-anon", "i1", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    event(s, "r-2", "rep-acct", "i2", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    event(s, "r-3", "rep-other", "i2", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[0], NULL, NULL), 0);
    CHECK_EQ_INT(test_grant(s, "rep-anon", "rq-1", cat, 1, T0, &o), 0);
    CHECK_STREQ(o.coupon_id, "cpn-r");
    CHECK_EQ_INT(couponstore_redeem(s, &rd, NULL, &dup), 0);
    event(s, "r-4", "rep-anon", "i3", STORE_EVENT_PURCHASE, T0 + 2 * MIN, 30, STORE_ACCEPTED);
    CHECK_EQ_INT(merge(s, "rep-anon", "rep-acct", NULL, &r), 0);
    /* uplift training joins the offer with the person's purchases, now
     * under the survivor, and keys it by the survivor */
    {
        uplift_log_t *logs = NULL;
        couponstore_uplift_key_t *keys = NULL;
        size_t n = 0, found = 0;
        CHECK_EQ_INT(couponstore_uplift_logs(s, DAY, T0 + 2 * DAY, &logs, &keys, &n), 0);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(keys[i].request_id, "rq-1") != 0)
                continue;
            found++;
            CHECK_STREQ(keys[i].customer_id, "rep-acct");
            CHECK_EQ_INT(logs[i].treated, 1);
            CHECK_EQ_INT(logs[i].bought, 1);
            CHECK(logs[i].cost > 0.99 && logs[i].cost < 1.01);
        }
        CHECK_EQ_INT(found, 1);
        free(logs);
        free(keys);
    }
    /* the retry names the survivor (the RPC resolved it): the same
     * redemption, a duplicate, not an id reused for someone else */
    rd.customer_id = "rep-acct";
    CHECK_EQ_INT(couponstore_redeem(s, &rd, NULL, &dup), 0);
    CHECK_EQ_INT(dup, 1);
    rd.customer_id = "rep-other";
    CHECK_EQ_INT(couponstore_redeem(s, &rd, NULL, &dup), -EEXIST);
}

/* ---- bad input ------------------------------------------------------------------------- */

static void test_bad_input(store_t *s)
{
    customers_merge_result_t r;
    char long_id[STORE_MAX_ID + 2];

    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    event(s, "b-1", "bad-known", "i1", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    CHECK_EQ_INT(merge(s, "nobody", "bad-known", NULL, &r), -ENOENT);
    CHECK_STREQ(r.missing, "source_customer_id");
    CHECK_EQ_INT(merge(s, "bad-known", "nobody", NULL, &r), -ENOENT);
    CHECK_STREQ(r.missing, "target_customer_id");
    CHECK_EQ_INT(merge(s, "bad-known", "bad-known", NULL, &r), -EINVAL);
    CHECK_EQ_INT(merge(s, "", "bad-known", NULL, &r), -EINVAL);
    CHECK_EQ_INT(merge(s, "bad-known", "", NULL, &r), -EINVAL);
    CHECK_EQ_INT(merge(s, long_id, "bad-known", NULL, &r), -EINVAL);
    CHECK_EQ_INT(merge(s, "bad-known", "nobody", long_id, &r), -EINVAL);
    CHECK_EQ_INT(merge(s, "bad\n1", "bad-known", NULL, &r), -EINVAL);
}

/* ---- one transaction: a failing owner leaves both customers whole ------------------------- */

static int failing_merge(void *ctx, store_tx_t *tx, const char *from, const char *into,
                         int64_t now_ms, custdata_merged_t *out)
{
    (void)ctx, (void)tx, (void)from, (void)into, (void)now_ms, (void)out;
    return -EIO;
}

static void test_atomic(store_t *s)
{
    custdata_owner_t o[OWNERS_DURABLE + 1];
    size_t n = owners(o);
    customers_merge_result_t r;
    const char *failed = NULL;
    char who[STORE_MAX_ID + 1];
    store_event_list_t h;

    o[n++] = (custdata_owner_t){ .name = "broken", .merge = failing_merge };
    event(s, "x-1", "atom-a", "i1", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    event(s, "x-2", "atom-b", "i2", STORE_EVENT_VIEW, T0, 0, STORE_ACCEPTED);
    CHECK_EQ_INT(customers_merge(s, o, n, "atom-a", "atom-b", "atom-req", T0, &r, &failed),
                 -EIO);
    CHECK_STREQ(failed, "broken");
    CHECK_EQ_INT(store_resolve_customer(s, "atom-a", who), 0);
    history(s, "atom-a", &h);
    CHECK_EQ_INT(h.n, 1);
    store_event_list_free(&h);
    history(s, "atom-b", &h);
    CHECK_EQ_INT(h.n, 1);
    store_event_list_free(&h);
    /* the request id was not recorded either: a retry runs */
    CHECK_EQ_INT(merge(s, "atom-a", "atom-b", "atom-req", &r), 0);
    CHECK_EQ_INT(r.replayed, 0);
    CHECK_EQ_INT(r.events_moved, 1);
}

/* ---- erasure covers every id of the person ------------------------------------------------ */

typedef struct trace {
    const char *const *ids;
    size_t n;
    int found;
} trace_t;

static int find_ids(void *ctx, const char *db, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    trace_t *t = ctx;
    for (size_t i = 0; i < t->n; i++) {
        size_t l = strlen(t->ids[i]);
        if ((klen >= l && memmem(key, klen, t->ids[i], l)) ||
            (vlen >= l && memmem(val, vlen, t->ids[i], l))) {
            fprintf(stderr, "trace of %s in %s\n", t->ids[i], db);
            t->found++;
        }
    }
    return 0;
}

static void erase_person(const char *name, const char *erase_id)
{
    static const char *const ids[] = { "zq-anon-17", "zq-acct-17", "zq-device-17" };
    custdata_owner_t o[OWNERS_DURABLE];
    size_t n = owners(o);
    customers_merge_result_t r;
    custdata_erased_t erased;
    coupon_t cat[1] = { test_fixed_coupon("cpn-z", "campz", 2.0, 100, T0) };
    couponstore_offer_t off;
    store_attrs_t a = { T0, 1, 1, "x" };
    store_t *s = NULL;
    trace_t t = { ids, 3, 0 };
    int64_t total;
    int dup;

    CHECK_EQ_INT(store_open(test_tmpdir(name), 64u << 20, &s), 0);
    if (!s)
        return;
    items(s);
    event(s, "z-1", ids[0], "i1", STORE_EVENT_PURCHASE, T0, 10, STORE_ACCEPTED);
    event(s, "z-2", ids[1], "i2", STORE_EVENT_PURCHASE, T0 + MIN, 20, STORE_ACCEPTED);
    event(s, "z-3", ids[2], "i3", STORE_EVENT_VIEW, T0 + 2 * MIN, 0, STORE_ACCEPTED);
    CHECK_EQ_INT(store_set_attrs(s, ids[0], &a), 0);
    CHECK_EQ_INT(store_points_redeem(s, ids[0], "zr-1", 1, 0, 10, &total, &dup), 0);
    CHECK_EQ_INT(couponstore_put_coupon(s, &cat[0], NULL, NULL), 0);
    CHECK_EQ_INT(test_grant(s, ids[0], "zreq-1", cat, 1, T0, &off), 0);
    CHECK_EQ_INT(customers_merge(s, o, n, ids[0], ids[1], "zm-1", T0, &r, NULL), 0);
    CHECK_EQ_INT(customers_merge(s, o, n, ids[2], ids[0], "zm-2", T0, &r, NULL), 0);
    CHECK_STREQ(r.survivor, ids[1]);
    /* a later event on a merged-away id, and one more redemption */
    event(s, "z-4", ids[2], "i4", STORE_EVENT_VIEW, T0 + 3 * MIN, 0, STORE_ACCEPTED);

    CHECK_EQ_INT(customers_erase(s, o, n, erase_id, &erased, NULL), 0);
    CHECK_EQ_INT(erased.events, 4);
    CHECK_EQ_INT(erased.linked, 2);
    CHECK_EQ_INT(store_debug_scan_all(s, find_ids, &t), 0);
    CHECK_EQ_INT(t.found, 0);
    for (size_t i = 0; i < 3; i++) {
        char who[STORE_MAX_ID + 1];
        CHECK_EQ_INT(store_resolve_customer(s, ids[i], who), 0);
        CHECK_EQ_INT(customers_erase(s, o, n, ids[i], NULL, NULL), -ENOENT);
    }
    /* the ids are free again: a new visitor with one of them is new */
    event(s, "z-5", ids[0], "i1", STORE_EVENT_VIEW, T0 + 4 * MIN, 0, STORE_ACCEPTED);
    {
        store_event_list_t h;
        history(s, ids[1], &h);
        CHECK_EQ_INT(h.n, 0);
        store_event_list_free(&h);
        history(s, ids[0], &h);
        CHECK_EQ_INT(h.n, 1);
        store_event_list_free(&h);
    }
    store_close(s);
}

int main(void)
{
    store_t *s = NULL;
    catalog_t *cat = NULL;
    profile_config_t cfg;
    rfm_cutpoints_t cut = { 0 };
    customers_ctx_t c;
    tz_cache_t *zones = tz_cache_new(NULL);

    CHECK_EQ_INT(store_open(test_tmpdir("merge"), 64u << 20, &s), 0);
    if (!s || !zones)
        return 1;
    items(s);
    profile_config_default(&cfg);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    if (!cat)
        return 1;
    c = (customers_ctx_t){ s, &cfg, cat, &cut, 0, NULL };
    test_anonymous_login(s, &c);
    test_chains(s);
    test_consent_contacts(s, zones);
    test_known_by_consent(s);
    test_coupon_replays(s);
    test_bad_input(s);
    test_atomic(s);
    catalog_unref(cat);
    tz_cache_free(zones);
    store_close(s);
    erase_person("merge-erase-survivor", "zq-acct-17");
    erase_person("merge-erase-merged", "zq-anon-17");
    TEST_MAIN_END();
}
