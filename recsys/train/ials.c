/*
 * ials.c - implicit ALS trainer (see ials.h; Hu, Koren, Volinsky, ICDM 2008).
 *
 * One half-sweep solves every row of one side with the other side fixed. For
 * row u with observed columns i (confidence c_ui = 1 + alpha |r_ui|,
 * preference p_ui = 1 for r_ui > 0 and 0 for negative feedback r_ui < 0,
 * unobserved weight alpha0) the normal equations are (paper, eq. 4, with
 * the unobserved weight of Rendle et al. 2022, eq. 4)
 *
 *   (alpha0 Y'Y + Y' (C_u - alpha0 I) Y + lambda_u I) x_u = Y' C_u p(u)
 *
 * alpha0 Y'Y is the same for every row, so it is computed once per half-sweep
 * with ssyrk. With per-item unobserved weights W = diag(alpha0_i) (pop_exp,
 * eALS) the user side's shared term is Y'WY, one ssyrk over the rows of Y
 * scaled by sqrt(alpha0_i), and each observed entry weighs c_ui - alpha0_i;
 * on the item side row i's shared term is alpha0_i X'X, the one Gramian X'X
 * scaled per row. The exact solver adds the row's own term, of rank |row|: its
 * item vectors, scaled by sqrt(c_ui - alpha0), are gathered into a small
 * buffer and added with ssyrk (or with a plain rank-1 loop for very short rows,
 * where the BLAS call overhead dominates), then solves the f x f system by an
 * in-place Cholesky factorization written for contiguous row-major access;
 * only the upper triangle (row-major) of its matrix is read. The CG solver
 * never forms the row's matrix: each step multiplies by it as
 * alpha0 Y'Y p + lambda_u p + sum_i (c_ui - alpha0) (y_i.p) y_i, the way the
 * `implicit` library and Takacs et al. (RecSys 2011) do, starting from the
 * row's current factors.
 *
 * The per-row kernels are compiled for several x86-64 levels (target_clones)
 * and picked at load time: the build targets baseline x86-64, whose SSE2
 * vectors are a quarter of AVX-512's width.
 *
 * Threads: workers take chunks of IALS_ROW_CHUNK consecutive rows from a
 * shared atomic counter (rows cost very different amounts: a popular item's
 * row is thousands of entries long, and static ranges measured up to 2x
 * imbalance). Each row's solution depends only on the row and the fixed side,
 * never on which thread computed it or when, so results are bit-identical for
 * the same inputs and seed, whatever the thread count or scheduling.
 * OpenBLAS's own threading is switched off (openblas_set_num_threads, a
 * process-wide setting) for the duration of ials_train and restored after:
 * the BLAS calls here are small and run inside our workers.
 */
#include "ials_impl.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "rng.h"

/* Item vectors gathered per ssyrk call; bounds the per-thread buffer. */
#define IALS_GATHER_ROWS 512u

/* Rows shorter than this get a hand-written rank-1 update instead of ssyrk,
 * whose call overhead dominates for tiny k (measured at f=64, 1M nnz: calling
 * ssyrk for every row costs ~12% more per sweep; thresholds 4..32 tie). */
#define IALS_SHORT_ROW 8u

/* Rows a worker claims at a time from the shared counter. */
#define IALS_ROW_CHUNK 16u

/* CG stops early on a row once |r|^2 falls below this (as `implicit` does):
 * the row is solved to float precision. */
#define IALS_CG_TINY 1e-20f

/* Runtime dispatch for the per-row kernels (GCC on x86-64 glibc: ifunc).
 * Helpers they call are forced inline so that they get each clone's ISA. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
/* -std=c11 turns off contracting a * b + c into one FMA; the kernels want it
 * (one rounding instead of two, half the instructions). */
#pragma GCC optimize("fp-contract=fast")
#define IALS_KERNEL \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", \
                                 "default")))
#else
#define IALS_KERNEL
#endif
#define IALS_INLINE static inline __attribute__((always_inline))

void ials_params_default(ials_params_t *p)
{
    /* Padding too, so that settings compare equal byte for byte. */
    memset(p, 0, sizeof *p);
    p->factors = 64;
    p->iterations = 15;
    p->reg = 0.05f;
    p->alpha = 2.0f;
    p->init_scale = 1.0f;
    p->threads = 1;
    p->seed = 1;
    p->alpha0 = 1.0f;
    p->nu = 0.0f;
    p->solver = IALS_SOLVER_EXACT;
    p->cg_steps = 3;
    p->pop_exp = 0.0f;
}

const char *ials_solver_name(ials_solver_t s)
{
    switch (s) {
    case IALS_SOLVER_EXACT: return "exact";
    case IALS_SOLVER_CG: return "cg";
    }
    return NULL;
}

int ials_solver_parse(const char *name, ials_solver_t *out)
{
    if (!name || !out)
        return -EINVAL;
    if (strcmp(name, "exact") == 0)
        *out = IALS_SOLVER_EXACT;
    else if (strcmp(name, "cg") == 0)
        *out = IALS_SOLVER_CG;
    else
        return -EINVAL;
    return 0;
}

/* ----------------------------------------------------------- scaling --- */

int ials_csr_popularity_scale(csr_t *m, float beta)
{
    if (!isfinite(beta) || !csr_valid_signed(m))
        return -EINVAL;
    uint64_t nnz = m->indptr[m->n_rows];
    if (nnz == 0 || beta == 0.0f)
        return 0;
    uint32_t *count = csr_column_counts(m);
    if (!count)
        return -ENOMEM;
    double mean = (double)nnz / m->n_cols;
    for (uint64_t e = 0; e < nnz; e++)
        m->values[e] *= (float)pow(count[m->indices[e]] / mean, -beta);
    free(count);
    return 0;
}

/* ------------------------------------------------------------ checks --- */

int ials_params_valid(const ials_params_t *p)
{
    return p && p->factors >= 1 && p->factors <= IALS_MAX_FACTORS &&
           p->threads >= 1 && p->threads <= IALS_MAX_THREADS &&
           isfinite(p->reg) && p->reg >= 0.0f &&
           isfinite(p->alpha) && p->alpha >= 0.0f &&
           isfinite(p->init_scale) && p->init_scale >= 0.0f &&
           isfinite(p->alpha0) && p->alpha0 >= 0.0f &&
           isfinite(p->nu) && p->nu >= 0.0f && p->nu <= 4.0f &&
           isfinite(p->pop_exp) && p->pop_exp >= 0.0f &&
           p->pop_exp <= IALS_MAX_POP_EXP &&
           (p->solver == IALS_SOLVER_EXACT || p->solver == IALS_SOLVER_CG) &&
           p->cg_steps >= 1 && p->cg_steps <= IALS_MAX_CG_STEPS;
}

double ials_row_lambda(float reg, float nu, float alpha0, uint64_t n_r, uint32_t n_other)
{
    if (nu == 0.0f)
        return reg;
    return reg * pow((double)n_r + (double)alpha0 * n_other, nu);
}

/* ----------------------------------------------------------- init --- */

/* splitmix64 (Steele, Lea, Flood 2014): tiny, seedable with any value. */
static void init_factors(float *x, size_t count, float scale, uint64_t *state)
{
    for (size_t i = 0; i < count; i++) {
        /* top 24 bits -> exact float in [0, 1) */
        float u = (float)(splitmix64(state) >> 40) * (1.0f / 16777216.0f);
        x[i] = u * scale;
    }
}

/* ------------------------------------------------------ linear algebra --- */

/* Rows per panel of the blocked Cholesky: the trailing update is rank-4, so
 * each pass over the trailing matrix does 4 multiply-adds per load/store
 * (measured at f=64: 9.8 us per solve vs 12.7 unblocked; f=128: 43 vs 72). */
#define IALS_CHOL_PANEL 4u

/* Finishes rows k0..k0+kb of U (all earlier panels already applied) with the
 * unblocked right-looking algorithm restricted to the panel. */
IALS_INLINE int factor_panel(float *restrict a, uint32_t f, uint32_t k0,
                             uint32_t kb)
{
    for (uint32_t k = k0; k < k0 + kb; k++) {
        float *restrict rk = a + (size_t)k * f;
        float piv = rk[k];
        if (!(piv > 0.0f))
            return -EDOM;
        float d = sqrtf(piv), inv = 1.0f / d;
        rk[k] = d;
        for (uint32_t j = k + 1; j < f; j++)
            rk[j] *= inv;
        for (uint32_t i = k + 1; i < k0 + kb; i++) {
            float *restrict ri = a + (size_t)i * f;
            float s = rk[i];
            for (uint32_t j = i; j < f; j++)
                ri[j] -= s * rk[j];
        }
    }
    return 0;
}

/* Rows below a full panel at k0: A_i -= sum of the panel's 4 rank-1 terms. */
IALS_INLINE void update_trailing(float *restrict a, uint32_t f, uint32_t k0)
{
    const float *restrict r0 = a + (size_t)k0 * f;
    const float *restrict r1 = r0 + f, *restrict r2 = r1 + f,
                *restrict r3 = r2 + f;
    for (uint32_t i = k0 + IALS_CHOL_PANEL; i < f; i++) {
        float *restrict ri = a + (size_t)i * f;
        float s0 = r0[i], s1 = r1[i], s2 = r2[i], s3 = r3[i];
        for (uint32_t j = i; j < f; j++)
            ri[j] -= (s0 * r0[j] + s1 * r1[j]) + (s2 * r2[j] + s3 * r3[j]);
    }
}

/*
 * In-place Cholesky A = U'U of an SPD f x f matrix (row-major, upper triangle
 * read and overwritten by U). Right-looking and blocked by panels so that
 * every inner loop is a contiguous row-tail update the compiler vectorizes.
 * Returns 0, or -EDOM if a pivot is not positive (A not numerically SPD).
 */
IALS_INLINE int cholesky_factor(float *a, uint32_t f)
{
    for (uint32_t k0 = 0; k0 < f; k0 += IALS_CHOL_PANEL) {
        uint32_t kb = f - k0 < IALS_CHOL_PANEL ? f - k0 : IALS_CHOL_PANEL;
        int rc = factor_panel(a, f, k0, kb);
        if (rc)
            return rc;
        if (kb == IALS_CHOL_PANEL)
            update_trailing(a, f, k0);
    }
    return 0;
}

/* 16 floats: one AVX-512 register, two AVX2 or four SSE registers,
 * depending on the clone (GCC vector extension; loaded through memcpy, so no
 * alignment is assumed, and never passed by value, which would tie the
 * calling convention to the ISA). */
typedef float vf16_t __attribute__((vector_size(64)));
#define IALS_LANES 16u

typedef int32_t vi16_t __attribute__((vector_size(64)));

/* Sum of the 16 lanes in a fixed tree order (deterministic), folding halves
 * with register shuffles: a round trip through memory stalls on store
 * forwarding once per dot (measured: a fifth of CG's time at f=192). */
IALS_INLINE float hsum16(const vf16_t *v)
{
    vf16_t s = *v;
#ifdef __clang__ /* the fuzz build (tests/fuzz): clang's spelling of the same shuffles */
    s += __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    s += __builtin_shufflevector(s, s, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3);
    s += __builtin_shufflevector(s, s, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1);
    s += __builtin_shufflevector(s, s, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
#else
    const vi16_t h8 = { 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7 };
    const vi16_t h4 = { 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3 };
    const vi16_t h2 = { 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 };
    const vi16_t h1 = { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 };
    s += __builtin_shuffle(s, h8);
    s += __builtin_shuffle(s, h4);
    s += __builtin_shuffle(s, h2);
    s += __builtin_shuffle(s, h1);
#endif
    return s[0];
}

/* Float dot with 16-lane vector partial sums; fixed combine order keeps
 * results deterministic. */
IALS_INLINE float dot_lanes(const float *restrict a, const float *restrict b,
                            uint32_t n)
{
    /* Four accumulators: one chain of dependent multiply-adds would wait
     * out the FMA latency on every step (measured: CG 1.4x slower). */
    vf16_t acc[4] = { { 0 }, { 0 }, { 0 }, { 0 } }, va, vb;
    uint32_t d = 0;
    for (; d + 4 * IALS_LANES <= n; d += 4 * IALS_LANES)
        for (uint32_t q = 0; q < 4; q++) {
            memcpy(&va, a + d + q * IALS_LANES, sizeof va);
            memcpy(&vb, b + d + q * IALS_LANES, sizeof vb);
            acc[q] += va * vb;
        }
    for (; d + IALS_LANES <= n; d += IALS_LANES) {
        memcpy(&va, a + d, sizeof va);
        memcpy(&vb, b + d, sizeof vb);
        acc[0] += va * vb;
    }
    acc[0] += acc[2];
    acc[1] += acc[3];
    acc[0] += acc[1];
    float tail = 0.0f;
    for (; d < n; d++)
        tail += a[d] * b[d];
    return hsum16(&acc[0]) + tail;
}

/* y += s x */
IALS_INLINE void axpy(float *restrict y, float s, const float *restrict x,
                      uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        y[k] += s * x[k];
}

/* Solves U'U x = b given U from cholesky_factor; b becomes x. */
IALS_INLINE void cholesky_substitute(const float *restrict u,
                                     float *restrict b, uint32_t f)
{
    /* U' z = b (forward, column-oriented so the inner loop is contiguous). */
    for (uint32_t k = 0; k < f; k++) {
        const float *restrict rk = u + (size_t)k * f;
        float z = b[k] / rk[k];
        b[k] = z;
        for (uint32_t j = k + 1; j < f; j++)
            b[j] -= rk[j] * z;
    }
    /* U x = z (backward, row dot products over the contiguous row tail). */
    for (uint32_t k = f; k-- > 0;) {
        const float *restrict rk = u + (size_t)k * f;
        b[k] = (b[k] - dot_lanes(rk + k + 1, b + k + 1, f - k - 1)) / rk[k];
    }
}

/* A += w v v' on the upper triangle. */
IALS_INLINE void rank1_upper(float *restrict a, const float *restrict v,
                             float w, uint32_t f)
{
    for (uint32_t i = 0; i < f; i++) {
        float *restrict ri = a + (size_t)i * f;
        float s = w * v[i];
        for (uint32_t j = i; j < f; j++)
            ri[j] += s * v[j];
    }
}

/* G = alpha0 F'F, or F' diag(w) F when w is given (then scratch, m x f,
 * holds F's rows scaled by sqrt(w)); full symmetric (ssyrk fills the upper
 * triangle, mirrored so that CG's matrix-vector products read contiguous
 * rows). */
static void gramian_scaled(const float *fixed, uint32_t m, uint32_t f,
                           float alpha0, const float *w, float *scratch,
                           float *g)
{
    memset(g, 0, (size_t)f * f * sizeof *g);
    if (m && w) {
        for (uint32_t r = 0; r < m; r++) {
            float s = sqrtf(w[r]);
            for (uint32_t k = 0; k < f; k++)
                scratch[(size_t)r * f + k] = s * fixed[(size_t)r * f + k];
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)f, (int)m,
                    1.0f, scratch, (int)f, 0.0f, g, (int)f);
    } else if (m && alpha0 != 0.0f) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)f, (int)m,
                    alpha0, fixed, (int)f, 0.0f, g, (int)f);
    }
    for (uint32_t i = 1; i < f; i++)
        for (uint32_t j = 0; j < i; j++)
            g[(size_t)i * f + j] = g[(size_t)j * f + i];
}

/* ------------------------------------------------------------ solving --- */

/* What every worker of one half-sweep shares; only next_row is written. */
typedef struct sweep {
    const csr_t *rows; /* the side being solved, rows x cols */
    const float *fixed;     /* cols x f, held fixed */
    float *out;             /* rows x f: warm start (CG), then the solution */
    const float *gram;      /* f x f: alpha0 fixed'fixed, full symmetric; with
                             * row_w fixed'fixed, with col_w fixed'W fixed */
    const float *col_w;     /* per-column unobserved weight, or NULL */
    const float *row_w;     /* per-row unobserved weight, or NULL */
    uint32_t f;
    float alpha, alpha0, reg, nu;
    uint32_t cg_steps;
    ials_solver_t solver;
    _Atomic uint64_t next_row; /* first row not yet claimed */
} sweep_t;

/* Per-thread scratch, allocated once per training run. */
typedef struct worker {
    sweep_t *sw;
    float *a;      /* f x f */
    float *gather; /* IALS_GATHER_ROWS x f */
    float *b;      /* f: right-hand side (exact), residual (CG) */
    float *p, *ap; /* f each: CG direction and A p */
    int rc;
} worker_t;

/* Row r's own unobserved weight: per-column weights average alpha0. */
static float row_alpha0(const sweep_t *sw, uint32_t r)
{
    return sw->row_w ? sw->row_w[r] : sw->alpha0;
}

static float sweep_lambda(const sweep_t *sw, uint32_t r, uint64_t n_r)
{
    return (float)ials_row_lambda(sw->reg, sw->nu, row_alpha0(sw, r), n_r,
                             sw->rows->n_cols);
}

/* The unobserved weight that observed entry (r, col) replaces. */
IALS_INLINE float entry_alpha0(const sweep_t *sw, uint32_t r, uint32_t col)
{
    if (sw->col_w)
        return sw->col_w[col];
    return row_alpha0(sw, r);
}

/* c_ui = 1 + alpha |r_ui|: a negative entry (negative feedback) is as sure
 * as a positive one of the same size, with preference 0 instead of 1. */
IALS_INLINE float entry_confidence(const sweep_t *sw, float v)
{
    return 1.0f + sw->alpha * fabsf(v);
}

/* Adds the row's term Y'(C_u - alpha0 I)Y to a and builds b = Y'C_u p(u). A
 * weight c - alpha0 < 0 (alpha0 above a confidence) cannot be gathered as a
 * square root and goes in by a signed rank-1 update instead. */
IALS_INLINE void accumulate_row(const sweep_t *sw, worker_t *w, uint32_t r,
                                uint64_t begin, uint64_t end)
{
    const uint32_t f = sw->f;
    const uint32_t *idx = sw->rows->indices;
    const float *val = sw->rows->values;
    float *restrict b = w->b;
    int use_blas = end - begin >= IALS_SHORT_ROW;

    for (uint64_t base = begin; base < end; base += IALS_GATHER_ROWS) {
        uint64_t stop = end - base < IALS_GATHER_ROWS ? end
                                                      : base + IALS_GATHER_ROWS;
        uint32_t n = 0;
        for (uint64_t e = base; e < stop; e++) {
            const float *restrict y = sw->fixed + (size_t)idx[e] * f;
            float c = entry_confidence(sw, val[e]);
            float wt = c - entry_alpha0(sw, r, idx[e]);
            if (val[e] > 0.0f) /* preference 1; a negative entry's is 0 */
                axpy(b, c, y, f);
            if (!use_blas || wt < 0.0f) {
                rank1_upper(w->a, y, wt, f);
                continue;
            }
            float s = sqrtf(wt);
            float *restrict g = w->gather + (size_t)n++ * f;
            for (uint32_t j = 0; j < f; j++)
                g[j] = s * y[j];
        }
        if (n)
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)f, (int)n,
                        1.0f, w->gather, (int)f, 1.0f, w->a, (int)f);
    }
}

IALS_KERNEL
static int solve_row_exact(const sweep_t *sw, worker_t *w, uint32_t r)
{
    const uint32_t f = sw->f;
    const uint64_t begin = sw->rows->indptr[r], end = sw->rows->indptr[r + 1];
    float lambda = sweep_lambda(sw, r, end - begin);
    memcpy(w->a, sw->gram, (size_t)f * f * sizeof *w->a);
    if (sw->row_w)
        for (size_t k = 0; k < (size_t)f * f; k++)
            w->a[k] *= sw->row_w[r];
    for (uint32_t k = 0; k < f; k++)
        w->a[(size_t)k * f + k] += lambda;
    memset(w->b, 0, (size_t)f * sizeof *w->b);
    accumulate_row(sw, w, r, begin, end);
    int rc = cholesky_factor(w->a, f);
    if (rc)
        return rc;
    cholesky_substitute(w->a, w->b, f);
    memcpy(sw->out + (size_t)r * f, w->b, (size_t)f * sizeof *w->b);
    return 0;
}

/* Entries ahead of the current one whose fixed-side vectors CG prefetches:
 * the rows are scattered over a matrix far larger than L2, and without it
 * the first load of each row stalls (perf: a fifth of CG's cycles on one
 * load at the 10M bench shape). */
#define IALS_PREFETCH_AHEAD 4u
#define IALS_CACHE_LINE 64u

IALS_INLINE void prefetch_entry(const sweep_t *sw, uint64_t e, uint64_t end)
{
    if (e + IALS_PREFETCH_AHEAD >= end)
        return;
    uint32_t ahead = sw->rows->indices[e + IALS_PREFETCH_AHEAD];
    const char *y = (const char *)(sw->fixed + (size_t)ahead * sw->f);
    for (size_t off = 0; off < sw->f * sizeof(float); off += IALS_CACHE_LINE)
        __builtin_prefetch(y + off);
}

/* ap = (G + lambda I) v, G the sweep's Gramian (already scaled by alpha0,
 * or by W), times the row's own weight on the item side of a weighted run:
 * the part of A v that needs no pass over the row's entries. */
IALS_INLINE void gram_times(const sweep_t *sw, uint32_t r,
                            const float *restrict v, float lambda,
                            float *restrict ap)
{
    const float *restrict g = sw->gram;
    const uint32_t f = sw->f;
    if (sw->row_w) {
        const float s = sw->row_w[r];
        for (uint32_t i = 0; i < f; i++)
            ap[i] = s * dot_lanes(g + (size_t)i * f, v, f) + lambda * v[i];
        return;
    }
    for (uint32_t i = 0; i < f; i++)
        ap[i] = dot_lanes(g + (size_t)i * f, v, f) + lambda * v[i];
}

/*
 * A few CG steps on the row's normal equations from its current factors
 * (Takacs et al. 2011, alg. 2; `implicit`'s _least_squares_cg). Each product
 * with A is one pass over the row's items: (c - alpha0)(y.v) y, plus the
 * shared alpha0 G v + lambda v.
 */
IALS_KERNEL
static int solve_row_cg(const sweep_t *sw, worker_t *w, uint32_t r)
{
    const uint32_t f = sw->f;
    const uint32_t *idx = sw->rows->indices;
    const float *val = sw->rows->values;
    const uint64_t begin = sw->rows->indptr[r], end = sw->rows->indptr[r + 1];
    const float lambda = sweep_lambda(sw, r, end - begin);
    float *restrict x = sw->out + (size_t)r * f;
    float *restrict res = w->b, *restrict p = w->p, *restrict ap = w->ap;

    /* res = b - A x, b = sum c y */
    gram_times(sw, r, x, lambda, ap);
    for (uint32_t k = 0; k < f; k++)
        res[k] = -ap[k];
    for (uint64_t e = begin; e < end; e++) {
        const float *restrict y = sw->fixed + (size_t)idx[e] * f;
        float c = entry_confidence(sw, val[e]);
        float a0 = entry_alpha0(sw, r, idx[e]);
        prefetch_entry(sw, e, end);
        axpy(res, (val[e] > 0.0f ? c : 0.0f) - (c - a0) * dot_lanes(y, x, f), y, f);
    }
    memcpy(p, res, (size_t)f * sizeof *p);
    float rs = dot_lanes(res, res, f);

    for (uint32_t step = 0; step < sw->cg_steps && rs > IALS_CG_TINY; step++) {
        gram_times(sw, r, p, lambda, ap);
        for (uint64_t e = begin; e < end; e++) {
            const float *restrict y = sw->fixed + (size_t)idx[e] * f;
            float wt = entry_confidence(sw, val[e]) - entry_alpha0(sw, r, idx[e]);
            prefetch_entry(sw, e, end);
            axpy(ap, wt * dot_lanes(y, p, f), y, f);
        }
        float pap = dot_lanes(p, ap, f);
        if (!(pap > 0.0f))
            break; /* A not positive along p: nothing safe to do */
        float step_len = rs / pap;
        axpy(x, step_len, p, f);
        axpy(res, -step_len, ap, f);
        float rs_new = dot_lanes(res, res, f);
        float beta = rs_new / rs;
        for (uint32_t k = 0; k < f; k++)
            p[k] = res[k] + beta * p[k];
        rs = rs_new;
    }
    return 0;
}

/* Claims chunks of rows until none are left or a row fails. */
static void *worker_run(void *arg)
{
    worker_t *w = arg;
    sweep_t *sw = w->sw;
    const uint32_t n = sw->rows->n_rows;
    int (*solve)(const sweep_t *, worker_t *, uint32_t) =
        sw->solver == IALS_SOLVER_CG ? solve_row_cg : solve_row_exact;
    w->rc = 0;
    while (!w->rc) {
        uint64_t begin = atomic_fetch_add(&sw->next_row, IALS_ROW_CHUNK);
        if (begin >= n)
            break;
        uint64_t end = n - begin < IALS_ROW_CHUNK ? n : begin + IALS_ROW_CHUNK;
        for (uint32_t r = (uint32_t)begin; r < end && !w->rc; r++)
            w->rc = solve(sw, w, r);
    }
    return NULL;
}

/* Runs one half-sweep: worker 0 in the calling thread, the others in new
 * threads. A thread that cannot be started just leaves its share of rows to
 * the others (same result, slower). */
static int run_sweep(sweep_t *sw, worker_t *ws, uint32_t n_workers)
{
    pthread_t tid[IALS_MAX_THREADS];
    int started[IALS_MAX_THREADS] = { 0 };

    atomic_init(&sw->next_row, 0);
    for (uint32_t t = 0; t < n_workers; t++)
        ws[t].sw = sw;
    for (uint32_t t = 1; t < n_workers; t++)
        started[t] = pthread_create(&tid[t], NULL, worker_run, &ws[t]) == 0;
    worker_run(&ws[0]);
    int rc = ws[0].rc;
    for (uint32_t t = 1; t < n_workers; t++) {
        if (!started[t])
            continue;
        pthread_join(tid[t], NULL);
        if (ws[t].rc && !rc)
            rc = ws[t].rc;
    }
    return rc;
}

static void workers_free(worker_t *ws, uint32_t n)
{
    if (!ws)
        return;
    for (uint32_t t = 0; t < n; t++) {
        free(ws[t].a);
        free(ws[t].gather);
        free(ws[t].b);
        free(ws[t].p);
        free(ws[t].ap);
    }
    free(ws);
}

static worker_t *workers_new(uint32_t n, uint32_t f)
{
    worker_t *ws = calloc(n, sizeof *ws);
    if (!ws)
        return NULL;
    for (uint32_t t = 0; t < n; t++) {
        ws[t].a = malloc((size_t)f * f * sizeof(float));
        ws[t].gather = malloc((size_t)IALS_GATHER_ROWS * f * sizeof(float));
        ws[t].b = malloc((size_t)f * sizeof(float));
        ws[t].p = malloc((size_t)f * sizeof(float));
        ws[t].ap = malloc((size_t)f * sizeof(float));
        if (!ws[t].a || !ws[t].gather || !ws[t].b || !ws[t].p || !ws[t].ap) {
            workers_free(ws, n);
            return NULL;
        }
    }
    return ws;
}

/* Solves every row of `rows` with `fixed` held: out = argmin (see top).
 * item_w: per-item unobserved weights or NULL; items_fixed: whether `fixed`
 * is the item side (the user half-sweep). scratch: cols x f floats when
 * item_w is given. */
static int half_sweep(const csr_t *rows, const float *fixed, float *out,
                      const ials_params_t *p, const float *item_w,
                      int items_fixed, float *gram, float *scratch,
                      worker_t *ws)
{
    const float *col_w = item_w && items_fixed ? item_w : NULL;
    const float *row_w = item_w && !items_fixed ? item_w : NULL;
    sweep_t sw = { rows, fixed, out, gram, col_w, row_w, p->factors,
                   p->alpha, p->alpha0, p->reg, p->nu, p->cg_steps,
                   p->solver, 0 };
    gramian_scaled(fixed, rows->n_cols, p->factors, row_w ? 1.0f : p->alpha0,
                   col_w, scratch, gram);
    return run_sweep(&sw, ws, p->threads);
}

/* ---------------------------------------------------------- training --- */

int ials_train(const csr_t *ui, const ials_params_t *p,
               float *user_f, float *item_f,
               ials_progress_fn progress, void *ctx)
{
    if (!ials_params_valid(p) || !csr_valid_signed(ui) ||
        (ui->n_rows && !user_f) || (ui->n_cols && !item_f))
        return -EINVAL;

    const uint32_t f = p->factors;
    float scale = p->init_scale / sqrtf((float)f);
    uint64_t state = p->seed;
    init_factors(user_f, (size_t)ui->n_rows * f, scale, &state);
    init_factors(item_f, (size_t)ui->n_cols * f, scale, &state);
    if (p->iterations == 0)
        return 0;

    csr_t iu = { 0 };
    float *gram = malloc((size_t)f * f * sizeof *gram);
    worker_t *ws = workers_new(p->threads, f);
    float *item_w = NULL, *scratch = NULL;
    int rc = (gram && ws) ? csr_transpose(ui, &iu) : -ENOMEM;
    if (!rc && p->pop_exp != 0.0f) {
        item_w = ials_item_weights(ui, p);
        scratch = ials_xmalloc((size_t)ui->n_cols * f * sizeof *scratch);
        if (!item_w || !scratch)
            rc = -ENOMEM;
    }

    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (uint32_t it = 1; !rc && it <= p->iterations; it++) {
        rc = half_sweep(ui, item_f, user_f, p, item_w, 1, gram, scratch, ws);
        if (!rc)
            rc = half_sweep(&iu, user_f, item_f, p, item_w, 0, gram, scratch,
                            ws);
        if (!rc && progress &&
            progress(ctx, it, ials_loss_unchecked(ui, p, user_f, item_f)))
            break;
    }
    openblas_set_num_threads(blas_threads);

    csr_free(&iu);
    workers_free(ws, p->threads);
    free(item_w);
    free(scratch);
    free(gram);
    return rc;
}
