/*
 * callstats.h - what each method has been doing: calls by status code and a
 * latency histogram, updated lock-free by the worker threads (relaxed
 * atomics: counts are exact, a snapshot taken during traffic may be a few
 * calls apart between fields) and summarized on request.
 *
 * The histogram has 4 linear sub-buckets per power of two of microseconds,
 * so a quantile is known to within 12.5% (reported at its bucket's middle).
 * No gRPC here: codes are plain ints (grpc_status_code values).
 */
#ifndef PATRON_SERVER_CALLSTATS_H
#define PATRON_SERVER_CALLSTATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CALLSTATS_CODES 17     /* OK .. UNAUTHENTICATED */
#define CALLSTATS_BUCKETS 136  /* up to 2^34 us (about 4.8 hours) */

typedef struct callstats {
    _Atomic uint64_t by_code[CALLSTATS_CODES];
    _Atomic uint64_t hist[CALLSTATS_BUCKETS];
    _Atomic uint64_t total_us;
    _Atomic uint64_t max_us;
} callstats_t;

/* Counts one call that ended with code after us microseconds. */
void callstats_record(callstats_t *s, int code, uint64_t us);

typedef struct callstats_summary {
    uint64_t calls, errors;            /* errors: any code but OK */
    uint64_t by_code[CALLSTATS_CODES];
    double mean_ms, p50_ms, p90_ms, p99_ms, max_ms;
} callstats_summary_t;

void callstats_summarize(const callstats_t *s, callstats_summary_t *out);

/* The histogram bucket of a duration, and the middle of a bucket in us
 * (exposed for tests). */
unsigned callstats_bucket(uint64_t us);
double callstats_bucket_mid(unsigned b);

#endif
