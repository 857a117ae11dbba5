/*
 * app.h - the state one patrond process serves from: the store, the model
 * being served, and whether the process is draining. Handlers receive it as
 * their `app` argument; there is no global instance.
 */
#ifndef PATRON_SERVER_APP_H
#define PATRON_SERVER_APP_H

#include <pthread.h>
#include <stdatomic.h>

#include "model.h"
#include "store.h"

typedef struct app {
    store_t *store;           /* owned by main */
    model_opts_t model_opts;  /* how each loaded version is indexed */
    model_slot_t models;
    pthread_mutex_t reload_mu; /* one model load at a time */
    atomic_int draining;      /* set on SIGTERM: health says NOT_SERVING */
} app_t;

void app_init(app_t *a, store_t *store, const model_opts_t *opts);
void app_destroy(app_t *a);

/* Loads the newest published model if it differs from the one served and
 * swaps it in. *version gets the version served afterwards (0 if none).
 * Returns 0 (also when nothing changed or no model exists yet) or a
 * negative errno from loading; the old model stays in service on error. */
int app_reload(app_t *a, uint64_t *version);

#endif
