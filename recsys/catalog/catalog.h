/*
 * catalog.h - an immutable, reference-counted snapshot of the item catalog
 * (ids, titles, categories, prices, unit costs, stock) with the lookup
 * structures requests need, plus the slot that holds the snapshot being
 * served.
 *
 * The catalog has its own cadence: a new snapshot is built and swapped in
 * after every successful item upsert, independently of model versions. A
 * request pins one catalog (and one model); items are dense store indices,
 * so a catalog may hold more items than a model (items added after
 * training: they have details and filters, but no factors).
 *
 * A catalog_t never changes after catalog_load returns, so any number of
 * threads may read it without locks. Whoever holds a reference
 * (catalog_slot_get or catalog_ref) drops it with catalog_unref; the last
 * unref frees it.
 */
#ifndef PATRON_RECSYS_CATALOG_H
#define PATRON_RECSYS_CATALOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The category id of an item without a category. */
#define CATALOG_NO_CATEGORY UINT32_MAX

/* An item's programme terms (store_item_t's member_tier, release_ms and
 * member_prices), for the few items that have any. */
typedef struct catalog_terms {
    const char *member_tier;             /* "": everyone */
    int64_t release_ms;                  /* 0: released */
    uint32_t n_prices;
    const store_member_price_t *prices;  /* n_prices, lists distinct */
} catalog_terms_t;

typedef struct catalog {
    uint32_t n_items;
    char **ids;          /* n_items: the shop's item ids ("" for an index the
                          * store has no row for) */
    char **titles;       /* n_items: titles ("" if none) */
    double *price;       /* n_items */
    double *unit_cost;   /* n_items */
    uint8_t *in_stock;   /* n_items: 0 or 1 */
    uint32_t *item_cat;  /* n_items: category id, CATALOG_NO_CATEGORY if none */

    /* Category ids number the distinct non-empty names by first appearance
     * in item index order, so ids stay put when items are added (stored
     * coupons name categories by id). */
    char **categories;   /* n_categories names */
    uint32_t n_categories;
    uint32_t *cat_by_name; /* n_categories: ids in strcmp order of names */
    uint32_t *cat_ptr;   /* n_categories + 2: items of category c are */
    uint32_t *cat_items; /*   cat_items[cat_ptr[c] .. cat_ptr[c + 1]); group
                          *   n_categories holds the uncategorized items */
    uint32_t *by_price;  /* n_items: item indices by ascending price */
    uint32_t *by_id;     /* n_items: item indices by id (strcmp order) */
    uint64_t *out_of_stock; /* bitset over n_items (TOPK_BITSET_WORDS + 1) */

    /* Programme terms (catalog_terms.c): terms[i] is NULL for an item
     * without any (most items), so plain catalogs cost one pointer per
     * item. gated lists the items with a member tier or a release time
     * (ascending), so a request checks those alone. */
    const catalog_terms_t **terms; /* n_items */
    uint32_t *gated;
    uint32_t n_gated;
    uint32_t n_members_only;       /* items with a member tier */
    uint32_t n_member_priced;      /* items with a member price */
    int64_t last_release_ms;       /* the latest release time; 0 none */

    struct catalog_strings *strings; /* owns the strings above (shared with
                                      * the snapshots this one was patched
                                      * from; catalog_internal.h) */
    atomic_int refs;
} catalog_t;

/* Reads every item of the store into a new snapshot with one reference.
 * Returns 0, -ENOMEM or a store error. */
int catalog_load(store_t *s, catalog_t **out);

/*
 * A new snapshot: base with items[0..n) applied, which the caller has just
 * committed to the store; idx[i] is items[i]'s store index and n_store the
 * store's item count after the write. No store read: arrays are copied,
 * unchanged strings shared with base, touched items merged back into the
 * orders, O(n_items + n log n). The result equals what catalog_load would
 * build, or the patch declines: -EAGAIN when only a rebuild gives that
 * (an existing item changes category, the store holds items neither base
 * nor items have, a new id twice in items, a long chain of patches).
 * Returns 0, -EAGAIN or -ENOMEM.
 */
int catalog_patch(const catalog_t *base, const store_item_t *items, const uint32_t *idx,
                  size_t n, uint32_t n_store, catalog_t **out);

/* Dense index of an item id; -ENOENT if absent. */
int catalog_item_index(const catalog_t *c, const char *item_id, uint32_t *idx);

/* Category id of a name; "" is CATALOG_NO_CATEGORY. -ENOENT if no item has
 * the category. */
int catalog_category_index(const catalog_t *c, const char *name, uint32_t *id);

/* Category id of the category whose store_category_key is key (how stored
 * events name a category); -ENOENT if no item has it. Linear in the
 * number of categories: for the few category events of one history. */
int catalog_category_by_key(const catalog_t *c, uint64_t key, uint32_t *id);

/* The items of category id (CATALOG_NO_CATEGORY: the uncategorized ones):
 * c->cat_items[*begin .. *end). */
void catalog_category_items(const catalog_t *c, uint32_t id, uint32_t *begin,
                            uint32_t *end);

/* The category name of item idx < n_items ("" when it has none); borrowed
 * from c. */
const char *catalog_item_category(const catalog_t *c, uint32_t idx);

/* Whether any item is hidden from a customer holding no tier at now_ms
 * (members-only items, or items released after now_ms): only then does
 * the customer's tier change which items may be recommended. */
int catalog_gates_at(const catalog_t *c, int64_t now_ms);

/* The price of item idx < n_items on price list `list` (NULL or "": none):
 * its member price there when it has one (*member = 1), else its regular
 * price (*member = 0; member may be NULL). */
double catalog_item_price(const catalog_t *c, uint32_t idx, const char *list, int *member);

/* Bytes the snapshot holds in memory. */
size_t catalog_bytes(const catalog_t *c);

catalog_t *catalog_ref(catalog_t *c); /* returns c */
void catalog_unref(catalog_t *c);     /* NULL-safe; frees on the last reference */

/* The slot holding the catalog being served, and how many times it was
 * swapped (a diagnostic, e.g. for tests: each successful upsert swaps once). */
typedef struct catalog_slot {
    pthread_mutex_t mu;       /* guards cur and swaps */
    pthread_mutex_t build_mu; /* one catalog_slot_reload at a time, so the
                               * last snapshot built is the newest */
    catalog_t *cur;
    uint64_t swaps;
} catalog_slot_t;

void catalog_slot_init(catalog_slot_t *slot);
void catalog_slot_destroy(catalog_slot_t *slot); /* drops the current catalog */
/* Returns the current catalog with a reference taken, or NULL if none. */
catalog_t *catalog_slot_get(catalog_slot_t *slot);
/* Installs c (taking over the caller's reference) and drops the old one. */
void catalog_slot_set(catalog_slot_t *slot, catalog_t *c);
/* Builds a snapshot from the store and installs it; on error the old one
 * stays. Call it after each committed item write: reloads are serialized,
 * so the snapshot served afterwards includes that write. Returns 0 or
 * catalog_load's error. */
int catalog_slot_reload(catalog_slot_t *slot, store_t *s);

/* The write path for items: store_upsert_items (same arguments, return
 * value and errors) and, under the slot's build lock, a snapshot with the
 * write swapped in, patched from the current one when catalog_patch can,
 * else rebuilt from the store. Serving sees the write from the next
 * request on. *refresh_rc (may be NULL) gets 0, or the error that left the
 * old snapshot in place although the write committed. */
int catalog_slot_upsert(catalog_slot_t *slot, store_t *s, const store_item_t *items,
                        size_t n, size_t *inserted, size_t *updated, size_t *bad_index,
                        const char **reason, int *refresh_rc);

#endif
