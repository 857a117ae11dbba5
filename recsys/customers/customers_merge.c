/*
 * customers_merge.c - MergeCustomers over the owners (customers_merge.h):
 * one store_table_atomic transaction that replays a known request id,
 * resolves both ids, checks they are known, runs each owner's merge and
 * records the request.
 */
#include "customers_merge.h"

#include <errno.h>
#include <string.h>

#include "id.h"
#include "store_links.h"

typedef struct merge_run {
    const custdata_owner_t *owners;
    size_t n;
    const char *source, *target, *request_id;
    int64_t now_ms;
    customers_merge_result_t *out;
    const char *failed;
} merge_run_t;

static int id_bad(const char *id)
{
    return id_check(id, STORE_MAX_ID, ID_PRINTABLE) == 0;
}

/* A retried request id: the recorded answer, or -EEXIST for another pair. */
static int replay(const merge_run_t *r, const store_merge_request_t *q)
{
    customers_merge_result_t *o = r->out;
    if (strcmp(q->source, r->source) != 0 || strcmp(q->target, r->target) != 0)
        return -EEXIST;
    memcpy(o->survivor, q->survivor, sizeof o->survivor);
    o->events_moved = q->events_moved;
    o->rows_moved = q->rows_moved;
    o->already_merged = q->already_merged;
    o->replayed = 1;
    return 0;
}

/* 1 when the store (events, attributes) or an owner holds data about id,
 * 0 when nobody does, or a store error. */
static int known(store_tx_t *tx, const merge_run_t *r, const char *id)
{
    int rc = store_tx_customer_known(tx, id);
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        if (r->owners[i].holds)
            rc = r->owners[i].holds(r->owners[i].ctx, tx, id);
    return rc;
}

/* Resolves id into out and checks the customer is known. */
static int resolve_known(store_tx_t *tx, const merge_run_t *r, const char *id,
                         const char *field, char *out)
{
    int rc = store_tx_resolve_customer(tx, id, out);
    if (rc >= 0)
        rc = known(tx, r, out);
    if (rc == 0) {
        r->out->missing = field;
        return -ENOENT;
    }
    return rc < 0 ? rc : 0;
}

static int run_owners(store_tx_t *tx, merge_run_t *r, const char *from, const char *into)
{
    custdata_merged_t m = { 0, 0 };
    for (size_t i = 0; i < r->n; i++) {
        const custdata_owner_t *o = &r->owners[i];
        int rc = o->merge ? o->merge(o->ctx, tx, from, into, r->now_ms, &m) : 0;
        if (rc) {
            r->failed = o->name;
            return rc;
        }
    }
    r->out->events_moved = m.events;
    r->out->rows_moved = m.rows;
    return 0;
}

static int record(store_tx_t *tx, const merge_run_t *r)
{
    store_merge_request_t q;
    memset(&q, 0, sizeof q);
    memcpy(q.source, r->source, strlen(r->source) + 1);
    memcpy(q.target, r->target, strlen(r->target) + 1);
    memcpy(q.survivor, r->out->survivor, sizeof q.survivor);
    q.events_moved = r->out->events_moved;
    q.rows_moved = r->out->rows_moved;
    q.already_merged = r->out->already_merged;
    q.merged_ms = r->now_ms;
    return store_tx_merge_request_put(tx, r->request_id, &q);
}

static int merge_txn(store_tx_t *tx, void *ctx)
{
    merge_run_t *r = ctx;
    customers_merge_result_t *o = r->out;
    char from[STORE_MAX_ID + 1];
    store_merge_request_t q;
    int rc;

    memset(o, 0, sizeof *o);
    r->failed = NULL;
    if (r->request_id) {
        rc = store_tx_merge_request_get(tx, r->request_id, &q);
        if (rc == 0)
            return replay(r, &q);
        if (rc != -ENOENT)
            return rc;
    }
    if ((rc = resolve_known(tx, r, r->source, "source_customer_id", from)) != 0 ||
        (rc = resolve_known(tx, r, r->target, "target_customer_id", o->survivor)) != 0)
        return rc;
    if (strcmp(from, o->survivor) == 0)
        o->already_merged = 1;
    else if ((rc = run_owners(tx, r, from, o->survivor)) != 0)
        return rc;
    return r->request_id ? record(tx, r) : 0;
}

int customers_merge(store_t *s, const custdata_owner_t *owners, size_t n,
                    const char *source_id, const char *target_id,
                    const char *request_id, int64_t now_ms,
                    customers_merge_result_t *out, const char **failed)
{
    merge_run_t r = { owners, n, source_id, target_id,
                      request_id && request_id[0] ? request_id : NULL, now_ms, out,
                      NULL };
    int rc;

    if (failed)
        *failed = NULL;
    if (!s || !out || (n && !owners) || id_bad(source_id) || id_bad(target_id) ||
        strcmp(source_id, target_id) == 0 || (r.request_id && id_bad(r.request_id)))
        return -EINVAL;
    rc = store_table_atomic(s, merge_txn, &r);
    if (rc && failed)
        *failed = r.failed;
    return rc;
}
