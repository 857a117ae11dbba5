/*
 * settings.c - the operator's settings file (settings.h): profile lines go to
 * profile_file.c, coupon_* lines come back here through its hook, so each
 * layer parses its own settings and the file is read once.
 */
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile_file.h"

#define COUPON_PREFIX "coupon_"

/* profile_file_more_fn for the coupon guards. */
static const char *coupon_line(void *ctx, const char *key, const char *value)
{
    if (strncmp(key, COUPON_PREFIX, strlen(COUPON_PREFIX)) != 0)
        return "";
    return coupon_config_set(ctx, key, value);
}

int settings_load(const char *path, profile_config_t *pc, coupon_config_t *cc, char *err,
                  size_t cap)
{
    coupon_config_t scratch;
    const char *why;
    int rc;

    if (!cc)
        cc = &scratch;
    coupon_config_default(cc);
    rc = profile_config_load_more(path, pc, coupon_line, cc, err, cap);
    if (rc == 0 && (why = coupon_config_invalid(cc)) != NULL) {
        snprintf(err, cap, "%s: coupon settings: %s", path, why);
        rc = -EINVAL;
    }
    return rc;
}
