/*
 * consentstore.c - consent and its audit trail in the store
 * (consentstore.h): the storage shell around consent.c.
 */
#include "consentstore.h"

#include <errno.h>
#include <patron/store/v1/consent.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "id.h"
#include "store_links.h"
#include "store_record.h"

#define T_CONSENT "consent"
#define T_LOG "consentlog"

static int id_bad(const char *id)
{
    return id_check(id, STORE_MAX_ID, 0) == 0;
}

/* ---- records ------------------------------------------------------------------------ */

static void to_record(const consent_t *c, Patron__Store__V1__Consent *m,
                      uint32_t channels[CONSENT_N_CHANNELS],
                      uint32_t purposes[CONSENT_N_PURPOSES])
{
    patron__store__v1__consent__init(m);
    for (int i = 0; i < CONSENT_N_CHANNELS; i++)
        channels[i] = c->channel[i];
    for (int i = 0; i < CONSENT_N_PURPOSES; i++)
        purposes[i] = c->purpose[i];
    m->n_channels = CONSENT_N_CHANNELS;
    m->channels = channels;
    m->n_purposes = CONSENT_N_PURPOSES;
    m->purposes = purposes;
    m->preferred_channel = c->preferred + 1;
    m->time_zone = (char *)c->time_zone;
    m->quiet_mode = c->quiet_mode;
    m->quiet_start = c->quiet_start;
    m->quiet_end = c->quiet_end;
    m->language = (char *)c->language;
    m->updated_ms = c->updated_ms;
    m->changes = c->changes;
}

/* NULL, or what is out of bounds. Unknown channels or purposes of a newer
 * release (more entries) are ignored. */
static const char *from_record(const Patron__Store__V1__Consent *m, consent_t *c)
{
    consent_init(c);
    for (size_t i = 0; i < m->n_channels && i < CONSENT_N_CHANNELS; i++) {
        if (m->channels[i] > CONSENT_WITHDRAWN)
            return "channel consent out of range";
        c->channel[i] = (uint8_t)m->channels[i];
    }
    for (size_t i = 0; i < m->n_purposes && i < CONSENT_N_PURPOSES; i++) {
        if (m->purposes[i] > CONSENT_WITHDRAWN)
            return "purpose consent out of range";
        c->purpose[i] = (uint8_t)m->purposes[i];
    }
    if (m->preferred_channel < 0 || m->preferred_channel > CONSENT_N_CHANNELS)
        return "preferred_channel out of range";
    c->preferred = m->preferred_channel - 1;
    if (!store_record_copy_str(c->time_zone, sizeof c->time_zone, m->time_zone) ||
        !store_record_copy_str(c->language, sizeof c->language, m->language))
        return "time_zone or language too long";
    if (m->quiet_mode > CONSENT_QUIET_CUSTOM || m->quiet_start >= CONSENT_DAY_MINUTES ||
        m->quiet_end >= CONSENT_DAY_MINUTES)
        return "quiet hours out of range";
    c->quiet_mode = (uint8_t)m->quiet_mode;
    c->quiet_start = (uint16_t)m->quiet_start;
    c->quiet_end = (uint16_t)m->quiet_end;
    c->updated_ms = m->updated_ms;
    c->changes = m->changes;
    return NULL;
}

static int decode_consent(const char *customer_id, const void *val, size_t vlen,
                          consent_t *out)
{
    ProtobufCMessage *m;
    const char *why;
    int rc = store_record_unpack(&patron__store__v1__consent__descriptor, T_CONSENT,
                                 customer_id, strlen(customer_id), val, vlen, &m);
    if (rc)
        return rc;
    why = from_record((const Patron__Store__V1__Consent *)m, out);
    store_record_free(m);
    return why ? store_record_bad(T_CONSENT, customer_id, strlen(customer_id), why) : 0;
}

static int tx_get(store_tx_t *tx, const char *customer_id, consent_t *out, int *found)
{
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, T_CONSENT, customer_id, strlen(customer_id), &val, &vlen);
    *found = rc == 0;
    if (rc == -ENOENT) {
        consent_init(out);
        return 0;
    }
    return rc ? rc : decode_consent(customer_id, val, vlen, out);
}

static int tx_put(store_tx_t *tx, const char *customer_id, const consent_t *c)
{
    Patron__Store__V1__Consent m;
    uint32_t channels[CONSENT_N_CHANNELS], purposes[CONSENT_N_PURPOSES];
    to_record(c, &m, channels, purposes);
    return store_tx_put_record(tx, T_CONSENT, customer_id, strlen(customer_id), &m.base);
}

/* customer id NUL seq (big-endian): the rows of one customer sort by seq. */
static size_t log_key(const char *customer_id, uint64_t seq, char *key)
{
    size_t n = strlen(customer_id);
    memcpy(key, customer_id, n);
    key[n++] = '\0';
    for (int i = 7; i >= 0; i--)
        key[n++] = (char)(seq >> (8 * i));
    return n;
}

/* customer id NUL: the prefix of exactly this customer's audit rows. */
static size_t log_prefix(const char *customer_id, char *prefix)
{
    size_t n = strlen(customer_id);
    memcpy(prefix, customer_id, n + 1);
    return n + 1;
}

static int decode_change(const void *key, size_t klen, const void *val, size_t vlen,
                         Patron__Store__V1__ConsentChange **out)
{
    return store_record_unpack(&patron__store__v1__consent_change__descriptor, T_LOG, key,
                               klen, val, vlen, (ProtobufCMessage **)out);
}

/* ---- reads -------------------------------------------------------------------------- */

typedef struct get_ctx {
    const char *customer_id;
    consent_t *out;
    int found;
} get_ctx_t;

static int get_row(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    get_ctx_t *g = ctx;
    if (klen != strlen(g->customer_id))
        return 0; /* a longer id sharing the prefix */
    g->found = 1;
    return decode_consent(g->customer_id, val, vlen, g->out);
}

int consentstore_get(store_t *s, const char *customer_id, consent_t *out, int *found)
{
    get_ctx_t g = { customer_id, out, 0 };
    int rc;
    if (!s || !out || id_bad(customer_id))
        return -EINVAL;
    consent_init(out);
    /* a read: a prefix scan is the store's read-only keyed access */
    rc = store_table_scan(s, T_CONSENT, customer_id, strlen(customer_id), get_row, &g);
    if (found)
        *found = g.found;
    return rc;
}

int consentstore_allows(store_t *s, const char *customer_id, int channel,
                        consent_purpose_t purpose, consent_state_t unset_means, int *ok)
{
    consent_t c;
    int found = 0, rc = consentstore_get(s, customer_id, &c, &found);
    if (rc)
        return rc;
    *ok = consent_allows(found ? &c : NULL, channel, purpose, unset_means);
    return 0;
}

/* ---- the update ---------------------------------------------------------------------- */

typedef struct update_ctx {
    const char *asked;                 /* the id named; customer_id: resolved */
    char customer_id[STORE_MAX_ID + 1];
    const consent_update_t *u;
    int64_t time_ms, recorded_ms;
    const char *source;
    consent_t *out;
    size_t changed;
} update_ctx_t;

static int put_change(store_tx_t *tx, const update_ctx_t *x, uint64_t seq,
                      const consent_field_change_t *ch)
{
    Patron__Store__V1__ConsentChange m = PATRON__STORE__V1__CONSENT_CHANGE__INIT;
    char key[STORE_MAX_ID + 16];
    size_t klen = log_key(x->customer_id, seq, key);
    void *buf = NULL;
    size_t len = 0;
    int rc;

    m.seq = seq;
    m.time_ms = x->time_ms;
    m.recorded_ms = x->recorded_ms;
    m.source = (char *)x->source;
    m.field = (char *)ch->field;
    m.old_value = (char *)ch->old_value;
    m.new_value = (char *)ch->new_value;
    if ((rc = store_record_pack(&m.base, &buf, &len)) == 0)
        rc = store_tx_put(tx, T_LOG, key, klen, buf, len);
    free(buf);
    return rc;
}

static int update_tx(store_tx_t *tx, void *ctx)
{
    update_ctx_t *x = ctx;
    consent_field_change_t ch[CONSENT_MAX_FIELDS];
    uint64_t first;
    int found, rc;

    if ((rc = store_tx_resolve_customer(tx, x->asked, x->customer_id)) < 0 ||
        (rc = tx_get(tx, x->customer_id, x->out, &found)) != 0)
        return rc;
    first = x->out->changes + 1;
    consent_apply(x->out, x->u, x->time_ms, ch, &x->changed);
    for (size_t i = 0; i < x->changed; i++)
        if ((rc = put_change(tx, x, first + i, &ch[i])) != 0)
            return rc;
    return x->changed ? tx_put(tx, x->customer_id, x->out) : 0;
}

int consentstore_update(store_t *s, const char *customer_id, const consent_update_t *u,
                        int64_t time_ms, int64_t recorded_ms, const char *source,
                        consent_t *out, size_t *changed)
{
    update_ctx_t x = { customer_id, "", u, time_ms, recorded_ms, source, out, 0 };
    int rc;

    if (changed)
        *changed = 0;
    if (!s || !u || !out || id_bad(customer_id) || consent_update_invalid(u) ||
        id_check(source, CONSENT_SOURCE_MAX, ID_PRINTABLE) == 0)
        return -EINVAL;
    rc = store_table_atomic(s, update_tx, &x);
    if (rc == 0 && changed)
        *changed = x.changed;
    return rc;
}

/* ---- the audit trail -------------------------------------------------------------------- */

typedef struct scan_ctx {
    const char *customer_id;
    consentstore_change_fn cb;
    void *ctx;
} scan_ctx_t;

static int change_row(void *ctx, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
    scan_ctx_t *sc = ctx;
    Patron__Store__V1__ConsentChange *m;
    consentstore_change_t c;
    int rc;

    if (klen != strlen(sc->customer_id) + 9)
        return 0; /* another customer's id that merely starts the same */
    if ((rc = decode_change(key, klen, val, vlen, &m)) != 0)
        return rc;
    c = (consentstore_change_t){ m->seq,       m->time_ms,   m->recorded_ms,
                                 m->source,    m->field,     m->old_value,
                                 m->new_value, m->merged_from };
    rc = sc->cb(sc->ctx, &c);
    store_record_free(&m->base);
    return rc;
}

int consentstore_scan_changes(store_t *s, const char *customer_id,
                              consentstore_change_fn cb, void *ctx)
{
    scan_ctx_t sc = { customer_id, cb, ctx };
    char prefix[STORE_MAX_ID + 2];

    if (!s || !cb || id_bad(customer_id))
        return -EINVAL;
    return store_table_scan(s, T_LOG, prefix, log_prefix(customer_id, prefix), change_row,
                            &sc);
}

/* ---- erasure ------------------------------------------------------------------------- */

typedef struct keys {
    char (*key)[STORE_MAX_ID + 16];
    size_t *len;
    size_t n, cap, lcap;
} keys_t;

static int gather(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    keys_t *k = ctx;
    (void)val;
    (void)vlen;
    if (klen > sizeof k->key[0])
        return -EIO;
    if (GROW(k->key, k->cap, k->n + 1) || GROW(k->len, k->lcap, k->n + 1))
        return -ENOMEM;
    memcpy(k->key[k->n], key, klen);
    k->len[k->n++] = klen;
    return 0;
}

static void keys_free(keys_t *k)
{
    free(k->key);
    free(k->len);
}

/* The keys of the customer's audit rows, in seq order. */
static int gather_trail(store_tx_t *tx, const char *customer_id, keys_t *k)
{
    char prefix[STORE_MAX_ID + 2];
    return store_tx_scan(tx, T_LOG, prefix, log_prefix(customer_id, prefix), gather, k);
}

int consentstore_tx_erase_customer(store_tx_t *tx, const char *customer_id,
                                   custdata_erased_t *out)
{
    keys_t k = { 0 };
    int rc;

    if (!tx || !out || id_bad(customer_id))
        return -EINVAL;
    rc = store_tx_del(tx, T_CONSENT, customer_id, strlen(customer_id));
    if (rc == 0)
        out->rows++;
    else if (rc != -ENOENT)
        return rc;
    rc = gather_trail(tx, customer_id, &k);
    for (size_t i = 0; rc == 0 && i < k.n; i++)
        rc = store_tx_del(tx, T_LOG, k.key[i], k.len[i]);
    if (rc == 0)
        out->rows += k.n;
    keys_free(&k);
    return rc;
}

static int erase_owner(void *ctx, store_tx_t *tx, const char *customer_id,
                       custdata_erased_t *out)
{
    (void)ctx;
    return consentstore_tx_erase_customer(tx, customer_id, out);
}

/* ---- merge (MergeCustomers) ----------------------------------------------------------- */

/* When an id last chose each field: the latest time among its audit rows
 * naming the field (0: never). */
typedef struct field_times {
    int64_t ms[CONSENT_N_FIELDS];
} field_times_t;

static void note_time(field_times_t *t, const Patron__Store__V1__ConsentChange *m)
{
    int f = consent_field_from_name(m->field);
    if (f >= 0 && m->time_ms > t->ms[f])
        t->ms[f] = m->time_ms;
}

static int time_row(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    Patron__Store__V1__ConsentChange *m;
    int rc = decode_change(key, klen, val, vlen, &m);
    if (rc)
        return rc;
    note_time(ctx, m);
    store_record_free(&m->base);
    return 0;
}

static int trail_times(store_tx_t *tx, const char *customer_id, field_times_t *t)
{
    char prefix[STORE_MAX_ID + 2];
    memset(t, 0, sizeof *t);
    return store_tx_scan(tx, T_LOG, prefix, log_prefix(customer_id, prefix), time_row, t);
}

/* Appends from_id's audit row at key to into_id's trail as row seq, noting
 * its time in *t. merged_from keeps an earlier merge's id. */
static int copy_row(store_tx_t *tx, const char *key, size_t klen, const char *from_id,
                    const char *into_id, uint64_t seq, field_times_t *t)
{
    Patron__Store__V1__ConsentChange *m;
    char to[STORE_MAX_ID + 16], *recorded_under;
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, T_LOG, key, klen, &val, &vlen);

    if (rc || (rc = decode_change(key, klen, val, vlen, &m)) != 0)
        return rc;
    note_time(t, m);
    recorded_under = m->merged_from;
    m->seq = seq;
    if (!m->merged_from[0])
        m->merged_from = (char *)from_id;
    rc = store_tx_put_record(tx, T_LOG, to, log_key(into_id, seq, to), &m->base);
    m->merged_from = recorded_under; /* the unpacked string, freed with m */
    store_record_free(&m->base);
    return rc;
}

int consentstore_tx_merge(store_tx_t *tx, const char *from_id, const char *into_id,
                          custdata_merged_t *out)
{
    consent_t from, into;
    field_times_t t_from = { { 0 } }, t_into;
    custdata_erased_t moved = { 0, 0, 0, 0, 0 };
    keys_t k = { 0 };
    int found_from, found_into, rc;

    if (!tx || !out || id_bad(from_id) || id_bad(into_id) || strcmp(from_id, into_id) == 0)
        return -EINVAL;
    if ((rc = tx_get(tx, from_id, &from, &found_from)) != 0 ||
        (rc = gather_trail(tx, from_id, &k)) != 0 || (!found_from && !k.n))
        goto out;
    if ((rc = tx_get(tx, into_id, &into, &found_into)) != 0 ||
        (rc = trail_times(tx, into_id, &t_into)) != 0)
        goto out;
    for (size_t i = 0; rc == 0 && i < k.n; i++)
        rc = copy_row(tx, k.key[i], k.len[i], from_id, into_id, into.changes + 1 + i,
                      &t_from);
    if (rc)
        goto out;
    consent_combine(&into, t_into.ms, &from, t_from.ms);
    into.changes += k.n;
    if ((rc = tx_put(tx, into_id, &into)) == 0 &&
        (rc = consentstore_tx_erase_customer(tx, from_id, &moved)) == 0)
        out->rows += moved.rows;
out:
    keys_free(&k);
    return rc;
}

static int merge_owner(void *ctx, store_tx_t *tx, const char *from_id, const char *into_id,
                       int64_t now_ms, custdata_merged_t *out)
{
    (void)ctx;
    (void)now_ms;
    return consentstore_tx_merge(tx, from_id, into_id, out);
}

/* Choices stored make an id known to MergeCustomers (a trail without them
 * cannot exist: every update writes both). */
static int holds_owner(void *ctx, store_tx_t *tx, const char *customer_id)
{
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, T_CONSENT, customer_id, strlen(customer_id), &val, &vlen);
    (void)ctx;
    return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

/* ---- export ----------------------------------------------------------------------------- */

typedef struct export_ctx {
    custdata_emit_fn emit;
    void *sink;
} export_ctx_t;

static int export_change(void *ctx, const consentstore_change_t *c)
{
    export_ctx_t *e = ctx;
    return e->emit(e->sink, CUSTDATA_CONSENT_CHANGE, c);
}

static int export_owner(void *ctx, store_t *s, const char *customer_id,
                        custdata_emit_fn emit, void *sink)
{
    export_ctx_t e = { emit, sink };
    consent_t c;
    int found = 0, rc = consentstore_get(s, customer_id, &c, &found);
    (void)ctx;
    if (rc == 0 && found)
        rc = emit(sink, CUSTDATA_CONSENT, &c);
    return rc ? rc : consentstore_scan_changes(s, customer_id, export_change, &e);
}

custdata_owner_t consentstore_custdata_owner(void)
{
    return (custdata_owner_t){ .name = "consent", .erase = erase_owner,
                               .merge = merge_owner, .holds = holds_owner,
                               .export_rows = export_owner };
}
