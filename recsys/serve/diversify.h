/*
 * diversify.h - turns a candidate pool ranked by relevance into a more varied
 * list: maximal marginal relevance (Carbonell, Goldstein, SIGIR 1998) over
 * the cosine of item factors, and an optional cap on items per category.
 *
 * Each step picks the candidate maximizing
 *
 *   (1 - lambda) rel_i - lambda max_{j chosen} cos(y_i, y_j)
 *
 * with rel_i the candidate's score mapped to 0..1 over the pool (min-max),
 * skipping candidates whose category is full. lambda = 0 keeps the pool's
 * relevance order (only the cap acts). Ties go to the better-ranked
 * candidate, so the answer is deterministic. Cost O(k n f) for n candidates.
 *
 * Pure: no model, no store, no globals.
 */
#ifndef PATRON_RECSYS_DIVERSIFY_H
#define PATRON_RECSYS_DIVERSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "topk.h"

typedef struct div_params {
    float lambda;          /* 0..1: weight of novelty against relevance */
    uint32_t max_per_cat;  /* most items from one category; 0: no cap */
} div_params_t;

/* Whether p changes anything (lambda > 0 or a cap). */
int div_active(const div_params_t *p);

/* NULL, or a static message naming the bad field ("diversity: ..."). */
const char *div_params_invalid(const div_params_t *p);

/*
 * Chooses up to k of pool[0..n) (ids index unit and cat) into out, in the
 * order chosen; out[i].score keeps the candidate's own score. unit holds
 * unit-length item vectors (id * f); cat[id] is each item's category, ids
 * >= n_cat (e.g. CATALOG_NO_CATEGORY) all counting as one more group, the
 * uncategorized (only read when max_per_cat > 0). *n_out gets the count: k, or fewer when
 * the caps leave fewer. Returns 0, -EINVAL (bad params) or -ENOMEM.
 */
int diversify(const topk_hit_t *pool, size_t n, const float *unit, uint32_t f,
              const uint32_t *cat, uint32_t n_cat, const div_params_t *p,
              uint32_t k, topk_hit_t *out, size_t *n_out);

/* How many candidates to fetch for a diversified list of k from n_items:
 * enough that MMR has real alternatives (4k + 50), at most n_items. */
uint32_t div_pool_size(uint32_t k, uint32_t n_items);

#endif
