/*
 * test_contact.c - the contact policy (recsys/customers/contact.c) with
 * exact arithmetic: caps per channel per day and week, the global caps,
 * the minimum gap, quiet hours in several zones (across both DST changes
 * of Europe/Berlin, wrapping midnight), priority reserves and consent; the
 * settings lines; and the time zone reader it stands on (base/tz.c).
 * Expected instants were computed independently (Python's zoneinfo).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "contact.h"
#include "testutil.h"
#include "tz.h"

#define H (3600 * 1000LL)
#define MIN (60 * 1000LL)
#define D (24 * H)
#define T0 1773144000000LL   /* 2026-03-10T12:00:00Z, a Tuesday */

static tz_t *berlin, *new_york, *sydney;

/* A policy with nothing but what a test sets: no caps, no gap, no quiet
 * hours, consent granted. */
static void bare(contact_config_t *cfg)
{
    contact_config_default(cfg);
    for (int c = 0; c < CONSENT_N_CHANNELS; c++)
        cfg->per_day[c] = cfg->per_week[c] = CONTACT_UNLIMITED;
    cfg->global_day = cfg->global_week = CONTACT_UNLIMITED;
    cfg->min_gap_minutes = 0;
    cfg->quiet = 0;
}

static contact_decision_t decide(const contact_config_t *cfg, const consent_t *c,
                                 const tz_t *z, const contact_sent_t *sent, size_t n,
                                 int channel, int kind, int64_t now)
{
    contact_request_t r = { cfg, c, z, sent, n, channel, kind, now };
    contact_decision_t d;
    memset(&d, 0xab, sizeof d);
    CHECK_EQ_INT(contact_decide(&r, &d), 0);
    return d;
}

static void test_channel_day_cap(void)
{
    contact_config_t cfg;
    contact_sent_t sent[] = {
        { T0 - 20 * H, CONSENT_SMS, CONTACT_TRIGGER },
        { T0 - 10 * H, CONSENT_SMS, CONTACT_COUPON },
        { T0 - 2 * H, CONSENT_EMAIL, CONTACT_COUPON }, /* another channel */
    };
    contact_decision_t d;

    bare(&cfg);
    cfg.per_day[CONSENT_SMS] = 2;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_CHANNEL_DAY_CAP);
    CHECK_EQ_INT(d.used_day, 2);
    CHECK_EQ_INT(d.limit_day, 2);
    CHECK_EQ_INT(d.next_allowed_ms, T0 + 4 * H); /* the older one leaves the 24 h */
    /* the email channel is not capped */
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_EMAIL, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 1);
    CHECK_EQ_INT(d.next_allowed_ms, T0);
    /* exactly 24 h old no longer counts; 1 ms younger still does */
    sent[0].time_ms = T0 - D;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 1);
    CHECK_EQ_INT(d.used_day, 1);
    sent[0].time_ms = T0 - D + 1;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.next_allowed_ms, T0 + 1);
    /* a cap of 0: never */
    cfg.per_day[CONSENT_SMS] = 0;
    d = decide(&cfg, NULL, NULL, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.next_allowed_ms, 0);
    /* contacts later than now are not counted (a check as of the past) */
    cfg.per_day[CONSENT_SMS] = 1;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0 - 15 * H);
    CHECK_EQ_INT(d.used_day, 1);
    CHECK_EQ_INT(d.next_allowed_ms, T0 - D + 1 + D);
}

static void test_channel_week_cap(void)
{
    contact_config_t cfg;
    contact_sent_t sent[] = {
        { T0 - 6 * D, CONSENT_EMAIL, CONTACT_COUPON },
        { T0 - 5 * D, CONSENT_EMAIL, CONTACT_COUPON },
        { T0 - 3 * D, CONSENT_EMAIL, CONTACT_TRIGGER },
        { T0 - 1 * D - H, CONSENT_EMAIL, CONTACT_RECOMMENDATION },
        { T0 - 8 * D, CONSENT_EMAIL, CONTACT_RECOMMENDATION }, /* outside */
    };
    contact_decision_t d;

    bare(&cfg);
    cfg.per_week[CONSENT_EMAIL] = 3;
    d = decide(&cfg, NULL, NULL, sent, 5, CONSENT_EMAIL, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_CHANNEL_WEEK_CAP);
    CHECK_EQ_INT(d.used_week, 4);
    /* 4 used, 3 allowed: the two oldest must leave; the second at +2 days */
    CHECK_EQ_INT(d.next_allowed_ms, T0 - 5 * D + 7 * D);
    cfg.per_week[CONSENT_EMAIL] = 5;
    d = decide(&cfg, NULL, NULL, sent, 5, CONSENT_EMAIL, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 1);
}

static void test_global_caps(void)
{
    contact_config_t cfg;
    contact_sent_t sent[] = {
        { T0 - 23 * H, CONSENT_EMAIL, CONTACT_COUPON },
        { T0 - 5 * H, CONSENT_PUSH, CONTACT_TRIGGER },
        { T0 - 4 * D, CONSENT_IN_APP, CONTACT_TRIGGER },
    };
    contact_decision_t d;

    bare(&cfg);
    cfg.global_day = 2;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_GLOBAL_DAY_CAP);
    CHECK_EQ_INT(d.used_day, 0); /* none on sms itself */
    CHECK_EQ_INT(d.next_allowed_ms, T0 + H);
    cfg.global_day = CONTACT_UNLIMITED;
    cfg.global_week = 3;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.verdict, CONTACT_GLOBAL_WEEK_CAP);
    CHECK_EQ_INT(d.next_allowed_ms, T0 - 4 * D + 7 * D);
    /* both: the later of the two */
    cfg.global_day = 2;
    d = decide(&cfg, NULL, NULL, sent, 3, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.verdict, CONTACT_GLOBAL_DAY_CAP);
    CHECK_EQ_INT(d.next_allowed_ms, T0 + 3 * D);
}

static void test_min_gap(void)
{
    contact_config_t cfg;
    contact_sent_t sent[] = {
        { T0 - 30 * MIN, CONSENT_PUSH, CONTACT_TRIGGER },
        { T0 - 3 * H, CONSENT_EMAIL, CONTACT_TRIGGER },
    };
    contact_decision_t d;

    bare(&cfg);
    cfg.min_gap_minutes = 120;
    d = decide(&cfg, NULL, NULL, sent, 2, CONSENT_EMAIL, CONTACT_COUPON, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_MIN_GAP);
    CHECK_EQ_INT(d.next_allowed_ms, T0 + 90 * MIN);
    /* exactly the gap later: allowed */
    d = decide(&cfg, NULL, NULL, sent, 2, CONSENT_EMAIL, CONTACT_COUPON, T0 + 90 * MIN);
    CHECK_EQ_INT(d.allowed, 1);
    d = decide(&cfg, NULL, NULL, sent, 2, CONSENT_EMAIL, CONTACT_COUPON, T0 + 90 * MIN - 1);
    CHECK_EQ_INT(d.allowed, 0);
}

static void test_quiet_hours_zones(void)
{
    contact_config_t cfg;
    contact_decision_t d;
    const int64_t t = 1773178200000LL; /* 2026-03-10T21:30Z: 22:30 in Berlin (CET),
                                          17:30 in New York (EDT since Mar 8) */
    bare(&cfg);
    cfg.quiet = 1;
    cfg.quiet_start = 21 * 60;
    cfg.quiet_end = 9 * 60;
    cfg.quiet_channels[CONSENT_SMS] = 1;
    cfg.quiet_channels[CONSENT_EMAIL] = 0;
    d = decide(&cfg, NULL, berlin, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_QUIET_HOURS);
    CHECK_EQ_INT(d.next_allowed_ms, 1773216000000LL); /* 09:00 CET = 08:00Z */
    d = decide(&cfg, NULL, new_york, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t);
    CHECK_EQ_INT(d.allowed, 1);
    d = decide(&cfg, NULL, NULL, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t); /* UTC 21:30 */
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.next_allowed_ms, T0 + D - 3 * H); /* 09:00Z the next day */
    /* email is not a quiet-hours channel here */
    d = decide(&cfg, NULL, berlin, NULL, 0, CONSENT_EMAIL, CONTACT_TRIGGER, t);
    CHECK_EQ_INT(d.allowed, 1);
    /* the customer's own quiet hours win; "off" disables them */
    {
        consent_t c;
        consent_init(&c);
        c.quiet_mode = CONSENT_QUIET_CUSTOM;
        c.quiet_start = 23 * 60;
        c.quiet_end = 6 * 60;
        d = decide(&cfg, &c, berlin, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t);
        CHECK_EQ_INT(d.allowed, 1); /* 22:30 < 23:00 */
        d = decide(&cfg, &c, berlin, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t + H);
        CHECK_EQ_INT(d.allowed, 0);
        CHECK_EQ_INT(d.next_allowed_ms, 1773216000000LL - 3 * H); /* 06:00 CET */
        c.quiet_mode = CONSENT_QUIET_OFF;
        d = decide(&cfg, &c, berlin, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t + H);
        CHECK_EQ_INT(d.allowed, 1);
    }
    /* Sydney, UTC+11 in March: 21:30Z is 08:30 local, quiet till 09:00 */
    d = decide(&cfg, NULL, sydney, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, t);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.next_allowed_ms, t + 30 * MIN);
}

static void test_quiet_wrap_and_dst(void)
{
    /* wrapping midnight: 21:00-09:00 in UTC */
    CHECK_EQ_INT(contact_in_quiet(NULL, 21 * 60, 9 * 60, T0 + 11 * H), 1);     /* 23:00 */
    CHECK_EQ_INT(contact_in_quiet(NULL, 21 * 60, 9 * 60, T0 + 21 * H - 1), 1); /* 08:59:59.999 */
    CHECK_EQ_INT(contact_in_quiet(NULL, 21 * 60, 9 * 60, T0 + 21 * H), 0);     /* 09:00 */
    CHECK_EQ_INT(contact_in_quiet(NULL, 21 * 60, 9 * 60, T0 + 9 * H - 1), 0);  /* 20:59:59.999 */
    CHECK_EQ_INT(contact_in_quiet(NULL, 21 * 60, 9 * 60, T0 + 9 * H), 1);      /* 21:00 */
    /* not wrapping: 13:00-14:00 */
    CHECK_EQ_INT(contact_in_quiet(NULL, 13 * 60, 14 * 60, T0 + H), 1);
    CHECK_EQ_INT(contact_in_quiet(NULL, 13 * 60, 14 * 60, T0 + 2 * H), 0);
    CHECK_EQ_INT(contact_quiet_end(NULL, 13 * 60, 14 * 60, T0 + H + 5 * MIN), T0 + 2 * H);
    CHECK_EQ_INT(contact_quiet_end(NULL, 13 * 60, 14 * 60, T0), T0); /* not quiet */

    /* Berlin springs forward on 2026-03-29 at 01:00Z (02:00 CET -> 03:00
     * CEST). Quiet 21:00-09:00 from 23:00 CET on the 28th ends at 09:00
     * CEST = 07:00Z, not 08:00Z. */
    CHECK_EQ_INT(contact_quiet_end(berlin, 21 * 60, 9 * 60, 1774735200000LL),
                 1774767600000LL);
    /* Quiet 22:00-02:30: 02:30 never happens that night; quiet ends when
     * the clock jumps to 03:00, at 01:00Z. */
    CHECK_EQ_INT(contact_in_quiet(berlin, 22 * 60, 2 * 60 + 30, 1774738800000LL), 1);
    CHECK_EQ_INT(contact_quiet_end(berlin, 22 * 60, 2 * 60 + 30, 1774738800000LL),
                 1774746000000LL);
    /* Falls back on 2026-10-25 at 01:00Z (03:00 CEST -> 02:00 CET): quiet
     * 22:00-07:00 from 23:00 CEST on the 24th ends at 07:00 CET = 06:00Z,
     * an hour longer than a plain night. */
    CHECK_EQ_INT(contact_quiet_end(berlin, 22 * 60, 7 * 60, 1792875600000LL),
                 1792908000000LL);
    /* the policy applies it: a cap freeing at 00:30Z on the 29th (01:30
     * CET, quiet) lets the message go at 07:00Z */
    {
        contact_config_t cfg;
        contact_sent_t sent[] = { { 0, CONSENT_PUSH, CONTACT_COUPON } };
        contact_decision_t d;
        bare(&cfg);
        cfg.per_day[CONSENT_PUSH] = 1;
        cfg.quiet = 1;
        cfg.quiet_start = 21 * 60;
        cfg.quiet_end = 9 * 60;
        cfg.quiet_channels[CONSENT_PUSH] = 1;
        sent[0].time_ms = 1774746000000LL - 30 * MIN - D; /* leaves at 00:30Z */
        d = decide(&cfg, NULL, berlin, sent, 1, CONSENT_PUSH, CONTACT_COUPON,
                   1774735200000LL);
        CHECK_EQ_INT(d.allowed, 0);
        CHECK_EQ_INT(d.verdict, CONTACT_CHANNEL_DAY_CAP);
        CHECK_EQ_INT(d.next_allowed_ms, 1774767600000LL);
    }
}

static void test_priority_reserve(void)
{
    contact_config_t cfg;
    contact_sent_t sent[] = { { T0 - 2 * H, CONSENT_EMAIL, CONTACT_TRIGGER } };
    contact_decision_t d;

    bare(&cfg);
    cfg.per_day[CONSENT_EMAIL] = 3;
    cfg.reserve = 1; /* trigger may use 3, coupon 2, recommendation 1 */
    d = decide(&cfg, NULL, NULL, sent, 1, CONSENT_EMAIL, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 1);
    CHECK_EQ_INT(d.limit_day, 3);
    d = decide(&cfg, NULL, NULL, sent, 1, CONSENT_EMAIL, CONTACT_COUPON, T0);
    CHECK_EQ_INT(d.allowed, 1);
    CHECK_EQ_INT(d.limit_day, 2);
    d = decide(&cfg, NULL, NULL, sent, 1, CONSENT_EMAIL, CONTACT_RECOMMENDATION, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_CHANNEL_DAY_CAP);
    CHECK_EQ_INT(d.limit_day, 1);
    CHECK_EQ_INT(d.next_allowed_ms, T0 + 22 * H);
    /* a cap of 2 leaves the lowest rank nothing: never */
    cfg.per_day[CONSENT_EMAIL] = 2;
    d = decide(&cfg, NULL, NULL, NULL, 0, CONSENT_EMAIL, CONTACT_RECOMMENDATION, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.next_allowed_ms, 0);
    /* reordered: recommendations first */
    CHECK(contact_config_set(&cfg, "contact.priority", "recommendation coupon trigger") ==
          NULL);
    d = decide(&cfg, NULL, NULL, sent, 1, CONSENT_EMAIL, CONTACT_RECOMMENDATION, T0);
    CHECK_EQ_INT(d.allowed, 1);
    d = decide(&cfg, NULL, NULL, sent, 1, CONSENT_EMAIL, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.next_allowed_ms, 0);
    /* the global caps carry the reserve too */
    bare(&cfg);
    cfg.global_week = 2;
    cfg.reserve = 1;
    d = decide(&cfg, NULL, NULL, sent, 1, CONSENT_SMS, CONTACT_COUPON, T0);
    CHECK_EQ_INT(d.verdict, CONTACT_GLOBAL_WEEK_CAP);
    CHECK_EQ_INT(d.next_allowed_ms, T0 - 2 * H + 7 * D);
}

static void test_consent(void)
{
    contact_config_t cfg;
    contact_decision_t d;
    consent_t c;

    bare(&cfg);
    consent_init(&c);
    c.purpose[CONSENT_MARKETING] = CONSENT_WITHDRAWN;
    d = decide(&cfg, &c, NULL, NULL, 0, CONSENT_EMAIL, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 0);
    CHECK_EQ_INT(d.verdict, CONTACT_NO_MARKETING_CONSENT);
    CHECK_EQ_INT(d.next_allowed_ms, 0);
    c.purpose[CONSENT_MARKETING] = CONSENT_GRANTED;
    c.channel[CONSENT_SMS] = CONSENT_WITHDRAWN;
    d = decide(&cfg, &c, NULL, NULL, 0, CONSENT_SMS, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.verdict, CONTACT_NO_CHANNEL_CONSENT);
    CHECK_EQ_INT(d.next_allowed_ms, 0);
    d = decide(&cfg, &c, NULL, NULL, 0, CONSENT_PUSH, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 1);
    /* explicit opt-in: unset choices are withdrawn */
    cfg.consent_default = CONSENT_WITHDRAWN;
    d = decide(&cfg, &c, NULL, NULL, 0, CONSENT_PUSH, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.verdict, CONTACT_NO_CHANNEL_CONSENT);
    d = decide(&cfg, NULL, NULL, NULL, 0, CONSENT_PUSH, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.verdict, CONTACT_NO_MARKETING_CONSENT);
    c.channel[CONSENT_PUSH] = CONSENT_GRANTED;
    d = decide(&cfg, &c, NULL, NULL, 0, CONSENT_PUSH, CONTACT_TRIGGER, T0);
    CHECK_EQ_INT(d.allowed, 1);
    /* bad requests */
    {
        contact_request_t r = { &cfg, NULL, NULL, NULL, 0, CONSENT_N_CHANNELS, 0, T0 };
        CHECK_EQ_INT(contact_decide(&r, &d), -EINVAL);
        r.channel = 0;
        r.kind = CONTACT_N_KINDS;
        CHECK_EQ_INT(contact_decide(&r, &d), -EINVAL);
        r.kind = 0;
        r.n_sent = 1;
        CHECK_EQ_INT(contact_decide(&r, &d), -EINVAL);
    }
}

static void test_settings(void)
{
    contact_config_t cfg;
    contact_config_default(&cfg);
    CHECK(contact_config_invalid(&cfg) == NULL);
    CHECK_EQ_INT(cfg.per_day[CONSENT_EMAIL], 2);
    CHECK_EQ_INT(cfg.per_week[CONSENT_SMS], 3);
    CHECK_EQ_INT(cfg.per_day[CONSENT_IN_APP], CONTACT_UNLIMITED);
    CHECK(contact_config_set(&cfg, "contact.sms.per_day", "5") == NULL);
    CHECK_EQ_INT(cfg.per_day[CONSENT_SMS], 5);
    CHECK(contact_config_set(&cfg, "contact.in_app.per_week", "none") == NULL);
    CHECK(contact_config_set(&cfg, "contact.global.per_day", "7") == NULL);
    CHECK_EQ_INT(cfg.global_day, 7);
    CHECK(contact_config_set(&cfg, "contact.min_gap_minutes", "90") == NULL);
    CHECK(contact_config_set(&cfg, "contact.quiet_hours", "22:30-07:15") == NULL);
    CHECK_EQ_INT(cfg.quiet_start, 22 * 60 + 30);
    CHECK_EQ_INT(cfg.quiet_end, 7 * 60 + 15);
    CHECK(contact_config_set(&cfg, "contact.quiet_channels", "email push") == NULL);
    CHECK_EQ_INT(cfg.quiet_channels[CONSENT_EMAIL], 1);
    CHECK_EQ_INT(cfg.quiet_channels[CONSENT_SMS], 0);
    CHECK(contact_config_set(&cfg, "contact.time_zone", "Europe/Berlin") == NULL);
    CHECK(contact_config_set(&cfg, "contact.reserve", "1") == NULL);
    CHECK(contact_config_set(&cfg, "consent.default", "withdrawn") == NULL);
    CHECK_EQ_INT(cfg.consent_default, CONSENT_WITHDRAWN);
    CHECK(contact_config_invalid(&cfg) == NULL);
    /* refused */
    CHECK(contact_config_set(&cfg, "contact.sms.per_day", "-1") != NULL);
    CHECK(contact_config_set(&cfg, "contact.sms.per_day", "1000001") != NULL);
    CHECK(contact_config_set(&cfg, "contact.sms.per_day", "99999999999999999999") != NULL);
    CHECK(contact_config_set(&cfg, "contact.sms.per_day", "2.5") != NULL);
    CHECK(contact_config_set(&cfg, "contact.fax.per_day", "1") != NULL);
    CHECK(contact_config_set(&cfg, "contact.sms.per_month", "1") != NULL);
    CHECK(contact_config_set(&cfg, "contact.min_gap_minutes", "525601") != NULL);
    CHECK(contact_config_set(&cfg, "contact.quiet_hours", "22:00-22:00") != NULL);
    CHECK(contact_config_set(&cfg, "contact.quiet_hours", "24:00-07:00") != NULL);
    CHECK(contact_config_set(&cfg, "contact.quiet_channels", "email fax") != NULL);
    CHECK(contact_config_set(&cfg, "contact.time_zone", "../etc/passwd") != NULL);
    CHECK(contact_config_set(&cfg, "contact.priority", "trigger coupon") != NULL);
    CHECK(contact_config_set(&cfg, "contact.priority", "trigger coupon coupon") != NULL);
    CHECK(contact_config_set(&cfg, "consent.default", "maybe") != NULL);
    CHECK(contact_config_set(&cfg, "contact.nonsense", "1") != NULL);
    CHECK_EQ_INT(cfg.per_day[CONSENT_SMS], 5); /* refused lines change nothing */
    CHECK_EQ_INT(cfg.rank[CONTACT_TRIGGER], 0);
}

static void test_tz(void)
{
    tz_t *z = NULL;
    CHECK_EQ_INT(tz_name_valid("Europe/Berlin"), 1);
    CHECK_EQ_INT(tz_name_valid("Etc/GMT+5"), 1);
    CHECK_EQ_INT(tz_name_valid("../etc/passwd"), 0);
    CHECK_EQ_INT(tz_name_valid("/etc/passwd"), 0);
    CHECK_EQ_INT(tz_name_valid("Europe//Berlin"), 0);
    CHECK_EQ_INT(tz_name_valid("Europe/Berlin "), 0);
    CHECK_EQ_INT(tz_name_valid(""), 0);
    CHECK_EQ_INT(tz_load(NULL, "Mars/Olympus_Mons", &z), -ENOENT);
    CHECK_EQ_INT(tz_load(NULL, "Europe", &z), -EINVAL); /* a directory */
    CHECK_EQ_INT(tz_parse("TZif-not-really", 15, &z), -EINVAL);
    /* Berlin: CET +1 in winter, CEST +2 in summer */
    CHECK_EQ_INT(tz_offset(berlin, T0 / 1000), 3600);
    CHECK_EQ_INT(tz_offset(berlin, 1774746000 - 1), 3600);
    CHECK_EQ_INT(tz_offset(berlin, 1774746000), 7200);
    CHECK_EQ_INT(tz_next_change(berlin, T0 / 1000), 1774746000);
    /* beyond the file's table, the footer rule: 2040 */
    CHECK_EQ_INT(tz_offset(berlin, 2224713600), 7200);           /* 2040-07-01 */
    CHECK_EQ_INT(tz_offset(berlin, 2208988800), 3600);           /* 2040-01-01 */
    CHECK_EQ_INT(tz_next_change(berlin, 2208988800), 2216250000); /* 2040-03-25 01:00Z */
    /* southern hemisphere: Sydney leaves DST on 2026-04-04 at 16:00Z */
    CHECK_EQ_INT(tz_offset(sydney, 1772323200), 11 * 3600);
    CHECK_EQ_INT(tz_next_change(sydney, 1772323200), 1775318400);
    CHECK_EQ_INT(tz_offset(sydney, 1775318400), 10 * 3600);
    /* the cache returns one zone per name */
    {
        tz_cache_t *c = tz_cache_new(NULL);
        const tz_t *a = NULL, *b = NULL;
        CHECK(c != NULL);
        CHECK_EQ_INT(tz_cache_get(c, "America/New_York", &a), 0);
        CHECK_EQ_INT(tz_cache_get(c, "America/New_York", &b), 0);
        CHECK(a == b && a != NULL);
        CHECK_EQ_INT(tz_cache_get(c, "Nowhere/Land", &a), -ENOENT);
        CHECK_EQ_INT(tz_cache_get(c, "../x", &a), -EINVAL);
        tz_cache_free(c);
    }
}

int main(void)
{
    CHECK_EQ_INT(tz_load(NULL, "Europe/Berlin", &berlin), 0);
    CHECK_EQ_INT(tz_load(NULL, "America/New_York", &new_york), 0);
    CHECK_EQ_INT(tz_load(NULL, "Australia/Sydney", &sydney), 0);
    if (!berlin || !new_york || !sydney)
        return 1;
    test_tz();
    test_channel_day_cap();
    test_channel_week_cap();
    test_global_caps();
    test_min_gap();
    test_quiet_hours_zones();
    test_quiet_wrap_and_dst();
    test_priority_reserve();
    test_consent();
    test_settings();
    tz_free(berlin);
    tz_free(new_york);
    tz_free(sydney);
    TEST_MAIN_END();
}
