/*
 * exposure.h - the durable record that a response was served under a
 * customer's experiment arms: one exposure per arm (expstore.h), all in one
 * store transaction, keyed by the response's request id so a retried log
 * changes nothing. Written before the response is sent: nothing is served
 * that was not logged.
 */
#ifndef PATRON_RECSYS_EXPOSURE_H
#define PATRON_RECSYS_EXPOSURE_H

#include <stddef.h>
#include <stdint.h>

#include "arms.h"
#include "store.h"

/* Logs items[0..n) (store item indices; may be none) shown to customer_id
 * under request_id in every experiment of a, inside the caller's
 * store_table_atomic transaction. Nothing to do when a->n == 0. Returns 0,
 * -EINVAL (an empty id) or a store error; on an error the caller returns
 * it from its fn so the transaction aborts. */
int exposure_log_tx(store_tx_t *tx, const arms_t *a, const char *customer_id,
                    const char *request_id, const uint32_t *items, size_t n);

/* exposure_log_tx in a transaction of its own (fsynced before it returns). */
int exposure_log(store_t *s, const arms_t *a, const char *customer_id,
                 const char *request_id, const uint32_t *items, size_t n);

#endif
