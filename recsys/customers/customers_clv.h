/*
 * customers_clv.h - the storage shell of the CLV models (clv.h): gathers
 * each customer's purchase summary from their events, fits the models
 * (`patron train` runs customers_clv_job after the RFM job), keeps the
 * parameters in the store (blob "clv_model", a patron.store.v1.ClvModel)
 * for patrond to load, and gathers the rows of a time-split evaluation.
 *
 * A customer's summary comes from their profile (profile.h) as of a time
 * now: x = orders - 1, t_x = days from the first order to the last, T =
 * days from the first order to now, n = orders and mean_spend = net spend /
 * orders (the profile's average basket, refunds netted out). Customers
 * without an order as of now have no summary and no prediction.
 */
#ifndef PATRON_RECSYS_CUSTOMERS_CLV_H
#define PATRON_RECSYS_CUSTOMERS_CLV_H

#include <stddef.h>
#include <stdint.h>

#include "clv.h"
#include "clv_eval.h"
#include "profile.h"
#include "store.h"

/* The summary of profile p computed as of now_ms. Returns 1 and fills *s
 * when p has orders, else 0. */
int customers_clv_summary(const profile_t *p, int64_t now_ms, clv_summary_t *s);

/* A view's prediction over the next CLV_DAYS_PER_YEAR days: *has = 1 and
 * *out filled when m is non-NULL and p has orders, else *has = 0 and *out
 * zeroed. */
void customers_clv_view(const clv_model_t *m, const profile_t *p, int64_t now_ms,
                        int *has, clv_prediction_t *out);

/* The CLV job: summarizes every customer with an order as of now_ms, fits
 * both models and stores them. *out gets the model. -ENOENT when no
 * customer has an order; else 0, a store error or clv_fit's. */
int customers_clv_job(store_t *s, const profile_config_t *cfg, int64_t now_ms,
                      clv_model_t *out);

/* Reads the stored model: *fitted = 1 and *out filled, or *fitted = 0 when
 * the job never ran (or the record is not a model). 0 or a store error. */
int customers_load_clv(store_t *s, clv_model_t *out, int *fitted);

/* The rows of a time split at split_ms with a holdout of holdout_ms: one
 * per customer with an order before split_ms; actuals over [split,
 * split + holdout), the baseline over [split - holdout, split). *rows is
 * malloc'd (the caller frees it), *n its length. 0, -ENOMEM or a store
 * error. */
int customers_clv_rows(store_t *s, const profile_config_t *cfg, int64_t split_ms,
                       int64_t holdout_ms, clv_eval_row_t **rows, size_t *n);

/* The times of the store's first and last purchase (any customer), for
 * placing a split: -ENOENT when there is none. */
int customers_purchase_span(store_t *s, int64_t *first_ms, int64_t *last_ms);

#endif
