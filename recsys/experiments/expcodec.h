/*
 * expcodec.h - the stored form of an experiment definition: a
 * patron.store.v1.Experiment record (proto/patron/store/v1/experiments.proto),
 * so definitions written by one Patron release load in the next one even
 * when experiment_t grows (unknown fields are skipped, missing ones read as
 * zero). The previous release's hand-rolled tagged format is read only by
 * the store's migration (recsys/store/store_migrate*.c).
 *
 * Pure: no store, no allocation beyond the documented outputs.
 */
#ifndef PATRON_RECSYS_EXPCODEC_H
#define PATRON_RECSYS_EXPCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "experiment.h"

/* Encodes e into a malloc'd buffer (*out, *len; caller frees).
 * Returns 0 or -ENOMEM. */
int expcodec_encode(const experiment_t *e, unsigned char **out, size_t *len);

/* Decodes buf into *e; e->forced gets a malloc'd array (caller frees) or
 * NULL when there are none. Returns 0, -EBADMSG (not an Experiment record,
 * or a field out of this build's bounds: more than EXPERIMENT_MAX_ARMS arms,
 * an id longer than its field) or -ENOMEM; *e is unspecified on error and
 * nothing needs freeing. */
int expcodec_decode(const void *buf, size_t len, experiment_t *e);

#endif
