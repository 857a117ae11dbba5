/*
 * settings_testutil.h - settings text loaded as a profile config
 * (profile_file.h) for the unit tests of settings lines: points rules and
 * guards, missions, referrals. Each writes the text to a file in the test's
 * temporary directory tmp (test_tmpdir's name) and loads it.
 */
#ifndef PATRON_TESTS_SETTINGS_TESTUTIL_H
#define PATRON_TESTS_SETTINGS_TESTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile_file.h"
#include "testutil.h"

/* text must load; a failure prints the loader's message. */
static inline void settings_load_ok(const char *tmp, const char *text, profile_config_t *cfg)
{
    char err[512];
    const char *path = test_write_file(test_tmpdir(tmp), "ok.conf", text);
    if (profile_config_load(path, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(0);
    }
}

/* text must be refused (-EINVAL) with a message naming the file and
 * containing want. */
static inline void settings_load_refused(const char *tmp, const char *text, const char *want)
{
    char err[512];
    profile_config_t cfg;
    const char *path = test_write_file(test_tmpdir(tmp), "bad.conf", text);
    CHECK_EQ_INT(profile_config_load(path, &cfg, err, sizeof err), -EINVAL);
    if (!strstr(err, path) || !strstr(err, want)) {
        fprintf(stderr, "error \"%s\" lacks \"%s\" or the path\n", err, want);
        CHECK(0);
    }
}

#endif
