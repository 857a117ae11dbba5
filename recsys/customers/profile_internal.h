/*
 * profile_internal.h - what profile.c (profiles from histories) and
 * profile_tier.c (tiers: the held tier, its status) share. Not part of the
 * profile contract (profile.h).
 */
#ifndef PATRON_RECSYS_PROFILE_INTERNAL_H
#define PATRON_RECSYS_PROFILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Window spends are differences of running sums; a spend that should equal a
 * threshold exactly may come out a few ulps short. A millionth of a currency
 * unit is far below any price. */
#define PROFILE_MONEY_EPS 1e-6

/* A customer's events up to now in one canonical total order (time, then
 * type, item, quantity, price): the caller's array when already in it, else
 * a sorted copy (owned). */
typedef struct profile_history {
    const store_event_rec_t *ev;
    size_t n;
    store_event_rec_t *owned; /* the sorted copy, when one was needed */
} profile_history_t;

/* The number of leading events with time <= now (ev sorted by time). */
size_t profile_count_upto(const store_event_rec_t *ev, size_t n, int64_t now);
/* Returns 0 or -ENOMEM; close it whatever it returned. */
int profile_history_open(const store_event_rec_t *ev, size_t n, int64_t now,
                         profile_history_t *h);
void profile_history_close(profile_history_t *h);

/* +amount for a purchase, -amount for a refund, 0 for anything else. */
double profile_event_spend(const store_event_rec_t *e);
/* 1 for a view or a cart. */
int profile_is_engagement(const store_event_rec_t *e);

/* Start times of the history's orders, ascending, in a malloc'd array the
 * caller frees (NULL when there are none). 0 or -ENOMEM. */
int profile_orders_collect(const profile_history_t *h, const profile_config_t *cfg,
                           int64_t **out, size_t *k);

/* cfg, or the defaults (in *defaults) when cfg is NULL; NULL when cfg is
 * invalid. */
const profile_config_t *profile_config_or_default(const profile_config_t *cfg,
                                                  profile_config_t *defaults);

/* The tier held at now (profile_tier) from a history and its orders. */
int profile_tier_of_history(const profile_history_t *h, const int64_t *orders, size_t k,
                            const profile_config_t *cfg, int64_t now, int *tier);

#endif
