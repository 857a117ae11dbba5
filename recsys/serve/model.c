/*
 * model.c - loading a model version into an immutable snapshot, reference
 * counting, and the slot that holds the version being served.
 *
 * A snapshot holds factors and what is derived from them (unit vectors,
 * Y'Y, normalized popularity, search indexes); the catalog requests filter
 * on is a separate snapshot (catalog.h), so item writes never reload this.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "topk.h"

static void model_free(model_t *m)
{
    flat_index_free(m->flat);
    flat_index_free(m->flat_unit);
    ivf_free(m->ivf);
    free((void *)m->erased);
    free(m->user_f);
    free(m->item_f);
    free(m->item_pop);
    free(m->item_unit);
    free(m->gramian);
    free(m->item_aug);
    free(m->pop_norm);
    copurchase_free(m->copurchase);
    free(m->copurchase);
    free(m);
}

static int build_unit_vectors(model_t *m)
{
    uint32_t f = m->hdr.factors;
    size_t total = (size_t)m->hdr.n_items * f;
    m->item_unit = malloc((total ? total : 1) * sizeof *m->item_unit);
    if (!m->item_unit)
        return -ENOMEM;
    for (uint32_t i = 0; i < m->hdr.n_items; i++) {
        const float *y = m->item_f + (size_t)i * f;
        float *u = m->item_unit + (size_t)i * f;
        double norm = 0;
        for (uint32_t d = 0; d < f; d++)
            norm += (double)y[d] * y[d];
        norm = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
        for (uint32_t d = 0; d < f; d++)
            u[d] = (float)(y[d] * norm);
    }
    return 0;
}

/* Y'Y once per model: fold-in needs it for every request it serves. */
static int build_gramian(model_t *m)
{
    uint32_t f = m->hdr.factors;
    if (!(m->gramian = calloc((size_t)f * f, sizeof *m->gramian)))
        return -ENOMEM;
    if (m->hdr.n_items)
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)f,
                    (blasint)m->hdr.n_items, 1.0f, m->item_f, (blasint)f, 0.0f,
                    m->gramian, (blasint)f);
    for (uint32_t i = 0; i < f; i++)
        for (uint32_t j = 0; j < i; j++)
            m->gramian[(size_t)i * f + j] = m->gramian[(size_t)j * f + i];
    return 0;
}

/* Popularity scaled to 0..1, and (for the IVF index) the item factors with
 * it appended as one more column. */
static int build_popularity(model_t *m, int augmented)
{
    uint32_t f = m->hdr.factors, d = f + 1;
    float max_pop = 0;
    if (!(m->pop_norm = malloc(((size_t)m->hdr.n_items + 1) * sizeof *m->pop_norm)))
        return -ENOMEM;
    for (uint32_t i = 0; i < m->hdr.n_items; i++)
        if (m->item_pop[i] > max_pop)
            max_pop = m->item_pop[i];
    for (uint32_t i = 0; i < m->hdr.n_items; i++)
        m->pop_norm[i] = max_pop > 0 ? m->item_pop[i] / max_pop : 0;
    if (!augmented)
        return 0;
    if (!(m->item_aug = malloc(((size_t)m->hdr.n_items * d + 1) * sizeof *m->item_aug)))
        return -ENOMEM;
    for (uint32_t i = 0; i < m->hdr.n_items; i++) {
        memcpy(m->item_aug + (size_t)i * d, m->item_f + (size_t)i * f, f * sizeof(float));
        m->item_aug[(size_t)i * d + f] = m->pop_norm[i];
    }
    return 0;
}

static int build_indexes(model_t *m, const model_opts_t *o)
{
    uint32_t d = m->hdr.factors + 1;
    int ann = o->ann_min_items && m->hdr.n_items >= o->ann_min_items;
    if (build_gramian(m) || build_popularity(m, ann))
        return -ENOMEM;
    int rc;
    if (ann) {
        ivf_opts_t io = { .seed = m->hdr.version };
        if ((rc = ivf_build(m->item_aug, m->hdr.n_items, d, &io, &m->ivf)) != 0)
            return rc;
        m->ann_probes = o->ann_probes ? o->ann_probes : MODEL_ANN_PROBES_DEFAULT;
    }
    if ((rc = flat_index_build(m->item_f, m->hdr.n_items, m->hdr.factors,
                               FLAT_KERNEL_AUTO, &m->flat)) != 0)
        return rc;
    return flat_index_build(m->item_unit, m->hdr.n_items, m->hdr.factors, FLAT_KERNEL_AUTO,
                            &m->flat_unit);
}

void model_opts_default(model_opts_t *opts)
{
    opts->ann_min_items = MODEL_ANN_MIN_ITEMS_DEFAULT;
    opts->ann_probes = MODEL_ANN_PROBES_DEFAULT;
}

/* The version's co-purchase statistics, if it was published with them
 * (the version is immutable, so a second read transaction sees the same). */
static int load_copurchase(store_t *s, model_t *m)
{
    void *buf;
    size_t len;
    int rc = store_load_model_extra(s, m->hdr.version, &buf, &len);

    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if (!(m->copurchase = calloc(1, sizeof *m->copurchase))) {
        free(buf);
        return -ENOMEM;
    }
    rc = copurchase_decode(buf, len, m->copurchase);
    free(buf);
    if (rc == 0 && m->copurchase->n_items != m->hdr.n_items) {
        copurchase_free(m->copurchase);
        rc = -EINVAL;
    }
    if (rc) {
        free(m->copurchase);
        m->copurchase = NULL;
    }
    return rc == -EINVAL ? -EIO : rc;
}

int model_load(store_t *s, uint64_t version, const model_opts_t *opts,
               model_t **out)
{
    model_t *m = calloc(1, sizeof *m);
    model_opts_t defaults;
    int rc;

    if (!opts) {
        model_opts_default(&defaults);
        opts = &defaults;
    }
    if (!m)
        return -ENOMEM;
    rc = store_load_model(s, version, &m->hdr, &m->user_f, &m->item_f,
                          &m->item_pop);
    if (rc) {
        free(m);
        return rc;
    }
    m->erased = calloc(TOPK_BITSET_WORDS(m->hdr.n_users) + 1, sizeof *m->erased);
    rc = m->erased ? build_unit_vectors(m) : -ENOMEM;
    if (rc == 0)
        rc = load_copurchase(s, m);
    if (rc == 0)
        rc = build_indexes(m, opts);
    if (rc) {
        model_free(m);
        return rc;
    }
    atomic_init(&m->refs, 1);
    *out = m;
    return 0;
}

void model_erase_user(model_t *m, uint32_t user)
{
    if (user < m->hdr.n_users)
        atomic_fetch_or_explicit(&m->erased[user >> 6], (uint64_t)1 << (user & 63),
                                 memory_order_release);
}

int model_user_erased(const model_t *m, uint32_t user)
{
    return user < m->hdr.n_users &&
           (atomic_load_explicit(&m->erased[user >> 6], memory_order_acquire) >>
            (user & 63)) & 1;
}

size_t model_bytes(const model_t *m)
{
    size_t n = m->hdr.n_items, f = m->hdr.factors, b = sizeof *m;
    b += (size_t)m->hdr.n_users * f * sizeof(float);      /* user_f */
    b += n * f * sizeof(float) * 2;                       /* item_f, item_unit */
    b += f * f * sizeof(float);                           /* gramian */
    b += (TOPK_BITSET_WORDS(m->hdr.n_users) + 1) * sizeof(uint64_t); /* erased */
    b += n * sizeof(float) * 2;                           /* pop, pop_norm */
    if (m->item_aug)
        b += n * (f + 1) * sizeof(float);
    b += flat_index_bytes(m->flat) + flat_index_bytes(m->flat_unit);
    if (m->copurchase)
        b += (size_t)n * (4 + 8) + (size_t)m->copurchase->ptr[n] * 12;
    if (m->ivf)
        b += ivf_bytes(m->ivf);
    return b;
}

model_t *model_ref(model_t *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void model_unref(model_t *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        model_free(m);
}

void model_slot_init(model_slot_t *slot)
{
    pthread_mutex_init(&slot->mu, NULL);
    slot->cur = NULL;
}

void model_slot_destroy(model_slot_t *slot)
{
    model_unref(slot->cur);
    slot->cur = NULL;
    pthread_mutex_destroy(&slot->mu);
}

model_t *model_slot_get(model_slot_t *slot)
{
    model_t *m;
    pthread_mutex_lock(&slot->mu);
    m = slot->cur ? model_ref(slot->cur) : NULL;
    pthread_mutex_unlock(&slot->mu);
    return m;
}

void model_slot_set(model_slot_t *slot, model_t *m)
{
    model_t *old;
    pthread_mutex_lock(&slot->mu);
    old = slot->cur;
    slot->cur = m;
    pthread_mutex_unlock(&slot->mu);
    model_unref(old);
}
