/*
 * callstats.c - per-method counters and latency histograms (callstats.h).
 */
#include "callstats.h"

#include <string.h>

unsigned callstats_bucket(uint64_t us)
{
    unsigned oct, b;
    if (us < 4)
        return (unsigned)us; /* 0..3: one bucket each */
    oct = 63u - (unsigned)__builtin_clzll(us);       /* 2^oct <= us */
    b = 4 * oct + (unsigned)((us >> (oct - 2)) & 3); /* quarter of the octave */
    return b < CALLSTATS_BUCKETS ? b : CALLSTATS_BUCKETS - 1;
}

double callstats_bucket_mid(unsigned b)
{
    double lo, width;
    if (b < 4)
        return b;
    lo = (double)(1ull << (b / 4)) * (1.0 + 0.25 * (b % 4));
    width = (double)(1ull << (b / 4)) * 0.25;
    return lo + width / 2;
}

void callstats_record(callstats_t *s, int code, uint64_t us)
{
    uint64_t max;
    if (code < 0 || code >= CALLSTATS_CODES)
        code = 2; /* UNKNOWN */
    atomic_fetch_add_explicit(&s->by_code[code], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->hist[callstats_bucket(us)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->total_us, us, memory_order_relaxed);
    max = atomic_load_explicit(&s->max_us, memory_order_relaxed);
    while (us > max && !atomic_compare_exchange_weak_explicit(
                           &s->max_us, &max, us, memory_order_relaxed,
                           memory_order_relaxed))
        ;
}

/* The middle of the bucket holding the q-quantile of n calls, in ms. */
static double quantile_ms(const uint64_t *hist, uint64_t n, double q)
{
    uint64_t rank = (uint64_t)(q * (double)(n - 1)) + 1, seen = 0;
    for (unsigned b = 0; b < CALLSTATS_BUCKETS; b++) {
        seen += hist[b];
        if (seen >= rank)
            return callstats_bucket_mid(b) / 1000.0;
    }
    return callstats_bucket_mid(CALLSTATS_BUCKETS - 1) / 1000.0;
}

void callstats_summarize(const callstats_t *s, callstats_summary_t *out)
{
    uint64_t hist[CALLSTATS_BUCKETS], n = 0;

    memset(out, 0, sizeof *out);
    for (int c = 0; c < CALLSTATS_CODES; c++) {
        out->by_code[c] = atomic_load_explicit(&s->by_code[c], memory_order_relaxed);
        out->calls += out->by_code[c];
    }
    out->errors = out->calls - out->by_code[0];
    for (unsigned b = 0; b < CALLSTATS_BUCKETS; b++) {
        hist[b] = atomic_load_explicit(&s->hist[b], memory_order_relaxed);
        n += hist[b];
    }
    if (n == 0)
        return;
    out->mean_ms = (double)atomic_load_explicit(&s->total_us, memory_order_relaxed) / n / 1000.0;
    out->max_ms = (double)atomic_load_explicit(&s->max_us, memory_order_relaxed) / 1000.0;
    out->p50_ms = quantile_ms(hist, n, 0.50);
    out->p90_ms = quantile_ms(hist, n, 0.90);
    out->p99_ms = quantile_ms(hist, n, 0.99);
}
