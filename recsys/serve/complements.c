/*
 * complements.c - ComplementaryItems over a model snapshot (complements.h):
 * resolve the cart, build the deny bitset the filters give, and let
 * copurchase_complements score, with the snapshot's cosine index as the
 * long-tail neighbour search.
 */
#include "complements.h"

#include <errno.h>
#include <stdlib.h>

#include "topk.h"

/* copurchase_similar_fn over the model's unit item vectors (exact). */
static int model_neighbors(void *ctx, uint32_t item, uint32_t k, uint32_t *items,
                           float *cos, size_t *n)
{
    const model_t *m = ctx;
    topk_hit_t hits[65];
    uint32_t got = 0;
    int rc;

    *n = 0;
    if (k > 64)
        k = 64;
    rc = flat_index_search(m->flat_unit, m->item_unit + (size_t)item * m->hdr.factors,
                           NULL, k + 1, hits, &got);
    for (uint32_t h = 0; h < got && rc == 0 && *n < k; h++)
        if (hits[h].id != item) {
            items[*n] = hits[h].id;
            cos[(*n)++] = hits[h].score;
        }
    return rc;
}

/* The cart's item indices known to the model (cart gets at most n_ids). */
static int resolve_cart(const model_t *m, const catalog_t *c, const char *const *ids,
                        size_t n_ids, uint32_t *cart, size_t *n_cart, size_t *bad)
{
    *n_cart = 0;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t item;
        if (catalog_item_index(c, ids[i], &item) != 0) {
            *bad = i;
            return -ENOENT;
        }
        if (item < m->hdr.n_items)
            cart[(*n_cart)++] = item;
    }
    return *n_cart ? 0 : -ENODATA;
}

int rec_complements(const model_t *m, const catalog_t *c, const char *const *item_ids,
                    size_t n_ids, uint32_t k, const rec_filters_t *filters,
                    const rec_access_t *access, rec_item_t *out, size_t *n, size_t *bad)
{
    const copurchase_t *cp = m->copurchase;
    copurchase_tail_t tail = { model_neighbors, (void *)m, COPURCHASE_TAIL_SUPPORT,
                               COPURCHASE_TAIL_NEIGHBORS };
    copurchase_acc_t acc = { 0 };
    copurchase_hit_t *hits = NULL;
    uint32_t cart[COPURCHASE_MAX_CART];
    uint64_t *deny = NULL;
    size_t n_cart, got = 0;
    int rc;

    *n = 0;
    if (n_ids < 1 || n_ids > COPURCHASE_MAX_CART || k < 1 || k > REC_MAX_K ||
        rec_filters_invalid(filters))
        return -EINVAL;
    if ((rc = resolve_cart(m, c, item_ids, n_ids, cart, &n_cart, bad)) != 0)
        return rc;
    if (!cp)
        return -ENOTSUP;
    deny = calloc(TOPK_BITSET_WORDS(m->hdr.n_items) + 1, sizeof *deny);
    hits = malloc(k * sizeof *hits);
    if (!deny || !hits || copurchase_acc_init(&acc, cp->n_items) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    rec_filters_deny(c, m->hdr.n_items, filters, access, deny);
    rc = copurchase_complements(cp, &tail, cart, n_cart, deny, k, &acc, hits, &got);
    for (size_t i = 0; i < got && rc == 0; i++)
        out[i] = (rec_item_t){ .item = hits[i].item, .score = hits[i].score,
                               .reason = REC_REASON_COMPLEMENT, .n_because = 1,
                               .because = { hits[i].because } };
    if (rc == 0)
        *n = got;
out:
    copurchase_acc_free(&acc);
    free(deny);
    free(hits);
    return rc;
}
