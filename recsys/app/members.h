/*
 * members.h - a customer's standing in the loyalty programme as serving
 * needs it (access.h's rec_access_t): the tier they hold now, ranked as the
 * settings file lists tiers, and what it gives on the item side (early
 * access to new items, a member price list).
 *
 * The tier is GetProfile's (tiers_held: profile_tier over the customer's
 * stored events), so a customer shown "gold" in their profile is served as
 * gold. Reading it costs one range read of their history, so it is read only
 * when the pinned catalog makes it matter (members_need_tier).
 */
#ifndef PATRON_RECSYS_MEMBERS_H
#define PATRON_RECSYS_MEMBERS_H

#include <stdint.h>

#include "access.h"
#include "catalog.h"
#include "customers.h"
#include "profile.h"

/* Whether the customer's tier changes an answer over catalog c at now_ms:
 * some item is members-only or not released yet (catalog_gates_at), or the
 * answer shows prices (want_prices) and some item has a member price. */
int members_need_tier(const catalog_t *c, int64_t now_ms, int want_prices);

/* The access of a customer holding tier (index into cfg->tiers, -1 none) at
 * now_ms: cfg's ranking (tiers beyond REC_ACCESS_MAX_TIERS are not ranked),
 * and the tier's early_access_hours and price_list. */
void members_access_for_tier(const profile_config_t *cfg, int tier, int64_t now_ms,
                             rec_access_t *out);

/* The access of stored customer customer_id (already resolved to its
 * survivor) at now_ms for an answer over catalog c: their tier is read
 * only when members_need_tier says it matters, else they are served as
 * holding none (which is then the same answer). Returns 0, -EINVAL,
 * -ENOMEM or a store error. */
int members_access(const customers_ctx_t *cust, const catalog_t *c,
                   const char *customer_id, int64_t now_ms, int want_prices,
                   rec_access_t *out);

#endif
