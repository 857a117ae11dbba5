/*
 * programme_store.h - the programme's versions in the store: every text
 * SetProgramme accepted, numbered 1, 2, 3 ... without gaps, never
 * rewritten, the newest in force. Writing is compare-and-set on the newest
 * version, so two operators editing from the same version cannot both
 * win: the second learns it is stale and re-reads.
 *
 * Texts are stored as given; this module does not parse them (the server
 * validates with settings_parse before storing, and again when it loads a
 * version at start).
 *
 * Errors: 0, -ENOENT, -ESTALE, -EINVAL, -ENOMEM, -EBADMSG (a row this
 * build cannot read; store_strerror names it) or a store error (store.h).
 * Thread-safe (the store's transactions).
 */
#ifndef PATRON_RECSYS_PROGRAMME_STORE_H
#define PATRON_RECSYS_PROGRAMME_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "programme.h"
#include "store.h"

typedef struct programme_version {
    uint64_t version;
    int64_t set_ms;
    char set_by[PROGRAMME_MAX_BY + 1];
    uint64_t rollback_of;    /* 0, or the version whose text this repeats */
    char *text;              /* malloc'd, NUL-terminated (NULL when listed
                                without texts); programme_version_clear */
    size_t len;              /* the text's bytes (also when listed) */
} programme_version_t;

void programme_version_clear(programme_version_t *v); /* frees text; NULL-safe */

/* *version gets the newest stored version, 0 when none is stored. */
int programme_store_head(store_t *s, uint64_t *version);

/* Version `version` into *out (clear it after). -ENOENT when not stored. */
int programme_store_get(store_t *s, uint64_t version, programme_version_t *out);

/* What a new version says: the text (len bytes, at most
 * SETTINGS_MAX_TEXT), when, who (NULL: "") and, for a rollback, the
 * version it restores (0 otherwise). */
typedef struct programme_write {
    const char *text;
    size_t len;
    int64_t now_ms;
    const char *set_by;
    uint64_t rollback_of;
} programme_write_t;

/* Stores w as version expected + 1, durably, if the newest stored version
 * is still `expected` (0: none stored yet); *version gets the new number.
 * -ESTALE when it is not (nothing written; *version gets the newest). */
int programme_store_put(store_t *s, uint64_t expected, const programme_write_t *w,
                        uint64_t *version);

/* Calls cb for stored versions newest first, starting at `from` (0: the
 * newest; beyond the newest: the newest), at most limit of them, texts
 * left out (v->text NULL, v->len set); v is valid during the call only.
 * *next gets the version the next page starts at, 0 when none is left.
 * A nonzero return from cb stops and is returned. */
typedef int (*programme_store_visit_fn)(void *ctx, const programme_version_t *v);
int programme_store_list(store_t *s, uint64_t from, size_t limit,
                         programme_store_visit_fn cb, void *ctx, uint64_t *next);

#endif
