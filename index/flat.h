/*
 * flat.h - exact maximum-inner-product search below the float32 bandwidth
 * floor.
 *
 * A flat index is an immutable snapshot built once from a row-major n x dim
 * float32 item matrix. It holds an int8 copy of every row (per-row scale) that
 * a query scans first -- a quarter of the bytes of the float32 matrix -- and
 * a per-row bound on how far the int8 score can be from the float32 score.
 * Every row whose upper bound reaches the k-th best lower bound is then
 * re-scored in float32 with topk_dot. The answer is therefore exactly the
 * answer of topk_mips on the same matrix: same ids, same scores, same order
 * (ties by lower id), deny bitset applied, min(k, n - |deny|) hits.
 *
 * Batched search shares one pass over the int8 codes between many queries
 * (each block of codes is scanned from L1 by every query of the batch), with
 * the same bounds and re-scoring, so it too returns exactly topk_mips's answer
 * for every query.
 *
 * Thread safety: an index is read-only after build; any number of threads may
 * search it at once.
 */
#ifndef PATRON_INDEX_FLAT_H
#define PATRON_INDEX_FLAT_H

#include "topk.h"

#include <stddef.h>
#include <stdint.h>

/* Errors are negative errno values, as everywhere in Patron (strerror(-rc)
 * describes them): -ENOMEM allocation failed, -EINVAL a NULL pointer or dim
 * 0, -ENOTSUP the requested kernel is not supported by this CPU. */

/* Which int8 dot-product kernel scans the compact copy. AUTO picks the
 * fastest the CPU supports at build time (checked with
 * __builtin_cpu_supports, so one binary runs on any x86-64). All kernels
 * compute identical integer dot products; tests force each in turn. */
typedef enum flat_kernel {
    FLAT_KERNEL_AUTO = 0,
    FLAT_KERNEL_SCALAR,
    FLAT_KERNEL_AVX2,
    FLAT_KERNEL_AVX512VNNI,
} flat_kernel_t;

typedef struct flat_index flat_index_t;

/*
 * Builds the compact snapshot of items (n x dim, row-major). The index
 * BORROWS items for re-scoring: the matrix must stay valid and unchanged until
 * flat_index_free (the model snapshot that owns it outlives the index). Rows
 * may hold any float values; rows with NaN/inf, or whose norm overflows
 * float, are re-scored on every query. n may be 0.
 * On success *out owns the index (free with flat_index_free) and 0 is
 * returned; on failure *out is NULL and -EINVAL, -ENOMEM or -ENOTSUP is
 * returned.
 */
int flat_index_build(const float *items, uint32_t n, uint32_t dim,
                     flat_kernel_t kernel, flat_index_t **out);

/* Frees the index (not the borrowed items). NULL is fine. */
void flat_index_free(flat_index_t *idx);

/*
 * Exact top-k of query (dim floats) against every row: the same hits, in the
 * same order, with the same scores as topk_mips(items, n, dim, query, deny,
 * k, hits). deny (TOPK_BITSET_WORDS(n) words, bit i = skip item i) may be
 * NULL. hits must hold k entries; *n_hits receives min(k, n - |deny|).
 * Returns 0, -EINVAL (NULL query or n_hits), or -ENOMEM if the candidate
 * buffer could not grow (then *n_hits is 0).
 */
int flat_index_search(const flat_index_t *idx, const float *query,
                      const uint64_t *deny, uint32_t k, topk_hit_t *hits,
                      uint32_t *n_hits);

/*
 * The same with a per-row bias: scores are query . item_i + beta * bias[i]
 * (bias has n entries; beta finite), still exact: the bias enters the
 * bounds and the re-scoring exactly. This is how a personalized score is
 * blended with popularity without making the compact scan coarser (a
 * popularity column inside the vectors would widen every row's
 * quantization error). Returns as flat_index_search.
 */
int flat_index_search_bias(const flat_index_t *idx, const float *query,
                           const float *bias, float beta, const uint64_t *deny,
                           uint32_t k, topk_hit_t *hits, uint32_t *n_hits);

/*
 * Exact top-k for nq queries at once (queries: nq x dim, row-major). deny is
 * NULL or an array of nq bitset pointers (each may be NULL). Query q's hits go
 * to hits[q * k ...] and its count to n_hits[q]; each equals what
 * flat_index_search returns for that query alone. Throughput grows with nq
 * (up to 64 queries share each pass over the codes).
 * Returns 0, -EINVAL or -ENOMEM (then every n_hits[q] is 0).
 */
int flat_index_search_batch(const flat_index_t *idx, const float *queries,
                            uint32_t nq, const uint64_t *const *deny,
                            uint32_t k, topk_hit_t *hits, uint32_t *n_hits);

/* The kernel the index scans with, as a short name ("avx2", ...). Static. */
const char *flat_index_kernel_name(const flat_index_t *idx);

/* Bytes the index owns (compact codes + per-row metadata). */
size_t flat_index_bytes(const flat_index_t *idx);

#endif
