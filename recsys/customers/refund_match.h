/*
 * refund_match.h - which purchases a refund takes back: the latest earlier
 * purchases of the same item that still have unrefunded quantity, as many
 * units as the refund carries. The points ledger (points.c) gives back
 * each matched purchase's share of its points; missions (missions.c) stop
 * counting a purchase refunded whole. Pure; no state.
 */
#ifndef PATRON_RECSYS_REFUND_MATCH_H
#define PATRON_RECSYS_REFUND_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* An event's quantity, 1 when it carries none. */
int64_t refund_quantity(const store_event_rec_t *e);

/* Called once per purchase p the refund matched, after refunded[p] grew by
 * what the refund took from it (refunded[p] <= refund_quantity(&ev[p])).
 * A nonzero return stops the match and is returned. */
typedef int (*refund_match_fn)(void *ctx, size_t p);

/* Matches the refund ev[i] with the purchases before it (ev in time order);
 * refunded[0..i) holds each purchase's refunded quantity so far and is
 * updated. A refund without an item matches nothing. Returns 0 or fn's
 * return. */
int refund_match(const store_event_rec_t *ev, size_t i, int64_t *refunded,
                 refund_match_fn fn, void *ctx);

#endif
