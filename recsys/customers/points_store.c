/*
 * points_store.c - one customer's points ledger from the store
 * (points_store.h).
 */
#include "points_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "store_custdata.h"

static char *copy_id(const char *id, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, id, len);
        s[len] = '\0';
    }
    return s;
}

static int push_event(void *ctx, const store_event_rec_t *ev, const char *id, size_t len)
{
    points_store_view_t *v = ctx;
    if (grow_parallel(&v->cap, v->n + 1, 2, (void *const[]){ &v->ev, &v->ids },
                      (const size_t[]){ sizeof *v->ev, sizeof *v->ids }))
        return -ENOMEM;
    if (!(v->ids[v->n] = copy_id(id, len)))
        return -ENOMEM;
    v->ev[v->n++] = *ev;
    return 0;
}

/* The row note of a stored entry: an adjustment's reason, the reward a
 * redemption bought; NULL when none (or out of memory: *oom set). */
static char *entry_note(const store_points_entry_t *e, int *oom)
{
    const char *prefix = e->adjust ? "" : "reward ";
    const char *what = e->adjust ? e->reason : e->reward_id;
    size_t n;
    char *s;
    if (!what[0])
        return NULL;
    n = strlen(prefix) + strlen(what) + 1;
    if (!(s = malloc(n)))
        *oom = 1;
    else
        snprintf(s, n, "%s%s", prefix, what);
    return s;
}

/* A tier reward holding its tier at now_ms raises *tier (and *until_ms). */
static void note_tier(const profile_config_t *cfg, int64_t now_ms,
                      const store_points_entry_t *e, int *tier, int64_t *until_ms)
{
    if (!e->tier[0] || e->time_ms > now_ms || e->until_ms <= now_ms)
        return;
    for (size_t t = 0; t < cfg->n_tiers; t++) {
        if (strcmp(cfg->tiers[t].name, e->tier) != 0)
            continue;
        if ((int)t > *tier || ((int)t == *tier && e->until_ms > *until_ms)) {
            *tier = (int)t;
            *until_ms = e->until_ms;
        }
    }
}

static int push_redemption(void *ctx, const store_export_points_t *p)
{
    points_store_view_t *v = ctx;
    const store_points_entry_t *e = p->entry;
    int oom = 0;
    char *id, *note;
    if (GROW(v->red, v->cap_red, v->n_red + 1) ||
        !(id = copy_id(p->redemption_id, strlen(p->redemption_id))))
        return -ENOMEM;
    note = entry_note(e, &oom);
    if (oom) {
        free(id);
        return -ENOMEM;
    }
    v->red[v->n_red++] = (points_redemption_t){ .id = id, .points = e->points,
                                                .time_ms = e->time_ms, .adjust = e->adjust,
                                                .note = note };
    v->redeemed_total += e->points - e->adjust;
    note_tier(v->cfg, v->now_ms, e, &v->tier_bought, &v->tier_bought_until_ms);
    return 0;
}

typedef struct tier_scan {
    const profile_config_t *cfg;
    int64_t now_ms;
    int tier;
    int64_t until_ms;
} tier_scan_t;

static int scan_tier(void *ctx, const store_export_points_t *p)
{
    tier_scan_t *t = ctx;
    note_tier(t->cfg, t->now_ms, p->entry, &t->tier, &t->until_ms);
    return 0;
}

int points_store_tier_bought(store_t *s, const profile_config_t *cfg, const char *customer_id,
                             int64_t now_ms, int *tier, int64_t *until_ms)
{
    tier_scan_t t = { cfg, now_ms, -1, 0 };
    int rc = s && cfg && customer_id && tier ? store_scan_points(s, customer_id, scan_tier, &t)
                                             : -EINVAL;
    if (rc == 0) {
        *tier = t.tier;
        if (until_ms)
            *until_ms = t.until_ms;
    }
    return rc;
}

/* Each rule's category id in cat (POINTS_ANY_CATEGORY without a filter). */
static void resolve_categories(const profile_config_t *cfg, const catalog_t *cat,
                               uint32_t *out)
{
    for (size_t k = 0; k < points_rule_count(cfg); k++) {
        points_rule_t tmp;
        const points_rule_t *r = points_rule_at(cfg, k, &tmp);
        out[k] = POINTS_ANY_CATEGORY;
        if (r->category[0] && (!cat || catalog_category_index(cat, r->category, &out[k])))
            out[k] = POINTS_UNKNOWN_CATEGORY;
    }
}

int points_store_ledger(store_t *s, const profile_config_t *cfg, const catalog_t *cat,
                        const char *customer_id, int64_t now_ms, points_store_view_t *out)
{
    uint32_t idx, rule_cat[POINTS_MAX_RULES];
    points_history_t h;
    int rc;

    memset(out, 0, sizeof *out);
    out->tier_bought = -1;
    out->cfg = cfg;
    out->now_ms = now_ms;
    if (!s || !cfg || !customer_id)
        return -EINVAL;
    rc = store_customer_index(s, customer_id, &idx);
    if (rc == 0)
        rc = store_customer_events_ids(s, idx, push_event, out);
    else if (rc == -ENOENT)
        rc = 0;
    if (rc == 0)
        rc = store_scan_points(s, customer_id, push_redemption, out);
    if (rc == 0)
        rc = referral_store_view(s, &cfg->referral, customer_id, now_ms, &out->referral);
    if (rc)
        return rc;
    resolve_categories(cfg, cat, rule_cat);
    h = (points_history_t){ .ev = out->ev, .ids = (const char *const *)out->ids, .n = out->n,
                            .red = out->red, .n_red = out->n_red,
                            .item_category = cat ? cat->item_cat : NULL,
                            .n_items = cat ? cat->n_items : 0, .rule_category = rule_cat,
                            .bonus = out->referral.bonus, .n_bonus = out->referral.n_bonus,
                            .shared_fingerprint = out->referral.shared_fingerprint };
    return points_ledger_compute(&h, cfg, now_ms, &out->ledger);
}

void points_store_view_free(points_store_view_t *v)
{
    if (!v)
        return;
    points_ledger_free(&v->ledger);
    referral_view_free(&v->referral);
    for (size_t i = 0; i < v->n; i++)
        free(v->ids[i]);
    for (size_t i = 0; i < v->n_red; i++) {
        free((char *)v->red[i].id);
        free((char *)v->red[i].note);
    }
    free(v->ev);
    free(v->ids);
    free(v->red);
    memset(v, 0, sizeof *v);
}
