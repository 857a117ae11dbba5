/*
 * settings.h - the operator's settings file as a whole (patrond --profiles):
 * the profile, contact and trigger lines profiles own (profile_file.h) and
 * the coupon guards (coupon_* lines: coupon_config_set in coupon.h), read in
 * one pass so one file configures every layer. The format is documented in
 * one place: `patron help formats` (server/cli/cli_formats.c).
 *
 * Pure file reading: no global state, no logging; safe from any thread.
 */
#ifndef PATRON_RECSYS_SETTINGS_H
#define PATRON_RECSYS_SETTINGS_H

#include <stddef.h>

#include "coupon.h"
#include "profile.h"

/*
 * Fills pc and cc (cc may be NULL: coupon lines are then checked and
 * dropped) from the defaults and the file at path. Returns 0, -ENOENT
 * (cannot open) or -EINVAL with "path:line: setting: what is wrong" in
 * err (or "path: what", for settings that are only wrong together).
 */
int settings_load(const char *path, profile_config_t *pc, coupon_config_t *cc, char *err,
                  size_t cap);

#endif
