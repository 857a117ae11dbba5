/*
 * contactstore.c - contacts sent, in the store, and the policy check over
 * them (contactstore.h): the storage shell around contact.c.
 */
#include "contactstore.h"

#include <errno.h>
#include <patron/store/v1/consent.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "bigendian.h"
#include "consentstore.h"
#include "grow.h"
#include "id.h"
#include "store_links.h"
#include "store_record.h"

#define T_CONTACTS "contacts"
#define T_IDS "contactids"
#define KEY_MAX (STORE_MAX_ID + 1 + CONTACTSTORE_MESSAGE_ID_MAX)

_Static_assert(KEY_MAX <= STORE_MAX_TABLE_KEY, "contact keys fit the store's key limit");

static int id_bad(const char *id)
{
    return id_check(id, STORE_MAX_ID, 0) == 0;
}

static size_t contact_key(const char *customer_id, const char *message_id, char *key)
{
    size_t a = strlen(customer_id), b = strlen(message_id);
    memcpy(key, customer_id, a);
    key[a] = '\0';
    memcpy(key + a + 1, message_id, b);
    return a + 1 + b;
}

static int decode(const void *key, size_t klen, const void *val, size_t vlen,
                  Patron__Store__V1__Contact **out)
{
    int rc = store_record_unpack(&patron__store__v1__contact__descriptor, T_CONTACTS, key,
                                 klen, val, vlen, (ProtobufCMessage **)out);
    if (rc)
        return rc;
    if ((*out)->channel >= CONSENT_N_CHANNELS || (*out)->kind >= CONTACT_N_KINDS) {
        store_record_free(&(*out)->base);
        return store_record_bad(T_CONTACTS, key, klen, "channel or kind out of range");
    }
    return 0;
}

/* ---- recording ---------------------------------------------------------------------- */

typedef struct record_ctx {
    const char *asked;                 /* the id named; customer_id: resolved */
    char customer_id[STORE_MAX_ID + 1];
    const contactstore_contact_t *c;
    int duplicate;
    contactstore_contact_t stored;
} record_ctx_t;

/* The message id's index row: time (big-endian), then the customer id. */
static size_t id_row(int64_t time_ms, const char *customer_id, unsigned char *row)
{
    size_t n = strlen(customer_id);
    put_be64(row, (uint64_t)time_ms);
    memcpy(row + 8, customer_id, n);
    return 8 + n;
}

static int record_resolved(store_tx_t *tx, record_ctx_t *x)
{
    const contactstore_contact_t *c = x->c;
    Patron__Store__V1__Contact m = PATRON__STORE__V1__CONTACT__INIT;
    Patron__Store__V1__Contact *old;
    unsigned char row[8 + STORE_MAX_ID];
    char key[KEY_MAX];
    size_t klen = contact_key(x->customer_id, c->message_id, key), vlen;
    const void *val;
    int rc = store_tx_get_ref(tx, T_IDS, c->message_id, strlen(c->message_id), &val, &vlen);

    if (rc == 0) {
        if (vlen != 8 + strlen(x->customer_id) ||
            memcmp((const char *)val + 8, x->customer_id, vlen - 8) != 0)
            return -EEXIST;
        x->duplicate = 1;
        if ((rc = store_tx_get_ref(tx, T_CONTACTS, key, klen, &val, &vlen)) != 0 ||
            (rc = decode(key, klen, val, vlen, &old)) != 0)
            return rc == -ENOENT ? 0 : rc;
        x->stored = (contactstore_contact_t){ NULL, old->time_ms, old->recorded_ms,
                                              (int)old->channel, (int)old->kind };
        store_record_free(&old->base);
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    m.message_id = (char *)c->message_id;
    m.time_ms = c->time_ms;
    m.channel = (uint32_t)c->channel;
    m.kind = (uint32_t)c->kind;
    m.recorded_ms = c->recorded_ms;
    if ((rc = store_tx_put_record(tx, T_CONTACTS, key, klen, &m.base)) != 0)
        return rc;
    x->stored = *c;
    return store_tx_put(tx, T_IDS, c->message_id, strlen(c->message_id), row,
                        id_row(c->time_ms, x->customer_id, row));
}

/* An id merged away records for its survivor (store_links.h). */
static int record_tx(store_tx_t *tx, void *ctx)
{
    record_ctx_t *x = ctx;
    int rc = store_tx_resolve_customer(tx, x->asked, x->customer_id);
    return rc < 0 ? rc : record_resolved(tx, x);
}

static int contact_invalid(const char *customer_id, const contactstore_contact_t *c)
{
    return !c || id_bad(customer_id) ||
           id_check(c->message_id, CONTACTSTORE_MESSAGE_ID_MAX, ID_PRINTABLE) == 0 ||
           c->channel < 0 || c->channel >= CONSENT_N_CHANNELS || c->kind < 0 ||
           c->kind >= CONTACT_N_KINDS || c->time_ms <= 0;
}

int contactstore_record(store_t *s, const char *customer_id,
                        const contactstore_contact_t *c, int *duplicate,
                        contactstore_contact_t *stored)
{
    record_ctx_t x = { customer_id, "", c, 0, { 0 } };
    int rc;

    if (!s || contact_invalid(customer_id, c))
        return -EINVAL;
    rc = store_table_atomic(s, record_tx, &x);
    if (rc == 0 && duplicate)
        *duplicate = x.duplicate;
    if (rc == 0 && stored) {
        *stored = x.stored;
        stored->message_id = c->message_id;
    }
    return rc;
}

int contactstore_tx_record(store_tx_t *tx, const char *customer_id,
                           const contactstore_contact_t *c, int *duplicate)
{
    record_ctx_t x = { customer_id, "", c, 0, { 0 } };
    int rc;

    if (!tx || contact_invalid(customer_id, c))
        return -EINVAL;
    rc = record_tx(tx, &x);
    if (rc == 0 && duplicate)
        *duplicate = x.duplicate;
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

typedef struct scan_ctx {
    contactstore_fn cb;
    void *ctx;
} scan_ctx_t;

static int contact_row(void *ctx, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
    scan_ctx_t *sc = ctx;
    Patron__Store__V1__Contact *m;
    contactstore_contact_t c;
    int rc = decode(key, klen, val, vlen, &m);
    if (rc)
        return rc;
    c = (contactstore_contact_t){ m->message_id, m->time_ms, m->recorded_ms,
                                  (int)m->channel, (int)m->kind };
    rc = sc->cb(sc->ctx, &c);
    store_record_free(&m->base);
    return rc;
}

int contactstore_scan(store_t *s, const char *customer_id, contactstore_fn cb, void *ctx)
{
    char prefix[STORE_MAX_ID + 2];
    scan_ctx_t sc;
    size_t n;

    if (!s || !cb || id_bad(customer_id))
        return -EINVAL;
    n = strlen(customer_id);
    memcpy(prefix, customer_id, n + 1); /* with the NUL: this customer only */
    sc = (scan_ctx_t){ cb, ctx };
    return store_table_scan(s, T_CONTACTS, prefix, n + 1, contact_row, &sc);
}

typedef struct recent {
    int64_t since;
    contact_sent_t *v;
    size_t n, cap;
} recent_t;

static int keep_recent(void *ctx, const contactstore_contact_t *c)
{
    recent_t *r = ctx;
    if (c->time_ms <= r->since)
        return 0;
    if (GROW(r->v, r->cap, r->n + 1))
        return -ENOMEM;
    r->v[r->n++] = (contact_sent_t){ c->time_ms, (uint8_t)c->channel, (uint8_t)c->kind };
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    int64_t x = ((const contact_sent_t *)a)->time_ms, y = ((const contact_sent_t *)b)->time_ms;
    return (x < y) - (x > y);
}

int contactstore_recent(store_t *s, const char *customer_id, int64_t since_ms,
                        contact_sent_t **out, size_t *n)
{
    recent_t r = { since_ms, NULL, 0, 0 };
    int rc = contactstore_scan(s, customer_id, keep_recent, &r);
    *out = NULL;
    *n = 0;
    if (rc) {
        free(r.v);
        return rc;
    }
    if (r.n > CONTACT_MAX_RECENT) {
        qsort(r.v, r.n, sizeof *r.v, newest_first);
        r.n = CONTACT_MAX_RECENT;
    }
    *out = r.v;
    *n = r.n;
    return 0;
}

/* What a decision reads about one customer: consent, recent contacts, zone. */
typedef struct policy_input {
    consent_t consent;
    int found;                 /* consent recorded */
    contact_sent_t *sent;      /* malloc'd */
    size_t n_sent;
    const tz_t *zone;          /* the cache's */
} policy_input_t;

static int policy_load(const contactstore_env_t *env, const char *customer_id,
                       int64_t now_ms, policy_input_t *in)
{
    int64_t horizon = (int64_t)env->cfg->min_gap_minutes * 60000;
    int rc;

    memset(in, 0, sizeof *in);
    if ((rc = consentstore_get(env->store, customer_id, &in->consent, &in->found)) != 0)
        return rc;
    if (horizon < CONTACT_WEEK_MS)
        horizon = CONTACT_WEEK_MS;
    if ((rc = contactstore_recent(env->store, customer_id, now_ms - horizon, &in->sent,
                                  &in->n_sent)) != 0)
        return rc;
    return tz_cache_get(env->zones,
                        contact_zone_name(env->cfg, in->found ? &in->consent : NULL),
                        &in->zone);
}

static int policy_decide(const contactstore_env_t *env, const policy_input_t *in,
                         int channel, int kind, int64_t now_ms, contact_decision_t *out)
{
    contact_request_t q = { env->cfg, in->found ? &in->consent : NULL, in->zone, in->sent,
                            in->n_sent, channel, kind, now_ms };
    return contact_decide(&q, out);
}

static int env_bad(const contactstore_env_t *env)
{
    return !env || !env->store || !env->cfg || !env->zones;
}

int contactstore_check(const contactstore_env_t *env, const char *customer_id,
                       int channel, int kind, int64_t now_ms, contact_decision_t *out,
                       int *personalization)
{
    policy_input_t in;
    int rc;

    if (env_bad(env) || !out)
        return -EINVAL;
    rc = policy_load(env, customer_id, now_ms, &in);
    if (rc == 0)
        rc = policy_decide(env, &in, channel, kind, now_ms, out);
    if (rc == 0 && personalization)
        *personalization = consent_allows(in.found ? &in.consent : NULL, -1,
                                          CONSENT_PERSONALIZATION,
                                          (consent_state_t)env->cfg->consent_default);
    free(in.sent);
    return rc;
}

/* The channels to try, in order: the preferred one, then the rest. */
static size_t candidates(const consent_t *c, int order[CONSENT_N_CHANNELS])
{
    int pref = c && c->preferred >= 0 && c->preferred < CONSENT_N_CHANNELS ? c->preferred : -1;
    size_t n = 0;
    if (pref >= 0)
        order[n++] = pref;
    for (int ch = 0; ch < CONSENT_N_CHANNELS; ch++)
        if (ch != pref)
            order[n++] = ch;
    return n;
}

/* Whether the customer consented to marketing on ch (unset as configured). */
static int consented(const contactstore_env_t *env, const policy_input_t *in, int ch)
{
    return consent_allows(in->found ? &in->consent : NULL, ch, CONSENT_MARKETING,
                          (consent_state_t)env->cfg->consent_default);
}

int contactstore_choose(const contactstore_env_t *env, const char *customer_id, int kind,
                        int64_t now_ms, int *channel, contact_decision_t *out)
{
    contact_decision_t d[CONSENT_N_CHANNELS];
    int order[CONSENT_N_CHANNELS];
    size_t n = 0, report = 0;
    int64_t earliest = 0;
    policy_input_t in;
    int rc;

    if (env_bad(env) || !channel || !out)
        return -EINVAL;
    if ((rc = policy_load(env, customer_id, now_ms, &in)) != 0)
        goto out;
    n = candidates(in.found ? &in.consent : NULL, order);
    for (size_t i = 0; i < n; i++) {
        if ((rc = policy_decide(env, &in, order[i], kind, now_ms, &d[i])) != 0)
            goto out;
        if (d[i].allowed) {
            *channel = order[i];
            *out = d[i];
            goto out;
        }
        if (d[i].next_allowed_ms && (!earliest || d[i].next_allowed_ms < earliest))
            earliest = d[i].next_allowed_ms;
    }
    /* None allows: tell about the first consented channel (else the preferred). */
    for (size_t i = n; i-- > 0;)
        if (consented(env, &in, order[i]))
            report = i;
    *channel = order[report];
    *out = d[report];
    out->next_allowed_ms = earliest;
out:
    free(in.sent);
    return rc;
}

/* ---- erasure, retention, export ------------------------------------------------------- */

typedef struct keys {
    char (*key)[KEY_MAX];
    size_t *len;
    size_t n, cap, lcap;
} keys_t;

static int gather(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    keys_t *k = ctx;
    (void)val;
    (void)vlen;
    if (klen > KEY_MAX)
        return -EIO;
    if (GROW(k->key, k->cap, k->n + 1) || GROW(k->len, k->lcap, k->n + 1))
        return -ENOMEM;
    memcpy(k->key[k->n], key, klen);
    k->len[k->n++] = klen;
    return 0;
}

int contactstore_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                                   custdata_erased_t *out)
{
    char prefix[STORE_MAX_ID + 2];
    keys_t k = { 0 };
    size_t n;
    int rc;

    if (!tx || !out || id_bad(customer_id))
        return -EINVAL;
    n = strlen(customer_id);
    memcpy(prefix, customer_id, n + 1);
    rc = store_tx_scan(tx, T_CONTACTS, prefix, n + 1, gather, &k);
    for (size_t i = 0; rc == 0 && i < k.n; i++) {
        rc = store_tx_del(tx, T_IDS, k.key[i] + n + 1, k.len[i] - n - 1);
        if (rc == 0 || rc == -ENOENT)
            rc = store_tx_del(tx, T_CONTACTS, k.key[i], k.len[i]);
    }
    if (rc == 0)
        out->rows += k.n;
    free(k.key);
    free(k.len);
    return rc;
}

static int id_doomed(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key;
    (void)klen;
    if (vlen < 8)
        return 1; /* unreadable: not an index row this module wrote */
    return (int64_t)get_be64(val) < *(const int64_t *)ctx;
}

static int contact_doomed(void *ctx, const void *key, size_t klen, const void *val,
                          size_t vlen)
{
    Patron__Store__V1__Contact *m;
    int doomed;
    if (decode(key, klen, val, vlen, &m) != 0)
        return 0; /* kept: an unreadable row is reported by the readers */
    doomed = m->time_ms < *(const int64_t *)ctx;
    store_record_free(&m->base);
    return doomed;
}

int contactstore_prune(store_t *s, int64_t before_ms, uint64_t *removed)
{
    uint64_t ids = 0, rows = 0;
    /* The index first: a crash between the two leaves contacts without
     * their index row (recorded again if re-sent), never an index row
     * naming a customer that erasure would not find. */
    int rc = store_table_prune(s, T_IDS, id_doomed, &before_ms, &ids);
    if (rc == 0)
        rc = store_table_prune(s, T_CONTACTS, contact_doomed, &before_ms, &rows);
    *removed = ids + rows;
    return rc;
}

/* ---- merge (MergeCustomers) ----------------------------------------------------------- */

/* Moves the contact at key (a row of from_id, its id from_len bytes) to
 * into_id: the row under into_id's key, its message id's index row naming
 * into_id. */
static int move_contact(store_tx_t *tx, const char *key, size_t klen, size_t from_len,
                        const char *into_id)
{
    Patron__Store__V1__Contact *m;
    unsigned char row[8 + STORE_MAX_ID];
    char message_id[CONTACTSTORE_MESSAGE_ID_MAX + 1], to[KEY_MAX];
    size_t mlen = klen - from_len - 1;
    const void *val;
    size_t vlen;
    int rc;

    if (klen <= from_len + 1 || mlen > CONTACTSTORE_MESSAGE_ID_MAX)
        return store_record_bad(T_CONTACTS, key, klen, "key without a message id");
    memcpy(message_id, key + from_len + 1, mlen);
    message_id[mlen] = '\0';
    if ((rc = store_tx_get_ref(tx, T_CONTACTS, key, klen, &val, &vlen)) != 0 ||
        (rc = decode(key, klen, val, vlen, &m)) != 0)
        return rc;
    rc = store_tx_put_record(tx, T_CONTACTS, to, contact_key(into_id, message_id, to),
                             &m->base);
    if (rc == 0)
        rc = store_tx_put(tx, T_IDS, message_id, mlen, row, id_row(m->time_ms, into_id, row));
    store_record_free(&m->base);
    return rc ? rc : store_tx_del(tx, T_CONTACTS, key, klen);
}

int contactstore_tx_merge(store_tx_t *tx, const char *from_id, const char *into_id,
                          custdata_merged_t *out)
{
    char prefix[STORE_MAX_ID + 2];
    keys_t k = { 0 };
    size_t n;
    int rc;

    if (!tx || !out || id_bad(from_id) || id_bad(into_id) || strcmp(from_id, into_id) == 0)
        return -EINVAL;
    n = strlen(from_id);
    memcpy(prefix, from_id, n + 1);
    rc = store_tx_scan(tx, T_CONTACTS, prefix, n + 1, gather, &k);
    for (size_t i = 0; rc == 0 && i < k.n; i++)
        rc = move_contact(tx, k.key[i], k.len[i], n, into_id);
    if (rc == 0)
        out->rows += k.n;
    free(k.key);
    free(k.len);
    return rc;
}

static int merge_owner(void *ctx, store_tx_t *tx, const char *from_id, const char *into_id,
                       int64_t now_ms, custdata_merged_t *out)
{
    (void)ctx;
    (void)now_ms;
    return contactstore_tx_merge(tx, from_id, into_id, out);
}

static int first_row(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)ctx, (void)key, (void)klen, (void)val, (void)vlen;
    return 1;
}

/* A contact recorded makes an id known to MergeCustomers. */
static int holds_owner(void *ctx, store_tx_t *tx, const char *customer_id)
{
    char prefix[STORE_MAX_ID + 2];
    size_t n = strlen(customer_id);
    (void)ctx;
    memcpy(prefix, customer_id, n + 1);
    return store_tx_scan(tx, T_CONTACTS, prefix, n + 1, first_row, NULL);
}

static int erase_owner(void *ctx, store_tx_t *tx, const char *customer_id,
                       custdata_erased_t *out)
{
    (void)ctx;
    return contactstore_tx_erase_customer(tx, customer_id, out);
}

typedef struct export_ctx {
    custdata_emit_fn emit;
    void *sink;
} export_ctx_t;

static int export_contact(void *ctx, const contactstore_contact_t *c)
{
    export_ctx_t *e = ctx;
    return e->emit(e->sink, CUSTDATA_CONTACT, c);
}

static int export_owner(void *ctx, store_t *s, const char *customer_id,
                        custdata_emit_fn emit, void *sink)
{
    export_ctx_t e = { emit, sink };
    (void)ctx;
    return contactstore_scan(s, customer_id, export_contact, &e);
}

static int retain_owner(void *ctx, store_t *s, int64_t before_ms, uint64_t *removed)
{
    (void)ctx;
    return contactstore_prune(s, before_ms, removed);
}

custdata_owner_t contactstore_custdata_owner(void)
{
    return (custdata_owner_t){ .name = "contacts", .erase = erase_owner,
                               .merge = merge_owner, .holds = holds_owner, .export_rows = export_owner, .retain = retain_owner,
                               .retain_what = "contact log rows" };
}
