/*
 * tiers.h - what membership tiers give and how a customer stands in them,
 * as the settings file defines them and GetProfile shows them:
 *
 *   tier_benefits = NAME BENEFIT [BENEFIT ...]
 *     free_shipping | dedicated_service | points_multiplier=X (1..10)
 *     | early_access_hours=N (0..8760) | price_list=LIST (1..31 of
 *     [A-Za-z0-9_.-])
 *
 * NAME is a tier defined by a `tier` line above it (or a default tier when
 * the file has none); a later line for the same tier replaces its benefits.
 * The thresholds, windows and grace are profile.h's; the arithmetic
 * (profile_tier_status) too. Here: parsing, the sentence for people, and
 * the status of one stored customer.
 */
#ifndef PATRON_RECSYS_TIERS_H
#define PATRON_RECSYS_TIERS_H

#include <stddef.h>
#include <stdint.h>

#include "customers.h"
#include "profile.h"

/* Parses one tier_benefits value into the named tier of cfg. Returns NULL,
 * or a static message saying what is wrong (an unknown tier or benefit, a
 * value out of range). */
const char *tiers_benefits_parse(profile_config_t *cfg, const char *value);

/*
 * The customer's standing for people, e.g.
 *   "gold needs 190.00 more spend, 1 more order and 5 more views or carts
 *    within 30 days; silver is met until 2026-01-30 and kept until
 *    2026-02-09 without new activity"
 * (dates UTC). Writes at most cap bytes, NUL-terminated; returns buf.
 */
char *tiers_progress_text(const profile_config_t *cfg, const profile_tier_status_t *st,
                          char *buf, size_t cap);

/* The tier customer_id holds at now_ms (index into c->cfg->tiers, -1
 * none), as GetProfile shows it: profile_tier over their stored events (the
 * floor for a customer without events), or a higher tier a tier reward
 * holds (points_store_tier_bought). Cheaper than tiers_status.
 * Returns 0, -EINVAL, -ENOMEM or a store error. */
int tiers_held(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
               int *tier);

/* The tier status of customer_id at now_ms from the store (their events; a
 * customer with attributes only has none: the floor, if any). Returns 0,
 * -EINVAL, -ENOMEM or a store error. */
int tiers_status(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
                 profile_tier_status_t *out);

#endif
