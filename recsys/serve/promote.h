/*
 * promote.h - merchandising slots: a storefront reserves some of a list's
 * places for a promoted set (a new collection, a brand, listed items), filled
 * with the customer's own best items from that set.
 *
 * The list is first ranked as usual. Promoted items already in it stay where
 * they are. If fewer than `slots` are, the customer's best promoted items not
 * yet listed replace the lowest-ranked other items (or fill free places when
 * the list is short of k) and go to evenly spaced places, so a promotion is
 * seen without taking the top spot from the customer's best match (unless
 * every place is promoted). Promoted items pass the same filters and
 * exclusions as any other.
 */
#ifndef PATRON_RECSYS_PROMOTE_H
#define PATRON_RECSYS_PROMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "topk.h"

typedef struct rec_promotion {
    const char *const *item_ids;     /* unknown ids match nothing */
    size_t n_items;
    const char *const *categories;   /* every item of these categories */
    size_t n_categories;
    uint32_t slots;                  /* places reserved, 1..k; 0: none */
} rec_promotion_t;

/* Whether p asks for anything (non-NULL with slots > 0). */
int promo_active(const rec_promotion_t *p);

/* NULL, or a static message naming the bad field ("promotion.slots: ..."),
 * for a list of k. A NULL p is valid. */
const char *promo_invalid(const rec_promotion_t *p, uint32_t k);

/* Sets in `in` (a bitset over items 0..n_items, zeroed by the caller) the
 * items of catalog c below n_items that p names or whose category it
 * names. */
void promo_members(const catalog_t *c, uint32_t n_items, const rec_promotion_t *p,
                   uint64_t *in);

/*
 * Merges promo[0..n_promo) (the customer's best members of `in`, best first)
 * into list[0..n) (ranked, room for k entries) as described above. promoted
 * (room for k) gets 1 for every listed member of `in`, else 0. Returns the
 * new length (at most k).
 */
size_t promo_merge(topk_hit_t *list, size_t n, uint32_t k, const topk_hit_t *promo,
                   size_t n_promo, uint32_t slots, const uint64_t *in,
                   uint8_t *promoted);

#endif
