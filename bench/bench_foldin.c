/*
 * bench_foldin.c - what real-time personalization costs per request: the ALS
 * user solve (foldin_solve) for a customer with 1..200 events, at several
 * factor counts, on a synthetic 100,000-item model. Prints microseconds per
 * solve beside the flops it needs (n f^2 for the rank-1 updates, f^3/3 for
 * Cholesky, 2 f^2 for the two triangular solves).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "foldin.h"
#include "monotime.h"
#include "rng.h"

static uint64_t rng = 42;

static double unit(void)
{
    return splitmix64_unit(&rng);
}

int main(void)
{
    static const uint32_t factors[] = { 32, 64, 128, 192 };
    static const size_t events[] = { 1, 10, 50, 200 };
    const uint32_t n_items = 100000;

    printf("fold-in: one customer's ALS solve at request time (100000 items)\n");
    printf("%8s %8s %12s %12s\n", "factors", "events", "us/solve", "MFLOP/s");
    for (size_t fi = 0; fi < sizeof factors / sizeof factors[0]; fi++) {
        uint32_t f = factors[fi];
        model_t m;
        store_event_rec_t ev[200];

        memset(&m, 0, sizeof m);
        m.hdr = (store_model_hdr_t){ .factors = f, .n_items = n_items, .reg = 0.05f,
                                     .alpha = 2, .alpha0 = 1, .w_view = 1, .w_cart = 2,
                                     .w_purchase = 4, .w_refund = 4 };
        m.item_f = malloc((size_t)n_items * f * sizeof *m.item_f);
        m.gramian = calloc((size_t)f * f, sizeof *m.gramian);
        if (!m.item_f || !m.gramian)
            return 1;
        for (size_t i = 0; i < (size_t)n_items * f; i++)
            m.item_f[i] = (float)(unit() - 0.5) * 0.2f;
        for (uint32_t d = 0; d < f; d++) /* a well-conditioned stand-in for Y'Y */
            m.gramian[(size_t)d * f + d] = 10.0f;
        for (size_t ei = 0; ei < sizeof events / sizeof events[0]; ei++) {
            size_t n = events[ei];
            int reps = 2000;
            double t0, secs, flops;
            for (size_t i = 0; i < n; i++)
                ev[i] = (store_event_rec_t){ .item = (uint32_t)(unit() * n_items),
                                             .type = i % 3 ? STORE_EVENT_VIEW
                                                           : STORE_EVENT_PURCHASE,
                                             .quantity = 1, .time_ms = 1000 + (int64_t)i };
            t0 = monotime_seconds();
            for (int r = 0; r < reps; r++) {
                foldin_t out;
                if (foldin_solve(&m, ev, n, &out) != 0)
                    return 1;
                foldin_free(&out);
            }
            secs = (monotime_seconds() - t0) / reps;
            flops = (double)n * f * f + (double)f * f * f / 3 + 2.0 * f * f + (double)f * f;
            printf("%8u %8zu %12.1f %12.0f\n", f, n, secs * 1e6, flops / secs / 1e6);
        }
        free(m.item_f);
        free(m.gramian);
    }
    return 0;
}
