/*
 * expo.h - Prometheus text exposition format 0.0.4, written into a growing
 * buffer: "# HELP"/"# TYPE" lines, samples with escaped label values, and
 * histograms (cumulative _bucket{le}, _sum, _count).
 *
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/
 * (label values escape \ " and newline; HELP text escapes \ and newline).
 * No knowledge of Patron here: metrics.c decides what is exposed.
 *
 * Errors: an append that cannot grow the buffer marks the writer failed and
 * later appends do nothing; expo_take then returns NULL. Not thread-safe:
 * one writer per scrape.
 */
#ifndef PATRON_SERVER_EXPO_H
#define PATRON_SERVER_EXPO_H

#include <stddef.h>
#include <stdint.h>

#define EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct expo {
    char *buf;
    size_t len, cap;
    int failed;               /* an allocation failed */
} expo_t;

typedef struct expo_label {
    const char *name;         /* [a-zA-Z_][a-zA-Z0-9_]*, not escaped */
    const char *value;        /* any UTF-8; escaped */
} expo_label_t;

void expo_init(expo_t *e);
void expo_free(expo_t *e);    /* frees the buffer unless taken */

/* The text written (malloc'd, NUL-terminated, the caller frees) with *len
 * its length, or NULL if any append failed. The writer is empty after. */
char *expo_take(expo_t *e, size_t *len);

/* "# HELP name help" and "# TYPE name type" (type: "counter", "gauge",
 * "histogram"); once per metric family, before its samples. */
void expo_family(expo_t *e, const char *name, const char *type, const char *help);

/* One sample: name{labels} value. n may be 0 (no braces). */
void expo_double(expo_t *e, const char *name, const expo_label_t *l, size_t n, double v);
void expo_u64(expo_t *e, const char *name, const expo_label_t *l, size_t n, uint64_t v);

/* A histogram's samples for one label set: name_bucket{l..., le=le[i]}
 * cum[i] for i < n_le (bounds ascending, cum[i] the count of observations
 * <= le[i], non-decreasing), name_bucket{le="+Inf"} count, name_sum sum,
 * name_count count. At most 8 labels. */
void expo_histogram(expo_t *e, const char *name, const expo_label_t *l, size_t n,
                    const char *const *le, const uint64_t *cum, size_t n_le,
                    uint64_t count, double sum);

#endif
