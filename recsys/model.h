/*
 * model.h - an immutable, reference-counted snapshot of one model version
 * with the catalog data needed to answer requests, plus the slot that holds
 * the version being served.
 *
 * A model_t never changes after model_load returns, so any number of threads
 * may read it without locks. Whoever holds a reference (model_slot_get or
 * model_ref) must drop it with model_unref; the last unref frees it.
 */
#ifndef PATRON_RECSYS_MODEL_H
#define PATRON_RECSYS_MODEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "store.h"

typedef struct model {
    store_model_hdr_t hdr;
    float *user_f;      /* n_users x factors */
    float *item_f;      /* n_items x factors */
    float *item_pop;    /* n_items: popularity score */
    char **item_ids;    /* n_items: the shop's item ids */
    char **item_titles; /* n_items: catalog titles ("" if none) */
    char **item_categories; /* n_items */
    double *item_price; /* n_items */
    uint8_t *in_stock;  /* n_items */
    atomic_int refs;
} model_t;

/* Loads version `version` (0 = current) with the catalog's item ids.
 * Returns 0 and a model with one reference, or -ENOENT (no model), -ENOMEM,
 * -EIO. */
int model_load(store_t *s, uint64_t version, model_t **out);

model_t *model_ref(model_t *m);   /* returns m */
void model_unref(model_t *m);     /* NULL-safe; frees on the last reference */

/* The slot holding the model being served. */
typedef struct model_slot {
    pthread_mutex_t mu;
    model_t *cur;
} model_slot_t;

void model_slot_init(model_slot_t *slot);
void model_slot_destroy(model_slot_t *slot); /* drops the current model */
/* Returns the current model with a reference taken, or NULL if none. */
model_t *model_slot_get(model_slot_t *slot);
/* Installs m (taking over the caller's reference) and drops the old one. */
void model_slot_set(model_slot_t *slot, model_t *m);

#endif
