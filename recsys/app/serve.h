/*
 * serve.h - the storefront's use cases, between the gRPC adapters
 * (server/rpc) and the domain: a "for you" list, re-ranking a caller's
 * candidates and similar items, each answered from the two snapshots the
 * caller pins (model m: factors and indexes; catalog c: ids, stock, prices,
 * categories; see recommend.h), under the customer's experiment arms
 * (arms.h), with the
 * durable exposure log (exposure.h) and the in-memory recently-shown
 * record (shown.h) kept here and nowhere else.
 *
 * Order on every call that shows a customer something: decide the list,
 * log the exposure durably, then record it as shown; an exposure that
 * cannot be logged fails the call (nothing is served that was not
 * logged) and nothing is recorded as shown.
 *
 * Errors: 0 or a negative errno; where a function takes `failed`, it gets a
 * static phrase naming the step that failed ("recommend", "logging the
 * exposure (nothing was served)"), for the caller's message.
 */
#ifndef PATRON_RECSYS_SERVE_H
#define PATRON_RECSYS_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "arms.h"
#include "catalog.h"
#include "counters.h"
#include "model.h"
#include "recommend.h"
#include "shown.h"
#include "store.h"

/* Longest look-back of exclude_shown_minutes: a week. */
#define SERVE_MAX_SHOWN_MINUTES 10080

/* What the use cases read and write besides the snapshots; borrowed. */
typedef struct serve_env {
    store_t *store;
    shown_t *shown;          /* the recently-shown record */
    counters_t *counters;    /* responses served per arm (NULL: not counted) */
} serve_env_t;

/*
 * Recommend: answers q (validated with rec_query_invalid) from m under
 * arms: the first arm's popularity blend, and its diversity settings when
 * q sets none; items the customer was shown in the last
 * exclude_shown_minutes (0..SERVE_MAX_SHOWN_MINUTES, 0 = none) are left out
 * (not for a q->non_personalized query: that reads nothing of the customer).
 * out holds q->k entries; *n and *personalized as rec_recommend. Logs the
 * exposure under request_id, then records the items as shown at
 * arms->now_ms. -EINVAL for minutes out of range.
 */
int serve_recommend(const serve_env_t *env, const model_t *m, const catalog_t *c,
                    const arms_t *arms,
                    const rec_query_t *q, uint32_t exclude_shown_minutes,
                    const char *request_id, rec_item_t *out, size_t *n,
                    int *personalized, const char **failed);

/*
 * RankItems: ranks the candidates that have factors (item_ids[0..n), each
 * 1..256 bytes, n <= REC_MAX_LIST; listed in c and older than m) for
 * customer_id with the arms' popularity blend (by popularity alone when
 * non_personalized: rec_query_t.non_personalized). ranked (n entries) gets
 * *n_ranked of them best first; unknown (n entries) gets the positions in
 * item_ids of the *n_unknown others, in given order. Logs the ranked ones
 * as the exposure.
 */
int serve_rank(const serve_env_t *env, const model_t *m, const catalog_t *c,
               const arms_t *arms,
               const char *customer_id, int non_personalized,
               const char *const *item_ids, size_t n,
               const char *request_id, rec_item_t *ranked, size_t *n_ranked,
               size_t *unknown, size_t *n_unknown, int *personalized,
               const char **failed);

/*
 * SimilarItems: the k (1..REC_MAX_K) items most like item_id, filters
 * (may be NULL) and access (access.h; NULL: no tier) applied. out holds k
 * entries. -ENOENT: c does not list item_id; -ENODATA: it was added after
 * m was trained (no factors yet); -EINVAL: k or filters.
 */
int serve_similar(const model_t *m, const catalog_t *c, const char *item_id, uint32_t k,
                  const rec_filters_t *filters, const rec_access_t *access,
                  rec_item_t *out, size_t *n);

#endif
