/* app.c - serving state and model reloads (see app.h). */
#include "app.h"

#include <errno.h>
#include <string.h>

#include "log.h"

int app_init(app_t *a, store_t *store, const model_opts_t *opts)
{
    a->store = store;
    a->model_opts = *opts;
    model_slot_init(&a->models);
    pthread_mutex_init(&a->reload_mu, NULL);
    atomic_init(&a->draining, 0);
    profile_config_default(&a->profile_cfg);
    pthread_rwlock_init(&a->cust_lock, NULL);
    a->catalog = NULL;
    memset(&a->cutpoints, 0, sizeof a->cutpoints);
    return app_refresh_customers(a);
}

void app_destroy(app_t *a)
{
    model_slot_destroy(&a->models);
    pthread_mutex_destroy(&a->reload_mu);
    customers_catalog_free(a->catalog);
    pthread_rwlock_destroy(&a->cust_lock);
}

int app_refresh_customers(app_t *a)
{
    customers_catalog_t *cat = NULL, *old;
    rfm_cutpoints_t cut;
    int rc = customers_catalog_load(a->store, &cat);

    if (rc == 0)
        rc = customers_load_cutpoints(a->store, &cut);
    if (rc) {
        customers_catalog_free(cat);
        plog(LOG_ERROR, "reading the catalog for profiles failed: %s", strerror(-rc));
        return rc;
    }
    pthread_rwlock_wrlock(&a->cust_lock);
    old = a->catalog;
    a->catalog = cat;
    a->cutpoints = cut;
    pthread_rwlock_unlock(&a->cust_lock);
    customers_catalog_free(old);
    return 0;
}

void app_customers_begin(app_t *a, customers_ctx_t *c)
{
    pthread_rwlock_rdlock(&a->cust_lock);
    c->store = a->store;
    c->cfg = &a->profile_cfg;
    c->cat = a->catalog;
    c->cut = &a->cutpoints;
}

void app_customers_end(app_t *a)
{
    pthread_rwlock_unlock(&a->cust_lock);
}

static int reload(app_t *a, int force, uint64_t *version)
{
    uint64_t newest = 0, serving = 0;
    model_t *cur, *m;
    int rc;

    pthread_mutex_lock(&a->reload_mu);
    cur = model_slot_get(&a->models);
    serving = cur ? cur->hdr.version : 0;
    model_unref(cur);
    rc = store_current_model(a->store, &newest);
    if (rc == -ENOENT || (rc == 0 && newest == serving && !force)) {
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
    /* A training run also recomputed the RFM cut-points. */
    app_refresh_customers(a);
out:
    pthread_mutex_unlock(&a->reload_mu);
    if (version)
        *version = serving;
    return rc;
}

int app_reload(app_t *a, uint64_t *version)
{
    return reload(a, 0, version);
}

int app_reload_force(app_t *a)
{
    return reload(a, 1, NULL);
}
