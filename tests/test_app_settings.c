/*
 * test_app_settings.c - the operator's settings file read as a whole
 * (recsys/app/settings.c): coupon guard lines beside profile lines tune the
 * decision, out-of-range values are refused naming the file, line and
 * setting, and the holdout salt stays what it was.
 */
#include <errno.h>

#include "settings.h"
#include "testutil.h"

/* Loads text as a settings file; returns settings_load's result. */
static int load(const char *dir, const char *text, coupon_config_t *cc, char *err)
{
    profile_config_t pc;
    return settings_load(test_write_file(dir, "s.conf", text), &pc, cc, err, 512);
}

static void test_values(const char *dir)
{
    profile_config_t pc;
    coupon_config_t cc, def;
    char err[512];

    coupon_config_default(&def);
    CHECK_EQ_INT(settings_load(test_write_file(dir, "ok.conf",
        "lapse_factor = 4\n"
        "coupon_weekly_cap = 1          # one discretionary grant a week\n"
        "coupon_holdout_rate = 0.1\n"
        "coupon_explore_rate = 0\n"
        "coupon_max_accounts_per_device = 2\n"
        "coupon_max_accounts_per_address = 4\n"
        "coupon_max_redemptions_per_hour = 2\n"
        "coupon_max_redemptions_per_day = 9\n"
        "coupon_margin_rate = 0.25\n"
        "coupon_default_basket = 55\n"), &pc, &cc, err, sizeof err), 0);
    CHECK(pc.lapse_factor == 4); /* profile lines still go to profiles */
    CHECK_EQ_INT(cc.cap_per_window, 1);
    CHECK(cc.cap_window_ms == def.cap_window_ms);
    CHECK(cc.holdout_rate == 0.1 && cc.explore_rate == 0.0);
    CHECK_EQ_INT(cc.max_accounts_per_device, 2);
    CHECK_EQ_INT(cc.max_accounts_per_address, 4);
    CHECK_EQ_INT(cc.max_redemptions_per_hour, 2);
    CHECK_EQ_INT(cc.max_redemptions_per_day, 9);
    CHECK(cc.margin_rate == 0.25 && cc.default_basket == 55);
    CHECK(cc.redeem_rate == def.redeem_rate);   /* not in the file: default */
    CHECK(cc.holdout_salt == def.holdout_salt); /* who is held out never moves */
    CHECK(cc.explore_salt == def.explore_salt);

    /* A raised holdout rate keeps everyone held out before held out. */
    {
        int kept = 1, more = 0;
        char id[32];
        for (int i = 0; i < 2000; i++) {
            snprintf(id, sizeof id, "c%d", i);
            if (coupon_in_holdout(id, &def) && !coupon_in_holdout(id, &cc))
                kept = 0;
            more += coupon_in_holdout(id, &cc) - coupon_in_holdout(id, &def);
        }
        CHECK(kept && more > 0);
    }

    /* No file lines: the built-in defaults; cc NULL still checks lines. */
    CHECK_EQ_INT(load(dir, "# nothing\n", &cc, err), 0);
    CHECK(memcmp(&cc, &def, sizeof cc) == 0);
    CHECK_EQ_INT(settings_load(test_write_file(dir, "n.conf", "coupon_weekly_cap = x\n"), &pc,
                               NULL, err, sizeof err), -EINVAL);
}

/* Every mistake names the line and the setting, and says the range. */
static void test_errors(const char *dir)
{
    coupon_config_t cc;
    char err[512];

    CHECK_EQ_INT(load(dir, "new_days = 30\ncoupon_holdout_rate = 1\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "s.conf:2:") && strstr(err, "coupon_holdout_rate") &&
          strstr(err, "[0, 1)"));
    CHECK_EQ_INT(load(dir, "coupon_weekly_cap = 2.5\n", &cc, err), -EINVAL);
    CHECK(strstr(err, ":1:") && strstr(err, "coupon_weekly_cap") && strstr(err, "whole"));
    CHECK_EQ_INT(load(dir, "coupon_weekly_cap = -1\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "0..1000") != NULL);
    CHECK_EQ_INT(load(dir, "\n\ncoupon_max_accounts_per_device = 0\n", &cc, err), -EINVAL);
    CHECK(strstr(err, ":3:") && strstr(err, "coupon_max_accounts_per_device"));
    CHECK_EQ_INT(load(dir, "coupon_explore_rate = nan\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "coupon_explore_rate") != NULL);
    CHECK_EQ_INT(load(dir, "coupon_margin_rate = 0\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "(0, 1]") != NULL);
    CHECK_EQ_INT(load(dir, "coupon_holdout_rate = 0.05 0.1\n", &cc, err), -EINVAL);
    CHECK_EQ_INT(load(dir, "coupon_holdout_salt = 7\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "coupon_holdout_salt") && strstr(err, "unknown setting"));
    CHECK_EQ_INT(load(dir, "coupons_weekly = 1\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "unknown setting") != NULL);
    CHECK_EQ_INT(load(dir, "frobnicate = 1\n", &cc, err), -EINVAL);
    CHECK(strstr(err, "frobnicate") && strstr(err, "unknown setting"));
    /* The pure setter leaves the config unchanged on an error. */
    coupon_config_default(&cc);
    CHECK(coupon_config_set(&cc, "coupon_explore_rate", "2") != NULL);
    CHECK(cc.explore_rate == 0.02);
    CHECK(coupon_config_set(&cc, "coupon_explore_rate", " 0.5") == NULL);
    CHECK(cc.explore_rate == 0.5);
}

/* The shipped files load as they are: deploy/programme.example (the demo's
 * programme) and deploy/profiles.example (the built-in defaults). */
static void test_shipped_examples(void)
{
    profile_config_t pc;
    coupon_config_t cc;
    char err[512] = "";
    CHECK_EQ_INT(settings_load(PATRON_SOURCE_DIR "/deploy/programme.example", &pc, &cc, err,
                               sizeof err), 0);
    CHECK_STREQ(err, "");
    CHECK_EQ_INT(pc.n_tiers, 4);
    CHECK_STREQ(pc.tiers[2].name, "gold");
    CHECK(pc.tiers[2].benefits.points_multiplier == 1.5);
    CHECK_EQ_INT(pc.points.n_rules, 5);
    CHECK_EQ_INT(pc.points.n_rewards, 2);
    CHECK(pc.points.rewards[0].kind == POINTS_REWARD_CASH && pc.points.rewards[0].step == 100);
    CHECK(pc.points.rewards[1].kind == POINTS_REWARD_TIER && pc.points.rewards[1].days == 90);
    CHECK_EQ_INT(pc.triggers.n_rules, 3);
    CHECK_EQ_INT(pc.missions.n, 3);
    CHECK(cc.holdout_rate == 0.05);
    CHECK_EQ_INT(settings_load(PATRON_SOURCE_DIR "/deploy/profiles.example", &pc, &cc, err,
                               sizeof err), 0);
}

int main(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("app-settings"));
    test_values(dir);
    test_errors(dir);
    test_shipped_examples();
    TEST_MAIN_END();
}
