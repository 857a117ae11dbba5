/*
 * metrics.h - the /metrics exposition of one patrond (Prometheus text
 * 0.0.4, expo.h), read from the app: calls and latencies by method
 * (callstats.h), the served model, the store's size, what the use cases
 * counted (events, coupon decisions, exposures), coupon budgets from the
 * store, token reloads, the build, and the process (procstat.h).
 *
 * Conventions: base units (seconds, bytes), counters end in _total, labels
 * never carry customer or item ids (method, code, type, outcome, and the
 * operator's own campaign, experiment and arm ids only).
 *
 * Latency histogram: buckets at powers of two of microseconds from 32 us to
 * 2^24 us (16.777216 s), exactly the octave edges of callstats' buckets, so
 * every replica exposes the same bounds and sum(rate(..._bucket)) across
 * replicas is a true histogram. The transport truncates durations to whole
 * microseconds, so a call recorded as 2^k us took at least that long and
 * is counted above the bound 2^k us: each bucket holds the calls that took
 * at most its bound, as `le` promises.
 *
 * Threads: any thread (the admin listener's); reads snapshots, atomics and
 * store read transactions only.
 */
#ifndef PATRON_SERVER_METRICS_H
#define PATRON_SERVER_METRICS_H

#include <stddef.h>

#include "api.h"
#include "app.h"
#include "callstats.h"
#include "expo.h"

#define METRICS_LE_FIRST_OCTAVE 5   /* 2^5 us = 32 us */
#define METRICS_LE_LAST_OCTAVE 24   /* 2^24 us = 16.777216 s */

/* The whole exposition for a: malloc'd text (*len bytes, NUL-terminated;
 * the caller frees), or NULL when out of memory. */
char *metrics_render(app_t *a, size_t *len);

/* patron_rpc_calls_total{method,code} and patron_rpc_duration_seconds for
 * api's methods; stats has api->n_methods + 1 entries (the last: calls to
 * unknown methods, method="(unknown)"). Every method gets its OK count and
 * histogram (zeros included, so rates start at the first call); other
 * codes appear once they occurred. Exposed for tests. */
void metrics_rpc(expo_t *e, const rpc_api_t *api, const callstats_t *stats);

#endif
