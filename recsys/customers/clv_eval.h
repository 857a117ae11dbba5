/*
 * clv_eval.h - judging the CLV models on a time split, beside the naive
 * baseline "next period's spend = last period's spend". Pure: the caller
 * (customers_clv.h) gathers one row per customer who bought before the
 * split; this fits the models on the calibration summaries, predicts the
 * holdout and scores both.
 *
 * Calibration table: customers in deciles of predicted holdout spend
 * (decile 1 the lowest), each with its mean predicted and actual purchases
 * and spend and the baseline's spend. Errors are per customer over every
 * evaluated customer (MAE, RMSE) and on the total.
 */
#ifndef PATRON_RECSYS_CLV_EVAL_H
#define PATRON_RECSYS_CLV_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "clv.h"

#define CLV_EVAL_DECILES 10

typedef struct clv_eval_row {
    clv_summary_t cal;        /* summary at the split */
    double actual_purchases;  /* orders in the holdout */
    double actual_spend;      /* net spend in the holdout */
    double last_purchases;    /* orders in the period of the same length before the split */
    double last_spend;        /* net spend in it: the baseline's prediction */
} clv_eval_row_t;

typedef struct clv_eval_errors {
    double mae, rmse;          /* per customer */
    double total_predicted, total_actual;
} clv_eval_errors_t;

typedef struct clv_eval_decile {
    uint64_t customers;
    double predicted_purchases, actual_purchases; /* means over the decile */
    double predicted_spend, actual_spend, baseline_spend;
} clv_eval_decile_t;

typedef struct clv_eval_report {
    clv_model_t model;         /* fitted on the calibration summaries */
    uint64_t customers;
    double holdout_days;
    clv_eval_errors_t purchases, spend;           /* the models */
    clv_eval_errors_t base_purchases, base_spend; /* the baseline */
    clv_eval_decile_t deciles[CLV_EVAL_DECILES];
} clv_eval_report_t;

/* Fits on rows[].cal, predicts holdout_days ahead and scores against the
 * actuals. Returns 0, -EINVAL (n == 0, holdout_days <= 0, a bad summary),
 * -ENOMEM or clv_fit's error. */
int clv_evaluate(const clv_eval_row_t *rows, size_t n, double holdout_days,
                 clv_eval_report_t *out);

#endif
