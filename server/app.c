/* app.c - serving state and model reloads (see app.h). */
#include "app.h"

#include <errno.h>
#include <string.h>

#include "log.h"

void app_init(app_t *a, store_t *store, const model_opts_t *opts)
{
    a->store = store;
    a->model_opts = *opts;
    model_slot_init(&a->models);
    pthread_mutex_init(&a->reload_mu, NULL);
    atomic_init(&a->draining, 0);
}

void app_destroy(app_t *a)
{
    model_slot_destroy(&a->models);
    pthread_mutex_destroy(&a->reload_mu);
}

int app_reload(app_t *a, uint64_t *version)
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
out:
    pthread_mutex_unlock(&a->reload_mu);
    if (version)
        *version = serving;
    return rc;
}
