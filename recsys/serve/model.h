/*
 * model.h - an immutable, reference-counted snapshot of one model version
 * (factors and the search indexes over them), plus the slot that holds the
 * version being served. The catalog (ids, prices, stock, categories) is a
 * separate snapshot with its own cadence (catalog.h): a request pins both.
 * Item indices are the store's dense item indices, shared with the catalog;
 * items added after training (index >= hdr.n_items) have no factors.
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

#include "copurchase.h"
#include "flat.h"
#include "ivf.h"
#include "store.h"

/* How a snapshot is indexed. Exact search (compact int8 scan + float32
 * re-scoring) serves catalogs below ann_min_items; larger ones also get an
 * IVF index probed with ann_probes cells per query (approximate: recall is
 * measured in bench/bench_index). */
typedef struct model_opts {
    uint32_t ann_min_items;   /* 0: never build the approximate index */
    uint32_t ann_probes;      /* cells scanned per query */
} model_opts_t;

#define MODEL_ANN_MIN_ITEMS_DEFAULT 500000u
#define MODEL_ANN_PROBES_DEFAULT 80u

typedef struct model {
    store_model_hdr_t hdr;
    float *user_f;      /* n_users x factors */
    float *item_f;      /* n_items x factors */
    float *item_pop;    /* n_items: popularity score */
    float *item_unit;   /* n_items x factors: item_f rows scaled to length 1
                         * (zero rows stay zero), for cosine similarity */
    float *gramian;     /* factors x factors: Y'Y, for fold-in (full matrix) */
    float *pop_norm;    /* n_items: popularity / max popularity, in 0..1: the
                         * bias of the blended score w x.y_i + (1 - w) pop_i */
    float *item_aug;    /* with the IVF index only: n_items x (factors + 1)
                         * rows [y_i, pop_norm_i], so an approximate scan
                         * blends the same way */

    /* Co-purchase statistics published with this version (copurchase.h),
     * over the same n_items; NULL for a version trained without them. */
    copurchase_t *copurchase;

    /* Exact search indexes over item_f and item_unit, built at load time
     * (off the request path); they borrow the matrices above. */
    flat_index_t *flat;
    flat_index_t *flat_unit;
    ivf_t *ivf;               /* NULL unless n_items >= opts.ann_min_items */
    uint32_t ann_probes;

    /* Customers erased while this snapshot serves (one bit per user index):
     * their trained factors are never used again, so an erasure takes
     * effect at once without reloading the model and rebuilding its item
     * indexes. The only part of a snapshot that changes after load: bits
     * are only ever set, with atomic operations (model_erase_user). The
     * stored row is erased by the store; the next load no longer has it. */
    _Atomic uint64_t *erased;

    atomic_int refs;
} model_t;

/* Fills opts with the defaults above. */
void model_opts_default(model_opts_t *opts);

/* Loads version `version` (0 = current) and builds its indexes (opts NULL =
 * defaults). Returns 0 and a model with one reference, or -ENOENT (no
 * model), -ENOMEM, -EIO. */
int model_load(store_t *s, uint64_t version, const model_opts_t *opts,
               model_t **out);

/* Marks user index `user` erased in m (no-op past n_users); safe while
 * other threads answer from m. */
void model_erase_user(model_t *m, uint32_t user);

/* Whether user index `user` was erased since m was loaded. */
int model_user_erased(const model_t *m, uint32_t user);

/* Bytes the snapshot holds in memory (factors, indexes). */
size_t model_bytes(const model_t *m);

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
