/*
 * cli_import_addr.c - `patron import --addr`: an importer_sink that sends
 * what recsys/ingest parses to a running patrond.
 *
 * Items go through Admin/UpsertItems, one call per importer batch; events
 * through a single Events/StreamEvents call opened at the first batch, one
 * message per batch (IMPORT_BATCH events). The server stores each message
 * as it arrives and answers once, at the end, with the totals and the
 * rejected events by their position in the stream; the sink keeps each
 * sent event's file line so a rejection is reported as "FILE:LINE: reason".
 */
#include "cli_import_addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "grow.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/events.pb-c.h"
#include "status_names.h"

#define UPSERT_TIMEOUT_MS 60000
/* One deadline covers the whole stream: long enough for any file. */
#define STREAM_TIMEOUT_MS (6 * 3600 * 1000)
#define PROGRESS_EVERY_S 2.0
#define MAX_REASONS 16

typedef struct addr_sink {
    const char *addr;
    client_t *c;
    client_stream_t *st;      /* NULL until the first events batch */
    const char *path;         /* the file being read, for messages */
    uint64_t size;            /* its size in bytes (0: unknown) */
    uint64_t rows0;           /* rep->rows when this file started */
    import_report_t *rep;
    uint64_t *lines;          /* file line of every event sent, by stream position */
    size_t n_lines, cap_lines;
    double t0, last_print;
    int tty, printed;
    char failure[600];        /* why the sink stopped, printed once */
} addr_sink_t;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress ------------------------------------------------------------------ */

static void progress(addr_sink_t *s, int final)
{
    double now = mono_s(), dt = now - s->t0;
    if (!final && !s->tty && now - s->last_print < PROGRESS_EVERY_S && s->printed)
        return;
    s->last_print = now;
    s->printed = 1;
    uint64_t rows = s->rep->rows - s->rows0, done = s->rep->bytes_read;
    double rate = dt > 0 ? (double)rows / dt : 0;
    char eta[32] = "-";
    if (final) {
        snprintf(eta, sizeof eta, "done");
    } else if (s->size && done > 0 && done <= s->size && dt > 0) {
        double left = (double)(s->size - done) / ((double)done / dt);
        snprintf(eta, sizeof eta, "%d:%02d", (int)left / 60, (int)left % 60);
    }
    double pct = s->size ? 100.0 * (double)(final ? s->size : done) / (double)s->size : 0;
    fprintf(stderr, "%simport %s: %llu rows, %.0f rows/s, %.0f%% of %.1f MB, ETA %s%s",
            s->tty ? "\r" : "", s->path, (unsigned long long)rows, rate,
            pct > 100 ? 100 : pct, (double)s->size / 1e6, eta,
            s->tty ? (final ? "\033[K\n" : "\033[K") : "\n");
    fflush(stderr);
}

/* ---- the sink -------------------------------------------------------------------- */

static void sink_fail(addr_sink_t *s, const char *what, const client_result_t *res)
{
    if (res->code == GRPC_STATUS_UNAVAILABLE || res->code == GRPC_STATUS_DEADLINE_EXCEEDED)
        snprintf(s->failure, sizeof s->failure, "cannot reach patrond at %s: %s: %s",
                 s->addr, status_name((int)res->code), res->details);
    else
        snprintf(s->failure, sizeof s->failure, "%s refused: %s: %s", what,
                 status_name((int)res->code), res->details);
}

static int sink_items(void *ctx, const store_item_t *it, size_t n, size_t *inserted,
                      size_t *updated, size_t *bad, const char **reason)
{
    addr_sink_t *s = ctx;
    Patron__V1__Item *items = calloc(n ? n : 1, sizeof *items);
    Patron__V1__Item **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    Patron__V1__UpsertItemsRequest req = PATRON__V1__UPSERT_ITEMS_REQUEST__INIT;
    client_result_t res = { 0 };
    uint8_t *buf = NULL;
    int rc = -ENOMEM;

    *bad = n; /* the server does not say which: the importer stops */
    *reason = NULL;
    if (!items || !ptrs)
        goto out;
    for (size_t k = 0; k < n; k++) {
        patron__v1__item__init(&items[k]);
        items[k].item_id = (char *)it[k].item_id;
        items[k].title = (char *)(it[k].title ? it[k].title : "");
        items[k].category = (char *)(it[k].category ? it[k].category : "");
        items[k].price = it[k].price;
        items[k].unit_cost = it[k].unit_cost;
        items[k].in_stock = it[k].in_stock != 0;
        ptrs[k] = &items[k];
    }
    req.n_items = n;
    req.items = ptrs;
    size_t len = patron__v1__upsert_items_request__get_packed_size(&req);
    if (!(buf = malloc(len ? len : 1)))
        goto out;
    patron__v1__upsert_items_request__pack(&req, buf);
    if (client_unary(s->c, "/patron.v1.Admin/UpsertItems", buf, len, UPSERT_TIMEOUT_MS,
                     &res) != 0) {
        snprintf(s->failure, sizeof s->failure, "could not start Admin/UpsertItems");
        rc = -EIO;
        goto out;
    }
    if (res.code != GRPC_STATUS_OK) {
        sink_fail(s, "Admin/UpsertItems", &res);
        rc = -EIO;
        goto out;
    }
    Patron__V1__UpsertItemsResponse *r =
        patron__v1__upsert_items_response__unpack(NULL, res.len, res.body);
    if (!r) {
        snprintf(s->failure, sizeof s->failure, "the server's answer to UpsertItems is not valid");
        rc = -EIO;
        goto out;
    }
    *inserted = r->inserted;
    *updated = r->updated;
    patron__v1__upsert_items_response__free_unpacked(r, NULL);
    rc = 0;
out:
    free(res.body);
    free(buf);
    free(ptrs);
    free(items);
    return rc;
}

static int sink_events(void *ctx, const store_event_t *ev, const uint64_t *line,
                       size_t n, uint8_t *outcome, const char **reason)
{
    addr_sink_t *s = ctx;
    Patron__V1__Event *evs = calloc(n ? n : 1, sizeof *evs);
    Patron__V1__Event **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    Patron__V1__StreamEventsRequest req = PATRON__V1__STREAM_EVENTS_REQUEST__INIT;
    uint8_t *buf = NULL;
    int rc = -ENOMEM;

    if (!evs || !ptrs || GROW(s->lines, s->cap_lines, s->n_lines + n) != 0)
        goto out;
    if (!s->st && (rc = client_stream_start(s->c, "/patron.v1.Events/StreamEvents",
                                            STREAM_TIMEOUT_MS, &s->st)) != 0) {
        snprintf(s->failure, sizeof s->failure, "could not start Events/StreamEvents");
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        patron__v1__event__init(&evs[k]);
        evs[k].event_id = (char *)ev[k].event_id;
        evs[k].customer_id = (char *)ev[k].customer_id;
        evs[k].item_id = (char *)ev[k].item_id;
        /* store_event_type_t and EventType share numbers (server/rpc/enums.h
         * asserts it). */
        evs[k].type = (Patron__V1__EventType)ev[k].type;
        evs[k].time_unix_ms = ev[k].time_ms;
        evs[k].quantity = ev[k].quantity;
        evs[k].unit_price = ev[k].unit_price;
        ptrs[k] = &evs[k];
    }
    req.n_events = n;
    req.events = ptrs;
    size_t len = patron__v1__stream_events_request__get_packed_size(&req);
    if (!(buf = malloc(len ? len : 1)))
        goto out;
    patron__v1__stream_events_request__pack(&req, buf);
    if (client_stream_send(s->st, buf, len) != 0) {
        rc = -EIO; /* the server ended the call: cli_import_addr reports its status */
        goto out;
    }
    memcpy(s->lines + s->n_lines, line, n * sizeof *line);
    s->n_lines += n;
    for (size_t k = 0; k < n; k++) {
        outcome[k] = IMPORT_FORWARDED;
        reason[k] = NULL;
    }
    progress(s, 0);
    rc = 0;
out:
    free(buf);
    free(ptrs);
    free(evs);
    return rc;
}

/* ---- the end of the stream ------------------------------------------------------- */

typedef struct reason_count {
    const char *reason;
    uint64_t n;
} reason_count_t;

/* Prints each rejected event with its line, then the summary with the
 * rejection reasons counted (over the errors the server listed). */
static void print_summary(const addr_sink_t *s, const char *events,
                          const Patron__V1__StreamEventsResponse *r)
{
    reason_count_t rc[MAX_REASONS];
    size_t nrc = 0;
    uint64_t other = 0;
    for (size_t i = 0; i < r->n_errors; i++) {
        const Patron__V1__EventError *e = r->errors[i];
        if (e->index < s->n_lines)
            fprintf(stderr, "%s:%llu: %s\n", events, (unsigned long long)s->lines[e->index],
                    e->reason);
        else
            fprintf(stderr, "%s: event %u: %s\n", events, e->index, e->reason);
        size_t j = 0;
        while (j < nrc && strcmp(rc[j].reason, e->reason) != 0)
            j++;
        if (j == nrc && nrc < MAX_REASONS)
            rc[nrc++] = (reason_count_t){ e->reason, 0 };
        if (j < nrc)
            rc[j].n++;
        else
            other++;
    }
    fprintf(stderr, "import summary (from patrond): %llu events sent, accepted %u, "
            "duplicates %u, rejected %u\n", (unsigned long long)s->n_lines,
            r->accepted, r->duplicates, r->rejected);
    for (size_t j = 0; j < nrc; j++)
        fprintf(stderr, "  rejected %llu: %s\n", (unsigned long long)rc[j].n, rc[j].reason);
    if (other)
        fprintf(stderr, "  rejected %llu: other reasons\n", (unsigned long long)other);
    if (r->rejected > r->n_errors)
        fprintf(stderr, "  (reasons listed for the first %zu rejections only)\n", r->n_errors);
}

/* Half-closes the stream and reports the server's answer. 0 or 1. */
static int finish_events(addr_sink_t *s, const char *events, import_report_t *rep)
{
    client_result_t res;
    if (!s->st) {
        fprintf(stderr, "import summary (from patrond): no events sent\n");
        return 0;
    }
    int rc = client_stream_finish(s->st, &res);
    s->st = NULL;
    if (rc != 0) {
        fprintf(stderr, "patron import: Events/StreamEvents failed: %s\n", strerror(-rc));
        return 1;
    }
    if (res.code == GRPC_STATUS_INVALID_ARGUMENT) {
        fprintf(stderr, "patron import: %s: patrond refused the events after line %llu: %s\n",
                events, s->n_lines ? (unsigned long long)s->lines[s->n_lines - 1] : 0ULL,
                res.details);
        return 1;
    }
    if (res.code != GRPC_STATUS_OK) {
        sink_fail(s, "Events/StreamEvents", &res);
        fprintf(stderr, "patron import: %s\n", s->failure);
        return 1;
    }
    Patron__V1__StreamEventsResponse *r =
        patron__v1__stream_events_response__unpack(NULL, res.len, res.body);
    free(res.body);
    if (!r) {
        fprintf(stderr, "patron import: the server's answer to StreamEvents is not valid\n");
        return 1;
    }
    print_summary(s, events, r);
    rep->events_accepted += r->accepted;
    rep->events_duplicate += r->duplicates;
    rep->events_rejected += r->rejected;
    patron__v1__stream_events_response__free_unpacked(r, NULL);
    return 0;
}

static void print_problem(void *ctx, uint64_t line, const char *msg)
{
    addr_sink_t *s = ctx;
    if (s->tty && s->printed)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "%s:%llu: %s\n", s->path, (unsigned long long)line, msg);
}

static void start_file(addr_sink_t *s, const char *path)
{
    struct stat sb;
    s->path = path;
    s->size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    s->rows0 = s->rep->rows;
    s->rep->bytes_read = 0;
    s->t0 = s->last_print = mono_s();
    s->printed = 0;
}

/* After a failed import call: what went wrong, from the sink or rc. */
static void report_failure(addr_sink_t *s, const char *path, int rc)
{
    if (s->failure[0])
        fprintf(stderr, "patron import: %s\n", s->failure);
    else
        fprintf(stderr, "patron import: %s: %s\n", path, strerror(-rc));
}

int cli_import_addr(const char *addr, const char *items, const char *events,
                    import_format_t fmt, import_report_t *rep)
{
    addr_sink_t s = { .addr = addr, .rep = rep, .tty = isatty(STDERR_FILENO) };
    importer_sink_t sink = { sink_items, sink_events, &s };
    int rc, out = 0;

    if (client_open(addr, &s.c) != 0) {
        fprintf(stderr, "patron import: cannot connect to %s\n", addr);
        return 1;
    }
    if (items) {
        start_file(&s, items);
        rc = import_items_to(&sink, items, rep, print_problem, &s);
        if (rc == 0)
            progress(&s, 1);
        else {
            report_failure(&s, items, rc);
            out = 1;
        }
    }
    if (out == 0 && events) {
        start_file(&s, events);
        rc = import_events_to(&sink, events, fmt, rep, print_problem, &s);
        if (rc == 0)
            progress(&s, 1);
        else if (s.printed && s.tty)
            fputc('\n', stderr);
        if (rc == -EIO && s.st && !s.failure[0]) {
            finish_events(&s, events, rep); /* says why the server ended it */
            out = 1;
        } else if (rc != 0) {
            report_failure(&s, events, rc);
            out = 1;
        } else {
            out = finish_events(&s, events, rep);
        }
    }
    if (s.st) { /* an aborted import: end the call, its answer no longer matters */
        client_result_t res;
        if (client_stream_finish(s.st, &res) == 0)
            free(res.body);
    }
    rep->events_forwarded = 0; /* counted by the server above */
    free(s.lines);
    client_close(s.c);
    return out;
}
