/*
 * access.h - which items a customer may be recommended under the loyalty
 * programme's item terms (catalog.h's catalog_terms_t), and the price list
 * their item details are priced from.
 *
 *  - members only: an item with a member tier goes only to customers
 *    holding that tier or a higher one (tiers are ranked as the settings
 *    file lists them, lowest first); a tier name the ranking does not know
 *    hides the item from everyone (a typo must not publish it);
 *  - early access: an item with a release time goes to everyone from then
 *    on, and early_access_ms before it to customers whose tier gives early
 *    access (the tier benefit early_access_hours).
 *
 * The caller (recsys/app/members.h) fills a rec_access_t from the
 * customer's tier; this module knows only names and ranks.
 */
#ifndef PATRON_RECSYS_ACCESS_H
#define PATRON_RECSYS_ACCESS_H

#include <stdint.h>

#include "catalog.h"

#define REC_ACCESS_MAX_TIERS 8
#define REC_ACCESS_NAME_MAX 32   /* a tier or price list name, with the NUL */

/* Self-contained (names copied), so it outlives the settings it came from. */
typedef struct rec_access {
    char tier_names[REC_ACCESS_MAX_TIERS][REC_ACCESS_NAME_MAX]; /* the ranking,
                                                                   lowest first */
    uint32_t n_tiers;
    int tier;                 /* the customer's rank, -1: no tier */
    int64_t early_access_ms;  /* how long before release they see new items */
    int64_t now_ms;           /* the request's time */
    char price_list[REC_ACCESS_NAME_MAX]; /* their tier's member price list; "" none */
} rec_access_t;

/* Whether item idx < c->n_items may be recommended under a. a NULL: a
 * customer without tier at an unknown time: no members-only item, no item
 * with a release time. */
int rec_access_allows(const catalog_t *c, uint32_t idx, const rec_access_t *a);

/* Sets in deny (a topk bitset over n_items model items) every item a does
 * not allow; costs time in proportion to the catalog's gated items. */
void rec_access_deny(const catalog_t *c, uint32_t n_items, const rec_access_t *a,
                     uint64_t *deny);

#endif
