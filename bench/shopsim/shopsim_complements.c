/*
 * shopsim_complements.c - what is bought together (shopsim.h): every item
 * has SIM_PARTNERS partner items in a complementary category (a cake tin
 * with party cake cases, a lantern with a Christmas bauble, a rucksack
 * with a necklace, ...), drawn popularity-weighted once per catalogue; at
 * checkout each bought item brings one of its partners into the basket
 * with probability cfg.complement_rate (the first partner most often).
 * Such pairs are complements, not substitutes: a customer's factors (tastes
 * in categories and styles) do not predict them, a basket does.
 *
 * Off unless asked for (shopsim --complement-rate R): the default output is
 * the shop as it was before complements existed, byte for byte. When on,
 * its draws come from a stream of their own (s->crng, seeded from the
 * seed), so every other event of a run is the same and the partner
 * purchases are added to it.
 */
#include "shopsim.h"

#include <errno.h>
#include <stdlib.h>

/* The category an item's partners come from, by category index (see
 * sim_categories). */
static const uint8_t sim_complement_category[SIM_NCAT] = {
    10, /* Kitchen -> Party */
    7,  /* Home Decor -> Lighting */
    1,  /* Garden -> Home Decor */
    6,  /* Toys -> Stationery (wrapping paper, gift tags) */
    6,  /* Books -> Stationery */
    8,  /* Electronics -> Bags */
    10, /* Stationery -> Party */
    11, /* Lighting -> Christmas */
    9,  /* Bags -> Jewellery */
    6,  /* Jewellery -> Stationery */
    0,  /* Party -> Kitchen */
    6,  /* Christmas -> Stationery */
    8,  /* Bath, Body & Beauty -> Bags (wash bags) */
    8,  /* Sports -> Bags */
    2,  /* Pet Supplies -> Garden */
};

/* How often the k-th partner is the one added. */
static const double sim_partner_cum[SIM_PARTNERS] = { 0.5, 0.8, 1.0 };

static uint32_t crng_pick(sim_t *s, const sim_bucket_t *b)
{
    double u = xoshiro_unit(&s->crng) * b->cum[b->n - 1];
    uint32_t lo = 0, hi = b->n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (b->cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return b->items[lo];
}

int sim_complements_init(sim_t *s)
{
    if (!(s->cfg.complement_rate > 0))
        return 0;
    xoshiro_seed(&s->crng, s->cfg.seed ^ 0x636f6d706c656d65ULL); /* "compleme" */
    s->partners = calloc(s->cfg.items ? s->cfg.items : 1, sizeof *s->partners);
    if (!s->partners)
        return -ENOMEM;
    for (uint32_t i = 0; i < s->cfg.items; i++) {
        const sim_bucket_t *b = &s->by_cat[sim_complement_category[s->items[i].cat]];
        for (int k = 0; k < SIM_PARTNERS; k++) {
            uint32_t p = UINT32_MAX;
            /* distinct partners where the category has enough items */
            for (int tries = 0; tries < 8 && b->n > 0; tries++) {
                p = crng_pick(s, b);
                int seen = p == i;
                for (int q = 0; q < k; q++)
                    seen |= s->partners[i][q] == p;
                if (!seen)
                    break;
            }
            s->partners[i][k] = p;
        }
    }
    return 0;
}

static int in_basket(const uint32_t *basket, int n, uint32_t item)
{
    for (int i = 0; i < n; i++)
        if (basket[i] == item)
            return 1;
    return 0;
}

int sim_complements_checkout(sim_t *s, uint32_t ci, int day, int64_t t,
                             const uint32_t *bought, int n_bought)
{
    uint32_t basket[2 * SIM_MAX_VIEWS];
    int n = 0, rc = 0;

    if (!s->partners)
        return 0;
    for (int b = 0; b < n_bought; b++)
        basket[n++] = bought[b];
    for (int b = 0; b < n_bought && rc == 0; b++) {
        if (xoshiro_unit(&s->crng) >= s->cfg.complement_rate)
            continue;
        double u = xoshiro_unit(&s->crng);
        int k = 0;
        while (k < SIM_PARTNERS - 1 && u >= sim_partner_cum[k])
            k++;
        uint32_t p = s->partners[bought[b]][k];
        if (p == UINT32_MAX || in_basket(basket, n, p))
            continue;
        const sim_item_t *it = &s->items[p];
        if (it->launch_day > day || day >= it->stockout_day)
            continue;
        basket[n++] = p;
        rc = sim_emit_at(s, t, ci, p, SIM_CART, 1, it->price);
        if (rc == 0)
            rc = sim_emit_at(s, t, ci, p, SIM_PURCHASE, 1, it->price);
    }
    return rc;
}
