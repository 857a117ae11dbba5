/*
 * exposure.c - exposures of one response in every experiment it was served
 * under, in one transaction (exposure.h).
 */
#include "exposure.h"

#include "expstore.h"

int exposure_log_tx(store_tx_t *tx, const arms_t *a, const char *customer_id,
                    const char *request_id, const uint32_t *items, size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < a->n && rc == 0; i++) {
        expstore_exposure_t e = { request_id, customer_id, a->a[i].experiment,
                                  a->a[i].arm_index, a->a[i].forced, a->now_ms,
                                  items, n };
        rc = expstore_log_tx(tx, &e);
    }
    return rc;
}

typedef struct log_ctx {
    const arms_t *a;
    const char *customer_id, *request_id;
    const uint32_t *items;
    size_t n;
} log_ctx_t;

static int log_fn(store_tx_t *tx, void *ctx)
{
    const log_ctx_t *c = ctx;
    return exposure_log_tx(tx, c->a, c->customer_id, c->request_id, c->items, c->n);
}

int exposure_log(store_t *s, const arms_t *a, const char *customer_id,
                 const char *request_id, const uint32_t *items, size_t n)
{
    log_ctx_t c = { a, customer_id, request_id, items, n };
    if (!a->n)
        return 0;
    return store_table_atomic(s, log_fn, &c);
}
