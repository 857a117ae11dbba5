/*
 * missions.h - missions (mission_def.h) as a pure function of a customer's
 * events and the time: when each was completed, and where the customer
 * stands now.
 *
 * One pass over the events in time order; every mission has the UTC
 * calendar period containing the event (civil_period_bounds; once: all
 * time) and is completed at most once per period, at the event that
 * reached its target (the completion's time is that event's):
 *
 *   streak_days N   the UTC days with a matching event; a run of N
 *                   consecutive days completes it. A run may begin in the
 *                   previous period, and a completion uses the run up: the
 *                   next one starts the day after. Days of a run that
 *                   reached N in a period already completed carry on, so
 *                   one who keeps checking in completes it again at the
 *                   first matching day of the next period.
 *   distinct_categories N   matching events in the period on items of N
 *                   distinct catalog categories (an item without one, or
 *                   no catalog, counts for nothing).
 *   count N         N matching events in the period.
 *
 * Refunds: before a count or distinct_categories mission over purchases is
 * completed, a purchase of the period refunded whole (refund_match.h, as
 * the points ledger matches refunds) stops counting: its category stops
 * counting when no other counted purchase of the period has it. A
 * completion is never undone: its reward stays when the purchases that
 * made it are refunded later. Streaks ignore refunds.
 *
 * A completion pays the mission's reward_points (points.h turns it into a
 * ledger row of reason mission, source completion.source). Nothing is
 * stored: the same events give the same completions (idempotent by event
 * id as the ledger is).
 *
 * Thread safety: none needed, no shared state; inputs are borrowed for the
 * call, the result owns what it holds.
 */
#ifndef PATRON_RECSYS_MISSIONS_H
#define PATRON_RECSYS_MISSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "mission_def.h"
#include "store.h"

/* "NAME:PERIOD": PERIOD is once, 2026, 2026-02 or 2026-W06 (ISO week). */
#define MISSION_SOURCE_MAX (MISSION_NAME_MAX + 32)

typedef struct mission_completion {
    int mission;            /* index into the config */
    size_t ev;              /* the event that completed it */
    int64_t time_ms;        /* that event's time */
    int64_t points;         /* the reward */
    char source[MISSION_SOURCE_MAX]; /* names the mission and the period */
} mission_completion_t;

/* Where a customer stands on one mission as of now. */
typedef struct mission_progress {
    uint32_t progress;      /* the target when completed in this period;
                               else streak: days in the current run, 0
                               when the last matching day is before
                               yesterday; else events or categories
                               counted in the period */
    uint32_t target;
    int completed;          /* completed in the period containing now */
    int64_t completed_ms;   /* then; 0 */
    int64_t period_start_ms, period_end_ms; /* [start, end) containing now;
                               once: 0 and INT64_MAX */
    uint32_t completions;   /* over all periods up to now */
    uint32_t categories[MISSION_MAX_CATEGORIES]; /* distinct_categories:
                               catalog ids counted, first counted first */
    size_t n_categories;
} mission_progress_t;

typedef struct missions_result {
    mission_completion_t *done;     /* time order; ties in mission order */
    size_t n_done, cap_done;
    mission_progress_t progress[MISSIONS_MAX]; /* [mc->n] */
    size_t n;
} missions_result_t;

/* Completions and progress of ev[0..n) (time order, every type) as of
 * now_ms (later events are ignored) into *out (zeroed first; free with
 * missions_result_free, also on error). item_category maps an item index
 * to its catalog category (CATALOG_NO_CATEGORY / UINT32_MAX for none);
 * NULL: no catalog. Returns 0, -EINVAL (NULL mc or out, n > 0 without ev)
 * or -ENOMEM. */
int missions_compute(const store_event_rec_t *ev, size_t n, const uint32_t *item_category,
                     size_t n_items, const missions_config_t *mc, int64_t now_ms,
                     missions_result_t *out);

void missions_result_free(missions_result_t *r); /* NULL-safe */

/* The progress sentence a profile shows, into buf (returned; "" for NULL
 * arguments): "3/7 days in a row (this month, through 2026-02-28)",
 * "2/3 categories: Shoes, Books (this month, through 2026-02-28)",
 * "1/2 review events (this week, through 2026-02-08)", "completed on
 * 2026-02-03; again from 2026-03-01" (once: "completed on 2026-02-03").
 * category_names
 * (n_names of them, may be NULL) name the categories by id. */
char *missions_progress_text(const mission_def_t *m, const mission_progress_t *p,
                             const char *const *category_names, size_t n_names, char *buf,
                             size_t cap);

#endif
