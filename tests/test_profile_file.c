/*
 * test_profile_file.c - the operator's profile settings file: values
 * replace defaults, tier and segment lists replace the built-in ones,
 * and every mistake is reported with its line.
 */
#include <errno.h>

#include "profile_file.h"
#include "testutil.h"

int main(void)
{
    char dir[600], err[512];
    profile_config_t cfg;

    snprintf(dir, sizeof dir, "%s", test_tmpdir("profile-file"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "ok.conf",
        "# shop settings\n"
        "lapse_factor = 4   # patient shop\n"
        "points_per_unit = 2.5\n"
        "\n"
        "tier = member 0 0 0\n"
        "tier = vip 500 3 0\n"
        "segment = best 4-5 4-5 1-5\n"
        "segment = rest 1-5 1-5 1-5\n"), &cfg, err, sizeof err), 0);
    CHECK(cfg.lapse_factor == 4 && cfg.points_per_unit == 2.5);
    CHECK(cfg.at_risk_factor == 1.5); /* untouched: default */
    CHECK_EQ_INT(cfg.n_tiers, 2);
    CHECK_STREQ(cfg.tiers[1].name, "vip");
    CHECK(cfg.tiers[1].min_spend == 500 && cfg.tiers[1].min_orders == 3);
    CHECK_EQ_INT(cfg.n_segments, 2);
    CHECK(cfg.segments[0].r_lo == 4 && cfg.segments[0].m_hi == 5);

    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad1.conf", "new_days = 30\nfoo = 1\n"),
                                     &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, ":2:") && strstr(err, "foo") && strstr(err, "unknown"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad2.conf", "segment = x 0-5 1-5 1-5\n"),
                                     &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, ":1:") && strstr(err, "segment"));
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad3.conf", "new_days = -3\n"),
                                     &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "new_days") != NULL);
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad4.conf", "just words\n"),
                                     &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "name = value") != NULL);
    /* Consistent values checked as a whole (lapse must not precede at-risk). */
    CHECK_EQ_INT(profile_config_load(test_write_file(dir, "bad5.conf", "lapse_factor = 1\n"),
                                     &cfg, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "lapse_factor") != NULL);
    CHECK_EQ_INT(profile_config_load("/nonexistent/x.conf", &cfg, err, sizeof err), -ENOENT);
    TEST_MAIN_END();
}
