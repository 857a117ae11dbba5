/* app.c - serving state and model reloads (see app.h). */
#include "app.h"

#include <errno.h>
#include <grpc/status.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "expdefs.h"
#include "log.h"

int app_init(app_t *a, store_t *store, const model_opts_t *opts)
{
    int rc;

    a->store = store;
    a->model_opts = *opts;
    model_slot_init(&a->models);
    catalog_slot_init(&a->catalogs);
    coupon_catalog_slot_init(&a->coupons);
    pthread_mutex_init(&a->reload_mu, NULL);
    atomic_init(&a->draining, 0);
    profile_config_default(&a->profile_cfg);
    pthread_rwlock_init(&a->cust_lock, NULL);
    a->cust_catalog = NULL;
    memset(&a->cutpoints, 0, sizeof a->cutpoints);
    pthread_rwlock_init(&a->exp_lock, NULL);
    pthread_mutex_init(&a->exp_write_mu, NULL);
    pthread_rwlock_init(&a->auth_lock, NULL);
    a->auth_path = NULL;
    a->auth = NULL;
    a->api = NULL;
    a->stats = NULL;
    a->started_ms = 0;
    if (!(a->shown = shown_new(0)))
        return -ENOMEM;
    a->experiments = NULL;
    memset(&a->exp_defs, 0, sizeof a->exp_defs);
    a->n_pinned = 0;
    app_owners_init(a);
    if ((rc = app_items_changed(a)) != 0)
        return rc;
    return app_coupons_changed(a);
}

int app_upsert_items(app_t *a, const store_item_t *items, size_t n, size_t *inserted,
                     size_t *updated, size_t *bad_index, const char **reason)
{
    int refresh = 0;
    int rc = catalog_slot_upsert(&a->catalogs, a->store, items, n, inserted, updated,
                                 bad_index, reason, &refresh);
    if (rc)
        return rc;
    if (refresh)
        plog(LOG_ERROR, "items stored, but the catalog snapshot was not refreshed "
             "(serving keeps the old one until the next reload): %s", strerror(-refresh));
    app_refresh_customers(a); /* profiles read the swapped snapshot */
    return 0;
}

int app_coupons_changed(app_t *a)
{
    int rc = coupon_catalog_slot_reload(&a->coupons, a->store);
    if (rc)
        plog(LOG_ERROR, "reading the coupon catalog failed: %s", strerror(-rc));
    return rc;
}

int app_items_changed(app_t *a)
{
    int rc = catalog_slot_reload(&a->catalogs, a->store);
    if (rc) {
        plog(LOG_ERROR, "reading the item catalog failed: %s", strerror(-rc));
        return rc;
    }
    return app_refresh_customers(a);
}

/* Loads the stored experiments; called once the first model is loaded, so
 * arms may name versions older than it. */
int app_load_experiments(app_t *a, char *err, size_t cap)
{
    expstore_defs_t defs;
    int rc = expstore_load(a->store, &defs);
    if (rc)
        return rc;
    rc = app_set_experiments(a, &defs, INT64_MAX, err, cap);
    if (rc)
        expstore_defs_free(&defs);
    return rc;
}

int app_load_auth(app_t *a, char *err, size_t cap)
{
    auth_t *fresh = NULL, *old;
    int rc;

    if (!a->auth_path)
        return 0;
    if ((rc = auth_load_known(a->auth_path, a->api ? rpc_api_knows : NULL,
                              (void *)a->api, &fresh, err, cap)) != 0)
        return rc;
    pthread_rwlock_wrlock(&a->auth_lock);
    old = a->auth;
    a->auth = fresh;
    pthread_rwlock_unlock(&a->auth_lock);
    auth_free(old);
    plog(LOG_INFO, "%zu API token(s) from %s", auth_count(fresh), a->auth_path);
    return 0;
}

int app_authorize(void *ctx, const char *path, const char *token, size_t len,
                  char *msg, size_t cap)
{
    app_t *a = ctx;
    const char *name = NULL;
    auth_result_t r;

    if (!a->auth_path)
        return GRPC_STATUS_OK;
    pthread_rwlock_rdlock(&a->auth_lock);
    r = a->auth ? auth_check(a->auth, path, token, len, &name) : AUTH_UNKNOWN;
    switch (r) {
    case AUTH_OK:
        break;
    case AUTH_MISSING:
        snprintf(msg, cap, "%s needs a token: send metadata \"authorization: "
                 "Bearer <token>\"", path);
        break;
    case AUTH_UNKNOWN:
        snprintf(msg, cap, "unknown token");
        break;
    case AUTH_DENIED:
        snprintf(msg, cap, "token '%s' may not call %s", name, path);
        break;
    }
    pthread_rwlock_unlock(&a->auth_lock);
    if (r == AUTH_OK)
        return GRPC_STATUS_OK;
    return r == AUTH_DENIED ? GRPC_STATUS_PERMISSION_DENIED : GRPC_STATUS_UNAUTHENTICATED;
}

void app_destroy(app_t *a)
{
    auth_free(a->auth);
    pthread_rwlock_destroy(&a->auth_lock);
    shown_free(a->shown);
    experiment_set_free(a->experiments);
    expstore_defs_free(&a->exp_defs);
    for (size_t i = 0; i < a->n_pinned; i++)
        model_unref(a->pinned[i]);
    pthread_rwlock_destroy(&a->exp_lock);
    pthread_mutex_destroy(&a->exp_write_mu);
    model_slot_destroy(&a->models);
    catalog_slot_destroy(&a->catalogs);
    coupon_catalog_slot_destroy(&a->coupons);
    pthread_mutex_destroy(&a->reload_mu);
    catalog_unref(a->cust_catalog);
    pthread_rwlock_destroy(&a->cust_lock);
}

int app_refresh_customers(app_t *a)
{
    catalog_t *cat, *old;
    rfm_cutpoints_t cut;
    int rc = customers_load_cutpoints(a->store, &cut);

    if (rc) {
        plog(LOG_ERROR, "reading the RFM cut-points for profiles failed: %s",
             strerror(-rc));
        return rc;
    }
    cat = catalog_slot_get(&a->catalogs);
    pthread_rwlock_wrlock(&a->cust_lock);
    old = a->cust_catalog;
    a->cust_catalog = cat;
    a->cutpoints = cut;
    pthread_rwlock_unlock(&a->cust_lock);
    catalog_unref(old);
    return 0;
}

void app_customers_begin(app_t *a, customers_ctx_t *c)
{
    pthread_rwlock_rdlock(&a->cust_lock);
    c->store = a->store;
    c->cfg = &a->profile_cfg;
    c->cat = a->cust_catalog;
    c->cut = &a->cutpoints;
}

void app_customers_end(app_t *a)
{
    pthread_rwlock_unlock(&a->cust_lock);
}

static int reload(app_t *a, uint64_t *version)
{
    uint64_t newest = 0, serving = 0;
    model_t *cur, *m;
    int rc;

    pthread_mutex_lock(&a->reload_mu);
    cur = model_slot_get(&a->models);
    serving = cur ? cur->hdr.version : 0;
    model_unref(cur);
    rc = store_current_model(a->store, &newest);
    if (rc == -ENOENT || (rc == 0 && newest == serving)) {
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    /* Built off the request path: requests keep using the old snapshot. */
    if ((rc = model_load(a->store, newest, &a->model_opts, &m)) != 0) {
        plog(LOG_ERROR, "loading model version %llu failed: %s",
             (unsigned long long)newest, strerror(-rc));
        goto out;
    }
    plog(LOG_INFO, "model version %llu loaded: %u factors, %u customers, %u items, "
         "%s search", (unsigned long long)m->hdr.version, m->hdr.factors,
         m->hdr.n_users, m->hdr.n_items, m->ivf ? "approximate (IVF)" : "exact");
    model_slot_set(&a->models, m);
    serving = newest;
    /* Items and coupons may have been written beside the server (patron
     * import, patron coupons), and a training run also recomputed the RFM
     * cut-points. */
    app_items_changed(a);
    app_coupons_changed(a);
out:
    pthread_mutex_unlock(&a->reload_mu);
    if (version)
        *version = serving;
    return rc;
}

int app_reload(app_t *a, uint64_t *version)
{
    return reload(a, version);
}

void app_forget_customer(app_t *a, uint32_t user)
{
    model_t *m;
    /* Under reload_mu: a load that read the factors before the erasure
     * committed is installed before this marks the model it serves. */
    pthread_mutex_lock(&a->reload_mu);
    if ((m = model_slot_get(&a->models)) != NULL)
        model_erase_user(m, user);
    model_unref(m);
    pthread_mutex_unlock(&a->reload_mu);
    /* Under exp_write_mu for the same reason: arms' versions loaded by a
     * definition change in flight are installed before they are marked. */
    pthread_mutex_lock(&a->exp_write_mu);
    pthread_rwlock_rdlock(&a->exp_lock);
    for (size_t i = 0; i < a->n_pinned; i++)
        model_erase_user(a->pinned[i], user);
    pthread_rwlock_unlock(&a->exp_lock);
    pthread_mutex_unlock(&a->exp_write_mu);
}

/* ---- experiments ------------------------------------------------------------------ */

model_t *app_model_for(app_t *a, uint64_t version)
{
    model_t *cur = model_slot_get(&a->models), *m = NULL;
    if (version == 0 || (cur && cur->hdr.version == version))
        return cur;
    model_unref(cur);
    pthread_rwlock_rdlock(&a->exp_lock);
    for (size_t i = 0; i < a->n_pinned && !m; i++)
        if (a->pinned[i]->hdr.version == version)
            m = model_ref(a->pinned[i]);
    pthread_rwlock_unlock(&a->exp_lock);
    return m;
}

/* Loads every distinct nonzero version the definitions' arms name. */
static int pin_versions(app_t *a, const expstore_defs_t *defs, model_t **pinned,
                        size_t *n_pinned, char *err, size_t cap)
{
    size_t n = 0, max = sizeof a->pinned / sizeof a->pinned[0];
    int rc = 0;

    for (size_t i = 0; i < defs->n && rc == 0; i++) {
        for (size_t j = 0; j < defs->defs[i].n_arms && rc == 0; j++) {
            uint64_t v = defs->defs[i].arms[j].model_version;
            size_t k;
            model_t *m = NULL;
            if (v == 0)
                continue;
            for (k = 0; k < n && pinned[k]->hdr.version != v; k++)
                ;
            if (k < n)
                continue;
            if (n == max) {
                snprintf(err, cap, "arms: at most %zu distinct model versions", max);
                rc = -EINVAL;
                break;
            }
            /* Reuse a loaded snapshot when there is one. */
            if (!(m = app_model_for(a, v))) {
                rc = model_load(a->store, v, &a->model_opts, &m);
                if (rc) {
                    snprintf(err, cap, "experiment '%s': arms[%zu].model_version: "
                             "version %llu is not available (%s)", defs->defs[i].id, j,
                             (unsigned long long)v, strerror(-rc));
                    rc = -EINVAL;
                    break;
                }
            }
            pinned[n++] = m;
        }
    }
    *n_pinned = n;
    return rc;
}

/* A validated experiment set with its pinned models, not yet served. */
typedef struct exp_next {
    experiment_set_t *set;
    model_t *pinned[sizeof ((app_t *)0)->pinned / sizeof ((app_t *)0)->pinned[0]];
    size_t n_pinned;
} exp_next_t;

static void exp_next_discard(exp_next_t *x)
{
    for (size_t i = 0; i < x->n_pinned; i++)
        model_unref(x->pinned[i]);
    experiment_set_free(x->set);
    memset(x, 0, sizeof *x);
}

/* Builds and validates the set defs describe (against the one served) and
 * loads the model versions its arms name. */
static int exp_prepare(app_t *a, const expstore_defs_t *defs, int64_t now_ms,
                       exp_next_t *x, char *err, size_t cap)
{
    int rc;

    memset(x, 0, sizeof *x);
    if ((rc = experiment_set_new(defs->defs, defs->n, &x->set, err, cap)) != 0)
        return rc;
    pthread_rwlock_rdlock(&a->exp_lock);
    rc = a->experiments
             ? experiment_set_update_invalid(a->experiments, x->set, now_ms, err, cap)
             : 0;
    pthread_rwlock_unlock(&a->exp_lock);
    if (rc == 0)
        rc = pin_versions(a, defs, x->pinned, &x->n_pinned, err, cap);
    if (rc)
        exp_next_discard(x);
    return rc;
}

/* Serves x and defs (taking both over) and releases what was served. */
static void exp_swap(app_t *a, expstore_defs_t *defs, exp_next_t *x)
{
    model_t *old_pinned[sizeof a->pinned / sizeof a->pinned[0]];
    experiment_set_t *old;
    expstore_defs_t old_defs;
    size_t n_old;

    pthread_rwlock_wrlock(&a->exp_lock);
    old = a->experiments;
    old_defs = a->exp_defs;
    n_old = a->n_pinned;
    memcpy(old_pinned, a->pinned, n_old * sizeof *old_pinned);
    a->experiments = x->set;
    a->exp_defs = *defs;
    memcpy(a->pinned, x->pinned, x->n_pinned * sizeof *x->pinned);
    a->n_pinned = x->n_pinned;
    pthread_rwlock_unlock(&a->exp_lock);
    memset(defs, 0, sizeof *defs);
    memset(x, 0, sizeof *x);
    experiment_set_free(old);
    expstore_defs_free(&old_defs);
    for (size_t i = 0; i < n_old; i++)
        model_unref(old_pinned[i]);
}

int app_set_experiments(app_t *a, expstore_defs_t *defs, int64_t now_ms, char *err,
                        size_t cap)
{
    exp_next_t x;
    int rc;

    pthread_mutex_lock(&a->exp_write_mu);
    if ((rc = exp_prepare(a, defs, now_ms, &x, err, cap)) == 0)
        exp_swap(a, defs, &x);
    pthread_mutex_unlock(&a->exp_write_mu);
    return rc;
}

int app_put_experiment(app_t *a, const experiment_t *e, int replace, int64_t now_ms,
                       char *err, size_t cap)
{
    expstore_defs_t defs;
    exp_next_t x;
    int rc;

    pthread_mutex_lock(&a->exp_write_mu);
    pthread_rwlock_rdlock(&a->exp_lock);
    rc = expdefs_with(&a->exp_defs, e, replace, &defs, err, cap);
    pthread_rwlock_unlock(&a->exp_lock);
    if (rc == -ENOMEM)
        snprintf(err, cap, "copying the experiment definitions");
    if (rc)
        goto out;
    if ((rc = exp_prepare(a, &defs, now_ms, &x, err, cap)) != 0) {
        if (rc != -EINVAL)
            snprintf(err, cap, "loading the experiment");
        expstore_defs_free(&defs);
        goto out;
    }
    /* Stored before it is served: a definition the client is told failed
     * never serves, and one it is told succeeded survives a restart. */
    if ((rc = expstore_save(a->store, e)) != 0) {
        snprintf(err, cap, "storing the experiment (nothing changed)");
        exp_next_discard(&x);
        expstore_defs_free(&defs);
        goto out;
    }
    exp_swap(a, &defs, &x);
out:
    pthread_mutex_unlock(&a->exp_write_mu);
    return rc;
}

int app_assign(app_t *a, const char *customer_id, int64_t now_ms,
               experiment_assignment_t *out, size_t cap, size_t *n)
{
    pthread_rwlock_rdlock(&a->exp_lock);
    *n = 0;
    if (!a->experiments)
        return 0;
    return experiment_assign(a->experiments, customer_id, now_ms, out, cap, n);
}

void app_experiments_end(app_t *a)
{
    pthread_rwlock_unlock(&a->exp_lock);
}

void app_arms(app_t *a, const char *customer_id, int64_t now_ms, arms_t *out)
{
    pthread_rwlock_rdlock(&a->exp_lock);
    arms_assign(a->experiments, customer_id, now_ms, out);
    pthread_rwlock_unlock(&a->exp_lock);
}
