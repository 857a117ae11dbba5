/*
 * points_store.h - the storage shell of the points ledger (points.h): reads
 * one customer's events (every type, with their ids) and redemptions from
 * the store, resolves the rules' categories in the catalog, adds what the
 * customer's referrals pay (referral_store.h), and derives the ledger. Nothing of the ledger is stored: it follows from the events
 * (idempotent by event id) and the redemptions (idempotent by redemption
 * id, store_points_redeem), which erasure, export and merges already cover
 * (the store's custdata owner), so it cannot drift from them.
 *
 * Thread safety: any number of threads, as the store.
 */
#ifndef PATRON_RECSYS_POINTS_STORE_H
#define PATRON_RECSYS_POINTS_STORE_H

#include <stdint.h>

#include "catalog.h"
#include "points.h"
#include "referral_store.h"
#include "profile.h"
#include "store.h"

/* A ledger with the history it borrows from; owns everything. */
typedef struct points_store_view {
    points_ledger_t ledger;
    int64_t redeemed_total; /* what the stored entries spent, net of manual
                               adjustments (any time): store_points_redeemed */
    int tier_bought;        /* the highest tier a tier reward holds at now_ms
                               (index into cfg->tiers), -1 none */
    int64_t tier_bought_until_ms; /* ... until then */
    referral_view_t referral; /* the referrals (their rewards are ledger
                                 rows, POINTS_REFERRAL) */
    /* private */
    store_event_rec_t *ev;
    char **ids;
    size_t n, cap;
    points_redemption_t *red;
    size_t n_red, cap_red;
    const profile_config_t *cfg;
    int64_t now_ms;
} points_store_view_t;

/* Derives customer_id's ledger as of now_ms into *out (free with
 * points_store_view_free, also on error). cat may be NULL (category rules
 * then match nothing). A customer unknown to the store has an empty
 * ledger. Returns 0, -EINVAL, -ENOMEM or a store error. */
int points_store_ledger(store_t *s, const profile_config_t *cfg, const catalog_t *cat,
                        const char *customer_id, int64_t now_ms, points_store_view_t *out);

/* The highest tier a stored tier reward of customer_id holds at now_ms
 * (index into cfg->tiers, -1 none) into *tier, and until when into
 * *until_ms (may be NULL): what points_store_ledger's tier_bought says,
 * from the stored points entries alone. Returns 0, -EINVAL or a store
 * error. */
int points_store_tier_bought(store_t *s, const profile_config_t *cfg, const char *customer_id,
                             int64_t now_ms, int *tier, int64_t *until_ms);

void points_store_view_free(points_store_view_t *v); /* NULL-safe */

#endif
