/*
 * loyalty_store.h - the storage shell of programme analytics (loyalty.h):
 * walks every customer with events, computes their profile and points
 * ledger (points_store.h, the programme's rules against the store's
 * catalog) as of a time and adds them to a report.
 */
#ifndef PATRON_RECSYS_LOYALTY_STORE_H
#define PATRON_RECSYS_LOYALTY_STORE_H

#include "loyalty.h"
#include "profile.h"
#include "store.h"

/* Fills *r (loyalty_init, every customer, loyalty_finish with max_offsets
 * cohort columns); the caller frees it with loyalty_free, also on error.
 * Returns 0, -EINVAL, -ENOMEM or a store error. */
int loyalty_store_report(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                         double point_value, size_t max_offsets, loyalty_report_t *r);

#endif
