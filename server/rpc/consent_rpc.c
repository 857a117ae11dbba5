/*
 * consent_rpc.c - SetPreferences, ListConsentChanges, CheckContact and
 * RecordContact (consent_rpc.h): messages to recsys types and back, every
 * bad field refused with INVALID_ARGUMENT naming it.
 */
#include "consent_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "consentstore.h"
#include "contactstore.h"
#include "grow.h"
#include "id.h"
#include "store_links.h"
#include "wallclock.h"

#define SAME(domain, pb) _Static_assert((int)(domain) == (int)(pb), #domain " != " #pb)
SAME(CONSENT_EMAIL + 1, PATRON__V1__CHANNEL__CHANNEL_EMAIL);
SAME(CONSENT_SMS + 1, PATRON__V1__CHANNEL__CHANNEL_SMS);
SAME(CONSENT_PUSH + 1, PATRON__V1__CHANNEL__CHANNEL_PUSH);
SAME(CONSENT_IN_APP + 1, PATRON__V1__CHANNEL__CHANNEL_IN_APP);
SAME(CONSENT_GRANTED, PATRON__V1__CONSENT_STATE__CONSENT_STATE_GRANTED);
SAME(CONSENT_WITHDRAWN, PATRON__V1__CONSENT_STATE__CONSENT_STATE_WITHDRAWN);
SAME(CONTACT_TRIGGER + 1, PATRON__V1__CONTACT_KIND__CONTACT_KIND_TRIGGER);
SAME(CONTACT_COUPON + 1, PATRON__V1__CONTACT_KIND__CONTACT_KIND_COUPON);
SAME(CONTACT_RECOMMENDATION + 1, PATRON__V1__CONTACT_KIND__CONTACT_KIND_RECOMMENDATION);
SAME(CONTACT_OK + 1, PATRON__V1__CONTACT_VERDICT__CONTACT_VERDICT_ALLOWED);
SAME(CONTACT_QUIET_HOURS + 1, PATRON__V1__CONTACT_VERDICT__CONTACT_VERDICT_QUIET_HOURS);

static int id_bad(const char *id, size_t max)
{
    return id_check(id, max, ID_PRINTABLE) == 0;
}

/* An id merged away acts on its survivor (store_links.h): who gets the id
 * to use. Returns 1 when merged away, 0 when not, or -1 after answering
 * the call with the error. */
static int resolve(const app_t *a, const char *customer_id, char who[STORE_MAX_ID + 1],
                   rpc_reply_t *out)
{
    int linked = store_resolve_customer(a->store, customer_id, who);
    if (linked < 0) {
        fail_errno(out, linked, "resolving customer_id");
        return -1;
    }
    return linked;
}

int channel_from_pb(int pb)
{
    if (pb == PATRON__V1__CHANNEL__CHANNEL_UNSPECIFIED)
        return -1;
    return pb >= 1 && pb <= CONSENT_N_CHANNELS ? pb - 1 : -2;
}

static int kind_from_pb(int pb)
{
    return pb >= 1 && pb <= CONTACT_N_KINDS ? pb - 1 : -1;
}

void prefs_msg_fill(const contact_config_t *cfg, const consent_t *c, prefs_msg_t *m)
{
    consent_state_t dflt = (consent_state_t)cfg->consent_default;
    Patron__V1__ContactPreferences *p = &m->p;

    patron__v1__contact_preferences__init(p);
    p->email = (Patron__V1__ConsentState)c->channel[CONSENT_EMAIL];
    p->sms = (Patron__V1__ConsentState)c->channel[CONSENT_SMS];
    p->push = (Patron__V1__ConsentState)c->channel[CONSENT_PUSH];
    p->in_app = (Patron__V1__ConsentState)c->channel[CONSENT_IN_APP];
    p->marketing = (Patron__V1__ConsentState)c->purpose[CONSENT_MARKETING];
    p->personalization = (Patron__V1__ConsentState)c->purpose[CONSENT_PERSONALIZATION];
    p->preferred_channel = (Patron__V1__Channel)(c->preferred + 1);
    p->time_zone = (char *)c->time_zone;
    if (c->quiet_mode == CONSENT_QUIET_CUSTOM)
        consent_format_quiet(c->quiet_start, c->quiet_end, m->quiet, sizeof m->quiet);
    else
        snprintf(m->quiet, sizeof m->quiet, "%s",
                 c->quiet_mode == CONSENT_QUIET_OFF ? "off" : "default");
    p->quiet_hours = m->quiet;
    p->language = (char *)c->language;
    p->updated_unix_ms = c->updated_ms;
    p->marketing_allowed = consent_allows(c, -1, CONSENT_MARKETING, dflt);
    p->personalization_allowed = consent_allows(c, -1, CONSENT_PERSONALIZATION, dflt);
    p->allowed_channels = m->allowed;
    p->n_allowed_channels = 0;
    for (int ch = 0; ch < CONSENT_N_CHANNELS; ch++)
        if (consent_allows(c, ch, CONSENT_MARKETING, dflt))
            m->allowed[p->n_allowed_channels++] = (Patron__V1__Channel)(ch + 1);
}

/* A time a caller reports (0: now): not before 2000, not beyond the
 * server's skew window. NULL or a message naming field. */
static const char *time_invalid(const app_t *a, int64_t t, const char *field, char *buf,
                                size_t cap)
{
    if (t == 0)
        return NULL;
    if (t < 0 || store_event_time_invalid(t, wall_ms(), a->max_event_skew_ms)) {
        snprintf(buf, cap, "%s: must be 0 (now) or unix milliseconds from 2000 to now",
                 field);
        return buf;
    }
    return NULL;
}

/* ---- SetPreferences ----------------------------------------------------------------- */

static const char *state_field_invalid(const Patron__V1__ContactPreferences *p)
{
    const struct {
        int v;
        const char *name;
    } f[] = {
        { p->email, "preferences.email" },       { p->sms, "preferences.sms" },
        { p->push, "preferences.push" },         { p->in_app, "preferences.in_app" },
        { p->marketing, "preferences.marketing" },
        { p->personalization, "preferences.personalization" },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < 0 || f[i].v > CONSENT_WITHDRAWN)
            return f[i].name;
    return NULL;
}

/* Fills u from p; on a bad field writes the message into err and returns
 * -EINVAL. The zone must exist (loaded through the app's cache). */
static int update_from_msg(app_t *a, const Patron__V1__ContactPreferences *p,
                           consent_update_t *u, char *err, size_t cap)
{
    const char *bad;
    const tz_t *z;
    int rc;

    memset(u, 0, sizeof *u);
    if ((bad = state_field_invalid(p)) != NULL) {
        snprintf(err, cap, "%s: must be a ConsentState value (GRANTED or WITHDRAWN; "
                 "UNSPECIFIED keeps the choice)", bad);
        return -EINVAL;
    }
    u->channel[CONSENT_EMAIL] = (uint8_t)p->email;
    u->channel[CONSENT_SMS] = (uint8_t)p->sms;
    u->channel[CONSENT_PUSH] = (uint8_t)p->push;
    u->channel[CONSENT_IN_APP] = (uint8_t)p->in_app;
    u->purpose[CONSENT_MARKETING] = (uint8_t)p->marketing;
    u->purpose[CONSENT_PERSONALIZATION] = (uint8_t)p->personalization;
    if ((u->preferred = channel_from_pb(p->preferred_channel)) == -2) {
        snprintf(err, cap, "preferences.preferred_channel: must be a Channel value "
                 "(EMAIL, SMS, PUSH, IN_APP)");
        return -EINVAL;
    }
    u->time_zone = p->time_zone;
    u->quiet = p->quiet_hours;
    u->language = p->language;
    if ((bad = consent_update_invalid(u)) != NULL) {
        snprintf(err, cap, "preferences.%s", bad);
        return -EINVAL;
    }
    if (p->time_zone[0] && (rc = tz_cache_get(a->zones, p->time_zone, &z)) != 0) {
        if (rc == -ENOMEM)
            return rc;
        snprintf(err, cap, "preferences.time_zone: unknown time zone \"%.64s\"",
                 p->time_zone);
        return -EINVAL;
    }
    return 0;
}

void h_set_preferences(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__SetPreferencesRequest *r = (Patron__V1__SetPreferencesRequest *)decode(
        &patron__v1__set_preferences_request__descriptor, req, len, out);
    Patron__V1__SetPreferencesResponse resp = PATRON__V1__SET_PREFERENCES_RESPONSE__INIT;
    programme_t *prog;
    consent_update_t u;
    prefs_msg_t m;
    consent_t c;
    char err[256], who[STORE_MAX_ID + 1];
    const char *bad;
    size_t changed = 0;
    int64_t now = wall_ms();
    int linked, rc;

    (void)ci;
    if (!r)
        return;
    if (id_bad(r->customer_id, STORE_MAX_ID)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "customer_id: 1..256 bytes without control characters required");
        goto out;
    }
    if (id_bad(r->source, CONSENT_SOURCE_MAX)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "source: 1..128 bytes without control characters required (who or "
                 "what recorded the choice, for the audit trail)");
        goto out;
    }
    if ((bad = time_invalid(a, r->time_unix_ms, "time_unix_ms", err, sizeof err)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if (!r->preferences) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "preferences: required");
        goto out;
    }
    if ((rc = update_from_msg(a, r->preferences, &u, err, sizeof err)) != 0) {
        if (rc == -EINVAL)
            rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
        else
            fail_errno(out, rc, "loading the time zone");
        goto out;
    }
    /* resolved again in the update's transaction, should a merge race it */
    if ((linked = resolve(a, r->customer_id, who, out)) < 0)
        goto out;
    rc = consentstore_update(a->store, who, &u, r->time_unix_ms ? r->time_unix_ms : now,
                             now, r->source, &c, &changed);
    if (rc) {
        fail_errno(out, rc, "storing the preferences");
        goto out;
    }
    prog = app_programme(a);
    prefs_msg_fill(&prog->settings.profile.contact, &c, &m);
    resp.preferences = &m.p;
    resp.changes = (uint32_t)changed;
    resp.resolved_customer_id = linked ? who : "";
    encode(&resp.base, out);
    programme_unref(prog);
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- ListConsentChanges --------------------------------------------------------------- */

typedef struct change_list {
    Patron__V1__ConsentChange *m;
    Patron__V1__ConsentChange **p;
    char **strs;                   /* every copied string, freed at the end */
    size_t n, cap, pcap, n_strs, scap;
} change_list_t;

static char *keep_str(change_list_t *l, const char *s)
{
    char *c;
    if (GROW(l->strs, l->scap, l->n_strs + 1) || !(c = strdup(s ? s : "")))
        return NULL;
    return l->strs[l->n_strs++] = c;
}

static int add_change(void *ctx, const consentstore_change_t *c)
{
    change_list_t *l = ctx;
    Patron__V1__ConsentChange *m;
    if (GROW(l->m, l->cap, l->n + 1))
        return -ENOMEM;
    m = &l->m[l->n];
    patron__v1__consent_change__init(m);
    m->seq = c->seq;
    m->time_unix_ms = c->time_ms;
    m->recorded_unix_ms = c->recorded_ms;
    if (!(m->source = keep_str(l, c->source)) || !(m->field = keep_str(l, c->field)) ||
        !(m->old_value = keep_str(l, c->old_value)) ||
        !(m->new_value = keep_str(l, c->new_value)) ||
        !(m->merged_from = keep_str(l, c->merged_from)))
        return -ENOMEM;
    l->n++;
    return 0;
}

void h_list_consent_changes(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                            size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__ListConsentChangesRequest *r = (Patron__V1__ListConsentChangesRequest *)
        decode(&patron__v1__list_consent_changes_request__descriptor, req, len, out);
    Patron__V1__ListConsentChangesResponse resp =
        PATRON__V1__LIST_CONSENT_CHANGES_RESPONSE__INIT;
    change_list_t l = { 0 };
    char who[STORE_MAX_ID + 1];
    int linked, rc;

    (void)ci;
    if (!r)
        return;
    if (id_bad(r->customer_id, STORE_MAX_ID)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "customer_id: 1..256 bytes without control characters required");
        goto out;
    }
    if ((linked = resolve(a, r->customer_id, who, out)) < 0)
        goto out;
    rc = consentstore_scan_changes(a->store, who, add_change, &l);
    if (rc == 0 && l.n && !(l.p = calloc(l.n, sizeof *l.p)))
        rc = -ENOMEM;
    if (rc) {
        fail_errno(out, rc, "reading the consent audit trail");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        l.p[i] = &l.m[i];
    resp.changes = l.p;
    resp.n_changes = l.n;
    resp.resolved_customer_id = linked ? who : "";
    encode(&resp.base, out);
out:
    for (size_t i = 0; i < l.n_strs; i++)
        free(l.strs[i]);
    free(l.strs);
    free(l.m);
    free(l.p);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- CheckContact / RecordContact ------------------------------------------------------ */

static const char *channel_kind_invalid(int channel_pb, int kind_pb)
{
    if (channel_from_pb(channel_pb) < 0)
        return "channel: required, one of CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_PUSH, "
               "CHANNEL_IN_APP";
    if (kind_from_pb(kind_pb) < 0)
        return "kind: required, one of CONTACT_KIND_TRIGGER, CONTACT_KIND_COUPON, "
               "CONTACT_KIND_RECOMMENDATION";
    return NULL;
}

void h_check_contact(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__CheckContactRequest *r = (Patron__V1__CheckContactRequest *)decode(
        &patron__v1__check_contact_request__descriptor, req, len, out);
    Patron__V1__CheckContactResponse resp = PATRON__V1__CHECK_CONTACT_RESPONSE__INIT;
    programme_t *prog = NULL;
    contactstore_env_t env = { a->store, NULL, a->zones };
    contact_decision_t d;
    consent_t c;
    char who[STORE_MAX_ID + 1];
    const char *bad;
    int personal = 0, linked, rc;

    (void)ci;
    if (!r)
        return;
    if (id_bad(r->customer_id, STORE_MAX_ID))
        bad = "customer_id: 1..256 bytes without control characters required";
    else if (r->as_of_unix_ms < 0)
        bad = "as_of_unix_ms: must be >= 0 (0 = now)";
    else
        bad = channel_kind_invalid(r->channel, r->kind);
    if (bad) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if ((linked = resolve(a, r->customer_id, who, out)) < 0)
        goto out;
    prog = app_programme(a);
    env.cfg = &prog->settings.profile.contact;
    rc = contactstore_check(&env, who, channel_from_pb(r->channel),
                            kind_from_pb(r->kind),
                            r->as_of_unix_ms ? r->as_of_unix_ms : wall_ms(), &d, &personal);
    if (rc == 0)
        rc = consentstore_get(a->store, who, &c, NULL);
    if (rc) {
        fail_errno(out, rc, "checking the contact policy");
        goto out;
    }
    resp.allowed = d.allowed;
    resp.verdict = (Patron__V1__ContactVerdict)(d.verdict + 1);
    resp.reason = d.reason;
    resp.next_allowed_unix_ms = d.next_allowed_ms;
    resp.channel_used_day = d.used_day;
    resp.channel_used_week = d.used_week;
    resp.channel_limit_day = d.limit_day;
    resp.channel_limit_week = d.limit_week;
    resp.personalization_allowed = personal;
    resp.time_zone = (char *)contact_zone_name(env.cfg, &c);
    resp.resolved_customer_id = linked ? who : "";
    encode(&resp.base, out);
out:
    programme_unref(prog);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

void h_record_contact(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RecordContactRequest *r = (Patron__V1__RecordContactRequest *)decode(
        &patron__v1__record_contact_request__descriptor, req, len, out);
    Patron__V1__RecordContactResponse resp = PATRON__V1__RECORD_CONTACT_RESPONSE__INIT;
    contactstore_contact_t c;
    char err[160], who[STORE_MAX_ID + 1];
    const char *bad;
    int64_t now = wall_ms();
    int dup = 0, linked, rc;

    (void)ci;
    if (!r)
        return;
    if (id_bad(r->customer_id, STORE_MAX_ID))
        bad = "customer_id: 1..256 bytes without control characters required";
    else if (id_bad(r->message_id, CONTACTSTORE_MESSAGE_ID_MAX))
        bad = "message_id: 1..128 bytes without control characters required";
    else if ((bad = channel_kind_invalid(r->channel, r->kind)) == NULL)
        bad = time_invalid(a, r->time_unix_ms, "time_unix_ms", err, sizeof err);
    if (bad) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    c = (contactstore_contact_t){ r->message_id, r->time_unix_ms ? r->time_unix_ms : now,
                                  now, channel_from_pb(r->channel), kind_from_pb(r->kind) };
    /* resolved again in the recording's transaction, should a merge race it */
    if ((linked = resolve(a, r->customer_id, who, out)) < 0)
        goto out;
    rc = contactstore_record(a->store, who, &c, &dup, NULL);
    if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_ALREADY_EXISTS,
                 "message_id: already recorded for another customer");
    } else if (rc) {
        fail_errno(out, rc, "recording the contact");
    } else {
        resp.duplicate = dup;
        resp.resolved_customer_id = linked ? who : "";
        encode(&resp.base, out);
    }
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
