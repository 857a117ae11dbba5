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
 * deterministic). deny may be NULL. out must hold k entries.
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

#endif
