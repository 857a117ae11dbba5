/*
 * bench_index.c - what exact and approximate MIPS cost on 1M x 64 catalogs,
 * k = 20, against the float32 scan (topk_mips) measured in the same run.
 *
 * Two synthetic catalogs: "factors" is shaped like trained MF factors (many
 * taste clusters, a decaying spectrum over the factor dimensions, log-normal
 * item norms; queries are users near a taste); "gaussian" is unstructured
 * N(0,1) items and queries, the worst case for IVF.
 *
 * Speed-ups are printed against Patron's fastest exact path (compact) and the
 * float32 scan, both measured in the same run.
 *
 * Methods: f32 = topk_mips, one query at a time; compact = flat_index_search
 * (int8 scan + exact re-score); batch = flat_index_search_batch over all the
 * queries at once; ivf/P = ivf_search with P probes. Everything runs on one
 * thread except the IVF build, which uses OpenBLAS's default thread count.
 * Exact methods must reproduce topk_mips bit for bit ("mismatch" counts
 * queries that do not); recall@20 of IVF is against the exact answers to the
 * same queries.
 *
 * "f32-eq GB/s" is n * dim * 4 bytes / time per query: the bandwidth a float32
 * scan would need to be that fast. "read GB/s" counts the bytes the method
 * actually streams (for IVF, the rows of the cells each query scanned, counted
 * by ivf_search_counted, plus the centroids), as a share of the one-thread
 * read bandwidth measured at the start of the same run (a streaming sum over
 * a buffer far larger than the caches).
 *
 * Usage: bench_index [-n items] [-q queries] [-c factors|gaussian]
 *                    [-o dump_prefix]
 * -o writes <prefix>_<catalog>.bin for bench/faiss_compare.py: uint32 n, dim,
 * nq, k; float32 items (n x dim); float32 queries (nq x dim); uint32 exact
 * ids (nq x k). Default: 1,000,000 items, 200 queries, both catalogs; about
 * 1.5 minutes.
 */
#include "flat.h"
#include "ivf.h"
#include "topk.h"
#include "monotime.h"
#include "rng.h"

#include <errno.h>
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIM 64
#define K 20
#define BASELINE_QUERIES 30
#define TASTES 2000
#define BW_BYTES (512u << 20)   /* the bandwidth probe's buffer */
#define BW_PASSES 6

static double read_bw_gbs;       /* measured by measure_read_bw */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    return splitmix64(&rng_state);
}

/* Approximately N(0, 1): sum of four uniforms, scaled. Cheap, and the shape
 * in the tails matters little for a synthetic catalog. */
static float rng_gauss(void)
{
    uint64_t r = rng_next();
    float s = 0.0f;
    for (int i = 0; i < 4; i++, r >>= 16)
        s += (float)(r & 0xffff) / 65536.0f - 0.5f;
    return s * 1.7320508f;
}

/* Taste clusters with a decaying spectrum and log-normal norms. */
static void make_factors(float *items, uint32_t n, float *queries, uint32_t nq)
{
    float *centers = malloc((size_t)TASTES * DIM * sizeof *centers);
    float sigma[DIM];
    if (!centers) {
        fprintf(stderr, "bench_index: out of memory\n");
        exit(1);
    }
    for (uint32_t d = 0; d < DIM; d++)
        sigma[d] = 1.0f / sqrtf(1.0f + (float)d / 4.0f);
    for (size_t j = 0; j < (size_t)TASTES * DIM; j++)
        centers[j] = rng_gauss() * sigma[j % DIM];
    for (uint32_t i = 0; i < n; i++) {
        const float *c = centers + (rng_next() % TASTES) * DIM;
        float norm = expf(0.5f * rng_gauss());
        for (uint32_t d = 0; d < DIM; d++)
            items[(size_t)i * DIM + d] =
                norm * (c[d] + 0.5f * sigma[d] * rng_gauss());
    }
    for (uint32_t q = 0; q < nq; q++) {
        const float *c = centers + (rng_next() % TASTES) * DIM;
        for (uint32_t d = 0; d < DIM; d++)
            queries[(size_t)q * DIM + d] = c[d] + 0.7f * sigma[d] * rng_gauss();
    }
    free(centers);
}

static void make_gaussian(float *items, uint32_t n, float *queries, uint32_t nq)
{
    for (size_t j = 0; j < (size_t)n * DIM; j++)
        items[j] = rng_gauss();
    for (size_t j = 0; j < (size_t)nq * DIM; j++)
        queries[j] = rng_gauss();
}

/* One thread's streaming read bandwidth: the best of BW_PASSES sums over a
 * 512 MB buffer (8 accumulators so the adds keep up with the loads). */
static double measure_read_bw(void)
{
    size_t n = BW_BYTES / sizeof(float);
    float *buf = malloc(BW_BYTES);
    double best = 0.0;
    volatile float sink;
    if (!buf) {
        fprintf(stderr, "bench_index: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (float)(i & 7);
    for (int p = 0; p < BW_PASSES; p++) {
        float acc[8] = { 0 };
        double t0 = monotime_seconds();
        for (size_t i = 0; i < n; i += 8)
            for (int j = 0; j < 8; j++)
                acc[j] += buf[i + j];
        double s = monotime_seconds() - t0;
        sink = acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
        if (BW_BYTES / s / 1e9 > best)
            best = BW_BYTES / s / 1e9;
    }
    (void)sink;
    free(buf);
    return best;
}

static int same_hits(const topk_hit_t *a, const topk_hit_t *b, uint32_t m)
{
    for (uint32_t r = 0; r < m; r++)
        if (a[r].id != b[r].id || memcmp(&a[r].score, &b[r].score, 4) != 0)
            return 0;
    return 1;
}

/* Speed-ups are against the fastest exact path, the compact scan (exact_ms),
 * and against the float32 scan (f32_ms), both measured in this run. */
static void print_row(const char *method, double ms, double exact_ms, double f32_ms,
                      double read_bytes, uint32_t n, const char *extra)
{
    double f32_bytes = (double)n * DIM * sizeof(float);
    printf("  %-14s %9.3f ms/q %9.1f QPS  x%6.2f vs compact  x%6.2f vs f32  f32-eq %6.1f GB/s"
           "  read %5.1f GB/s (%3.0f%% of %.0f)  %s\n",
           method, ms, 1e3 / ms, exact_ms / ms, f32_ms / ms, f32_bytes / (ms * 1e6),
           read_bytes / (ms * 1e6), 100.0 * read_bytes / (ms * 1e6) / read_bw_gbs,
           read_bw_gbs, extra);
}

static void dump(const char *prefix, const char *name, const float *items,
                 uint32_t n, const float *queries, uint32_t nq,
                 const topk_hit_t *exact)
{
    char path[1024];
    snprintf(path, sizeof path, "%s_%s.bin", prefix, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return;
    }
    uint32_t hdr[4] = { n, DIM, nq, K };
    fwrite(hdr, sizeof hdr, 1, f);
    fwrite(items, sizeof(float), (size_t)n * DIM, f);
    fwrite(queries, sizeof(float), (size_t)nq * DIM, f);
    for (size_t j = 0; j < (size_t)nq * K; j++)
        fwrite(&exact[j].id, sizeof(uint32_t), 1, f);
    if (fclose(f) != 0)
        perror(path);
    else
        printf("  wrote %s\n", path);
}

static int run_catalog(const char *name, uint32_t n, uint32_t nq,
                       const char *dump_prefix)
{
    float *items = malloc((size_t)n * DIM * sizeof *items);
    float *queries = malloc((size_t)nq * DIM * sizeof *queries);
    topk_hit_t *exact = malloc((size_t)nq * K * sizeof *exact);
    topk_hit_t *got = malloc((size_t)nq * K * sizeof *got);
    uint32_t *nh = malloc((size_t)nq * sizeof *nh);
    flat_index_t *flat = NULL;
    ivf_t *ivf = NULL;
    char extra[128];
    int rc = 1;
    if (!items || !queries || !exact || !got || !nh) {
        fprintf(stderr, "bench_index: out of memory\n");
        goto done;
    }
    rng_state = 0x5eed0000u + (uint64_t)name[0];
    if (strcmp(name, "factors") == 0)
        make_factors(items, n, queries, nq);
    else
        make_gaussian(items, n, queries, nq);
    printf("catalog %s: %u x %d, %u queries, k=%d\n", name, n, DIM, nq, K);

    /* f32 baseline (and the reference answers for its queries). */
    uint32_t nb = nq < BASELINE_QUERIES ? nq : BASELINE_QUERIES;
    topk_mips(items, n, DIM, queries, NULL, K, exact); /* warm-up */
    double t0 = monotime_seconds();
    for (uint32_t q = 0; q < nb; q++)
        topk_mips(items, n, DIM, queries + (size_t)q * DIM, NULL, K,
                  exact + (size_t)q * K);
    double base_ms = (monotime_seconds() - t0) * 1e3 / nb;

    /* Compact exact. */
    t0 = monotime_seconds();
    int err = flat_index_build(items, n, DIM, FLAT_KERNEL_AUTO, &flat);
    if (err) {
        fprintf(stderr, "flat_index_build: %s\n", strerror(-err));
        goto done;
    }
    printf("  flat build %.2f s, kernel %s, %.1f MB\n", monotime_seconds() - t0,
           flat_index_kernel_name(flat), flat_index_bytes(flat) / 1e6);
    t0 = monotime_seconds();
    for (uint32_t q = 0; q < nq; q++)
        flat_index_search(flat, queries + (size_t)q * DIM, NULL, K,
                          got + (size_t)q * K, &nh[q]);
    double ms = (monotime_seconds() - t0) * 1e3 / nq;
    int mism = 0;
    for (uint32_t q = 0; q < nb; q++)
        mism += !same_hits(got + (size_t)q * K, exact + (size_t)q * K, K);
    /* The compact answers are exact (checked above on the baseline queries):
     * they are the reference for the rest. */
    memcpy(exact, got, (size_t)nq * K * sizeof *exact);
    double exact_ms = ms;
    print_row("f32 topk_mips", base_ms, exact_ms, base_ms, (double)n * DIM * 4, n,
              "(exact)");
    snprintf(extra, sizeof extra, "mismatch %d/%u", mism, nb);
    print_row("compact", ms, exact_ms, base_ms, (double)flat_index_bytes(flat), n, extra);

    /* Batched exact: all queries in one call. */
    t0 = monotime_seconds();
    flat_index_search_batch(flat, queries, nq, NULL, K, got, nh);
    ms = (monotime_seconds() - t0) * 1e3 / nq;
    mism = 0;
    for (uint32_t q = 0; q < nq; q++)
        mism += !same_hits(got + (size_t)q * K, exact + (size_t)q * K, K);
    snprintf(extra, sizeof extra, "mismatch %d/%u", mism, nq);
    print_row("batch", ms, exact_ms, base_ms,
              (double)flat_index_bytes(flat) * ((nq + 63) / 64) / nq, n, extra);

    if (dump_prefix)
        dump(dump_prefix, name, items, n, queries, nq, exact);

    /* IVF. */
    openblas_set_num_threads(2);
    t0 = monotime_seconds();
    err = ivf_build(items, n, DIM, NULL, &ivf);
    openblas_set_num_threads(1);
    if (err) {
        fprintf(stderr, "ivf_build: %s\n", strerror(-err));
        goto done;
    }
    printf("  ivf build %.2f s (2 threads), nlist %u, %.1f MB\n",
           monotime_seconds() - t0, ivf_nlist(ivf), ivf_bytes(ivf) / 1e6);
    static const uint32_t probes[] = { 4, 8, 16, 32, 48, 64, 80, 96, 128 };
    for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
        uint32_t found = 0;
        uint64_t rows = 0, all_rows = 0;
        t0 = monotime_seconds();
        for (uint32_t q = 0; q < nq; q++) {
            ivf_search_counted(ivf, queries + (size_t)q * DIM, NULL, K, probes[p],
                               got + (size_t)q * K, &nh[q], &rows);
            all_rows += rows;
        }
        ms = (monotime_seconds() - t0) * 1e3 / nq;
        for (uint32_t q = 0; q < nq; q++)
            for (uint32_t a = 0; a < K; a++)
                for (uint32_t b = 0; b < nh[q]; b++)
                    found += exact[(size_t)q * K + a].id == got[(size_t)q * K + b].id;
        /* Bytes read per query: the rows of the cells scanned, and the
         * centroids every query scores. */
        double scanned = (double)all_rows / nq * DIM * 4 + (double)ivf_nlist(ivf) * DIM * 4;
        char method[32];
        snprintf(method, sizeof method, "ivf/%u", probes[p]);
        snprintf(extra, sizeof extra, "recall@%d %.3f, %.1f%% of rows", K,
                 (double)found / ((double)nq * K), 100.0 * (double)all_rows / nq / n);
        print_row(method, ms, exact_ms, base_ms, scanned, n, extra);
    }
    rc = 0;
done:
    flat_index_free(flat);
    ivf_free(ivf);
    free(items);
    free(queries);
    free(exact);
    free(got);
    free(nh);
    return rc;
}

int main(int argc, char **argv)
{
    uint32_t n = 1000000, nq = 200;
    const char *only = NULL, *dump_prefix = NULL;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "-n") == 0)
            n = (uint32_t)strtoul(argv[a + 1], NULL, 10);
        else if (strcmp(argv[a], "-q") == 0)
            nq = (uint32_t)strtoul(argv[a + 1], NULL, 10);
        else if (strcmp(argv[a], "-c") == 0)
            only = argv[a + 1];
        else if (strcmp(argv[a], "-o") == 0)
            dump_prefix = argv[a + 1];
        else {
            fprintf(stderr, "usage: %s [-n items] [-q queries] "
                            "[-c factors|gaussian] [-o dump_prefix]\n", argv[0]);
            return 2;
        }
    }
    if (n < K || nq == 0) {
        fprintf(stderr, "bench_index: need n >= %d and at least one query\n", K);
        return 2;
    }
    openblas_set_num_threads(1);
    read_bw_gbs = measure_read_bw();
    printf("one-thread read bandwidth, measured: %.1f GB/s\n", read_bw_gbs);
    int rc = 0;
    if (!only || strcmp(only, "factors") == 0)
        rc |= run_catalog("factors", n, nq, dump_prefix);
    if (!only || strcmp(only, "gaussian") == 0)
        rc |= run_catalog("gaussian", n, nq, dump_prefix);
    return rc;
}
