/*
 * owners.h - the modules that keep customer data in the store, as the
 * registry of custdata.h lists them: the one list DeleteCustomer, MergeCustomers,
 * ExportCustomer (server/rpc/app_owners.c adds the owners in memory) and
 * tests/test_erasure.c walk. A module that starts keeping customer data
 * adds its owner here, and test_erasure checks that nothing of an erased
 * customer is left in any database.
 */
#ifndef PATRON_RECSYS_OWNERS_H
#define PATRON_RECSYS_OWNERS_H

#include <stddef.h>

#include "custdata.h"

#define OWNERS_DURABLE 7

/* Fills out with the durable owners in erasure and export order (the
 * store, coupons, experiments, consent, contacts, triggers); returns how many
 * (OWNERS_DURABLE). */
size_t owners_durable(custdata_owner_t out[OWNERS_DURABLE]);

#endif
