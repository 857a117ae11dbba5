/*
 * flat.c - exact MIPS through an int8 snapshot plus a float32 re-score (see
 * flat.h).
 *
 * Why it is exact. Row x is stored as codes c with scale s (x = s*c + e) and
 * the query as codes p with scale t (q = t*p + f). The int8 score
 * a = s*t*(c.p) differs from the real x.q by x.f + e.(t*p), so by
 * Cauchy-Schwarz
 *
 *     |x.q - a| <= |x|*|f| + |e|*|t*p|,
 *
 * and the float32 score topk_dot returns differs from x.q by at most
 * gamma_dim*|x|*|q| (Higham, Accuracy and Stability of Numerical Algorithms,
 * 2nd ed., eq. 3.5, any summation order), where gamma_dim = dim*u/(1-dim*u)
 * and u = 2^-24. FLAT_GAMMA doubles that and adds room for the few roundings
 * in a itself and in a +/- bound, so B = |x|*(|f| + gamma*|q|) + |e|*|t*p|
 * bounds |score_f32 - a| for every row: [a - B, a + B] holds the exact float32
 * score. |x| and |e| are computed in double at build time and rounded up.
 *
 * The scan keeps L, the k-th best lower bound a - B among allowed rows seen so
 * far, and collects every allowed row whose upper bound a + B >= L. L only
 * rises, so the final candidate set contains every row with upper bound >= the
 * final L, and the final L is <= the true k-th best float32 score (k distinct
 * rows score at least their lower bounds). So every row of the true top k --
 * ties at the k-th score included -- is a candidate, and re-scoring the
 * candidates with topk_dot then ranking them with topk's heap yields exactly
 * topk_mips's answer. Rows with NaN/inf or an overflowing norm get |x| = inf,
 * hence an infinite (or NaN, which also passes) upper bound: always re-scored.
 *
 * Costs (1M x 64): the int8 copy is 64 MB against 256 MB of float32, plus 12
 * bytes of per-row metadata; candidates are typically tens to a few hundred.
 *
 * The batch path scans the same int8 codes block by block, every query of a
 * chunk reusing a block while it sits in L1: bandwidth is paid once per chunk
 * instead of once per query. (A float32 sgemm batch, with sgemm's rounding
 * bounded the same way, measured 2.3-2.9 ms/query at 64 queries on this
 * machine, single thread: no faster than the single int8 scan, because
 * OpenBLAS reaches only ~50 GFLOPS on these thin shapes.)
 */
#include "flat.h"

#include <float.h>
#include <immintrin.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* Rows per int8 scan block: scores for a block stay in L1. */
#define FLAT_BLOCK 256
/* Queries per pass over the codes in the batch path. */
#define FLAT_BATCH_CHUNK 64
/* Below this many queries a shared pass does not pay: search one by one. */
#define FLAT_BATCH_MIN 2
/* Symmetric int8 code range: +-127, never -128, so |c| fits in int8 and the
 * AVX2 maddubs pair sums (<= 2*127*127) cannot saturate int16. */
#define FLAT_QMAX 127
/* Code rows are padded to a multiple of one AVX2 register with zeros. */
#define FLAT_PAD 32
#define FLAT_ALIGN 64
/* Initial candidate buffer entries. */
#define FLAT_CANDS_INIT 1024
/* Relative slack on the query-side bound factors (covers their rounding). */
#define FLAT_SLACK (1.0 + 0x1p-20)

typedef void (*dots_fn)(const int8_t *restrict codes, uint32_t m,
                        uint32_t dpad, const int8_t *restrict q,
                        int32_t *restrict out);

struct flat_index {
    const float *items; /* borrowed, n x dim */
    uint32_t n, dim, dpad;
    int8_t *codes;      /* n x dpad, zero padded */
    float *scale;       /* s per row */
    float *nx;          /* |x| per row, rounded up; inf = always re-score */
    float *ne;          /* |x - s*c| per row, rounded up */
    float gamma;        /* see the top comment */
    flat_kernel_t kernel;
    dots_fn dots;
};

/* ---- int8 dot kernels: out[j] = codes[j] . q over dpad bytes ---------- */

static void dots_scalar(const int8_t *restrict codes, uint32_t m,
                        uint32_t dpad, const int8_t *restrict q,
                        int32_t *restrict out)
{
    for (uint32_t j = 0; j < m; j++) {
        const int8_t *c = codes + (size_t)j * dpad;
        int32_t acc = 0;
        for (uint32_t d = 0; d < dpad; d++)
            acc += (int32_t)c[d] * (int32_t)q[d];
        out[j] = acc;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define FLAT_HAVE_X86 1

/* Eight row accumulators (8 x int32 each) -> the eight row totals. */
__attribute__((target("avx2"))) static inline __m256i
reduce8(const __m256i acc[8])
{
    __m256i s01 = _mm256_hadd_epi32(acc[0], acc[1]);
    __m256i s23 = _mm256_hadd_epi32(acc[2], acc[3]);
    __m256i s45 = _mm256_hadd_epi32(acc[4], acc[5]);
    __m256i s67 = _mm256_hadd_epi32(acc[6], acc[7]);
    __m256i s0123 = _mm256_hadd_epi32(s01, s23);
    __m256i s4567 = _mm256_hadd_epi32(s45, s67);
    __m256i lo = _mm256_permute2x128_si256(s0123, s4567, 0x20);
    __m256i hi = _mm256_permute2x128_si256(s0123, s4567, 0x31);
    return _mm256_add_epi32(lo, hi);
}

/* AVX2 has no signed x signed byte multiply: maddubs(|q|, sign(c, q)) gives
 * the same pair products, then madd widens to int32. */
__attribute__((target("avx2"))) static void
dots_avx2(const int8_t *restrict codes, uint32_t m, uint32_t dpad,
          const int8_t *restrict q, int32_t *restrict out)
{
    const __m256i ones = _mm256_set1_epi16(1);
    uint32_t j = 0;
    for (; j + 8 <= m; j += 8) {
        const int8_t *base = codes + (size_t)j * dpad;
        __m256i acc[8];
        for (int r = 0; r < 8; r++)
            acc[r] = _mm256_setzero_si256();
        for (uint32_t d = 0; d < dpad; d += 32) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + d));
            __m256i qa = _mm256_abs_epi8(qv);
            for (int r = 0; r < 8; r++) {
                __m256i c = _mm256_load_si256(
                    (const __m256i *)(base + (size_t)r * dpad + d));
                __m256i prod = _mm256_maddubs_epi16(qa, _mm256_sign_epi8(c, qv));
                acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(prod, ones));
            }
        }
        _mm256_storeu_si256((__m256i *)(out + j), reduce8(acc));
    }
    if (j < m)
        dots_scalar(codes + (size_t)j * dpad, m - j, dpad, q, out + j);
}

/* VNNI: dpbusd multiplies unsigned by signed bytes, so rows are fed as
 * c ^ 0x80 = c + 128 and 128 * sum(q) is subtracted at the end. */
__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))) static void
dots_vnni(const int8_t *restrict codes, uint32_t m, uint32_t dpad,
          const int8_t *restrict q, int32_t *restrict out)
{
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    int32_t qsum = 0;
    for (uint32_t d = 0; d < dpad; d++)
        qsum += q[d];
    const __m256i corr = _mm256_set1_epi32(128 * qsum);
    uint32_t j = 0;
    for (; j + 8 <= m; j += 8) {
        const int8_t *base = codes + (size_t)j * dpad;
        __m256i acc[8];
        for (int r = 0; r < 8; r++)
            acc[r] = _mm256_setzero_si256();
        for (uint32_t d = 0; d < dpad; d += 32) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + d));
            for (int r = 0; r < 8; r++) {
                __m256i c = _mm256_load_si256(
                    (const __m256i *)(base + (size_t)r * dpad + d));
                acc[r] = _mm256_dpbusd_epi32(acc[r], _mm256_xor_si256(c, flip), qv);
            }
        }
        _mm256_storeu_si256((__m256i *)(out + j),
                            _mm256_sub_epi32(reduce8(acc), corr));
    }
    if (j < m)
        dots_scalar(codes + (size_t)j * dpad, m - j, dpad, q, out + j);
}
#endif

static int pick_kernel(flat_kernel_t want, flat_kernel_t *got, dots_fn *fn)
{
#ifdef FLAT_HAVE_X86
    __builtin_cpu_init();
    int has_avx2 = __builtin_cpu_supports("avx2");
    int has_vnni = has_avx2 && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512vnni");
    if (want == FLAT_KERNEL_AUTO)
        want = has_vnni ? FLAT_KERNEL_AVX512VNNI
               : has_avx2 ? FLAT_KERNEL_AVX2 : FLAT_KERNEL_SCALAR;
    if ((want == FLAT_KERNEL_AVX512VNNI && !has_vnni) ||
        (want == FLAT_KERNEL_AVX2 && !has_avx2))
        return -ENOTSUP;
    *got = want;
    *fn = want == FLAT_KERNEL_AVX512VNNI ? dots_vnni
          : want == FLAT_KERNEL_AVX2     ? dots_avx2 : dots_scalar;
    return 0;
#else
    if (want != FLAT_KERNEL_AUTO && want != FLAT_KERNEL_SCALAR)
        return -ENOTSUP;
    *got = FLAT_KERNEL_SCALAR;
    *fn = dots_scalar;
    return 0;
#endif
}

/* ---- quantization -------------------------------------------------------- */

/* Nearest float >= v (v >= 0, finite or not). */
static float round_up(double v)
{
    float f = (float)v;
    if ((double)f < v)
        f = nextafterf(f, INFINITY);
    return f;
}

/* Symmetric int8 codes for v[0..dim) with scale s (s > 0); pads with zeros.
 * Returns |v - s*c| in double. */
static double quantize(const float *v, uint32_t dim, uint32_t dpad, float s,
                       int8_t *codes)
{
    double e2 = 0.0;
    for (uint32_t d = 0; d < dim; d++) {
        double c = nearbyint((double)v[d] / (double)s);
        if (c > FLAT_QMAX)
            c = FLAT_QMAX;
        if (c < -FLAT_QMAX)
            c = -FLAT_QMAX;
        codes[d] = (int8_t)c;
        double e = (double)v[d] - (double)s * c;
        e2 += e * e;
    }
    memset(codes + dim, 0, dpad - dim);
    return sqrt(e2);
}

/* Row i of the snapshot: codes, scale, |x|, |e|. */
static void build_row(flat_index_t *idx, uint32_t i)
{
    const float *x = idx->items + (size_t)i * idx->dim;
    int8_t *codes = idx->codes + (size_t)i * idx->dpad;
    double n2 = 0.0, amax = 0.0;
    int finite = 1;
    for (uint32_t d = 0; d < idx->dim; d++) {
        double v = x[d];
        finite &= isfinite(x[d]) != 0;
        n2 += v * v;
        if (fabs(v) > amax)
            amax = fabs(v);
    }
    float s = finite ? (float)(amax / FLAT_QMAX) : 0.0f;
    if (!finite || sqrt(n2) > FLT_MAX) {
        memset(codes, 0, idx->dpad);
        idx->scale[i] = 0.0f;
        idx->nx[i] = INFINITY; /* always a candidate */
        idx->ne[i] = 0.0f;
        return;
    }
    idx->nx[i] = round_up(sqrt(n2));
    if (s > 0.0f && isnormal(s)) {
        idx->scale[i] = s;
        idx->ne[i] = round_up(quantize(x, idx->dim, idx->dpad, s, codes));
    } else {
        /* All zero, or too tiny to scale: codes 0, the error is the row. */
        memset(codes, 0, idx->dpad);
        idx->scale[i] = 0.0f;
        idx->ne[i] = idx->nx[i];
    }
}

int flat_index_build(const float *items, uint32_t n, uint32_t dim,
                     flat_kernel_t kernel, flat_index_t **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if ((!items && n) || dim == 0)
        return -EINVAL;
    flat_index_t *idx = calloc(1, sizeof *idx);
    if (!idx)
        return -ENOMEM;
    int rc = pick_kernel(kernel, &idx->kernel, &idx->dots);
    if (rc) {
        free(idx);
        return rc;
    }
    idx->items = items;
    idx->n = n;
    idx->dim = dim;
    idx->dpad = (dim + FLAT_PAD - 1) / FLAT_PAD * FLAT_PAD;
    idx->gamma = (float)((double)(dim + 16) * 0x1p-23);
    size_t code_bytes = (size_t)n * idx->dpad;
    code_bytes = (code_bytes + FLAT_ALIGN) / FLAT_ALIGN * FLAT_ALIGN;
    idx->codes = aligned_alloc(FLAT_ALIGN, code_bytes);
    idx->scale = malloc(((size_t)n + 1) * sizeof(float));
    idx->nx = malloc(((size_t)n + 1) * sizeof(float));
    idx->ne = malloc(((size_t)n + 1) * sizeof(float));
    if (!idx->codes || !idx->scale || !idx->nx || !idx->ne) {
        flat_index_free(idx);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        build_row(idx, i);
    *out = idx;
    return 0;
}

void flat_index_free(flat_index_t *idx)
{
    if (!idx)
        return;
    free(idx->codes);
    free(idx->scale);
    free(idx->nx);
    free(idx->ne);
    free(idx);
}

const char *flat_index_kernel_name(const flat_index_t *idx)
{
    switch (idx->kernel) {
    case FLAT_KERNEL_AVX512VNNI: return "avx512vnni";
    case FLAT_KERNEL_AVX2: return "avx2";
    default: return "scalar";
    }
}

size_t flat_index_bytes(const flat_index_t *idx)
{
    return sizeof *idx + (size_t)idx->n * (idx->dpad + 3 * sizeof(float));
}

/* ---- candidate collection (shared by single and batched search) ------ */

typedef struct cands {
    uint32_t *id;
    float *up;          /* upper bound of each candidate */
    size_t len, cap;
    topk_heap_t lo;     /* k best lower bounds among allowed rows seen */
    topk_hit_t *lo_buf;
} cands_t;

static int cands_init(cands_t *c, uint32_t k)
{
    memset(c, 0, sizeof *c);
    c->cap = FLAT_CANDS_INIT;
    c->id = malloc(c->cap * sizeof *c->id);
    c->up = malloc(c->cap * sizeof *c->up);
    c->lo_buf = malloc(((size_t)k + 1) * sizeof *c->lo_buf);
    if (!c->id || !c->up || !c->lo_buf)
        return -ENOMEM;
    topk_heap_init(&c->lo, c->lo_buf, k);
    return 0;
}

static void cands_free(cands_t *c)
{
    free(c->id);
    free(c->up);
    free(c->lo_buf);
}

/* L: a row whose upper bound is below it cannot be in the top k. */
static inline float cands_floor(const cands_t *c)
{
    return c->lo.size < c->lo.cap ? -INFINITY : c->lo.threshold;
}

/* Drops candidates L has overtaken; grows the buffer if that freed little. */
static int cands_make_room(cands_t *c)
{
    float L = cands_floor(c);
    size_t w = 0;
    for (size_t r = 0; r < c->len; r++) {
        if (c->up[r] < L)
            continue;
        c->id[w] = c->id[r];
        c->up[w++] = c->up[r];
    }
    c->len = w;
    if (c->len <= c->cap / 2)
        return 0;
    void *const cols[] = { &c->id, &c->up };
    const size_t sizes[] = { sizeof *c->id, sizeof *c->up };
    return grow_parallel(&c->cap, c->cap * 2, 2, cols, sizes);
}

/* Offers rows base..base+m-1 with approximate scores approx[] and error
 * bounds bnd[] (m <= FLAT_BLOCK). NaN bounds pass, on purpose. */
static int cands_feed(cands_t *c, uint32_t base, uint32_t m,
                      const float *restrict approx, const float *restrict bnd,
                      const uint64_t *deny)
{
    float up[FLAT_BLOCK];
    float L = cands_floor(c);
    uint32_t pass = 0;
    /* Vectorized pre-test: most blocks hold no candidate at all. */
    for (uint32_t j = 0; j < m; j++) {
        up[j] = approx[j] + bnd[j];
        pass += !(up[j] < L);
    }
    if (!pass)
        return 0;
    for (uint32_t j = 0; j < m; j++) {
        if (up[j] < L)
            continue;
        uint32_t id = base + j;
        if (deny && topk_bitset_test(deny, id))
            continue;
        if (c->len == c->cap && cands_make_room(c))
            return -ENOMEM;
        c->id[c->len] = id;
        c->up[c->len++] = up[j];
        float lo = approx[j] - bnd[j];
        if (topk_heap_admits(&c->lo, lo)) {
            topk_heap_push(&c->lo, id, lo);
            L = cands_floor(c);
        }
    }
    return 0;
}

/* Re-scores the surviving candidates exactly (plus beta * bias[id] when
 * bias is not NULL) and ranks them into hits. */
static uint32_t cands_finish(const cands_t *c, const float *items,
                             uint32_t dim, const float *query, const float *bias,
                             float beta, uint32_t k, topk_hit_t *hits)
{
    float L = cands_floor(c);
    topk_heap_t h;
    topk_heap_init(&h, hits, k);
    for (size_t r = 0; r < c->len; r++) {
        if (c->up[r] < L)
            continue;
        uint32_t id = c->id[r];
        float s = topk_dot(items + (size_t)id * dim, query, dim);
        if (bias)
            s += beta * bias[id];
        if (topk_heap_admits(&h, s))
            topk_heap_push(&h, id, s);
    }
    return (uint32_t)topk_heap_finish(&h);
}

/* ---- single-query search ------------------------------------------------- */

/* The query side of the bound: codes p, scale t, and the factors of
 * B = |x| * A + |e| * C. Returns 0 when the int8 path cannot bound this
 * query (non-finite or all-zero query); the caller then scans exactly. */
typedef struct qprep {
    float t, A, C;
} qprep_t;

static int prep_query(const flat_index_t *idx, const float *q, int8_t *p,
                      qprep_t *qp)
{
    double amax = 0.0, q2 = 0.0;
    for (uint32_t d = 0; d < idx->dim; d++) {
        if (!isfinite(q[d]))
            return 0;
        double v = q[d];
        q2 += v * v;
        if (fabs(v) > amax)
            amax = fabs(v);
    }
    float t = (float)(amax / FLAT_QMAX);
    if (!(t > 0.0f) || !isnormal(t))
        return 0;
    double ef = quantize(q, idx->dim, idx->dpad, t, p);
    double tp2 = 0.0;
    for (uint32_t d = 0; d < idx->dim; d++) {
        double v = (double)t * p[d];
        tp2 += v * v;
    }
    qp->t = t;
    qp->A = round_up((ef + (double)idx->gamma * sqrt(q2)) * FLAT_SLACK);
    qp->C = round_up(sqrt(tp2) * FLAT_SLACK);
    return isfinite(qp->A) && isfinite(qp->C);
}

/* A query the int8 path cannot bound, scored exactly with the bias. */
static int exact_with_bias(const flat_index_t *idx, const float *query,
                           const float *bias, float beta, const uint64_t *deny,
                           uint32_t k, topk_hit_t *hits, uint32_t *n_hits)
{
    float *scores = malloc((idx->n ? idx->n : 1) * sizeof *scores);
    if (!scores)
        return -ENOMEM;
    for (uint32_t i = 0; i < idx->n; i++)
        scores[i] = topk_dot(idx->items + (size_t)i * idx->dim, query, idx->dim) +
                    beta * bias[i];
    *n_hits = (uint32_t)topk_scores(scores, idx->n, deny, k, hits);
    free(scores);
    return 0;
}

int flat_index_search(const flat_index_t *idx, const float *query,
                      const uint64_t *deny, uint32_t k, topk_hit_t *hits,
                      uint32_t *n_hits)
{
    return flat_index_search_bias(idx, query, NULL, 0.0f, deny, k, hits, n_hits);
}

int flat_index_search_bias(const flat_index_t *idx, const float *query,
                           const float *bias, float beta, const uint64_t *deny,
                           uint32_t k, topk_hit_t *hits, uint32_t *n_hits)
{
    if (!n_hits)
        return -EINVAL;
    *n_hits = 0;
    if (!idx || !query || (!hits && k))
        return -EINVAL;
    if (k == 0 || idx->n == 0)
        return 0;
    _Alignas(FLAT_ALIGN) int8_t p[1024];
    int8_t *pq = idx->dpad <= sizeof p
                     ? p
                     : aligned_alloc(FLAT_ALIGN, (idx->dpad + FLAT_ALIGN - 1) /
                                                     FLAT_ALIGN * FLAT_ALIGN);
    if (!pq)
        return -ENOMEM;
    qprep_t qp;
    if (!prep_query(idx, query, pq, &qp)) {
        if (pq != p)
            free(pq);
        if (bias)
            return exact_with_bias(idx, query, bias, beta, deny, k, hits, n_hits);
        *n_hits = (uint32_t)topk_mips(idx->items, idx->n, idx->dim, query,
                                      deny, k, hits);
        return 0;
    }
    cands_t c;
    int rc = cands_init(&c, k);
    int32_t dots[FLAT_BLOCK];
    float approx[FLAT_BLOCK], bnd[FLAT_BLOCK];
    for (uint32_t base = 0; !rc && base < idx->n; base += FLAT_BLOCK) {
        uint32_t m = idx->n - base < FLAT_BLOCK ? idx->n - base : FLAT_BLOCK;
        idx->dots(idx->codes + (size_t)base * idx->dpad, m, idx->dpad, pq, dots);
        const float *restrict scale = idx->scale + base;
        const float *restrict nx = idx->nx + base, *restrict ne = idx->ne + base;
        for (uint32_t j = 0; j < m; j++) {
            approx[j] = (float)dots[j] * (scale[j] * qp.t);
            bnd[j] = nx[j] * qp.A + ne[j] * qp.C;
        }
        if (bias) {
            /* The bias is added exactly; the extra term covers the rounding
             * of that addition in float. */
            for (uint32_t j = 0; j < m; j++) {
                float b = beta * bias[base + j];
                approx[j] += b;
                bnd[j] += (fabsf(approx[j]) + fabsf(b)) * 0x1p-21f;
            }
        }
        rc = cands_feed(&c, base, m, approx, bnd, deny);
    }
    if (!rc)
        *n_hits = cands_finish(&c, idx->items, idx->dim, query, bias, beta, k, hits);
    cands_free(&c);
    if (pq != p)
        free(pq);
    return rc;
}

/* ---- batched search -------------------------------------------------------- */

/* One pass over the int8 codes for queries[0..nq) (nq <= FLAT_BATCH_CHUNK):
 * each block of codes is loaded from RAM once and scanned from L1 by every
 * query of the chunk, so the pass costs the kernel's compute, not bandwidth.
 * Queries the int8 path cannot bound go through flat_index_search (exact). */
static int batch_chunk(const flat_index_t *idx, const float *queries,
                       uint32_t nq, const uint64_t *const *deny, uint32_t k,
                       topk_hit_t *hits, uint32_t *n_hits, int8_t *pcodes)
{
    cands_t c[FLAT_BATCH_CHUNK];
    qprep_t qp[FLAT_BATCH_CHUNK];
    int usable[FLAT_BATCH_CHUNK];
    int32_t dots[FLAT_BLOCK];
    float approx[FLAT_BLOCK], bnd[FLAT_BLOCK];
    const uint32_t dim = idx->dim, dpad = idx->dpad;
    int rc = 0;
    uint32_t ready = 0;
    for (; ready < nq && !rc; ready++) {
        usable[ready] = prep_query(idx, queries + (size_t)ready * dim,
                                   pcodes + (size_t)ready * dpad, &qp[ready]);
        rc = cands_init(&c[ready], k);
    }
    for (uint32_t base = 0; !rc && base < idx->n; base += FLAT_BLOCK) {
        uint32_t m = idx->n - base < FLAT_BLOCK ? idx->n - base : FLAT_BLOCK;
        const int8_t *codes = idx->codes + (size_t)base * dpad;
        const float *restrict scale = idx->scale + base;
        const float *restrict nx = idx->nx + base, *restrict ne = idx->ne + base;
        for (uint32_t qi = 0; qi < nq && !rc; qi++) {
            if (!usable[qi])
                continue;
            idx->dots(codes, m, dpad, pcodes + (size_t)qi * dpad, dots);
            const float t = qp[qi].t, A = qp[qi].A, C = qp[qi].C;
            for (uint32_t j = 0; j < m; j++) {
                approx[j] = (float)dots[j] * (scale[j] * t);
                bnd[j] = nx[j] * A + ne[j] * C;
            }
            rc = cands_feed(&c[qi], base, m, approx, bnd,
                            deny ? deny[qi] : NULL);
        }
    }
    for (uint32_t qi = 0; qi < nq && !rc; qi++) {
        const float *q = queries + (size_t)qi * dim;
        if (!usable[qi])
            rc = flat_index_search(idx, q, deny ? deny[qi] : NULL, k,
                                   hits + (size_t)qi * k, &n_hits[qi]);
        else
            n_hits[qi] = cands_finish(&c[qi], idx->items, dim, q, NULL, 0.0f, k,
                                      hits + (size_t)qi * k);
    }
    for (uint32_t qi = 0; qi < ready; qi++)
        cands_free(&c[qi]);
    return rc;
}

int flat_index_search_batch(const flat_index_t *idx, const float *queries,
                            uint32_t nq, const uint64_t *const *deny,
                            uint32_t k, topk_hit_t *hits, uint32_t *n_hits)
{
    if (!n_hits && nq)
        return -EINVAL;
    for (uint32_t qi = 0; qi < nq; qi++)
        n_hits[qi] = 0;
    if (!idx || (!queries && nq) || (!hits && k && nq))
        return -EINVAL;
    if (k == 0 || idx->n == 0 || nq == 0)
        return 0;
    int rc = 0;
    if (nq < FLAT_BATCH_MIN) {
        for (uint32_t qi = 0; qi < nq && !rc; qi++)
            rc = flat_index_search(idx, queries + (size_t)qi * idx->dim,
                                   deny ? deny[qi] : NULL, k,
                                   hits + (size_t)qi * k, &n_hits[qi]);
    } else {
        int8_t *pcodes = aligned_alloc(FLAT_ALIGN, (size_t)FLAT_BATCH_CHUNK *
                                                       idx->dpad);
        if (!pcodes)
            return -ENOMEM;
        for (uint32_t q0 = 0; q0 < nq && !rc; q0 += FLAT_BATCH_CHUNK) {
            uint32_t m = nq - q0 < FLAT_BATCH_CHUNK ? nq - q0 : FLAT_BATCH_CHUNK;
            rc = batch_chunk(idx, queries + (size_t)q0 * idx->dim, m,
                             deny ? deny + q0 : NULL, k,
                             hits + (size_t)q0 * k, n_hits + q0, pcodes);
        }
        free(pcodes);
    }
    if (rc)
        for (uint32_t qi = 0; qi < nq; qi++)
            n_hits[qi] = 0;
    return rc;
}
