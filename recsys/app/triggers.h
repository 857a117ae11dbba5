/*
 * triggers.h - firing trigger rules into a durable log, and reading it.
 *
 * triggers_evaluate runs the rules (trigger_rules.h) for one customer at a
 * time now; each firing not yet done for its (customer, rule, key) goes
 * through the contact policy (contactstore_choose, kind trigger: consent,
 * fatigue caps, minimum gap, quiet hours in the customer's zone), which
 * picks the channel: the preferred one, else the first other it allows.
 *   - allowed: the firing is appended to the log with the next sequence
 *     number and the channel, in ONE store transaction with its dedup mark,
 *     the coupon decision it carries and the contact (recorded under the
 *     firing id, so it counts toward the customer's caps at once: the
 *     consumer of the stream sends it), so a crash leaves all of it or
 *     none, and a firing is logged at most once whatever evaluates it again;
 *   - refused, but some channel allows it within triggers.max_delay_hours
 *     of the firing's moment (a quiet night, a full day cap): deferred,
 *     nothing written; the next evaluation (the scheduler's scan) tries
 *     again while the rule still fires (a cart bought meanwhile does not);
 *   - refused for good (no consent on any channel, a cap this kind may not
 *     use, or not before that delay): suppressed, the mark written with
 *     the reason, never logged.
 * The firing id is "trg-" + 16 hex digits of a hash of (customer, rule,
 * key).
 *
 * What a logged trigger carries besides its rule and reason:
 *   - recommended items: rec_recommend for the customer at now, the list
 *     Recommend answers outside experiments, less the trigger's own items
 *     (the carted or cheaper ones); no exposure is logged: the consumer
 *     decides whether to send;
 *   - a coupon: the decision TargetCoupons makes (couponstore_target_tx,
 *     outside experiments), GRANTED under the firing id as request id, in the
 *     log's transaction.
 *     So the grant exists exactly when the trigger does, a retry of the
 *     evaluation replays it instead of granting again, and the consumer can
 *     redeem or look it up by that id (the coupon's expiry releases an
 *     unused reservation).
 *
 * Sequence numbers start at 1 and grow by one per logged trigger (gaps
 * only where retention or erasure removed rows). A consumer's cursor is
 * the last sequence it processed (0: none); triggers_next returns the first
 * logged trigger after it.
 *
 * Tables: tlog (seq), tmark (customer NUL rule NUL key), tstate (customer),
 * tmeta ("next"), tdrop (item id); records in proto/patron/store/v1/
 * triggers.proto.
 *
 * Threads: every function may be called from any thread; evaluations of
 * one customer must not overlap (tier changes compare against the state
 * the previous evaluation stored): callers serialize evaluations (patrond:
 * one mutex for its scheduler and event hooks).
 *
 * Errors: 0 or a negative errno (store errors as store.h).
 */
#ifndef PATRON_RECSYS_TRIGGERS_H
#define PATRON_RECSYS_TRIGGERS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "coupon.h"
#include "custdata.h"
#include "couponstore.h"
#include "contactstore.h"
#include "customers.h"
#include "model.h"
#include "store.h"
#include "trigger_rules.h"

/* Everything an evaluation reads; all borrowed. */
typedef struct triggers_env {
    const customers_ctx_t *cust;   /* store, profile config (the rules),
                                      catalog snapshot, RFM cut-points */
    const model_t *model;          /* NULL: no recommended items */
    const coupon_t *coupons;       /* the coupon catalog; n_coupons 0: no coupon */
    size_t n_coupons;
    const coupon_config_t *coupon_cfg; /* NULL: defaults */
    /* The contact policy (contactstore.h): NULL: every firing is logged,
     * with no channel and no contact recorded. */
    const contactstore_env_t *contact;
} triggers_env_t;

typedef struct triggers_result {
    uint32_t logged;       /* appended to the log */
    uint32_t suppressed;   /* refused by the policy for good (marked done) */
    uint32_t deferred;     /* refused for now: evaluated again later */
    uint64_t last_seq;     /* the newest logged by this call, 0 none */
} triggers_result_t;

/* Evaluates customer_id (a customer with events or attributes; an unknown
 * one is nothing to do) at now_ms. *res (may be NULL) gets the counts.
 * Returns 0, -EINVAL, or a store error (firings logged before it stay). */
int triggers_evaluate(const triggers_env_t *env, const char *customer_id, int64_t now_ms,
                      triggers_result_t *res);

/* ---- the log --------------------------------------------------------------------- */

#define TRIGGERS_ITEM_ID_MAX (STORE_MAX_ID + 1)
#define TRIGGERS_FIRING_ID_MAX 21   /* "trg-" + 16 hex digits + NUL */

typedef struct triggers_record {
    uint64_t seq;
    char customer_id[STORE_MAX_ID + 1];
    char rule[TRIGGER_NAME_MAX];
    trigger_kind_t kind;
    int64_t time_ms;                 /* when the condition became true */
    int64_t fired_ms;                /* when it was logged */
    char reason[TRIGGER_REASON_MAX];
    char key[TRIGGER_KEY_MAX];
    size_t n_items;
    char items[TRIGGER_MAX_ITEMS][TRIGGERS_ITEM_ID_MAX];
    size_t n_recommended;
    char recommended[TRIGGER_MAX_RECOMMEND_K][TRIGGERS_ITEM_ID_MAX];
    char coupon_request_id[COUPONSTORE_REQUEST_ID_MAX];
    char coupon_id[COUPON_ID_MAX];   /* "" none */
    char coupon_campaign[COUPON_ID_MAX];
    int coupon_outcome;              /* coupon_outcome_t; -1: no decision made */
    char coupon_reason[COUPON_REASON_MAX];
    int channel;                     /* consent_channel_t; -1: no policy applied */
    char message_id[TRIGGERS_FIRING_ID_MAX]; /* the contact recorded; "" none */
} triggers_record_t;

/* The first logged trigger with seq > after into *out: 0, -ENOENT when
 * there is none (yet), -EBADMSG, or a store error. */
int triggers_next(store_t *s, uint64_t after, triggers_record_t *out);

/* The sequence the next logged trigger gets (1 on an empty log): every
 * logged trigger has a smaller one. */
int triggers_next_seq(store_t *s, uint64_t *next);

/* Retention (patron compact): removes logged triggers fired before
 * before_ms. The dedup marks stay (one small row per firing): they are what
 * keeps a firing from being logged twice. *removed gets the count. */
int triggers_prune(store_t *s, int64_t before_ms, uint64_t *removed);

/* The registry entry (custdata.h, owners.h): erasure deletes the
 * customer's logged triggers (sequence numbers are never reused, so
 * cursors stay valid), marks and state; export emits each logged trigger
 * of the customer (CUSTDATA_TRIGGER, a triggers_record_t) in sequence
 * order, read with a scan of the log, as erasure does; retention is
 * triggers_prune. Rows stay under a merged-away id (exported and erased
 * with the person). */
custdata_owner_t triggers_custdata_owner(void);

/* ---- price drops ------------------------------------------------------------------ */

/* After UpsertItems: for each item of items[0..n) whose price in old (the
 * catalog before the write; NULL: none) was higher, records the drop at
 * now_ms for price_drop rules. One transaction. */
int triggers_note_prices(store_t *s, const catalog_t *old, const store_item_t *items,
                         size_t n, int64_t now_ms);

#endif
