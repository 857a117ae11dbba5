/*
 * loyalty.c - programme analytics (loyalty.h): per-customer contributions
 * summed into groups, the funnel and the (cohort, month offset) pairs the
 * cohort table is built from.
 */
#include "loyalty.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "grow.h"

/* Offsets are packed with their cohort month into one int64; a history
 * longer than this many months is cut (340 years). */
#define OFFSET_LIMIT 4096

/* The first tier makes no member when everyone holds it (all-zero
 * thresholds, the default bronze). */
static int member_floor(const profile_config_t *cfg)
{
    const profile_tier_rule_t *t = &cfg->tiers[0];
    if (cfg->n_tiers == 0)
        return 0;
    return (t->min_spend <= 0 && t->min_orders == 0 && t->min_engagement == 0) ? 1 : 0;
}

int loyalty_init(loyalty_report_t *r, const profile_config_t *cfg, int64_t now_ms,
                 double point_value)
{
    profile_config_t def;
    if (!r || !(point_value >= 0) || !isfinite(point_value))
        return -EINVAL;
    if (!cfg) {
        profile_config_default(&def);
        cfg = &def;
    }
    memset(r, 0, sizeof *r);
    r->now_ms = now_ms;
    r->point_value = point_value;
    r->n_tiers = cfg->n_tiers;
    r->member_floor = member_floor(cfg);
    return 0;
}

int loyalty_is_member(const loyalty_report_t *r, const loyalty_customer_t *c)
{
    return (c->p->tier >= 0 && c->p->tier >= r->member_floor) || c->has_redeemed ||
           c->has_signup;
}

static void group_add(loyalty_group_t *g, const profile_t *p)
{
    g->customers++;
    if (p->orders == 0)
        return;
    g->buyers++;
    g->repeat_buyers += p->orders >= 2 ? 1u : 0u;
    g->orders += p->orders;
    g->spend += p->monetary;
}

static void group_finish(loyalty_group_t *g)
{
    double b = (double)g->buyers;
    g->repeat_rate = b > 0 ? (double)g->repeat_buyers / b : 0;
    g->orders_per_buyer = b > 0 ? (double)g->orders / b : 0;
    g->spend_per_buyer = b > 0 ? g->spend / b : 0;
    g->order_value = g->orders ? g->spend / (double)g->orders : 0;
}

static int64_t month_of(int64_t ms)
{
    int64_t y;
    unsigned m, d;
    int64_t days = ms / CIVIL_DAY_MS - (ms % CIVIL_DAY_MS < 0);
    civil_from_days(days, &y, &m, &d);
    return y * 12 + (int64_t)m - 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The customer's distinct purchase months, as (cohort, offset) pairs. */
static int add_cohort(loyalty_report_t *r, const loyalty_customer_t *c)
{
    int64_t *months = NULL;
    size_t k = 0, cap = 0;
    int rc = 0;

    for (size_t i = 0; i < c->n && rc == 0; i++) {
        if (c->ev[i].type != STORE_EVENT_PURCHASE || c->ev[i].time_ms > r->now_ms)
            continue;
        if ((rc = GROW(months, cap, k + 1)) == 0)
            months[k++] = month_of(c->ev[i].time_ms);
    }
    if (rc == 0 && k) {
        qsort(months, k, sizeof *months, cmp_i64);
        for (size_t i = 0; i < k && rc == 0; i++) {
            int64_t off = months[i] - months[0];
            if ((i > 0 && months[i] == months[i - 1]) || off >= OFFSET_LIMIT)
                continue;
            if ((rc = GROW(r->pairs, r->cap_pairs, r->n_pairs + 1)) == 0)
                r->pairs[r->n_pairs++] = months[0] * OFFSET_LIMIT + off;
        }
    }
    free(months);
    return rc ? -ENOMEM : 0;
}

/* Orders a copy of the history by item, then time. */
static int by_item_time(const void *a, const void *b)
{
    const store_event_rec_t *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* One item's events (time order): viewed, carted after a view, bought
 * after that cart. */
static void pair_funnel(loyalty_funnel_t *f, const store_event_rec_t *ev, size_t n)
{
    unsigned viewed = 0, carted = 0, bought = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == STORE_EVENT_VIEW)
            viewed = 1;
        else if (ev[i].type == STORE_EVENT_CART && viewed)
            carted = 1;
        else if (ev[i].type == STORE_EVENT_PURCHASE && carted)
            bought = 1;
    }
    f->viewed_pairs += viewed;
    f->carted_after_view += carted;
    f->bought_after_cart += bought;
}

static int add_funnel(loyalty_report_t *r, const loyalty_customer_t *c)
{
    loyalty_funnel_t *f = &r->funnel;
    store_event_rec_t *e;
    size_t n = 0;
    unsigned seen[STORE_EVENT_TYPE_MAX + 1] = { 0 };

    if (!(e = malloc(c->n * sizeof *e + 1)))
        return -ENOMEM;
    for (size_t i = 0; i < c->n; i++)
        if (c->ev[i].time_ms <= r->now_ms && c->ev[i].item != STORE_NO_ITEM) {
            e[n++] = c->ev[i];
            if (c->ev[i].type <= STORE_EVENT_TYPE_MAX)
                seen[c->ev[i].type] = 1;
        }
    f->viewers += seen[STORE_EVENT_VIEW];
    f->carters += seen[STORE_EVENT_CART];
    f->buyers += seen[STORE_EVENT_PURCHASE];
    qsort(e, n, sizeof *e, by_item_time);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && e[j].item == e[i].item; j++)
            ;
        pair_funnel(f, e + i, j - i);
    }
    free(e);
    return 0;
}

static void add_points(loyalty_report_t *r, const loyalty_customer_t *c)
{
    r->points_issued += c->points_earned;
    r->points_pending += c->points_pending;
    r->points_redeemed += c->points_redeemed;
    r->points_expired += c->points_expired;
    r->points_outstanding += c->points_balance > 0 ? c->points_balance : 0;
}

int loyalty_add(loyalty_report_t *r, const loyalty_customer_t *c)
{
    int rc;
    if (!r || !c || !c->p || (c->n && !c->ev))
        return -EINVAL;
    group_add(&r->all, c->p);
    group_add(loyalty_is_member(r, c) ? &r->members : &r->non_members, c->p);
    if (c->p->tier >= 0 && (size_t)c->p->tier < r->n_tiers)
        group_add(&r->tiers[c->p->tier], c->p);
    else
        group_add(&r->no_tier, c->p);
    add_points(r, c);
    if ((rc = add_funnel(r, c)) != 0)
        return rc;
    return add_cohort(r, c);
}

static int build_cohorts(loyalty_report_t *r, size_t max_offsets)
{
    loyalty_cohorts_t *t = &r->cohorts;
    int64_t lo = INT64_MAX, hi = INT64_MIN, last = INT64_MIN;

    for (size_t i = 0; i < r->n_pairs; i++) {
        int64_t cohort = r->pairs[i] / OFFSET_LIMIT, off = r->pairs[i] % OFFSET_LIMIT;
        lo = cohort < lo ? cohort : lo;
        hi = cohort > hi ? cohort : hi;
        last = cohort + off > last ? cohort + off : last;
    }
    t->now_month = month_of(r->now_ms);
    if (r->n_pairs == 0)
        return 0;
    t->first_month = lo;
    t->n_cohorts = (size_t)(hi - lo + 1);
    t->n_offsets = (size_t)(last - lo + 1);
    if (t->n_offsets > max_offsets)
        t->n_offsets = max_offsets;
    t->size = calloc(t->n_cohorts, sizeof *t->size);
    t->active = calloc(t->n_cohorts * t->n_offsets + 1, sizeof *t->active);
    if (!t->size || !t->active)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_pairs; i++) {
        size_t row = (size_t)(r->pairs[i] / OFFSET_LIMIT - lo);
        size_t off = (size_t)(r->pairs[i] % OFFSET_LIMIT);
        if (off == 0)
            t->size[row]++;
        if (off < t->n_offsets)
            t->active[row * t->n_offsets + off]++;
    }
    return 0;
}

int loyalty_finish(loyalty_report_t *r, size_t max_offsets)
{
    loyalty_funnel_t *f = &r->funnel;
    group_finish(&r->all);
    group_finish(&r->members);
    group_finish(&r->non_members);
    group_finish(&r->no_tier);
    for (size_t i = 0; i < r->n_tiers; i++)
        group_finish(&r->tiers[i]);
    r->liability = (double)r->points_outstanding * r->point_value;
    f->cart_rate = f->viewed_pairs ? (double)f->carted_after_view / (double)f->viewed_pairs : 0;
    f->purchase_rate =
        f->carted_after_view ? (double)f->bought_after_cart / (double)f->carted_after_view : 0;
    return build_cohorts(r, max_offsets ? max_offsets : 1);
}

void loyalty_free(loyalty_report_t *r)
{
    if (!r)
        return;
    free(r->pairs);
    free(r->cohorts.size);
    free(r->cohorts.active);
    r->pairs = NULL;
    r->cohorts.size = r->cohorts.active = NULL;
    r->n_pairs = r->cap_pairs = 0;
}
