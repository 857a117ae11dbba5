/*
 * catalog_internal.h - what catalog.c (building a snapshot from the store)
 * and catalog_patch.c (building one from its predecessor) share. Not part
 * of the catalog's contract.
 */
#ifndef PATRON_RECSYS_CATALOG_INTERNAL_H
#define PATRON_RECSYS_CATALOG_INTERNAL_H

#include "catalog.h"

/* The strings (ids, titles, category names) of a snapshot. A patched
 * snapshot shares its predecessor's block and adds one for the strings it
 * changed, so blocks form a chain, freed when the last snapshot using it
 * goes; a full rebuild starts a new chain. */
struct catalog_strings {
    atomic_int refs;
    struct catalog_strings *older;  /* NULL for a rebuilt snapshot */
    uint32_t depth;                 /* blocks in the chain, this one included */
    char **owned;
    size_t n, cap;
};

/* (key, index) pairs to sort with qsort, which has no context argument;
 * ties go by index. */
typedef struct catalog_str_idx {
    const char *key;
    uint32_t idx;
} catalog_str_idx_t;

typedef struct catalog_num_idx {
    double key;
    uint32_t idx;
} catalog_num_idx_t;

int catalog_cmp_str_idx(const void *a, const void *b);
int catalog_cmp_num_idx(const void *a, const void *b);

/* A new empty block on top of older (its reference is taken; may be
 * NULL); NULL when out of memory. */
struct catalog_strings *catalog_strings_new(struct catalog_strings *older);
void catalog_strings_unref(struct catalog_strings *b); /* NULL-safe */
/* A copy of s owned by b, or NULL when out of memory. */
char *catalog_strings_dup(struct catalog_strings *b, const char *s);

/* A block of n bytes owned by b (freed with it), or NULL. */
void *catalog_strings_alloc(struct catalog_strings *b, size_t n);

/* c->terms[idx] from it's programme terms: NULL when it has none, else a
 * copy owned by c->strings. Returns 0 or -ENOMEM. */
int catalog_set_terms(catalog_t *c, uint32_t idx, const store_item_t *it);
/* Bytes one item's terms hold. */
size_t catalog_terms_bytes(const catalog_terms_t *t);
/* gated, n_gated and the counts from terms (after loading or patching);
 * -ENOMEM. */
int catalog_index_terms(catalog_t *c);

/* Allocates the per-item arrays of c for n items (zeroed); -ENOMEM. */
int catalog_alloc_items(catalog_t *c, uint32_t n);
/* Frees c and drops its strings (for snapshots not yet published). */
void catalog_destroy(catalog_t *c);
/* cat_by_name from categories; -ENOMEM. */
int catalog_sort_category_names(catalog_t *c);
/* cat_ptr and cat_items from item_cat (uncategorized last); -ENOMEM. */
int catalog_group_by_category(catalog_t *c);
/* Sets the one reference and publishes c to *out. */
void catalog_publish(catalog_t *c, catalog_t **out);

#endif
