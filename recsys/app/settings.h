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

/* Everything the file sets, as one value: a served programme holds one
 * (programme.h) and copies it whole, so a setting added to either struct
 * travels with it without being named anywhere else. */
typedef struct settings {
    profile_config_t profile;
    coupon_config_t coupon;
} settings_t;

#define SETTINGS_MAX_TEXT (1u << 20) /* bytes of a programme text (1 MiB) */

/* Parses text (len bytes, not NUL-terminated; NUL bytes refused) exactly
 * as settings_load parses a file, name standing for the path in messages
 * ("programme:12: tier: expected ..."). Returns 0, -EINVAL (err says what
 * and where; also for text longer than SETTINGS_MAX_TEXT) or -ENOMEM. */
int settings_parse(const char *name, const char *text, size_t len, settings_t *out,
                   char *err, size_t cap);

/* Reads the file at path whole into *text (malloc'd, NUL-terminated, the
 * caller frees; *len its length). Returns 0, -ENOENT (cannot open: err
 * says why), -EFBIG (over SETTINGS_MAX_TEXT), -EIO or -ENOMEM. */
int settings_read_file(const char *path, char **text, size_t *len, char *err, size_t cap);

#endif
