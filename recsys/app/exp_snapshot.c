/*
 * exp_snapshot.c - the served experiments snapshot and its slot
 * (exp_snapshot.h). A change builds a whole new snapshot beside the served
 * one (set, definitions, pinned models), so a request that pinned the old
 * one keeps reading it unchanged until it drops its reference.
 */
#include "exp_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expdefs.h"

exp_snapshot_t *exp_snapshot_ref(exp_snapshot_t *x)
{
    atomic_fetch_add_explicit(&x->refs, 1, memory_order_relaxed);
    return x;
}

static void snapshot_free(exp_snapshot_t *x)
{
    for (size_t i = 0; i < x->n_pinned; i++)
        model_unref(x->pinned[i]);
    experiment_set_free(x->set);
    expstore_defs_free(&x->defs);
    free(x);
}

void exp_snapshot_unref(exp_snapshot_t *x)
{
    if (x && atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) == 1)
        snapshot_free(x);
}

/* A snapshot with one reference and nothing in it, or NULL. */
static exp_snapshot_t *snapshot_new(void)
{
    exp_snapshot_t *x = calloc(1, sizeof *x);
    if (x)
        atomic_init(&x->refs, 1);
    return x;
}

const experiment_t *exp_snapshot_find(const exp_snapshot_t *x, const char *id)
{
    return expdefs_find(&x->defs, id);
}

int exp_snapshot_assign(const exp_snapshot_t *x, const char *customer_id, int64_t now_ms,
                        experiment_assignment_t *out, size_t cap, size_t *n)
{
    *n = 0;
    return x->set ? experiment_assign(x->set, customer_id, now_ms, out, cap, n) : 0;
}

model_t *exp_snapshot_model(const exp_snapshot_t *x, uint64_t version)
{
    for (size_t i = 0; i < x->n_pinned; i++)
        if (x->pinned[i]->hdr.version == version)
            return model_ref(x->pinned[i]);
    return NULL;
}

/* ---- the slot ------------------------------------------------------------------ */

int exp_slot_init(exp_slot_t *slot, store_t *store, model_slot_t *models,
                  const model_opts_t *opts)
{
    pthread_mutex_init(&slot->mu, NULL);
    pthread_mutex_init(&slot->write_mu, NULL);
    slot->store = store;
    slot->models = models;
    slot->model_opts = opts;
    slot->cur = snapshot_new();
    return slot->cur ? 0 : -ENOMEM;
}

void exp_slot_destroy(exp_slot_t *slot)
{
    exp_snapshot_unref(slot->cur);
    slot->cur = NULL;
    pthread_mutex_destroy(&slot->mu);
    pthread_mutex_destroy(&slot->write_mu);
}

exp_snapshot_t *exp_slot_get(exp_slot_t *slot)
{
    exp_snapshot_t *x;
    pthread_mutex_lock(&slot->mu);
    x = exp_snapshot_ref(slot->cur);
    pthread_mutex_unlock(&slot->mu);
    return x;
}

/* Installs x (taking over the caller's reference) and drops the old one. */
static void slot_swap(exp_slot_t *slot, exp_snapshot_t *x)
{
    exp_snapshot_t *old;
    pthread_mutex_lock(&slot->mu);
    old = slot->cur;
    slot->cur = x;
    pthread_mutex_unlock(&slot->mu);
    exp_snapshot_unref(old);
}

/* The model for an arm's version: the served one for 0, else the one x
 * pins. A reference or NULL. */
static model_t *model_in(exp_slot_t *slot, const exp_snapshot_t *x, uint64_t version)
{
    return version ? exp_snapshot_model(x, version) : model_slot_get(slot->models);
}

void exp_slot_arms(exp_slot_t *slot, const char *customer_id, int64_t now_ms,
                   arms_t *out, model_t **model)
{
    exp_snapshot_t *x = exp_slot_get(slot);
    arms_assign(x->set, customer_id, now_ms, out);
    if (model)
        *model = model_in(slot, x, out->model_version);
    exp_snapshot_unref(x);
}

/* Version v loaded, reusing a snapshot already in memory (the served model,
 * or one the served experiments pin). 0 and a reference, or model_load's
 * error. */
static int load_version(exp_slot_t *slot, const exp_snapshot_t *cur, uint64_t v,
                        model_t **out)
{
    model_t *m = model_slot_get(slot->models);
    if (m && m->hdr.version == v) {
        *out = m;
        return 0;
    }
    model_unref(m);
    if ((*out = exp_snapshot_model(cur, v)) != NULL)
        return 0;
    return model_load(slot->store, v, slot->model_opts, out);
}

/* Pins every distinct nonzero version next's arms name. -EINVAL with err
 * naming the experiment and the arm whose version cannot be loaded. */
static int pin_versions(exp_slot_t *slot, const exp_snapshot_t *cur, exp_snapshot_t *next,
                        char *err, size_t cap)
{
    for (size_t i = 0; i < next->defs.n; i++) {
        const experiment_t *e = &next->defs.defs[i];
        for (size_t j = 0; j < e->n_arms; j++) {
            uint64_t v = e->arms[j].model_version;
            model_t *m = NULL;
            int rc;
            if (v == 0 || (m = exp_snapshot_model(next, v)) != NULL) {
                model_unref(m); /* already pinned */
                continue;
            }
            if (next->n_pinned == EXP_SNAPSHOT_MAX_PINNED) {
                snprintf(err, cap, "arms: at most %d distinct model versions",
                         EXP_SNAPSHOT_MAX_PINNED);
                return -EINVAL;
            }
            if ((rc = load_version(slot, cur, v, &m)) != 0) {
                snprintf(err, cap, "experiment '%s': arm '%s' (arms[%zu].model_version): "
                         "version %llu is not available (%s)", e->id, e->arms[j].id, j,
                         (unsigned long long)v, strerror(-rc));
                return -EINVAL;
            }
            next->pinned[next->n_pinned++] = m;
        }
    }
    return 0;
}

/* A snapshot of defs (taken over: emptied, on error too), validated as a
 * set against cur at now_ms, its arms' versions pinned; or NULL with the
 * error in *rc and err. */
static exp_snapshot_t *prepare(exp_slot_t *slot, const exp_snapshot_t *cur,
                               expstore_defs_t *defs, int64_t now_ms, int *rc,
                               char *err, size_t cap)
{
    exp_snapshot_t *x = snapshot_new();

    if (!x) {
        expstore_defs_free(defs);
        snprintf(err, cap, "building the experiment set");
        *rc = -ENOMEM;
        return NULL;
    }
    x->defs = *defs;
    memset(defs, 0, sizeof *defs);
    *rc = experiment_set_new(x->defs.defs, x->defs.n, &x->set, err, cap);
    if (*rc == 0 && cur->set)
        *rc = experiment_set_update_invalid(cur->set, x->set, now_ms, err, cap);
    if (*rc == 0)
        *rc = pin_versions(slot, cur, x, err, cap);
    if (*rc == 0)
        return x;
    if (*rc != -EINVAL)
        snprintf(err, cap, "building the experiment set");
    exp_snapshot_unref(x);
    return NULL;
}

/* Validates and serves defs (taken over) at now_ms; the caller holds
 * write_mu. */
static int serve_defs(exp_slot_t *slot, expstore_defs_t *defs, int64_t now_ms, char *err,
                      size_t cap)
{
    exp_snapshot_t *cur = exp_slot_get(slot), *next;
    int rc;

    if ((next = prepare(slot, cur, defs, now_ms, &rc, err, cap)) != NULL)
        slot_swap(slot, next);
    exp_snapshot_unref(cur);
    return rc;
}

int exp_slot_load(exp_slot_t *slot, char *err, size_t cap)
{
    expstore_defs_t defs;
    int rc;

    pthread_mutex_lock(&slot->write_mu);
    if ((rc = expstore_load(slot->store, &defs)) != 0)
        snprintf(err, cap, "reading the experiment definitions");
    else
        rc = serve_defs(slot, &defs, INT64_MAX, err, cap);
    slot->unloaded = rc != 0;
    pthread_mutex_unlock(&slot->write_mu);
    return rc;
}

int exp_slot_unloaded(exp_slot_t *slot)
{
    int u;
    pthread_mutex_lock(&slot->write_mu);
    u = slot->unloaded;
    pthread_mutex_unlock(&slot->write_mu);
    return u;
}

/* exp_slot_put while the stored definitions are not served (the last load
 * failed): e is checked against the stored ones (its id, its defaults) and
 * on its own (its fields, the versions its arms pin), then stored; the
 * served snapshot stays. This is how a definition that cannot load is
 * replaced over the API; exp_slot_load then serves the stored set. The
 * caller holds write_mu. */
static int put_stored(exp_slot_t *slot, experiment_t *e, int replace, int64_t now_ms,
                      char *err, size_t cap)
{
    expstore_defs_t stored, with = { 0 }, alone = { 0 };
    exp_snapshot_t *none, *x = NULL;
    int rc;

    if (!(none = snapshot_new())) /* e on its own: nothing it must agree with */
        return -ENOMEM;
    if ((rc = expstore_load(slot->store, &stored)) != 0) {
        exp_snapshot_unref(none);
        snprintf(err, cap, "reading the experiment definitions");
        return rc;
    }
    expdefs_defaults(e, replace ? expdefs_find(&stored, e->id) : NULL, now_ms);
    if ((rc = experiment_invalid(e, err, cap)) == 0 &&
        (rc = expdefs_with(&stored, e, replace, &with, err, cap)) == -ENOMEM)
        snprintf(err, cap, "copying the experiment definitions");
    expstore_defs_free(&with);
    if (rc == 0 && (rc = expdefs_with(&alone, e, 0, &with, err, cap)) == 0)
        x = prepare(slot, none, &with, now_ms, &rc, err, cap);
    if (x && (rc = expstore_save(slot->store, e)) != 0)
        snprintf(err, cap, "storing the experiment (nothing changed)");
    exp_snapshot_unref(x);
    exp_snapshot_unref(none);
    expstore_defs_free(&stored);
    return rc;
}

int exp_slot_put(exp_slot_t *slot, experiment_t *e, int replace, int64_t now_ms,
                 char *err, size_t cap)
{
    exp_snapshot_t *cur, *next = NULL;
    expstore_defs_t defs;
    int rc;

    pthread_mutex_lock(&slot->write_mu);
    cur = exp_slot_get(slot);
    if (slot->unloaded) {
        rc = put_stored(slot, e, replace, now_ms, err, cap);
        exp_snapshot_unref(cur);
        pthread_mutex_unlock(&slot->write_mu);
        return rc;
    }
    /* Under the write lock: the values an update keeps are the ones it
     * replaces, not those of a change that raced it. */
    expdefs_defaults(e, replace ? exp_snapshot_find(cur, e->id) : NULL, now_ms);
    if ((rc = experiment_invalid(e, err, cap)) == 0 &&
        (rc = expdefs_with(&cur->defs, e, replace, &defs, err, cap)) == -ENOMEM)
        snprintf(err, cap, "copying the experiment definitions");
    if (rc == 0)
        next = prepare(slot, cur, &defs, now_ms, &rc, err, cap);
    /* Stored before it is served: a definition the client is told failed
     * never serves, and one it is told succeeded survives a restart. */
    if (next && (rc = expstore_save(slot->store, e)) == -ESTALE) {
        snprintf(err, cap, "arms[].model_version: a version an arm names was dropped "
                 "by a model published meanwhile (nothing changed): name a kept one");
        rc = -EINVAL;
    } else if (next && rc) {
        snprintf(err, cap, "storing the experiment (nothing changed)");
    }
    if (next && rc) {
        exp_snapshot_unref(next);
        next = NULL;
    }
    if (next)
        slot_swap(slot, next);
    exp_snapshot_unref(cur);
    pthread_mutex_unlock(&slot->write_mu);
    return rc;
}

/* Whether x's definitions force customer_id into an arm. */
static int forces(const exp_snapshot_t *x, const char *customer_id)
{
    for (size_t i = 0; i < x->defs.n; i++)
        for (size_t j = 0; j < x->defs.defs[i].n_forced; j++)
            if (strcmp(x->defs.defs[i].forced[j].customer_id, customer_id) == 0)
                return 1;
    return 0;
}

int exp_slot_forget(exp_slot_t *slot, const char *customer_id, char *err, size_t cap)
{
    exp_snapshot_t *x = exp_slot_get(slot);
    int pinned = forces(x, customer_id);
    exp_snapshot_unref(x);
    return pinned ? exp_slot_load(slot, err, cap) : 0;
}

void exp_slot_erase_user(exp_slot_t *slot, uint32_t user)
{
    exp_snapshot_t *x;

    pthread_mutex_lock(&slot->write_mu);
    x = exp_slot_get(slot);
    for (size_t i = 0; i < x->n_pinned; i++)
        model_erase_user(x->pinned[i], user);
    exp_snapshot_unref(x);
    pthread_mutex_unlock(&slot->write_mu);
}
