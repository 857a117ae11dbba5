/*
 * importer.h - loads CSV files into the store.
 *
 * The layouts (Patron's items and events, UCI Online Retail) are documented
 * for operators in one place: `patron help formats` (server/cli/cli_formats.c,
 * copied into README.md). Online-retail event ids are
 * "<InvoiceNo>:<StockCode>:<n>" (n-th such row), so re-importing the same
 * file applies nothing twice.
 *
 * Nothing is dropped silently: every skipped row is counted in the report and
 * passed to the problem callback with its line number. Events dated before
 * 2000-01-01 or later than now + STORE_DEFAULT_EVENT_SKEW_MS (the API's
 * window, store_event_time_invalid) are skipped and counted as rejected.
 */
#ifndef PATRON_RECSYS_IMPORTER_H
#define PATRON_RECSYS_IMPORTER_H

#include <stdint.h>

#include "store.h"

typedef enum import_format {
    IMPORT_PATRON = 0,
    IMPORT_ONLINE_RETAIL = 1,
} import_format_t;

typedef struct import_report {
    uint64_t rows;              /* data rows read (header excluded) */
    uint64_t items_inserted, items_updated;
    uint64_t events_accepted, events_duplicate, events_rejected;
    uint64_t malformed;         /* rows that could not be parsed */
    uint64_t missing_customer;  /* online-retail rows without CustomerID */
    uint64_t cancellations;     /* online-retail 'C' invoices (stored as refunds) */
} import_report_t;

/* Called for each problem row; line is 1-based in the file. May be NULL. */
typedef void (*import_problem_fn)(void *ctx, uint64_t line, const char *msg);

/* Each returns 0, or a negative errno (-ENOENT/-EIO file, store errors).
 * Report counters are added to (zero the report first). */
int import_items_csv(store_t *s, const char *path, import_report_t *rep,
                     import_problem_fn problem, void *ctx);
int import_events_csv(store_t *s, const char *path, import_format_t fmt,
                      import_report_t *rep, import_problem_fn problem,
                      void *ctx);

#endif
