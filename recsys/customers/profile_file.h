/*
 * profile_file.h - the operator's file for profile settings: lifecycle
 * factors, tier rules, segment mapping, points, missions, as "name = value"
 * lines.
 * The format is documented for operators in one place: `patron help
 * formats` (server/cli/cli_formats.c, copied into README.md).
 */
#ifndef PATRON_RECSYS_PROFILE_FILE_H
#define PATRON_RECSYS_PROFILE_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "profile.h"

/* Fills cfg from the defaults and the file at path. Returns 0, -ENOENT
 * (cannot open), -EINVAL with "path:line: what" in err (also when the
 * result fails profile_config_invalid). */
int profile_config_load(const char *path, profile_config_t *cfg, char *err, size_t cap);

/* Settings of a layer above profiles that share the file (the coupon
 * guards: recsys/app/settings.h). Called with a line's key and value when
 * profile settings do not know the key; returns NULL (taken), "" (not its
 * key either: "unknown setting") or a static message saying what is wrong,
 * reported as "path:line: key: message". */
typedef const char *(*profile_file_more_fn)(void *ctx, const char *key, const char *value);

/* profile_config_load, offering unknown keys to more(ctx, ...) (more NULL:
 * profile_config_load). */
int profile_config_load_more(const char *path, profile_config_t *cfg, profile_file_more_fn more,
                             void *ctx, char *err, size_t cap);

/* profile_config_load_more over an open stream (read to its end, not
 * closed): the one parser, for a file and for a programme text sent over
 * RPC alike. name stands for the path in messages ("name:line: ..").
 * -EIO when the stream fails. */
int profile_config_read_more(FILE *f, const char *name, profile_config_t *cfg,
                             profile_file_more_fn more, void *ctx, char *err, size_t cap);

#endif
