/*
 * cli_import_addr.h - `patron import --addr`: the importer's rows sent to a
 * running patrond instead of written to a store.
 */
#ifndef PATRON_SERVER_CLI_IMPORT_ADDR_H
#define PATRON_SERVER_CLI_IMPORT_ADDR_H

#include "importer.h"

/* Parses items (Patron items layout, may be NULL) and events (fmt, may be
 * NULL) with the importer and sends them to the patrond at addr: items and
 * the online-retail catalogue through Admin/UpsertItems, events through one
 * Events/StreamEvents call in messages of IMPORT_BATCH events. Progress
 * (rows/s, ETA) goes to stderr, refreshed in place on a terminal, a line
 * every ~2 s otherwise; then a summary of the server's answer with the
 * rejection reasons counted, and each rejected row as "FILE:LINE: reason".
 * The server's counts are added to rep (events_accepted, events_duplicate,
 * events_rejected). Returns 0, or 1 after printing why (server unreachable,
 * a refused call, unreadable file). Runs on the calling thread. */
int cli_import_addr(const char *addr, const char *items, const char *events,
                    import_format_t fmt, import_report_t *rep);

#endif
