/*
 * programme.h - the loyalty programme in force: the operator's settings
 * (settings.h: tiers and their benefits, points rules and expiry, the
 * contact policy, triggers, coupon guards, and whatever else the settings
 * file grows) as an immutable, reference-counted snapshot, with the text it
 * was parsed from and which version it is (programme_store.h).
 *
 * A request pins the snapshot once (programme_slot_get) and reads every
 * setting from it until it unrefs it, so a SetProgramme swapping in a new
 * one mid-request never mixes two programmes in one answer. The snapshot
 * is never modified after programme_new; the last unref frees it.
 *
 * Thread safety: programme_ref/unref and the slot functions may be called
 * from any thread; a pinned snapshot may be read by any thread without
 * locks.
 */
#ifndef PATRON_RECSYS_PROGRAMME_H
#define PATRON_RECSYS_PROGRAMME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

#define PROGRAMME_MAX_BY 64 /* bytes of who set a version (a token's name) */

typedef struct programme {
    atomic_int refs;
    uint64_t version;        /* stored version; 0: not stored (the --profiles
                                file, or the defaults without one) */
    int64_t set_ms;          /* when the version was stored; 0 for version 0 */
    char set_by[PROGRAMME_MAX_BY + 1];
    uint64_t rollback_of;    /* 0, or the version whose text this repeats */
    char *text;              /* NUL-terminated, len bytes; owned */
    size_t len;
    settings_t settings;     /* parsed from text: copied whole */
} programme_t;

/* A snapshot of *s (copied) with a copy of text and these facts, one
 * reference held by the caller. set_by may be NULL (""; longer than
 * PROGRAMME_MAX_BY is cut). Returns 0 or -ENOMEM. */
int programme_new(const settings_t *s, const char *text, size_t len, uint64_t version,
                  int64_t set_ms, const char *set_by, uint64_t rollback_of,
                  programme_t **out);

programme_t *programme_ref(programme_t *p);  /* returns p */
void programme_unref(programme_t *p);        /* NULL-safe; frees on the last */

/* The snapshot whose settings.profile cfg is: for code handed only the
 * profile settings of a pinned programme (customers_ctx_t.cfg). cfg must
 * point into a programme_t. */
programme_t *programme_of_profile(const profile_config_t *cfg);

/* The slot holding the programme in force. */
typedef struct programme_slot {
    pthread_mutex_t mu;
    programme_t *cur;
} programme_slot_t;

void programme_slot_init(programme_slot_t *slot);
void programme_slot_destroy(programme_slot_t *slot); /* drops the current one */
/* The current programme with a reference taken (unref it), or NULL before
 * the first programme_slot_set. */
programme_t *programme_slot_get(programme_slot_t *slot);
/* Installs p (taking over the caller's reference) and drops the old one. */
void programme_slot_set(programme_slot_t *slot, programme_t *p);

#endif
