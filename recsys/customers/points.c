/*
 * points.c - the points ledger derived from a history (points.h).
 *
 * One pass in time order over the events and redemptions; between them,
 * the scheduled happenings (a lot vesting, a bucket expiring) are played
 * up to the next moment (advance). Lots are kept in earning order; the
 * buckets of available points are their indices in vesting order, which
 * is also expiry order (an expiry is a non-decreasing function of the
 * vesting date), so spending oldest first and expiring are walks from
 * the front.
 */
#include "points.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "grow.h"
#include "refund_match.h"

#define NONE SIZE_MAX
#define NEVER INT64_MAX
/* Slack for binary rounding, as profile_points_for: 0.29 x 100 gives 29. */
#define ROUNDING_SLACK 1e-6

__extension__ typedef __int128 wide_t;

static const char *const reason_names[POINTS_REASON_MAX + 1] = {
    [POINTS_EARN] = "earn",     [POINTS_VEST] = "vest",     [POINTS_CANCEL] = "cancel",
    [POINTS_ADJUST] = "adjust", [POINTS_EXPIRE] = "expire", [POINTS_REDEEM] = "redeem",
    [POINTS_MISSION] = "mission",
    [POINTS_REFERRAL] = "referral",
};

const char *points_reason_name(int reason)
{
    return reason >= POINTS_EARN && reason <= POINTS_REASON_MAX ? reason_names[reason] : NULL;
}

/* ---- rules ------------------------------------------------------------------- */

size_t points_rule_count(const profile_config_t *cfg)
{
    return cfg->points.n_rules ? cfg->points.n_rules : 1;
}

const points_rule_t *points_rule_at(const profile_config_t *cfg, size_t index,
                                    points_rule_t *tmp)
{
    if (cfg->points.n_rules)
        return &cfg->points.rules[index];
    memset(tmp, 0, sizeof *tmp);
    strcpy(tmp->name, "purchase");
    tmp->type = STORE_EVENT_PURCHASE;
    tmp->per_unit = cfg->points_per_unit;
    return tmp;
}

const char *points_rule_name(const profile_config_t *cfg, int index)
{
    if (index < 0 || (size_t)index >= points_rule_count(cfg))
        return "";
    return cfg->points.n_rules ? cfg->points.rules[index].name : "purchase";
}

static int tier_named(const profile_config_t *cfg, const char *name)
{
    for (size_t t = 0; t < cfg->n_tiers; t++)
        if (strcmp(cfg->tiers[t].name, name) == 0)
            return (int)t;
    return -1;
}

const char *points_rules_invalid(const profile_config_t *cfg, unsigned *line)
{
    for (size_t i = 0; i < cfg->points.n_rewards; i++) {
        const points_reward_t *w = &cfg->points.rewards[i];
        if (w->kind == POINTS_REWARD_TIER && tier_named(cfg, w->target) < 0) {
            *line = w->line;
            return "reward: tier: no tier of that name (tier lines define them)";
        }
    }
    for (size_t i = 0; i < cfg->points.n_rules; i++) {
        const points_rule_t *r = &cfg->points.rules[i];
        for (size_t m = 0; m < r->n_multipliers; m++) {
            if (tier_named(cfg, r->multipliers[m].tier) < 0) {
                *line = r->line;
                return "points_rule: multiplier: no tier of that name (tier lines define them)";
            }
        }
    }
    return NULL;
}

/* ---- the run ------------------------------------------------------------------ */

typedef struct lot {
    int64_t vest_ms, expire_ms;
    int64_t points;   /* earned */
    int64_t left;     /* pending (not vested) or available (vested) */
    int64_t taken;    /* given back to refunds so far */
    size_t ev;        /* the earning event (a manual lot: the next event; a
                         mission's: the completing one; a bonus: NONE) */
    const char *source; /* its rows' source: the event, adjustment or bonus
                           id, or the mission completion's source */
    int rule;
    int vested;
    int manual;       /* a manual adjustment's: no refund takes it back */
    int mission_no;   /* 1 + the index of the mission whose reward it is
                         (no refund takes it back); 0: none */
} lot_t;

typedef struct rule_state {
    int64_t day, day_sum, life_sum;
    uint64_t matched;  /* events the rule matched so far */
} rule_state_t;

typedef struct run {
    const points_history_t *h;
    const profile_config_t *cfg;
    points_ledger_t *l;
    lot_t *lots;
    size_t n_lots, cap_lots;
    size_t *avail;            /* vested lots in vesting (= expiry) order */
    size_t n_avail, cap_avail, head;
    size_t first_pending;     /* lots before it have all vested */
    int64_t debt;             /* redeemed beyond the buckets, paid by the next vests */
    int64_t *refunded;        /* [n] quantity of each purchase refunded so far */
    size_t refund_i;          /* the refund being matched (on_refund) */
    size_t next_done;         /* the next mission completion to pay */
    size_t n_rules;
    points_rule_t rules[POINTS_MAX_RULES];
    rule_state_t st[POINTS_MAX_RULES];
    int64_t vel_day, vel_day_sum;   /* points_guard velocity: this UTC day ... */
    int64_t vel_week, vel_week_sum; /* ... and week */
} run_t;

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static double amount(const store_event_rec_t *e)
{
    return (double)refund_quantity(e) * e->unit_price;
}

static int emit_note(run_t *r, int64_t t, points_reason_t why, int rule, const char *source,
                     const char *note, int64_t delta, int64_t pending_delta, int64_t bucket_ms)
{
    points_ledger_t *l = r->l;
    if (GROW(l->rows, l->cap, l->n + 1))
        return -ENOMEM;
    l->balance += delta;
    l->pending += pending_delta;
    l->rows[l->n++] = (points_row_t){ .time_ms = t, .reason = why, .rule = rule,
                                      .source = source, .note = note ? note : "",
                                      .delta = delta, .pending_delta = pending_delta,
                                      .balance = l->balance, .pending = l->pending,
                                      .bucket_ms = bucket_ms, .mission = -1 };
    return 0;
}

static int emit(run_t *r, int64_t t, points_reason_t why, int rule, const char *source,
                int64_t delta, int64_t pending_delta, int64_t bucket_ms)
{
    return emit_note(r, t, why, rule, source, NULL, delta, pending_delta, bucket_ms);
}

/* A row about a lot: its rule, source and bucket date, and its mission. */
static int emit_lot(run_t *r, int64_t t, points_reason_t why, const lot_t *lot, int64_t delta,
                    int64_t pending_delta)
{
    int rc = emit(r, t, why, lot->rule, lot->source, delta, pending_delta, lot->vest_ms);
    if (rc == 0)
        r->l->rows[r->l->n - 1].mission = lot->mission_no - 1;
    return rc;
}

/* When points vested at vest_ms expire (NEVER: they do not). */
static int64_t expiry_of(const points_config_t *pc, int64_t vest_ms)
{
    int64_t day = civil_day_of_ms(vest_ms), y, months;
    unsigned m, d, last;

    if (pc->expiry == POINTS_EXPIRY_NEVER)
        return NEVER;
    civil_from_days(day, &y, &m, &d);
    if (pc->expiry == POINTS_EXPIRY_YEAR_END)
        return civil_to_days(y + pc->expiry_n + 1, 1, 1) * CIVIL_DAY_MS;
    months = y * 12 + (m - 1) + pc->expiry_n;
    y = months / 12;
    m = (unsigned)(months % 12) + 1;
    last = civil_days_in_month(y, m);
    return civil_to_days(y, m, d < last ? d : last) * CIVIL_DAY_MS + (vest_ms - day * CIVIL_DAY_MS);
}

/* A lot joins the buckets; the debt of an overdrawn redemption comes off first. */
static int make_available(run_t *r, size_t i)
{
    lot_t *lot = &r->lots[i];
    int64_t pay = min64(r->debt, lot->left);
    if (GROW(r->avail, r->cap_avail, r->n_avail + 1))
        return -ENOMEM;
    r->avail[r->n_avail++] = i;
    lot->vested = 1;
    lot->left -= pay;
    r->debt -= pay;
    return 0;
}

/* Takes up to want points from the buckets: lot `first` (NONE: none)
 * first, then oldest first. Returns what it took. */
static int64_t take_available(run_t *r, int64_t want, size_t first)
{
    int64_t got = 0;
    if (first != NONE) {
        got = min64(want, r->lots[first].left);
        r->lots[first].left -= got;
    }
    for (size_t k = r->head; k < r->n_avail && got < want; k++) {
        lot_t *b = &r->lots[r->avail[k]];
        int64_t c = min64(want - got, b->left);
        b->left -= c;
        got += c;
    }
    return got;
}

static int vest(run_t *r, size_t i)
{
    lot_t *lot = &r->lots[i];
    int64_t v = lot->left;
    int rc = 0;
    if (v > 0)
        rc = emit_lot(r, lot->vest_ms, POINTS_VEST, lot, v, -v);
    return rc ? rc : make_available(r, i);
}

static int expire(run_t *r, size_t i)
{
    lot_t *lot = &r->lots[i];
    int64_t v = lot->left;
    lot->left = 0;
    r->l->expired += v;
    return emit_lot(r, lot->expire_ms, POINTS_EXPIRE, lot, -v, 0);
}

/* The pending lot vesting first (NONE: none). */
static size_t next_pending(run_t *r)
{
    size_t best = NONE;
    while (r->first_pending < r->n_lots && r->lots[r->first_pending].vested)
        r->first_pending++;
    for (size_t i = r->first_pending; i < r->n_lots; i++)
        if (!r->lots[i].vested && (best == NONE || r->lots[i].vest_ms < r->lots[best].vest_ms))
            best = i;
    return best;
}

/* The oldest bucket with points left (NONE: none). */
static size_t next_bucket(run_t *r)
{
    while (r->head < r->n_avail && r->lots[r->avail[r->head]].left == 0)
        r->head++;
    return r->head < r->n_avail ? r->avail[r->head] : NONE;
}

/* Plays vesting and expiry up to and including t. */
static int advance(run_t *r, int64_t t)
{
    for (;;) {
        size_t p = next_pending(r), b = next_bucket(r);
        int64_t tv = p != NONE ? r->lots[p].vest_ms : NEVER;
        int64_t te = b != NONE ? r->lots[b].expire_ms : NEVER;
        int rc;
        if (tv <= te && tv <= t && p != NONE)
            rc = vest(r, p);
        else if (te <= t && b != NONE)
            rc = expire(r, b);
        else
            return 0;
        if (rc)
            return rc;
    }
}

/* ---- earning ------------------------------------------------------------------ */

static int rule_matches(const run_t *r, size_t k, const store_event_rec_t *e)
{
    const points_rule_t *rule = &r->rules[k];
    const points_history_t *h = r->h;
    if (e->type != rule->type || amount(e) < rule->min_amount)
        return 0;
    if (rule->category[0]) {
        uint32_t want = h->rule_category ? h->rule_category[k] : POINTS_UNKNOWN_CATEGORY;
        if (want == POINTS_UNKNOWN_CATEGORY)
            return 0;
        if (want != POINTS_ANY_CATEGORY &&
            (!h->item_category || e->item >= h->n_items || h->item_category[e->item] != want))
            return 0;
    }
    return 1;
}

/* Whether any tier's multiplier can apply to rule: its own, or a tier
 * benefit's (tier_benefits points_multiplier). */
static int has_multipliers(const profile_config_t *cfg, const points_rule_t *rule)
{
    if (rule->n_multipliers)
        return 1;
    for (size_t t = 0; t < cfg->n_tiers; t++)
        if (cfg->tiers[t].benefits.points_multiplier > 0)
            return 1;
    return 0;
}

/* The multiplier for the tier held at the event: the rule's for that tier,
 * else the tier's benefit, else 1. */
static int multiplier(const run_t *r, const points_rule_t *rule, const store_event_rec_t *e,
                      double *out)
{
    int tier, rc;
    *out = 1.0;
    if (!has_multipliers(r->cfg, rule))
        return 0;
    if ((rc = profile_tier(r->h->ev, r->h->n, r->cfg, e->time_ms, &tier)) != 0 || tier < 0)
        return rc;
    if (r->cfg->tiers[tier].benefits.points_multiplier > 0)
        *out = r->cfg->tiers[tier].benefits.points_multiplier;
    for (size_t m = 0; m < rule->n_multipliers; m++)
        if (strcmp(rule->multipliers[m].tier, r->cfg->tiers[tier].name) == 0)
            *out = rule->multipliers[m].factor;
    return 0;
}

/* The UTC week (Monday to Sunday) of a day: 1970-01-01 was a Thursday. */
static int64_t week_of(int64_t day)
{
    int64_t d = day + 3;
    return (d - ((d % 7) + 7) % 7) / 7;
}

/* Cuts pts to the velocity limits at t and counts what is left. */
static int64_t velocity(run_t *r, int64_t t, int64_t pts)
{
    const points_guard_t *g = &r->cfg->guard;
    int64_t day = civil_day_of_ms(t), week = week_of(day), want = pts;
    if (r->vel_day != day) {
        r->vel_day = day;
        r->vel_day_sum = 0;
    }
    if (r->vel_week != week) {
        r->vel_week = week;
        r->vel_week_sum = 0;
    }
    if (g->day_cap)
        pts = min64(pts, g->day_cap - r->vel_day_sum);
    if (g->week_cap)
        pts = min64(pts, g->week_cap - r->vel_week_sum);
    if (pts < 0)
        pts = 0;
    r->l->velocity_cut += want - pts;
    r->vel_day_sum += pts;
    r->vel_week_sum += pts;
    return pts;
}

/* Cuts pts to the rule's caps, the ledger's headroom and the velocity
 * limits, and counts it. */
static int64_t capped(run_t *r, size_t k, const store_event_rec_t *e, int64_t pts)
{
    const points_rule_t *rule = &r->rules[k];
    rule_state_t *st = &r->st[k];
    int64_t day = civil_day_of_ms(e->time_ms);
    int64_t held = r->l->balance > 0 ? r->l->balance : 0;

    if (st->day != day) {
        st->day = day;
        st->day_sum = 0;
    }
    if (rule->daily_cap)
        pts = min64(pts, rule->daily_cap - st->day_sum);
    if (rule->lifetime_cap)
        pts = min64(pts, rule->lifetime_cap - st->life_sum);
    pts = min64(pts, PROFILE_MAX_POINTS - held - r->l->pending);
    if (pts <= 0 || (pts = velocity(r, e->time_ms, pts)) <= 0)
        return 0;
    st->day_sum += pts;
    st->life_sum += pts;
    return pts;
}

static int earn(run_t *r, size_t i, size_t k, int64_t pts)
{
    const store_event_rec_t *e = &r->h->ev[i];
    const points_rule_t *rule = &r->rules[k];
    int64_t vest_ms = e->time_ms + (int64_t)rule->vest_days * CIVIL_DAY_MS;
    lot_t *lot;
    int rc;

    if (GROW(r->lots, r->cap_lots, r->n_lots + 1))
        return -ENOMEM;
    lot = &r->lots[r->n_lots++];
    *lot = (lot_t){ .vest_ms = vest_ms, .expire_ms = expiry_of(&r->cfg->points, vest_ms),
                    .points = pts, .left = pts, .ev = i, .source = r->h->ids[i],
                    .rule = (int)k };
    r->l->earned += pts;
    if (rule->vest_days)
        return emit(r, e->time_ms, POINTS_EARN, (int)k, r->h->ids[i], 0, pts, vest_ms);
    if ((rc = emit(r, e->time_ms, POINTS_EARN, (int)k, r->h->ids[i], pts, 0, vest_ms)) != 0)
        return rc;
    return make_available(r, r->n_lots - 1);
}

static int on_earning_event(run_t *r, size_t i)
{
    const store_event_rec_t *e = &r->h->ev[i];
    for (size_t k = 0; k < r->n_rules; k++) {
        const points_rule_t *rule = &r->rules[k];
        double mult, value;
        int64_t pts;
        int rc;
        if (!rule_matches(r, k, e) || (r->st[k].matched++ && rule->first_only))
            continue;
        if ((rc = multiplier(r, rule, e, &mult)) != 0)
            return rc;
        value = (rule->fixed ? (double)rule->fixed : rule->per_unit * amount(e)) * mult;
        if (!isfinite(value) || value <= 0)
            continue;
        pts = value + ROUNDING_SLACK >= (double)PROFILE_MAX_POINTS
                  ? PROFILE_MAX_POINTS : (int64_t)floor(value + ROUNDING_SLACK);
        if (r->h->shared_fingerprint && points_guard_first_only(&r->cfg->guard, e->type)) {
            r->l->withheld += pts;
            continue;
        }
        if ((pts = capped(r, k, e, pts)) > 0 && (rc = earn(r, i, k, pts)) != 0)
            return rc;
    }
    return 0;
}

/* ---- refunds and redemptions ----------------------------------------------------- */

/* Refund i took the purchase p to `refunded` of its q units: each lot p
 * earned gives back its share. */
static int refund_lots(run_t *r, size_t i, size_t p, int64_t refunded, int64_t q)
{
    const store_event_rec_t *e = &r->h->ev[i];
    for (size_t j = r->n_lots; j-- > 0 && r->lots[j].ev >= p;) {
        lot_t *lot = &r->lots[j];
        int64_t share, take, got;
        int rc;
        if (lot->ev != p || lot->manual || lot->mission_no)
            continue;
        share = (int64_t)((wide_t)lot->points * refunded / q);
        take = share - lot->taken;
        lot->taken = share;
        if (take <= 0)
            continue;
        if (!lot->vested) {
            got = min64(take, lot->left);
            lot->left -= got;
            rc = got ? emit(r, e->time_ms, POINTS_CANCEL, lot->rule, r->h->ids[i], 0, -got,
                            lot->vest_ms) : 0;
        } else {
            got = take_available(r, min64(take, r->l->balance > 0 ? r->l->balance : 0), j);
            rc = got ? emit(r, e->time_ms, POINTS_ADJUST, lot->rule, r->h->ids[i], -got, 0,
                            lot->vest_ms) : 0;
        }
        r->l->earned -= got;
        if (rc)
            return rc;
    }
    return 0;
}

/* refund_match callback: the refund r->refund_i took purchase p to
 * r->refunded[p] of its units. */
static int on_refund_match(void *ctx, size_t p)
{
    run_t *r = ctx;
    return refund_lots(r, r->refund_i, p, r->refunded[p], refund_quantity(&r->h->ev[p]));
}

/* Matches refund i with the latest earlier purchases of its item. */
static int on_refund(run_t *r, size_t i)
{
    r->refund_i = i;
    return refund_match(r->h->ev, i, r->refunded, on_refund_match, r);
}

/* Pays the missions event i completed: each reward a bucket available at
 * once, cut to the ledger's headroom. */
static int on_missions(run_t *r, size_t i)
{
    const missions_result_t *mr = &r->l->missions;
    for (; r->next_done < mr->n_done && mr->done[r->next_done].ev == i; r->next_done++) {
        const mission_completion_t *c = &mr->done[r->next_done];
        int64_t held = r->l->balance > 0 ? r->l->balance : 0;
        int64_t pts = min64(c->points, PROFILE_MAX_POINTS - held - r->l->pending);
        lot_t *lot;
        int rc;
        if (pts <= 0)
            continue;
        if (GROW(r->lots, r->cap_lots, r->n_lots + 1))
            return -ENOMEM;
        lot = &r->lots[r->n_lots++];
        *lot = (lot_t){ .vest_ms = c->time_ms, .expire_ms = expiry_of(&r->cfg->points, c->time_ms),
                        .points = pts, .left = pts, .ev = i, .rule = -1,
                        .mission_no = c->mission + 1, .source = c->source };
        r->l->mission_points += pts;
        if ((rc = emit_lot(r, c->time_ms, POINTS_MISSION, lot, pts, 0)) != 0 ||
            (rc = make_available(r, r->n_lots - 1)) != 0)
            return rc;
    }
    return 0;
}

/* Spends `points` oldest bucket first; what the buckets lack is a debt
 * the next points vested pay back. */
static void spend(run_t *r, int64_t points)
{
    int64_t got = take_available(r, points, NONE);
    r->debt += points - got;
}

/* A manual adjustment up: a bucket available at t (after next_ev events),
 * expiring as earned points do. */
static int adjust_up(run_t *r, const points_redemption_t *x, int64_t t, size_t next_ev)
{
    lot_t *lot;
    int rc;
    if (GROW(r->lots, r->cap_lots, r->n_lots + 1))
        return -ENOMEM;
    lot = &r->lots[r->n_lots++];
    *lot = (lot_t){ .vest_ms = t, .expire_ms = expiry_of(&r->cfg->points, t),
                    .points = x->adjust, .left = x->adjust, .ev = next_ev, .source = x->id,
                    .rule = -1, .manual = 1 };
    if ((rc = emit_note(r, t, POINTS_ADJUST, -1, x->id, x->note, x->adjust, 0, t)) != 0)
        return rc;
    return make_available(r, r->n_lots - 1);
}

static int on_redeem(run_t *r, const points_redemption_t *x, int64_t t, size_t next_ev)
{
    int rc = 0;
    if (x->points > 0) {
        spend(r, x->points);
        r->l->redeemed += x->points;
        rc = emit_note(r, t, POINTS_REDEEM, -1, x->id, x->note, -x->points, 0, 0);
    }
    if (rc || x->adjust == 0)
        return rc;
    r->l->adjusted += x->adjust;
    if (x->adjust > 0)
        return adjust_up(r, x, t, next_ev);
    spend(r, -x->adjust);
    return emit_note(r, t, POINTS_ADJUST, -1, x->id, x->note, x->adjust, 0, 0);
}

/* A bonus (a referral paid) is a bucket available at once. */
static int on_bonus(run_t *r, const points_bonus_t *b)
{
    int64_t held = r->l->balance > 0 ? r->l->balance : 0;
    int64_t pts = min64(b->points, PROFILE_MAX_POINTS - held - r->l->pending);
    lot_t *lot;
    int rc;
    if (pts <= 0 || (pts = velocity(r, b->time_ms, pts)) <= 0)
        return 0;
    if (GROW(r->lots, r->cap_lots, r->n_lots + 1))
        return -ENOMEM;
    lot = &r->lots[r->n_lots++];
    *lot = (lot_t){ .vest_ms = b->time_ms, .expire_ms = expiry_of(&r->cfg->points, b->time_ms),
                    .points = pts, .left = pts, .ev = NONE, .source = b->source, .rule = -1 };
    r->l->earned += pts;
    if ((rc = emit(r, b->time_ms, POINTS_REFERRAL, -1, b->source, pts, 0, b->time_ms)) != 0)
        return rc;
    return make_available(r, r->n_lots - 1);
}

static int cmp_bonus(const void *a, const void *b)
{
    const points_bonus_t *x = *(const points_bonus_t *const *)a;
    const points_bonus_t *y = *(const points_bonus_t *const *)b;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    return strcmp(x->source, y->source);
}

/* The bonuses due by now_ms in time order, ties by source. */
static const points_bonus_t **sorted_bonuses(const points_history_t *h, int64_t now_ms,
                                             size_t *n)
{
    const points_bonus_t **v = malloc((h->n_bonus ? h->n_bonus : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < h->n_bonus; i++)
        if (h->bonus[i].time_ms <= now_ms && h->bonus[i].points > 0)
            v[(*n)++] = &h->bonus[i];
    qsort(v, *n, sizeof *v, cmp_bonus);
    return v;
}

/* Redemptions in time order (unknown times at now), ties by id. */
typedef struct red_ref {
    const points_redemption_t *x;
    int64_t t;
} red_ref_t;

static int cmp_red(const void *a, const void *b)
{
    const red_ref_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return strcmp(x->x->id, y->x->id);
}

static red_ref_t *sorted_redemptions(const points_history_t *h, int64_t now_ms, size_t *n)
{
    red_ref_t *v = malloc((h->n_red ? h->n_red : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < h->n_red; i++) {
        int64_t t = h->red[i].time_ms > 0 ? h->red[i].time_ms : now_ms;
        if (t <= now_ms && (h->red[i].points > 0 || h->red[i].adjust != 0))
            v[(*n)++] = (red_ref_t){ &h->red[i], t };
    }
    qsort(v, *n, sizeof *v, cmp_red);
    return v;
}

/* ---- the ledger ------------------------------------------------------------------- */

static void summarize(run_t *r, int64_t now_ms)
{
    points_ledger_t *l = r->l;
    int64_t horizon = now_ms + (int64_t)r->cfg->points.expiring_soon_days * CIVIL_DAY_MS;
    for (size_t k = r->head; k < r->n_avail; k++) {
        const lot_t *b = &r->lots[r->avail[k]];
        if (b->expire_ms > horizon)
            break;
        if (b->left > 0 && !l->expiring_soon_ms)
            l->expiring_soon_ms = b->expire_ms;
        l->expiring_soon += b->left;
    }
    for (size_t i = r->first_pending; i < r->n_lots; i++) {
        const lot_t *lot = &r->lots[i];
        if (lot->vested || lot->left == 0)
            continue;
        if (!l->next_vest_ms || lot->vest_ms < l->next_vest_ms) {
            l->next_vest_ms = lot->vest_ms;
            l->next_vest_points = 0;
        }
        if (lot->vest_ms == l->next_vest_ms)
            l->next_vest_points += lot->left;
    }
}

/* What happens next, in time order: events, then bonuses, then
 * redemptions of one millisecond. */
typedef struct streams {
    const red_ref_t *red;
    size_t n_red, j;
    const points_bonus_t *const *bonus;
    size_t n_bonus, b;
} streams_t;

static int replay(run_t *r, streams_t *s, int64_t now_ms)
{
    const points_history_t *h = r->h;
    size_t i = 0;
    int rc = 0;
    for (;;) {
        int64_t te = i < h->n && h->ev[i].time_ms <= now_ms ? h->ev[i].time_ms : NEVER;
        int64_t tb = s->b < s->n_bonus ? s->bonus[s->b]->time_ms : NEVER;
        int64_t tr = s->j < s->n_red ? s->red[s->j].t : NEVER;
        int64_t t = min64(te, min64(tb, tr));
        if (t == NEVER)
            break;
        if ((rc = advance(r, t)) != 0)
            return rc;
        if (te == t) {
            rc = h->ev[i].type == STORE_EVENT_REFUND ? on_refund(r, i) : on_earning_event(r, i);
            if (rc == 0)
                rc = on_missions(r, i);
            i++;
        } else if (tb == t) {
            rc = on_bonus(r, s->bonus[s->b++]);
        } else {
            rc = on_redeem(r, s->red[s->j].x, s->red[s->j].t, i);
            s->j++;
        }
        if (rc)
            return rc;
    }
    if ((rc = advance(r, now_ms)) == 0)
        summarize(r, now_ms);
    return rc;
}

int points_ledger_compute(const points_history_t *h, const profile_config_t *cfg,
                          int64_t now_ms, points_ledger_t *out)
{
    run_t *r;
    red_ref_t *red = NULL;
    const points_bonus_t **bonus = NULL;
    streams_t st = { 0 };
    int rc = -ENOMEM;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!h || !cfg || (h->n && (!h->ev || !h->ids)) || (h->n_red && !h->red) ||
        (h->n_bonus && !h->bonus))
        return -EINVAL;
    if (!(r = calloc(1, sizeof *r)))
        return -ENOMEM;
    r->h = h;
    r->cfg = cfg;
    r->l = out;
    r->n_rules = points_rule_count(cfg);
    for (size_t k = 0; k < r->n_rules; k++) {
        points_rule_t tmp;
        r->rules[k] = *points_rule_at(cfg, k, &tmp);
        r->st[k].day = INT64_MIN;
    }
    r->vel_day = r->vel_week = INT64_MIN;
    if ((rc = missions_compute(h->ev, h->n, h->item_category, h->n_items, &cfg->missions,
                               now_ms, &out->missions)) != 0)
        goto done;
    rc = -ENOMEM;
    if ((r->refunded = calloc(h->n ? h->n : 1, sizeof *r->refunded)) != NULL &&
        (red = sorted_redemptions(h, now_ms, &st.n_red)) != NULL &&
        (bonus = sorted_bonuses(h, now_ms, &st.n_bonus)) != NULL) {
        st.red = red;
        st.bonus = bonus;
        rc = replay(r, &st, now_ms);
    }
done:
    free(red);
    free(bonus);
    free(r->refunded);
    free(r->lots);
    free(r->avail);
    free(r);
    return rc;
}

int64_t points_available(const points_ledger_t *l)
{
    return l->balance > 0 ? l->balance : 0;
}

void points_ledger_free(points_ledger_t *l)
{
    if (!l)
        return;
    free(l->rows);
    missions_result_free(&l->missions);
    memset(l, 0, sizeof *l);
}
