/*
 * contact.h - the contact policy: may a sender contact a customer on a
 * channel now, for a kind of message? One fatigue budget per customer
 * across every sender (coupon messages, trigger messages, recommendation
 * emails), as a pure function of the operator's settings, the customer's
 * consent, their time zone, the contacts already sent and now.
 *
 * No storage and no I/O: contactstore.h keeps the contacts, loads the zone
 * and calls contact_decide; a sender holding its own copy of the contacts
 * (the trigger scheduler deciding many customers) may call it directly.
 *
 * The rules, checked in this order (the first that refuses names the
 * verdict; next_allowed_ms accounts for all of them):
 *   1. consent: the channel and the marketing purpose must be granted
 *      (consent_allows; an unset choice counts as cfg->consent_default);
 *   2. caps, each over a rolling window ending now (a contact at s counts
 *      while now - DAY < s <= now; a week is 7 x 24 h): per channel per day
 *      and per week, then all channels per day and per week. A kind of rank
 *      r (0 = the highest priority) may use a cap C only up to
 *      C - r x reserve: the top kind can fill every cap, each lower rank
 *      leaves `reserve` more of it for the kinds above;
 *   3. minimum gap: at least min_gap_minutes since the latest contact on
 *      any channel;
 *   4. quiet hours, for the channels cfg->quiet lists: the customer's own
 *      (consent_t quiet hours) or the operator's, in the customer's time
 *      zone (theirs, else cfg->time_zone), DST included.
 * Contacts later than now are ignored (a check "as of" a past instant).
 *
 * next_allowed_ms is exact: caps and the gap only loosen as time passes
 * (assuming nothing else is sent), so the earliest instant all of them
 * allow is the latest of their individual times; if that falls in quiet
 * hours, the end of those quiet hours (found across DST changes). 0 means
 * never under the current consent and settings (consent withdrawn, or a
 * cap this kind may not use at all).
 */
#ifndef PATRON_RECSYS_CONTACT_H
#define PATRON_RECSYS_CONTACT_H

#include <stddef.h>
#include <stdint.h>

#include "consent.h"
#include "tz.h"

/* Values match patron.v1.ContactKind minus one. */
typedef enum contact_kind {
    CONTACT_TRIGGER = 0,         /* a lifecycle trigger's message */
    CONTACT_COUPON = 1,          /* a coupon offer */
    CONTACT_RECOMMENDATION = 2,  /* a recommendation email or push */
} contact_kind_t;
#define CONTACT_N_KINDS 3

#define CONTACT_UNLIMITED UINT32_MAX     /* a cap that is not set ("none") */
#define CONTACT_MAX_CAP 1000000u         /* largest cap accepted */
#define CONTACT_MAX_GAP_MINUTES 525600u  /* a year */
#define CONTACT_DAY_MS 86400000LL
#define CONTACT_WEEK_MS (7 * CONTACT_DAY_MS)
#define CONTACT_MAX_RECENT 4096          /* contacts a decision reads at most */

typedef struct contact_config {
    uint32_t per_day[CONSENT_N_CHANNELS];  /* CONTACT_UNLIMITED: no cap */
    uint32_t per_week[CONSENT_N_CHANNELS];
    uint32_t global_day, global_week;      /* every channel together */
    uint32_t min_gap_minutes;
    int quiet;                             /* operator's quiet hours set: 1/0 */
    uint16_t quiet_start, quiet_end;       /* local minutes, [start, end) */
    uint8_t quiet_channels[CONSENT_N_CHANNELS]; /* 1: quiet hours apply */
    char time_zone[TZ_NAME_MAX + 1];       /* for customers without one */
    uint8_t rank[CONTACT_N_KINDS];         /* 0 = highest priority */
    uint32_t reserve;                      /* per rank below the top */
    uint8_t consent_default;               /* CONSENT_GRANTED or _WITHDRAWN */
} contact_config_t;

/* The defaults (the values `patron help formats` lists): email 2/day
 * 5/week, sms 1/day 3/week, push 3/day 10/week, in_app unlimited, all
 * channels 4/day 14/week, 60 minutes apart, quiet hours 21:00-09:00 for
 * sms and push, UTC, priority trigger > coupon > recommendation, reserve 0,
 * consent default granted. */
void contact_config_default(contact_config_t *cfg);

/* NULL if cfg is valid, else a static message naming the setting. */
const char *contact_config_invalid(const contact_config_t *cfg);

/* Sets one settings-file line: key is a "contact." or "consent." setting
 * (see `patron help formats`), value its text. Returns NULL, or a static
 * message saying what is wrong ("unknown setting", "expected a count
 * 0..1000000 or none"). A key of another family is "unknown setting". */
const char *contact_config_set(contact_config_t *cfg, const char *key, const char *value);

/* One contact already sent. */
typedef struct contact_sent {
    int64_t time_ms;
    uint8_t channel;     /* consent_channel_t */
    uint8_t kind;        /* contact_kind_t */
} contact_sent_t;

typedef enum contact_verdict {
    CONTACT_OK = 0,
    CONTACT_NO_CHANNEL_CONSENT = 1,
    CONTACT_NO_MARKETING_CONSENT = 2,
    CONTACT_CHANNEL_DAY_CAP = 3,
    CONTACT_CHANNEL_WEEK_CAP = 4,
    CONTACT_GLOBAL_DAY_CAP = 5,
    CONTACT_GLOBAL_WEEK_CAP = 6,
    CONTACT_MIN_GAP = 7,
    CONTACT_QUIET_HOURS = 8,
} contact_verdict_t;

typedef struct contact_request {
    const contact_config_t *cfg;
    const consent_t *consent;    /* NULL: nothing recorded */
    const tz_t *zone;            /* the customer's zone (contact_zone_name);
                                    NULL: UTC */
    const contact_sent_t *sent;  /* recent contacts, any order */
    size_t n_sent;
    int channel;                 /* consent_channel_t */
    int kind;                    /* contact_kind_t */
    int64_t now_ms;
} contact_request_t;

typedef struct contact_decision {
    int allowed;
    contact_verdict_t verdict;   /* the first rule that refuses; OK if allowed */
    int64_t next_allowed_ms;     /* allowed: now_ms; 0: never (see above) */
    uint32_t used_day, used_week;        /* this channel's contacts in the windows */
    uint32_t limit_day, limit_week;      /* what this kind may use of them
                                            (CONTACT_UNLIMITED: no cap) */
    char reason[192];            /* for people: "sms: 1 of 1 this day (rolling 24 h)" */
} contact_decision_t;

/* Decides r (see the top of this file). Returns 0, or -EINVAL for a NULL
 * cfg, a channel or kind out of range, or n_sent > 0 with sent NULL. */
int contact_decide(const contact_request_t *r, contact_decision_t *out);

/* The zone name to load for a customer: theirs, else cfg->time_zone.
 * Borrowed from c or cfg. */
const char *contact_zone_name(const contact_config_t *cfg, const consent_t *c);

/* Whether instant t_ms falls in local quiet hours [start, end) (minutes of
 * the day, wrapping midnight when start > end) in zone z (NULL: UTC); and
 * the first instant >= t_ms outside them. Exposed for tests and senders
 * scheduling their own sends. */
int contact_in_quiet(const tz_t *z, uint16_t start, uint16_t end, int64_t t_ms);
int64_t contact_quiet_end(const tz_t *z, uint16_t start, uint16_t end, int64_t t_ms);

/* Names: "trigger", "coupon", "recommendation"; the verdicts
 * "ok", "no_channel_consent", ... "quiet_hours". NULL out of range. */
const char *contact_kind_name(int kind);
int contact_kind_from_name(const char *name);
const char *contact_verdict_name(int verdict);

#endif
