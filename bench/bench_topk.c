/*
 * bench_topk.c - prints what topk_mips costs per query against the obvious
 * baseline (score every item into an array, qsort it all, keep k), measured
 * in the same run on the same data.
 *
 * Effective GB/s counts the item matrix bytes a query must read (n * dim * 4):
 * the scan is memory bound, so this is the figure to compare with the
 * machine's memory bandwidth. The matrices are larger than any cache, so every
 * query streams from RAM.
 *
 * Usage: bench_topk [queries_scale]   (default 1; runtime about 10 s)
 */
#include "topk.h"
#include "monotime.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_DIM 64
#define BENCH_K 100

typedef struct scored {
    uint32_t id;
    float score;
} scored_t;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float rng_uniform(void)
{
    uint32_t r = (uint32_t)(splitmix64(&rng_state) >> 40);
    return (float)r / 16777216.0f * 2.0f - 1.0f;
}

static int scored_cmp(const void *pa, const void *pb)
{
    const scored_t *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The baseline: one plain dot per row into an array, then a full sort. */
static size_t naive_topk(const float *items, uint32_t n, uint32_t dim,
                         const float *q, uint32_t k, scored_t *all,
                         topk_hit_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (uint32_t d = 0; d < dim; d++)
            s += items[(size_t)i * dim + d] * q[d];
        all[i].id = i;
        all[i].score = s;
    }
    qsort(all, n, sizeof *all, scored_cmp);
    size_t m = k < n ? k : n;
    for (size_t r = 0; r < m; r++) {
        out[r].id = all[r].id;
        out[r].score = all[r].score;
    }
    return m;
}

typedef struct bench_case {
    uint32_t n;
    int fast_queries, naive_queries;
} bench_case_t;

static int run_case(const bench_case_t *bc, int scale)
{
    const uint32_t n = bc->n, dim = BENCH_DIM;
    float *items = malloc((size_t)n * dim * sizeof *items);
    size_t nqmax = (size_t)bc->fast_queries * (size_t)scale;
    float *queries = malloc(nqmax * dim * sizeof *queries);
    scored_t *all = malloc((size_t)n * sizeof *all);
    topk_hit_t fast[BENCH_K], slow[BENCH_K];
    if (!items || !queries || !all) {
        fprintf(stderr, "bench_topk: out of memory for n=%u\n", n);
        free(items);
        free(queries);
        free(all);
        return 1;
    }
    for (size_t j = 0; j < (size_t)n * dim; j++)
        items[j] = rng_uniform();
    int nq = bc->fast_queries * scale, nn = bc->naive_queries * scale;
    for (size_t j = 0; j < (size_t)nq * dim; j++)
        queries[j] = rng_uniform();

    /* One warm-up query each (page faults, frequency ramp). */
    topk_mips(items, n, dim, queries, NULL, BENCH_K, fast);
    naive_topk(items, n, dim, queries, BENCH_K, all, slow);

    double t0 = monotime_seconds();
    float sink = 0.0f;
    for (int q = 0; q < nq; q++) {
        const float *qv = queries + (size_t)q * dim;
        topk_mips(items, n, dim, qv, NULL, BENCH_K, fast);
        sink += fast[0].score;
    }
    double t_fast = (monotime_seconds() - t0) / nq;

    int mismatches = 0;
    t0 = monotime_seconds();
    for (int q = 0; q < nn; q++) {
        const float *qv = queries + (size_t)q * dim;
        naive_topk(items, n, dim, qv, BENCH_K, all, slow);
        sink += slow[0].score;
    }
    double t_naive = (monotime_seconds() - t0) / nn;

    /* Same answers (ids) on the last query; scores may differ in rounding. */
    topk_mips(items, n, dim, queries + (size_t)(nn - 1) * dim, NULL, BENCH_K,
              fast);
    for (int r = 0; r < BENCH_K; r++)
        mismatches += fast[r].id != slow[r].id;

    double gb = (double)n * dim * sizeof(float) / 1e9;
    printf("n=%7u dim=%u k=%d | topk_mips %8.3f ms/query %6.2f GB/s (%d q) | "
           "naive %8.3f ms/query %6.2f GB/s (%d q) | speedup %5.1fx | "
           "rank mismatches %d (sink %.1f)\n",
           n, dim, BENCH_K, t_fast * 1e3, gb / t_fast, nq, t_naive * 1e3,
           gb / t_naive, nn, t_naive / t_fast, mismatches, (double)sink);
    free(items);
    free(queries);
    free(all);
    return 0;
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    static const bench_case_t cases[] = {
        { 100000, 400, 40 },
        { 1000000, 60, 6 },
    };
    int rc = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        rc |= run_case(&cases[c], scale);
    return rc;
}
