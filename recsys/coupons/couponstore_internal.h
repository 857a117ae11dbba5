/*
 * couponstore_internal.h - what couponstore.c, couponstore_target.c and
 * couponstore_uplift.c share: table names, row layouts, row helpers.
 * Private to recsys/coupons/.
 */
#ifndef PATRON_RECSYS_COUPONSTORE_INTERNAL_H
#define PATRON_RECSYS_COUPONSTORE_INTERNAL_H

#include "couponstore.h"
#include "store_record.h"

#include <string.h>

#include "id.h"

#define T_COUPON "coupon"
#define T_BUDGET "cbudget"
#define T_HIST "chist"
#define T_VEL "cvel"
#define T_OFFER "coffer"
#define T_REDEEM "credeem"
#define T_MODEL "cmodel"
#define T_BOOSTED "cboost"

#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL
#define PACER_MIN_STEP_MS 1000   /* pacer updates at most once a second */
#define MONEY_EPS 1e-9           /* float slack when comparing amounts */

typedef struct vel_row {
    uint32_t n;                  /* accounts seen (may exceed the hashes kept) */
    uint64_t h[COUPONSTORE_MAX_ACCOUNTS];
} vel_row_t;

typedef struct redeem_row {
    char customer_id[STORE_MAX_ID + 1];
    char coupon_id[COUPON_ID_MAX];
    char campaign[COUPON_ID_MAX];
    double discount;
    int64_t time_ms;
} redeem_row_t;

static inline int id_ok(const char *id, size_t max)
{
    return id_check(id, max - 1, 0) != 0; /* shorter than max */
}

static inline size_t ring_len(uint32_t count, size_t cap)
{
    return count < cap ? count : cap;
}

/* A kind of row: its table and the codec between its C struct and its
 * stored record (couponstore_records.c). */
typedef struct couponstore_rec {
    const char *table;
    const ProtobufCMessageDescriptor *desc;
    int (*encode)(const void *row, void **buf, size_t *len);
    /* Fills row from a decoded message: NULL, or what is out of bounds. */
    const char *(*from)(const ProtobufCMessage *m, void *row);
} couponstore_rec_t;

extern const couponstore_rec_t CS_COUPON;   /* coupon_t */
extern const couponstore_rec_t CS_BUDGET;   /* couponstore_budget_t */
extern const couponstore_rec_t CS_HISTORY;  /* couponstore_history_t */
extern const couponstore_rec_t CS_VELOCITY; /* vel_row_t */
extern const couponstore_rec_t CS_OFFER;    /* couponstore_offer_t */
extern const couponstore_rec_t CS_REDEEM;   /* redeem_row_t */
extern const couponstore_rec_t CS_MODEL;    /* uplift_model_t */
extern const couponstore_rec_t CS_BOOSTED;  /* uplift_gbt_tl_t */

/* Decodes a stored value of kind r into row; -EBADMSG naming table and key
 * (store_record.h) when it cannot. */
int couponstore_rec_decode(const couponstore_rec_t *r, const void *key, size_t klen,
                           const void *val, size_t vlen, void *row);
/* Inside a transaction: get (-ENOENT when absent) and put of row under key. */
int couponstore_row_get(store_tx_t *tx, const couponstore_rec_t *r, const char *key,
                        void *row);
int couponstore_row_put(store_tx_t *tx, const couponstore_rec_t *r, const char *key,
                        const void *row);
/* The same, each in a transaction of its own. */
int couponstore_row_read(store_t *s, const couponstore_rec_t *r, const char *key,
                         void *row);
int couponstore_row_write(store_t *s, const couponstore_rec_t *r, const char *key,
                          const void *row);

/* Copies src (NULL: empty) into dst[cap], truncating, always NUL-terminated. */
void couponstore_copy_id(char *dst, const char *src, size_t cap);

/* The customer's history (an empty one when there is none yet). */
int couponstore_history_tx_get(store_tx_t *tx, const char *customer_id, couponstore_history_t *h);

/* The entry for coupon_id, made if needed; when the history is full the
 * inactive entry granted longest ago is reused (its lifetime count is
 * forgotten). NULL when every entry holds an active grant. */
couponstore_held_t *couponstore_held_slot(couponstore_history_t *h, const char *coupon_id);

/* The campaign's account (an empty, unpaced one when there is none). */
int couponstore_budget_tx_get(store_tx_t *tx, const char *campaign, couponstore_budget_t *b);

/* Expired grants give their reservation back; *changed set when any did. */
int couponstore_expire_grants(store_tx_t *tx, couponstore_history_t *h, int64_t now_ms,
                  int *changed);

/* How many of t[0..n) lie in (from_ms, now_ms]. */
uint32_t couponstore_count_since(const int64_t *t, size_t n, int64_t from_ms, int64_t now_ms);

/* Counts the customer on device / address `id` (kind 'd' or 'a'; NULL or
 * "": nothing); *accounts gets the number of distinct accounts seen there. */
int couponstore_velocity_touch(store_tx_t *tx, char kind, const char *id,
                               const char *customer_id, uint32_t *accounts);

/* The customer's redemptions in the last hour and day into vel. */
void couponstore_velocity_recent(const couponstore_history_t *h, int64_t now_ms,
                                 coupon_velocity_t *vel);

/* The customer (history h) holds a grant of cp usable until valid_until_ms,
 * granted at now_ms, and its campaign (b) reserves max_cost. -ENOSPC when
 * every history entry holds an active grant. */
int couponstore_hold(couponstore_history_t *h, const coupon_t *cp, couponstore_budget_t *b,
                     double max_cost, int64_t valid_until_ms, int64_t now_ms);

#endif
