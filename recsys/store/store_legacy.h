/*
 * store_legacy.h - the record layouts of the previous release (format 1,
 * the release before meta "format_version" existed), frozen here so that
 * store_migrate*.c can read a store it wrote. Nothing else may use them:
 * every other reader goes through the patron.store.v1 records.
 *
 * Format 1 values were memcpy images of C structs in host byte order
 * (x86-64 SysV layout, which is what released builds ran on), each coupon
 * row led by a u32 version (1). The sizes below were measured on that
 * release; the _Static_asserts keep a careless edit from moving a field.
 */
#ifndef PATRON_RECSYS_STORE_LEGACY_H
#define PATRON_RECSYS_STORE_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#define LEGACY_ROW_VERSION 1       /* COUPONSTORE_VERSION, UPLIFT_MODEL_VERSION */
#define LEGACY_ID 257              /* STORE_MAX_ID + 1 */
#define LEGACY_REGION 65           /* STORE_MAX_REGION + 1 */
#define LEGACY_COUPON_ID 64        /* COUPON_ID_MAX */
#define LEGACY_MAX_PACK 8
#define LEGACY_MAX_SCOPE 16
#define LEGACY_REASON 256
#define LEGACY_REQUEST_ID 65
#define LEGACY_MAX_HELD 32
#define LEGACY_MAX_GRANTS 32
#define LEGACY_MAX_REDEEMS 16
#define LEGACY_MAX_ACCOUNTS 64
#define LEGACY_UPLIFT_DIM 13
#define LEGACY_SEGMENTS 6
#define LEGACY_MAX_SHOWN 64        /* EXPSTORE_MAX_SHOWN */

/* models[version | 0] */
typedef struct legacy_model_hdr {
    uint64_t version;
    int64_t trained_at_ms;
    uint32_t factors, n_users, n_items, iterations;
    float reg, alpha;
    double final_loss;
    float alpha0, nu;
    float w_view, w_cart, w_purchase, w_refund, half_life_days;
    int64_t newest_event_ms;
    uint64_t train_seq;
} legacy_model_hdr_t;

/* attrs[customer id] */
typedef struct legacy_attrs {
    int64_t signup_ms;
    uint8_t birth_month, birth_day;
    char region[LEGACY_REGION];
} legacy_attrs_t;

typedef struct legacy_benefit {
    int32_t kind;
    double amount, percent, cap, threshold, min_threshold;
} legacy_benefit_t;

typedef struct legacy_coupon {
    char id[LEGACY_COUPON_ID];
    char campaign[LEGACY_COUPON_ID];
    int32_t type;
    uint64_t n_benefits;
    legacy_benefit_t benefit[LEGACY_MAX_PACK];
    int64_t valid_from_ms, valid_until_ms;
    uint32_t tier_mask, segment_mask, stage_mask;
    uint64_t n_categories, n_items;
    uint32_t categories[LEGACY_MAX_SCOPE];
    uint32_t items[LEGACY_MAX_SCOPE];
    double min_basket;
    double campaign_budget;
    uint32_t per_customer_limit;
    int32_t stackable;
} legacy_coupon_t;

/* coupon[id] */
typedef struct legacy_coupon_row {
    uint32_t version;
    legacy_coupon_t c;
} legacy_coupon_row_t;

typedef struct legacy_pacer {
    double budget;
    int64_t start_ms, end_ms;
    double lambda, integral;
    int64_t last_ms;
    double lambda_min, lambda_max, kp, ki;
} legacy_pacer_t;

/* cbudget[campaign] */
typedef struct legacy_budget {
    uint32_t version;
    double budget, spent, committed;
    uint64_t grants, redemptions;
    legacy_pacer_t pacer;
} legacy_budget_t;

typedef struct legacy_held {
    char coupon_id[LEGACY_COUPON_ID];
    char campaign[LEGACY_COUPON_ID];
    uint32_t granted, active, uses_left;
    int32_t stackable;
    double reserved;
    int64_t valid_until_ms, last_grant_ms;
} legacy_held_t;

/* chist[customer id] */
typedef struct legacy_history {
    uint32_t version, welcome_pack, n_held, n_grants, n_redeems;
    legacy_held_t held[LEGACY_MAX_HELD];
    int64_t grant_ms[LEGACY_MAX_GRANTS];
    int64_t redeem_ms[LEGACY_MAX_REDEEMS];
} legacy_history_t;

/* cvel["d:" or "a:" id] */
typedef struct legacy_velocity {
    uint32_t version, n;
    uint64_t h[LEGACY_MAX_ACCOUNTS];
} legacy_velocity_t;

typedef struct legacy_x {
    double recency_days, orders, monetary, average_basket;
    int32_t stage;
    double propensity;
} legacy_x_t;

typedef struct legacy_option {
    int32_t index;
    double basket, threshold, p_control, p_treated, uplift, margin_control,
        margin_treated, discount, p_redeem, incr_margin, expected_cost, lambda, value;
} legacy_option_t;

/* coffer[request id]: zlib-deflated, or raw when exactly this size */
typedef struct legacy_offer {
    uint32_t version;
    char request_id[LEGACY_REQUEST_ID];
    char customer_id[LEGACY_ID];
    int64_t time_ms;
    legacy_x_t x;
    char coupon_id[LEGACY_COUPON_ID];
    char campaign[LEGACY_COUPON_ID];
    int32_t outcome;
    double assign_prob, max_cost;
    legacy_option_t numbers;
    char reason[LEGACY_REASON];
} legacy_offer_t;

/* credeem[redemption id] */
typedef struct legacy_redeem {
    uint32_t version;
    char customer_id[LEGACY_ID];
    char coupon_id[LEGACY_COUPON_ID];
    char campaign[LEGACY_COUPON_ID];
    double discount;
    int64_t time_ms;
} legacy_redeem_t;

/* cmodel[coupon id | "default"] */
typedef struct legacy_uplift_model {
    uint32_t version, fitted;
    double beta_treated[LEGACY_UPLIFT_DIM];
    double beta_control[LEGACY_UPLIFT_DIM];
    double beta_response[LEGACY_UPLIFT_DIM];
    double n_treated[LEGACY_SEGMENTS];
    double n_control[LEGACY_SEGMENTS];
    double l2;
    int32_t max_iter;
    double prior_strength;
    struct { double base_rate, uplift; } prior[LEGACY_SEGMENTS];
} legacy_uplift_model_t;

/* exp_cust[experiment id NUL customer id] */
typedef struct legacy_exp_customer {
    uint32_t arm_index;
    uint8_t forced, mixed;
    int64_t first_ms, last_ms;
    uint32_t exposures, items_shown, n_shown;
    uint32_t shown[LEGACY_MAX_SHOWN];
} legacy_exp_customer_t;

/* Sizes the previous release wrote (x86-64). */
_Static_assert(sizeof(legacy_model_hdr_t) == 96, "format 1 model header");
_Static_assert(sizeof(legacy_attrs_t) == 80, "format 1 attributes");
_Static_assert(sizeof(legacy_coupon_row_t) == 736, "format 1 coupon row");
_Static_assert(sizeof(legacy_budget_t) == 128, "format 1 budget");
_Static_assert(sizeof(legacy_history_t) == 5784, "format 1 history");
_Static_assert(sizeof(legacy_velocity_t) == 520, "format 1 velocity row");
_Static_assert(sizeof(legacy_offer_t) == 904, "format 1 offer row");
_Static_assert(sizeof(legacy_redeem_t) == 408, "format 1 redemption");
_Static_assert(sizeof(legacy_uplift_model_t) == 536, "format 1 uplift model");
_Static_assert(sizeof(legacy_exp_customer_t) == 296, "format 1 experiment customer");

/* Converters, one per legacy record kind: val[0..vlen) of table / key to a
 * malloc'd patron.store.v1 record (*out, *olen). -EBADMSG (naming the
 * record, store_record.h) when val is not what the previous release wrote,
 * -ENOMEM. */
typedef int (*legacy_conv_fn)(const char *table, const void *key, size_t klen,
                              const void *val, size_t vlen, void **out, size_t *olen);

/* The converter of a table of the generic tables (coupon, cbudget, ...,
 * exp_defs); NULL for a table that kept its format. */
legacy_conv_fn store_legacy_coupon_conv(const char *table);
legacy_conv_fn store_legacy_exp_conv(const char *table);

#endif
