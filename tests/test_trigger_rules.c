/*
 * test_trigger_rules.c - which trigger rules fire for a customer at a given
 * time, with the exact moment and dedup key of each (trigger_rules.h), and
 * the rule lines of the settings file (trigger_def.h, profile_file.h).
 */
#include <errno.h>

#include "civil.h"
#include "profile_file.h"
#include "trigger_rules.h"
#include "testutil.h"

#define H 3600000LL
#define D CIVIL_DAY_MS
#define T0 1764547200000LL /* 2025-12-01T00:00:00Z */

static store_event_rec_t ev(uint8_t type, uint32_t item, int64_t t)
{
    store_event_rec_t e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.item = item;
    e.time_ms = t;
    e.quantity = 1;
    e.unit_price = 50;
    return e;
}

static void add_rule(profile_config_t *cfg, const char *line)
{
    const char *why = trigger_rule_parse(&cfg->triggers, line);
    if (why)
        fprintf(stderr, "rule %s: %s\n", line, why);
    CHECK(why == NULL);
}

/* Evaluates events ev[0..n) (and attrs, prev) at now; returns the count. */
static size_t eval(const profile_config_t *cfg, const store_event_rec_t *e, size_t n,
                   const store_attrs_t *attrs, trigger_state_t prev,
                   trigger_drop_fn drop, int64_t now, trigger_fire_t *out,
                   trigger_state_t *next)
{
    profile_t p;
    trigger_input_t in;
    size_t k = 0;
    CHECK_EQ_INT(profile_compute(e, n, NULL, cfg, now, &p), 0);
    in = (trigger_input_t){ e, n, &p, attrs, prev, drop, NULL, now, NULL, 0 };
    CHECK_EQ_INT(trigger_evaluate(cfg, &in, out, TRIGGER_MAX_FIRES, &k, next), 0);
    return k;
}

static void test_cart_abandoned(void)
{
    profile_config_t cfg;
    trigger_fire_t f[TRIGGER_MAX_FIRES];
    trigger_state_t st0 = { 0, 0 }, next;
    store_event_rec_t e[4];

    profile_config_default(&cfg);
    add_rule(&cfg, "cart4h cart_abandoned 4h");
    e[0] = ev(STORE_EVENT_VIEW, 7, T0);
    e[1] = ev(STORE_EVENT_CART, 7, T0 + 10 * 60000);
    e[2] = ev(STORE_EVENT_CART, 9, T0 + H);
    /* Not yet: 4 hours after the LAST cart, to the millisecond. */
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 + 5 * H - 1, f, &next), 0);
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 + 5 * H, f, &next), 1);
    CHECK(f[0].time_ms == T0 + 5 * H);
    CHECK_EQ_INT(f[0].rule, 0);
    /* Keyed by the cart's first time: a later evaluation has the same key. */
    CHECK_STREQ(f[0].key, "1764547800000");
    CHECK_EQ_INT(f[0].n_items, 2);
    CHECK_EQ_INT(f[0].items[0], 9); /* newest first */
    CHECK_EQ_INT(f[0].items[1], 7);
    CHECK(strstr(f[0].reason, "4 hours") != NULL);
    /* Bought afterwards: no cart left, nothing fires. */
    e[3] = ev(STORE_EVENT_PURCHASE, 9, T0 + 2 * H);
    CHECK_EQ_INT(eval(&cfg, e, 4, NULL, st0, NULL, T0 + 10 * H, f, &next), 0);
    /* A purchase BEFORE the carts does not close them. */
    e[0] = ev(STORE_EVENT_PURCHASE, 3, T0 - D);
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 + 10 * H, f, &next), 1);
    /* Older than the horizon (7 days by default): stale, never fires. */
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 + 5 * H + 7 * D + 1, f, &next), 0);
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 + 5 * H + 7 * D, f, &next), 1);
    /* Events after now are not seen. */
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 - 1, f, &next), 0);
}

static void test_stages(void)
{
    profile_config_t cfg;
    trigger_fire_t f[TRIGGER_MAX_FIRES];
    trigger_state_t st0 = { 0, 0 }, next;
    store_event_rec_t e[4];
    size_t n;

    profile_config_default(&cfg);
    add_rule(&cfg, "risk at_risk");
    add_rule(&cfg, "gone lapsed");
    add_rule(&cfg, "back won_back");
    cfg.triggers.horizon_days = 3650;
    /* Orders every 10 days: rhythm 10, at_risk after 15 idle days, lapsed
     * after 30. */
    e[0] = ev(STORE_EVENT_PURCHASE, 1, T0);
    e[1] = ev(STORE_EVENT_PURCHASE, 1, T0 + 10 * D);
    e[2] = ev(STORE_EVENT_PURCHASE, 1, T0 + 20 * D);
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, NULL, T0 + 35 * D, f, &next), 0);
    n = eval(&cfg, e, 3, NULL, st0, NULL, T0 + 36 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(f[0].rule, 0);
    CHECK(f[0].time_ms == T0 + 35 * D); /* 20 + 10 x 1.5 */
    CHECK_STREQ(f[0].key, "1766275200000"); /* the last order: once per silence */
    n = eval(&cfg, e, 3, NULL, st0, NULL, T0 + 51 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(f[0].rule, 1);
    CHECK(f[0].time_ms == T0 + 50 * D); /* 20 + 10 x 3 */
    /* The comeback order after the lapse: won back at that order. */
    e[3] = ev(STORE_EVENT_PURCHASE, 1, T0 + 60 * D);
    n = eval(&cfg, e, 4, NULL, st0, NULL, T0 + 61 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(f[0].rule, 2);
    CHECK(f[0].time_ms == T0 + 60 * D);
    /* A one-order customer is NEW for new_days before at_risk can apply. */
    CHECK_EQ_INT(eval(&cfg, e, 1, NULL, st0, NULL, T0 + 44 * D, f, &next), 0);
    n = eval(&cfg, e, 1, NULL, st0, NULL, T0 + 46 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK(f[0].time_ms == T0 + 45 * D); /* default rhythm 30 x 1.5 */
}

static void test_tiers_and_first(void)
{
    profile_config_t cfg;
    trigger_fire_t f[TRIGGER_MAX_FIRES];
    trigger_state_t st0 = { 0, 0 }, next, bronze = { 1, 0 };
    store_event_rec_t e[3];
    size_t n;

    profile_config_default(&cfg);
    add_rule(&cfg, "up tier_up");
    add_rule(&cfg, "down tier_down");
    add_rule(&cfg, "hello first_purchase");
    e[0] = ev(STORE_EVENT_PURCHASE, 1, T0);
    e[0].unit_price = 200;
    e[1] = ev(STORE_EVENT_PURCHASE, 2, T0 + D);
    e[1].unit_price = 200; /* 400 over 2 orders: silver */
    /* First evaluation: a baseline, no tier firing; first purchase fires at
     * the first order. */
    n = eval(&cfg, e, 2, NULL, st0, NULL, T0 + 2 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(f[0].rule, 2);
    CHECK(f[0].time_ms == T0);
    CHECK_STREQ(f[0].key, "1");
    CHECK(next.known && next.tier == 1);
    /* Seen at bronze before: tier up now, at now. */
    n = eval(&cfg, e, 2, NULL, bronze, NULL, T0 + 2 * D, f, &next);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(f[0].rule, 0);
    CHECK(f[0].time_ms == T0 + 2 * D);
    CHECK(strstr(f[0].reason, "bronze to silver") != NULL);
    /* Seen at gold: tier down. */
    n = eval(&cfg, e, 2, NULL, (trigger_state_t){ 1, 2 }, NULL, T0 + 2 * D, f, &next);
    CHECK_EQ_INT(f[0].rule, 1);
    CHECK(n == 2);
}

static void test_birthday_anniversary(void)
{
    profile_config_t cfg;
    trigger_fire_t f[TRIGGER_MAX_FIRES];
    trigger_state_t st0 = { 0, 0 }, next;
    store_attrs_t a;
    size_t n;

    profile_config_default(&cfg);
    add_rule(&cfg, "bday birthday 7");
    add_rule(&cfg, "anniv anniversary 0");
    memset(&a, 0, sizeof a);
    a.birth_month = 12;
    a.birth_day = 20;
    /* 2025-12-13 00:00 is 7 days before: not a millisecond earlier. */
    CHECK_EQ_INT(eval(&cfg, NULL, 0, &a, st0, NULL, T0 + 12 * D - 1, f, &next), 0);
    n = eval(&cfg, NULL, 0, &a, st0, NULL, T0 + 12 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK(f[0].time_ms == T0 + 12 * D);
    CHECK_STREQ(f[0].key, "2025");
    CHECK(strstr(f[0].reason, "2025-12-20") != NULL);
    /* On the day itself still; the day after, next year's is 358 days off. */
    CHECK_EQ_INT(eval(&cfg, NULL, 0, &a, st0, NULL, T0 + 19 * D + H, f, &next), 1);
    CHECK_EQ_INT(eval(&cfg, NULL, 0, &a, st0, NULL, T0 + 20 * D, f, &next), 0);
    /* 29 February is the 28th in 2026. */
    a.birth_month = 2;
    a.birth_day = 29;
    n = eval(&cfg, NULL, 0, &a, st0, NULL, civil_to_days(2026, 2, 22) * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK(f[0].time_ms == civil_to_days(2026, 2, 21) * D);
    /* Anniversary: from the first one on, on the day (0 days ahead). */
    memset(&a, 0, sizeof a);
    a.signup_ms = civil_to_days(2024, 12, 5) * D + 15 * H;
    CHECK_EQ_INT(eval(&cfg, NULL, 0, &a, st0, NULL, civil_to_days(2024, 12, 5) * D + 16 * H,
                      f, &next), 0);
    n = eval(&cfg, NULL, 0, &a, st0, NULL, civil_to_days(2025, 12, 5) * D + 1, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(f[0].rule, 1);
    CHECK(f[0].time_ms == civil_to_days(2025, 12, 5) * D);
}

static int drop_of_item_5(void *ctx, uint32_t item, trigger_price_drop_t *out)
{
    (void)ctx;
    if (item != 5)
        return 0;
    *out = (trigger_price_drop_t){ T0 + 2 * D, 80, 60 };
    return 1;
}

static void test_price_drop(void)
{
    profile_config_t cfg;
    trigger_fire_t f[TRIGGER_MAX_FIRES];
    trigger_state_t st0 = { 0, 0 }, next;
    store_event_rec_t e[3];
    size_t n;

    profile_config_default(&cfg);
    add_rule(&cfg, "cheaper price_drop 14");
    e[0] = ev(STORE_EVENT_VIEW, 5, T0);
    e[1] = ev(STORE_EVENT_VIEW, 6, T0 + H);
    n = eval(&cfg, e, 2, NULL, st0, drop_of_item_5, T0 + 3 * D, f, &next);
    CHECK_EQ_INT(n, 1);
    CHECK(f[0].time_ms == T0 + 2 * D);
    CHECK_EQ_INT(f[0].n_items, 1);
    CHECK_EQ_INT(f[0].items[0], 5);
    CHECK_STREQ(f[0].key, "5@1764720000000");
    CHECK(strstr(f[0].reason, "80.00 to 60.00") != NULL);
    /* Before the drop: nothing. Viewed only after it: nothing. Bought: nothing. */
    CHECK_EQ_INT(eval(&cfg, e, 2, NULL, st0, drop_of_item_5, T0 + D, f, &next), 0);
    e[2] = ev(STORE_EVENT_PURCHASE, 5, T0 + D);
    CHECK_EQ_INT(eval(&cfg, e, 3, NULL, st0, drop_of_item_5, T0 + 3 * D, f, &next), 0);
    e[0] = ev(STORE_EVENT_VIEW, 5, T0 + 2 * D + 1);
    CHECK_EQ_INT(eval(&cfg, e, 2, NULL, st0, drop_of_item_5, T0 + 3 * D, f, &next), 0);
    /* A view outside the look-back does not count. */
    e[0] = ev(STORE_EVENT_VIEW, 5, T0);
    CHECK_EQ_INT(eval(&cfg, e, 1, NULL, st0, drop_of_item_5, T0 + 14 * D + 1, f, &next), 0);
}

/* points_expiring on a list of coming expiries: the moment is the expiry
 * less the look-ahead (or the bucket's vesting, if later), points expiring
 * at one instant fire once, and nothing fires outside the look-ahead. */
static void test_points_expiring(void)
{
    profile_config_t cfg;
    trigger_fire_t f[TRIGGER_MAX_FIRES];
    trigger_state_t st0 = { 0, 0 }, next;
    profile_t p;
    trigger_input_t in;
    size_t n = 0;
    const int64_t now = T0 + 100 * D;
    trigger_expiry_t x[4] = {
        { now + 10 * D, 40, T0 },            /* due since now - 20 days */
        { now + 10 * D, 2, T0 + D },         /* same instant: one firing, 42 */
        { now + 25 * D, 7, now - 2 * D },    /* vested after expiry - 30 days */
        { now + 31 * D, 9, T0 },             /* beyond the look-ahead */
    };

    profile_config_default(&cfg);
    cfg.triggers.horizon_days = 30;
    add_rule(&cfg, "pts points_expiring 30");
    CHECK_EQ_INT(cfg.triggers.rules[0].arg_ms, 30 * D);
    CHECK_EQ_INT(profile_compute(NULL, 0, NULL, &cfg, now, &p), 0);
    in = (trigger_input_t){ NULL, 0, &p, NULL, st0, NULL, NULL, now, x, 4 };
    CHECK_EQ_INT(trigger_evaluate(&cfg, &in, f, TRIGGER_MAX_FIRES, &n, &next), 0);
    CHECK_EQ_INT(n, 2);
    CHECK(f[0].time_ms == now - 20 * D);
    CHECK(strstr(f[0].reason, "42 points expire on 2026-03-21") != NULL);
    CHECK(f[1].time_ms == now - 2 * D);
    CHECK(strstr(f[1].reason, "7 points expire") != NULL);
    {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)(now + 10 * D));
        CHECK_STREQ(f[0].key, key);
    }
    /* Still news until the expiry itself: a horizon of 7 days keeps both. */
    cfg.triggers.horizon_days = 7;
    CHECK_EQ_INT(trigger_evaluate(&cfg, &in, f, TRIGGER_MAX_FIRES, &n, &next), 0);
    CHECK_EQ_INT(n, 2);
    in.n_expiries = 0;
    CHECK_EQ_INT(trigger_evaluate(&cfg, &in, f, TRIGGER_MAX_FIRES, &n, &next), 0);
    CHECK_EQ_INT(n, 0);
    in.n_expiries = 1;
    in.expiries = NULL;
    CHECK_EQ_INT(trigger_evaluate(&cfg, &in, f, TRIGGER_MAX_FIRES, &n, &next), -EINVAL);
    /* The argument is required and bounded. */
    CHECK(trigger_rule_parse(&cfg.triggers, "p2 points_expiring") != NULL);
    CHECK(trigger_rule_parse(&cfg.triggers, "p3 points_expiring 400") != NULL);
}

static void test_settings_file(void)
{
    char dir[600], err[512];
    profile_config_t cfg;

    snprintf(dir, sizeof dir, "%s", test_tmpdir("trigger-rules"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "ok.conf",
        "trigger = cart cart_abandoned 90m\n"
        "trigger = risk at_risk   # comment\n"
        "trigger = bday birthday 3\n"
        "trigger_scan_seconds = 5\n"
        "trigger_recommend_k = 2\n"), &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.triggers.n_rules, 3);
    CHECK(cfg.triggers.rules[0].kind == TRIGGER_CART_ABANDONED &&
          cfg.triggers.rules[0].arg_ms == 90 * 60000);
    CHECK(cfg.triggers.rules[2].arg_ms == 3 * D);
    CHECK(cfg.triggers.scan_seconds == 5 && cfg.triggers.recommend_k == 2);
    CHECK(cfg.triggers.horizon_days == 7);

    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad1.conf",
        "new_days = 30\ntrigger = x cart_forgotten 4h\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "bad1.conf:2:") && strstr(err, "unknown kind"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad2.conf",
        "\ntrigger = pts points_expiring 0\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, ":2:") && strstr(err, "points_expiring needs the days ahead"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad3.conf",
        "trigger = c cart_abandoned\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "needs a wait") != NULL);
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad4.conf",
        "trigger = c cart_abandoned 4x\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad5.conf",
        "trigger = a at_risk\ntrigger = a lapsed\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, ":2:") && strstr(err, "defined already"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad6.conf",
        "trigger = a at_risk 3\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "no argument") != NULL);
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad7.conf",
        "trigger_scan_seconds = 0\n"), &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "trigger_scan_seconds") != NULL);
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad8.conf",
        "trigger = b birthday 61\n"), &cfg, err, sizeof err), -EINVAL);
}

int main(void)
{
    test_cart_abandoned();
    test_stages();
    test_tiers_and_first();
    test_birthday_anniversary();
    test_price_drop();
    test_points_expiring();
    test_settings_file();
    TEST_MAIN_END();
}
