/*
 * vsknn.h - V-SKNN, the session-based nearest-neighbour baseline of Ludewig
 * & Jannach, "Evaluation of Session-based Recommendation Algorithms" (User
 * Modeling and User-Adapted Interaction 28, 2018), section 3.2.
 *
 * Past sessions are item sets. For the current session c_1..c_n (oldest
 * first, repeats allowed) each distinct item i gets the linearly decaying
 * weight w_i = p_i / n, p_i the 1-based position of its latest occurrence
 * (the latest item weighs 1). Candidate neighbours: of the past sessions
 * sharing an item with the current one, the `sample` most recent (by start
 * time; ties: the later-built). Similarity is the weighted cosine
 *
 *   sim(s, nb) = sum_{i in s & nb} w_i / sqrt(|s| |nb|)
 *
 * (|s| distinct current items, |nb| the neighbour's distinct items); the k
 * most similar candidates (ties: the more recent) are the neighbours and
 * score(i) = sum of sim over the neighbours containing i.
 *
 * A vsknn_t is immutable after vsknn_build: any number of threads may score
 * with it. Errors: 0 or -ENOMEM / -EINVAL.
 */
#ifndef PATRON_RECSYS_VSKNN_H
#define PATRON_RECSYS_VSKNN_H

#include <stddef.h>
#include <stdint.h>

typedef struct vsknn_params {
    uint32_t k;         /* neighbours, >= 1 (the paper's best: 100) */
    uint32_t sample;    /* recent candidate sessions, >= 1 (500) */
} vsknn_params_t;

#define VSKNN_K_DEFAULT 100u
#define VSKNN_SAMPLE_DEFAULT 500u

typedef struct vsknn {
    uint32_t n_items, n_sess;
    uint64_t *sess_ptr;    /* n_sess + 1 offsets into sess_items */
    uint32_t *sess_items;  /* each session's distinct items, ascending */
    int64_t *sess_time;    /* n_sess start times */
    uint64_t *item_ptr;    /* n_items + 1 offsets into item_sess */
    uint32_t *item_sess;   /* sessions holding each item, most recent first */
} vsknn_t;

/* Indexes n_sess past sessions: session s holds items[ptr[s]..ptr[s+1])
 * (each < n_items, repeats allowed) and started at time[s]. out owns its
 * arrays (vsknn_free). Returns 0, -EINVAL (an item >= n_items), -ENOMEM. */
int vsknn_build(uint32_t n_items, uint32_t n_sess, const uint64_t *ptr,
                const uint32_t *items, const int64_t *time, vsknn_t *out);

void vsknn_free(vsknn_t *v); /* NULL-safe; the arrays, not the struct */

/* Scores every item for the current session ctx[0..n) (oldest first; items
 * >= n_items are ignored): scores[0..n_items) gets score(i) (0 for items in
 * no neighbour). Returns 0, -EINVAL (k or sample 0), -ENOMEM. */
int vsknn_score(const vsknn_t *v, const vsknn_params_t *p, const uint32_t *ctx,
                size_t n, float *scores);

#endif
