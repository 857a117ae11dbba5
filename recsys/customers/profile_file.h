/*
 * profile_file.h - the operator's file for profile settings: lifecycle
 * factors, tier rules, segment mapping, points, as "name = value" lines.
 * The format is documented for operators in one place: `patron help
 * formats` (server/cli/cli_formats.c, copied into README.md).
 */
#ifndef PATRON_RECSYS_PROFILE_FILE_H
#define PATRON_RECSYS_PROFILE_FILE_H

#include <stddef.h>

#include "profile.h"

/* Fills cfg from the defaults and the file at path. Returns 0, -ENOENT
 * (cannot open), -EINVAL with "path:line: what" in err (also when the
 * result fails profile_config_invalid). */
int profile_config_load(const char *path, profile_config_t *cfg, char *err, size_t cap);

#endif
