/*
 * session.h - the customer's current session weighed above old history.
 *
 * A session is a run of one customer's events with no gap longer than
 * gap_ms between neighbours (the current one: the events since the last
 * such gap, if the latest is recent; a request's inline events always
 * belong to it). Its events are folded in (foldin.h) with recency weights
 * 2^(-age / half_life), age = how many of the session's events came after
 * it (the latest has age 0), giving a session vector x_s in the model's
 * factor space. The answer ranks by
 *
 *   x = (1 - blend) x_long + blend x_s
 *
 * where x_long is the usual long-term vector (trained or folded in from the
 * whole history, recommend.h). blend and half_life are learned on
 * held-out sessions by `patron eval --data DIR --sessions` (sesseval.h),
 * which reports them; session_params_default holds the values learned on
 * the demo shop (the numbers are in session.c).
 *
 * Pure functions over caller-owned arrays; thread-safe.
 */
#ifndef PATRON_RECSYS_SESSION_H
#define PATRON_RECSYS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "foldin.h"
#include "model.h"
#include "store.h"

#define SESSION_GAP_MS_DEFAULT (30 * 60 * 1000) /* the usual web-analytics cut */
#define SESSION_HALF_LIFE_NONE 1e6f /* half-life meaning "no decay": every
                                       event of a session weighs the same */

typedef struct session_params {
    int64_t gap_ms;     /* > 0: longest pause inside one session */
    float half_life;    /* > 0, in events; weights 2^(-age / half_life) */
    float blend;        /* 0..1: weight of the session vector */
} session_params_t;

/* The defaults (learned on the simulator, see session.c). */
void session_params_default(session_params_t *p);

/* Index of the first event of the last session in ev[0..n) (sorted by
 * time): the events after the last gap longer than gap_ms. 0 when n = 0. */
size_t session_last_start(const store_event_rec_t *ev, size_t n, int64_t gap_ms);

/* Fills w[0..n) with the recency weights of a session's events ev[0..n)
 * (in time order): 2^(-(n - 1 - i) / half_life). */
void session_weights(size_t n, float half_life, float *w);

/* Folds the session ev[0..n) (time order) in with the recency weights of
 * p. On success *out owns its arrays (foldin_free). Returns 0, -ENOENT (no
 * event with positive strength on a known item), -ENOMEM, -EDOM (see
 * foldin_solve). */
int session_fold(const model_t *m, const store_event_rec_t *ev, size_t n,
                 const session_params_t *p, foldin_t *out);

/* out[0..f) = (1 - blend) x_long + blend x_sess; out may alias x_long. */
void session_blend(const float *x_long, const float *x_sess, float blend, uint32_t f,
                   float *out);

#endif
