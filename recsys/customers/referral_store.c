/*
 * referral_store.c - signups, referral links and fingerprints in the store,
 * and what they pay (referral_store.h). Writes run in one store
 * transaction each; reads are separate read transactions (the ledger is
 * derived, so a read racing a write sees it or not, never half of it
 * within one table).
 */
#include "referral_store.h"

#include <errno.h>
#include <patron/store/v1/referrals.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigendian.h"
#include "grow.h"
#include "hash.h"
#include "id.h"
#include "store_links.h"
#include "store_record.h"
#include "referral_internal.h"

/* ---- rows ------------------------------------------------------------------------ */

int rstore_sign_decode(const char *id, const void *val, size_t vlen, signup_t *out)
{
    Patron__Store__V1__ReferralSignup *m;
    int rc = store_record_unpack(&patron__store__v1__referral_signup__descriptor, T_SIGN, id,
                                 strlen(id), val, vlen, (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->time_ms = m->time_ms;
    out->recorded_ms = m->recorded_ms;
    if (!store_record_copy_str(out->referrer, sizeof out->referrer, m->referrer) ||
        !store_record_copy_str(out->code, sizeof out->code, m->code) ||
        !store_record_copy_str(out->fp[0], sizeof out->fp[0], m->device) ||
        !store_record_copy_str(out->fp[1], sizeof out->fp[1], m->address) ||
        !store_record_copy_str(out->fp[2], sizeof out->fp[2], m->payment))
        rc = store_record_bad(T_SIGN, id, strlen(id), "a field longer than its limit");
    store_record_free(&m->base);
    return rc;
}

int rstore_sign_get_tx(store_tx_t *tx, const char *id, signup_t *out)
{
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, T_SIGN, id, strlen(id), &val, &vlen);
    return rc ? rc : rstore_sign_decode(id, val, vlen, out);
}

int rstore_sign_get(store_t *s, const char *id, signup_t *out)
{
    void *val;
    size_t vlen;
    int rc = store_table_get(s, T_SIGN, id, strlen(id), &val, &vlen);
    if (rc)
        return rc;
    rc = rstore_sign_decode(id, val, vlen, out);
    free(val);
    return rc;
}

int rstore_sign_put(store_tx_t *tx, const char *id, const signup_t *g)
{
    Patron__Store__V1__ReferralSignup m = PATRON__STORE__V1__REFERRAL_SIGNUP__INIT;
    m.time_ms = g->time_ms;
    m.recorded_ms = g->recorded_ms;
    m.referrer = (char *)g->referrer;
    m.code = (char *)g->code;
    m.device = (char *)g->fp[0];
    m.address = (char *)g->fp[1];
    m.payment = (char *)g->fp[2];
    return store_tx_put_record(tx, T_SIGN, id, strlen(id), &m.base);
}

size_t rstore_friend_key(const char *referrer, const char *friend_id, unsigned char *key)
{
    size_t n = strlen(referrer);
    memcpy(key, referrer, n + 1);
    put_be64(key + n + 1, fnv1a64_str(friend_id));
    return n + 1 + 8;
}

size_t rstore_fp_key(int kind, const char *value, const char *customer_id, char *key)
{
    size_t a = strlen(value), b = customer_id ? strlen(customer_id) : 0;
    key[0] = KINDS[kind];
    key[1] = ':';
    memcpy(key + 2, value, a);
    key[2 + a] = '\0';
    if (b)
        memcpy(key + 3 + a, customer_id, b);
    return 3 + a + b;
}

int rstore_fp_put(store_tx_t *tx, const signup_t *g, const char *id)
{
    char key[FP_KEY_MAX];
    unsigned char t[8];
    int rc = 0;
    put_be64(t, (uint64_t)g->time_ms);
    for (int k = 0; k < N_KINDS && rc == 0; k++)
        if (g->fp[k][0])
            rc = store_tx_put(tx, T_FP, key, rstore_fp_key(k, g->fp[k], id, key), t, sizeof t);
    return rc;
}

int rstore_fp_del(store_tx_t *tx, const signup_t *g, const char *id)
{
    char key[FP_KEY_MAX];
    int rc = 0;
    for (int k = 0; k < N_KINDS && rc == 0; k++) {
        if (!g->fp[k][0])
            continue;
        rc = store_tx_del(tx, T_FP, key, rstore_fp_key(k, g->fp[k], id, key));
        if (rc == -ENOENT)
            rc = 0;
    }
    return rc;
}

/* ---- codes ----------------------------------------------------------------------- */

/* The id of the customer with dense index < n whose code is code, walking
 * the store (outside any write transaction). */
static int code_walk(store_t *s, const char *code, char *out)
{
    uint32_t n = 0, items;
    char id[STORE_MAX_ID + 1], c[REFERRAL_CODE_LEN + 1];
    int rc = store_counts(s, &n, &items);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        if ((rc = store_customer_id(s, i, id, sizeof id)) == -ENOENT) {
            rc = 0; /* erased */
            continue;
        }
        referral_code_of(id, c);
        if (rc == 0 && strcmp(c, code) == 0) {
            strcpy(out, id);
            return 0;
        }
    }
    return rc ? rc : -ENOENT;
}

/* The stored owner of code into out (not resolved); -ENOENT if none. */
static int code_lookup(store_t *s, const char *code, char *out)
{
    void *val;
    size_t vlen;
    int rc = store_table_get(s, T_CODE, code, REFERRAL_CODE_LEN, &val, &vlen);
    if (rc)
        return rc;
    if (vlen == 0 || vlen > STORE_MAX_ID)
        rc = store_record_bad(T_CODE, code, REFERRAL_CODE_LEN, "not a customer id");
    else
        memcpy(out, val, vlen), out[vlen] = '\0';
    free(val);
    return rc;
}

int referral_store_resolve_code(store_t *s, const char *code, char *out)
{
    char norm[REFERRAL_CODE_LEN + 1], id[STORE_MAX_ID + 1];
    int rc;
    if (referral_code_normalize(code, norm))
        return -EINVAL;
    if ((rc = code_lookup(s, norm, id)) == -ENOENT)
        rc = code_walk(s, norm, id);
    if (rc)
        return rc;
    rc = store_resolve_customer(s, id, out);
    return rc < 0 ? rc : 0;
}

/* rcode[code of id] = id unless it is there (-EEXIST: another customer's
 * code is the same: a 50-bit collision, refused rather than merged). */
static int code_put(store_tx_t *tx, const char *id)
{
    char code[REFERRAL_CODE_LEN + 1], have[STORE_MAX_ID + 1];
    size_t vlen;
    int rc;
    referral_code_of(id, code);
    rc = store_tx_get(tx, T_CODE, code, REFERRAL_CODE_LEN, have, STORE_MAX_ID, &vlen);
    if (rc == 0) {
        have[vlen] = '\0';
        return strcmp(have, id) == 0 || store_tx_same_customer(tx, have, id) == 1 ? 0 : -EEXIST;
    }
    if (rc != -ENOENT)
        return rc;
    return store_tx_put(tx, T_CODE, code, REFERRAL_CODE_LEN, id, strlen(id));
}

/* ---- signup ---------------------------------------------------------------------- */

typedef struct signup_ctx {
    const referral_signup_t *in;
    signup_t g;                       /* what to store */
    const char *code_owner;           /* "" without a code */
    referral_signup_result_t *out;
    const char **why;
} signup_ctx_t;

static int same_signup(const signup_t *a, const signup_t *b)
{
    for (int k = 0; k < N_KINDS; k++)
        if (strcmp(a->fp[k], b->fp[k]) != 0)
            return 0;
    return a->time_ms == b->time_ms && strcmp(a->code, b->code) == 0;
}

static int signup_tx(store_tx_t *tx, void *ctx)
{
    signup_ctx_t *c = ctx;
    referral_signup_result_t *out = c->out;
    unsigned char fkey[FRIEND_KEY_MAX];
    signup_t have;
    int rc;

    if ((rc = store_tx_resolve_customer(tx, c->in->customer_id, out->customer_id)) < 0)
        return rc;
    referral_code_of(out->customer_id, out->code);
    out->referrer[0] = '\0';
    if (c->code_owner[0] &&
        (rc = store_tx_resolve_customer(tx, c->code_owner, out->referrer)) < 0)
        return rc;
    if (out->referrer[0] && strcmp(out->referrer, out->customer_id) == 0) {
        *c->why = "referral_code: the customer's own code (self-referral is refused)";
        return -EINVAL;
    }
    if ((rc = rstore_sign_get_tx(tx, out->customer_id, &have)) == 0) {
        out->replayed = same_signup(&have, &c->g);
        strcpy(out->referrer, have.referrer);
        *c->why = "customer_id: the customer signed up before with other details";
        return out->replayed ? 0 : -EEXIST;
    }
    if (rc != -ENOENT)
        return rc;
    strcpy(c->g.referrer, out->referrer);
    if ((rc = rstore_sign_put(tx, out->customer_id, &c->g)) || (rc = rstore_fp_put(tx, &c->g, out->customer_id)))
        return rc;
    if ((rc = code_put(tx, out->customer_id)) == -EEXIST)
        *c->why = "customer_id: its referral code collides with another customer's";
    if (rc == 0 && c->code_owner[0] && (rc = code_put(tx, c->code_owner)) == -EEXIST)
        rc = 0; /* the owner was found by walking; another id holds the row */
    if (rc == 0 && out->referrer[0])
        rc = store_tx_put(tx, T_FRIEND, fkey, rstore_friend_key(out->referrer, out->customer_id, fkey),
                          out->customer_id, strlen(out->customer_id));
    return rc;
}

static const char *signup_invalid(const referral_signup_t *in)
{
    const char *fp[N_KINDS] = { in->device, in->address, in->payment };
    static const char *const fp_why[N_KINDS] = {
        "device_id: at most 128 bytes, no NUL or control characters",
        "address_id: at most 128 bytes, no NUL or control characters",
        "payment_fingerprint: at most 128 bytes, no NUL or control characters",
    };
    if (!in->customer_id || !id_check(in->customer_id, STORE_MAX_ID, 0))
        return "customer_id: 1..256 bytes required";
    if (in->time_ms <= 0)
        return "time_unix_ms: must be > 0";
    for (int k = 0; k < N_KINDS; k++)
        if (fp[k] && fp[k][0] && !id_check(fp[k], REFERRAL_FINGERPRINT_MAX, ID_PRINTABLE))
            return fp_why[k];
    return NULL;
}

int referral_store_signup(store_t *s, const referral_signup_t *in, int64_t recorded_ms,
                          referral_signup_result_t *out, const char **why)
{
    char owner[STORE_MAX_ID + 1] = "";
    signup_ctx_t c = { .in = in, .code_owner = owner, .out = out, .why = why };
    const char *fp[N_KINDS] = { in->device, in->address, in->payment };
    int rc;

    memset(out, 0, sizeof *out);
    *why = NULL;
    if ((*why = signup_invalid(in)) != NULL)
        return -EINVAL;
    c.g.time_ms = in->time_ms;
    c.g.recorded_ms = recorded_ms;
    for (int k = 0; k < N_KINDS; k++)
        if (fp[k])
            strcpy(c.g.fp[k], fp[k]);
    if (in->code && in->code[0]) {
        if (referral_code_normalize(in->code, c.g.code)) {
            *why = "referral_code: expected 10 characters of Crockford base32 (0-9, A-Z without "
                   "I, L, O, U)";
            return -EINVAL;
        }
        if ((rc = code_lookup(s, c.g.code, owner)) == -ENOENT)
            rc = code_walk(s, c.g.code, owner);
        if (rc == -ENOENT)
            *why = "referral_code: unknown referral code (no customer has it)";
        if (rc)
            return rc;
    }
    return store_table_atomic(s, signup_tx, &c);
}

/* ---- what referrals pay ---------------------------------------------------------- */

/* One customer's events with their ids (ids in one buffer). */
typedef struct history {
    store_event_rec_t *ev;
    size_t *id_at;
    size_t n, cap;
    char *text;
    size_t len, cap_text;
} history_t;

static int push_event(void *ctx, const store_event_rec_t *ev, const char *id, size_t len)
{
    history_t *h = ctx;
    if (grow_parallel(&h->cap, h->n + 1, 2, (void *const[]){ &h->ev, &h->id_at },
                      (const size_t[]){ sizeof *h->ev, sizeof *h->id_at }) ||
        GROW(h->text, h->cap_text, h->len + len + 1))
        return -ENOMEM;
    memcpy(h->text + h->len, id, len);
    h->text[h->len + len] = '\0';
    h->ev[h->n] = *ev;
    h->id_at[h->n++] = h->len;
    h->len += len + 1;
    return 0;
}

static void history_free(history_t *h)
{
    free(h->ev);
    free(h->id_at);
    free(h->text);
    memset(h, 0, sizeof *h);
}

static int history_load(store_t *s, const char *id, history_t *h)
{
    uint32_t idx;
    int rc = store_customer_index(s, id, &idx);
    if (rc == -ENOENT)
        return 0;
    return rc ? rc : store_customer_events_ids(s, idx, push_event, h);
}

/* Visits the accounts on one fingerprint: how many, and whether one came
 * before `who` (earlier signup, or the same time and a smaller id). */
typedef struct fp_scan {
    size_t plen;
    const char *who;
    int64_t time_ms;
    uint32_t accounts;
    int earlier;
} fp_scan_t;

static int fp_visit(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    fp_scan_t *f = ctx;
    const char *id = (const char *)key + f->plen;
    size_t n = klen - f->plen, wl = strlen(f->who);
    int64_t t;
    int cmp;
    if (vlen != 8)
        return 0;
    t = (int64_t)get_be64(val);
    f->accounts++;
    if (n == wl && memcmp(id, f->who, n) == 0)
        return 0;
    cmp = memcmp(id, f->who, n < wl ? n : wl);
    if (t < f->time_ms || (t == f->time_ms && (cmp < 0 || (cmp == 0 && n < wl))))
        f->earlier = 1;
    return 0;
}

/* Over g's fingerprints: the most accounts on one, and whether another
 * account was on one first. */
static int fp_standing(store_t *s, const signup_t *g, const char *who, uint32_t *accounts,
                       int *earlier)
{
    char key[FP_KEY_MAX];
    *accounts = 0;
    *earlier = 0;
    for (int k = 0; k < N_KINDS; k++) {
        fp_scan_t f = { .who = who, .time_ms = g->time_ms };
        int rc;
        if (!g->fp[k][0])
            continue;
        f.plen = rstore_fp_key(k, g->fp[k], NULL, key);
        if ((rc = store_table_scan(s, T_FP, key, f.plen, fp_visit, &f)) != 0)
            return rc;
        if (f.accounts > *accounts)
            *accounts = f.accounts;
        *earlier |= f.earlier;
    }
    return 0;
}

static int share_fingerprint(const signup_t *a, const signup_t *b)
{
    for (int k = 0; k < N_KINDS; k++)
        if (a->fp[k][0] && strcmp(a->fp[k], b->fp[k]) == 0)
            return 1;
    return 0;
}

/* The friends of a referrer. */
typedef struct friends {
    char (*id)[STORE_MAX_ID + 1];
    size_t n, cap;
} friends_t;

static int friend_visit(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    friends_t *f = ctx;
    (void)key, (void)klen;
    if (vlen == 0 || vlen > STORE_MAX_ID)
        return 0;
    if (GROW(f->id, f->cap, f->n + 1))
        return -ENOMEM;
    memcpy(f->id[f->n], val, vlen);
    f->id[f->n++][vlen] = '\0';
    return 0;
}

/* One referral as the allocation needs it, with the order it rests on. */
typedef struct referral {
    referral_candidate_t c;
    char source[STORE_MAX_ID * 2 + 16];
} referral_t;

/* Everything about friend f of referrer (with its signup rg, or NULL). */
static int judge_friend(store_t *s, const referral_config_t *cfg, const char *referrer,
                        const signup_t *rg, const char *f, int64_t now_ms, referral_t *out)
{
    char who[STORE_MAX_ID + 1];
    signup_t g;
    history_t h = { 0 };
    uint32_t accounts;
    size_t order;
    int rc;

    if ((rc = store_resolve_customer(s, f, who)) < 0)
        return rc;
    out->c.friend_id = f;
    out->c.self = strcmp(who, referrer) == 0;
    if ((rc = rstore_sign_get(s, who, &g)) == 0) {
        rc = fp_standing(s, &g, who, &accounts, &out->c.ring);
        out->c.ring |= rg && share_fingerprint(&g, rg);
    } else if (rc == -ENOENT) {
        rc = 0;
    }
    if (rc == 0)
        rc = history_load(s, who, &h);
    if (rc == 0 && (out->c.reward_ms = referral_qualifying_order(h.ev, h.n, cfg->window_days,
                                                                 now_ms, &order)) != 0)
        snprintf(out->source, sizeof out->source, "referral:%s:%s", f, h.text + h.id_at[order]);
    history_free(&h);
    return rc;
}

/* The allocation of referrer's referrals (*out, *n; free *out and *fr). */
static int allocate(store_t *s, const referral_config_t *cfg, const char *referrer,
                    int64_t now_ms, friends_t *fr, referral_t **out)
{
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t plen = strlen(referrer) + 1;
    signup_t rg;
    int rc, has_rg;
    referral_candidate_t *cand;

    *out = NULL;
    memcpy(prefix, referrer, plen);
    if ((rc = store_table_scan(s, T_FRIEND, prefix, plen, friend_visit, fr)) != 0)
        return rc;
    if ((rc = rstore_sign_get(s, referrer, &rg)) != 0 && rc != -ENOENT)
        return rc;
    has_rg = rc == 0;
    if (!(*out = calloc(fr->n ? fr->n : 1, sizeof **out)))
        return -ENOMEM;
    for (size_t i = 0; i < fr->n; i++)
        if ((rc = judge_friend(s, cfg, referrer, has_rg ? &rg : NULL, fr->id[i], now_ms,
                               &(*out)[i])) != 0)
            return rc;
    /* allocate on a copy of the candidates, then carry the states back */
    if (!(cand = calloc(fr->n ? fr->n : 1, sizeof *cand)))
        return -ENOMEM;
    for (size_t i = 0; i < fr->n; i++)
        cand[i] = (*out)[i].c;
    referral_allocate(cand, fr->n, cfg);
    for (size_t i = 0; i < fr->n; i++)
        for (size_t j = 0; j < fr->n; j++)
            if (cand[j].friend_id == (*out)[i].c.friend_id)
                (*out)[i].c.state = cand[j].state;
    free(cand);
    return 0;
}

static int add_bonus(referral_view_t *v, const char *source, int64_t points, int64_t t)
{
    char *copy;
    if (points <= 0)
        return 0;
    if (GROW(v->bonus, v->cap_bonus, v->n_bonus + 1) || !(copy = strdup(source)))
        return -ENOMEM;
    v->bonus[v->n_bonus++] = (points_bonus_t){ .source = copy, .points = points, .time_ms = t };
    return 0;
}

/* As referrer: counts per state, and the referrer's side of what is paid. */
static int view_as_referrer(store_t *s, const referral_config_t *cfg, const char *id,
                            int64_t now_ms, referral_view_t *v)
{
    friends_t fr = { 0 };
    referral_t *r = NULL;
    int rc = allocate(s, cfg, id, now_ms, &fr, &r);
    for (size_t i = 0; rc == 0 && i < fr.n; i++) {
        v->friends++;
        v->by_state[r[i].c.state]++;
        if (r[i].c.state == REFERRAL_PAID && cfg->enabled)
            rc = add_bonus(v, r[i].source, cfg->referrer_points, r[i].c.reward_ms);
    }
    free(r);
    free(fr.id);
    return rc;
}

/* As friend: the state of its own referral among its referrer's. */
static int view_as_friend(store_t *s, const referral_config_t *cfg, const char *id,
                          int64_t now_ms, referral_view_t *v)
{
    char referrer[STORE_MAX_ID + 1];
    friends_t fr = { 0 };
    referral_t *r = NULL;
    int rc;
    if ((rc = store_resolve_customer(s, v->referrer, referrer)) < 0)
        return rc;
    rc = allocate(s, cfg, referrer, now_ms, &fr, &r);
    for (size_t i = 0; rc == 0 && i < fr.n; i++) {
        char who[STORE_MAX_ID + 1];
        if ((rc = store_resolve_customer(s, fr.id[i], who)) < 0)
            break;
        rc = 0;
        if (strcmp(who, id) != 0)
            continue;
        v->state = r[i].c.state;
        v->reward_ms = r[i].c.state == REFERRAL_PAID ? r[i].c.reward_ms : 0;
        if (v->reward_ms && cfg->enabled)
            rc = add_bonus(v, r[i].source, cfg->friend_points, r[i].c.reward_ms);
        break;
    }
    free(r);
    free(fr.id);
    return rc;
}

int referral_store_view(store_t *s, const referral_config_t *cfg, const char *customer_id,
                        int64_t now_ms, referral_view_t *out)
{
    signup_t g;
    int rc;

    memset(out, 0, sizeof *out);
    if (!s || !cfg || !customer_id)
        return -EINVAL;
    referral_code_of(customer_id, out->code);
    if ((rc = rstore_sign_get(s, customer_id, &g)) == 0) {
        out->signed_up = 1;
        out->signup_ms = g.time_ms;
        strcpy(out->referrer, g.referrer);
        rc = fp_standing(s, &g, customer_id, &out->accounts_on_fingerprint,
                         &out->shared_fingerprint);
        if (rc == 0 && g.referrer[0])
            rc = view_as_friend(s, cfg, customer_id, now_ms, out);
    } else if (rc == -ENOENT) {
        rc = 0;
    }
    return rc ? rc : view_as_referrer(s, cfg, customer_id, now_ms, out);
}

void referral_view_free(referral_view_t *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_bonus; i++)
        free((char *)v->bonus[i].source);
    free(v->bonus);
    memset(v, 0, sizeof *v);
}
