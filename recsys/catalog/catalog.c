/*
 * catalog.c - building catalog snapshots from the store, lookups, reference
 * counting, and the serving slot (catalog.h).
 *
 * A snapshot is arranged so that a request's filters cost time in
 * proportion to the items they touch, not the catalog: items grouped by
 * category, items sorted by price, an out-of-stock bitset, and items sorted
 * by id for lookups. Building one at 100k items reads the items table once
 * and sorts three arrays (~70 ms, bench/bench_catalog); item writes usually
 * patch the current snapshot instead (catalog_patch.c, ~2 ms), and both
 * run off the request path (requests keep the snapshot they pinned).
 */
#include "catalog.h"
#include "catalog_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "topk.h"

int catalog_cmp_str_idx(const void *a, const void *b)
{
    const catalog_str_idx_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

int catalog_cmp_num_idx(const void *a, const void *b)
{
    const catalog_num_idx_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* ---- strings shared along a chain of patched snapshots ------------------------- */

struct catalog_strings *catalog_strings_new(struct catalog_strings *older)
{
    struct catalog_strings *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    if (older) {
        atomic_fetch_add_explicit(&older->refs, 1, memory_order_relaxed);
        b->older = older;
        b->depth = older->depth;
    }
    b->depth++;
    return b;
}

void catalog_strings_unref(struct catalog_strings *b)
{
    while (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        struct catalog_strings *older = b->older;
        for (size_t i = 0; i < b->n; i++)
            free(b->owned[i]);
        free(b->owned);
        free(b);
        b = older;
    }
}

char *catalog_strings_dup(struct catalog_strings *b, const char *s)
{
    char *d;
    if (GROW(b->owned, b->cap, b->n + 1) || !(d = strdup(s)))
        return NULL;
    /* cppcheck-suppress memleak ; b->owned keeps it, catalog_strings_unref frees it */
    return b->owned[b->n++] = d;
}

void *catalog_strings_alloc(struct catalog_strings *b, size_t n)
{
    char *d;
    if (GROW(b->owned, b->cap, b->n + 1) || !(d = malloc(n ? n : 1)))
        return NULL;
    /* cppcheck-suppress memleak ; b->owned keeps it, catalog_strings_unref frees it */
    return b->owned[b->n++] = d;
}

/* ---- one snapshot ---------------------------------------------------------------- */

void catalog_destroy(catalog_t *c)
{
    catalog_strings_unref(c->strings);
    free(c->categories);
    free(c->ids);
    free(c->titles);
    free(c->price);
    free(c->unit_cost);
    free(c->in_stock);
    free(c->item_cat);
    free(c->cat_by_name);
    free(c->cat_ptr);
    free(c->cat_items);
    free(c->by_price);
    free(c->by_id);
    free(c->out_of_stock);
    free(c->terms);
    free(c->gated);
    free(c);
}

void catalog_publish(catalog_t *c, catalog_t **out)
{
    atomic_init(&c->refs, 1);
    *out = c;
}

int catalog_alloc_items(catalog_t *c, uint32_t n)
{
    size_t m = n ? n : 1;
    c->n_items = n;
    c->ids = calloc(m, sizeof *c->ids);
    c->titles = calloc(m, sizeof *c->titles);
    c->price = calloc(m, sizeof *c->price);
    c->unit_cost = calloc(m, sizeof *c->unit_cost);
    c->in_stock = calloc(m, 1);
    c->item_cat = calloc(m, sizeof *c->item_cat);
    c->by_price = malloc(m * sizeof *c->by_price);
    c->by_id = malloc(m * sizeof *c->by_id);
    c->out_of_stock = calloc(TOPK_BITSET_WORDS(n) + 1, sizeof *c->out_of_stock);
    c->cat_items = malloc(m * sizeof *c->cat_items);
    c->terms = calloc(m, sizeof *c->terms);
    return c->ids && c->titles && c->price && c->unit_cost && c->in_stock &&
           c->item_cat && c->by_price && c->by_id && c->out_of_stock &&
           c->cat_items && c->terms ? 0 : -ENOMEM;
}

/* Category names per item while loading, before they are interned. */
typedef struct fill {
    catalog_t *c;
    char **cat_names;
} fill_t;

static int fill_item(void *ctx, uint32_t idx, const store_item_t *it)
{
    fill_t *f = ctx;
    catalog_t *c = f->c;
    if (idx >= c->n_items)
        return 0; /* stored after the count was read */
    c->ids[idx] = catalog_strings_dup(c->strings, it->item_id);
    c->titles[idx] = catalog_strings_dup(c->strings, it->title ? it->title : "");
    f->cat_names[idx] = strdup(it->category ? it->category : "");
    if (!c->ids[idx] || !c->titles[idx] || !f->cat_names[idx])
        return -ENOMEM;
    c->price[idx] = it->price;
    c->unit_cost[idx] = it->unit_cost;
    c->in_stock[idx] = it->in_stock ? 1 : 0;
    return catalog_set_terms(c, idx, it);
}

/* Indices the store has no row for (none in a consistent store) become
 * empty, out-of-stock entries rather than holes. */
static int fill_gaps(catalog_t *c, char **cat_names)
{
    for (uint32_t i = 0; i < c->n_items; i++) {
        if (c->ids[i])
            continue;
        c->ids[i] = catalog_strings_dup(c->strings, "");
        c->titles[i] = catalog_strings_dup(c->strings, "");
        cat_names[i] = strdup("");
        if (!c->ids[i] || !c->titles[i] || !cat_names[i])
            return -ENOMEM;
    }
    return 0;
}

/* First item index of each distinct name, for numbering by appearance. */
typedef struct first_seen {
    uint32_t first;
    uint32_t group;   /* position among distinct names in strcmp order */
    const char *name;
} first_seen_t;

static int cmp_first(const void *a, const void *b)
{
    const first_seen_t *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/* Numbers the distinct non-empty names of pairs[0..n) (sorted by name) by
 * first appearance: fills categories and item_cat. */
static int intern_names(catalog_t *c, const catalog_str_idx_t *pairs, size_t n)
{
    first_seen_t *groups = malloc((n ? n : 1) * sizeof *groups);
    uint32_t *id_of = malloc((n ? n : 1) * sizeof *id_of);
    uint32_t n_groups = 0;
    int rc = -ENOMEM;

    c->categories = malloc((n ? n : 1) * sizeof *c->categories);
    if (!groups || !id_of || !c->categories)
        goto out;
    for (size_t j = 0; j < n; j++) {
        if (j == 0 || strcmp(pairs[j].key, pairs[j - 1].key) != 0) {
            groups[n_groups] = (first_seen_t){ pairs[j].idx, n_groups, pairs[j].key };
            n_groups++;
        }
    }
    qsort(groups, n_groups, sizeof *groups, cmp_first);
    for (uint32_t id = 0; id < n_groups; id++) {
        id_of[groups[id].group] = id;
        if (!(c->categories[id] = catalog_strings_dup(c->strings, groups[id].name)))
            goto out;
        c->n_categories = id + 1;
    }
    for (size_t j = 0, g = 0; j < n; j++) {
        if (j > 0 && strcmp(pairs[j].key, pairs[j - 1].key) != 0)
            g++;
        c->item_cat[pairs[j].idx] = id_of[g];
    }
    rc = 0;
out:
    free(groups);
    free(id_of);
    return rc;
}

static int cmp_name_of(const void *a, const void *b, const catalog_t *c)
{
    return strcmp(c->categories[*(const uint32_t *)a], c->categories[*(const uint32_t *)b]);
}

int catalog_sort_category_names(catalog_t *c)
{
    uint32_t n = c->n_categories;
    free(c->cat_by_name);
    if (!(c->cat_by_name = malloc((n ? n : 1) * sizeof *c->cat_by_name)))
        return -ENOMEM;
    /* Insertion sort: shops have tens to hundreds of categories, and qsort
     * has no context argument. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        while (j > 0 && cmp_name_of(&c->cat_by_name[j - 1], &i, c) > 0) {
            c->cat_by_name[j] = c->cat_by_name[j - 1];
            j--;
        }
        c->cat_by_name[j] = i;
    }
    return 0;
}

int catalog_group_by_category(catalog_t *c)
{
    uint32_t *fill = calloc((size_t)c->n_categories + 1, sizeof *fill);
    free(c->cat_ptr);
    c->cat_ptr = calloc((size_t)c->n_categories + 2, sizeof *c->cat_ptr);
    if (!c->cat_ptr || !fill) {
        free(fill);
        return -ENOMEM;
    }
    /* Counting sort by category id, items ascending within a category. */
    for (uint32_t i = 0; i < c->n_items; i++) {
        uint32_t g = c->item_cat[i] == CATALOG_NO_CATEGORY ? c->n_categories : c->item_cat[i];
        c->cat_ptr[g + 1]++;
    }
    for (uint32_t g = 0; g <= c->n_categories; g++)
        c->cat_ptr[g + 1] += c->cat_ptr[g];
    for (uint32_t i = 0; i < c->n_items; i++) {
        uint32_t g = c->item_cat[i] == CATALOG_NO_CATEGORY ? c->n_categories : c->item_cat[i];
        c->cat_items[c->cat_ptr[g] + fill[g]++] = i;
    }
    free(fill);
    return 0;
}

/* Interns category names and groups items by category (uncategorized ones
 * last). */
static int build_categories(catalog_t *c, char **cat_names)
{
    uint32_t n = c->n_items;
    catalog_str_idx_t *pairs = malloc((n ? n : 1) * sizeof *pairs);
    size_t named = 0;
    int rc = -ENOMEM;

    if (!pairs)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        c->item_cat[i] = CATALOG_NO_CATEGORY;
        if (cat_names[i][0])
            pairs[named++] = (catalog_str_idx_t){ cat_names[i], i };
    }
    qsort(pairs, named, sizeof *pairs, catalog_cmp_str_idx);
    if ((rc = intern_names(c, pairs, named)) == 0 &&
        (rc = catalog_sort_category_names(c)) == 0)
        rc = catalog_group_by_category(c);
    free(pairs);
    return rc;
}

static int build_orders(catalog_t *c)
{
    uint32_t n = c->n_items;
    catalog_str_idx_t *ids = malloc((n ? n : 1) * sizeof *ids);
    catalog_num_idx_t *prices = malloc((n ? n : 1) * sizeof *prices);
    int rc = -ENOMEM;

    if (!ids || !prices)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = (catalog_str_idx_t){ c->ids[i], i };
        prices[i] = (catalog_num_idx_t){ c->price[i], i };
        if (!c->in_stock[i])
            topk_bitset_set(c->out_of_stock, i);
    }
    qsort(ids, n, sizeof *ids, catalog_cmp_str_idx);
    qsort(prices, n, sizeof *prices, catalog_cmp_num_idx);
    for (uint32_t j = 0; j < n; j++) {
        c->by_id[j] = ids[j].idx;
        c->by_price[j] = prices[j].idx;
    }
    rc = 0;
out:
    free(ids);
    free(prices);
    return rc;
}

int catalog_load(store_t *s, catalog_t **out)
{
    catalog_t *c = calloc(1, sizeof *c);
    fill_t f = { c, NULL };
    uint32_t n = 0;
    int rc;

    if (!c)
        return -ENOMEM;
    if (!(c->strings = catalog_strings_new(NULL))) {
        catalog_destroy(c);
        return -ENOMEM;
    }
    if ((rc = store_counts(s, NULL, &n)) != 0)
        goto out;
    if ((rc = catalog_alloc_items(c, n)) != 0 ||
        !(f.cat_names = calloc(n ? n : 1, sizeof *f.cat_names))) {
        rc = -ENOMEM;
        goto out;
    }
    rc = store_scan_items(s, fill_item, &f);
    if (rc == 0)
        rc = fill_gaps(c, f.cat_names);
    if (rc == 0)
        rc = build_categories(c, f.cat_names);
    if (rc == 0)
        rc = build_orders(c);
    if (rc == 0)
        rc = catalog_index_terms(c);
out:
    for (uint32_t i = 0; f.cat_names && i < n; i++)
        free(f.cat_names[i]);
    free(f.cat_names);
    if (rc) {
        catalog_destroy(c);
        return rc;
    }
    catalog_publish(c, out);
    return 0;
}

/* Binary search for key among names[order[0..n)]; *idx gets the name's
 * index in names. */
static int find_sorted(char *const *names, const uint32_t *order, size_t n,
                       const char *key, uint32_t *idx)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(names[order[mid]], key);
        if (cmp == 0) {
            *idx = order[mid];
            return 0;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -ENOENT;
}

int catalog_item_index(const catalog_t *c, const char *item_id, uint32_t *idx)
{
    if (!item_id || !item_id[0])
        return -ENOENT; /* "" marks an index without a stored row */
    return find_sorted(c->ids, c->by_id, c->n_items, item_id, idx);
}

int catalog_category_index(const catalog_t *c, const char *name, uint32_t *id)
{
    if (name && !name[0]) {
        *id = CATALOG_NO_CATEGORY;
        return 0;
    }
    return name ? find_sorted(c->categories, c->cat_by_name, c->n_categories, name, id)
                : -ENOENT;
}

int catalog_category_by_key(const catalog_t *c, uint64_t key, uint32_t *id)
{
    for (uint32_t k = 0; k < c->n_categories; k++)
        if (store_category_key(c->categories[k]) == key) {
            *id = k;
            return 0;
        }
    return -ENOENT;
}

void catalog_category_items(const catalog_t *c, uint32_t id, uint32_t *begin,
                            uint32_t *end)
{
    uint32_t g = id >= c->n_categories ? c->n_categories : id;
    *begin = c->cat_ptr[g];
    *end = c->cat_ptr[g + 1];
}

const char *catalog_item_category(const catalog_t *c, uint32_t idx)
{
    uint32_t id = c->item_cat[idx];
    return id == CATALOG_NO_CATEGORY ? "" : c->categories[id];
}

size_t catalog_bytes(const catalog_t *c)
{
    size_t n = c->n_items, b = sizeof *c;
    b += n * (sizeof(char *) * 2 + sizeof(double) * 2 + 1);  /* ids, titles, price, cost, stock */
    b += n * sizeof(uint32_t) * 4;                           /* item_cat, cat_items, orders */
    b += (TOPK_BITSET_WORDS(n) + 1) * sizeof(uint64_t);
    b += ((size_t)c->n_categories + 2) * sizeof(uint32_t);
    for (size_t i = 0; i < n; i++)
        b += strlen(c->ids[i]) + strlen(c->titles[i]) + 2;
    for (uint32_t k = 0; k < c->n_categories; k++)
        b += strlen(c->categories[k]) + 1 + sizeof(char *) + sizeof(uint32_t);
    b += n * sizeof *c->terms + (size_t)c->n_gated * sizeof *c->gated;
    for (size_t i = 0; i < n; i++)
        if (c->terms[i])
            b += catalog_terms_bytes(c->terms[i]);
    return b;
}

catalog_t *catalog_ref(catalog_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void catalog_unref(catalog_t *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        catalog_destroy(c);
}

void catalog_slot_init(catalog_slot_t *slot)
{
    pthread_mutex_init(&slot->mu, NULL);
    pthread_mutex_init(&slot->build_mu, NULL);
    slot->cur = NULL;
    slot->swaps = 0;
}

void catalog_slot_destroy(catalog_slot_t *slot)
{
    catalog_unref(slot->cur);
    slot->cur = NULL;
    pthread_mutex_destroy(&slot->mu);
    pthread_mutex_destroy(&slot->build_mu);
}

catalog_t *catalog_slot_get(catalog_slot_t *slot)
{
    catalog_t *c;
    pthread_mutex_lock(&slot->mu);
    c = slot->cur ? catalog_ref(slot->cur) : NULL;
    pthread_mutex_unlock(&slot->mu);
    return c;
}

void catalog_slot_set(catalog_slot_t *slot, catalog_t *c)
{
    catalog_t *old;
    pthread_mutex_lock(&slot->mu);
    old = slot->cur;
    slot->cur = c;
    slot->swaps++;
    pthread_mutex_unlock(&slot->mu);
    catalog_unref(old);
}

int catalog_slot_reload(catalog_slot_t *slot, store_t *s)
{
    catalog_t *c;
    int rc;
    pthread_mutex_lock(&slot->build_mu);
    if ((rc = catalog_load(s, &c)) == 0)
        catalog_slot_set(slot, c);
    pthread_mutex_unlock(&slot->build_mu);
    return rc;
}
