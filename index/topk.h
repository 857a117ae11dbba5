/*
 * topk.h - exact maximum-inner-product top-K over a dense float32 matrix.
 *
 * Pure math: no I/O, no allocation on the search path beyond what the caller
 * passes in. Items are rows of a row-major n x dim matrix. A deny bitset
 * (bit i set = item i must not be returned) is applied inside the scan, so
 * exactly min(k, n - denied) results come back without a second pass.
 */
#ifndef PATRON_INDEX_TOPK_H
#define PATRON_INDEX_TOPK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct topk_hit {
    uint32_t id;
    float score;
} topk_hit_t;

/* Number of uint64_t words a bitset over n items needs. */
#define TOPK_BITSET_WORDS(n) (((size_t)(n) + 63) / 64)

static inline void topk_bitset_set(uint64_t *bits, uint32_t i)
{
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline int topk_bitset_test(const uint64_t *bits, uint32_t i)
{
    return (int)((bits[i >> 6] >> (i & 63)) & 1u);
}

/*
 * Scores every row of items (n x dim) against query (dim) and writes the k best
 * to out, best first (ties broken by lower id first, so results are
 * deterministic; NaN scores rank as -infinity). deny may be NULL; bits at or
 * beyond n are ignored. out must hold k entries.
 * Returns the number of hits written: min(k, n - |deny|).
 */
size_t topk_mips(const float *items, uint32_t n, uint32_t dim,
                 const float *query, const uint64_t *deny,
                 uint32_t k, topk_hit_t *out);

/*
 * Top-k of precomputed scores (n of them), same rules as topk_mips.
 * Used for popularity lists and re-ranking.
 */
size_t topk_scores(const float *scores, uint32_t n, const uint64_t *deny,
                   uint32_t k, topk_hit_t *out);

/*
 * Streaming bounded top-k, for callers that produce scores themselves (the
 * compact and IVF indexes). Same order as topk_mips: higher score first, ties
 * by lower id, NaN ranks as -infinity. Hits may be offered in any id order.
 * The heap lives in the caller's out array (k entries); nothing is allocated.
 */
typedef struct topk_heap {
    topk_hit_t *h;
    uint32_t size, cap;
    float threshold; /* once full: rank key of the worst kept hit; else -inf */
} topk_heap_t;

void topk_heap_init(topk_heap_t *hp, topk_hit_t *out, uint32_t k);

/* Cheap pre-test: 0 means (id, score) cannot enter whatever its id. */
static inline int topk_heap_admits(const topk_heap_t *hp, float score)
{
    return hp->size < hp->cap || score >= hp->threshold ||
           (score != score && hp->threshold == -INFINITY);
}

/* Offers a hit; kept iff it ranks above the worst kept hit (or not full). */
void topk_heap_push(topk_heap_t *hp, uint32_t id, float score);

/* Sorts the kept hits best first in the out array; returns their count.
 * The heap must not be pushed to afterwards. */
size_t topk_heap_finish(topk_heap_t *hp);

/*
 * The dot product topk_mips scores rows with, bit for bit: any index that
 * re-scores candidates with it returns exactly the scores (and so exactly the
 * order) of topk_mips.
 */
float topk_dot(const float *a, const float *b, uint32_t dim);

/* Scores rows[0..m) (m x dim, row-major) against query into out[0..m),
 * bit-identical to topk_dot, faster for the common dims. */
void topk_score_rows(const float *rows, uint32_t m, uint32_t dim,
                     const float *query, float *out);

#endif
