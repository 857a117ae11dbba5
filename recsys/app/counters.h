/*
 * counters.h - what the use cases did since the process started, for
 * monitoring (patrond's /metrics): events stored by type and events
 * rejected, coupon decisions by outcome, trigger firings by what the
 * contact policy made of them, and responses served under each
 * experiment arm. Counted where the work is committed (after the store
 * transaction), and keyed only by enums and the operator's experiment and
 * arm ids: never a customer or item id.
 *
 * Threads: any number at once. The fixed counters are relaxed atomics (a
 * reader may see one a few increments apart from another); the arm table
 * is a small array under a mutex, one entry per (experiment, arm) ever
 * served, at most COUNTERS_MAX_ARMS: exposures of arms beyond it are only
 * counted in arms_dropped.
 *
 * Lifetime: the owner (app_t) calls counters_init once and counters_destroy
 * after the last user; a counters_t never moves. Every function taking a
 * counters_t accepts NULL (nothing is counted), so use cases may run
 * without one (tests, the CLI).
 */
#ifndef PATRON_RECSYS_COUNTERS_H
#define PATRON_RECSYS_COUNTERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arms.h"

#define COUNTERS_EVENT_TYPES 12  /* indexed by store_event_type_t (1..11) */
#define COUNTERS_OUTCOMES 8      /* indexed by coupon_outcome_t */
#define COUNTERS_MAX_ARMS 1024

/* What became of a trigger firing (triggers.h). */
typedef enum counters_trigger {
    COUNTERS_TRIGGER_LOGGED = 0,
    COUNTERS_TRIGGER_DEFERRED = 1,
    COUNTERS_TRIGGER_SUPPRESSED = 2,
} counters_trigger_t;
#define COUNTERS_TRIGGER_OUTCOMES 3

typedef struct counters_arm {
    char experiment[EXPERIMENT_MAX_ID + 1];
    char arm[EXPERIMENT_MAX_ID + 1];
    uint64_t exposures;
} counters_arm_t;

typedef struct counters {
    _Atomic uint64_t events[COUNTERS_EVENT_TYPES];
    _Atomic uint64_t events_rejected;
    _Atomic uint64_t decisions[COUNTERS_OUTCOMES];
    _Atomic uint64_t triggers[COUNTERS_TRIGGER_OUTCOMES];
    pthread_mutex_t mu;          /* guards the arm table */
    counters_arm_t *arms;        /* in first-served order */
    size_t n_arms, cap_arms;
    uint64_t arms_dropped;
} counters_t;

void counters_init(counters_t *c);
void counters_destroy(counters_t *c);

/* One event of store_event_type_t `type` stored (other types: ignored). */
void counters_event(counters_t *c, int type);

/* n events refused (bad field or time); duplicates are neither. */
void counters_events_rejected(counters_t *c, uint64_t n);

/* One coupon decision (coupon_outcome_t; others ignored) committed. */
void counters_decision(counters_t *c, int outcome);

/* n trigger firings with outcome `outcome` (counters_trigger_t; others
 * ignored). A deferred firing counts again each time it is put off. */
void counters_triggers(counters_t *c, int outcome, uint64_t n);

/* One response served under every arm of a (none when a->n == 0). */
void counters_exposure(counters_t *c, const arms_t *a);

/* A copy of the arm table sorted by experiment, then arm: *out (malloc'd,
 * the caller frees; NULL when empty) of *n entries, and *dropped (may be
 * NULL) the exposures not counted for want of room. Returns 0 or -ENOMEM. */
int counters_arms(counters_t *c, counters_arm_t **out, size_t *n, uint64_t *dropped);

#endif
