/*
 * couponstore_models.c - the learners decisions use, as stored: the logistic
 * models (cmodel) and the boosted T-learner training chose (cboost), and the
 * set of them a decision over several coupons loads (couponstore.h).
 */
#include "couponstore_internal.h"

#include <errno.h>
#include <stdlib.h>

typedef struct learner_put {
    const char *key;
    const uplift_model_t *m;
    const uplift_gbt_tl_t *b;
} learner_put_t;

static int put_learner_fn(store_tx_t *tx, void *ctx)
{
    const learner_put_t *p = ctx;
    int rc = couponstore_row_put(tx, &CS_MODEL, p->key, p->m);
    if (rc)
        return rc;
    if (p->b)
        return couponstore_row_put(tx, &CS_BOOSTED, p->key, p->b);
    rc = store_tx_del(tx, T_BOOSTED, p->key, strlen(p->key));
    return rc == -ENOENT ? 0 : rc;
}

int couponstore_put_learner(store_t *s, const char *key, const uplift_model_t *m,
                            const uplift_gbt_tl_t *boosted)
{
    if (!s || !id_ok(key, COUPON_ID_MAX) || !m || m->version != UPLIFT_MODEL_VERSION ||
        (boosted && (uplift_gbt_invalid(&boosted->treated) ||
                     uplift_gbt_invalid(&boosted->control))))
        return -EINVAL;
    learner_put_t p = { key, m, boosted };
    return store_table_atomic(s, put_learner_fn, &p);
}

int couponstore_get_boosted(store_t *s, const char *key, uplift_gbt_tl_t *boosted)
{
    if (!s || !id_ok(key, COUPON_ID_MAX) || !boosted)
        return -EINVAL;
    return couponstore_row_read(s, &CS_BOOSTED, key, boosted);
}

/* ---- the set a decision loads ------------------------------------------------------------ */

int couponstore_models_init(couponstore_models_t *ms, size_t n)
{
    if (!ms)
        return -EINVAL;
    memset(ms, 0, sizeof *ms);
    ms->m = calloc(n ? n : 1, sizeof *ms->m);
    ms->logistic = calloc(n + 1, sizeof *ms->logistic);
    ms->boosted = malloc(sizeof *ms->boosted);
    if (!ms->m || !ms->logistic || !ms->boosted) {
        couponstore_models_free(ms);
        return -ENOMEM;
    }
    ms->n = n;
    return 0;
}

void couponstore_models_free(couponstore_models_t *ms)
{
    if (!ms)
        return;
    free(ms->m);
    free(ms->logistic);
    free(ms->boosted);
    memset(ms, 0, sizeof *ms);
}

/* A model that cannot be read counts as absent, as a missing one does: a
 * model is a cache of what training learned, and the priors still decide. */
static int absent(int rc)
{
    return rc == -ENOENT || rc == -EBADMSG;
}

/* Reads one row of kind r under key, in a transaction or on its own. */
typedef int (*row_get_fn)(void *src, const couponstore_rec_t *r, const char *key, void *row);

static int get_in_tx(void *src, const couponstore_rec_t *r, const char *key, void *row)
{
    return couponstore_row_get(src, r, key, row);
}

static int get_in_store(void *src, const couponstore_rec_t *r, const char *key, void *row)
{
    return couponstore_row_read(src, r, key, row);
}

static int load_with(row_get_fn get, void *src, const coupon_t *coupons,
                     couponstore_models_t *ms)
{
    uplift_model_t *def = &ms->logistic[ms->n];
    int rc = get(src, &CS_MODEL, COUPONSTORE_DEFAULT_MODEL, def);
    int have_def = rc == 0, have_boosted;
    if (rc && !absent(rc))
        return rc;
    rc = get(src, &CS_BOOSTED, COUPONSTORE_DEFAULT_MODEL, ms->boosted);
    have_boosted = rc == 0;
    if (rc && !absent(rc))
        return rc;
    coupon_model_t fallback = { have_def ? def : NULL, have_boosted ? ms->boosted : NULL };
    for (size_t i = 0; i < ms->n; i++) {
        rc = get(src, &CS_MODEL, coupons[i].id, &ms->logistic[i]);
        if (rc && !absent(rc))
            return rc;
        ms->m[i] = rc == 0 ? (coupon_model_t){ &ms->logistic[i], NULL } : fallback;
    }
    return 0;
}

int couponstore_models_load_tx(store_tx_t *tx, const coupon_t *coupons,
                               couponstore_models_t *ms)
{
    if (!tx || !ms || (ms->n && !coupons))
        return -EINVAL;
    return load_with(get_in_tx, tx, coupons, ms);
}

int couponstore_models_load(store_t *s, const coupon_t *coupons, size_t n,
                            couponstore_models_t *ms)
{
    if (!s || !ms || (n && !coupons))
        return -EINVAL;
    int rc = couponstore_models_init(ms, n);
    if (rc == 0 && (rc = load_with(get_in_store, s, coupons, ms)) != 0)
        couponstore_models_free(ms);
    return rc;
}
