/*
 * model.c - loading a model version into an immutable snapshot, reference
 * counting, and the slot that holds the version being served.
 */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct item_fill {
    model_t *m;
    int rc;
} item_fill_t;

/* Copies the catalog data of the model's items (indices < n_items). */
static int fill_item(void *ctx, uint32_t idx, const store_item_t *it)
{
    item_fill_t *f = ctx;
    if (idx >= f->m->hdr.n_items)
        return 0;
    f->m->item_ids[idx] = strdup(it->item_id);
    f->m->item_titles[idx] = strdup(it->title ? it->title : "");
    f->m->item_categories[idx] = strdup(it->category ? it->category : "");
    if (!f->m->item_ids[idx] || !f->m->item_titles[idx] ||
        !f->m->item_categories[idx])
        return -ENOMEM;
    f->m->item_price[idx] = it->price;
    f->m->in_stock[idx] = it->in_stock ? 1 : 0;
    return 0;
}

static void model_free(model_t *m)
{
    for (uint32_t i = 0; i < m->hdr.n_items; i++) {
        if (m->item_ids)
            free(m->item_ids[i]);
        if (m->item_titles)
            free(m->item_titles[i]);
        if (m->item_categories)
            free(m->item_categories[i]);
    }
    free(m->item_ids);
    free(m->item_titles);
    free(m->item_categories);
    free(m->item_price);
    free(m->in_stock);
    free(m->user_f);
    free(m->item_f);
    free(m->item_pop);
    free(m);
}

int model_load(store_t *s, uint64_t version, model_t **out)
{
    model_t *m = calloc(1, sizeof *m);
    item_fill_t fill = { m, 0 };
    int rc;

    if (!m)
        return -ENOMEM;
    rc = store_load_model(s, version, &m->hdr, &m->user_f, &m->item_f,
                          &m->item_pop);
    if (rc) {
        free(m);
        return rc;
    }
    size_t n = m->hdr.n_items ? m->hdr.n_items : 1;
    m->item_ids = calloc(n, sizeof *m->item_ids);
    m->item_titles = calloc(n, sizeof *m->item_titles);
    m->item_categories = calloc(n, sizeof *m->item_categories);
    m->item_price = calloc(n, sizeof *m->item_price);
    m->in_stock = calloc(n, 1);
    if (!m->item_ids || !m->item_titles || !m->item_categories ||
        !m->item_price || !m->in_stock) {
        model_free(m);
        return -ENOMEM;
    }
    rc = store_scan_items(s, fill_item, &fill);
    for (uint32_t i = 0; rc == 0 && i < m->hdr.n_items; i++)
        if (!m->item_ids[i])
            rc = -EIO; /* the catalog lost an item the model was trained on */
    if (rc) {
        model_free(m);
        return rc;
    }
    atomic_init(&m->refs, 1);
    *out = m;
    return 0;
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
