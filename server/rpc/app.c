/* app.c - serving state and model reloads (see app.h). */
#include "app.h"

#include <errno.h>
#include <grpc/status.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "monotime.h"
#include "store_record.h"
#include "wallclock.h"

int app_init(app_t *a, store_t *store, const model_opts_t *opts)
{
    int rc;

    a->store = store;
    a->data_dir = NULL;
    a->model_opts = *opts;
    model_slot_init(&a->models);
    catalog_slot_init(&a->catalogs);
    coupon_catalog_slot_init(&a->coupons);
    pthread_mutex_init(&a->reload_mu, NULL);
    atomic_init(&a->draining, 0);
    atomic_init(&a->experiments_unloaded, 0);
    atomic_init(&a->health_epoch, 0);
    atomic_init(&a->trigger_next, 1);
    a->trigger_sched = NULL;
    pthread_rwlock_init(&a->cust_lock, NULL);
    a->cust_catalog = NULL;
    memset(&a->cutpoints, 0, sizeof a->cutpoints);
    pthread_rwlock_init(&a->auth_lock, NULL);
    a->auth_path = NULL;
    a->auth = NULL;
    a->auth_failures = 0;
    a->auth_last_ok = 1;
    a->api = NULL;
    a->stats = NULL;
    a->started_ms = 0;
    counters_init(&a->counters);
    a->max_event_skew_ms = APP_DEFAULT_EVENT_SKEW_MS;
    a->zones = NULL;
    programme_slot_init(&a->programme);
    pthread_mutex_init(&a->programme_mu, NULL);
    if (!(a->shown = shown_new(0)) || !(a->zones = tz_cache_new(NULL)) ||
        app_programme_init(a) != 0)
        return -ENOMEM;
    if ((rc = exp_slot_init(&a->experiments, store, &a->models, &a->model_opts)) != 0)
        return rc;
    app_owners_init(a);
    if ((rc = app_items_changed(a)) != 0)
        return rc;
    return app_coupons_changed(a);
}

int app_upsert_items(app_t *a, const store_item_t *items, size_t n, size_t *inserted,
                     size_t *updated, size_t *bad_index, const char **reason)
{
    int refresh = 0, noted;
    catalog_t *before = catalog_slot_get(&a->catalogs);
    int rc = catalog_slot_upsert(&a->catalogs, a->store, items, n, inserted, updated,
                                 bad_index, reason, &refresh);
    if (rc) {
        catalog_unref(before);
        return rc;
    }
    /* Price decreases, for price_drop trigger rules (triggers.h). */
    if ((noted = triggers_note_prices(a->store, before, items, n, wall_ms())) != 0)
        plog(LOG_ERROR, "items stored, but their price drops were not recorded for "
             "triggers: %s", store_strerror(noted));
    catalog_unref(before);
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

/* Replaces the served tokens with fresh (may be NULL: none); failed says
 * the load that produced it failed. */
static void swap_auth(app_t *a, auth_t *fresh, int failed)
{
    auth_t *old;
    pthread_rwlock_wrlock(&a->auth_lock);
    old = a->auth;
    a->auth = fresh;
    a->auth_failures += failed != 0;
    a->auth_last_ok = failed == 0;
    pthread_rwlock_unlock(&a->auth_lock);
    auth_free(old);
}

void app_auth_state(app_t *a, size_t *tokens, uint64_t *failures)
{
    pthread_rwlock_rdlock(&a->auth_lock);
    *tokens = auth_count(a->auth);
    *failures = a->auth_failures;
    pthread_rwlock_unlock(&a->auth_lock);
}

int app_auth_last_ok(app_t *a)
{
    int ok;
    pthread_rwlock_rdlock(&a->auth_lock);
    ok = a->auth_last_ok;
    pthread_rwlock_unlock(&a->auth_lock);
    return ok;
}

int app_load_auth(app_t *a, char *err, size_t cap)
{
    auth_t *fresh = NULL;
    int rc;

    if (!a->auth_path)
        return 0;
    rc = auth_load_known(a->auth_path, a->api ? rpc_api_knows : NULL, (void *)a->api,
                         &fresh, err, cap);
    swap_auth(a, fresh, rc != 0); /* NULL on error: fail closed */
    if (rc)
        return rc;
    if (auth_count(fresh) == 0)
        plog(LOG_WARN, "audit: %s holds no token: every call except health checks is "
             "refused", a->auth_path);
    else
        plog(LOG_INFO, "audit: %zu API token(s) loaded from %s", auth_count(fresh),
             a->auth_path);
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
    r = auth_check(a->auth, path, token, len, &name);
    switch (r) {
    case AUTH_OK:
        snprintf(msg, cap, "%s", name ? name : ""); /* the caller, for audit lines */
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
    tz_cache_free(a->zones);
    exp_slot_destroy(&a->experiments);
    model_slot_destroy(&a->models);
    catalog_slot_destroy(&a->catalogs);
    coupon_catalog_slot_destroy(&a->coupons);
    pthread_mutex_destroy(&a->reload_mu);
    catalog_unref(a->cust_catalog);
    pthread_rwlock_destroy(&a->cust_lock);
    counters_destroy(&a->counters);
    programme_slot_destroy(&a->programme);
    pthread_mutex_destroy(&a->programme_mu);
}

int app_refresh_customers(app_t *a)
{
    catalog_t *cat, *old;
    rfm_cutpoints_t cut;
    clv_model_t clv;
    int has_clv = 0;
    int rc = customers_load_cutpoints(a->store, &cut);

    if (rc) {
        plog(LOG_ERROR, "reading the RFM cut-points for profiles failed: %s",
             strerror(-rc));
        return rc;
    }
    if ((rc = customers_load_clv(a->store, &clv, &has_clv)) != 0) {
        plog(LOG_ERROR, "reading the CLV model for profiles failed: %s", strerror(-rc));
        return rc;
    }
    cat = catalog_slot_get(&a->catalogs);
    pthread_rwlock_wrlock(&a->cust_lock);
    old = a->cust_catalog;
    a->cust_catalog = cat;
    a->cutpoints = cut;
    a->clv = clv;
    a->has_clv = has_clv;
    pthread_rwlock_unlock(&a->cust_lock);
    catalog_unref(old);
    return 0;
}

double app_deadline(const rpc_call_info_t *ci)
{
    int64_t left = ci ? rpc_remaining_ms(ci) : INT64_MAX;
    if (left == INT64_MAX)
        return 0;
    /* the transport's clock is gRPC's; ours is base's */
    return monotime_seconds() + (left > 0 ? (double)left / 1000.0 : -1.0);
}

void app_customers_begin_with(app_t *a, const rpc_call_info_t *ci, programme_t *p,
                              customers_ctx_t *c)
{
    pthread_rwlock_rdlock(&a->cust_lock);
    c->store = a->store;
    /* app_customers_end finds the snapshot again from cfg. */
    c->cfg = &programme_ref(p)->settings.profile;
    c->cat = a->cust_catalog;
    c->cut = &a->cutpoints;
    c->clv = a->has_clv ? &a->clv : NULL;
    c->deadline = app_deadline(ci);
}

void app_customers_begin(app_t *a, const rpc_call_info_t *ci, customers_ctx_t *c)
{
    programme_t *p = app_programme(a);
    app_customers_begin_with(a, ci, p, c);
    programme_unref(p);
}

const settings_t *app_customers_settings(const customers_ctx_t *c)
{
    return &programme_of_profile(c->cfg)->settings;
}

void app_customers_end(app_t *a, customers_ctx_t *c)
{
    pthread_rwlock_unlock(&a->cust_lock);
    programme_unref(programme_of_profile(c->cfg));
    c->cfg = NULL;
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
    atomic_fetch_add(&a->health_epoch, 1);
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

int app_load_experiments(app_t *a)
{
    char err[256];
    int rc = exp_slot_load(&a->experiments, err, sizeof err);
    if (rc)
        plog(LOG_ERROR, "experiments not served (health: patron.v1.Experiments "
             "NOT_SERVING until they load; SIGHUP retries): %s",
             rc == -EINVAL ? err : strerror(-rc));
    else if (atomic_load(&a->experiments_unloaded))
        plog(LOG_INFO, "experiment definitions loaded: patron.v1.Experiments is serving");
    if (atomic_exchange(&a->experiments_unloaded, rc != 0) != (rc != 0))
        atomic_fetch_add(&a->health_epoch, 1);
    return rc;
}

void app_drain(app_t *a)
{
    atomic_store(&a->draining, 1);
    atomic_fetch_add(&a->health_epoch, 1);
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
    /* For the same reason the slot waits for a definition change in flight. */
    exp_slot_erase_user(&a->experiments, user);
}
