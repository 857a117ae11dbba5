/* refund_match.c - matching a refund with its purchases (refund_match.h). */
#include "refund_match.h"

int64_t refund_quantity(const store_event_rec_t *e)
{
    return e->quantity > 0 ? e->quantity : 1;
}

int refund_match(const store_event_rec_t *ev, size_t i, int64_t *refunded,
                 refund_match_fn fn, void *ctx)
{
    const store_event_rec_t *e = &ev[i];
    int64_t want = refund_quantity(e);
    if (e->item == STORE_NO_ITEM)
        return 0;
    for (size_t p = i; p-- > 0 && want > 0;) {
        const store_event_rec_t *pe = &ev[p];
        int64_t q = refund_quantity(pe), take;
        int rc;
        if (pe->type != STORE_EVENT_PURCHASE || pe->item != e->item || refunded[p] >= q)
            continue;
        take = want < q - refunded[p] ? want : q - refunded[p];
        refunded[p] += take;
        want -= take;
        if ((rc = fn(ctx, p)) != 0)
            return rc;
    }
    return 0;
}
