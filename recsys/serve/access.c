/*
 * access.c - members-only and early-access items (access.h).
 */
#include "access.h"

#include <string.h>

#include "topk.h"

/* The rank of tier name t in a's ranking, or -1. */
static int tier_rank(const rec_access_t *a, const char *t)
{
    for (uint32_t r = 0; r < a->n_tiers && r < REC_ACCESS_MAX_TIERS; r++)
        if (strcmp(a->tier_names[r], t) == 0)
            return (int)r;
    return -1;
}

int rec_access_allows(const catalog_t *c, uint32_t idx, const rec_access_t *a)
{
    const catalog_terms_t *t = c->terms[idx];
    int need;

    if (!t)
        return 1;
    if (!a)
        return !t->member_tier[0] && t->release_ms <= 0;
    if (t->member_tier[0] && ((need = tier_rank(a, t->member_tier)) < 0 || a->tier < need))
        return 0;
    /* release_ms <= year 9999 and early access <= a year: no overflow */
    return t->release_ms <= 0 || a->now_ms >= t->release_ms - a->early_access_ms;
}

void rec_access_deny(const catalog_t *c, uint32_t n_items, const rec_access_t *a,
                     uint64_t *deny)
{
    for (uint32_t j = 0; j < c->n_gated; j++) {
        uint32_t i = c->gated[j];
        if (i < n_items && !rec_access_allows(c, i, a))
            topk_bitset_set(deny, i);
    }
}
