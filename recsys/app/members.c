/*
 * members.c - the customer's tier as serving sees it (members.h).
 */
#include "members.h"

#include <stdio.h>
#include <string.h>

#include "tiers.h"

_Static_assert(PROFILE_NAME_MAX <= REC_ACCESS_NAME_MAX, "tier names fit rec_access_t");
_Static_assert(PROFILE_MAX_TIERS <= REC_ACCESS_MAX_TIERS, "every tier is ranked");

#define MS_PER_HOUR 3600000LL

int members_need_tier(const catalog_t *c, int64_t now_ms, int want_prices)
{
    return c && (catalog_gates_at(c, now_ms) || (want_prices && c->n_member_priced > 0));
}

void members_access_for_tier(const profile_config_t *cfg, int tier, int64_t now_ms,
                             rec_access_t *out)
{
    memset(out, 0, sizeof *out);
    out->tier = -1;
    out->now_ms = now_ms;
    if (!cfg)
        return;
    out->n_tiers = (uint32_t)(cfg->n_tiers < REC_ACCESS_MAX_TIERS ? cfg->n_tiers
                                                                  : REC_ACCESS_MAX_TIERS);
    for (uint32_t r = 0; r < out->n_tiers; r++)
        snprintf(out->tier_names[r], sizeof out->tier_names[r], "%s", cfg->tiers[r].name);
    if (tier < 0 || (uint32_t)tier >= out->n_tiers)
        return;
    out->tier = tier;
    out->early_access_ms = (int64_t)cfg->tiers[tier].benefits.early_access_hours * MS_PER_HOUR;
    snprintf(out->price_list, sizeof out->price_list, "%s",
             cfg->tiers[tier].benefits.price_list);
}

int members_access(const customers_ctx_t *cust, const catalog_t *c,
                   const char *customer_id, int64_t now_ms, int want_prices,
                   rec_access_t *out)
{
    int tier = -1, rc;

    /* Most catalogs gate nothing and price nobody specially: then the tier
     * cannot change the answer and the history read is skipped. */
    if (members_need_tier(c, now_ms, want_prices) && cust->cfg->n_tiers &&
        (rc = tiers_held(cust, customer_id, now_ms, &tier)) != 0)
        return rc;
    members_access_for_tier(cust->cfg, tier, now_ms, out);
    return 0;
}
