/*
 * recommend.c - "for you" lists: personalized scores x_u . y_i for customers
 * the model knows, popularity for everyone else, minus what the customer
 * already bought (read from the store, so purchases newer than the model
 * count too).
 */
#include "recommend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

const char *rec_query_invalid(const rec_query_t *q)
{
    if (!q->customer_id || !q->customer_id[0])
        return "customer_id: required";
    if (strlen(q->customer_id) > STORE_MAX_ID)
        return "customer_id: longer than 256 bytes";
    if (q->k < 1 || q->k > REC_MAX_K)
        return "k: must be in 1..1000";
    return NULL;
}

/* Net purchased quantity per item, then the bitset of items still owned. */
typedef struct owned {
    int64_t *net;  /* n_items */
    uint32_t n_items;
} owned_t;

static int count_owned(void *ctx, const store_event_rec_t *ev)
{
    owned_t *o = ctx;
    if (ev->item >= o->n_items)
        return 0; /* item newer than the model: it cannot be recommended anyway */
    if (ev->type == STORE_EVENT_PURCHASE)
        o->net[ev->item] += ev->quantity;
    else if (ev->type == STORE_EVENT_REFUND)
        o->net[ev->item] -= ev->quantity;
    return 0;
}

static int purchased_bitset(store_t *s, uint32_t customer, uint32_t n_items,
                            uint64_t *deny)
{
    owned_t o = { calloc(n_items ? n_items : 1, sizeof(int64_t)), n_items };
    int rc;

    if (!o.net)
        return -ENOMEM;
    rc = store_customer_events(s, customer, count_owned, &o);
    for (uint32_t i = 0; rc == 0 && i < n_items; i++)
        if (o.net[i] > 0)
            topk_bitset_set(deny, i);
    free(o.net);
    return rc;
}

/* A customer whose factors are all zero had no positive interactions when
 * the model was trained (ALS gives them x_u = 0): popularity serves better. */
static const float *user_vector(const model_t *m, uint32_t customer)
{
    const float *x;
    if (customer >= m->hdr.n_users)
        return NULL;
    x = m->user_f + (size_t)customer * m->hdr.factors;
    for (uint32_t d = 0; d < m->hdr.factors; d++)
        if (x[d] != 0.0f)
            return x;
    return NULL;
}

int rec_recommend(store_t *s, const model_t *m, const rec_query_t *q,
                  rec_item_t *out, size_t *n, int *personalized)
{
    uint32_t n_items = m->hdr.n_items, customer;
    uint64_t *deny = NULL;
    topk_hit_t *hits = NULL;
    const float *x = NULL;
    size_t got;
    int rc;

    if (rec_query_invalid(q))
        return -EINVAL;
    rc = store_customer_index(s, q->customer_id, &customer);
    if (rc && rc != -ENOENT)
        return rc;
    deny = calloc(TOPK_BITSET_WORDS(n_items) + 1, sizeof *deny);
    hits = malloc(q->k * sizeof *hits);
    if (!deny || !hits) {
        rc = -ENOMEM;
        goto out;
    }
    if (rc == 0) {
        x = user_vector(m, customer);
        if (!q->include_purchased &&
            (rc = purchased_bitset(s, customer, n_items, deny)) != 0)
            goto out;
    }
    rc = 0;
    if (x)
        got = topk_mips(m->item_f, n_items, m->hdr.factors, x, deny, q->k, hits);
    else
        got = topk_scores(m->item_pop, n_items, deny, q->k, hits);
    for (size_t i = 0; i < got; i++) {
        out[i].item = hits[i].id;
        out[i].score = hits[i].score;
        out[i].reason = x ? REC_REASON_PERSONALIZED : REC_REASON_POPULAR;
    }
    *n = got;
    *personalized = x != NULL;
out:
    free(deny);
    free(hits);
    return rc;
}
