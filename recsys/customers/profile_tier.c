/*
 * profile_tier.c - the tier a customer holds and their standing in it
 * (profile_tier, profile_tier_status in profile.h).
 *
 * "Did the rolling window meet the thresholds at some time in the last
 * grace_days": window sums only rise at event times and only fall when an
 * event leaves the window, so it suffices to test the start of the grace
 * interval and every event time inside it (tier_at_best).
 */
#include "profile_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

/* Running sums over a history so any window's totals are two lookups.
 * long double keeps the differences of large money sums exact to far below
 * a cent. */
typedef struct window_sums {
    const profile_history_t *h;
    long double *spend;    /* spend[i] = sum of profile_event_spend over ev[0..i) */
    uint32_t *engagement;  /* views + carts over ev[0..i) */
    const int64_t *orders; /* order start times */
    size_t n_orders;
} window_sums_t;

static int sums_build(const profile_history_t *h, const int64_t *orders, size_t k,
                      window_sums_t *ws)
{
    ws->h = h;
    ws->orders = orders;
    ws->n_orders = k;
    ws->spend = malloc((h->n + 1) * sizeof *ws->spend);
    ws->engagement = malloc((h->n + 1) * sizeof *ws->engagement);
    if (!ws->spend || !ws->engagement) {
        free(ws->spend);
        free(ws->engagement);
        return -ENOMEM;
    }
    ws->spend[0] = 0;
    ws->engagement[0] = 0;
    for (size_t i = 0; i < h->n; i++) {
        ws->spend[i + 1] = ws->spend[i] + profile_event_spend(&h->ev[i]);
        ws->engagement[i + 1] = ws->engagement[i] + profile_is_engagement(&h->ev[i]);
    }
    return 0;
}

static void sums_free(window_sums_t *ws)
{
    free(ws->spend);
    free(ws->engagement);
}

/* Number of times in t[0..n) that are <= x (t ascending). */
static size_t upto_time(const int64_t *t, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The window (at - tier_window_days, at]'s totals. */
typedef struct window_totals {
    double spend;
    uint32_t orders, engagement;
} window_totals_t;

static window_totals_t totals_at(const window_sums_t *ws, const profile_config_t *cfg,
                                 int64_t at)
{
    int64_t from = at - (int64_t)cfg->tier_window_days * CIVIL_DAY_MS;
    size_t lo = profile_count_upto(ws->h->ev, ws->h->n, from);
    size_t hi = profile_count_upto(ws->h->ev, ws->h->n, at);
    window_totals_t w;
    w.spend = fmax(0.0, (double)(ws->spend[hi] - ws->spend[lo]));
    w.engagement = ws->engagement[hi] - ws->engagement[lo];
    w.orders = (uint32_t)(upto_time(ws->orders, ws->n_orders, at) -
                          upto_time(ws->orders, ws->n_orders, from));
    return w;
}

static int meets(const profile_tier_rule_t *r, const window_totals_t *w)
{
    return w->spend + PROFILE_MONEY_EPS >= r->min_spend && w->orders >= r->min_orders &&
           w->engagement >= r->min_engagement;
}

/* The highest tier whose thresholds the window (at - window, at] meets. */
static int tier_at(const window_sums_t *ws, const profile_config_t *cfg,
                   int64_t at)
{
    window_totals_t w = totals_at(ws, cfg, at);
    for (size_t t = cfg->n_tiers; t-- > 0;)
        if (meets(&cfg->tiers[t], &w))
            return (int)t;
    return -1;
}

/* The best tier met at any time in [now - grace, now]: the window's totals
 * only rise at event times, so testing the interval's start and each event
 * time in it finds the maximum. */
static int tier_at_best(const window_sums_t *ws, const profile_config_t *cfg,
                        int64_t now)
{
    int64_t start = now - (int64_t)cfg->tier_grace_days * CIVIL_DAY_MS;
    int best = tier_at(ws, cfg, start);
    int top = (int)cfg->n_tiers - 1;

    for (size_t i = profile_count_upto(ws->h->ev, ws->h->n, start);
         i < ws->h->n && best < top; i++) {
        int t = tier_at(ws, cfg, ws->h->ev[i].time_ms);
        if (t > best)
            best = t;
    }
    return best;
}

int profile_tier_of_history(const profile_history_t *h, const int64_t *orders, size_t k,
                           const profile_config_t *cfg, int64_t now, int *tier)
{
    window_sums_t ws;
    int rc = sums_build(h, orders, k, &ws);
    if (rc)
        return rc;
    *tier = tier_at_best(&ws, cfg, now);
    sums_free(&ws);
    return 0;
}

int profile_tier(const store_event_rec_t *ev, size_t n,
                 const profile_config_t *cfg, int64_t now_ms, int *tier)
{
    profile_config_t defaults;
    profile_history_t h;
    int64_t *orders = NULL;
    size_t k = 0;

    if ((!ev && n) || !tier)
        return -EINVAL;
    if ((cfg = profile_config_or_default(cfg, &defaults)) == NULL)
        return -EINVAL;
    int rc = profile_history_open(ev, n, now_ms, &h);
    if (rc == 0)
        rc = profile_orders_collect(&h, cfg, &orders, &k);
    if (rc == 0)
        rc = profile_tier_of_history(&h, orders, k, cfg, now_ms, tier);
    free(orders);
    profile_history_close(&h);
    return rc;
}

/* ---- tier status ------------------------------------------------------------------ */

static void need_for(const profile_tier_rule_t *r, const window_totals_t *w,
                     profile_tier_need_t *out)
{
    double spend = r->min_spend - w->spend;
    out->spend = spend > PROFILE_MONEY_EPS ? spend : 0.0;
    out->orders = r->min_orders > w->orders ? r->min_orders - w->orders : 0;
    out->engagement = r->min_engagement > w->engagement ? r->min_engagement - w->engagement : 0;
}

static int time_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The last instant the window meets tier `held` if nothing else happens
 * (0: never stops, e.g. a floor tier). The window's totals change only
 * where an event enters (its time) or leaves it (its time + window), so
 * they are constant on the pieces between those boundaries; the answer is
 * the boundary that ends the last piece meeting the tier.
 */
static int qualified_until(const window_sums_t *ws, const profile_config_t *cfg, int held,
                           int64_t now, int64_t *until)
{
    int64_t window = (int64_t)cfg->tier_window_days * CIVIL_DAY_MS;
    int64_t start = now - (int64_t)cfg->tier_grace_days * CIVIL_DAY_MS;
    size_t first = profile_count_upto(ws->h->ev, ws->h->n, start - window), n = 0, last_ok = SIZE_MAX;
    int64_t *t = malloc((2 * (ws->h->n - first) + 1) * sizeof *t);

    if (!t)
        return -ENOMEM;
    t[n++] = start;
    for (size_t i = first; i < ws->h->n; i++) {
        if (ws->h->ev[i].time_ms > start)
            t[n++] = ws->h->ev[i].time_ms;
        if (ws->h->ev[i].time_ms + window > start)
            t[n++] = ws->h->ev[i].time_ms + window;
    }
    qsort(t, n, sizeof *t, time_cmp);
    for (size_t i = 0; i < n; i++)
        if (tier_at(ws, cfg, t[i]) >= held)
            last_ok = i;
    *until = 0;
    if (last_ok != SIZE_MAX) {
        size_t next = last_ok + 1;
        while (next < n && t[next] == t[last_ok])
            next++;
        *until = next < n ? t[next] : 0;
    }
    free(t);
    return 0;
}

static int status_of(const window_sums_t *ws, const profile_config_t *cfg, int64_t now,
                     profile_tier_status_t *out)
{
    window_totals_t w = totals_at(ws, cfg, now);
    int rc;

    memset(out, 0, sizeof *out);
    out->tier = tier_at_best(ws, cfg, now);
    out->qualifies = tier_at(ws, cfg, now);
    out->window_spend = w.spend;
    out->window_orders = w.orders;
    out->window_engagement = w.engagement;
    out->next = out->tier + 1 < (int)cfg->n_tiers ? out->tier + 1 : -1;
    out->after_downgrade = out->tier;
    if (out->next >= 0)
        need_for(&cfg->tiers[out->next], &w, &out->to_next);
    if (out->tier < 0)
        return 0;
    need_for(&cfg->tiers[out->tier], &w, &out->to_keep);
    if ((rc = qualified_until(ws, cfg, out->tier, now, &out->qualified_until_ms)) != 0)
        return rc;
    if (out->qualified_until_ms) {
        out->downgrade_ms = out->qualified_until_ms +
                            (int64_t)cfg->tier_grace_days * CIVIL_DAY_MS;
        out->after_downgrade = tier_at_best(ws, cfg, out->downgrade_ms);
    }
    return 0;
}

int profile_tier_status(const store_event_rec_t *ev, size_t n, const profile_config_t *cfg,
                        int64_t now_ms, profile_tier_status_t *out)
{
    profile_config_t defaults;
    window_sums_t ws;
    profile_history_t h;
    int64_t *orders = NULL;
    size_t k = 0;
    int rc;

    if ((!ev && n) || !out)
        return -EINVAL;
    if ((cfg = profile_config_or_default(cfg, &defaults)) == NULL)
        return -EINVAL;
    rc = profile_history_open(ev, n, now_ms, &h);
    if (rc == 0)
        rc = profile_orders_collect(&h, cfg, &orders, &k);
    if (rc == 0 && (rc = sums_build(&h, orders, k, &ws)) == 0) {
        rc = status_of(&ws, cfg, now_ms, out);
        sums_free(&ws);
    }
    free(orders);
    profile_history_close(&h);
    return rc;
}

