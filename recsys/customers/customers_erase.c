/*
 * customers_erase.c - erasure, export and retention over the registry of
 * customer-data owners (customers_erase.h).
 *
 * Erasure is one store_table_atomic transaction around every owner's erase,
 * for every id of the person (the survivor of merges and the ids merged
 * into it, store_links.h):
 * a crash or an owner's error leaves the customer whole, never half erased
 * (the coupon history gone but the offer log still naming them). Memory is
 * forgotten only after the commit, so a failed erasure changes nothing.
 */
#include "customers_erase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "store_links.h"

static int id_bad(const char *id)
{
    return id_check(id, STORE_MAX_ID, 0) == 0;
}

/* The ids of one person: the survivor first, then every id merged into
 * it, each with what its erasure removed. */
typedef struct erase_run {
    const custdata_owner_t *owners;
    size_t n;
    const char *customer_id;
    char **ids;
    custdata_erased_t *erased;
    size_t n_ids, cap;
    custdata_erased_t total;
    const char *failed;
} erase_run_t;

static void erase_run_free(erase_run_t *r)
{
    for (size_t i = 0; i < r->n_ids; i++)
        free(r->ids[i]);
    free(r->ids);
    free(r->erased);
}

static int add_id(void *ctx, const char *id)
{
    erase_run_t *r = ctx;
    size_t cap = r->cap;
    if (r->n_ids == cap) {
        size_t ncap = cap ? 2 * cap : 4;
        char **ids = realloc(r->ids, ncap * sizeof *ids);
        custdata_erased_t *er;
        if (!ids)
            return -ENOMEM;
        r->ids = ids;
        if (!(er = realloc(r->erased, ncap * sizeof *er)))
            return -ENOMEM;
        r->erased = er;
        r->cap = ncap;
    }
    if (!(r->ids[r->n_ids] = strdup(id)))
        return -ENOMEM;
    memset(&r->erased[r->n_ids++], 0, sizeof *r->erased);
    return 0;
}

/* The person customer_id names: its survivor (itself unless it was merged
 * away) and every id merged into that. */
static int gather_ids(store_tx_t *tx, erase_run_t *r)
{
    char survivor[STORE_MAX_ID + 1];
    int rc = store_tx_resolve_customer(tx, r->customer_id, survivor);
    if (rc < 0 || (rc = add_id(r, survivor)) != 0)
        return rc;
    return store_tx_linked_ids(tx, survivor, add_id, r);
}

static int erase_all(store_tx_t *tx, void *ctx)
{
    erase_run_t *r = ctx;
    int rc;

    for (size_t i = 0; i < r->n_ids; i++) /* a rerun starts afresh */
        free(r->ids[i]);
    r->n_ids = 0;
    memset(&r->total, 0, sizeof r->total);
    r->failed = NULL;
    if ((rc = gather_ids(tx, r)) != 0) {
        r->failed = "store";
        return rc;
    }
    for (size_t j = 0; j < r->n_ids; j++) {
        custdata_erased_t *e = &r->erased[j];
        for (size_t i = 0; i < r->n; i++) {
            const custdata_owner_t *o = &r->owners[i];
            rc = o->erase ? o->erase(o->ctx, tx, r->ids[j], e) : 0;
            if (rc) {
                r->failed = o->name;
                return rc;
            }
        }
        r->total.rows += e->rows;
        r->total.events += e->events;
        if (j == 0) {
            r->total.had_index = e->had_index;
            r->total.index = e->index;
        }
    }
    r->total.linked = (uint32_t)(r->n_ids - 1);
    return r->total.rows ? 0 : -ENOENT;
}

int customers_erase(store_t *s, const custdata_owner_t *owners, size_t n,
                    const char *customer_id, custdata_erased_t *out,
                    const char **failed)
{
    erase_run_t r = { .owners = owners, .n = n, .customer_id = customer_id };
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
        erase_run_free(&r);
        return rc;
    }
    /* Also after -ENOENT: memory may hold a customer the store never saw
     * (a Recommend for a new visitor records what was shown). Every id of
     * the person is forgotten, the one asked for included. */
    if (r.n_ids == 0 || strcmp(r.ids[0], customer_id) != 0) {
        int found = 0;
        for (size_t j = 0; j < r.n_ids; j++)
            found |= strcmp(r.ids[j], customer_id) == 0;
        if (!found && add_id(&r, customer_id) != 0) {
            erase_run_free(&r);
            return -ENOMEM;
        }
    }
    for (size_t j = 0; j < r.n_ids; j++)
        for (size_t i = 0; i < n; i++)
            if (owners[i].forget)
                owners[i].forget(owners[i].ctx, r.ids[j], &r.erased[j]);
    if (out)
        *out = r.total;
    erase_run_free(&r);
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

/* The ids of the person customer_id names, survivor first (erase_run_t's
 * id list, nothing erased). */
static int person_ids(store_t *s, const char *customer_id, erase_run_t *r)
{
    char survivor[STORE_MAX_ID + 1];
    int rc = store_resolve_customer(s, customer_id, survivor);
    if (rc < 0 || (rc = add_id(r, survivor)) != 0)
        return rc;
    return store_linked_ids(s, survivor, add_id, r); /* add_id only copies */
}

static int export_id(store_t *s, const custdata_owner_t *owners, size_t n, const char *id,
                     export_run_t *r, const char **failed)
{
    for (size_t i = 0; i < n; i++) {
        const custdata_owner_t *o = &owners[i];
        int rc = o->export_rows ? o->export_rows(o->ctx, s, id, count_row, r) : 0;
        if (rc) {
            if (failed)
                *failed = o->name;
            return rc;
        }
    }
    return 0;
}

int customers_export(store_t *s, const custdata_owner_t *owners, size_t n,
                     const char *customer_id, custdata_emit_fn emit, void *sink,
                     const char **failed)
{
    export_run_t r = { emit, sink, 0 };
    erase_run_t ids = { .customer_id = customer_id };
    int rc;

    if (failed)
        *failed = NULL;
    if (!s || (n && !owners) || !emit || id_bad(customer_id))
        return -EINVAL;
    if ((rc = person_ids(s, customer_id, &ids)) != 0) {
        if (failed)
            *failed = "store";
        erase_run_free(&ids);
        return rc;
    }
    for (size_t j = 0; rc == 0 && j < ids.n_ids; j++) {
        if (strcmp(ids.ids[j], customer_id) != 0 &&
            (rc = count_row(&r, CUSTDATA_LINKED_ID, ids.ids[j])) != 0)
            break;
        rc = export_id(s, owners, n, ids.ids[j], &r, failed);
    }
    erase_run_free(&ids);
    if (rc)
        return rc;
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
