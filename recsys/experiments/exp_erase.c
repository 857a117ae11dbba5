/*
 * exp_erase.c - experiments' part of the customer-data registry
 * (exp_erase.h): expstore's per-customer reads and erasure behind the
 * custdata_owner_t interface, with shown items exported by item id.
 */
#include "exp_erase.h"

#include <errno.h>
#include <string.h>

typedef struct export_ctx {
    store_t *s;
    custdata_emit_fn emit;
    void *sink;
} export_ctx_t;

static int export_summary(void *ctx, const expstore_summary_t *sum)
{
    export_ctx_t *x = ctx;
    static const char unknown[] = "";
    char ids[EXPSTORE_MAX_SHOWN][STORE_MAX_ID + 1];
    const char *ptr[EXPSTORE_MAX_SHOWN];
    expstore_customer_t out = { sum->experiment_id, sum->arm_index, sum->forced,
                                sum->mixed, sum->first_ms, sum->last_ms, sum->exposures,
                                sum->items_shown, sum->n_shown, ptr };

    for (uint32_t i = 0; i < sum->n_shown; i++) {
        int rc = store_item_id(x->s, sum->shown[i], ids[i], sizeof ids[i]);
        if (rc && rc != -ENOENT)
            return rc;
        ptr[i] = rc ? unknown : ids[i];
    }
    return x->emit(x->sink, CUSTDATA_EXPOSURE, &out);
}

/* Pins live in the definitions: read them all (there are few). */
static int export_pins(store_t *s, const char *customer_id, custdata_emit_fn emit,
                       void *sink)
{
    expstore_defs_t defs;
    int rc = expstore_load(s, &defs);
    for (size_t i = 0; rc == 0 && i < defs.n; i++)
        for (size_t j = 0; rc == 0 && j < defs.defs[i].n_forced; j++) {
            const experiment_forced_t *f = &defs.defs[i].forced[j];
            expstore_pin_t pin = { defs.defs[i].id, f->arm_id };
            if (strcmp(f->customer_id, customer_id) == 0)
                rc = emit(sink, CUSTDATA_EXPERIMENT_PIN, &pin);
        }
    expstore_defs_free(&defs); /* empty after a failed load */
    return rc;
}

static int exp_export(void *ctx, store_t *s, const char *customer_id,
                      custdata_emit_fn emit, void *sink)
{
    export_ctx_t x = { s, emit, sink };
    int rc = expstore_customer_summaries(s, customer_id, export_summary, &x);
    (void)ctx;
    return rc ? rc : export_pins(s, customer_id, emit, sink);
}

static int exp_erase(void *ctx, store_tx_t *tx, const char *customer_id,
                     custdata_erased_t *out)
{
    uint64_t rows = 0;
    int rc = expstore_tx_forget_customer(tx, customer_id, &rows);
    (void)ctx;
    out->rows += rows;
    return rc;
}

static int exp_retain(void *ctx, store_t *s, int64_t before_ms, uint64_t *removed)
{
    (void)ctx;
    return expstore_prune_requests(s, before_ms, removed);
}

custdata_owner_t expstore_custdata_owner(void)
{
    custdata_owner_t o = { .name = "experiments", .erase = exp_erase,
                           .export_rows = exp_export, .retain = exp_retain,
                           .retain_what = "experiment exposure request ids" };
    return o;
}
