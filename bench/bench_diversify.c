/*
 * bench_diversify.c - what a diversified list costs next to a plain one.
 *
 * Baseline: exact top-k over n items (topk_mips). Diversified: exact top of
 * the wider pool (div_pool_size) plus maximal marginal relevance with a
 * category cap (diversify). Same data, same queries, same run; the ratio is
 * the figure to read. The scan streams the item matrix from RAM, MMR works
 * on the pool only (O(k x pool x f)).
 *
 * Usage: bench_diversify [n_items]   (default 100000; f = 64, 50 categories)
 */
#include "diversify.h"
#include "rng.h"
#include "topk.h"
#include "monotime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define F 64
#define N_CAT 50
#define QUERIES 200

/* Gaussian rows scaled to unit length (the cosine MMR uses). */
static void unit_rows(xoshiro_t *r, float *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        float norm = 0;
        for (uint32_t d = 0; d < F; d++) {
            double u1 = xoshiro_unit(r) + 1e-12, u2 = xoshiro_unit(r);
            float g = (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
            v[(size_t)i * F + d] = g;
            norm += g * g;
        }
        norm = sqrtf(norm);
        for (uint32_t d = 0; d < F; d++)
            v[(size_t)i * F + d] /= norm;
    }
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
    static const uint32_t ks[] = { 10, 50, 200 };
    float *items, *queries;
    uint32_t *cat;
    topk_hit_t *pool, *out;
    xoshiro_t r;

    if (n < 1000) {
        fprintf(stderr, "bench_diversify: n_items must be >= 1000\n");
        return 2;
    }
    items = malloc((size_t)n * F * sizeof *items);
    queries = malloc((size_t)QUERIES * F * sizeof *queries);
    cat = malloc((size_t)n * sizeof *cat);
    pool = malloc((size_t)n * sizeof *pool);
    out = malloc((size_t)n * sizeof *out);
    if (!items || !queries || !cat || !pool || !out)
        return 1;
    xoshiro_seed(&r, 7);
    unit_rows(&r, items, n);
    unit_rows(&r, queries, QUERIES);
    for (uint32_t i = 0; i < n; i++)
        cat[i] = (uint32_t)(xoshiro_next(&r) % N_CAT);

    printf("%u items x %u factors, %d categories, %d queries per row\n", n, F, N_CAT,
           QUERIES);
    printf("   k   pool  plain ms  diversified ms  (MMR part)  ratio\n");
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        uint32_t k = ks[t], want = div_pool_size(k, n);
        div_params_t p = { 0.3f, 3 };
        double t0, plain, divers, mmr = 0;
        size_t got, sel, total = 0;

        t0 = monotime_seconds();
        for (int q = 0; q < QUERIES; q++)
            total += topk_mips(items, n, F, queries + (size_t)q * F, NULL, k, out);
        plain = (monotime_seconds() - t0) / QUERIES;
        t0 = monotime_seconds();
        for (int q = 0; q < QUERIES; q++) {
            double t1;
            got = topk_mips(items, n, F, queries + (size_t)q * F, NULL, want, pool);
            t1 = monotime_seconds();
            if (diversify(pool, got, items, F, cat, N_CAT, &p, k, out, &sel) != 0)
                return 1;
            mmr += monotime_seconds() - t1;
            total += sel;
        }
        divers = (monotime_seconds() - t0) / QUERIES;
        printf("%4u %6u  %8.3f  %14.3f  (%8.3f)  %5.2fx\n", k, want, plain * 1e3,
               divers * 1e3, mmr / QUERIES * 1e3, divers / plain);
        if (total == 0)
            return 1;
    }
    free(items);
    free(queries);
    free(cat);
    free(pool);
    free(out);
    return 0;
}
