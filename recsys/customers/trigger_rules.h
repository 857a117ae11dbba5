/*
 * trigger_rules.h - which trigger rules (trigger_def.h) fire for one
 * customer at a given time. Pure: a deterministic function of the
 * customer's events, profile, attributes, the tier last seen and now; no
 * storage, no clock. The durable log, deduplication and delivery are
 * recsys/app/triggers.h.
 *
 * Each firing carries the moment its condition became true (time_ms) and
 * a key naming the period it fires once per; the log keeps one firing per
 * (customer, rule, key):
 *
 *   cart_abandoned  carts after the customer's last purchase (a "cart"),
 *                   none bought since: fires at the last cart's time + the
 *                   wait; key: the cart's first time (one per cart); items:
 *                   the carted items, newest first.
 *   at_risk,        the stage (profile.h) is at_risk / lapsed: fires at the
 *   lapsed          moment the idle time crossed rhythm x at_risk_factor /
 *                   x lapse_factor (for a one-order customer not before
 *                   new_days passed); key: the last order's time (once per
 *                   silence).
 *   won_back        the stage is won_back: at the comeback order; key: it.
 *   tier_up,        the tier differs from the one last seen (state, kept by
 *   tier_down       the caller); key: from, to and now. The first time a
 *                   customer is evaluated only records the tier (baseline).
 *   birthday,       the next birthday (attributes birth_month/birth_day; 29
 *   anniversary     February is the 28th in other years) or signup
 *                   anniversary (signup_ms's day, from the first anniversary
 *                   on) is at most N days ahead: fires at 00:00 UTC N days
 *                   before it; key: its year.
 *   first_purchase  at the first order; key: "1".
 *   points_expiring available points (the ledger, points.h) expire within
 *                   N days: fires at the expiry - N days, or when the
 *                   bucket vested if later; points expiring at one instant
 *                   fire once; key: the expiry instant; stays news until
 *                   the expiry. The caller lists the coming expiries.
 *   price_drop      an item viewed or carted within the look-back, not
 *                   bought since that view, whose price dropped after it
 *                   (the drop the caller looks up): fires at the drop; key:
 *                   item and drop time; items: that item.
 *
 * Days are UTC days. A firing not yet due is not returned, nor one whose
 * moment (for birthday and anniversary: the end of the day itself) is more
 * than cfg->triggers.horizon_days before now (stale news).
 */
#ifndef PATRON_RECSYS_TRIGGER_RULES_H
#define PATRON_RECSYS_TRIGGER_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "store.h"
#include "trigger_def.h"

#define TRIGGER_MAX_ITEMS 8
#define TRIGGER_KEY_MAX 48
#define TRIGGER_REASON_MAX 160
#define TRIGGER_MAX_FIRES 32   /* per evaluation; more wait for the next */

/* What the caller remembers of a customer between evaluations. */
typedef struct trigger_state {
    int known;       /* 0: never evaluated */
    int32_t tier;    /* the tier then (-1 none) */
} trigger_state_t;

/* A price decrease of an item, recorded when UpsertItems lowered it. */
typedef struct trigger_price_drop {
    int64_t time_ms;
    double old_price, new_price;
} trigger_price_drop_t;

/* The latest drop of item `item`: 1 with *out filled, 0 when it never
 * dropped. */
typedef int (*trigger_drop_fn)(void *ctx, uint32_t item, trigger_price_drop_t *out);

/* Available points that will expire if not spent (the ledger derived as
 * of a later time, with no new events: its expire rows after now). */
typedef struct trigger_expiry {
    int64_t time_ms;     /* when they expire, > now */
    int64_t points;      /* how many, > 0 */
    int64_t since_ms;    /* when their bucket vested */
} trigger_expiry_t;

typedef struct trigger_input {
    const store_event_rec_t *ev;  /* the customer's events, time order */
    size_t n;
    const profile_t *p;           /* profile_compute of ev at now_ms */
    const store_attrs_t *attrs;   /* NULL: none set */
    trigger_state_t prev;
    trigger_drop_fn drop;         /* NULL: no price drops known */
    void *drop_ctx;
    int64_t now_ms;
    const trigger_expiry_t *expiries; /* time order; NULL with n_expiries 0 */
    size_t n_expiries;
} trigger_input_t;

typedef struct trigger_fire {
    uint32_t rule;                /* index into cfg->triggers.rules */
    int64_t time_ms;              /* when the condition became true */
    char key[TRIGGER_KEY_MAX];    /* the period it fires once per */
    char reason[TRIGGER_REASON_MAX]; /* for people */
    uint32_t items[TRIGGER_MAX_ITEMS]; /* item indices (carted, dropped) */
    size_t n_items;
} trigger_fire_t;

/* Evaluates every rule of cfg->triggers for in. out holds cap entries;
 * *n gets the firings (rule order, then time). *next gets the state to
 * remember. Returns 0 or -EINVAL (a NULL argument). */
int trigger_evaluate(const profile_config_t *cfg, const trigger_input_t *in,
                     trigger_fire_t *out, size_t cap, size_t *n,
                     trigger_state_t *next);

#endif
