/* expdefs.c - one experiment definition added or replaced (expdefs.h). */
#include "expdefs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void expdefs_defaults(experiment_t *e, const experiment_t *prev, int64_t now_ms)
{
    if (!e->salt[0])
        memcpy(e->salt, prev ? prev->salt : e->id, sizeof e->salt);
    if (!e->layer[0])
        snprintf(e->layer, sizeof e->layer, "%s", prev ? prev->layer : "default");
    if (!e->start_ms)
        e->start_ms = prev ? prev->start_ms : now_ms;
}

const experiment_t *expdefs_find(const expstore_defs_t *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->defs[i].id, id) == 0)
            return &d->defs[i];
    return NULL;
}

/* Appends a copy of e (with its own forced list) to out. */
static int append_copy(expstore_defs_t *out, const experiment_t *e)
{
    experiment_forced_t *f = NULL;
    if (e->n_forced) {
        if (!(f = malloc(e->n_forced * sizeof *f)))
            return -ENOMEM;
        memcpy(f, e->forced, e->n_forced * sizeof *f);
    }
    out->defs[out->n] = *e;
    out->defs[out->n++].forced = f;
    return 0;
}

int expdefs_with(const expstore_defs_t *cur, const experiment_t *e, int replace,
                 expstore_defs_t *out, char *err, size_t cap)
{
    const experiment_t *same = expdefs_find(cur, e->id);
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (replace && !same) {
        snprintf(err, cap, "experiment_id: no experiment '%s'", e->id);
        return -ENOENT;
    }
    if (!replace && same) {
        snprintf(err, cap, "experiment_id: '%s' exists already (use UpdateExperiment)",
                 e->id);
        return -EEXIST;
    }
    if (!(out->defs = calloc(cur->n + 1, sizeof *out->defs)))
        return -ENOMEM;
    for (size_t i = 0; i < cur->n && rc == 0; i++)
        rc = append_copy(out, &cur->defs[i] == same ? e : &cur->defs[i]);
    if (rc == 0 && !replace)
        rc = append_copy(out, e);
    if (rc)
        expstore_defs_free(out);
    return rc;
}
