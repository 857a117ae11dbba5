/*
 * catalog_patch.c - a new catalog snapshot from its predecessor and the
 * items just written, without reading the store (catalog_patch), and the
 * write path that uses it (catalog_slot_upsert).
 *
 * Why patch: at 100k items a rebuild costs ~69 ms (copying strings,
 * interning categories, sorting by id and by price; reading the items table
 * is only ~3 ms of it), while copying a snapshot's arrays costs ~0.3 ms
 * (bench/bench_catalog). A patch copies the arrays, shares the unchanged
 * strings with its predecessor, re-sorts only the touched items and merges
 * them back: O(items + k log k) for k written items.
 *
 * A patch gives exactly the snapshot a rebuild would, or declines with
 * -EAGAIN where that would take more than a merge (an existing item changes
 * category: category ids number names by first appearance, so ids could
 * move; the store holds items this snapshot never saw, e.g. from
 * `patron import`; a long chain of patches, whose replaced strings a
 * rebuild releases).
 */
#include "catalog.h"
#include "catalog_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

/* Patches on patches before a rebuild starts a fresh string chain. */
#define CATALOG_MAX_PATCHES 32

/* A copy of base's per-item arrays, grown to n items, sharing its strings. */
static int copy_base(const catalog_t *b, uint32_t n, catalog_t *c)
{
    size_t m = b->n_items;
    if (!(c->strings = catalog_strings_new(b->strings)) || catalog_alloc_items(c, n) != 0)
        return -ENOMEM;
    memcpy(c->ids, b->ids, m * sizeof *c->ids);
    memcpy(c->titles, b->titles, m * sizeof *c->titles);
    memcpy(c->price, b->price, m * sizeof *c->price);
    memcpy(c->unit_cost, b->unit_cost, m * sizeof *c->unit_cost);
    memcpy(c->in_stock, b->in_stock, m);
    memcpy(c->item_cat, b->item_cat, m * sizeof *c->item_cat);
    memcpy(c->terms, b->terms, m * sizeof *c->terms); /* shared: b->strings */
    memcpy(c->out_of_stock, b->out_of_stock,
           (TOPK_BITSET_WORDS(b->n_items) + 1) * sizeof *c->out_of_stock);
    c->categories = malloc(((size_t)b->n_categories + n - m + 1) * sizeof *c->categories);
    if (!c->categories)
        return -ENOMEM;
    memcpy(c->categories, b->categories, b->n_categories * sizeof *c->categories);
    c->n_categories = b->n_categories;
    return 0;
}

/* The category id of a new item's name, appending the name when no item had
 * it (new items come in index order, so that is first appearance). */
static int new_item_category(const catalog_t *b, catalog_t *c, const char *name,
                             uint32_t *id)
{
    if (catalog_category_index(b, name, id) == 0)
        return 0;
    for (uint32_t k = b->n_categories; k < c->n_categories; k++)
        if (strcmp(c->categories[k], name) == 0) {
            *id = k;
            return 0;
        }
    if (!(c->categories[c->n_categories] = catalog_strings_dup(c->strings, name)))
        return -ENOMEM;
    *id = c->n_categories++;
    return 0;
}

/* Applies one written item at index x; moved[x] marks items whose place in
 * price order must be recomputed. */
static int apply_item(const catalog_t *b, catalog_t *c, const store_item_t *it,
                      uint32_t x, uint8_t *moved)
{
    const char *name = it->category ? it->category : "";
    const char *title = it->title ? it->title : "";
    int rc;

    if (x < b->n_items) {
        if (strcmp(name, catalog_item_category(b, x)) != 0)
            return -EAGAIN;
    } else {
        if (c->ids[x]) /* a new id twice in one write */
            return -EAGAIN;
        if (!(c->ids[x] = catalog_strings_dup(c->strings, it->item_id)))
            return -ENOMEM;
        c->item_cat[x] = CATALOG_NO_CATEGORY;
        if (name[0] && (rc = new_item_category(b, c, name, &c->item_cat[x])) != 0)
            return rc;
    }
    if ((!c->titles[x] || strcmp(title, c->titles[x]) != 0) &&
        !(c->titles[x] = catalog_strings_dup(c->strings, title)))
        return -ENOMEM;
    if (x >= b->n_items || c->price[x] != it->price)
        moved[x] = 1;
    c->price[x] = it->price;
    c->unit_cost[x] = it->unit_cost;
    c->in_stock[x] = it->in_stock ? 1 : 0;
    if (c->in_stock[x])
        c->out_of_stock[x >> 6] &= ~((uint64_t)1 << (x & 63));
    else
        topk_bitset_set(c->out_of_stock, x);
    return catalog_set_terms(c, x, it);
}

/* by_id: base's order with the new items merged in. */
static int merge_ids(const catalog_t *b, catalog_t *c)
{
    uint32_t k = c->n_items - b->n_items, i = 0, j = 0, o = 0;
    catalog_str_idx_t *fresh = malloc((k ? k : 1) * sizeof *fresh);
    if (!fresh)
        return -ENOMEM;
    for (uint32_t x = 0; x < k; x++)
        fresh[x] = (catalog_str_idx_t){ c->ids[b->n_items + x], b->n_items + x };
    qsort(fresh, k, sizeof *fresh, catalog_cmp_str_idx);
    while (i < b->n_items || j < k) {
        if (j == k || (i < b->n_items && strcmp(b->ids[b->by_id[i]], fresh[j].key) <= 0))
            c->by_id[o++] = b->by_id[i++];
        else
            c->by_id[o++] = fresh[j++].idx;
    }
    free(fresh);
    return 0;
}

/* by_price: base's order without the moved items, merged with the moved
 * items sorted by their new prices (ties by index, as a rebuild sorts). */
static int merge_prices(const catalog_t *b, catalog_t *c, const uint8_t *moved)
{
    uint32_t k = 0, i = 0, j = 0, o = 0;
    catalog_num_idx_t *fresh;

    for (uint32_t x = 0; x < c->n_items; x++)
        k += moved[x];
    if (!(fresh = malloc((k ? k : 1) * sizeof *fresh)))
        return -ENOMEM;
    for (uint32_t x = 0, f = 0; x < c->n_items; x++)
        if (moved[x])
            fresh[f++] = (catalog_num_idx_t){ c->price[x], x };
    qsort(fresh, k, sizeof *fresh, catalog_cmp_num_idx);
    for (;;) {
        while (i < b->n_items && moved[b->by_price[i]])
            i++;
        if (i == b->n_items && j == k)
            break;
        if (j == k || (i < b->n_items &&
                       catalog_cmp_num_idx(&(catalog_num_idx_t){ c->price[b->by_price[i]],
                                                                 b->by_price[i] },
                                           &fresh[j]) < 0))
            c->by_price[o++] = b->by_price[i++];
        else
            c->by_price[o++] = fresh[j++].idx;
    }
    free(fresh);
    return 0;
}

int catalog_patch(const catalog_t *base, const store_item_t *items, const uint32_t *idx,
                  size_t n, uint32_t n_store, catalog_t **out)
{
    catalog_t *c;
    uint8_t *moved = NULL;
    int rc;

    if (base->strings->depth >= CATALOG_MAX_PATCHES || n_store < base->n_items)
        return -EAGAIN;
    if (!(c = calloc(1, sizeof *c)))
        return -ENOMEM;
    rc = copy_base(base, n_store, c);
    if (rc == 0 && !(moved = calloc(n_store ? n_store : 1, 1)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = idx[i] < n_store ? apply_item(base, c, &items[i], idx[i], moved) : -EAGAIN;
    for (uint32_t x = base->n_items; rc == 0 && x < n_store; x++)
        if (!c->ids[x])
            rc = -EAGAIN; /* stored beside this write: only a rebuild sees it */
    if (rc == 0)
        rc = catalog_sort_category_names(c);
    if (rc == 0)
        rc = catalog_group_by_category(c);
    if (rc == 0)
        rc = merge_ids(base, c);
    if (rc == 0)
        rc = merge_prices(base, c, moved);
    if (rc == 0)
        rc = catalog_index_terms(c);
    free(moved);
    if (rc) {
        catalog_destroy(c);
        return rc;
    }
    catalog_publish(c, out);
    return 0;
}

/* The store index of each written item: from the base snapshot when it
 * knew the item, else from the store (new items). */
static int written_indices(store_t *s, const catalog_t *base, const store_item_t *items,
                           size_t n, uint32_t *idx)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (base && catalog_item_index(base, items[i].item_id, &idx[i]) == 0)
            continue;
        if ((rc = store_item_index(s, items[i].item_id, &idx[i])) != 0)
            return rc;
    }
    return 0;
}

/* A snapshot with the committed items: patched from the current one when
 * that gives the same answer, rebuilt from the store otherwise. */
static int refreshed(catalog_slot_t *slot, store_t *s, const store_item_t *items, size_t n,
                     catalog_t **out)
{
    catalog_t *base = catalog_slot_get(slot);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx), n_store = 0;
    int rc = idx ? 0 : -ENOMEM;

    if (rc == 0 && base && (rc = written_indices(s, base, items, n, idx)) == 0 &&
        (rc = store_counts(s, NULL, &n_store)) == 0)
        rc = catalog_patch(base, items, idx, n, n_store, out);
    if (!base || rc != 0) /* -EAGAIN, or the patch could not be prepared */
        rc = catalog_load(s, out);
    catalog_unref(base);
    free(idx);
    return rc;
}

int catalog_slot_upsert(catalog_slot_t *slot, store_t *s, const store_item_t *items,
                        size_t n, size_t *inserted, size_t *updated, size_t *bad_index,
                        const char **reason, int *refresh_rc)
{
    catalog_t *c = NULL;
    int rc, rrc = 0;

    pthread_mutex_lock(&slot->build_mu);
    rc = store_upsert_items(s, items, n, inserted, updated, bad_index, reason);
    if (rc == 0 && (rrc = refreshed(slot, s, items, n, &c)) == 0)
        catalog_slot_set(slot, c);
    pthread_mutex_unlock(&slot->build_mu);
    if (refresh_rc)
        *refresh_rc = rrc;
    return rc;
}
