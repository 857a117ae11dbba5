/*
 * profile_file.h - the operator's file for profile settings: lifecycle
 * factors, tier rules, segment mapping, points. One setting per line,
 * "#" starts a comment:
 *
 *   order_gap_minutes = 30        recent_days = 30       new_days = 30
 *   at_risk_factor = 1.5          lapse_factor = 3       min_gap_days = 7
 *   default_gap_days = 30         won_back_days = 90     points_per_unit = 1
 *   tier_window_days = 365        tier_grace_days = 30
 *   tier = NAME MIN_SPEND MIN_ORDERS MIN_ENGAGEMENT      (lowest first)
 *   segment = NAME R_LO-R_HI F_LO-F_HI M_LO-M_HI          (first match wins)
 *
 * Settings not in the file keep their defaults; a file with any "tier"
 * line replaces the whole tier list, and likewise for "segment".
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
