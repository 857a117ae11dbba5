/*
 * recommend.h - "for you" lists from a model snapshot and the customer's
 * stored history.
 *
 * Known customers (index < model's n_users) are scored by x_u . y_i over all
 * items; unknown ones get the most popular items. Items the customer bought
 * (purchases net of refunds, including events newer than the model) are
 * excluded unless asked for, and the list is still filled to k when the
 * catalog has enough items.
 */
#ifndef PATRON_RECSYS_RECOMMEND_H
#define PATRON_RECSYS_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "store.h"

#define REC_MAX_K 1000

/* Values match patron.v1.Reason. */
typedef enum rec_reason {
    REC_REASON_PERSONALIZED = 1,
    REC_REASON_POPULAR = 2,
} rec_reason_t;

typedef struct rec_query {
    const char *customer_id;
    uint32_t k;              /* 1..REC_MAX_K */
    int include_purchased;   /* 0: exclude what the customer bought */
} rec_query_t;

typedef struct rec_item {
    uint32_t item;           /* index into the model's items */
    float score;
    uint8_t reason;          /* rec_reason_t */
} rec_item_t;

/* Validates q: returns NULL or a static message naming the bad field. */
const char *rec_query_invalid(const rec_query_t *q);

/*
 * Answers q from model m. out must hold q->k entries; *n gets the number
 * written (k, or fewer only when fewer items remain after exclusions).
 * *personalized is 1 when the customer's factors were used.
 * Returns 0, -EINVAL (invalid query), -ENOMEM or a store error.
 */
int rec_recommend(store_t *s, const model_t *m, const rec_query_t *q,
                  rec_item_t *out, size_t *n, int *personalized);

#endif
