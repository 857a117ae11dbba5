/*
 * expstore.h - experiments in the store: definitions, exposures, and the
 * per-arm results an analyst reads.
 *
 * Exposures are logged once per request id (a retried log is a no-op) and
 * summarized per (experiment, customer): the arm, the first exposure, the
 * number of exposures and the items shown. Outcomes are not logged
 * separately: they are the customer's own stored events, attributed at
 * report time to the arm the customer was exposed to, from the first
 * exposure on, within an attribution window; the pre-period before the
 * first exposure gives the CUPED covariate.
 */
#ifndef PATRON_RECSYS_EXPSTORE_H
#define PATRON_RECSYS_EXPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "abstats.h"
#include "experiment.h"
#include "store.h"

/* Definitions as loaded: defs[i].forced points into memory owned here. */
typedef struct expstore_defs {
    experiment_t *defs;
    size_t n;
} expstore_defs_t;

/* Stores (replaces) a definition. Returns 0, -ESTALE when an arm pins a
 * model version the store no longer has (a publish dropped it after the
 * caller loaded it; nothing is stored), or a store error. */
int expstore_save(store_t *s, const experiment_t *e);

/* A store_model_keep_fn (store_set_model_keep; ctx unused): keeps a model
 * version while a stored definition's arm pins it, so publishing a new
 * model never deletes what an experiment serves. Returns 1, 0, or a store
 * error (-EBADMSG for an unreadable definition: nothing is dropped then). */
int expstore_model_pinned(store_tx_t *tx, void *ctx, uint64_t version);

/* Loads every stored definition. Free with expstore_defs_free. */
int expstore_load(store_t *s, expstore_defs_t *out);
void expstore_defs_free(expstore_defs_t *d);

#define EXPSTORE_MAX_SHOWN 64   /* distinct shown items kept per customer */

typedef struct expstore_exposure {
    const char *request_id;     /* idempotency key, 1..256 bytes */
    const char *customer_id;
    const char *experiment_id;
    uint32_t arm_index;
    int forced;
    int64_t time_ms;
    const uint32_t *items;      /* store item indices shown (may be NULL) */
    size_t n_items;
} expstore_exposure_t;

/* Logs one exposure durably (group-committed with concurrent writers).
 * Returns 0 (also when this request id was logged before: nothing changes),
 * -EINVAL or a store error. */
int expstore_log(store_t *s, const expstore_exposure_t *e);

/* expstore_log inside the caller's store_table_atomic transaction (several
 * experiments, or a coupon grant, committed with it). Same results; on an
 * error the caller must return it from fn so the transaction aborts. */
int expstore_log_tx(store_tx_t *tx, const expstore_exposure_t *e);

/* Retention: forgets the request ids of exposures logged before before_ms
 * (one row per exposed request, kept only so a retried request is not
 * counted twice). Results are unchanged; a retry of a request older than
 * that would count again. *removed gets the count. Returns 0, -EINVAL,
 * -ENOMEM or a store error. */
int expstore_prune_requests(store_t *s, int64_t before_ms, uint64_t *removed);

/* What the exposures logged for one (experiment, customer). */
typedef struct expstore_summary {
    char experiment_id[EXPERIMENT_MAX_ID + 1];
    uint32_t arm_index;
    int forced, mixed;          /* pinned to the arm; seen in several arms */
    int64_t first_ms, last_ms;
    uint32_t exposures, items_shown;
    uint32_t n_shown;
    uint32_t shown[EXPSTORE_MAX_SHOWN];   /* distinct store item indices */
} expstore_summary_t;

/* Calls cb for every experiment customer_id was exposed in (experiment id
 * order). Reads every summary row (they are keyed by experiment first).
 * Returns 0, the first nonzero cb return, -EINVAL, -EBADMSG (a row this
 * build cannot read; store_strerror names it) or a store error. */
typedef int (*expstore_summary_fn)(void *ctx, const expstore_summary_t *sum);
int expstore_customer_summaries(store_t *s, const char *customer_id,
                                expstore_summary_fn cb, void *ctx);

/* Erasure, inside tx: deletes every summary row of customer_id and the
 * request-id rows of its exposures (request ids may embed a customer id),
 * and rewrites the definitions that pin the customer to an arm without
 * the pin; *rows gets the count. Request-id rows logged by builds before this one
 * name no customer and stay until expstore_prune_requests. Returns 0,
 * -EINVAL, -ENOMEM or a store error. */
int expstore_tx_forget_customer(store_tx_t *tx, const char *customer_id,
                                uint64_t *rows);

/* Per-arm accumulators for one experiment. */
typedef struct expstore_arm {
    uint64_t customers;         /* exposed, not forced */
    uint64_t exposures;
    uint64_t forced;            /* forced customers (left out of the stats) */
    abstats_arm_t conversion;   /* y: bought within the window (0/1); x: pre-spend */
    abstats_arm_t revenue;      /* y: net revenue within the window; x: pre-spend */
    abstats_arm_t margin;       /* y: revenue - unit cost; x: pre-spend */
    abstats_arm_t ctr;          /* num: shown items viewed or bought; den: shown */
    abstats_arm_t rev_per_exposure; /* num: revenue; den: exposures */
} expstore_arm_t;

typedef struct expstore_results {
    size_t n_arms;
    expstore_arm_t arms[EXPERIMENT_MAX_ARMS];
    uint64_t mixed;             /* customers seen in more than one arm */
} expstore_results_t;

/* Accumulates outcomes of experiment e: for every exposed customer, events
 * in [first exposure, first exposure + window_ms) and pre-period spend in
 * [first exposure - pre_ms, first exposure). Margins subtract
 * unit_cost[item] (borrowed, n_items entries: the served catalog
 * snapshot's, so results read the catalog serving reads; items past
 * n_items, or all with unit_cost NULL, cost 0). deadline > 0 is a
 * monotime_seconds() at which the scan stops with -ETIMEDOUT (checked every
 * 64 customers: a long experiment's results are a scan over every exposed
 * customer's events). Returns 0, -ETIMEDOUT or a store error. */
int expstore_results(store_t *s, const experiment_t *e, const double *unit_cost,
                     uint32_t n_items, int64_t window_ms, int64_t pre_ms, double deadline,
                     expstore_results_t *out);

#endif
