/*
 * complements.h - "bought together" for a cart or one item, from a model
 * snapshot: the co-purchase statistics published with the version
 * (copurchase.h), with the factor neighbours of an item standing in for
 * its own statistics when it was bought in few baskets. Complements, not
 * substitutes: the cart's items are never answered, and partners come from
 * baskets, not from factor similarity (SimilarItems' answer).
 *
 * Reads only the pinned snapshots (model m, catalog c): no store, no
 * locks; any number of threads may call it on one snapshot.
 */
#ifndef PATRON_RECSYS_COMPLEMENTS_H
#define PATRON_RECSYS_COMPLEMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "model.h"
#include "recommend.h"

/*
 * Complements of the cart (n item ids, 1..COPURCHASE_MAX_CART; repeats
 * count once) under filters (may be NULL; as in Recommend: categories,
 * prices, stock, excluded ids) and access (access.h; NULL: no tier, so no
 * members-only or unreleased item). out holds k (1..REC_MAX_K) entries; *n
 * gets how many were written, best first, each with REC_REASON_COMPLEMENT
 * and because[0] the cart item it complements most. Fewer than k when
 * fewer items were ever bought with the cart's items (or their factor
 * neighbours) and pass the filters.
 *
 * Cart ids the catalog does not know: -ENOENT with *bad their position.
 * Ids the catalog knows but the model does not (added after training) are
 * ignored; when no cart item is in the model: -ENODATA.
 * Returns 0, -EINVAL (n, k or filters), -ENOENT, -ENODATA, -ENOTSUP (the
 * version was published without co-purchase statistics) or -ENOMEM.
 */
int rec_complements(const model_t *m, const catalog_t *c, const char *const *item_ids,
                    size_t n_ids, uint32_t k, const rec_filters_t *filters,
                    const rec_access_t *access, rec_item_t *out, size_t *n, size_t *bad);

#endif
