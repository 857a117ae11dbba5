/*
 * exp_erase.h - experiments' part of the customer-data registry
 * (custdata.h): the per-(experiment, customer) exposure summaries, the
 * request ids of the customer's exposures, and pins (forced arms) naming
 * the customer in experiment definitions.
 */
#ifndef PATRON_RECSYS_EXP_ERASE_H
#define PATRON_RECSYS_EXP_ERASE_H

#include <stddef.h>
#include <stdint.h>

#include "custdata.h"
#include "expstore.h"

/* An exported exposure summary (CUSTDATA_EXPOSURE); valid during the emit. */
typedef struct expstore_customer {
    const char *experiment_id;
    uint32_t arm_index;
    int forced, mixed;
    int64_t first_ms, last_ms;
    uint32_t exposures, items_shown;
    size_t n_shown;
    const char *const *shown_item_ids;  /* n_shown item ids */
} expstore_customer_t;

/* An exported pin (CUSTDATA_EXPERIMENT_PIN): the customer is forced into
 * arm_id of experiment_id. */
typedef struct expstore_pin {
    const char *experiment_id;
    const char *arm_id;
} expstore_pin_t;

/* Experiments as a custdata owner: erase = expstore_tx_forget_customer;
 * export = one CUSTDATA_EXPOSURE per experiment the customer was exposed
 * to and one CUSTDATA_EXPERIMENT_PIN per definition pinning them; retain =
 * expstore_prune_requests. */
custdata_owner_t expstore_custdata_owner(void);

#endif
