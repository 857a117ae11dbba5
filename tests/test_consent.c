/*
 * test_consent.c - consent as data (consent.c), its store with the audit
 * trail (consentstore.c), the contact log and the policy check over it
 * (contactstore.c), their erasure and export, and the settings file's
 * contact. / consent. lines (profile_file.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "consent.h"
#include "consentstore.h"
#include "contactstore.h"
#include "profile_file.h"
#include "testutil.h"

#define H (3600 * 1000LL)
#define T0 1773144000000LL /* 2026-03-10T12:00:00Z */

static void test_apply(void)
{
    consent_field_change_t ch[CONSENT_MAX_FIELDS];
    consent_update_t u = { .preferred = -1 };
    consent_t c;
    size_t n = 99;

    consent_init(&c);
    u.channel[CONSENT_SMS] = CONSENT_WITHDRAWN;
    u.purpose[CONSENT_PERSONALIZATION] = CONSENT_WITHDRAWN;
    u.preferred = CONSENT_PUSH;
    u.time_zone = "Europe/Berlin";
    u.quiet = "22:00-07:00";
    u.language = "de-DE";
    CHECK(consent_update_invalid(&u) == NULL);
    consent_apply(&c, &u, T0, ch, &n);
    CHECK_EQ_INT(n, 6);
    CHECK_STREQ(ch[0].field, "sms");
    CHECK_STREQ(ch[0].old_value, "unset");
    CHECK_STREQ(ch[0].new_value, "withdrawn");
    CHECK_STREQ(ch[1].field, "personalization");
    CHECK_STREQ(ch[2].field, "preferred_channel");
    CHECK_STREQ(ch[2].new_value, "push");
    CHECK_STREQ(ch[3].field, "time_zone");
    CHECK_STREQ(ch[4].field, "quiet_hours");
    CHECK_STREQ(ch[4].old_value, "default");
    CHECK_STREQ(ch[4].new_value, "22:00-07:00");
    CHECK_STREQ(ch[5].field, "language");
    CHECK_EQ_INT(c.updated_ms, T0);
    CHECK_EQ_INT(c.changes, 6);
    /* the same again changes nothing */
    consent_apply(&c, &u, T0 + H, ch, &n);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(c.updated_ms, T0);
    /* allows */
    CHECK_EQ_INT(consent_allows(&c, CONSENT_SMS, CONSENT_MARKETING, CONSENT_GRANTED), 0);
    CHECK_EQ_INT(consent_allows(&c, CONSENT_EMAIL, CONSENT_MARKETING, CONSENT_GRANTED), 1);
    CHECK_EQ_INT(consent_allows(&c, CONSENT_EMAIL, CONSENT_MARKETING, CONSENT_WITHDRAWN), 0);
    CHECK_EQ_INT(consent_allows(&c, -1, CONSENT_PERSONALIZATION, CONSENT_GRANTED), 0);
    CHECK_EQ_INT(consent_allows(NULL, -1, CONSENT_MARKETING, CONSENT_GRANTED), 1);
    /* bad updates name the field */
    u = (consent_update_t){ .preferred = -1, .quiet = "25:00-07:00" };
    CHECK(strncmp(consent_update_invalid(&u), "quiet_hours", 11) == 0);
    u = (consent_update_t){ .preferred = -1, .language = "english!" };
    CHECK(strncmp(consent_update_invalid(&u), "language", 8) == 0);
    u = (consent_update_t){ .preferred = -1, .time_zone = "../../etc/passwd" };
    CHECK(strncmp(consent_update_invalid(&u), "time_zone", 9) == 0);
    u = (consent_update_t){ .preferred = 7 };
    CHECK(strncmp(consent_update_invalid(&u), "preferred_channel", 17) == 0);
    u = (consent_update_t){ .preferred = -1 };
    u.channel[0] = 3;
    CHECK(consent_update_invalid(&u) != NULL);
    CHECK_EQ_INT(consent_language_valid("pt-BR"), 1);
    CHECK_EQ_INT(consent_language_valid("zh-Hant-TW"), 1);
    CHECK_EQ_INT(consent_language_valid("e"), 0);
    CHECK_EQ_INT(consent_language_valid("de-"), 0);
    CHECK_EQ_INT(consent_language_valid("1de"), 0);
}

typedef struct trail {
    int n;
    char fields[16][32];
    uint64_t seq[16];
    int64_t time[16];
    char source[16][32];
} trail_t;

static int keep_change(void *ctx, const consentstore_change_t *c)
{
    trail_t *t = ctx;
    if (t->n < 16) {
        snprintf(t->fields[t->n], sizeof t->fields[0], "%s=%s", c->field, c->new_value);
        snprintf(t->source[t->n], sizeof t->source[0], "%s", c->source);
        t->seq[t->n] = c->seq;
        t->time[t->n] = c->time_ms;
    }
    t->n++;
    return 0;
}

static void test_store(store_t *s)
{
    consent_update_t u = { .preferred = -1 };
    consent_t c;
    trail_t t = { 0 };
    size_t changed = 9;
    int found = 1, ok = -1;

    CHECK_EQ_INT(consentstore_get(s, "ann", &c, &found), 0);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(c.preferred, -1);
    u.purpose[CONSENT_MARKETING] = CONSENT_WITHDRAWN;
    u.time_zone = "America/New_York";
    CHECK_EQ_INT(consentstore_update(s, "ann", &u, T0, T0 + 5, "web:form", &c, &changed), 0);
    CHECK_EQ_INT(changed, 2);
    u = (consent_update_t){ .preferred = -1 };
    u.purpose[CONSENT_MARKETING] = CONSENT_GRANTED;
    u.channel[CONSENT_EMAIL] = CONSENT_WITHDRAWN;
    CHECK_EQ_INT(consentstore_update(s, "ann", &u, T0 + H, T0 + H, "sms:STOP", &c, &changed),
                 0);
    CHECK_EQ_INT(changed, 2);
    CHECK_EQ_INT(consentstore_update(s, "ann", &u, T0 + 2 * H, T0 + 2 * H, "again", &c,
                                     &changed), 0);
    CHECK_EQ_INT(changed, 0); /* nothing changed: no row */
    CHECK_EQ_INT(consentstore_get(s, "ann", &c, &found), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_STREQ(c.time_zone, "America/New_York");
    CHECK_EQ_INT(c.channel[CONSENT_EMAIL], CONSENT_WITHDRAWN);
    CHECK_EQ_INT(c.changes, 4);
    CHECK_EQ_INT(consentstore_scan_changes(s, "ann", keep_change, &t), 0);
    CHECK_EQ_INT(t.n, 4);
    CHECK_STREQ(t.fields[0], "marketing=withdrawn");
    CHECK_STREQ(t.fields[1], "time_zone=America/New_York");
    CHECK_STREQ(t.fields[2], "email=withdrawn");
    CHECK_STREQ(t.fields[3], "marketing=granted");
    CHECK_STREQ(t.source[2], "sms:STOP");
    CHECK_EQ_INT(t.seq[0], 1);
    CHECK_EQ_INT(t.seq[3], 4);
    CHECK_EQ_INT(t.time[3], T0 + H);
    /* a customer whose id extends another's sees only their own rows */
    CHECK_EQ_INT(consentstore_update(s, "anna", &u, T0, T0, "web", &c, &changed), 0);
    t.n = 0;
    CHECK_EQ_INT(consentstore_scan_changes(s, "ann", keep_change, &t), 0);
    CHECK_EQ_INT(t.n, 4);
    CHECK_EQ_INT(consentstore_allows(s, "ann", CONSENT_EMAIL, CONSENT_MARKETING,
                                     CONSENT_GRANTED, &ok), 0);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(consentstore_allows(s, "ann", CONSENT_SMS, CONSENT_MARKETING,
                                     CONSENT_GRANTED, &ok), 0);
    CHECK_EQ_INT(ok, 1);
    /* bad arguments */
    CHECK_EQ_INT(consentstore_update(s, "ann", &u, T0, T0, "", &c, &changed), -EINVAL);
    u.quiet = "nonsense";
    CHECK_EQ_INT(consentstore_update(s, "ann", &u, T0, T0, "x", &c, &changed), -EINVAL);
}

static int count_contact(void *ctx, const contactstore_contact_t *c)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

/* Sets customer's consent: each channel granted or withdrawn, a preference. */
static void set_channels(store_t *s, const char *customer, const uint8_t st[4], int preferred)
{
    consent_update_t u;
    consent_t after;
    memset(&u, 0, sizeof u);
    memcpy(u.channel, st, CONSENT_N_CHANNELS);
    u.preferred = preferred;
    CHECK_EQ_INT(consentstore_update(s, customer, &u, T0 - 5 * H, T0 - 5 * H, "test", &after,
                                     NULL),
                 0);
}

/* contactstore_choose: the preferred channel, else the first other allowed;
 * when none is, the first consented channel's refusal and the earliest time
 * any allows. bob (no consent stored) sent one sms at T0 - 2h, sms capped
 * at 1 a day. */
static void test_choose(const contactstore_env_t *env)
{
    const uint8_t G = CONSENT_GRANTED, W = CONSENT_WITHDRAWN;
    const uint8_t all[4] = { G, G, G, G }, sms_only[4] = { W, G, W, W },
                  none[4] = { W, W, W, W };
    contactstore_contact_t c = { "m-dan", T0 - 2 * H, T0, CONSENT_SMS, CONTACT_COUPON };
    contact_decision_t d;
    int ch = -1;

    CHECK_EQ_INT(contactstore_choose(env, "bob", CONTACT_TRIGGER, T0, &ch, &d), 0);
    CHECK(d.allowed && ch == CONSENT_EMAIL); /* no preference: the first */
    /* dan prefers sms, whose day cap is used: email instead */
    CHECK_EQ_INT(contactstore_record(env->store, "dan", &c, NULL, NULL), 0);
    set_channels(env->store, "dan", all, CONSENT_SMS);
    CHECK_EQ_INT(contactstore_choose(env, "dan", CONTACT_TRIGGER, T0, &ch, &d), 0);
    CHECK(d.allowed && ch == CONSENT_EMAIL);
    /* ... prefers push: push */
    set_channels(env->store, "dan", all, CONSENT_PUSH);
    CHECK_EQ_INT(contactstore_choose(env, "dan", CONTACT_TRIGGER, T0, &ch, &d), 0);
    CHECK(d.allowed && ch == CONSENT_PUSH);
    /* ... allows sms only: refused by the cap, allowed again when the sms
     * leaves the 24 h window */
    set_channels(env->store, "dan", sms_only, CONSENT_SMS);
    CHECK_EQ_INT(contactstore_choose(env, "dan", CONTACT_TRIGGER, T0, &ch, &d), 0);
    CHECK(!d.allowed && ch == CONSENT_SMS && d.verdict == CONTACT_CHANNEL_DAY_CAP);
    CHECK_EQ_INT(d.next_allowed_ms, T0 - 2 * H + 24 * H);
    /* ... allows nothing: never */
    set_channels(env->store, "dan", none, CONSENT_SMS);
    CHECK_EQ_INT(contactstore_choose(env, "dan", CONTACT_TRIGGER, T0, &ch, &d), 0);
    CHECK(!d.allowed && ch == CONSENT_SMS && d.verdict == CONTACT_NO_CHANNEL_CONSENT);
    CHECK_EQ_INT(d.next_allowed_ms, 0);
    CHECK_EQ_INT(contactstore_choose(NULL, "dan", CONTACT_TRIGGER, T0, &ch, &d), -EINVAL);
    CHECK_EQ_INT(contactstore_choose(env, "dan", CONTACT_TRIGGER, T0, NULL, &d), -EINVAL);
}

static void test_contacts(store_t *s, tz_cache_t *zones)
{
    contact_config_t cfg;
    contactstore_env_t env = { s, &cfg, zones };
    contactstore_contact_t c = { "m-1", T0 - 2 * H, T0, CONSENT_SMS, CONTACT_TRIGGER };
    contactstore_contact_t stored;
    contact_decision_t d;
    contact_sent_t *recent = NULL;
    size_t n = 0;
    int dup = 9, personal = -1, count = 0;

    contact_config_default(&cfg);
    cfg.min_gap_minutes = 0;
    cfg.per_day[CONSENT_SMS] = 1;
    cfg.quiet = 0;
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, &dup, &stored), 0);
    CHECK_EQ_INT(dup, 0);
    c.time_ms = T0 - H; /* a replay with other fields changes nothing */
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, &dup, &stored), 0);
    CHECK_EQ_INT(dup, 1);
    CHECK_EQ_INT(stored.time_ms, T0 - 2 * H);
    CHECK_EQ_INT(contactstore_record(s, "carol", &c, &dup, NULL), -EEXIST);
    CHECK_EQ_INT(contactstore_scan(s, "bob", count_contact, &count), 0);
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(contactstore_recent(s, "bob", T0 - 3 * H, &recent, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(recent ? recent[0].time_ms : 0, T0 - 2 * H);
    free(recent);
    CHECK_EQ_INT(contactstore_check(&env, "bob", CONSENT_SMS, CONTACT_COUPON, T0, &d,
                                    &personal), 0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_CHANNEL_DAY_CAP);
    CHECK_EQ_INT(d.next_allowed_ms, T0 - 2 * H + 24 * H);
    CHECK_EQ_INT(personal, 1);
    /* ann withdrew email (test_store) and lives in New York */
    CHECK_EQ_INT(contactstore_check(&env, "ann", CONSENT_EMAIL, CONTACT_COUPON, T0, &d,
                                    NULL), 0);
    CHECK_EQ_INT(d.verdict, CONTACT_NO_CHANNEL_CONSENT);
    test_choose(&env);
    /* bad input */
    c.message_id = "";
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, NULL, NULL), -EINVAL);
    c.message_id = "m-2";
    c.channel = 9;
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, NULL, NULL), -EINVAL);
    c.channel = CONSENT_EMAIL;
    c.time_ms = 0;
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, NULL, NULL), -EINVAL);
    /* retention drops old contacts and their ids */
    c = (contactstore_contact_t){ "old", T0 - 400 * 24 * H, T0, CONSENT_EMAIL, CONTACT_COUPON };
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, &dup, NULL), 0);
    {
        uint64_t removed = 0;
        CHECK_EQ_INT(contactstore_prune(s, T0 - 365 * 24 * H, &removed), 0);
        CHECK_EQ_INT(removed, 2); /* the row and its id */
        count = 0;
        CHECK_EQ_INT(contactstore_scan(s, "bob", count_contact, &count), 0);
        CHECK_EQ_INT(count, 1);
    }
}

typedef struct erase_ctx {
    custdata_owner_t owners[2];
    const char *customer_id;
    custdata_erased_t out;
} erase_ctx_t;

static int erase_both(store_tx_t *tx, void *ctx)
{
    erase_ctx_t *e = ctx;
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = e->owners[i].erase(NULL, tx, e->customer_id, &e->out);
    return rc;
}

static int count_rows(void *sink, custdata_kind_t kind, const void *row)
{
    int *counts = sink;
    (void)row;
    counts[kind]++;
    return 0;
}

static void test_erase_export(store_t *s)
{
    erase_ctx_t e = { { consentstore_custdata_owner(), contactstore_custdata_owner() },
                      "ann", { 0 } };
    contactstore_contact_t c = { "ann-1", T0, T0, CONSENT_PUSH, CONTACT_COUPON };
    int counts[16] = { 0 }, found = 1, dup = 0;
    consent_t got;
    trail_t t = { 0 };

    CHECK_EQ_INT(contactstore_record(s, "ann", &c, &dup, NULL), 0);
    CHECK_EQ_INT(e.owners[0].export_rows(NULL, s, "ann", count_rows, counts), 0);
    CHECK_EQ_INT(e.owners[1].export_rows(NULL, s, "ann", count_rows, counts), 0);
    CHECK_EQ_INT(counts[CUSTDATA_CONSENT], 1);
    CHECK_EQ_INT(counts[CUSTDATA_CONSENT_CHANGE], 4);
    CHECK_EQ_INT(counts[CUSTDATA_CONTACT], 1);
    CHECK_EQ_INT(store_table_atomic(s, erase_both, &e), 0);
    CHECK_EQ_INT(e.out.rows, 1 + 4 + 1);
    CHECK_EQ_INT(consentstore_get(s, "ann", &got, &found), 0);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(consentstore_scan_changes(s, "ann", keep_change, &t), 0);
    CHECK_EQ_INT(t.n, 0);
    /* the message id is free again, and anna was not touched */
    CHECK_EQ_INT(contactstore_record(s, "bob", &c, &dup, NULL), 0);
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(consentstore_get(s, "anna", &got, &found), 0);
    CHECK_EQ_INT(found, 1);
}

static void test_settings_file(void)
{
    char path[600];
    char err[512];
    profile_config_t cfg;
    FILE *f;

    snprintf(path, sizeof path, "%s/profiles.conf", test_tmpdir("consent-file"));
    f = fopen(path, "w");
    fputs("recent_days = 20\ncontact.email.per_day = 1\ncontact.time_zone = Europe/Berlin\n"
          "consent.default = withdrawn   # explicit opt-in\n"
          "contact.priority = coupon > trigger > recommendation\n", f);
    fclose(f);
    CHECK_EQ_INT(profile_config_load(path, &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.contact.per_day[CONSENT_EMAIL], 1);
    CHECK_STREQ(cfg.contact.time_zone, "Europe/Berlin");
    CHECK_EQ_INT(cfg.contact.consent_default, CONSENT_WITHDRAWN);
    CHECK_EQ_INT(cfg.contact.rank[CONTACT_COUPON], 0);
    f = fopen(path, "w");
    fputs("recent_days = 20\ncontact.time_zone = Mars/Base\n", f);
    fclose(f);
    CHECK_EQ_INT(profile_config_load(path, &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, ":2: contact.time_zone: no such time zone") != NULL);
    f = fopen(path, "w");
    fputs("\ncontact.sms.per_week = -3\n", f);
    fclose(f);
    CHECK_EQ_INT(profile_config_load(path, &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, ":2: contact.sms.per_week: expected a count") != NULL);
}

int main(void)
{
    store_t *s = NULL;
    tz_cache_t *zones = tz_cache_new(NULL);

    CHECK_EQ_INT(store_open(test_tmpdir("consent"), 64u << 20, &s), 0);
    if (!s || !zones)
        return 1;
    test_apply();
    test_store(s);
    test_contacts(s, zones);
    test_erase_export(s);
    test_settings_file();
    tz_cache_free(zones);
    store_close(s);
    TEST_MAIN_END();
}
