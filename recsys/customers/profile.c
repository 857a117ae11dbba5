/*
 * profile.c - customer profiles from event histories (contract in profile.h).
 *
 * Every entry point starts by turning the caller's events into a "history":
 * the events up to now_ms in one canonical total order (time, then type, item,
 * quantity, price), so the result never depends on the order the caller
 * passed them in. Input that is already in that order (the store returns one
 * customer's events by time) is used in place; anything else is copied and
 * sorted. Orders are then derived once from the history's purchases.
 *
 * Tiers are profile_tier.c.
 *
 * The lifecycle's rhythm is the median gap between orders: robust to the one
 * long absence that a won-back customer necessarily has in their history.
 */
#include "civil.h"
#include "profile.h"
#include "profile_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MS_PER_MINUTE 60000LL

#define POINTS_EPS 1e-6

/* ---- configuration --------------------------------------------------------------- */

/* The widely used R x F grid (R on one axis, F on the other; M is left free
 * because frequency and monetary value are strongly correlated). Rows are
 * tried in order: "lost" before "hibernating" carves the (1,1) corner out. */
static const profile_segment_rule_t default_segments[] = {
    { "champions",          5, 5, 4, 5, 1, 5 },
    { "loyal",              3, 4, 4, 5, 1, 5 },
    { "potential_loyalist", 4, 5, 2, 3, 1, 5 },
    { "new",                5, 5, 1, 1, 1, 5 },
    { "promising",          4, 4, 1, 1, 1, 5 },
    { "need_attention",     3, 3, 3, 3, 1, 5 },
    { "about_to_sleep",     3, 3, 1, 2, 1, 5 },
    { "cant_lose_them",     1, 2, 5, 5, 1, 5 },
    { "at_risk",            1, 2, 3, 4, 1, 5 },
    { "lost",               1, 1, 1, 1, 1, 5 },
    { "hibernating",        1, 2, 1, 2, 1, 5 },
};

static const profile_tier_rule_t default_tiers[] = {
    { .name = "bronze", .min_spend = 0.0, .min_orders = 0, .min_engagement = 0 },
    { .name = "silver", .min_spend = 250.0, .min_orders = 2, .min_engagement = 0 },
    { .name = "gold", .min_spend = 1000.0, .min_orders = 5, .min_engagement = 10 },
    { .name = "platinum", .min_spend = 3000.0, .min_orders = 10, .min_engagement = 30 },
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

void profile_config_default(profile_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->order_gap_minutes = 30;
    cfg->recent_days = 30;
    cfg->new_days = 30;
    cfg->at_risk_factor = 1.5;
    cfg->lapse_factor = 3.0;
    cfg->min_gap_days = 7.0;
    cfg->default_gap_days = 30.0;
    cfg->won_back_days = 90;
    cfg->tier_window_days = 365;
    cfg->tier_grace_days = 30;
    contact_config_default(&cfg->contact);
    cfg->n_tiers = COUNT_OF(default_tiers);
    memcpy(cfg->tiers, default_tiers, sizeof default_tiers);
    cfg->n_segments = COUNT_OF(default_segments);
    memcpy(cfg->segments, default_segments, sizeof default_segments);
    cfg->points_per_unit = 1.0;
    points_config_default(&cfg->points);
    referral_config_default(&cfg->referral);
    points_guard_default(&cfg->guard);
    trigger_config_default(&cfg->triggers);
}

static int name_ok(const char *name)
{
    return name[0] != '\0' && memchr(name, '\0', PROFILE_NAME_MAX) != NULL;
}

static int finite_nonneg(double x)
{
    return isfinite(x) && x >= 0.0;
}

static const char *tiers_invalid(const profile_config_t *cfg)
{
    if (cfg->n_tiers > PROFILE_MAX_TIERS)
        return "n_tiers: at most PROFILE_MAX_TIERS";
    if (cfg->tier_window_days == 0)
        return "tier_window_days: must be at least 1";
    for (size_t i = 0; i < cfg->n_tiers; i++) {
        const profile_tier_rule_t *t = &cfg->tiers[i];
        if (!name_ok(t->name))
            return "tiers.name: must be 1..31 bytes";
        if (!finite_nonneg(t->min_spend))
            return "tiers.min_spend: must be finite and >= 0";
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(cfg->tiers[j].name, t->name) == 0)
                return "tiers.name: names must be unique";
    }
    return NULL;
}

static int score_range_ok(uint8_t lo, uint8_t hi)
{
    return lo >= 1 && lo <= hi && hi <= 5;
}

static const char *segments_invalid(const profile_config_t *cfg)
{
    if (cfg->n_segments > PROFILE_MAX_SEGMENTS)
        return "n_segments: at most PROFILE_MAX_SEGMENTS";
    for (size_t i = 0; i < cfg->n_segments; i++) {
        const profile_segment_rule_t *s = &cfg->segments[i];
        if (!name_ok(s->name))
            return "segments.name: must be 1..31 bytes";
        if (!score_range_ok(s->r_lo, s->r_hi) ||
            !score_range_ok(s->f_lo, s->f_hi) ||
            !score_range_ok(s->m_lo, s->m_hi))
            return "segments: score ranges must satisfy 1 <= lo <= hi <= 5";
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(cfg->segments[j].name, s->name) == 0)
                return "segments.name: names must be unique";
    }
    return NULL;
}

const char *profile_config_invalid(const profile_config_t *cfg)
{
    if (!cfg)
        return "config: NULL";
    if (!isfinite(cfg->at_risk_factor) || cfg->at_risk_factor <= 0.0)
        return "at_risk_factor: must be finite and > 0";
    if (!isfinite(cfg->lapse_factor) || cfg->lapse_factor < cfg->at_risk_factor)
        return "lapse_factor: must be finite and >= at_risk_factor";
    if (!finite_nonneg(cfg->min_gap_days))
        return "min_gap_days: must be finite and >= 0";
    if (!isfinite(cfg->default_gap_days) || cfg->default_gap_days <= 0.0)
        return "default_gap_days: must be finite and > 0";
    if (!finite_nonneg(cfg->points_per_unit))
        return "points_per_unit: must be finite and >= 0";
    const char *why = tiers_invalid(cfg);
    return why ? why : segments_invalid(cfg);
}

/* ---- history: the events up to now, in canonical order ---------------------------- */

static int event_cmp(const store_event_rec_t *a, const store_event_rec_t *b)
{
    if (a->time_ms != b->time_ms) return a->time_ms < b->time_ms ? -1 : 1;
    if (a->type != b->type) return a->type < b->type ? -1 : 1;
    if (a->item != b->item) return a->item < b->item ? -1 : 1;
    if (a->quantity != b->quantity) return a->quantity < b->quantity ? -1 : 1;
    if (a->unit_price != b->unit_price)
        return a->unit_price < b->unit_price ? -1 : 1;
    return 0;
}

static int event_qsort_cmp(const void *a, const void *b)
{
    return event_cmp(a, b);
}

static int is_canonical(const store_event_rec_t *ev, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (event_cmp(&ev[i - 1], &ev[i]) > 0)
            return 0;
    return 1;
}

/* The number of leading events with time <= now (ev sorted by time). */
size_t profile_count_upto(const store_event_rec_t *ev, size_t n, int64_t now)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].time_ms <= now) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int profile_history_open(const store_event_rec_t *ev, size_t n, int64_t now,
                        profile_history_t *h)
{
    memset(h, 0, sizeof *h);
    if (n == 0)
        return 0;
    if (!is_canonical(ev, n)) {
        h->owned = malloc(n * sizeof *ev);
        if (!h->owned)
            return -ENOMEM;
        memcpy(h->owned, ev, n * sizeof *ev);
        qsort(h->owned, n, sizeof *ev, event_qsort_cmp);
        ev = h->owned;
    }
    h->ev = ev;
    h->n = profile_count_upto(ev, n, now);
    return 0;
}

void profile_history_close(profile_history_t *h)
{
    free(h->owned);
    h->owned = NULL;
}

static double event_amount(const store_event_rec_t *e)
{
    double q = e->quantity > 0 ? (double)e->quantity : 1.0;
    return q * e->unit_price;
}

/* +amount for a purchase, -amount for a refund, 0 for anything else. */
double profile_event_spend(const store_event_rec_t *e)
{
    if (e->type == STORE_EVENT_PURCHASE) return event_amount(e);
    if (e->type == STORE_EVENT_REFUND) return -event_amount(e);
    return 0.0;
}

int profile_is_engagement(const store_event_rec_t *e)
{
    return e->type == STORE_EVENT_VIEW || e->type == STORE_EVENT_CART;
}

/* ---- orders ------------------------------------------------------------------------ */

/* Start times of the history's orders, ascending, in a malloc'd array the
 * caller frees (NULL when there are none). */
int profile_orders_collect(const profile_history_t *h, const profile_config_t *cfg,
                          int64_t **out, size_t *k)
{
    int64_t gap = (int64_t)cfg->order_gap_minutes * MS_PER_MINUTE;
    size_t purchases = 0;

    *out = NULL;
    *k = 0;
    for (size_t i = 0; i < h->n; i++)
        purchases += h->ev[i].type == STORE_EVENT_PURCHASE;
    if (purchases == 0)
        return 0;
    int64_t *t = malloc(purchases * sizeof *t);
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < h->n; i++) {
        const store_event_rec_t *e = &h->ev[i];
        if (e->type != STORE_EVENT_PURCHASE)
            continue;
        if (*k == 0 || e->time_ms - t[*k - 1] >= gap)
            t[(*k)++] = e->time_ms;
    }
    *out = t;
    return 0;
}

static double ms_to_days(int64_t ms)
{
    return (double)ms / (double)CIVIL_DAY_MS;
}

/* Median of sorted[0..n), n > 0. */
static double median_sorted(const double *sorted, size_t n)
{
    if (n % 2)
        return sorted[n / 2];
    return 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/* Inserts x into sorted[0..n) (room for n + 1), keeping it sorted. */
static void insert_sorted(double *sorted, size_t n, double x)
{
    size_t i = n;
    while (i > 0 && sorted[i - 1] > x) {
        sorted[i] = sorted[i - 1];
        i--;
    }
    sorted[i] = x;
}

/* The rhythm (days) of a customer whose sorted order gaps are gaps[0..n). */
static double rhythm_days(const double *gaps, size_t n,
                          const profile_config_t *cfg)
{
    if (n == 0)
        return cfg->default_gap_days;
    return fmax(median_sorted(gaps, n), cfg->min_gap_days);
}

/* What the order times say about rhythm: the median gap and the time of the
 * latest comeback (an order after a gap longer than lapse_factor times the
 * rhythm before it; 0 if none). */
typedef struct rhythm {
    double typical_gap_days;
    double rhythm_days;
    int64_t last_comeback_ms;
} rhythm_t;

static int rhythm_analyse(const int64_t *orders, size_t k,
                          const profile_config_t *cfg, rhythm_t *out)
{
    memset(out, 0, sizeof *out);
    out->rhythm_days = cfg->default_gap_days;
    if (k < 2)
        return 0;
    double *gaps = malloc((k - 1) * sizeof *gaps);
    if (!gaps)
        return -ENOMEM;
    for (size_t i = 1; i < k; i++) {
        double gap = ms_to_days(orders[i] - orders[i - 1]);
        if (gap > cfg->lapse_factor * rhythm_days(gaps, i - 1, cfg))
            out->last_comeback_ms = orders[i];
        insert_sorted(gaps, i - 1, gap);
    }
    out->typical_gap_days = median_sorted(gaps, k - 1);
    out->rhythm_days = rhythm_days(gaps, k - 1, cfg);
    free(gaps);
    return 0;
}

static profile_stage_t stage_of(const int64_t *orders, size_t k,
                                const rhythm_t *rh,
                                const profile_config_t *cfg, int64_t now)
{
    if (k == 0)
        return PROFILE_STAGE_PROSPECT;
    if (k == 1 && ms_to_days(now - orders[0]) <= (double)cfg->new_days)
        return PROFILE_STAGE_NEW;
    double idle = ms_to_days(now - orders[k - 1]);
    if (idle > rh->rhythm_days * cfg->lapse_factor)
        return PROFILE_STAGE_LAPSED;
    if (idle > rh->rhythm_days * cfg->at_risk_factor)
        return PROFILE_STAGE_AT_RISK;
    if (rh->last_comeback_ms > 0 &&
        (cfg->won_back_days == 0 ||
         now - rh->last_comeback_ms <= (int64_t)cfg->won_back_days * CIVIL_DAY_MS))
        return PROFILE_STAGE_WON_BACK;
    return PROFILE_STAGE_ACTIVE;
}

/* ---- configuration or defaults -------------------------------------------------- */

/* cfg, or the defaults (in *defaults) when cfg is NULL; NULL when cfg is
 * invalid. */
const profile_config_t *profile_config_or_default(const profile_config_t *cfg,
                                                 profile_config_t *defaults)
{
    if (!cfg) {
        profile_config_default(defaults);
        return defaults;
    }
    return profile_config_invalid(cfg) ? NULL : cfg;
}

/* ---- money and favourite categories ----------------------------------------------------- */

typedef struct cat_spend {
    uint32_t category;
    double spend;
} cat_spend_t;

static int cat_spend_by_category(const void *a, const void *b)
{
    const cat_spend_t *x = a, *y = b;
    return (x->category > y->category) - (x->category < y->category);
}

/* Best first: higher spend, then lower category id. */
static int cat_spend_by_rank(const void *a, const void *b)
{
    const cat_spend_t *x = a, *y = b;
    if (x->spend != y->spend)
        return x->spend > y->spend ? -1 : 1;
    return (x->category > y->category) - (x->category < y->category);
}

static uint32_t category_of(const profile_catalog_t *cat, uint32_t item)
{
    if (!cat || !cat->category || item >= cat->n_items)
        return PROFILE_NO_CATEGORY;
    return cat->category[item];
}

/* Sums equal categories of c[0..n) (sorted by category) in place; returns the
 * number of distinct categories left at the front. */
static size_t cat_spend_merge(cat_spend_t *c, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && c[m - 1].category == c[i].category)
            c[m - 1].spend += c[i].spend;
        else
            c[m++] = c[i];
    }
    return m;
}

static int favourites_compute(const profile_history_t *h, const profile_catalog_t *cat,
                              profile_t *out)
{
    size_t n = 0;
    cat_spend_t *c = malloc((h->n ? h->n : 1) * sizeof *c);
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; i < h->n; i++) {
        uint32_t id = category_of(cat, h->ev[i].item);
        double s = profile_event_spend(&h->ev[i]);
        if (id != PROFILE_NO_CATEGORY && s != 0.0)
            c[n++] = (cat_spend_t){ id, s };
    }
    qsort(c, n, sizeof *c, cat_spend_by_category);
    n = cat_spend_merge(c, n);
    qsort(c, n, sizeof *c, cat_spend_by_rank);
    for (size_t i = 0; i < n && out->n_favourites < PROFILE_TOP_CATEGORIES; i++)
        if (c[i].spend > PROFILE_MONEY_EPS)
            out->favourites[out->n_favourites++] = c[i].category;
    free(c);
    return 0;
}

static void totals_compute(const profile_history_t *h, const profile_config_t *cfg,
                           int64_t now, profile_t *out)
{
    int64_t recent_from = now - (int64_t)cfg->recent_days * CIVIL_DAY_MS;
    int64_t year_ms, month_ms, week_ms, end_ms;
    long double net = 0, year = 0, month = 0, week = 0;

    civil_period_bounds(CIVIL_PERIOD_YEAR, now, &year_ms, &end_ms);
    civil_period_bounds(CIVIL_PERIOD_MONTH, now, &month_ms, &end_ms);
    civil_period_bounds(CIVIL_PERIOD_WEEK, now, &week_ms, &end_ms);
    for (size_t i = 0; i < h->n; i++) {
        const store_event_rec_t *e = &h->ev[i];
        double spend = profile_event_spend(e);
        net += spend;
        year += e->time_ms >= year_ms ? spend : 0.0;
        month += e->time_ms >= month_ms ? spend : 0.0;
        week += e->time_ms >= week_ms ? spend : 0.0;
        out->purchases += e->type == STORE_EVENT_PURCHASE;
        if (e->time_ms > recent_from) {
            out->recent_views += e->type == STORE_EVENT_VIEW;
            out->recent_carts += e->type == STORE_EVENT_CART;
        }
    }
    out->monetary = fmax(0.0, (double)net);
    out->spend_year = fmax(0.0, (double)year);
    out->spend_month = fmax(0.0, (double)month);
    out->spend_week = fmax(0.0, (double)week);
}

static void order_fields(const int64_t *orders, size_t k, const rhythm_t *rh,
                         profile_t *out)
{
    out->orders = (uint32_t)k;
    out->rhythm_days = rh->rhythm_days;
    if (k == 0)
        return;
    out->last_order_ms = orders[k - 1];
    out->comeback_ms = rh->last_comeback_ms;
    out->first_purchase_ms = orders[0];
    out->average_basket = out->monetary / (double)k;
    out->typical_gap_days = rh->typical_gap_days;
}

/* The last purchase is not always an order's start (a later line of the same
 * order is more recent); recency counts from it. */
static void last_purchase_fields(const profile_history_t *h, int64_t now,
                                 profile_t *out)
{
    for (size_t i = h->n; i-- > 0;)
        if (h->ev[i].type == STORE_EVENT_PURCHASE) {
            out->last_purchase_ms = h->ev[i].time_ms;
            out->recency_days = ms_to_days(now - out->last_purchase_ms);
            return;
        }
}

static int profile_from_history(const profile_history_t *h,
                                const profile_catalog_t *cat,
                                const profile_config_t *cfg, int64_t now,
                                profile_t *out)
{
    int64_t *orders = NULL;
    size_t k = 0;
    rhythm_t rh;
    int rc = profile_orders_collect(h, cfg, &orders, &k);

    if (rc == 0)
        rc = rhythm_analyse(orders, k, cfg, &rh);
    if (rc == 0)
        rc = favourites_compute(h, cat, out);
    if (rc == 0)
        rc = profile_tier_of_history(h, orders, k, cfg, now, &out->tier);
    if (rc == 0) {
        totals_compute(h, cfg, now, out);
        order_fields(orders, k, &rh, out);
        last_purchase_fields(h, now, out);
        out->stage = stage_of(orders, k, &rh, cfg, now);
    }
    free(orders);
    return rc;
}

int profile_compute(const store_event_rec_t *ev, size_t n,
                    const profile_catalog_t *cat, const profile_config_t *cfg,
                    int64_t now_ms, profile_t *out)
{
    profile_config_t defaults;
    profile_history_t h;

    if ((!ev && n) || !out)
        return -EINVAL;
    if ((cfg = profile_config_or_default(cfg, &defaults)) == NULL)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->tier = -1;
    int rc = profile_history_open(ev, n, now_ms, &h);
    if (rc == 0)
        rc = profile_from_history(&h, cat, cfg, now_ms, out);
    profile_history_close(&h);
    return rc;
}

/* ---- RFM ------------------------------------------------------------------------------ */

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* c[j] = the largest value of the (j+1)-th fifth of v sorted ascending: the
 * value at 1-based rank ceil((j+1) * n / 5). */
static void quintile_cuts(double *v, size_t n, double c[4])
{
    qsort(v, n, sizeof *v, double_cmp);
    for (size_t j = 0; j < 4; j++)
        c[j] = v[((j + 1) * n + 4) / 5 - 1];
}

int profile_rfm_cutpoints_values(double *recency, double *frequency,
                                 double *monetary, size_t n,
                                 rfm_cutpoints_t *out)
{
    if (!out || (n && (!recency || !frequency || !monetary)))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n == 0)
        return 0;
    quintile_cuts(recency, n, out->recency);
    quintile_cuts(frequency, n, out->frequency);
    quintile_cuts(monetary, n, out->monetary);
    return 0;
}

int profile_rfm_cutpoints(const profile_t *all, size_t n, rfm_cutpoints_t *out)
{
    size_t k = 0;

    if (!out || (n && !all))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        k += all[i].orders > 0;
    if (k == 0)
        return profile_rfm_cutpoints_values(NULL, NULL, NULL, 0, out);
    double *v = malloc(3 * k * sizeof *v);
    if (!v)
        return -ENOMEM;
    double *r = v, *f = v + k, *m = v + 2 * k;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (all[i].orders == 0)
            continue;
        r[j] = all[i].recency_days;
        f[j] = (double)all[i].orders;
        m[j] = all[i].monetary;
        j++;
    }
    int rc = profile_rfm_cutpoints_values(r, f, m, k, out);
    free(v);
    return rc;
}

static int cuts_exceeded(double x, const double c[4])
{
    int above = 0;
    for (int j = 0; j < 4; j++)
        above += x > c[j];
    return above;
}

int profile_rfm_score(const profile_t *p, const rfm_cutpoints_t *cut,
                      uint8_t *r, uint8_t *f, uint8_t *m)
{
    if (!p || !cut || !r || !f || !m)
        return -EINVAL;
    if (p->orders == 0) {
        *r = *f = *m = 0;
    } else if (cut->n == 0) {
        *r = *f = *m = 3;
    } else {
        *r = (uint8_t)(5 - cuts_exceeded(p->recency_days, cut->recency));
        *f = (uint8_t)(1 + cuts_exceeded((double)p->orders, cut->frequency));
        *m = (uint8_t)(1 + cuts_exceeded(p->monetary, cut->monetary));
    }
    return 0;
}

static int in_range(uint8_t x, uint8_t lo, uint8_t hi)
{
    return x >= lo && x <= hi;
}

int profile_segment(const profile_config_t *cfg, uint8_t r, uint8_t f,
                    uint8_t m)
{
    if (!cfg)
        return -1;
    for (size_t i = 0; i < cfg->n_segments && i < PROFILE_MAX_SEGMENTS; i++) {
        const profile_segment_rule_t *s = &cfg->segments[i];
        if (in_range(r, s->r_lo, s->r_hi) && in_range(f, s->f_lo, s->f_hi) &&
            in_range(m, s->m_lo, s->m_hi))
            return (int)i;
    }
    return -1;
}

/* ---- names and points ---------------------------------------------------------------- */

const char *profile_stage_name(profile_stage_t stage)
{
    switch (stage) {
    case PROFILE_STAGE_PROSPECT: return "prospect";
    case PROFILE_STAGE_NEW: return "new";
    case PROFILE_STAGE_ACTIVE: return "active";
    case PROFILE_STAGE_AT_RISK: return "at_risk";
    case PROFILE_STAGE_LAPSED: return "lapsed";
    case PROFILE_STAGE_WON_BACK: return "won_back";
    }
    return NULL;
}

const char *profile_tier_name(const profile_config_t *cfg, int tier)
{
    if (!cfg || tier < 0 || (size_t)tier >= cfg->n_tiers ||
        tier >= PROFILE_MAX_TIERS)
        return "";
    return cfg->tiers[tier].name;
}

const char *profile_segment_name(const profile_config_t *cfg, int segment)
{
    if (!cfg || segment < 0 || (size_t)segment >= cfg->n_segments ||
        segment >= PROFILE_MAX_SEGMENTS)
        return "";
    return cfg->segments[segment].name;
}

int64_t profile_points_for(double net_spend, const profile_config_t *cfg)
{
    double rate = cfg ? cfg->points_per_unit : 1.0;
    if (!isfinite(net_spend) || net_spend <= 0.0 || !isfinite(rate) ||
        rate <= 0.0)
        return 0;
    /* 0.29 * 100 is 28.999999999999996 in binary: forgive float error. */
    double pts = floor(net_spend * rate + POINTS_EPS);
    if (!(pts < (double)PROFILE_MAX_POINTS))
        return PROFILE_MAX_POINTS;
    return (int64_t)pts;
}
