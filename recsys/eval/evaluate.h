/*
 * evaluate.h - offline evaluation on Patron's own data: a full-ranking
 * time split, and an export of a leave-latest-out split in the NCF file
 * format (ncf.h) so the same protocol as the published benchmarks runs on it.
 *
 * Time split: each customer's latest purchases are held out; training sees
 * only the customer's events strictly before the cut (weighted exactly as
 * `patron train` weights them: train_build_matrix), and the model ranks
 * every catalog item the customer had not bought before the cut. Two ways to
 * place the cut:
 *   last_n  each customer's last N purchases (by time; purchases at the same
 *           time as the Nth-last count as held out too);
 *   days    every purchase in the last D days before the newest event, one
 *           cut for all customers (a true temporal split: no leakage of the
 *           future into anyone's training data).
 * A customer is evaluated when some held-out purchase is of an item not
 * bought before the cut and the customer has training data.
 *
 * Metrics at cut-off K (Liang et al., "Variational Autoencoders for
 * Collaborative Filtering", WWW 2018): Recall@K = hits / min(K, |held out|),
 * NDCG@K = DCG / ideal DCG with binary relevance, both averaged over the
 * evaluated customers; coverage = share of catalog items appearing in any
 * customer's top K.
 *
 * Memory: the split keeps every event's (customer, item, time, type) while
 * it is built: ~24 bytes per event.
 */
#ifndef PATRON_RECSYS_EVALUATE_H
#define PATRON_RECSYS_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "ials.h"
#include "store.h"
#include "train.h"

/* Where each customer's history is cut; set exactly one of the two. */
typedef struct eval_holdout {
    uint32_t last_n;   /* hold out each customer's last N purchases */
    double days;       /* hold out purchases in the last D days */
} eval_holdout_t;

typedef struct eval_split {
    uint32_t n_users, n_items; /* all registered customers / catalog items */
    csr_t train;          /* n_users x n_items strengths before the cuts */
    uint32_t n_eval;           /* customers evaluated */
    uint32_t *users;           /* n_eval customer indices, ascending */
    uint64_t *test_ptr;        /* n_eval + 1 offsets into test_items */
    uint32_t *test_items;      /* held-out items (sorted per customer) */
    uint64_t *seen_ptr;        /* n_eval + 1 offsets into seen_items */
    uint32_t *seen_items;      /* bought before the cut: never ranked */
    uint64_t train_events;     /* events before the cuts that were kept */
    uint64_t held_purchases;   /* purchase events at or after the cuts */
} eval_split_t;

/*
 * Reads the store and builds the split under the weights of c (c->als is
 * not used). out gets its own arrays (eval_split_free). Returns 0, -EINVAL
 * (neither or both of last_n/days set, negative days), -ENOENT (no customer
 * can be evaluated: too few purchases), -ENOMEM or a store error.
 */
int eval_split_make(store_t *s, const train_config_t *c,
                    const eval_holdout_t *h, eval_split_t *out);
void eval_split_free(eval_split_t *sp); /* NULL-safe; arrays, not the struct */

/* Scores every item (scores has n_items entries) for customer user. */
typedef void (*eval_score_fn)(void *ctx, uint32_t user, float *scores);

typedef struct eval_metrics {
    double recall, ndcg;  /* at K, averaged over evaluated customers */
    double coverage;      /* distinct items in any top K / n_items */
    uint32_t users;       /* customers evaluated */
} eval_metrics_t;

/* Ranks all items not bought before the cut for every evaluated customer
 * (ties: lower item index first) and scores the top k (1..1000). Returns 0,
 * -EINVAL or -ENOMEM. */
int eval_rank(const eval_split_t *sp, uint32_t k, eval_score_fn score,
              void *ctx, eval_metrics_t *out);

/* Scorer over factors: ctx is an eval_factors_t (user_f n_users x factors,
 * item_f n_items x factors). */
typedef struct eval_factors {
    const float *user_f, *item_f;
    uint32_t n_items, factors;
} eval_factors_t;
void eval_score_factors(void *ctx, uint32_t user, float *scores);

/* Scorer by popularity, the same list for every customer: ctx is an
 * eval_popularity_t (pop e.g. train_popularity of the split's matrix). */
typedef struct eval_popularity {
    const float *pop;
    uint32_t n_items;
} eval_popularity_t;
void eval_score_popularity(void *ctx, uint32_t user, float *scores);

typedef struct eval_export_report {
    uint32_t users;        /* customers written (dense ids 0..users-1) */
    uint32_t items;        /* item id space: the store's item indices */
    uint64_t train_pairs;  /* lines of NAME.train.rating */
} eval_export_report_t;

/*
 * Writes prefix.train.rating, prefix.test.rating and prefix.test.negative
 * (ncf.h's format) from the store: each customer's latest purchase is the
 * test item; the training pairs are the customer's (customer, item) pairs
 * with positive strength (weights of c, as train_run) from events strictly
 * before that purchase, less the test item itself; the rating column is that
 * strength and the timestamp the pair's latest event in unix seconds. n_neg
 * negatives per customer are drawn uniformly (from seed) among items the
 * customer never had any event with. Customers without a purchase or without
 * training pairs are left out; the rest get dense ids in index order, items
 * keep their store indices (already dense). Returns 0, -ENOENT (nobody to
 * export), -ENOMEM, -EIO (writing; *err names the file) or a store error.
 */
int eval_export_ncf(store_t *s, const train_config_t *c, const char *prefix,
                    uint32_t n_neg, uint64_t seed, eval_export_report_t *rep,
                    char *err, size_t errcap);

#endif
