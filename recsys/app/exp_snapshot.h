/*
 * exp_snapshot.h - the experiments a process serves: an immutable,
 * reference-counted snapshot (the stored definitions, the assignment set
 * built from them, and the model versions their arms pin), and the slot
 * that holds the served one and swaps it atomically, as the catalog
 * (catalog.h) and the model (model.h) are served.
 *
 * A request pins the snapshot it assigns arms from (exp_slot_get, or
 * exp_slot_arms that pins it for the assignment and the model lookup) and
 * holds no lock while it is served. A definition change is validated as a
 * set against the served snapshot, its arms' model versions loaded (the
 * served model or one a snapshot pins is reused; any other is read from
 * the store by model_load), then stored, then swapped in; changes are
 * serialized by the slot, so two concurrent ones cannot lose one.
 */
#ifndef PATRON_RECSYS_EXP_SNAPSHOT_H
#define PATRON_RECSYS_EXP_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arms.h"
#include "experiment.h"
#include "expstore.h"
#include "model.h"
#include "store.h"

/* Distinct model versions the arms of all definitions may pin. */
#define EXP_SNAPSHOT_MAX_PINNED (EXPERIMENT_MAX_ARMS * 4)

/* Read-only once published; freed by the last exp_snapshot_unref. */
typedef struct exp_snapshot {
    experiment_set_t *set;     /* what assignment reads; NULL: no experiments */
    expstore_defs_t defs;      /* the definitions set was built from, stored order */
    model_t *pinned[EXP_SNAPSHOT_MAX_PINNED]; /* one reference each */
    size_t n_pinned;           /* every distinct nonzero version an arm names */
    atomic_int refs;
} exp_snapshot_t;

exp_snapshot_t *exp_snapshot_ref(exp_snapshot_t *x); /* returns x */
void exp_snapshot_unref(exp_snapshot_t *x);          /* NULL-safe */

/* The definition with id in x, or NULL; borrowed from x (valid while the
 * caller holds its reference). */
const experiment_t *exp_snapshot_find(const exp_snapshot_t *x, const char *id);

/* The customer's assignments in x at now_ms (experiment_assign: same
 * arguments, return value and errors); they point into x. */
int exp_snapshot_assign(const exp_snapshot_t *x, const char *customer_id, int64_t now_ms,
                        experiment_assignment_t *out, size_t cap, size_t *n);

/* The model x pins for version (a reference the caller drops with
 * model_unref), or NULL if no arm of x names it. */
model_t *exp_snapshot_model(const exp_snapshot_t *x, uint64_t version);

typedef struct exp_slot {
    pthread_mutex_t mu;        /* guards cur for get and swap only */
    pthread_mutex_t write_mu;  /* one definition change at a time */
    exp_snapshot_t *cur;       /* never NULL after exp_slot_init */
    store_t *store;            /* definitions are stored and models read here */
    model_slot_t *models;      /* the served model (reused by arms naming it) */
    const model_opts_t *model_opts; /* how a version an arm pins is indexed */
    int unloaded;              /* the last exp_slot_load failed: the stored
                                  definitions are not the served ones */
} exp_slot_t;

/* Starts with no experiments. store, models and opts are borrowed and must
 * outlive the slot. Returns 0 or -ENOMEM. */
int exp_slot_init(exp_slot_t *slot, store_t *store, model_slot_t *models,
                  const model_opts_t *opts);
void exp_slot_destroy(exp_slot_t *slot); /* drops the served snapshot */

/* The served snapshot with a reference taken (never NULL after init). */
exp_snapshot_t *exp_slot_get(exp_slot_t *slot);

/* The customer's experiment arms at now_ms (arms.h; a bad customer id gives
 * the defaults) and, if model is not NULL, the model they name from the
 * same snapshot: the served one for model_version 0, else the one the
 * snapshot pins; a reference, or NULL when none is loaded. */
void exp_slot_arms(exp_slot_t *slot, const char *customer_id, int64_t now_ms,
                   arms_t *out, model_t **model);

/* Serves the stored definitions (at start, after the first model load, so
 * arms may name versions older than it): validated as a set against the
 * served ones and their versions loaded, as a change is. Returns 0; -EINVAL
 * with err set (a definition, or an arm whose version cannot be loaded,
 * named); or another negative errno (reading the store). On error the
 * served snapshot stays and the slot is "unloaded" until a load succeeds. */
int exp_slot_load(exp_slot_t *slot, char *err, size_t cap);

/* 1 while the stored definitions are not served (the last load failed). */
int exp_slot_unloaded(exp_slot_t *slot);

/* CreateExperiment (replace 0) / UpdateExperiment (replace 1) of e: what
 * e leaves unset filled in place (expdefs_defaults: on an update from the
 * served definition it replaces, read under the write lock), e checked
 * (experiment_invalid), the served definitions with e added or replaced
 * validated as a set (no started experiment may move), every model version
 * an arm names loaded, then e stored, then served. Returns 0, or with a
 * message in err: -ENOENT/-EEXIST (naming experiment_id), -EINVAL (a field
 * of e, the set, or the arm whose model version cannot be loaded), or
 * another negative errno (err names the step). On any error nothing is
 * stored and the served snapshot stays.
 * While the slot is unloaded (a stored definition could not load), the
 * change is made to the stored definitions instead: e is checked against
 * their ids and on its own, then stored, and nothing is served until
 * exp_slot_load succeeds: how a definition that cannot load is replaced
 * (UpdateExperiment) over the API. */
int exp_slot_put(exp_slot_t *slot, experiment_t *e, int replace, int64_t now_ms,
                 char *err, size_t cap);

/* After an erasure rewrote the stored definitions: if the served ones force
 * customer_id into an arm, serves the stored ones again (exp_slot_load), so
 * the set in memory no longer pins the customer. Returns 0 (also when it
 * was not pinned) or exp_slot_load's error. */
int exp_slot_forget(exp_slot_t *slot, const char *customer_id, char *err, size_t cap);

/* Marks user index `user` erased in every model the served snapshot pins
 * (model_erase_user). Waits for a definition change in flight, so versions
 * it loaded before the erasure committed are marked too. */
void exp_slot_erase_user(exp_slot_t *slot, uint32_t user);

#endif
