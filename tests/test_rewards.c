/*
 * test_rewards.c - the rewards catalog (points_def.h reward lines,
 * recsys/app/rewards.h): the lines and their errors, exact point and cash
 * arithmetic, and redemptions against a real store: a coupon granted in
 * the same transaction as its points are spent, a retry that answers the
 * same and grants nothing, a campaign without budget that refuses and
 * spends nothing, cash at its rate, a tier held for its days (the
 * profile's tier), and concurrent redemptions that never overdraw. After
 * every operation the balance is the sum of the ledger.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "couponstore.h"
#include "customers.h"
#include "points_store.h"
#include "profile_file.h"
#include "rewards.h"
#include "testcoupon.h"
#include "testutil.h"
#include "tiers.h"

#define DAY CIVIL_DAY_MS
#define NOW (civil_to_days(2026, 6, 15) * DAY + 12 * 3600000LL)
#define N_THREADS 8

static const char *SETTINGS =
    "tier = basic 0 0 0\n"
    "tier = gold 5000 50 0\n"
    "tier_window_days = 30\n"
    "tier_grace_days = 10\n"
    "points_rule = visit check_in points 100\n"
    "reward = gift coupon gift5 cost 300\n"
    "reward = broke coupon poor5 cost 100\n"
    "reward = nocoupon coupon missing cost 100\n"
    "reward = cash cash rate 0.01 min 200 step 100\n"
    "reward = goldpass tier gold cost 400 days 30\n"
    "reward = goldwin tier gold cost 50\n";

static void load(profile_config_t *cfg, const char *text, char *err, size_t cap, int *rc)
{
    const char *path = test_write_file(test_tmpdir("rewards-conf"), "r.conf", text);
    *rc = profile_config_load(path, cfg, err, cap);
}

/* The file's reward lines, defaults and what is wrong with bad ones. */
static void test_reward_lines(void)
{
    static profile_config_t cfg;
    char err[512];
    int rc;
    const points_reward_t *w;
    static const struct {
        const char *line, *want;
    } bad[] = {
        { "reward = x voucher v cost 5\n", "r.conf:3: reward: KIND: expected coupon" },
        { "reward = x coupon c\n", "r.conf:3: reward: cost: required" },
        { "reward = x coupon c cost 0\n", "r.conf:3: reward: cost: expected whole points" },
        { "reward = x coupon c cost 1.5\n", "r.conf:3: reward: cost: expected whole points" },
        { "reward = x cash min 5\n", "r.conf:3: reward: rate: required" },
        { "reward = x cash rate -1\n", "r.conf:3: reward: rate: expected money per point" },
        { "reward = x cash rate 0.01 cost 5\n",
          "r.conf:3: reward: unknown option \"cost\" for a cash reward (expected rate, min or "
          "step)" },
        { "reward = x tier gold cost 5 days 0\n", "r.conf:3: reward: days: expected whole days" },
        { "reward = x tier diamond cost 5\n", "r.conf:3: reward: tier: no tier of that name" },
        { "reward = x coupon c cost 5\nreward = x cash rate 1\n",
          "r.conf:4: reward: NAME: a reward of that name exists" },
        { "reward = x\n", "r.conf:3: reward: expected NAME KIND" },
    };

    load(&cfg, SETTINGS, err, sizeof err, &rc);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_EQ_INT(cfg.points.n_rewards, 6);
    w = points_reward_find(&cfg.points, "gift");
    CHECK(w && w->kind == POINTS_REWARD_COUPON && w->cost == 300 && w->line == 6);
    CHECK(w && strcmp(w->target, "gift5") == 0);
    w = points_reward_find(&cfg.points, "cash");
    CHECK(w && w->kind == POINTS_REWARD_CASH && w->rate == 0.01 && w->min_points == 200 &&
          w->step == 100 && w->cost == 0);
    w = points_reward_find(&cfg.points, "goldpass");
    CHECK(w && w->kind == POINTS_REWARD_TIER && w->cost == 400 && w->days == 30);
    w = points_reward_find(&cfg.points, "goldwin");
    CHECK(w && w->days == 0);
    CHECK(points_reward_find(&cfg.points, "nope") == NULL);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "tier = basic 0 0 0\ntier = gold 10 1 0\n%s", bad[i].line);
        load(&cfg, text, err, sizeof err, &rc);
        CHECK_EQ_INT(rc, -EINVAL);
        if (!strstr(err, bad[i].want)) {
            fprintf(stderr, "line %s: got \"%s\", want \"%s\"\n", bad[i].line, err,
                    bad[i].want);
            CHECK(0);
        }
    }
}

/* What a request's points spend, and what cash they are worth, exactly. */
static void test_points_arithmetic(void)
{
    points_reward_t coupon = { .name = "c", .kind = POINTS_REWARD_COUPON, .cost = 300 };
    points_reward_t cash = { .name = "m", .kind = POINTS_REWARD_CASH, .rate = 0.01,
                             .min_points = 200, .step = 100 };
    points_reward_t odd = { .name = "o", .kind = POINTS_REWARD_CASH, .rate = 0.007,
                            .min_points = 1, .step = 1 };
    char buf[256];
    int64_t spend;

    CHECK(points_reward_points_invalid(&coupon, 0, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) == NULL && spend == 300);
    CHECK(points_reward_points_invalid(&coupon, 300, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) == NULL && spend == 300);
    CHECK(points_reward_points_invalid(&coupon, 299, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) != NULL);
    CHECK_STREQ(buf, "points: reward 'c' costs 300 (send 0 or 300)");
    CHECK(points_reward_points_invalid(&cash, 0, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) != NULL);
    CHECK(points_reward_points_invalid(&cash, 100, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) != NULL);
    CHECK(strstr(buf, "converts 200..") != NULL);
    CHECK(points_reward_points_invalid(&cash, 250, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) != NULL);
    CHECK(strstr(buf, "multiples of 100, got 250") != NULL);
    CHECK(points_reward_points_invalid(&cash, -300, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) != NULL);
    CHECK(points_reward_points_invalid(&cash, PROFILE_MAX_POINTS + 100, PROFILE_MAX_POINTS,
                                       &spend, buf, sizeof buf) != NULL);
    CHECK(points_reward_points_invalid(&cash, 1200, PROFILE_MAX_POINTS, &spend, buf,
                                       sizeof buf) == NULL && spend == 1200);
    CHECK(points_reward_cash(&cash, 200) == 2.0);
    CHECK(points_reward_cash(&cash, 1200) == 12.0);
    CHECK(points_reward_cash(&cash, 29) == 0.29);
    /* 1001 x 0.007 = 7.007: rounded down to the cent */
    CHECK(points_reward_cash(&odd, 1001) == 7.0);
    CHECK(points_reward_cash(&odd, 1000) == 7.0);
    CHECK(points_reward_cash(&odd, 143) == 1.0);
}

/* ---- redemptions against a store ------------------------------------------------------- */

typedef struct fixture {
    store_t *s;
    profile_config_t cfg;
    rfm_cutpoints_t cut;
    customers_ctx_t c;
    coupon_config_t ccfg;
} fixture_t;

static void check_ins(store_t *s, const char *who, int n)
{
    for (int i = 0; i < n; i++) {
        char id[64];
        uint8_t outcome;
        const char *why;
        snprintf(id, sizeof id, "%s-visit-%d", who, i);
        store_event_t e = { .event_id = id, .customer_id = who, .type = STORE_EVENT_CHECK_IN,
                            .time_ms = NOW - DAY + i };
        CHECK_EQ_INT(store_record_events(s, &e, 1, &outcome, &why), 0);
    }
}

static int setup(fixture_t *f, const char *tag)
{
    char err[512];
    int rc;
    coupon_t gift = test_fixed_coupon("gift5", "loyal", 5.0, 100.0, NOW);
    coupon_t poor = test_fixed_coupon("poor5", "thin", 5.0, 4.0, NOW);

    memset(f, 0, sizeof *f);
    load(&f->cfg, SETTINGS, err, sizeof err, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(store_open(test_tmpdir(tag), 0, &f->s), 0);
    if (!f->s)
        return -1;
    CHECK_EQ_INT(couponstore_put_coupon(f->s, &gift, NULL, NULL), 0);
    CHECK_EQ_INT(couponstore_put_coupon(f->s, &poor, NULL, NULL), 0);
    f->c = (customers_ctx_t){ .store = f->s, .cfg = &f->cfg, .cut = &f->cut };
    coupon_config_default(&f->ccfg);
    return 0;
}

/* The ledger's balance, checked to be the sum of its rows. */
static int64_t ledger_balance(const fixture_t *f, const char *who, int64_t now)
{
    points_store_view_t pv;
    int64_t sum = 0, b;
    CHECK_EQ_INT(points_store_ledger(f->s, &f->cfg, NULL, who, now, &pv), 0);
    for (size_t i = 0; i < pv.ledger.n; i++)
        sum += pv.ledger.rows[i].delta;
    CHECK(sum == pv.ledger.balance);
    b = pv.ledger.balance;
    points_store_view_free(&pv);
    return b;
}

static int redeem(fixture_t *f, const char *who, const char *rid, const char *reward,
                  int64_t points, rewards_result_t *res)
{
    const points_reward_t *w = points_reward_find(&f->cfg.points, reward);
    char buf[256];
    rewards_request_t q = { .customer_id = who, .redemption_id = rid, .reward = w,
                            .coupon_cfg = &f->ccfg, .now_ms = NOW };
    CHECK(w != NULL);
    if (!w || points_reward_points_invalid(w, points, PROFILE_MAX_POINTS, &q.points, buf,
                                           sizeof buf))
        return -EINVAL;
    return rewards_redeem(&f->c, &q, res);
}

static void test_redeem_each_kind(void)
{
    fixture_t f;
    rewards_result_t res;
    couponstore_history_t hist;
    couponstore_budget_t b;
    customer_view_t v;
    int held = -1;

    if (setup(&f, "rewards-kinds"))
        return;
    check_ins(f.s, "ann", 10); /* 1000 points */
    CHECK_EQ_INT(ledger_balance(&f, "ann", NOW), 1000);

    /* A coupon: 300 points, the grant held, its 5.00 reserved. */
    CHECK_EQ_INT(redeem(&f, "ann", "r-gift", "gift", 0, &res), 0);
    CHECK_EQ_INT(res.balance, 700);
    CHECK_EQ_INT(res.duplicate, 0);
    CHECK_STREQ(res.entry.coupon_id, "gift5");
    CHECK_STREQ(res.entry.reward_id, "gift");
    CHECK_EQ_INT(res.entry.points, 300);
    CHECK(res.entry.until_ms == NOW + 30 * DAY);
    CHECK(res.coupon_max_cost == 5.0);
    CHECK_EQ_INT(ledger_balance(&f, "ann", NOW), 700);
    CHECK_EQ_INT(couponstore_get_history(f.s, "ann", &hist), 0);
    CHECK(hist.n_held == 1 && hist.held[0].active == 1 && hist.n_grants == 0);
    CHECK_EQ_INT(couponstore_get_budget(f.s, "loyal", &b), 0);
    CHECK(b.committed == 5.0 && b.grants == 1);

    /* A retry: the same answer, nothing spent or granted again. */
    CHECK_EQ_INT(redeem(&f, "ann", "r-gift", "gift", 300, &res), 0);
    CHECK(res.duplicate == 1 && res.balance == 700 && strcmp(res.entry.coupon_id, "gift5") == 0);
    CHECK_EQ_INT(couponstore_get_budget(f.s, "loyal", &b), 0);
    CHECK(b.committed == 5.0 && b.grants == 1);
    /* A second copy while the first is unused: refused, nothing spent. */
    CHECK_EQ_INT(redeem(&f, "ann", "r-gift-2", "gift", 0, &res), -EPERM);
    CHECK(strstr(res.why, "unused copy") != NULL);
    CHECK_EQ_INT(ledger_balance(&f, "ann", NOW), 700);

    /* Cash: 300 points at 0.01. */
    CHECK_EQ_INT(redeem(&f, "ann", "r-cash", "cash", 300, &res), 0);
    CHECK(res.balance == 400 && res.entry.cash == 3.0 && res.entry.points == 300);
    CHECK_EQ_INT(ledger_balance(&f, "ann", NOW), 400);

    /* A tier: gold for 30 days; the profile shows it, and it ends. */
    CHECK_EQ_INT(redeem(&f, "ann", "r-tier", "goldpass", 0, &res), 0);
    CHECK(res.balance == 0 && strcmp(res.entry.tier, "gold") == 0 &&
          res.entry.until_ms == NOW + 30 * DAY);
    CHECK_EQ_INT(ledger_balance(&f, "ann", NOW), 0);
    CHECK_EQ_INT(customers_view(&f.c, "ann", NOW + DAY, &v), 0);
    CHECK_EQ_INT(v.p.tier, 1);
    CHECK(v.tier_reward_until_ms == NOW + 30 * DAY);
    CHECK_EQ_INT(customers_view(&f.c, "ann", NOW + 30 * DAY, &v), 0);
    CHECK_EQ_INT(v.p.tier, 0);
    CHECK(v.tier_reward_until_ms == 0);
    /* serving's tier (member items and prices) is the same */
    CHECK_EQ_INT(tiers_held(&f.c, "ann", NOW + DAY, &held), 0);
    CHECK_EQ_INT(held, 1);
    CHECK_EQ_INT(tiers_held(&f.c, "ann", NOW + 30 * DAY, &held), 0);
    CHECK_EQ_INT(held, 0);
    /* Its retry is a duplicate, not "holds the tier already". */
    CHECK_EQ_INT(redeem(&f, "ann", "r-tier", "goldpass", 0, &res), 0);
    CHECK_EQ_INT(res.duplicate, 1);

    /* Nothing left: refused, nothing written. */
    CHECK_EQ_INT(redeem(&f, "ann", "r-more", "cash", 200, &res), -ERANGE);
    CHECK_EQ_INT(res.balance, 0);

    /* Tier held already (bought): refused. Default days: window + grace. */
    check_ins(f.s, "bob", 1);
    CHECK_EQ_INT(redeem(&f, "bob", "b-tier", "goldwin", 0, &res), 0);
    CHECK(res.entry.until_ms == NOW + 40 * DAY && res.balance == 50);
    CHECK_EQ_INT(redeem(&f, "bob", "b-tier-2", "goldwin", 0, &res), -EPERM);
    CHECK(strstr(res.why, "holds tier 'gold' already") != NULL);
    CHECK_EQ_INT(ledger_balance(&f, "bob", NOW), 50);
    store_close(f.s);
}

/* A campaign that cannot pay: refused, and no points are spent. A coupon
 * missing from the catalog likewise. */
static void test_budget_exhausted(void)
{
    fixture_t f;
    rewards_result_t res;
    couponstore_history_t hist;
    couponstore_budget_t b;

    if (setup(&f, "rewards-budget"))
        return;
    check_ins(f.s, "cy", 2);
    CHECK_EQ_INT(redeem(&f, "cy", "c-1", "broke", 0, &res), -EDQUOT);
    CHECK(strstr(res.why, "campaign 'thin' has no budget left") != NULL);
    CHECK_EQ_INT(ledger_balance(&f, "cy", NOW), 200);
    CHECK_EQ_INT(couponstore_get_history(f.s, "cy", &hist), 0);
    CHECK_EQ_INT(hist.n_held, 0);
    CHECK_EQ_INT(couponstore_get_budget(f.s, "thin", &b), 0);
    CHECK(b.committed == 0.0 && b.grants == 0);
    CHECK_EQ_INT(redeem(&f, "cy", "c-2", "nocoupon", 0, &res), -ENXIO);
    CHECK_EQ_INT(ledger_balance(&f, "cy", NOW), 200);
    /* The refused ids stay free: nothing was stored under them. */
    CHECK_EQ_INT(redeem(&f, "cy", "c-1", "cash", 200, &res), 0);
    CHECK(res.duplicate == 0 && res.balance == 0);
    store_close(f.s);
}

typedef struct racer {
    fixture_t *f;
    int i, rc;
} racer_t;

static void *race(void *arg)
{
    racer_t *r = arg;
    rewards_result_t res;
    char rid[32];
    snprintf(rid, sizeof rid, "race-%d", r->i);
    r->rc = redeem(r->f, "dee", rid, "cash", 300, &res);
    return NULL;
}

/* 8 concurrent redemptions of 300 against 1000: exactly 3 pass. */
static void test_concurrent_never_overdraw(void)
{
    fixture_t f;
    pthread_t th[N_THREADS];
    racer_t r[N_THREADS];
    int ok = 0;

    if (setup(&f, "rewards-race"))
        return;
    check_ins(f.s, "dee", 10);
    for (int i = 0; i < N_THREADS; i++) {
        r[i] = (racer_t){ .f = &f, .i = i };
        CHECK_EQ_INT(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(r[i].rc == 0 || r[i].rc == -ERANGE);
        ok += r[i].rc == 0;
    }
    CHECK_EQ_INT(ok, 3);
    CHECK_EQ_INT(ledger_balance(&f, "dee", NOW), 100);
    store_close(f.s);
}

int main(void)
{
    test_reward_lines();
    test_points_arithmetic();
    test_redeem_each_kind();
    test_budget_exhausted();
    test_concurrent_never_overdraw();
    TEST_MAIN_END();
}
