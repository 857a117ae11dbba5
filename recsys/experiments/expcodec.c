/*
 * expcodec.c - experiment definitions as patron.store.v1.Experiment
 * records (expcodec.h).
 */
#include "expcodec.h"
#include "store_record.h"

#include <errno.h>
#include <patron/store/v1/experiments.pb-c.h>
#include <stdlib.h>
#include <string.h>

int expcodec_encode(const experiment_t *e, unsigned char **out, size_t *len)
{
    Patron__Store__V1__Experiment m = PATRON__STORE__V1__EXPERIMENT__INIT;
    Patron__Store__V1__ExperimentArm arms[EXPERIMENT_MAX_ARMS], *ap[EXPERIMENT_MAX_ARMS];
    Patron__Store__V1__ForcedCustomer *forced = NULL, **fp = NULL;
    size_t n_arms = e->n_arms < EXPERIMENT_MAX_ARMS ? e->n_arms : EXPERIMENT_MAX_ARMS;
    void *buf = NULL;
    int rc;

    if (e->n_forced && (!(forced = calloc(e->n_forced, sizeof *forced)) ||
                        !(fp = calloc(e->n_forced, sizeof *fp)))) {
        free(forced);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n_arms; i++) {
        const experiment_arm_t *a = &e->arms[i];
        patron__store__v1__experiment_arm__init(&arms[i]);
        arms[i].id = (char *)a->id;
        arms[i].weight = a->weight;
        arms[i].model_version = a->model_version;
        arms[i].popularity_blend = a->popularity_blend;
        arms[i].coupons_off = a->coupons_off != 0;
        arms[i].coupon_lambda = a->coupon_lambda;
        arms[i].diversity = a->diversity;
        arms[i].max_per_category = a->max_per_category;
        ap[i] = &arms[i];
    }
    for (size_t i = 0; i < e->n_forced; i++) {
        patron__store__v1__forced_customer__init(&forced[i]);
        forced[i].customer_id = (char *)e->forced[i].customer_id;
        forced[i].arm_id = (char *)e->forced[i].arm_id;
        fp[i] = &forced[i];
    }
    m.id = (char *)e->id;
    m.salt = (char *)e->salt;
    m.layer = (char *)e->layer;
    m.traffic_fraction = e->traffic_fraction;
    m.start_ms = e->start_ms;
    m.stop_ms = e->stop_ms;
    m.n_arms = n_arms;
    m.arms = ap;
    m.n_forced = e->n_forced;
    m.forced = fp;
    rc = store_record_pack(&m.base, &buf, len);
    free(forced);
    free(fp);
    *out = buf;
    return rc;
}

static int from_msg(const Patron__Store__V1__Experiment *m, experiment_t *e,
                    experiment_forced_t *forced)
{
    if (m->n_arms > EXPERIMENT_MAX_ARMS || !store_record_copy_str(e->id, sizeof e->id, m->id) ||
        !store_record_copy_str(e->salt, sizeof e->salt, m->salt) ||
        !store_record_copy_str(e->layer, sizeof e->layer, m->layer))
        return -EBADMSG;
    e->traffic_fraction = m->traffic_fraction;
    e->start_ms = m->start_ms;
    e->stop_ms = m->stop_ms;
    e->n_arms = m->n_arms;
    for (size_t i = 0; i < m->n_arms; i++) {
        const Patron__Store__V1__ExperimentArm *a = m->arms[i];
        experiment_arm_t *x = &e->arms[i];
        if (!store_record_copy_str(x->id, sizeof x->id, a->id))
            return -EBADMSG;
        x->weight = a->weight;
        x->model_version = a->model_version;
        x->popularity_blend = a->popularity_blend;
        x->coupons_off = a->coupons_off != 0;
        x->coupon_lambda = a->coupon_lambda;
        x->diversity = a->diversity;
        x->max_per_category = a->max_per_category;
    }
    for (size_t i = 0; i < m->n_forced; i++)
        if (!store_record_copy_str(forced[i].customer_id, sizeof forced[i].customer_id,
                      m->forced[i]->customer_id) ||
            !store_record_copy_str(forced[i].arm_id, sizeof forced[i].arm_id, m->forced[i]->arm_id))
            return -EBADMSG;
    return 0;
}

int expcodec_decode(const void *buf, size_t len, experiment_t *e)
{
    Patron__Store__V1__Experiment *m = patron__store__v1__experiment__unpack(NULL, len, buf);
    experiment_forced_t *forced = NULL;
    int rc;

    memset(e, 0, sizeof *e);
    if (!m)
        return -EBADMSG;
    if (m->n_forced && !(forced = calloc(m->n_forced, sizeof *forced))) {
        patron__store__v1__experiment__free_unpacked(m, NULL);
        return -ENOMEM;
    }
    rc = from_msg(m, e, forced);
    if (rc == 0) {
        e->n_forced = m->n_forced;
        e->forced = forced;
    } else {
        free(forced);
    }
    patron__store__v1__experiment__free_unpacked(m, NULL);
    return rc;
}
