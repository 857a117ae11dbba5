/*
 * consent.c - consent and contact preferences as pure data (consent.h).
 *
 * Each field changed by an update becomes one audit entry with its old and
 * new value as text, so the trail reads the same in an export, a listing
 * and a regulator's spreadsheet, whatever the record's layout becomes.
 */
#include "consent.h"

#include <stdio.h>
#include <string.h>

static const char *const channel_names[CONSENT_N_CHANNELS] = { "email", "sms", "push",
                                                               "in_app" };
static const char *const purpose_names[CONSENT_N_PURPOSES] = { "marketing",
                                                               "personalization" };
static const char *const state_names[] = { "unset", "granted", "withdrawn" };

const char *consent_channel_name(int channel)
{
    return channel >= 0 && channel < CONSENT_N_CHANNELS ? channel_names[channel] : NULL;
}

const char *consent_purpose_name(int purpose)
{
    return purpose >= 0 && purpose < CONSENT_N_PURPOSES ? purpose_names[purpose] : NULL;
}

const char *consent_state_name(int state)
{
    return state >= CONSENT_UNSET && state <= CONSENT_WITHDRAWN ? state_names[state] : NULL;
}

int consent_channel_from_name(const char *name)
{
    for (int i = 0; i < CONSENT_N_CHANNELS; i++)
        if (name && strcmp(name, channel_names[i]) == 0)
            return i;
    return -1;
}

void consent_init(consent_t *c)
{
    memset(c, 0, sizeof *c);
    c->preferred = -1;
}

static int two_digits(const char *s, int max)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v <= max ? v : -1;
}

int consent_parse_quiet(const char *s, uint16_t *start, uint16_t *end)
{
    int h0, m0, h1, m1;
    if (!s || strlen(s) != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':')
        return -1;
    if ((h0 = two_digits(s, 23)) < 0 || (m0 = two_digits(s + 3, 59)) < 0 ||
        (h1 = two_digits(s + 6, 23)) < 0 || (m1 = two_digits(s + 9, 59)) < 0)
        return -1;
    if (h0 * 60 + m0 == h1 * 60 + m1)
        return -1;
    *start = (uint16_t)(h0 * 60 + m0);
    *end = (uint16_t)(h1 * 60 + m1);
    return 0;
}

void consent_format_quiet(uint16_t start, uint16_t end, char *buf, size_t cap)
{
    snprintf(buf, cap, "%02u:%02u-%02u:%02u", (unsigned)(start / 60) % 100u,
             (unsigned)(start % 60), (unsigned)(end / 60) % 100u, (unsigned)(end % 60));
}

int consent_language_valid(const char *s)
{
    size_t len, sub = 0, subtags = 0;
    if (!s || (len = strnlen(s, CONSENT_LANG_MAX + 1)) < 2 || len > CONSENT_LANG_MAX)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = s[i];
        int letter = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
        int digit = ch >= '0' && ch <= '9';
        if (ch == '-' || ch == '\0') {
            if (sub == 0 || sub > 8 || (subtags == 0 && sub < 2))
                return 0;
            subtags++;
            sub = 0;
        } else if (letter || (digit && subtags > 0)) {
            sub++;
        } else {
            return 0;
        }
    }
    return 1;
}

const char *consent_update_invalid(const consent_update_t *u)
{
    uint16_t a, b;
    for (int i = 0; i < CONSENT_N_CHANNELS; i++)
        if (u->channel[i] > CONSENT_WITHDRAWN)
            return "channel consent: must be a ConsentState value";
    for (int i = 0; i < CONSENT_N_PURPOSES; i++)
        if (u->purpose[i] > CONSENT_WITHDRAWN)
            return "purpose consent: must be a ConsentState value";
    if (u->preferred < -1 || u->preferred >= CONSENT_N_CHANNELS)
        return "preferred_channel: must be a Channel value";
    if (u->time_zone && u->time_zone[0] && !tz_name_valid(u->time_zone))
        return "time_zone: expected an IANA zone name such as Europe/Berlin";
    if (u->quiet && u->quiet[0] && strcmp(u->quiet, "off") != 0 &&
        strcmp(u->quiet, "default") != 0 && consent_parse_quiet(u->quiet, &a, &b) != 0)
        return "quiet_hours: expected HH:MM-HH:MM (start != end), off or default";
    if (u->language && u->language[0] && !consent_language_valid(u->language))
        return "language: expected a BCP 47 tag such as de or pt-BR (at most 35 bytes)";
    return NULL;
}

static void quiet_text(const consent_t *c, char *buf, size_t cap)
{
    if (c->quiet_mode == CONSENT_QUIET_CUSTOM)
        consent_format_quiet(c->quiet_start, c->quiet_end, buf, cap);
    else
        snprintf(buf, cap, "%s", c->quiet_mode == CONSENT_QUIET_OFF ? "off" : "default");
}

static consent_field_change_t *add_change(consent_field_change_t *ch, size_t *n,
                                          const char *field, const char *old_v,
                                          const char *new_v)
{
    consent_field_change_t *e = &ch[(*n)++];
    e->field = field;
    snprintf(e->old_value, sizeof e->old_value, "%s", old_v);
    snprintf(e->new_value, sizeof e->new_value, "%s", new_v);
    return e;
}

static void apply_states(uint8_t *have, const uint8_t *want, int n,
                         const char *const *names, consent_field_change_t *ch, size_t *nch)
{
    for (int i = 0; i < n; i++)
        if (want[i] != CONSENT_UNSET && want[i] != have[i]) {
            add_change(ch, nch, names[i], state_names[have[i]], state_names[want[i]]);
            have[i] = want[i];
        }
}

static void apply_text(char *have, size_t cap, const char *want, const char *field,
                       consent_field_change_t *ch, size_t *n)
{
    if (!want || !want[0] || strcmp(have, want) == 0)
        return;
    add_change(ch, n, field, have, want);
    snprintf(have, cap, "%s", want);
}

static void apply_quiet(consent_t *c, const char *q, consent_field_change_t *ch, size_t *n)
{
    consent_t next = *c;
    char before[16], after[16];

    if (!q || !q[0])
        return;
    if (strcmp(q, "off") == 0)
        next.quiet_mode = CONSENT_QUIET_OFF;
    else if (strcmp(q, "default") == 0)
        next.quiet_mode = CONSENT_QUIET_DEFAULT;
    else if (consent_parse_quiet(q, &next.quiet_start, &next.quiet_end) == 0)
        next.quiet_mode = CONSENT_QUIET_CUSTOM;
    else
        return;
    if (next.quiet_mode != CONSENT_QUIET_CUSTOM)
        next.quiet_start = next.quiet_end = 0;
    quiet_text(c, before, sizeof before);
    quiet_text(&next, after, sizeof after);
    if (strcmp(before, after) == 0)
        return;
    add_change(ch, n, "quiet_hours", before, after);
    c->quiet_mode = next.quiet_mode;
    c->quiet_start = next.quiet_start;
    c->quiet_end = next.quiet_end;
}

void consent_apply(consent_t *c, const consent_update_t *u, int64_t time_ms,
                   consent_field_change_t changes[CONSENT_MAX_FIELDS], size_t *n)
{
    *n = 0;
    apply_states(c->channel, u->channel, CONSENT_N_CHANNELS, channel_names, changes, n);
    apply_states(c->purpose, u->purpose, CONSENT_N_PURPOSES, purpose_names, changes, n);
    if (u->preferred >= 0 && u->preferred != c->preferred) {
        add_change(changes, n, "preferred_channel",
                   c->preferred >= 0 ? channel_names[c->preferred] : "",
                   channel_names[u->preferred]);
        c->preferred = u->preferred;
    }
    apply_text(c->time_zone, sizeof c->time_zone, u->time_zone, "time_zone", changes, n);
    apply_quiet(c, u->quiet, changes, n);
    apply_text(c->language, sizeof c->language, u->language, "language", changes, n);
    if (*n) {
        c->updated_ms = time_ms;
        c->changes += *n;
    }
}

int consent_allows(const consent_t *c, int channel, consent_purpose_t purpose,
                   consent_state_t unset_means)
{
    int p = c ? c->purpose[purpose] : CONSENT_UNSET;
    if ((p == CONSENT_UNSET ? (int)unset_means : p) != CONSENT_GRANTED)
        return 0;
    if (channel < 0 || channel >= CONSENT_N_CHANNELS)
        return 1;
    int ch = c ? c->channel[channel] : CONSENT_UNSET;
    return (ch == CONSENT_UNSET ? (int)unset_means : ch) == CONSENT_GRANTED;
}

/* ---- combining two ids of one person (MergeCustomers) --------------------------------- */

enum { F_PREFERRED = CONSENT_N_CHANNELS + CONSENT_N_PURPOSES, F_ZONE, F_QUIET, F_LANGUAGE };
_Static_assert(F_LANGUAGE + 1 == CONSENT_N_FIELDS, "every field has an index");

static const char *const field_tail[] = { "preferred_channel", "time_zone", "quiet_hours",
                                          "language" };

const char *consent_field_name(int field)
{
    if (field < 0 || field >= CONSENT_N_FIELDS)
        return NULL;
    if (field < CONSENT_N_CHANNELS)
        return channel_names[field];
    if (field < F_PREFERRED)
        return purpose_names[field - CONSENT_N_CHANNELS];
    return field_tail[field - F_PREFERRED];
}

int consent_field_from_name(const char *name)
{
    for (int f = 0; name && f < CONSENT_N_FIELDS; f++)
        if (strcmp(name, consent_field_name(f)) == 0)
            return f;
    return -1;
}

/* The consent state a channel or purpose field holds; -1 for the others. */
static int field_state(const consent_t *c, int f)
{
    if (f < CONSENT_N_CHANNELS)
        return c->channel[f];
    return f < F_PREFERRED ? c->purpose[f - CONSENT_N_CHANNELS] : -1;
}

static int field_equal(const consent_t *a, const consent_t *b, int f)
{
    switch (f) {
    case F_PREFERRED:
        return a->preferred == b->preferred;
    case F_ZONE:
        return strcmp(a->time_zone, b->time_zone) == 0;
    case F_QUIET:
        return a->quiet_mode == b->quiet_mode && a->quiet_start == b->quiet_start &&
               a->quiet_end == b->quiet_end;
    case F_LANGUAGE:
        return strcmp(a->language, b->language) == 0;
    default:
        return field_state(a, f) == field_state(b, f);
    }
}

static void field_copy(consent_t *dst, const consent_t *src, int f)
{
    if (f < CONSENT_N_CHANNELS)
        dst->channel[f] = src->channel[f];
    else if (f < F_PREFERRED)
        dst->purpose[f - CONSENT_N_CHANNELS] = src->purpose[f - CONSENT_N_CHANNELS];
    else if (f == F_PREFERRED)
        dst->preferred = src->preferred;
    else if (f == F_ZONE)
        memcpy(dst->time_zone, src->time_zone, sizeof dst->time_zone);
    else if (f == F_LANGUAGE)
        memcpy(dst->language, src->language, sizeof dst->language);
    else {
        dst->quiet_mode = src->quiet_mode;
        dst->quiet_start = src->quiet_start;
        dst->quiet_end = src->quiet_end;
    }
}

/* Whether src's choice of field f beats dst's (consent_combine's rule). */
static int src_wins(const consent_t *dst, int64_t dst_ms, const consent_t *src,
                    int64_t src_ms, int f)
{
    if (src_ms <= 0 || src_ms < dst_ms)
        return 0;
    if (src_ms > dst_ms)
        return 1;
    return field_state(src, f) == CONSENT_WITHDRAWN && field_state(dst, f) == CONSENT_GRANTED;
}

size_t consent_combine(consent_t *dst, const int64_t dst_ms[CONSENT_N_FIELDS],
                       const consent_t *src, const int64_t src_ms[CONSENT_N_FIELDS])
{
    size_t taken = 0;
    for (int f = 0; f < CONSENT_N_FIELDS; f++) {
        if (!src_wins(dst, dst_ms[f], src, src_ms[f], f) || field_equal(dst, src, f))
            continue;
        field_copy(dst, src, f);
        taken++;
    }
    if (src->updated_ms > dst->updated_ms)
        dst->updated_ms = src->updated_ms;
    return taken;
}
