/*
 * importer_impl.h - what the importer's format readers share (private to
 * recsys/ingest/): the per-batch string arena, the string -> u32 map, the
 * input file with its header-mapped columns, the reporting field parsers and
 * the item and event batches. importer.c holds them and the patron formats;
 * importer_retail.c reads UCI Online Retail.
 */
#ifndef PATRON_RECSYS_IMPORTER_IMPL_H
#define PATRON_RECSYS_IMPORTER_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "csv.h"
#include "importer.h"

/* Rows per store transaction: large enough that fsync cost is amortised,
 * small enough that a batch is a few hundred KiB. */
#define IMPORT_BATCH 5000
#define IMPORT_NULL_OFF ((size_t)-1)
#define IMPORT_MAX_COLS 8

typedef struct importer {
    const importer_sink_t *sink;
    import_report_t *rep;
    import_problem_fn problem;
    void *ctx;
    int64_t now_ms;   /* wall clock at the start: event times are checked against it */
} importer_t;

typedef struct imp_arena {
    char *p;
    size_t len, cap;
} imp_arena_t;

typedef struct imp_slot {
    uint64_t hash;
    size_t key; /* offset in keys; IMPORT_NULL_OFF = empty slot */
    uint32_t val;
} imp_slot_t;

typedef struct imp_map {
    imp_arena_t keys;
    imp_slot_t *slots;
    size_t cap, n;
} imp_map_t;

typedef struct imp_input {
    FILE *f;
    csv_reader_t *csv;
    size_t ncols;                  /* fields in the header */
    int col[IMPORT_MAX_COLS];      /* field index of each wanted column, -1 absent */
} imp_input_t;

/* A wanted column: accepted header names (normalised) and whether required. */
typedef struct imp_colspec {
    const char *names[2];
    int required;
} imp_colspec_t;

typedef struct item_batch {
    store_item_t it[IMPORT_BATCH];
    size_t off[IMPORT_BATCH][3]; /* item_id, title, category in strs */
    uint64_t line[IMPORT_BATCH];
    size_t n;
    imp_arena_t strs;
} item_batch_t;

typedef struct event_batch {
    store_event_t ev[IMPORT_BATCH];
    size_t off[IMPORT_BATCH][3]; /* event_id, customer_id, item_id in strs */
    uint64_t line[IMPORT_BATCH];
    uint8_t outcome[IMPORT_BATCH];
    const char *reason[IMPORT_BATCH];
    size_t n;
    imp_arena_t strs;
} event_batch_t;

/* Copies s (NUL-terminated) and stores its offset in *off. */
int imp_arena_add(imp_arena_t *a, const char *s, size_t *off);

/* The string at offset off (NULL for IMPORT_NULL_OFF); valid until the next
 * add to a. */
const char *imp_arena_str(const imp_arena_t *a, size_t off);

/* Stores the batch in one transaction, reporting and counting each
 * rejected or duplicate row; empties it. */
int imp_event_batch_flush(importer_t *im, event_batch_t *b);

/* Adds an event, flushing first when the batch is full. */
int imp_event_batch_push(importer_t *im, event_batch_t *b,
                         const store_event_t *ev, uint64_t line);

/* Closes the input (NULL-safe fields). */
void imp_close(imp_input_t *in);

/* Parses a decimal field named name (dflt when empty); reports and returns
 * -EINVAL when it is not a number. */
int imp_double(importer_t *im, uint64_t line, const char *name,
               const char *v, double dflt, double *out);

/* The field for column c, or "" if the file has no such column. */
const char *imp_field(const imp_input_t *in, char **fields, int c);

/* Parses a 32-bit integer field; reports and returns -EINVAL otherwise. */
int imp_i32(importer_t *im, uint64_t line, const char *name,
            const char *v, int32_t *out);

/* Reads the next data row. Returns 1 with fields, 0 at the end, or a
 * negative errno; rows with a CSV syntax error or the wrong number of fields
 * are counted as malformed, reported and skipped. */
int imp_next_row(importer_t *im, imp_input_t *in, char ***fields);

/* Opens path and reads its header. Returns 1 when rows may follow, 0 for an
 * empty file (nothing to import), or a negative errno. */
int imp_open(importer_t *im, imp_input_t *in, const char *path,
             const imp_colspec_t *spec, int nspec);

/* Reports a problem with the row at line to the caller's callback. */
void imp_problem(importer_t *im, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a time field (csv_parse_time_ms) into unix ms; reports and returns
 * -EINVAL otherwise. */
int imp_time(importer_t *im, uint64_t line, const char *name,
             const char *v, int64_t *out);

/* Adds an item (its strings copied into the batch's arena). */
int imp_item_batch_add(item_batch_t *b, const store_item_t *it, uint64_t line);

/* Upserts the batch. Rows were validated when added; should the store still
 * refuse one, it is reported, dropped and the rest retried. */
int imp_item_batch_flush(importer_t *im, item_batch_t *b);

/* Frees the map's slots and keys. */
void imp_map_free(imp_map_t *m);

/* Finds key; if absent inserts it with value `fresh` and sets *added. On
 * success *slot points at the entry (valid until the next insertion). */
int imp_map_upsert(imp_map_t *m, const char *key, uint32_t fresh,
                   imp_slot_t **slot, int *added);

/* Reads the Online Retail file at path into items and events
 * (importer_retail.c). */
int import_online_retail(importer_t *im, const char *path, event_batch_t *eb);

#endif
