/*
 * exp_report.h - GetExperimentResults as a use case: an experiment's arms
 * against control (arm 0), read from the exposures and the customers' own
 * events (expstore_results), with the statistics an analyst needs to act
 * on them and the warnings that say when not to.
 *
 * Per arm: customers, exposures, and five metrics: conversion, revenue and
 * margin per customer (Welch's t, CUPED with pre-period spend, an
 * always-valid mSPRT p-value for peeking), click-through on shown items and
 * revenue per exposure (delta method). For the experiment: the
 * sample-ratio-mismatch check, the planned size for a 5% relative lift in
 * revenue per customer (alpha 0.05, power 0.8), and a warning: a mismatch
 * first (nothing else can be trusted), else reading before the planned
 * size.
 */
#ifndef PATRON_RECSYS_EXP_REPORT_H
#define PATRON_RECSYS_EXP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "experiment.h"
#include "store.h"

#define EXP_REPORT_METRICS 5

typedef struct exp_diff {
    double estimate;         /* arm - control */
    double relative;         /* estimate / control; 0 when control is 0 */
    double ci_lo, ci_hi;     /* 95% */
    double p;
    double always_valid_p;   /* 1 where no sequential test applies */
} exp_diff_t;

typedef struct exp_metric {
    const char *name;        /* static: "conversion", "click_through", ... */
    double value;            /* the arm's mean (or ratio) */
    int has_diff;            /* vs_control filled (not for control) */
    exp_diff_t vs_control;
    int has_cuped;           /* cuped filled (per-customer metrics) */
    exp_diff_t cuped;
    double cuped_variance_reduction;
} exp_metric_t;

typedef struct exp_arm_report {
    uint64_t customers, exposures;
    double expected_share;   /* the arm's weight */
    double conversion_rate, revenue_per_customer;
    exp_metric_t metrics[EXP_REPORT_METRICS]; /* conversion first */
} exp_arm_report_t;

typedef struct exp_report {
    size_t n_arms;
    exp_arm_report_t arms[EXPERIMENT_MAX_ARMS];
    uint64_t customers_in_two_arms;
    int srm_checked;         /* the check could run */
    int sample_ratio_mismatch;
    double srm_p;
    uint64_t planned_customers_per_arm; /* 0: cannot be planned yet */
    int underpowered;
    char warning[256];       /* "" when there is nothing to warn about */
} exp_report_t;

/*
 * Reports experiment e (its arms; the forced list is not read) with
 * outcomes attributed within attribution_ms of each customer's first
 * exposure and pre_ms before it for CUPED; cat (may be NULL) gives unit
 * costs for margins. deadline > 0 (monotime_seconds()) stops the scan
 * over exposed customers with -ETIMEDOUT once passed (expstore_results).
 * Returns 0, -ETIMEDOUT, -ENOMEM or a store error.
 */
int exp_report(store_t *s, const experiment_t *e, const catalog_t *cat,
               int64_t attribution_ms, int64_t pre_ms, double deadline, exp_report_t *out);

#endif
