/*
 * promote.c - merchandising slots (see promote.h).
 */
#include "promote.h"

#include <stdlib.h>
#include <string.h>

#define PROMO_MAX_LIST 10000 /* as REC_MAX_LIST */

int promo_active(const rec_promotion_t *p)
{
    return p && p->slots > 0;
}

const char *promo_invalid(const rec_promotion_t *p, uint32_t k)
{
    if (!p || (p->slots == 0 && p->n_items == 0 && p->n_categories == 0))
        return NULL;
    if (p->slots == 0)
        return "promotion.slots: required (1..k) when items or categories are named";
    if (p->slots > k)
        return "promotion.slots: more than k";
    if (p->n_items == 0 && p->n_categories == 0)
        return "promotion: name item_ids or categories";
    if (p->n_items > PROMO_MAX_LIST || p->n_categories > PROMO_MAX_LIST)
        return "promotion: at most 10000 item_ids and 10000 categories";
    for (size_t i = 0; i < p->n_items; i++)
        if (!p->item_ids[i] || !p->item_ids[i][0])
            return "promotion.item_ids: empty id";
    return NULL;
}

void promo_members(const catalog_t *c, uint32_t n_items, const rec_promotion_t *p,
                   uint64_t *in)
{
    uint32_t id, i, begin, end;

    for (size_t j = 0; j < p->n_items; j++)
        if (catalog_item_index(c, p->item_ids[j], &i) == 0 && i < n_items)
            topk_bitset_set(in, i);
    for (size_t j = 0; j < p->n_categories; j++) {
        if (catalog_category_index(c, p->categories[j], &id) != 0)
            continue;
        catalog_category_items(c, id, &begin, &end);
        for (uint32_t x = begin; x < end; x++)
            if (c->cat_items[x] < n_items)
                topk_bitset_set(in, c->cat_items[x]);
    }
}

static int listed(const topk_hit_t *list, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].id == id)
            return 1;
    return 0;
}

size_t promo_merge(topk_hit_t *list, size_t n, uint32_t k, const topk_hit_t *promo,
                   size_t n_promo, uint32_t slots, const uint64_t *in,
                   uint8_t *promoted)
{
    topk_hit_t *extra = NULL, *out = NULL;
    size_t have = 0, need = 0, len, drop, from = 0, next = 0;

    for (size_t i = 0; i < n; i++)
        have += topk_bitset_test(in, list[i].id) != 0;
    if (have >= slots)
        goto flags;
    extra = malloc((slots - have) * sizeof *extra);
    out = malloc((size_t)k * sizeof *out);
    if (!extra || !out)
        goto flags; /* out of memory: the list as ranked, unpromoted */
    for (size_t j = 0; j < n_promo && need < slots - have; j++)
        if (!listed(list, n, promo[j].id))
            extra[need++] = promo[j];
    len = n + need < k ? n + need : k;
    drop = n + need - len; /* the lowest-ranked non-members give way */
    for (size_t i = n; i-- > 0 && drop > 0;)
        if (!topk_bitset_test(in, list[i].id)) {
            memmove(list + i, list + i + 1, (n - i - 1) * sizeof *list);
            n--;
            drop--;
        }
    /* Now n + need == len. The j-th new member goes to place
     * (j + 1) len / (need + 1): strictly increasing, all below len. */
    for (size_t w = 0; w < len; w++) {
        int promoted_place = next < need &&
                             (w == (next + 1) * len / (need + 1) || from == n);
        out[w] = promoted_place ? extra[next++] : list[from++];
    }
    memcpy(list, out, len * sizeof *list);
    n = len;
flags:
    for (size_t i = 0; i < n; i++)
        promoted[i] = topk_bitset_test(in, list[i].id) != 0;
    free(extra);
    free(out);
    return n;
}
