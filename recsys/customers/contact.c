/*
 * contact.c - the contact policy as a pure function (contact.h), and the
 * settings-file lines that configure it.
 *
 * Windows are rolling (the last 24 h, the last 7 x 24 h), not calendar days
 * in some zone: a cap then means the same for every customer whatever
 * their zone, and the time a contact leaves a window is exact. Quiet hours
 * are the one rule that reads local time.
 */
#include "contact.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[CONTACT_N_KINDS] = { "trigger", "coupon",
                                                         "recommendation" };
static const char *const verdict_names[] = {
    "ok", "no_channel_consent", "no_marketing_consent", "channel_day_cap",
    "channel_week_cap", "global_day_cap", "global_week_cap", "min_gap", "quiet_hours",
};

const char *contact_kind_name(int kind)
{
    return kind >= 0 && kind < CONTACT_N_KINDS ? kind_names[kind] : NULL;
}

int contact_kind_from_name(const char *name)
{
    for (int i = 0; i < CONTACT_N_KINDS; i++)
        if (name && strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *contact_verdict_name(int verdict)
{
    return verdict >= 0 && verdict <= CONTACT_QUIET_HOURS ? verdict_names[verdict] : NULL;
}

/* ---- settings -------------------------------------------------------------------- */

void contact_config_default(contact_config_t *cfg)
{
    static const uint32_t day[CONSENT_N_CHANNELS] = { 2, 1, 3, CONTACT_UNLIMITED };
    static const uint32_t week[CONSENT_N_CHANNELS] = { 5, 3, 10, CONTACT_UNLIMITED };

    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->per_day, day, sizeof day);
    memcpy(cfg->per_week, week, sizeof week);
    cfg->global_day = 4;
    cfg->global_week = 14;
    cfg->min_gap_minutes = 60;
    cfg->quiet = 1;
    cfg->quiet_start = 21 * 60;
    cfg->quiet_end = 9 * 60;
    cfg->quiet_channels[CONSENT_SMS] = 1;
    cfg->quiet_channels[CONSENT_PUSH] = 1;
    strcpy(cfg->time_zone, "UTC");
    for (int k = 0; k < CONTACT_N_KINDS; k++)
        cfg->rank[k] = (uint8_t)k;
    cfg->reserve = 0;
    cfg->consent_default = CONSENT_GRANTED;
}

const char *contact_config_invalid(const contact_config_t *cfg)
{
    int seen[CONTACT_N_KINDS] = { 0 };
    for (int c = 0; c < CONSENT_N_CHANNELS; c++)
        if ((cfg->per_day[c] > CONTACT_MAX_CAP && cfg->per_day[c] != CONTACT_UNLIMITED) ||
            (cfg->per_week[c] > CONTACT_MAX_CAP && cfg->per_week[c] != CONTACT_UNLIMITED))
            return "contact caps: counts 0..1000000 or none";
    if ((cfg->global_day > CONTACT_MAX_CAP && cfg->global_day != CONTACT_UNLIMITED) ||
        (cfg->global_week > CONTACT_MAX_CAP && cfg->global_week != CONTACT_UNLIMITED))
        return "contact.global caps: counts 0..1000000 or none";
    if (cfg->min_gap_minutes > CONTACT_MAX_GAP_MINUTES)
        return "contact.min_gap_minutes: 0..525600";
    if (cfg->quiet && (cfg->quiet_start >= CONSENT_DAY_MINUTES ||
                       cfg->quiet_end >= CONSENT_DAY_MINUTES ||
                       cfg->quiet_start == cfg->quiet_end))
        return "contact.quiet_hours: HH:MM-HH:MM with start != end";
    if (!tz_name_valid(cfg->time_zone))
        return "contact.time_zone: not a zone name";
    for (int k = 0; k < CONTACT_N_KINDS; k++) {
        if (cfg->rank[k] >= CONTACT_N_KINDS || seen[cfg->rank[k]]++)
            return "contact.priority: each kind once";
    }
    if (cfg->reserve > CONTACT_MAX_CAP)
        return "contact.reserve: 0..1000000";
    if (cfg->consent_default != CONSENT_GRANTED && cfg->consent_default != CONSENT_WITHDRAWN)
        return "consent.default: granted or withdrawn";
    return NULL;
}

/* A count 0..max, or "none" (CONTACT_UNLIMITED) when none_ok. */
static int parse_count(const char *s, uint32_t max, int none_ok, uint32_t *out)
{
    char *end;
    unsigned long long v;
    if (none_ok && strcmp(s, "none") == 0) {
        *out = CONTACT_UNLIMITED;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static const char *set_cap(contact_config_t *cfg, const char *what, const char *period,
                           const char *value)
{
    uint32_t v, *slot;
    int ch = consent_channel_from_name(what);
    int day = strcmp(period, "per_day") == 0;

    if (!day && strcmp(period, "per_week") != 0)
        return "unknown setting";
    if (ch >= 0)
        slot = day ? &cfg->per_day[ch] : &cfg->per_week[ch];
    else if (strcmp(what, "global") == 0)
        slot = day ? &cfg->global_day : &cfg->global_week;
    else
        return "unknown setting";
    if (parse_count(value, CONTACT_MAX_CAP, 1, &v))
        return "expected a count 0..1000000 or none";
    *slot = v;
    return NULL;
}

static const char *set_quiet_channels(contact_config_t *cfg, const char *value)
{
    uint8_t on[CONSENT_N_CHANNELS] = { 0 };
    char buf[128], *save = NULL, *tok;

    if (strcmp(value, "none") != 0) {
        if (snprintf(buf, sizeof buf, "%s", value) >= (int)sizeof buf)
            return "expected channel names (email sms push in_app) or none";
        for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
            int ch = consent_channel_from_name(tok);
            if (ch < 0)
                return "expected channel names (email sms push in_app) or none";
            on[ch] = 1;
        }
    }
    memcpy(cfg->quiet_channels, on, sizeof on);
    return NULL;
}

static const char *set_priority(contact_config_t *cfg, const char *value)
{
    uint8_t rank[CONTACT_N_KINDS];
    int seen[CONTACT_N_KINDS] = { 0 }, n = 0;
    char buf[128], *save = NULL, *tok;
    const char *bad = "expected trigger, coupon and recommendation, each once, "
                      "highest priority first";

    if (snprintf(buf, sizeof buf, "%s", value) >= (int)sizeof buf)
        return bad;
    for (tok = strtok_r(buf, " \t,>", &save); tok; tok = strtok_r(NULL, " \t,>", &save)) {
        int k = contact_kind_from_name(tok);
        if (k < 0 || seen[k]++ || n == CONTACT_N_KINDS)
            return bad;
        rank[k] = (uint8_t)n++;
    }
    if (n != CONTACT_N_KINDS)
        return bad;
    memcpy(cfg->rank, rank, sizeof rank);
    return NULL;
}

static const char *set_contact(contact_config_t *cfg, const char *key, const char *value)
{
    const char *dot = strchr(key, '.');
    uint32_t v;

    if (dot) { /* contact.CHANNEL.per_day and the like */
        char what[16];
        if ((size_t)(dot - key) >= sizeof what)
            return "unknown setting";
        memcpy(what, key, (size_t)(dot - key));
        what[dot - key] = '\0';
        return set_cap(cfg, what, dot + 1, value);
    }
    if (strcmp(key, "min_gap_minutes") == 0) {
        if (parse_count(value, CONTACT_MAX_GAP_MINUTES, 0, &v))
            return "expected minutes 0..525600";
        cfg->min_gap_minutes = v;
        return NULL;
    }
    if (strcmp(key, "quiet_hours") == 0) {
        if (strcmp(value, "none") == 0) {
            cfg->quiet = 0;
            return NULL;
        }
        if (consent_parse_quiet(value, &cfg->quiet_start, &cfg->quiet_end))
            return "expected HH:MM-HH:MM (start != end) or none";
        cfg->quiet = 1;
        return NULL;
    }
    if (strcmp(key, "quiet_channels") == 0)
        return set_quiet_channels(cfg, value);
    if (strcmp(key, "time_zone") == 0) {
        if (!tz_name_valid(value))
            return "expected an IANA zone name such as Europe/Berlin";
        snprintf(cfg->time_zone, sizeof cfg->time_zone, "%s", value);
        return NULL;
    }
    if (strcmp(key, "priority") == 0)
        return set_priority(cfg, value);
    if (strcmp(key, "reserve") == 0) {
        if (parse_count(value, CONTACT_MAX_CAP, 0, &v))
            return "expected a count 0..1000000";
        cfg->reserve = v;
        return NULL;
    }
    return "unknown setting";
}

const char *contact_config_set(contact_config_t *cfg, const char *key, const char *value)
{
    if (strncmp(key, "contact.", 8) == 0)
        return set_contact(cfg, key + 8, value);
    if (strcmp(key, "consent.default") == 0) {
        if (strcmp(value, "granted") == 0)
            cfg->consent_default = CONSENT_GRANTED;
        else if (strcmp(value, "withdrawn") == 0)
            cfg->consent_default = CONSENT_WITHDRAWN;
        else
            return "expected granted or withdrawn";
        return NULL;
    }
    return "unknown setting";
}

/* ---- local time -------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int64_t offset_ms(const tz_t *z, int64_t t_ms)
{
    return z ? (int64_t)tz_offset(z, floor_div(t_ms, 1000)) * 1000 : 0;
}

/* Milliseconds since local midnight at t_ms. */
static int64_t local_ms_of_day(const tz_t *z, int64_t t_ms)
{
    int64_t local = t_ms + offset_ms(z, t_ms);
    return local - floor_div(local, CONTACT_DAY_MS) * CONTACT_DAY_MS;
}

static int quiet_at(uint16_t start, uint16_t end, int64_t ms_of_day)
{
    int64_t s = (int64_t)start * 60000, e = (int64_t)end * 60000;
    return s < e ? ms_of_day >= s && ms_of_day < e : ms_of_day >= s || ms_of_day < e;
}

int contact_in_quiet(const tz_t *z, uint16_t start, uint16_t end, int64_t t_ms)
{
    return quiet_at(start, end, local_ms_of_day(z, t_ms));
}

/*
 * Walks forward from t: with the offset fixed, quiet hours end when the
 * local clock next reads `end`; if the zone's offset changes first, the
 * walk restarts at the change (the clock jumped: quiet may already be over,
 * or last an hour longer). Zones change offset at most a few times a
 * year, so a handful of rounds always suffices; the bound is a guard.
 */
int64_t contact_quiet_end(const tz_t *z, uint16_t start, uint16_t end, int64_t t_ms)
{
    for (int round = 0; round < 16 && contact_in_quiet(z, start, end, t_ms); round++) {
        int64_t delta = (int64_t)end * 60000 - local_ms_of_day(z, t_ms);
        int64_t cand, change_s, change_ms;
        if (delta <= 0)
            delta += CONTACT_DAY_MS;
        cand = t_ms + delta;
        change_s = z ? tz_next_change(z, floor_div(t_ms, 1000)) : INT64_MAX;
        change_ms = change_s >= INT64_MAX / 1000 ? INT64_MAX : change_s * 1000;
        if (change_ms > cand)
            return cand;
        t_ms = change_ms;
    }
    return t_ms;
}

/* ---- the decision -------------------------------------------------------------------- */

typedef struct window_count {
    uint32_t used;
    int64_t *times;     /* the counted contacts' times, ascending after sort */
} window_count_t;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* What this kind may use of cap: cap - rank x reserve, at least 0. */
static uint32_t usable(const contact_config_t *cfg, uint32_t cap, int kind)
{
    int64_t left;
    if (cap == CONTACT_UNLIMITED)
        return CONTACT_UNLIMITED;
    left = (int64_t)cap - (int64_t)cfg->rank[kind] * (int64_t)cfg->reserve;
    return left > 0 ? (uint32_t)left : 0;
}

/*
 * Checks one cap: the contacts matching channel (-1: all) within window
 * before now. When used >= limit, the (used - limit)-th oldest of them must
 * leave the window before one more fits: returns that time (0 when the
 * limit is 0: never), else now.
 */
static int64_t cap_next(const contact_request_t *r, int channel, int64_t window,
                        uint32_t limit, int64_t *scratch, uint32_t *used)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_sent; i++) {
        const contact_sent_t *s = &r->sent[i];
        if (s->time_ms <= r->now_ms && s->time_ms > r->now_ms - window &&
            (channel < 0 || s->channel == channel))
            scratch[n++] = s->time_ms;
    }
    *used = (uint32_t)n;
    if (limit == CONTACT_UNLIMITED || n < limit)
        return r->now_ms;
    if (limit == 0)
        return 0;
    qsort(scratch, n, sizeof *scratch, cmp_i64);
    return scratch[n - limit] + window;
}

static void refuse(contact_decision_t *d, contact_verdict_t v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(contact_decision_t *d, contact_verdict_t v, const char *fmt, ...)
{
    va_list ap;
    if (!d->allowed)
        return; /* the first refusal names the verdict */
    d->allowed = 0;
    d->verdict = v;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
}

static const char *window_name(int64_t window)
{
    return window == CONTACT_DAY_MS ? "rolling 24 h" : "rolling 7 days";
}

/* The four caps; *latest gets the latest time they allow (0: never). */
static int caps(const contact_request_t *r, contact_decision_t *d, int64_t *latest)
{
    const contact_config_t *cfg = r->cfg;
    const char *ch = consent_channel_name(r->channel);
    struct {
        int channel;
        uint32_t cap;
        int64_t window;
        contact_verdict_t v;
    } const rules[4] = {
        { r->channel, cfg->per_day[r->channel], CONTACT_DAY_MS, CONTACT_CHANNEL_DAY_CAP },
        { r->channel, cfg->per_week[r->channel], CONTACT_WEEK_MS, CONTACT_CHANNEL_WEEK_CAP },
        { -1, cfg->global_day, CONTACT_DAY_MS, CONTACT_GLOBAL_DAY_CAP },
        { -1, cfg->global_week, CONTACT_WEEK_MS, CONTACT_GLOBAL_WEEK_CAP },
    };
    int64_t *scratch = r->n_sent ? malloc(r->n_sent * sizeof *scratch) : NULL;

    if (r->n_sent && !scratch)
        return -ENOMEM;
    for (int i = 0; i < 4; i++) {
        uint32_t limit = usable(cfg, rules[i].cap, r->kind), used = 0;
        int64_t next = cap_next(r, rules[i].channel, rules[i].window, limit, scratch, &used);
        if (i == 0) {
            d->used_day = used;
            d->limit_day = limit;
        } else if (i == 1) {
            d->used_week = used;
            d->limit_week = limit;
        }
        if (next == r->now_ms)
            continue;
        refuse(d, rules[i].v, "%s: %u sent in the %s, %s %u%s", i < 2 ? ch : "all channels",
               used, window_name(rules[i].window),
               limit == rules[i].cap ? "cap" : "this kind may use", limit,
               limit == rules[i].cap ? "" : " (the rest is reserved for higher priorities)");
        if (next == 0 || *latest == 0)
            *latest = 0;
        else if (next > *latest)
            *latest = next;
    }
    free(scratch);
    return 0;
}

static void min_gap(const contact_request_t *r, contact_decision_t *d, int64_t *latest)
{
    int64_t gap = (int64_t)r->cfg->min_gap_minutes * 60000, last = INT64_MIN;
    for (size_t i = 0; i < r->n_sent; i++)
        if (r->sent[i].time_ms <= r->now_ms && r->sent[i].time_ms > last)
            last = r->sent[i].time_ms;
    if (last == INT64_MIN || r->now_ms - last >= gap)
        return;
    refuse(d, CONTACT_MIN_GAP, "the last contact was %lld min ago; at least %u min apart",
           (long long)((r->now_ms - last) / 60000), r->cfg->min_gap_minutes);
    if (*latest != 0 && last + gap > *latest)
        *latest = last + gap;
}

/* The quiet hours that apply to the request: 1 and [start, end), or 0. */
static int quiet_hours_of(const contact_request_t *r, uint16_t *start, uint16_t *end)
{
    const consent_t *c = r->consent;
    if (!r->cfg->quiet_channels[r->channel])
        return 0;
    if (c && c->quiet_mode == CONSENT_QUIET_OFF)
        return 0;
    if (c && c->quiet_mode == CONSENT_QUIET_CUSTOM) {
        *start = c->quiet_start;
        *end = c->quiet_end;
        return 1;
    }
    *start = r->cfg->quiet_start;
    *end = r->cfg->quiet_end;
    return r->cfg->quiet;
}

const char *contact_zone_name(const contact_config_t *cfg, const consent_t *c)
{
    return c && c->time_zone[0] ? c->time_zone : cfg->time_zone;
}

int contact_decide(const contact_request_t *r, contact_decision_t *d)
{
    const char *ch;
    uint16_t qs = 0, qe = 0;
    int64_t latest;
    int rc;

    if (!r || !d || !r->cfg || r->channel < 0 || r->channel >= CONSENT_N_CHANNELS ||
        r->kind < 0 || r->kind >= CONTACT_N_KINDS || (r->n_sent && !r->sent))
        return -EINVAL;
    memset(d, 0, sizeof *d);
    d->allowed = 1;
    ch = consent_channel_name(r->channel);
    latest = r->now_ms;
    if (!consent_allows(r->consent, r->channel, CONSENT_MARKETING,
                        (consent_state_t)r->cfg->consent_default)) {
        if (!consent_allows(r->consent, -1, CONSENT_MARKETING,
                            (consent_state_t)r->cfg->consent_default))
            refuse(d, CONTACT_NO_MARKETING_CONSENT, "no marketing consent");
        else
            refuse(d, CONTACT_NO_CHANNEL_CONSENT, "no consent to contact on %s", ch);
        latest = 0;
    }
    if ((rc = caps(r, d, &latest)) != 0)
        return rc;
    min_gap(r, d, &latest);
    if (latest != 0 && quiet_hours_of(r, &qs, &qe)) {
        if (contact_in_quiet(r->zone, qs, qe, r->now_ms))
            refuse(d, CONTACT_QUIET_HOURS, "quiet hours %02u:%02u-%02u:%02u in %s",
                   qs / 60u, qs % 60u, qe / 60u, qe % 60u,
                   contact_zone_name(r->cfg, r->consent));
        latest = contact_quiet_end(r->zone, qs, qe, latest);
    }
    d->next_allowed_ms = latest;
    if (d->allowed)
        snprintf(d->reason, sizeof d->reason, "allowed");
    return 0;
}
