/*
 * triggers.c - evaluation into the durable trigger log, and the price drops
 * price_drop rules look up (triggers.h); reading the log, retention and the
 * custdata owner are triggers_log.c.
 *
 * One firing's path: its mark is looked up (done already: nothing to do);
 * the contact policy decides (deferred: nothing written; suppressed: the
 * mark is written with the reason); the
 * recommended items are computed outside any transaction; then one write
 * transaction re-checks the mark, makes the coupon decision and grant,
 * takes the next sequence number and writes the log row, the mark and the
 * counter. A tier firing also re-checks, in that transaction, that the
 * customer's stored state is still the one the evaluation started from.
 */
#include "triggers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigendian.h"
#include "hash.h"
#include "members.h"
#include "points_store.h"
#include "patron/store/v1/triggers.pb-c.h"
#include "recommend.h"
#include "serve_coupon.h"
#include "store_record.h"
#include "triggers_internal.h"

#define T_LOG TRIGGERS_T_LOG
#define T_MARK TRIGGERS_T_MARK
#define T_STATE TRIGGERS_T_STATE
#define T_DROP TRIGGERS_T_DROP

/* ---- keys ------------------------------------------------------------------------ */

/* customer NUL rule NUL key; returns its length, 0 if it does not fit. */
static size_t mark_key(char *buf, size_t cap, const char *customer, const char *rule,
                       const char *key)
{
    size_t a = strlen(customer), b = strlen(rule), c = strlen(key);
    if (a + b + c + 2 > cap || a + b + c + 2 > STORE_MAX_TABLE_KEY)
        return 0;
    memcpy(buf, customer, a + 1);
    memcpy(buf + a + 1, rule, b + 1);
    memcpy(buf + a + b + 2, key, c);
    return a + b + c + 2;
}

/* ---- one firing ------------------------------------------------------------------ */

typedef struct firing {
    const triggers_env_t *env;
    const customer_view_t *v;
    const trigger_rule_t *rule;
    const trigger_fire_t *f;
    const trigger_input_t *in;     /* the state it started from */
    const trigger_state_t *next;   /* ... and the one to store with it */
    int64_t now_ms;
    char mkey[STORE_MAX_TABLE_KEY];
    size_t mlen;
    char *recommended[TRIGGER_MAX_RECOMMEND_K];
    size_t n_recommended;
    const char *suppressed;        /* set: write the mark only */
    int channel;                   /* chosen by the policy; -1 none applied */
    uint64_t seq;                  /* out: the logged seq, 0 none */
} firing_t;

static int is_tier(trigger_kind_t k)
{
    return k == TRIGGER_TIER_UP || k == TRIGGER_TIER_DOWN;
}

static int mark_exists_tx(store_tx_t *tx, const firing_t *g)
{
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, T_MARK, g->mkey, g->mlen, &val, &vlen);
    return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

static int put_state_tx(store_tx_t *tx, const char *customer, const trigger_state_t *st)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = triggers_state_encode(st, &buf, &len);
    if (rc == 0)
        rc = store_tx_put(tx, T_STATE, customer, strlen(customer), buf, len);
    free(buf);
    return rc;
}

static int get_state_tx(store_tx_t *tx, const char *customer, trigger_state_t *st)
{
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, T_STATE, customer, strlen(customer), &val, &vlen);
    memset(st, 0, sizeof *st);
    if (rc == -ENOENT)
        return 0;
    return rc ? rc : triggers_state_decode(customer, strlen(customer), val, vlen, st);
}

/* The firing id: "trg-" and 16 hex digits (the coupon request id, the
 * contact's message id). */
static void firing_id(const firing_t *g, char out[TRIGGERS_FIRING_ID_MAX])
{
    uint64_t h = fnv1a64_update(fnv1a64_str("patron.trigger"), g->mkey, g->mlen);
    snprintf(out, TRIGGERS_FIRING_ID_MAX, "trg-%016llx", (unsigned long long)h);
}

static int decide_coupon_tx(store_tx_t *tx, const firing_t *g, const char *rid,
                            couponstore_offer_t *offer, int *decided)
{
    coupon_customer_t cust;
    couponstore_target_t t;
    int replayed = 0;

    *decided = 0;
    if (!g->env->n_coupons)
        return 0;
    serve_coupon_customer(g->v, &cust);
    memset(&t, 0, sizeof t);
    t.request_id = rid;
    t.cust = &cust;
    t.catalog = g->env->coupons;
    t.n = g->env->n_coupons;
    t.cfg = g->env->coupon_cfg;
    t.now_ms = g->now_ms;
    *decided = 1;
    return couponstore_target_tx(tx, &t, offer, &replayed);
}

static int write_log_tx(store_tx_t *tx, firing_t *g, uint64_t seq)
{
    Patron__Store__V1__TriggerRecord r = PATRON__STORE__V1__TRIGGER_RECORD__INIT;
    const catalog_t *cat = g->env->cust->cat;
    char *items[TRIGGER_MAX_ITEMS], rid[TRIGGERS_FIRING_ID_MAX];
    couponstore_offer_t offer;
    unsigned char key[8];
    int decided, rc;

    firing_id(g, rid);
    if ((rc = decide_coupon_tx(tx, g, rid, &offer, &decided)) != 0)
        return rc;
    r.seq = seq;
    r.customer_id = (char *)g->v->customer_id;
    r.rule = (char *)g->rule->name;
    r.kind = (uint32_t)g->rule->kind;
    r.time_ms = g->f->time_ms;
    r.fired_ms = g->now_ms;
    r.reason = (char *)g->f->reason;
    r.key = (char *)g->f->key;
    for (size_t i = 0; i < g->f->n_items; i++)
        if (cat && g->f->items[i] < cat->n_items && cat->ids[g->f->items[i]][0])
            items[r.n_items++] = cat->ids[g->f->items[i]];
    r.items = items;
    r.n_recommended = g->n_recommended;
    r.recommended = g->recommended;
    r.coupon_outcome = -1;
    if (decided) {
        r.coupon_request_id = rid;
        r.coupon_id = offer.coupon_id;
        r.coupon_campaign = offer.campaign;
        r.coupon_outcome = offer.outcome;
        r.coupon_reason = offer.reason;
    }
    if (g->channel >= 0) {
        contactstore_contact_t c = { rid, g->now_ms, g->now_ms, g->channel, CONTACT_TRIGGER };
        r.channel = (uint32_t)g->channel + 1;
        r.message_id = rid;
        if ((rc = contactstore_tx_record(tx, g->v->customer_id, &c, NULL)) != 0)
            return rc;
    }
    put_be64(key, seq);
    return store_tx_put_record(tx, T_LOG, key, sizeof key, &r.base);
}

static int commit_firing_tx(store_tx_t *tx, void *ctx)
{
    firing_t *g = ctx;
    Patron__Store__V1__TriggerMark mark = PATRON__STORE__V1__TRIGGER_MARK__INIT;
    uint64_t next = 0;
    int rc;

    g->seq = 0;
    if ((rc = mark_exists_tx(tx, g)) != 0)
        return rc < 0 ? rc : 0;
    if (is_tier(g->rule->kind)) {
        trigger_state_t st;
        if ((rc = get_state_tx(tx, g->v->customer_id, &st)) != 0)
            return rc;
        if (st.known != g->in->prev.known || st.tier != g->in->prev.tier)
            return 0; /* another evaluation saw this change */
        if ((rc = put_state_tx(tx, g->v->customer_id, g->next)) != 0)
            return rc;
    }
    mark.time_ms = g->f->time_ms;
    if (g->suppressed) {
        mark.suppressed = (char *)g->suppressed;
        return store_tx_put_record(tx, T_MARK, g->mkey, g->mlen, &mark.base);
    }
    if ((rc = triggers_next_seq_tx(tx, &next)) != 0 || (rc = write_log_tx(tx, g, next)) != 0)
        return rc;
    mark.seq = next;
    if ((rc = store_tx_put_record(tx, T_MARK, g->mkey, g->mlen, &mark.base)) != 0)
        return rc;
    if ((rc = triggers_set_next_seq_tx(tx, next + 1)) != 0)
        return rc;
    g->seq = next;
    return 0;
}

/* The items Recommend would list for the customer now, less the trigger's
 * own items (none without a model or catalog, or when it fails: a trigger
 * is still worth sending). */
static void recommend_items(firing_t *g)
{
    const triggers_env_t *env = g->env;
    const catalog_t *cat = env->cust->cat;
    uint32_t k = env->cust->cfg->triggers.recommend_k;
    rec_item_t out[TRIGGER_MAX_RECOMMEND_K];
    rec_access_t access;
    rec_query_t q;
    size_t n = 0;
    int personalized;

    g->n_recommended = 0;
    if (!env->model || !cat || k == 0)
        return;
    memset(&q, 0, sizeof q);
    q.customer_id = g->v->customer_id;
    q.k = k;
    q.now_ms = g->now_ms;
    q.deny_items = g->f->items; /* the message names those already */
    q.n_deny_items = g->f->n_items;
    /* members-only and early-access items as Recommend gates them, by the
     * tier the view already computed */
    members_access_for_tier(env->cust->cfg, g->v->p.tier, g->now_ms, &access);
    q.access = &access;
    if (rec_recommend(env->cust->store, env->model, cat, &q, out, &n, &personalized) != 0)
        return;
    for (size_t i = 0; i < n && i < TRIGGER_MAX_RECOMMEND_K; i++)
        if (out[i].item < cat->n_items && cat->ids[out[i].item][0])
            g->recommended[g->n_recommended++] = cat->ids[out[i].item];
}

static int mark_done(store_t *s, const firing_t *g)
{
    void *val = NULL;
    size_t vlen;
    int rc = store_table_get(s, T_MARK, g->mkey, g->mlen, &val, &vlen);
    free(val);
    return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

typedef enum gate { GATE_DELIVER, GATE_DEFER, GATE_SUPPRESS } gate_t;

/* The contact policy's verdict on g now: the channel goes to g->channel;
 * a suppression's reason to why. Returns a gate_t or a negative errno. */
static int policy_gate(firing_t *g, char *why, size_t cap)
{
    const triggers_env_t *env = g->env;
    int64_t max_delay = (int64_t)env->cust->cfg->triggers.max_delay_hours * 3600000;
    contact_decision_t d;
    int ch = -1;
    int rc = contactstore_choose(env->contact, g->v->customer_id, CONTACT_TRIGGER, g->now_ms,
                                 &ch, &d);
    if (rc)
        return rc;
    if (d.allowed) {
        g->channel = ch;
        return GATE_DELIVER;
    }
    if (d.next_allowed_ms && d.next_allowed_ms <= g->f->time_ms + max_delay)
        return GATE_DEFER;
    snprintf(why, cap, "%s: %s", contact_verdict_name(d.verdict), d.reason);
    return GATE_SUPPRESS;
}

/* Handles one firing; *deferred gets 1 when the policy put it off. */
static int handle_firing(firing_t *g, triggers_result_t *res, int *deferred)
{
    const triggers_env_t *env = g->env;
    char why[256] = "";
    int rc;

    *deferred = 0;
    g->channel = -1;
    if (!(g->mlen = mark_key(g->mkey, sizeof g->mkey, g->v->customer_id, g->rule->name,
                             g->f->key)))
        return 0; /* an id too long to key: cannot be deduplicated, so not fired */
    if ((rc = mark_done(env->cust->store, g)) != 0)
        return rc < 0 ? rc : 0;
    if (env->contact) {
        if ((rc = policy_gate(g, why, sizeof why)) < 0)
            return rc;
        if (rc == GATE_DEFER) {
            res->deferred++;
            *deferred = 1;
            return 0;
        }
        if (rc == GATE_SUPPRESS)
            g->suppressed = why;
    }
    if (!g->suppressed)
        recommend_items(g);
    if ((rc = store_table_atomic(env->cust->store, commit_firing_tx, g)) != 0)
        return rc;
    if (g->seq) {
        res->logged++;
        res->last_seq = g->seq;
    } else if (g->suppressed) {
        res->suppressed++;
    }
    return 0;
}

/* ---- evaluation --------------------------------------------------------------------- */

typedef struct drop_ctx {
    store_t *store;
    const catalog_t *cat;
} drop_ctx_t;

static int lookup_drop(void *ctx, uint32_t item, trigger_price_drop_t *out)
{
    drop_ctx_t *d = ctx;
    const char *id;
    void *val = NULL;
    size_t vlen = 0;
    int rc;

    if (!d->cat || item >= d->cat->n_items || !(id = d->cat->ids[item])[0])
        return 0;
    rc = store_table_get(d->store, T_DROP, id, strlen(id), &val, &vlen);
    if (rc == 0)
        rc = triggers_drop_decode(id, strlen(id), val, vlen, out);
    free(val);
    return rc == 0; /* none, or unreadable: no drop to tell about */
}

typedef struct state_op {
    const char *customer;
    trigger_state_t st;
    int get;
} state_op_t;

static int state_tx(store_tx_t *tx, void *ctx)
{
    state_op_t *op = ctx;
    return op->get ? get_state_tx(tx, op->customer, &op->st)
                   : put_state_tx(tx, op->customer, &op->st);
}

static int fire_all(const triggers_env_t *env, const customer_view_t *v,
                    const trigger_input_t *in, int64_t now_ms, triggers_result_t *res)
{
    const profile_config_t *cfg = env->cust->cfg;
    trigger_fire_t fires[TRIGGER_MAX_FIRES];
    trigger_state_t next;
    state_op_t put;
    size_t n = 0;
    int tier_deferred = 0;
    int rc = trigger_evaluate(cfg, in, fires, TRIGGER_MAX_FIRES, &n, &next);

    for (size_t i = 0; i < n && rc == 0; i++) {
        firing_t g;
        int deferred = 0;
        memset(&g, 0, sizeof g);
        g.env = env;
        g.v = v;
        g.rule = &cfg->triggers.rules[fires[i].rule];
        g.f = &fires[i];
        g.in = in;
        g.next = &next;
        g.now_ms = now_ms;
        rc = handle_firing(&g, res, &deferred);
        tier_deferred |= deferred && is_tier(g.rule->kind);
    }
    /* A deferred tier change keeps the old state, so it is seen again. */
    if (rc || tier_deferred || (in->prev.known && in->prev.tier == next.tier))
        return rc;
    put = (state_op_t){ v->customer_id, next, 0 };
    return store_table_atomic(env->cust->store, state_tx, &put);
}

/* The longest points_expiring look-ahead of the rules, 0 without one. */
static int64_t expiry_lookahead(const trigger_config_t *tc)
{
    int64_t ahead = 0;
    for (size_t r = 0; r < tc->n_rules; r++)
        if (tc->rules[r].kind == TRIGGER_POINTS_EXPIRING && tc->rules[r].arg_ms > ahead)
            ahead = tc->rules[r].arg_ms;
    return ahead;
}

/* The customer's available points that expire within the longest
 * points_expiring look-ahead if nothing else happens: the expire rows
 * after now of the ledger derived as of now + that look-ahead. *out is
 * malloc'd (NULL when none). */
static int coming_expiries(const triggers_env_t *env, const char *customer_id, int64_t now_ms,
                           trigger_expiry_t **out, size_t *n)
{
    int64_t ahead = expiry_lookahead(&env->cust->cfg->triggers);
    points_store_view_t pv;
    size_t k = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!ahead)
        return 0;
    rc = points_store_ledger(env->cust->store, env->cust->cfg, env->cust->cat, customer_id,
                             now_ms + ahead, &pv);
    for (size_t i = 0; rc == 0 && i < pv.ledger.n; i++)
        k += pv.ledger.rows[i].reason == POINTS_EXPIRE && pv.ledger.rows[i].time_ms > now_ms;
    if (rc == 0 && k && !(*out = malloc(k * sizeof **out)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < pv.ledger.n; i++) {
        const points_row_t *row = &pv.ledger.rows[i];
        if (row->reason == POINTS_EXPIRE && row->time_ms > now_ms)
            (*out)[(*n)++] = (trigger_expiry_t){ row->time_ms, -row->delta, row->bucket_ms };
    }
    points_store_view_free(&pv);
    return rc;
}

int triggers_evaluate(const triggers_env_t *env, const char *customer_id, int64_t now_ms,
                      triggers_result_t *res)
{
    trigger_expiry_t *expiries = NULL;
    size_t n_expiries = 0;
    triggers_result_t ignored;
    store_event_list_t h = { 0 };
    customer_view_t *v;
    trigger_input_t in;
    drop_ctx_t drops;
    state_op_t get;
    int rc;

    if (!res)
        res = &ignored;
    memset(res, 0, sizeof *res);
    if (!env || !env->cust || !customer_id)
        return -EINVAL;
    if (env->cust->cfg->triggers.n_rules == 0)
        return 0;
    if (!(v = malloc(sizeof *v)))
        return -ENOMEM;
    rc = customers_view(env->cust, customer_id, now_ms, v);
    if (rc == -ENOENT) {
        free(v);
        return 0;
    }
    if (rc == 0 && v->has_events)
        rc = store_customer_events(env->cust->store, v->index, store_event_list_push, &h);
    get = (state_op_t){ customer_id, { 0, 0 }, 1 };
    if (rc == 0)
        rc = store_table_atomic(env->cust->store, state_tx, &get);
    if (rc == 0)
        rc = coming_expiries(env, customer_id, now_ms, &expiries, &n_expiries);
    if (rc == 0) {
        drops = (drop_ctx_t){ env->cust->store, env->cust->cat };
        in = (trigger_input_t){ h.ev, h.n, &v->p, v->has_attrs ? &v->attrs : NULL,
                                get.st, lookup_drop, &drops, now_ms, expiries, n_expiries };
        rc = fire_all(env, v, &in, now_ms, res);
    }
    free(expiries);
    store_event_list_free(&h);
    free(v);
    return rc;
}

/* ---- price drops ---------------------------------------------------------------------- */

typedef struct drops_op {
    const catalog_t *old;
    const store_item_t *items;
    size_t n;
    int64_t now_ms;
} drops_op_t;

static int note_prices_tx(store_tx_t *tx, void *ctx)
{
    drops_op_t *op = ctx;
    for (size_t i = 0; i < op->n; i++) {
        const store_item_t *it = &op->items[i];
        trigger_price_drop_t d;
        void *buf = NULL;
        size_t len = 0;
        uint32_t idx;
        int rc;
        if (catalog_item_index(op->old, it->item_id, &idx) != 0 ||
            !(it->price < op->old->price[idx]))
            continue;
        d = (trigger_price_drop_t){ op->now_ms, op->old->price[idx], it->price };
        if ((rc = triggers_drop_encode(&d, &buf, &len)) == 0)
            rc = store_tx_put(tx, T_DROP, it->item_id, strlen(it->item_id), buf, len);
        free(buf);
        if (rc)
            return rc;
    }
    return 0;
}

int triggers_note_prices(store_t *s, const catalog_t *old, const store_item_t *items,
                         size_t n, int64_t now_ms)
{
    drops_op_t op = { old, items, n, now_ms };
    if (!s || (n && !items))
        return -EINVAL;
    if (!old || n == 0)
        return 0;
    return store_table_atomic(s, note_prices_tx, &op);
}
