/*
 * consent.h - a customer's consent and contact preferences, as pure data:
 * opt-in or opt-out per channel (email, sms, push, in_app) and per purpose
 * (marketing, personalization), preferred channel, time zone, quiet hours
 * and language; how an update changes them (with one audit entry per
 * changed field); and whether they allow a channel and purpose.
 *
 * No storage and no I/O here (consentstore.h keeps them, with the audit
 * trail); every function is a deterministic function of its arguments.
 *
 * A choice never made is CONSENT_UNSET; what it means is the operator's
 * (contact_config_t.consent_default, the settings file's consent.default):
 * granted unless the shop requires explicit opt-in.
 */
#ifndef PATRON_RECSYS_CONSENT_H
#define PATRON_RECSYS_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

/* Values match patron.v1.Channel minus one (the API's 0 is UNSPECIFIED). */
typedef enum consent_channel {
    CONSENT_EMAIL = 0,
    CONSENT_SMS = 1,
    CONSENT_PUSH = 2,
    CONSENT_IN_APP = 3,
} consent_channel_t;
#define CONSENT_N_CHANNELS 4

typedef enum consent_purpose {
    CONSENT_MARKETING = 0,       /* messages and offers: every contact kind */
    CONSENT_PERSONALIZATION = 1, /* lists and content from the customer's data */
} consent_purpose_t;
#define CONSENT_N_PURPOSES 2

/* Values match patron.v1.ConsentState. */
typedef enum consent_state {
    CONSENT_UNSET = 0,           /* never chosen: the operator's default */
    CONSENT_GRANTED = 1,
    CONSENT_WITHDRAWN = 2,
} consent_state_t;

/* Quiet hours: the operator's default, none, or the customer's own. */
typedef enum consent_quiet_mode {
    CONSENT_QUIET_DEFAULT = 0,
    CONSENT_QUIET_OFF = 1,
    CONSENT_QUIET_CUSTOM = 2,
} consent_quiet_mode_t;

#define CONSENT_LANG_MAX 35      /* a BCP 47 tag, bytes */
#define CONSENT_SOURCE_MAX 128   /* who or what recorded a change */
#define CONSENT_VALUE_MAX 72     /* an audit entry's old or new value, incl. NUL */
#define CONSENT_MAX_FIELDS 10    /* fields one update can change */
#define CONSENT_DAY_MINUTES 1440

typedef struct consent {
    uint8_t channel[CONSENT_N_CHANNELS];   /* consent_state_t */
    uint8_t purpose[CONSENT_N_PURPOSES];   /* consent_state_t */
    int preferred;                         /* consent_channel_t; -1 none */
    char time_zone[TZ_NAME_MAX + 1];       /* IANA name; "" the operator's */
    uint8_t quiet_mode;                    /* consent_quiet_mode_t */
    uint16_t quiet_start, quiet_end;       /* CUSTOM: local minutes [start,
                                              end), wrapping midnight when
                                              start > end; never equal */
    char language[CONSENT_LANG_MAX + 1];   /* "" unknown */
    int64_t updated_ms;                    /* time of the last change */
    uint64_t changes;                      /* audit entries so far */
} consent_t;

/* What a customer never set anything for: every choice unset. */
void consent_init(consent_t *c);

/*
 * An update: 0 / NULL / "" leave a field as it is. quiet is "HH:MM-HH:MM"
 * (local; start != end; "22:00-07:00" wraps midnight), "off" (none) or
 * "default" (the operator's). time_zone must be a valid zone name
 * (tz_name_valid; whether it exists is the caller's to check).
 */
typedef struct consent_update {
    uint8_t channel[CONSENT_N_CHANNELS];   /* consent_state_t, 0 = unchanged */
    uint8_t purpose[CONSENT_N_PURPOSES];
    int preferred;                         /* consent_channel_t, -1 = unchanged */
    const char *time_zone;
    const char *quiet;
    const char *language;
} consent_update_t;

/* One changed field, as the audit trail keeps it: the field's name
 * ("email", "marketing", "preferred_channel", "time_zone", "quiet_hours",
 * "language") and its values before and after as text ("granted",
 * "withdrawn", "unset", "sms", "Europe/Berlin", "22:00-07:00", "off",
 * "default", "" for none). */
typedef struct consent_field_change {
    const char *field;                     /* static */
    char old_value[CONSENT_VALUE_MAX];
    char new_value[CONSENT_VALUE_MAX];
} consent_field_change_t;

/* NULL if u is valid, else a static message naming the field
 * ("quiet_hours: expected HH:MM-HH:MM, off or default"). */
const char *consent_update_invalid(const consent_update_t *u);

/* Applies u (valid) to *c at time_ms: fields whose value changes are
 * written, listed in changes[0..*n) (at most CONSENT_MAX_FIELDS), and when
 * any did, c->updated_ms = time_ms and c->changes += *n. An update that
 * changes nothing leaves c as it was (*n = 0). */
void consent_apply(consent_t *c, const consent_update_t *u, int64_t time_ms,
                   consent_field_change_t changes[CONSENT_MAX_FIELDS], size_t *n);

/* Whether c (NULL: nothing recorded) allows contact on channel (-1: no
 * channel, the purpose alone) for purpose, an unset choice counting as
 * unset_means (CONSENT_GRANTED or CONSENT_WITHDRAWN). 1 or 0. */
int consent_allows(const consent_t *c, int channel, consent_purpose_t purpose,
                   consent_state_t unset_means);

/*
 * The fields an audit entry names, in this order: the channels (email, sms,
 * push, in_app), the purposes (marketing, personalization),
 * preferred_channel, time_zone, quiet_hours, language.
 */
#define CONSENT_N_FIELDS 10

/* The field's audit name (above), or NULL out of range; the index of an
 * audit name, or -1. */
const char *consent_field_name(int field);
int consent_field_from_name(const char *name);

/*
 * Combines the choices of an id merged away (src) into the survivor's
 * (dst), for MergeCustomers. The rule, per field: the choice made later
 * wins. dst_ms[f] and src_ms[f] are when each id last chose field f (the
 * latest time of its audit entries for f; 0: never chosen, never wins);
 * src's value is taken when its time is later, or equal and src withdrew
 * a consent dst granted (a tie never grants). So a withdrawal made after a
 * grant wins whichever id it was recorded under, and a grant made after a
 * withdrawal wins too: the customer changed their mind. dst->updated_ms
 * becomes the later of both; dst->changes is the caller's (it counts audit
 * rows). Returns the number of fields whose value dst took from src.
 */
size_t consent_combine(consent_t *dst, const int64_t dst_ms[CONSENT_N_FIELDS],
                       const consent_t *src, const int64_t src_ms[CONSENT_N_FIELDS]);

/* Names: "email", "sms", "push", "in_app"; "marketing", "personalization";
 * "unset", "granted", "withdrawn". NULL for a value out of range. */
const char *consent_channel_name(int channel);
const char *consent_purpose_name(int purpose);
const char *consent_state_name(int state);

/* The channel named name, or -1. */
int consent_channel_from_name(const char *name);

/* Parses "HH:MM-HH:MM" (00:00..23:59 each, start != end) into minutes of
 * the day. 0 or -1. */
int consent_parse_quiet(const char *s, uint16_t *start, uint16_t *end);

/* Formats quiet hours as "HH:MM-HH:MM" into buf (at least 12 bytes). */
void consent_format_quiet(uint16_t start, uint16_t end, char *buf, size_t cap);

/* 1 if s is a plausible BCP 47 language tag: 2..35 bytes, subtags of 1..8
 * letters or digits joined by '-', the first 2..8 letters ("de",
 * "pt-BR", "zh-Hant-TW"). */
int consent_language_valid(const char *s);

#endif
