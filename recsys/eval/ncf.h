/*
 * ncf.h - the leave-one-out evaluation protocol of He et al., "Neural
 * Collaborative Filtering" (WWW 2017), read from its public file format:
 *
 *   NAME.train.rating   user \t item \t rating \t timestamp   (0-based ids)
 *   NAME.test.rating    each user's held-out latest interaction, same layout
 *   NAME.test.negative  "(user,item)" \t 99 item ids the user never touched
 *
 * Each file may also be gzip-compressed with a ".gz" suffix. For each user
 * the test item is ranked among its 100 candidates; HR@N is the share of
 * users whose test item lands in the top N and NDCG@N averages
 * 1 / log2(rank + 2) over those hits (rank 0-based). As in the reference
 * implementation, a negative listed twice competes once, and ties between
 * the test item and a negative count against the test item.
 */
#ifndef PATRON_RECSYS_NCF_H
#define PATRON_RECSYS_NCF_H

#include <stddef.h>
#include <stdint.h>

#include "ials.h"

#define NCF_NO_ITEM UINT32_MAX

typedef struct ncf_data {
    uint32_t n_users, n_items;
    csr_t train;      /* users x items, value 1 per training pair */
    uint32_t *test_item;   /* n_users; NCF_NO_ITEM when a user has none */
    uint32_t *negatives;   /* n_users x n_neg */
    uint32_t n_neg;
    int64_t *train_ts;     /* timestamp of each train.indices entry */
} ncf_data_t;

/* Loads prefix.{train.rating,test.rating,test.negative}[.gz]. On error
 * returns -ENOENT (file missing), -EINVAL (bad line) or -ENOMEM and writes
 * "file:line: what" into err. */
int ncf_load(const char *prefix, ncf_data_t *d, char *err, size_t errcap);
void ncf_free(ncf_data_t *d); /* NULL-safe; frees arrays, not the struct */

/* Scores items[0..n) for user into scores[0..n). */
typedef void (*ncf_score_fn)(void *ctx, uint32_t user, const uint32_t *items,
                             size_t n, float *scores);

typedef struct ncf_metrics {
    double hr, ndcg;
    uint32_t users;        /* users evaluated (those with a test item) */
} ncf_metrics_t;

/* Evaluates a scorer at cut-off topn over all users with a test item. */
void ncf_evaluate(const ncf_data_t *d, ncf_score_fn score, void *ctx,
                  uint32_t topn, ncf_metrics_t *out);

/* Scorer over factors: ctx is an ncf_factors_t. */
typedef struct ncf_factors {
    const float *user_f, *item_f;
    uint32_t factors;
} ncf_factors_t;
void ncf_score_factors(void *ctx, uint32_t user, const uint32_t *items,
                       size_t n, float *scores);

/* Scorer by popularity (training users per item): ctx is a float[n_items]
 * from ncf_popularity (caller frees). Returns NULL on -ENOMEM. */
float *ncf_popularity(const ncf_data_t *d);
void ncf_score_popularity(void *ctx, uint32_t user, const uint32_t *items,
                          size_t n, float *scores);

/*
 * Carves a validation split out of the training data only, the same way the
 * test split was made: for every user with at least 2 training interactions
 * the latest (ties broken from seed) becomes the validation item, and n_neg
 * negatives are drawn uniformly from items the user never touched in the
 * full data. out gets its own arrays (ncf_free it). The test files are never
 * looked at, so tuning on `out` cannot leak the test set.
 */
int ncf_validation_split(const ncf_data_t *d, uint64_t seed, ncf_data_t *out);

#endif
