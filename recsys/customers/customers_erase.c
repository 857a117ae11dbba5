/*
 * customers_erase.c - erasure, export and retention over the registry of
 * customer-data owners (customers_erase.h).
 *
 * Erasure is one store_table_atomic transaction around every owner's erase:
 * a crash or an owner's error leaves the customer whole, never half erased
 * (the coupon history gone but the offer log still naming them). Memory is
 * forgotten only after the commit, so a failed erasure changes nothing.
 */
#include "customers_erase.h"

#include <errno.h>
#include <string.h>

#include "id.h"

static int id_bad(const char *id)
{
    return id_check(id, STORE_MAX_ID, 0) == 0;
}

typedef struct erase_run {
    const custdata_owner_t *owners;
    size_t n;
    const char *customer_id;
    custdata_erased_t erased;
    const char *failed;
} erase_run_t;

static int erase_all(store_tx_t *tx, void *ctx)
{
    erase_run_t *r = ctx;
    memset(&r->erased, 0, sizeof r->erased);
    r->failed = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const custdata_owner_t *o = &r->owners[i];
        int rc = o->erase ? o->erase(o->ctx, tx, r->customer_id, &r->erased) : 0;
        if (rc) {
            r->failed = o->name;
            return rc;
        }
    }
    return r->erased.rows ? 0 : -ENOENT;
}

int customers_erase(store_t *s, const custdata_owner_t *owners, size_t n,
                    const char *customer_id, custdata_erased_t *out,
                    const char **failed)
{
    erase_run_t r = { owners, n, customer_id, { 0, 0, 0, 0 }, NULL };
    int rc;

    if (failed)
        *failed = NULL;
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || (n && !owners) || id_bad(customer_id))
        return -EINVAL;
    rc = store_table_atomic(s, erase_all, &r);
    if (rc && rc != -ENOENT) {
        if (failed)
            *failed = r.failed;
        return rc;
    }
    /* Also after -ENOENT: memory may hold a customer the store never saw
     * (a Recommend for a new visitor records what was shown). */
    for (size_t i = 0; i < n; i++)
        if (owners[i].forget)
            owners[i].forget(owners[i].ctx, customer_id, &r.erased);
    if (out)
        *out = r.erased;
    return rc;
}

typedef struct export_run {
    custdata_emit_fn emit;
    void *sink;
    uint64_t rows;
} export_run_t;

static int count_row(void *sink, custdata_kind_t kind, const void *row)
{
    export_run_t *r = sink;
    r->rows++;
    return r->emit(r->sink, kind, row);
}

int customers_export(store_t *s, const custdata_owner_t *owners, size_t n,
                     const char *customer_id, custdata_emit_fn emit, void *sink,
                     const char **failed)
{
    export_run_t r = { emit, sink, 0 };

    if (failed)
        *failed = NULL;
    if (!s || (n && !owners) || !emit || id_bad(customer_id))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const custdata_owner_t *o = &owners[i];
        int rc = o->export_rows ? o->export_rows(o->ctx, s, customer_id, count_row, &r)
                                : 0;
        if (rc) {
            if (failed)
                *failed = o->name;
            return rc;
        }
    }
    return r.rows ? 0 : -ENOENT;
}

int customers_retain(store_t *s, const custdata_owner_t *owners, size_t n,
                     int64_t before_ms, uint64_t *removed, uint64_t *per_owner,
                     const char **failed)
{
    if (failed)
        *failed = NULL;
    if (!s || (n && !owners) || !removed)
        return -EINVAL;
    *removed = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = 0;
        int rc = owners[i].retain ? owners[i].retain(owners[i].ctx, s, before_ms, &k) : 0;
        *removed += k;
        if (per_owner)
            per_owner[i] = k;
        if (rc) {
            if (failed)
                *failed = owners[i].name;
            return rc;
        }
    }
    return 0;
}
