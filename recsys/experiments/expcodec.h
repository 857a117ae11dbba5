/*
 * expcodec.h - the stored form of an experiment definition: versioned and
 * field-tagged, so definitions written by one Patron release load in the
 * next one even when experiment_t grows.
 *
 * Layout (little-endian):
 *   "PXE" 0x01                          magic and format version
 *   str id, str salt, str layer         str = u16 length + bytes
 *   f64 traffic_fraction, i64 start_ms, i64 stop_ms
 *   u16 n_arms, then per arm: str id, u16 n_fields, and n_fields times
 *       u8 tag, u8 length, value        (tags in expcodec.c; unknown tags
 *                                        are skipped, missing ones are 0)
 *   u32 n_forced, then per pin: str customer_id, str arm_id
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
 * NULL when there are none. Returns 0, -EIO (not this format, truncated, or
 * a field out of its bounds) or -ENOMEM; *e is unspecified on error and
 * nothing needs freeing. */
int expcodec_decode(const void *buf, size_t len, experiment_t *e);

#endif
