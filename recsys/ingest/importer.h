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
    uint64_t events_forwarded;  /* handed to a sink that answers later (IMPORT_FORWARDED) */
    uint64_t bytes_read;        /* input consumed so far (for progress; approximate) */
} import_report_t;

/* What a sink's record_events may set an outcome to when the events' fate is
 * decided elsewhere (a server answering at the end of a stream): the
 * importer counts them in events_forwarded, not accepted/duplicate/rejected. */
#define IMPORT_FORWARDED 0xffu

/*
 * Where parsed rows go. The importer parses and validates; the sink writes.
 * import_items_csv/import_events_csv use a sink writing to a store; the
 * `patron import --addr` client (server/cli/) implements one that sends the
 * rows to a running patrond. Called on the importer's thread only.
 *
 * upsert_items: same contract as store_upsert_items (all or nothing; on
 *   -EINVAL *bad and *reason name the first invalid item, reason static or
 *   owned by the sink until the next call).
 * record_events: n events, line[k] is the file line of ev[k]; sets
 *   outcome[k] to a store_outcome_t (reason[k] a message when rejected, kept
 *   until the next call) or IMPORT_FORWARDED. Returns 0 or a negative errno
 *   (the import stops). ev and line are valid during the call only.
 */
typedef struct importer_sink {
    int (*upsert_items)(void *ctx, const store_item_t *it, size_t n,
                        size_t *inserted, size_t *updated, size_t *bad,
                        const char **reason);
    int (*record_events)(void *ctx, const store_event_t *ev, const uint64_t *line,
                         size_t n, uint8_t *outcome, const char **reason);
    void *ctx;
} importer_sink_t;

/* Called for each problem row; line is 1-based in the file. May be NULL. */
typedef void (*import_problem_fn)(void *ctx, uint64_t line, const char *msg);

/* Each returns 0, or a negative errno (-ENOENT/-EIO file, store errors).
 * Report counters are added to (zero the report first). */
int import_items_csv(store_t *s, const char *path, import_report_t *rep,
                     import_problem_fn problem, void *ctx);
int import_events_csv(store_t *s, const char *path, import_format_t fmt,
                      import_report_t *rep, import_problem_fn problem,
                      void *ctx);

/* The same, writing through sink instead of to a store. */
int import_items_to(const importer_sink_t *sink, const char *path,
                    import_report_t *rep, import_problem_fn problem, void *ctx);
int import_events_to(const importer_sink_t *sink, const char *path,
                     import_format_t fmt, import_report_t *rep,
                     import_problem_fn problem, void *ctx);

#endif
