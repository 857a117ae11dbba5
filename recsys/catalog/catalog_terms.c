/*
 * catalog_terms.c - the programme terms of a snapshot's items (catalog.h):
 * members-only tiers, release times and member prices, kept apart from the
 * per-item arrays because few items have any.
 *
 * Each item with terms gets one block (the struct, its prices, then its
 * strings) owned by the snapshot's string chain, so a patched snapshot
 * shares the terms of the items it did not touch, as it shares their
 * titles.
 */
#include "catalog.h"
#include "catalog_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int has_terms(const store_item_t *it)
{
    return (it->member_tier && it->member_tier[0]) || it->release_ms > 0 ||
           it->n_member_prices > 0;
}

size_t catalog_terms_bytes(const catalog_terms_t *t)
{
    size_t b = sizeof *t + strlen(t->member_tier) + 1;
    for (uint32_t p = 0; p < t->n_prices; p++)
        b += sizeof *t->prices + strlen(t->prices[p].price_list) + 1;
    return b;
}

int catalog_set_terms(catalog_t *c, uint32_t idx, const store_item_t *it)
{
    const char *tier = it->member_tier ? it->member_tier : "";
    size_t n = it->n_member_prices, bytes = sizeof(catalog_terms_t) +
                                            n * sizeof(store_member_price_t) +
                                            strlen(tier) + 1;
    store_member_price_t *prices;
    catalog_terms_t *t;
    char *str;

    c->terms[idx] = NULL;
    if (!has_terms(it))
        return 0;
    for (size_t p = 0; p < n; p++)
        bytes += strlen(it->member_prices[p].price_list) + 1;
    if (!(t = catalog_strings_alloc(c->strings, bytes)))
        return -ENOMEM;
    /* The block: the struct, the prices (doubles: aligned after the struct's
     * int64 and pointers), then the strings. */
    prices = (store_member_price_t *)(t + 1);
    str = (char *)(prices + n);
    t->member_tier = str;
    str = stpcpy(str, tier) + 1;
    for (size_t p = 0; p < n; p++) {
        prices[p].price_list = str;
        prices[p].price = it->member_prices[p].price;
        str = stpcpy(str, it->member_prices[p].price_list) + 1;
    }
    t->release_ms = it->release_ms;
    t->n_prices = (uint32_t)n;
    t->prices = prices;
    c->terms[idx] = t;
    return 0;
}

int catalog_index_terms(catalog_t *c)
{
    uint32_t n = 0;

    free(c->gated);
    c->gated = NULL;
    c->n_gated = c->n_members_only = c->n_member_priced = 0;
    c->last_release_ms = 0;
    for (uint32_t i = 0; i < c->n_items; i++) {
        const catalog_terms_t *t = c->terms[i];
        if (!t)
            continue;
        n += t->member_tier[0] || t->release_ms > 0;
        c->n_members_only += t->member_tier[0] != '\0';
        c->n_member_priced += t->n_prices > 0;
        if (t->release_ms > c->last_release_ms)
            c->last_release_ms = t->release_ms;
    }
    if (!(c->gated = malloc((n ? n : 1) * sizeof *c->gated)))
        return -ENOMEM;
    for (uint32_t i = 0; i < c->n_items; i++) {
        const catalog_terms_t *t = c->terms[i];
        if (t && (t->member_tier[0] || t->release_ms > 0))
            c->gated[c->n_gated++] = i;
    }
    return 0;
}

int catalog_gates_at(const catalog_t *c, int64_t now_ms)
{
    return c->n_members_only > 0 || c->last_release_ms > now_ms;
}

double catalog_item_price(const catalog_t *c, uint32_t idx, const char *list, int *member)
{
    const catalog_terms_t *t = c->terms[idx];

    if (member)
        *member = 0;
    if (!t || !list || !list[0])
        return c->price[idx];
    for (uint32_t p = 0; p < t->n_prices; p++)
        if (strcmp(t->prices[p].price_list, list) == 0) {
            if (member)
                *member = 1;
            return t->prices[p].price;
        }
    return c->price[idx];
}
