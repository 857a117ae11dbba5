/*
 * model_import.h - factors trained elsewhere (Spark MLlib ALS, the Python
 * `implicit` library), read, checked and published as a normal model
 * version (`patron import-model`).
 *
 * Readers turn the files into a factor table: one row per id, the shop's
 * id of each row and where it came from (file and line or row), so every
 * complaint can name the place to fix. The layouts (README "File formats",
 * `patron help formats`):
 *
 *   Spark (df.write.json of ALSModel.userFactors / itemFactors): a
 *   directory of part files (names starting with _ or . are skipped:
 *   _SUCCESS, .crc), one JSON object per line, {"id": INT, "features":
 *   [NUMBER, ...]}. Spark ids are integers; an id map turns them into the
 *   shop's ids: a file or a directory of part files (df.write.csv of the
 *   StringIndexer's (index, id) pairs), lines INT,SHOP_ID, an optional
 *   header line. Without a map the decimal id is the shop's id.
 *
 *   implicit: NAME_factors.npy (float32 or float64, C order, 2-D, NumPy
 *   format 1.0 or 2.0) and NAME_ids.txt, the shop's id of row r on line
 *   r + 1 (NAME is user or item).
 *
 * Checks (mi_validate, mi_publish): no rows, rows of another length, a
 * non-finite value, an id twice, an item the catalog does not list,
 * customer and item factors of different lengths. Customers the store
 * has no events of are skipped and counted (they could never be asked
 * for by their events); customers and items without imported factors get
 * zero rows: customers are then folded in from their events at request
 * time, items rank by popularity only.
 *
 * Errors: functions return 0 or a negative errno (-EINVAL for content,
 * -EIO / -ENOENT ... for files, -ENOMEM, store errors) and, for anything
 * but -ENOMEM and store errors, write a message naming the file and line
 * into err (cap bytes, always NUL terminated). Not thread-safe per table;
 * no globals.
 */
#ifndef PATRON_RECSYS_MODEL_IMPORT_H
#define PATRON_RECSYS_MODEL_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "train.h"

/* A factor table: row r has dim floats at v[r * dim] and the shop's id
 * ids[r]; it came from files[file_of[r]] at line (or row) pos_of[r]. All
 * arrays are owned by the table (mi_rows_free). */
typedef struct mi_rows {
    uint32_t n, dim;
    float *v;
    char **ids;
    char **files;
    size_t n_files;
    uint32_t *file_of;
    uint64_t *pos_of;
    int pos_is_line;    /* pos_of counts lines (1-based) or npy rows (0-based) */
    size_t cap;
} mi_rows_t;

void mi_rows_free(mi_rows_t *r); /* NULL-safe; leaves r empty */

/* "FILE: line N" or "FILE: row N" for row i, into buf (cap bytes). */
void mi_rows_where(const mi_rows_t *r, uint32_t i, char *buf, size_t cap);

/* An id map: Spark's integer ids to the shop's ids (owned; mi_idmap_free). */
typedef struct mi_idmap {
    int64_t *keys;      /* sorted */
    char **ids;
    size_t n;
} mi_idmap_t;

/* Reads an id map from path, a file or a directory of part files (see the
 * top). An integer twice, an empty shop id or a malformed line is -EINVAL. */
int mi_idmap_read(const char *path, mi_idmap_t *out, char *err, size_t cap);
void mi_idmap_free(mi_idmap_t *m); /* NULL-safe */

/* Reads Spark factors from dir (part files of JSON lines), ids mapped
 * through map (NULL: decimal ids). On success *out owns the table. A line
 * that is not an object with an integer "id" and a numeric "features"
 * array, features of another length than the first row's, or an id the
 * map lacks is -EINVAL. */
int mi_read_spark(const char *dir, const mi_idmap_t *map, mi_rows_t *out,
                  char *err, size_t cap);

/* Reads a 2-D NumPy array (<f4 or <f8, fortran_order False, format 1.x or
 * 2.x) into *v (malloc'd float32, rows x cols, the caller frees). Another
 * dtype, Fortran order, another rank, a malformed header or a file shorter
 * or longer than the shape says is -EINVAL. */
int mi_read_npy(const char *path, float **v, uint32_t *rows, uint32_t *cols,
                char *err, size_t cap);

/* Reads implicit's NAME_factors.npy and NAME_ids.txt from dir (name is
 * "user" or "item"); the id list must have one non-empty id per row. */
int mi_read_implicit(const char *dir, const char *name, mi_rows_t *out,
                     char *err, size_t cap);

/* Checks a table read by the functions above: rows present, every value
 * finite, every id once. what ("customer factors") starts the message. */
int mi_validate(const mi_rows_t *r, const char *what, char *err, size_t cap);

typedef struct mi_report {
    store_model_hdr_t hdr;     /* of the published version */
    uint32_t users_imported;   /* rows placed on a store customer */
    uint32_t users_unknown;    /* rows for customers without events: skipped */
    uint32_t items_imported;
    uint32_t items_without;    /* catalog items the import has no factors for */
    uint64_t events;           /* events read for popularity */
} mi_report_t;

/*
 * Validates users and items (mi_validate, equal lengths, items in the
 * catalog), places the rows at the store's customer and item indices,
 * computes popularity from the store's events under c's weights (as
 * train_run does; all zero without events) and publishes a model version
 * whose header carries c's fold-in settings (als.reg, alpha, alpha0, nu,
 * the event weights and half-life) and source (e.g. "spark:/path").
 * Every event stored so far counts as seen by the model, so a known
 * customer is served their imported factors until new events arrive.
 * Returns 0, -EINVAL (err says why; nothing published), -ENOMEM or a
 * store error.
 */
int mi_publish(store_t *s, const mi_rows_t *users, const mi_rows_t *items,
               const train_config_t *c, const char *source, mi_report_t *rep,
               char *err, size_t cap);

#endif
