/*
 * trigger_rules.c - which rules fire for one customer at now (see
 * trigger_rules.h for each kind's condition, moment and key). One function
 * per kind, each appending at most the firings of its rule through emit(),
 * which drops firings not yet due or older than the horizon.
 */
#include "trigger_rules.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"

typedef struct sink {
    const profile_config_t *cfg;
    const trigger_input_t *in;
    trigger_fire_t *out;
    size_t cap, n;
} sink_t;

/* Appends a firing of rule r at time t when due (t <= now) and still
 * current: its condition held until `until`, no more than the horizon
 * before now. Returns it to fill in items, or NULL. */
static trigger_fire_t *emit_until(sink_t *s, size_t r, int64_t t, int64_t until,
                                  const char *key, const char *reason)
{
    int64_t horizon = (int64_t)s->cfg->triggers.horizon_days * CIVIL_DAY_MS;
    trigger_fire_t *f;

    if (t > s->in->now_ms || until < s->in->now_ms - horizon || s->n == s->cap)
        return NULL;
    f = &s->out[s->n++];
    memset(f, 0, sizeof *f);
    f->rule = (uint32_t)r;
    f->time_ms = t;
    snprintf(f->key, sizeof f->key, "%s", key);
    snprintf(f->reason, sizeof f->reason, "%s", reason);
    return f;
}

/* A firing whose moment is also when it stops being news. */
static trigger_fire_t *emit(sink_t *s, size_t r, int64_t t, const char *key,
                            const char *reason)
{
    return emit_until(s, r, t, t, key, reason);
}

static void add_item(trigger_fire_t *f, uint32_t item)
{
    for (size_t i = 0; i < f->n_items; i++)
        if (f->items[i] == item)
            return;
    if (f->n_items < TRIGGER_MAX_ITEMS && item != STORE_NO_ITEM)
        f->items[f->n_items++] = item;
}

/* Events at or before now: in->ev[0 .. seen(in)). */
static size_t seen(const trigger_input_t *in)
{
    size_t n = in->n;
    while (n > 0 && in->ev[n - 1].time_ms > in->now_ms)
        n--;
    return n;
}

static void cart_abandoned(sink_t *s, size_t r)
{
    const trigger_input_t *in = s->in;
    size_t n = seen(in), first = n;
    int64_t bought = 0, last = 0;
    char key[TRIGGER_KEY_MAX], why[TRIGGER_REASON_MAX];
    trigger_fire_t *f;

    for (size_t i = 0; i < n; i++)
        if (in->ev[i].type == STORE_EVENT_PURCHASE && in->ev[i].time_ms > bought)
            bought = in->ev[i].time_ms;
    for (size_t i = 0; i < n; i++)
        if (in->ev[i].type == STORE_EVENT_CART && in->ev[i].time_ms > bought) {
            if (first == n)
                first = i;
            last = in->ev[i].time_ms > last ? in->ev[i].time_ms : last;
        }
    if (first == n)
        return;
    snprintf(key, sizeof key, "%lld", (long long)in->ev[first].time_ms);
    snprintf(why, sizeof why, "cart left for %.4g hours without a purchase",
             (double)s->cfg->triggers.rules[r].arg_ms / 3600000.0);
    if (!(f = emit(s, r, last + s->cfg->triggers.rules[r].arg_ms, key, why)))
        return;
    for (size_t i = n; i-- > first;)
        if (in->ev[i].type == STORE_EVENT_CART)
            add_item(f, in->ev[i].item);
}

/* The moment the idle time since the last order crossed factor x rhythm
 * (profile.h's stage rule; a one-order customer stays NEW for new_days). */
static int64_t stage_moment(const profile_config_t *cfg, const profile_t *p, double factor)
{
    int64_t t = p->last_order_ms +
                (int64_t)ceil(p->rhythm_days * factor * (double)CIVIL_DAY_MS);
    if (p->orders == 1) {
        int64_t until_new = p->last_order_ms + (int64_t)cfg->new_days * CIVIL_DAY_MS;
        t = until_new > t ? until_new : t;
    }
    return t;
}

static void stage_rule(sink_t *s, size_t r, trigger_kind_t kind)
{
    const profile_t *p = s->in->p;
    char key[TRIGGER_KEY_MAX], why[TRIGGER_REASON_MAX];

    if (kind == TRIGGER_WON_BACK) {
        if (p->stage != PROFILE_STAGE_WON_BACK)
            return;
        snprintf(key, sizeof key, "%lld", (long long)p->comeback_ms);
        emit(s, r, p->comeback_ms, key, "came back after a lapse (stage won_back)");
        return;
    }
    if (p->stage != (kind == TRIGGER_AT_RISK ? PROFILE_STAGE_AT_RISK : PROFILE_STAGE_LAPSED))
        return;
    snprintf(key, sizeof key, "%lld", (long long)p->last_order_ms);
    snprintf(why, sizeof why, "stage %s: no order for %.0f days (rhythm %.1f days)",
             kind == TRIGGER_AT_RISK ? "at_risk" : "lapsed", p->recency_days, p->rhythm_days);
    emit(s, r, stage_moment(s->cfg, p,
                            kind == TRIGGER_AT_RISK ? s->cfg->at_risk_factor
                                                    : s->cfg->lapse_factor),
         key, why);
}

static void tier_rule(sink_t *s, size_t r, trigger_kind_t kind)
{
    const trigger_input_t *in = s->in;
    int from = in->prev.tier, to = in->p->tier;
    char key[TRIGGER_KEY_MAX], why[TRIGGER_REASON_MAX];

    if (!in->prev.known || from == to || (kind == TRIGGER_TIER_UP) != (to > from))
        return;
    snprintf(key, sizeof key, "%d>%d@%lld", from, to, (long long)in->now_ms);
    snprintf(why, sizeof why, "tier %s from %s to %s", to > from ? "up" : "down",
             from >= 0 ? profile_tier_name(s->cfg, from) : "none",
             to >= 0 ? profile_tier_name(s->cfg, to) : "none");
    emit(s, r, in->now_ms, key, why);
}

/* The day number of month/day in year y (29 Feb -> 28 Feb off leap years). */
static int64_t day_in_year(int64_t y, unsigned m, unsigned d)
{
    unsigned dim = civil_days_in_month(y, m);
    return civil_to_days(y, m, d < dim ? d : dim);
}

/* A yearly date (month m, day d) at most arg days ahead of today: fires at
 * 00:00 UTC arg days before it, from year min_year on. */
static void yearly(sink_t *s, size_t r, unsigned m, unsigned d, int64_t min_year,
                   const char *what)
{
    int64_t today = civil_day_of_ms(s->in->now_ms), y, date, ahead_days;
    unsigned tm, td;
    char key[TRIGGER_KEY_MAX], why[TRIGGER_REASON_MAX];

    if (m < 1 || m > 12 || d < 1 || d > 31)
        return;
    civil_from_days(today, &y, &tm, &td);
    date = day_in_year(y, m, d);
    if (date < today)
        date = day_in_year(++y, m, d);
    if (y < min_year)
        return;
    ahead_days = s->cfg->triggers.rules[r].arg_ms / CIVIL_DAY_MS;
    snprintf(key, sizeof key, "%lld", (long long)y);
    snprintf(why, sizeof why, "%s on %04lld-%02u-%02u, in %lld days", what, (long long)y,
             m, d > civil_days_in_month(y, m) ? civil_days_in_month(y, m) : d,
             (long long)(date - today));
    /* Current until the day is over. */
    emit_until(s, r, (date - ahead_days) * CIVIL_DAY_MS, (date + 1) * CIVIL_DAY_MS, key, why);
}

static void birthday(sink_t *s, size_t r)
{
    const store_attrs_t *a = s->in->attrs;
    if (a && a->birth_month && a->birth_day)
        yearly(s, r, a->birth_month, a->birth_day, INT64_MIN, "birthday");
}

static void anniversary(sink_t *s, size_t r)
{
    const store_attrs_t *a = s->in->attrs;
    int64_t y;
    unsigned m, d;
    if (!a || a->signup_ms <= 0)
        return;
    civil_from_days(civil_day_of_ms(a->signup_ms), &y, &m, &d);
    yearly(s, r, m, d, y + 1, "signup anniversary");
}

static void first_purchase(sink_t *s, size_t r)
{
    if (s->in->p->orders >= 1)
        emit(s, r, s->in->p->first_purchase_ms, "1", "first order");
}

/* The latest view or cart of item i at or before now, and whether a
 * purchase of it followed. */
static int64_t last_look(const trigger_input_t *in, size_t n, uint32_t item, int *bought)
{
    int64_t look = 0;
    *bought = 0;
    for (size_t i = 0; i < n; i++) {
        const store_event_rec_t *e = &in->ev[i];
        if (e->item != item)
            continue;
        if (e->type == STORE_EVENT_VIEW || e->type == STORE_EVENT_CART)
            look = e->time_ms, *bought = 0;
        else if (e->type == STORE_EVENT_PURCHASE && look)
            *bought = 1;
    }
    return look;
}

static void price_drop(sink_t *s, size_t r)
{
    const trigger_input_t *in = s->in;
    size_t n = seen(in);
    int64_t since = in->now_ms - s->cfg->triggers.rules[r].arg_ms;
    char key[TRIGGER_KEY_MAX], why[TRIGGER_REASON_MAX];

    if (!in->drop)
        return;
    for (size_t i = n; i-- > 0;) {
        const store_event_rec_t *e = &in->ev[i];
        trigger_price_drop_t d;
        trigger_fire_t *f;
        int bought, dup = 0;
        int64_t look;

        if (e->time_ms < since)
            break;
        if ((e->type != STORE_EVENT_VIEW && e->type != STORE_EVENT_CART) ||
            e->item == STORE_NO_ITEM)
            continue;
        for (size_t j = i + 1; j < n && !dup; j++)
            dup = in->ev[j].item == e->item;
        look = last_look(in, n, e->item, &bought);
        if (dup || bought || !in->drop(in->drop_ctx, e->item, &d) || d.time_ms <= look ||
            !(d.new_price < d.old_price))
            continue;
        snprintf(key, sizeof key, "%lu@%lld", (unsigned long)e->item, (long long)d.time_ms);
        snprintf(why, sizeof why, "a viewed item's price fell from %.2f to %.2f",
                 d.old_price, d.new_price);
        if ((f = emit(s, r, d.time_ms, key, why)) != NULL)
            add_item(f, e->item);
    }
}

static void points_expiring(sink_t *s, size_t r)
{
    const trigger_input_t *in = s->in;
    int64_t ahead = s->cfg->triggers.rules[r].arg_ms;

    for (size_t i = 0; i < in->n_expiries;) {
        int64_t t = in->expiries[i].time_ms, since = 0, points = 0, y;
        unsigned m, d;
        char key[32], why[96];
        for (; i < in->n_expiries && in->expiries[i].time_ms == t; i++) {
            points += in->expiries[i].points;
            if (in->expiries[i].since_ms > since)
                since = in->expiries[i].since_ms;
        }
        if (t <= in->now_ms || t - ahead > in->now_ms || points <= 0)
            continue;
        civil_from_days(civil_day_of_ms(t), &y, &m, &d);
        snprintf(key, sizeof key, "%lld", (long long)t);
        snprintf(why, sizeof why, "%lld points expire on %04lld-%02u-%02u", (long long)points,
                 (long long)y, m, d);
        emit_until(s, r, t - ahead > since ? t - ahead : since, t, key, why);
    }
}

int trigger_evaluate(const profile_config_t *cfg, const trigger_input_t *in,
                     trigger_fire_t *out, size_t cap, size_t *n,
                     trigger_state_t *next)
{
    sink_t s = { cfg, in, out, cap, 0 };

    if (!cfg || !in || !in->p || (in->n && !in->ev) || (in->n_expiries && !in->expiries) ||
        (cap && !out) || !n || !next)
        return -EINVAL;
    for (size_t r = 0; r < cfg->triggers.n_rules; r++) {
        trigger_kind_t kind = cfg->triggers.rules[r].kind;
        switch (kind) {
        case TRIGGER_CART_ABANDONED: cart_abandoned(&s, r); break;
        case TRIGGER_AT_RISK:
        case TRIGGER_LAPSED:
        case TRIGGER_WON_BACK: stage_rule(&s, r, kind); break;
        case TRIGGER_TIER_UP:
        case TRIGGER_TIER_DOWN: tier_rule(&s, r, kind); break;
        case TRIGGER_BIRTHDAY: birthday(&s, r); break;
        case TRIGGER_ANNIVERSARY: anniversary(&s, r); break;
        case TRIGGER_FIRST_PURCHASE: first_purchase(&s, r); break;
        case TRIGGER_PRICE_DROP: price_drop(&s, r); break;
        case TRIGGER_POINTS_EXPIRING: points_expiring(&s, r); break;
        }
    }
    *n = s.n;
    next->known = 1;
    next->tier = in->p->tier;
    return 0;
}
