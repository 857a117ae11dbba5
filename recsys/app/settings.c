/*
 * settings.c - the operator's settings file (settings.h): profile lines go to
 * profile_file.c, coupon_* lines come back here through its hook, so each
 * layer parses its own settings and the file is read once.
 */
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* What is checked once every line is read: the settings only wrong
 * together (profile_file.c checks its own). */
static int check_whole(const char *name, const coupon_config_t *cc, char *err, size_t cap)
{
    const char *why = coupon_config_invalid(cc);
    if (!why)
        return 0;
    snprintf(err, cap, "%s: coupon settings: %s", name, why);
    return -EINVAL;
}

int settings_load(const char *path, profile_config_t *pc, coupon_config_t *cc, char *err,
                  size_t cap)
{
    coupon_config_t scratch;
    int rc;

    if (!cc)
        cc = &scratch;
    coupon_config_default(cc);
    rc = profile_config_load_more(path, pc, coupon_line, cc, err, cap);
    return rc ? rc : check_whole(path, cc, err, cap);
}

int settings_parse(const char *name, const char *text, size_t len, settings_t *out,
                   char *err, size_t cap)
{
    /* fmemopen refuses an empty buffer on some C libraries: an empty text
     * reads as one empty line instead, which is the same settings. */
    static const char empty[] = "\n";
    FILE *f;
    int rc;

    memset(out, 0, sizeof *out);
    if (len > SETTINGS_MAX_TEXT) {
        snprintf(err, cap, "%s: %zu bytes, at most %u", name, len, SETTINGS_MAX_TEXT);
        return -EINVAL;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, cap, "%s: contains a NUL byte", name);
        return -EINVAL;
    }
    coupon_config_default(&out->coupon);
    if (!(f = len ? fmemopen((void *)text, len, "r") : fmemopen((void *)empty, 1, "r"))) {
        snprintf(err, cap, "%s: %s", name, strerror(errno));
        return -ENOMEM;
    }
    rc = profile_config_read_more(f, name, &out->profile, coupon_line, &out->coupon, err, cap);
    fclose(f);
    return rc ? rc : check_whole(name, &out->coupon, err, cap);
}

int settings_read_file(const char *path, char **text, size_t *len, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n;
    int rc = 0;

    *text = NULL;
    *len = 0;
    if (!f) {
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return -ENOENT;
    }
    if (!(buf = malloc(SETTINGS_MAX_TEXT + 2))) {
        fclose(f);
        snprintf(err, cap, "%s: out of memory", path);
        return -ENOMEM;
    }
    n = fread(buf, 1, SETTINGS_MAX_TEXT + 1, f);
    if (ferror(f)) {
        snprintf(err, cap, "%s: read error", path);
        rc = -EIO;
    } else if (n > SETTINGS_MAX_TEXT) {
        snprintf(err, cap, "%s: larger than %u bytes", path, SETTINGS_MAX_TEXT);
        rc = -EFBIG;
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
