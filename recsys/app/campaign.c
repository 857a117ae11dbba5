/*
 * campaign.c - a campaign's audience ranked by expected incremental profit
 * and cut at its budget (campaign.h).
 */
#include "campaign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consentstore.h"
#include "contactstore.h"
#include "couponstore.h"
#include "grow.h"
#include "monotime.h"
#include "serve_coupon.h"

/* campaign_audience checks c->deadline after this many customers. */
#define CAMPAIGN_DEADLINE_EVERY 64

typedef struct scoring {
    campaign_audience_t *a;
    couponstore_models_t models;
    coupon_config_t cfg;
    int64_t now;
    store_t *store;
    size_t cap;
    contact_config_t contact;  /* consent default and contact policy */
    tz_cache_t *zones;         /* NULL: no contact policy (campaign_scan_reach) */
    int channel;               /* -1: marketing consent alone */
} scoring_t;

/* Keeps the campaign's coupons of the catalog; -ENOENT if none. */
static int campaign_coupons(store_t *s, const char *campaign, campaign_audience_t *a)
{
    coupon_t *all = NULL;
    size_t n = 0, k = 0;
    int rc = couponstore_load_catalog(s, &all, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].campaign, campaign) == 0)
            all[k++] = all[i];
    a->coupons = all;
    a->n_coupons = k;
    return k ? 0 : -ENOENT;
}

static campaign_member_t *add_member(scoring_t *sc)
{
    campaign_audience_t *a = sc->a;
    if (GROW(a->members, sc->cap, a->n + 1))
        return NULL;
    return &a->members[a->n++];
}

/* Whether the customer may receive the campaign: marketing consent (on
 * the channel, when one is set) and, with a channel, the contact policy
 * for a coupon message now. *ok gets 1 or 0. */
static int reachable(const scoring_t *sc, const char *customer_id, int *ok)
{
    contactstore_env_t env = { sc->store, &sc->contact, sc->zones };
    contact_decision_t d;
    int rc = consentstore_allows(sc->store, customer_id, sc->channel, CONSENT_MARKETING,
                                 (consent_state_t)sc->contact.consent_default, ok);
    if (rc || !*ok || sc->channel < 0 || !sc->zones)
        return rc;
    rc = contactstore_check(&env, customer_id, sc->channel, CONTACT_COUPON, sc->now, &d,
                            NULL);
    *ok = rc == 0 && d.allowed;
    return rc;
}

/* Scores one customer: the campaign's best coupon at lambda 1, if worth it. */
static int score_customer(void *ctx, const customer_view_t *v)
{
    scoring_t *sc = ctx;
    int ok = 0;
    coupon_held_t held[COUPONSTORE_MAX_HELD];
    couponstore_history_t h;
    coupon_history_t hv;
    coupon_customer_t cc;
    coupon_decision_t d;
    campaign_member_t *m;
    int rc;

    if ((rc = reachable(sc, v->customer_id, &ok)) != 0 || !ok)
        return rc;
    serve_coupon_customer(v, &cc);
    if ((rc = couponstore_get_history(sc->store, v->customer_id, &h)) != 0)
        return rc;
    couponstore_history_view(&h, sc->now, held, &hv);
    rc = coupon_decide(sc->a->coupons, sc->a->n_coupons, sc->models.m, NULL, &cc, &hv, NULL,
                       &sc->cfg, sc->now, &d, NULL, NULL);
    if (rc || d.choice == COUPON_NONE)
        return rc;
    if (!(m = add_member(sc)))
        return -ENOMEM;
    snprintf(m->customer_id, sizeof m->customer_id, "%s", v->customer_id);
    m->coupon = d.choice;
    m->value = d.chosen.value;
    m->expected_cost = d.chosen.expected_cost;
    m->max_cost = coupon_max_cost(&sc->a->coupons[d.choice], d.chosen.threshold);
    m->cumulative = 0;
    return 0;
}

static int by_value_desc(const void *pa, const void *pb)
{
    const campaign_member_t *a = pa, *b = pb;
    if (a->value != b->value)
        return a->value > b->value ? -1 : 1;
    return strcmp(a->customer_id, b->customer_id);
}

/* Ranks and keeps the prefix whose worst-case cost fits budget. */
static void cut_at_budget(campaign_audience_t *a, double budget, uint64_t limit)
{
    double total = 0.0;
    size_t k = 0;
    if (a->n > 1)
        qsort(a->members, a->n, sizeof *a->members, by_value_desc);
    for (; k < a->n && (!limit || k < limit); k++) {
        if (!uplift_grant_fits(budget, total, a->members[k].max_cost))
            break;
        total += a->members[k].max_cost;
        a->members[k].cumulative = total;
    }
    a->n = k;
}

struct campaign_scan {
    scoring_t sc;
    customers_cursor_t cur;
    double budget;
    uint64_t limit;
};

void campaign_scan_free(campaign_scan_t *scan)
{
    if (!scan)
        return;
    couponstore_models_free(&scan->sc.models);
    free(scan);
}

int campaign_scan_begin(store_t *s, const customers_ctx_t *c, const char *campaign_id,
                        double budget, uint64_t limit, int64_t now_ms,
                        const coupon_config_t *cfg, campaign_audience_t *out,
                        campaign_scan_t **scanp)
{
    campaign_scan_t *scan;
    couponstore_budget_t b;
    int rc;

    memset(out, 0, sizeof *out);
    *scanp = NULL;
    if (!s || !c || !campaign_id || !campaign_id[0] || !(budget >= 0))
        return -EINVAL;
    if (!(scan = calloc(1, sizeof *scan)))
        return -ENOMEM;
    scan->sc = (scoring_t){ .a = out, .now = now_ms, .store = s, .channel = -1 };
    if (c->cfg)
        scan->sc.contact = c->cfg->contact;
    else
        contact_config_default(&scan->sc.contact);
    if (cfg)
        scan->sc.cfg = *cfg;
    else
        coupon_config_default(&scan->sc.cfg);
    scan->sc.cfg.explore_rate = 0.0; /* a ranking, not a policy draw */
    rc = campaign_coupons(s, campaign_id, out);
    if (rc == 0)
        rc = couponstore_get_budget(s, campaign_id, &b);
    if (rc == 0)
        rc = couponstore_models_load(scan->sc.store, scan->sc.a->coupons,
                                     scan->sc.a->n_coupons, &scan->sc.models);
    if (rc == 0)
        rc = customers_cursor_init(c, &scan->cur);
    if (rc) {
        campaign_scan_free(scan);
        return rc;
    }
    scan->budget = budget == 0 ? b.budget - b.spent - b.committed : budget;
    scan->limit = limit;
    *scanp = scan;
    return 0;
}

void campaign_scan_reach(campaign_scan_t *scan, tz_cache_t *zones, int channel)
{
    scan->sc.zones = zones;
    scan->sc.channel = channel;
}

int campaign_scan_step(campaign_scan_t *scan, const customers_ctx_t *c, uint32_t max)
{
    int rc = customers_select_step(c, NULL, scan->sc.now, &scan->cur, max, score_customer,
                                   &scan->sc);
    if (rc)
        return rc;
    if (scan->cur.next < scan->cur.end)
        return 1;
    cut_at_budget(scan->sc.a, scan->budget > 0 ? scan->budget : 0.0, scan->limit);
    return 0;
}

int campaign_audience(store_t *s, const customers_ctx_t *c, const char *campaign_id,
                      double budget, uint64_t limit, int64_t now_ms,
                      const coupon_config_t *cfg, campaign_audience_t *out)
{
    campaign_scan_t *scan;
    int rc = campaign_scan_begin(s, c, campaign_id, budget, limit, now_ms, cfg, out, &scan);

    while (rc == 0 && (rc = campaign_scan_step(scan, c, CAMPAIGN_DEADLINE_EVERY)) == 1)
        if (c->deadline > 0 && monotime_seconds() >= c->deadline)
            rc = -ETIMEDOUT;
    campaign_scan_free(scan);
    return rc;
}

void campaign_audience_free(campaign_audience_t *a)
{
    if (!a)
        return;
    free(a->coupons);
    free(a->members);
    memset(a, 0, sizeof *a);
}
