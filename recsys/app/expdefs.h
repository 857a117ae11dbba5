/*
 * expdefs.h - the experiment definitions after a CreateExperiment or an
 * UpdateExperiment: the current list with one definition added or
 * replaced, as a new list (the current one keeps serving until the new one
 * is validated as a set, stored and swapped in).
 */
#ifndef PATRON_RECSYS_EXPDEFS_H
#define PATRON_RECSYS_EXPDEFS_H

#include <stddef.h>
#include <stdint.h>

#include "experiment.h"
#include "expstore.h"

/* Fills what a Create/UpdateExperiment left unset in e (an empty salt or
 * layer, a zero start_ms): from prev, the definition e replaces, when there
 * is one; else salt = e's id, layer "default", start_ms = now_ms. */
void expdefs_defaults(experiment_t *e, const experiment_t *prev, int64_t now_ms);

/* The definition with id in d, or NULL; borrowed from d. */
const experiment_t *expdefs_find(const expstore_defs_t *d, const char *id);

/*
 * *out = cur with e appended (replace == 0) or with e instead of the
 * definition of the same id (replace != 0), in cur's order; every forced
 * list is copied, so out owns its memory (expstore_defs_free) and cur and e
 * may go away. Returns 0; -EEXIST (adding an id cur has) or -ENOENT
 * (replacing an id it has not) with err naming experiment_id; -ENOMEM.
 * On an error *out is empty.
 */
int expdefs_with(const expstore_defs_t *cur, const experiment_t *e, int replace,
                 expstore_defs_t *out, char *err, size_t cap);

#endif
