/*
 * trigger_def.h - the trigger rules an operator writes in the profile
 * settings file (profile_file.h; `patron help formats` documents the
 * lines):
 *
 *   trigger = NAME KIND [ARGUMENT]
 *   trigger_scan_seconds = 60
 *   trigger_recommend_k = 4
 *   trigger_horizon_days = 7
 *   trigger_max_delay_hours = 24
 *
 * Only the definitions and their parsing live here (profile_config_t holds
 * a trigger_config_t); what fires when is trigger_rules.h, the durable log
 * and delivery recsys/app/triggers.h. Pure: no I/O, no global state.
 */
#ifndef PATRON_RECSYS_TRIGGER_DEF_H
#define PATRON_RECSYS_TRIGGER_DEF_H

#include <stddef.h>
#include <stdint.h>

#define TRIGGER_MAX_RULES 16
#define TRIGGER_NAME_MAX 32          /* incl. the NUL: 1..31 of [A-Za-z0-9_.-] */
#define TRIGGER_MAX_RECOMMEND_K 20

/* What a rule watches; the numbers are the wire's patron.v1.TriggerKind. */
typedef enum trigger_kind {
    TRIGGER_CART_ABANDONED = 1, /* ARGUMENT: a duration (30m, 4h, 1d, 90s):
                                   carted, then nothing bought for that long */
    TRIGGER_AT_RISK = 2,        /* lifecycle stage became at_risk */
    TRIGGER_LAPSED = 3,         /* ... lapsed */
    TRIGGER_WON_BACK = 4,       /* ... won_back (a comeback order) */
    TRIGGER_TIER_UP = 5,        /* tier rose since the customer was last seen */
    TRIGGER_TIER_DOWN = 6,      /* ... fell */
    TRIGGER_BIRTHDAY = 7,       /* ARGUMENT: days ahead (0..60): the birthday
                                   (SetCustomerAttributes) is that near */
    TRIGGER_ANNIVERSARY = 8,    /* ARGUMENT: days ahead: the signup's anniversary */
    TRIGGER_FIRST_PURCHASE = 9, /* the customer's first order */
    TRIGGER_PRICE_DROP = 10,    /* ARGUMENT: days (1..365): an item the customer
                                   viewed (or carted) within that many days and
                                   has not bought got cheaper since (UpsertItems) */
    TRIGGER_POINTS_EXPIRING = 11, /* ARGUMENT: days (1..365): available points
                                   (points.h) expire within that many days */
} trigger_kind_t;

#define TRIGGER_KIND_MAX TRIGGER_POINTS_EXPIRING

typedef struct trigger_rule {
    char name[TRIGGER_NAME_MAX];
    trigger_kind_t kind;
    int64_t arg_ms;    /* cart_abandoned: the wait; birthday, anniversary:
                          days ahead; price_drop: the view look-back;
                          points_expiring: days ahead; else 0 (all in ms) */
} trigger_rule_t;

typedef struct trigger_config {
    size_t n_rules;                          /* [0]: triggers off */
    trigger_rule_t rules[TRIGGER_MAX_RULES];
    uint32_t scan_seconds;   /* [60] the scheduler's period, 1..86400 */
    uint32_t recommend_k;    /* [4] items suggested per trigger, 0..20 */
    uint32_t horizon_days;   /* [7] a moment older than this when first
                                evaluated does not fire (so enabling a rule
                                on an old store does not message every
                                customer about the past), 1..3650 */
    uint32_t max_delay_hours; /* [24] a firing the contact policy refuses for
                                 now waits while some channel allows it within
                                 this long after its moment; else (and with 0)
                                 it is suppressed, 0..720 */
} trigger_config_t;

/* The defaults in brackets above, no rules. */
void trigger_config_default(trigger_config_t *tc);

/* "cart_abandoned", "at_risk", ... (the file's spelling); NULL outside
 * the enum. Static strings. */
const char *trigger_kind_name(trigger_kind_t kind);

/* Parses one rule's value ("NAME KIND [ARGUMENT]") and appends it to tc.
 * Returns NULL, or a static message saying what is wrong: an unknown kind
 * (naming the kinds), a missing or bad argument, a duplicate name, too
 * many rules. */
const char *trigger_rule_parse(trigger_config_t *tc, const char *value);

/* Looks a rule up by name: its index, or -1. */
int trigger_rule_find(const trigger_config_t *tc, const char *name);

#endif
