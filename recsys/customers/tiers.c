/*
 * tiers.c - tier benefits from the settings file, the progress sentence,
 * and a stored customer's tier status (tiers.h).
 */
#include "tiers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "points_store.h"
#include "textbuf.h"

#define MAX_MULTIPLIER 10.0
#define MAX_EARLY_HOURS 8760u

static profile_tier_rule_t *tier_named(profile_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_tiers; i++)
        if (strcmp(cfg->tiers[i].name, name) == 0)
            return &cfg->tiers[i];
    return NULL;
}

static int number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

/* One BENEFIT token into b; NULL or what is wrong. */
static const char *benefit_parse(profile_tier_benefits_t *b, const char *tok)
{
    const char *eq = strchr(tok, '=');
    size_t klen = eq ? (size_t)(eq - tok) : strlen(tok);
    double v;

#define KEY(k) (klen == strlen(k) && strncmp(tok, k, klen) == 0)
    if (!eq && KEY("free_shipping"))
        b->free_shipping = 1;
    else if (!eq && KEY("dedicated_service"))
        b->dedicated_service = 1;
    else if (eq && KEY("points_multiplier")) {
        if (!number(eq + 1, 1.0, MAX_MULTIPLIER, &v))
            return "points_multiplier must be a number 1..10";
        b->points_multiplier = v;
    } else if (eq && KEY("early_access_hours")) {
        if (!number(eq + 1, 0, MAX_EARLY_HOURS, &v) || v != (double)(uint32_t)v)
            return "early_access_hours must be a whole number 0..8760";
        b->early_access_hours = (uint32_t)v;
    } else if (eq && KEY("price_list")) {
        if (!id_check(eq + 1, PROFILE_NAME_MAX - 1, ID_TOKEN))
            return "price_list must be 1..31 of A-Z a-z 0-9 _ . -";
        snprintf(b->price_list, sizeof b->price_list, "%s", eq + 1);
    } else {
        return "unknown benefit (free_shipping, dedicated_service, "
               "points_multiplier=X, early_access_hours=N, price_list=LIST)";
    }
#undef KEY
    return NULL;
}

const char *tiers_benefits_parse(profile_config_t *cfg, const char *value)
{
    char buf[512], *save = NULL, *tok;
    profile_tier_benefits_t b;
    profile_tier_rule_t *t;

    if (!cfg || !value || strlen(value) >= sizeof buf)
        return "expected NAME BENEFIT [BENEFIT ...]";
    memcpy(buf, value, strlen(value) + 1);
    if (!(tok = strtok_r(buf, " \t", &save)))
        return "expected NAME BENEFIT [BENEFIT ...]";
    if (!(t = tier_named(cfg, tok)))
        return "no tier of that name (define it with a tier line above)";
    memset(&b, 0, sizeof b);
    if (!(tok = strtok_r(NULL, " \t", &save)))
        return "expected NAME BENEFIT [BENEFIT ...]";
    for (; tok; tok = strtok_r(NULL, " \t", &save)) {
        const char *why = benefit_parse(&b, tok);
        if (why)
            return why;
    }
    t->benefits = b;
    return NULL;
}

/* ---- the sentence ---------------------------------------------------------------- */

/* "190.00 more spend, 1 more order and 5 more views or carts". */
static void put_need(textbuf_t *t, const profile_tier_need_t *n)
{
    const char *parts[3];
    char b[3][64];
    size_t k = 0;

    if (n->spend > 0) {
        snprintf(b[k], sizeof b[k], "%.2f more spend", n->spend);
        parts[k] = b[k], k++;
    }
    if (n->orders) {
        snprintf(b[k], sizeof b[k], "%u more order%s", n->orders, n->orders == 1 ? "" : "s");
        parts[k] = b[k], k++;
    }
    if (n->engagement) {
        snprintf(b[k], sizeof b[k], "%u more view%s or carts", n->engagement,
                 n->engagement == 1 ? "" : "s");
        parts[k] = b[k], k++;
    }
    for (size_t i = 0; i < k; i++)
        textbuf_put(t, "%s%s", i == 0 ? "" : i + 1 == k ? " and " : ", ", parts[i]);
}

static int need_any(const profile_tier_need_t *n)
{
    return n->spend > 0 || n->orders || n->engagement;
}

char *tiers_progress_text(const profile_config_t *cfg, const profile_tier_status_t *st,
                          char *buf, size_t cap)
{
    textbuf_t t = { buf, cap, 0 };

    if (!buf || !cap)
        return buf;
    buf[0] = '\0';
    if (!cfg || !st)
        return buf;
    if (st->next >= 0) {
        textbuf_put(&t, "%s needs ", profile_tier_name(cfg, st->next));
        put_need(&t, &st->to_next);
        textbuf_put(&t, " within %u days", cfg->tier_window_days);
    }
    if (st->tier < 0 || !st->downgrade_ms)
        return buf;
    textbuf_put(&t, "%s%s ", t.len ? "; " : "", profile_tier_name(cfg, st->tier));
    if (need_any(&st->to_keep)) {
        textbuf_put(&t, "is kept until ");
        textbuf_date(&t, st->downgrade_ms);
        textbuf_put(&t, ": requalifying needs ");
        put_need(&t, &st->to_keep);
    } else {
        textbuf_put(&t, "is met until ");
        textbuf_date(&t, st->qualified_until_ms);
        textbuf_put(&t, " and kept until ");
        textbuf_date(&t, st->downgrade_ms);
        textbuf_put(&t, " without new activity");
    }
    return buf;
}

/* ---- a stored customer -------------------------------------------------------------- */

/* The customer's stored events into h (none for an unknown customer). */
static int stored_history(const customers_ctx_t *c, const char *customer_id,
                          store_event_list_t *h)
{
    uint32_t idx;
    int rc;

    if (!c || !id_check(customer_id, STORE_MAX_ID, 0))
        return -EINVAL;
    rc = store_customer_index(c->store, customer_id, &idx);
    if (rc == 0)
        rc = store_customer_events(c->store, idx, store_event_list_push, h);
    return rc == -ENOENT ? 0 : rc;
}

int tiers_held(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
               int *tier)
{
    store_event_list_t h = { 0 };
    int bought = -1, rc = tier ? stored_history(c, customer_id, &h) : -EINVAL;

    if (rc == 0)
        rc = profile_tier(h.ev, h.n, c->cfg, now_ms, tier);
    if (rc == 0)
        rc = points_store_tier_bought(c->store, c->cfg, customer_id, now_ms, &bought, NULL);
    if (rc == 0 && bought > *tier)
        *tier = bought;
    store_event_list_free(&h);
    return rc;
}

int tiers_status(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
                 profile_tier_status_t *out)
{
    store_event_list_t h = { 0 };
    int rc = out ? stored_history(c, customer_id, &h) : -EINVAL;

    if (rc == 0)
        rc = profile_tier_status(h.ev, h.n, c->cfg, now_ms, out);
    store_event_list_free(&h);
    return rc;
}
