/*
 * ivf.h - approximate maximum-inner-product search for large catalogs: an
 * inverted file (IVF-flat) over k-means cells.
 *
 * MF factors are not normalized, and inner product is not a metric, so the
 * cells are built in the MIPS-to-L2 augmented space (Bachrach et al., "Speeding
 * up the Xbox recommender system using a euclidean transformation for
 * inner-product spaces", RecSys 2014): every item x becomes
 * x' = [x, sqrt(M^2 - |x|^2)] with M the largest item norm, a query q becomes
 * q' = [q, 0], and |q' - x'|^2 = |q|^2 + M^2 - 2 q.x, so nearest in L2 is
 * best in inner product. k-means runs on x' (trained with BLAS sgemm on a
 * seeded subsample; deterministic for a given seed and input). A query ranks
 * the cells by q.c, the mean score of each cell's items (measured better than
 * ranking by augmented L2 distance: see ivf.c), and the probed cells are
 * scanned exactly in float32 with topk's dot product, so every returned score
 * equals topk_mips's score for that item.
 *
 * Recall depends on nprobe; measure it against topk_mips / flat_index_search
 * on the same queries (bench/bench_index.c).
 */
#ifndef PATRON_INDEX_IVF_H
#define PATRON_INDEX_IVF_H

#include "topk.h"

#include <stddef.h>
#include <stdint.h>

/* Errors are negative errno values, as everywhere in Patron (strerror(-rc)
 * describes them): -ENOMEM allocation failed, -EINVAL a NULL pointer, dim 0,
 * nlist 0 or nprobe 0. */

typedef struct ivf_opts {
    uint32_t nlist;      /* number of cells (clamped to n); 0 = ~sqrt(n) */
    uint32_t train_size; /* k-means subsample; 0 = min(n, 64 * nlist) */
    uint32_t iters;      /* k-means iterations; 0 = IVF_DEFAULT_ITERS */
    uint64_t seed;       /* subsample and initial centroids */
} ivf_opts_t;

#define IVF_DEFAULT_ITERS 12

typedef struct ivf ivf_t;

/*
 * Builds the index over items (n x dim, row-major). The index COPIES the rows
 * (list by list, so a probe reads contiguous memory); items may be freed
 * afterwards. opts may be NULL (all defaults, seed 0). Rows with NaN/inf
 * values go to a side list that every query scans. Uses BLAS sgemm, with as
 * many threads as OpenBLAS is configured for.
 * On success *out owns the index (ivf_free) and 0 is returned; on failure
 * *out is NULL and -EINVAL or -ENOMEM is returned.
 */
int ivf_build(const float *items, uint32_t n, uint32_t dim,
              const ivf_opts_t *opts, ivf_t **out);

/* Frees the index. NULL is fine. */
void ivf_free(ivf_t *ivf);

/*
 * Approximate top-k of query: scans the nprobe cells with the highest q.c, skipping items whose deny bit is set, and returns the
 * best k found, best first, ties by lower id, scores exactly as topk_mips
 * computes them. If those cells hold fewer than k allowed items, the next
 * best cells are scanned too until k are found or every cell has been
 * scanned, so *n_hits is always min(k, n - |deny|). hits must hold k entries.
 * Returns 0, -EINVAL, or -ENOMEM (then *n_hits is 0).
 */
int ivf_search(const ivf_t *ivf, const float *query, const uint64_t *deny,
               uint32_t k, uint32_t nprobe, topk_hit_t *hits,
               uint32_t *n_hits);

/* ivf_search, also counting the rows it scanned (the side list and every
 * cell it read) into *rows: with the nlist centroids, what a query reads,
 * for benches that report bandwidth from bytes actually read. -EINVAL for a
 * NULL rows. */
int ivf_search_counted(const ivf_t *ivf, const float *query, const uint64_t *deny,
                       uint32_t k, uint32_t nprobe, topk_hit_t *hits,
                       uint32_t *n_hits, uint64_t *rows);

/* Number of cells. */
uint32_t ivf_nlist(const ivf_t *ivf);

/* Items in cell c (c < ivf_nlist). */
uint32_t ivf_list_size(const ivf_t *ivf, uint32_t c);

/* Bytes the index owns. */
size_t ivf_bytes(const ivf_t *ivf);

#endif
