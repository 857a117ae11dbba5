/*
 * diversify.c - maximal marginal relevance with category caps (see
 * diversify.h).
 */
#include "diversify.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int div_active(const div_params_t *p)
{
    return p && (p->lambda > 0.0f || p->max_per_cat > 0);
}

const char *div_params_invalid(const div_params_t *p)
{
    if (!(p->lambda >= 0.0f && p->lambda <= 1.0f))
        return "diversity: must be in 0..1";
    return NULL;
}

uint32_t div_pool_size(uint32_t k, uint32_t n_items)
{
    uint64_t want = 4ull * k + 50;
    return want < n_items ? (uint32_t)want : n_items;
}

/* The pool's unit vectors gathered into one n x f block, so each step
 * scores all candidates against the chosen one in one streaming pass. */
static float *gather(const topk_hit_t *pool, size_t n, const float *unit, uint32_t f)
{
    float *rows = malloc((n ? n : 1) * f * sizeof *rows);
    if (rows)
        for (size_t i = 0; i < n; i++)
            memcpy(rows + i * f, unit + (size_t)pool[i].id * f, f * sizeof *rows);
    return rows;
}

/* The capped group of item id: its category, or one shared group n_cat for
 * items without one (category ids >= n_cat). */
static uint32_t group_of(const uint32_t *cat, uint32_t n_cat, uint32_t id)
{
    return cat[id] < n_cat ? cat[id] : n_cat;
}

/* Position in pool of the best eligible candidate, or n when none is. */
static size_t best_candidate(const topk_hit_t *pool, size_t n, const float *rel,
                             const float *max_sim, const unsigned char *taken,
                             const uint32_t *cat, uint32_t n_cat,
                             const uint32_t *per_cat, const div_params_t *p)
{
    size_t best = n;
    float best_v = -FLT_MAX;
    for (size_t i = 0; i < n; i++) {
        float v;
        if (taken[i] || (p->max_per_cat &&
                         per_cat[group_of(cat, n_cat, pool[i].id)] >= p->max_per_cat))
            continue;
        v = (1.0f - p->lambda) * rel[i] - p->lambda * max_sim[i];
        if (v > best_v) { /* strict: ties keep the better-ranked one */
            best_v = v;
            best = i;
        }
    }
    return best;
}

int diversify(const topk_hit_t *pool, size_t n, const float *unit, uint32_t f,
              const uint32_t *cat, uint32_t n_cat, const div_params_t *p,
              uint32_t k, topk_hit_t *out, size_t *n_out)
{
    float lo = FLT_MAX, hi = -FLT_MAX, span;
    float *rel, *max_sim, *sim, *rows = NULL;
    uint32_t *per_cat;
    unsigned char *taken;
    size_t got = 0;
    int rc = 0;

    *n_out = 0;
    if (div_params_invalid(p) || (p->max_per_cat && !cat))
        return -EINVAL;
    rel = malloc((n ? n : 1) * sizeof *rel);
    max_sim = calloc(n ? n : 1, sizeof *max_sim); /* nothing chosen: no penalty */
    sim = malloc((n ? n : 1) * sizeof *sim);
    taken = calloc(n ? n : 1, 1);
    per_cat = calloc((size_t)n_cat + 1, sizeof *per_cat);
    if (p->lambda > 0.0f)
        rows = gather(pool, n, unit, f);
    if (!rel || !max_sim || !sim || !taken || !per_cat || (p->lambda > 0.0f && !rows)) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (pool[i].score < lo) lo = pool[i].score;
        if (pool[i].score > hi) hi = pool[i].score;
    }
    span = hi > lo ? hi - lo : 1.0f;
    for (size_t i = 0; i < n; i++)
        rel[i] = (pool[i].score - lo) / span;
    while (got < k) {
        size_t best = best_candidate(pool, n, rel, max_sim, taken, cat, n_cat,
                                     per_cat, p);
        if (best == n)
            break; /* every remaining candidate's category is full */
        taken[best] = 1;
        out[got++] = pool[best];
        if (p->max_per_cat)
            per_cat[group_of(cat, n_cat, pool[best].id)]++;
        if (p->lambda > 0.0f && got < k) {
            topk_score_rows(rows, (uint32_t)n, f, rows + best * f, sim);
            for (size_t i = 0; i < n; i++)
                if (sim[i] > max_sim[i] || got == 1)
                    max_sim[i] = sim[i];
        }
    }
    *n_out = got;
out:
    free(rel);
    free(max_sim);
    free(sim);
    free(taken);
    free(per_cat);
    free(rows);
    return rc;
}
