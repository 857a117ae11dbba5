/*
 * bench_ials.c - what one implicit-ALS iteration costs with the exact and the
 * conjugate-gradient solver, on synthetic data shaped like a shop's: Zipf-like
 * item popularity (exponent 0.9) and user activity (exponent 0.6, at least one
 * interaction each), interaction strengths 1..3 (repeat purchases).
 *
 * Reference shape from issue 4: 100,000 users x 50,000 items x 10,000,000
 * interactions, f = 64, alpha = 10, reg = 0.05, 2 threads. No peer figure is
 * printed: the `implicit` library is not in Debian's archive, so it cannot be
 * measured in the same run, and a figure from another machine or day would
 * not compare.
 *
 * "cpu s/iter/thr" is CPU time per iteration divided by the thread count: on
 * a shared machine it is what the wall time would be without other tenants.
 *
 * GFLOP/s counts the arithmetic the solver's algorithm needs (multiply-add =
 * 2 flops; see flops_exact / flops_cg), divided by wall time, so it includes
 * all overheads. The peak beside it is cores x clock x fp32 flops per cycle
 * per core, read from /proc/cpuinfo: 2 FMA pipes x vector width x 2 flops,
 * the vector width being 16 floats only where AVX-512 runs at full width
 * (Intel), 8 for AVX2+FMA machines including AMD Zen 4, whose AVX-512 is
 * executed on 256-bit pipes.
 *
 * Usage: bench_ials [--quick] [--iterations N] [--threads N] [--scale M,...]
 *   --scale lists interaction counts in millions for the scale table
 *   (default 1,10; 50 needs about 2 GB). --quick: 1M only, 2 iterations.
 */
#include "ials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "rng.h"
#include "monotime.h"

#define BENCH_USERS 100000u
#define BENCH_ITEMS 50000u
#define BENCH_FACTORS 64u
#define BENCH_ALPHA 10.0f
#define BENCH_REG 0.05f
#define BENCH_ITEM_ZIPF 0.9
#define BENCH_USER_ZIPF 0.6
#define BENCH_MAX_SCALES 8

static double rng_unit(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Interactions per user: Zipf weights scaled to nnz, each in 1..items/4. */
static void user_counts(uint64_t nnz, uint32_t *count)
{
    double total = 0.0;
    for (uint32_t u = 0; u < BENCH_USERS; u++)
        total += pow(u + 1.0, -BENCH_USER_ZIPF);
    for (uint32_t u = 0; u < BENCH_USERS; u++) {
        double c = (double)nnz * pow(u + 1.0, -BENCH_USER_ZIPF) / total;
        c = c < 1.0 ? 1.0 : c > BENCH_ITEMS / 4 ? BENCH_ITEMS / 4 : c;
        count[u] = (uint32_t)c;
    }
}

/* Builds the CSR directly: each user draws distinct items from the Zipf
 * item distribution (inverse CDF by binary search, duplicates redrawn). Item
 * ids are a fixed shuffle of popularity ranks so popular items are spread
 * over memory as in real catalogs. Returns 0 or -1 (out of memory). */
static int generate(uint64_t nnz_target, csr_t *m)
{
    uint32_t *count = malloc(BENCH_USERS * sizeof *count);
    double *cdf = malloc(BENCH_ITEMS * sizeof *cdf);
    uint32_t *perm = malloc(BENCH_ITEMS * sizeof *perm);
    uint32_t *stamp = calloc(BENCH_ITEMS, sizeof *stamp);
    if (!count || !cdf || !perm || !stamp)
        goto fail;
    user_counts(nnz_target, count);
    uint64_t nnz = 0;
    for (uint32_t u = 0; u < BENCH_USERS; u++)
        nnz += count[u];
    double acc = 0.0;
    for (uint32_t i = 0; i < BENCH_ITEMS; i++)
        cdf[i] = (acc += pow(i + 1.0, -BENCH_ITEM_ZIPF));
    uint64_t s = 12345;
    for (uint32_t i = 0; i < BENCH_ITEMS; i++)
        perm[i] = i;
    for (uint32_t i = BENCH_ITEMS; i-- > 1;) {
        uint32_t j = (uint32_t)(splitmix64(&s) % (i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    m->n_rows = BENCH_USERS;
    m->n_cols = BENCH_ITEMS;
    m->indptr = malloc((BENCH_USERS + 1) * sizeof *m->indptr);
    m->indices = malloc(nnz * sizeof *m->indices);
    m->values = malloc(nnz * sizeof *m->values);
    if (!m->indptr || !m->indices || !m->values)
        goto fail;
    uint64_t w = 0;
    for (uint32_t u = 0; u < BENCH_USERS; u++) {
        m->indptr[u] = w;
        for (uint32_t k = 0; k < count[u];) {
            double x = rng_unit(&s) * acc;
            uint32_t lo = 0, hi = BENCH_ITEMS - 1;
            while (lo < hi) {
                uint32_t mid = (lo + hi) / 2;
                if (cdf[mid] < x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            uint32_t item = perm[lo];
            if (stamp[item] == u + 1)
                continue;
            stamp[item] = u + 1;
            m->indices[w + k++] = item;
        }
        qsort(m->indices + w, count[u], sizeof *m->indices, cmp_u32);
        for (uint32_t k = 0; k < count[u]; k++)
            m->values[w + k] = (float)(1 + (splitmix64(&s) % 8 == 0) +
                                       (splitmix64(&s) % 32 == 0));
        w += count[u];
    }
    m->indptr[BENCH_USERS] = w;
    free(count);
    free(cdf);
    free(perm);
    free(stamp);
    return 0;
fail:
    free(count);
    free(cdf);
    free(perm);
    free(stamp);
    csr_free(m);
    return -1;
}

/* Flops of one exact iteration: per side the Gramian (m f^2), the rows' own
 * rank updates (nnz f^2, upper triangle), right-hand sides (2 nnz f) and per
 * row a Cholesky (f^3 / 3) and two triangular solves (2 f^2). */
static double flops_exact(double nnz, double f)
{
    double rows = BENCH_USERS + BENCH_ITEMS;
    return rows * f * f + 2.0 * (nnz * f * f + 2.0 * nnz * f) +
           rows * (f * f * f / 3.0 + 2.0 * f * f);
}

/* Flops of one CG iteration: per side the Gramian, and per row (steps + 1)
 * products with A, each 2 f^2 (shared part) + 4 f per interaction (dot and
 * axpy), plus ~10 f of vector updates per step. */
static double flops_cg(double nnz, double f, double steps)
{
    double rows = BENCH_USERS + BENCH_ITEMS;
    return rows * f * f +
           (steps + 1.0) * (rows * 2.0 * f * f + 2.0 * nnz * 4.0 * f) +
           steps * rows * 10.0 * f;
}

typedef struct run {
    double sec_per_iter, cpu_per_iter, loss, gflops;
} run_t;

/* User + system CPU seconds of the process: on a shared machine, wall time
 * includes other tenants' turns; CPU time / threads does not. */
static double cpu_sec(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int run_solver(const csr_t *m, ials_solver_t solver,
                      uint32_t iterations, uint32_t threads, run_t *out)
{
    ials_params_t p;
    ials_params_default(&p);
    p.factors = BENCH_FACTORS;
    p.alpha = BENCH_ALPHA;
    p.reg = BENCH_REG;
    p.iterations = iterations;
    p.threads = threads;
    p.solver = solver;
    float *x = malloc((size_t)m->n_rows * p.factors * sizeof *x);
    float *y = malloc((size_t)m->n_cols * p.factors * sizeof *y);
    int rc = (x && y) ? 0 : -1;
    if (!rc) {
        double t0 = monotime_seconds(), c0 = cpu_sec();
        rc = ials_train(m, &p, x, y, NULL, NULL);
        double secs = monotime_seconds() - t0;
        out->cpu_per_iter = (cpu_sec() - c0) / iterations;
        double nnz = (double)m->indptr[m->n_rows];
        out->sec_per_iter = secs / iterations;
        out->loss = ials_loss(m, &p, x, y);
        out->gflops = (solver == IALS_SOLVER_CG
                           ? flops_cg(nnz, p.factors, p.cg_steps)
                           : flops_exact(nnz, p.factors)) /
                      out->sec_per_iter * 1e-9;
    }
    free(x);
    free(y);
    return rc;
}

/* Peak fp32 GFLOP/s estimate and how it was made (see the top comment). */
static double peak_gflops(char *how, size_t cap)
{
    FILE *fp = fopen("/proc/cpuinfo", "r");
    char line[4096];
    double mhz = 0.0;
    int avx512 = 0, fma = 0, amd = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        if (!mhz && strncmp(line, "cpu MHz", 7) == 0)
            sscanf(strchr(line, ':') + 1, "%lf", &mhz);
        if (strncmp(line, "vendor_id", 9) == 0 && strstr(line, "AMD"))
            amd = 1;
        if (strncmp(line, "flags", 5) == 0) {
            avx512 = strstr(line, " avx512f") != NULL;
            fma = strstr(line, " fma") != NULL;
        }
    }
    if (fp)
        fclose(fp);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int width = avx512 && !amd ? 16 : fma ? 8 : 4;
    double per_cycle = 2.0 * width * (fma ? 2.0 : 1.0);
    snprintf(how, cap,
             "%ld cores x %.0f MHz x %.0f flops/cycle (2 pipes x %d floats%s%s)",
             cores, mhz, per_cycle, width, fma ? " x FMA" : "",
             avx512 && amd ? "; AMD AVX-512 runs on 256-bit pipes" : "");
    return (double)cores * mhz * 1e-3 * per_cycle;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    uint32_t iterations = 3, threads = 2, n_scales = 2;
    double scales[BENCH_MAX_SCALES] = { 1, 10 };
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = (uint32_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = (uint32_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
            n_scales = 0;
            char *t = strtok(argv[++i], ",");
            for (; t && n_scales < BENCH_MAX_SCALES; t = strtok(NULL, ","))
                scales[n_scales++] = atof(t);
        } else {
            fprintf(stderr, "usage: bench_ials [--quick] [--iterations N] "
                            "[--threads N] [--scale M,...]\n");
            return 2;
        }
    }
    if (quick) {
        iterations = 2;
        n_scales = 1;
        scales[0] = 1;
    }
    if (iterations < 1 || threads < 1)
        return 2;

    char how[256];
    double peak = peak_gflops(how, sizeof how);
    printf("implicit ALS: %u users x %u items, f=%u, alpha=%g, reg=%g, "
           "%u threads, %u iterations per run\n", BENCH_USERS, BENCH_ITEMS,
           BENCH_FACTORS, BENCH_ALPHA, BENCH_REG, threads, iterations);
    printf("machine peak (estimate): %.0f GFLOP/s fp32 = %s\n\n", peak, how);
    printf("%12s  %-6s  %8s  %13s  %10s  %14s  %8s  %9s\n", "interactions",
           "solver", "s/iter", "cpu s/iter/thr", "s/iter/1M", "final loss",
           "GFLOP/s", "% of peak");
    for (uint32_t k = 0; k < n_scales; k++) {
        csr_t m = { 0 };
        double t0 = monotime_seconds();
        if (generate((uint64_t)(scales[k] * 1e6), &m) != 0) {
            fprintf(stderr, "bench_ials: out of memory at %gM\n", scales[k]);
            return 1;
        }
        double gen = monotime_seconds() - t0;
        double nnz = (double)m.indptr[m.n_rows];
        for (int s = 0; s < 2; s++) {
            ials_solver_t solver = s ? IALS_SOLVER_EXACT : IALS_SOLVER_CG;
            run_t r;
            if (run_solver(&m, solver, iterations, threads, &r) != 0) {
                fprintf(stderr, "bench_ials: training failed\n");
                return 1;
            }
            printf("%12.0f  %-6s  %8.3f  %13.3f  %10.4f  %14.6g  %8.1f  %8.1f%%\n",
                   nnz, ials_solver_name(solver), r.sec_per_iter,
                   r.cpu_per_iter / threads, r.sec_per_iter / (nnz * 1e-6),
                   r.loss, r.gflops, 100.0 * r.gflops / peak);
            fflush(stdout);
        }
        printf("%12s  (generated in %.1f s; peak RSS so far %.0f MB)\n", "",
               gen, peak_rss_mb());
        csr_free(&m);
    }
    printf("\ntargets at 10M: cg <= 1.0 s/iter, exact <= 3.0 s/iter\n");
    printf("peak RSS %.0f MB\n", peak_rss_mb());
    return 0;
}
