/*
 * compeval.h - offline evaluation of ComplementaryItems: basket hold-one-out
 * on a time split of the store's own purchases.
 *
 * Baskets as copurchase.h groups them. The latest test_share of baskets (by
 * their first purchase) are held out; everything before the cut (events
 * strictly earlier) trains both the co-purchase statistics and the factors
 * (iALS under train_config_t, as `patron train` weights events). Every item
 * of every held-out basket of 2..max_basket distinct items is hidden in
 * turn and the rest of the basket is the cart: a hit when the hidden item
 * is among the top k answers for the cart (the cart's items excluded, as
 * the service does). HR@k is hits / cases, NDCG@k dcg / cases (one
 * relevant item: the ideal DCG is 1); "tail" restricts the cases to
 * carts whose every item was in fewer than COPURCHASE_TAIL_SUPPORT training
 * baskets, where the co-purchase statistics alone have little to go on.
 *
 * The methods, all in one run on the same cases:
 *   popularity          items in most training baskets
 *   similar-items       sum over the cart of factor cosine (SimilarItems'
 *                       score; substitutes)
 *   co-occurrence       sum over the cart of raw co-basket counts n_ij
 *   complements (stats) copurchase_complements without the factor tail
 *   complements         the served model: statistics + factor tail
 *   complements lift^0, lift^1   the served model with other lift exponents
 *                       (the measurement behind the default 0.5)
 * Ties are broken by lower item index, as the service does.
 */
#ifndef PATRON_RECSYS_COMPEVAL_H
#define PATRON_RECSYS_COMPEVAL_H

#include <stdint.h>

#include "copurchase.h"
#include "store.h"
#include "train.h"

#define COMPEVAL_METHODS 7

typedef struct compeval_config {
    train_config_t train;        /* weights and iALS settings of the factors */
    copurchase_params_t cp;      /* the served statistics' parameters */
    double test_share;           /* (0, 1): latest share of baskets held out */
    uint32_t k;                  /* 1..1000: the cut-off */
} compeval_config_t;

typedef struct compeval_row {
    const char *name;            /* static */
    uint64_t hits, tail_hits;    /* cases with the hidden item in the top k */
    double dcg, tail_dcg;        /* sum over cases of 1 / log2(2 + rank) */
} compeval_row_t;

typedef struct compeval_report {
    uint32_t items;
    uint32_t train_baskets;      /* baskets before the cut (of any size) */
    uint32_t test_baskets;       /* held-out baskets of 2..max_basket items */
    uint64_t cases, tail_cases;  /* (basket, hidden item) cases */
    int64_t cut_ms;              /* first held-out basket's time */
    double train_seconds;        /* factors and statistics */
    compeval_row_t rows[COMPEVAL_METHODS];
} compeval_report_t;

/* Fills c with the training defaults, copurchase_params_default, the
 * latest 20% held out and k = 10. */
void compeval_config_default(compeval_config_t *c);

/*
 * Runs the protocol on the store's events. Returns 0, -EINVAL (config),
 * -ENOENT (no held-out basket with two items, or nothing to train on
 * before the cut), -ENOMEM or a store error.
 */
int compeval_run(store_t *s, const compeval_config_t *c, compeval_report_t *out);

#endif
