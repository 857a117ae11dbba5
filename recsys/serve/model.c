/*
 * model.c - loading a model version into an immutable snapshot, reference
 * counting, and the slot that holds the version being served.
 *
 * Besides the factors, a snapshot carries the catalog data requests filter
 * on, arranged so that building a request's deny bitset costs time in
 * proportion to the items a filter touches, not the catalog: items grouped
 * by category, items sorted by price, an out-of-stock bitset, and items
 * sorted by id for lookups.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "topk.h"

/* Category names per item while loading, before they are interned. */
typedef struct item_fill {
    model_t *m;
    char **cat_names;
} item_fill_t;

/* Copies the catalog data of the model's items (indices < n_items). */
static int fill_item(void *ctx, uint32_t idx, const store_item_t *it)
{
    item_fill_t *f = ctx;
    model_t *m = f->m;
    if (idx >= m->hdr.n_items)
        return 0;
    m->item_ids[idx] = strdup(it->item_id);
    m->item_titles[idx] = strdup(it->title ? it->title : "");
    f->cat_names[idx] = strdup(it->category ? it->category : "");
    if (!m->item_ids[idx] || !m->item_titles[idx] || !f->cat_names[idx])
        return -ENOMEM;
    m->item_price[idx] = it->price;
    m->in_stock[idx] = it->in_stock ? 1 : 0;
    return 0;
}

static void model_free(model_t *m)
{
    for (uint32_t i = 0; i < m->hdr.n_items; i++) {
        if (m->item_ids)
            free(m->item_ids[i]);
        if (m->item_titles)
            free(m->item_titles[i]);
    }
    for (uint32_t c = 0; c < m->n_categories; c++)
        free(m->categories[c]);
    free(m->categories);
    free(m->item_ids);
    free(m->item_titles);
    free(m->item_price);
    free(m->in_stock);
    free(m->item_cat);
    free(m->cat_ptr);
    free(m->cat_items);
    free(m->by_price);
    free(m->by_id);
    free(m->out_of_stock);
    flat_index_free(m->flat);
    flat_index_free(m->flat_unit);
    ivf_free(m->ivf);
    free(m->user_f);
    free(m->item_f);
    free(m->item_pop);
    free(m->item_unit);
    free(m->gramian);
    free(m->item_aug);
    free(m->pop_norm);
    free(m);
}

/* qsort has no context argument: sort (key, index) pairs instead. */
typedef struct str_idx {
    const char *key;
    uint32_t idx;
} str_idx_t;

typedef struct num_idx {
    double key;
    uint32_t idx;
} num_idx_t;

static int cmp_str_idx(const void *a, const void *b)
{
    const str_idx_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_num_idx(const void *a, const void *b)
{
    const num_idx_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Interns category names: distinct sorted names, item -> category, and the
 * items of each category. Takes ownership of the names. */
static int build_categories(model_t *m, char **names)
{
    uint32_t n = m->hdr.n_items;
    str_idx_t *pairs = malloc((n ? n : 1) * sizeof *pairs);
    int rc = -ENOMEM;

    m->categories = calloc(n ? n : 1, sizeof *m->categories);
    m->cat_ptr = calloc((size_t)n + 2, sizeof *m->cat_ptr);
    m->cat_items = malloc((n ? n : 1) * sizeof *m->cat_items);
    if (!pairs || !m->categories || !m->cat_ptr || !m->cat_items)
        goto out;
    for (uint32_t i = 0; i < n; i++)
        pairs[i] = (str_idx_t){ names[i], i };
    qsort(pairs, n, sizeof *pairs, cmp_str_idx);
    for (uint32_t j = 0; j < n; j++) {
        if (j == 0 || strcmp(pairs[j].key, pairs[j - 1].key) != 0) {
            m->categories[m->n_categories++] = names[pairs[j].idx];
            names[pairs[j].idx] = NULL; /* now owned by categories */
        }
        m->item_cat[pairs[j].idx] = m->n_categories - 1;
        m->cat_items[j] = pairs[j].idx;
        m->cat_ptr[m->n_categories] = j + 1;
    }
    rc = 0;
out:
    for (uint32_t i = 0; i < n; i++)
        free(names[i]);
    free(pairs);
    return rc;
}

static int build_orders(model_t *m)
{
    uint32_t n = m->hdr.n_items;
    str_idx_t *ids = malloc((n ? n : 1) * sizeof *ids);
    num_idx_t *prices = malloc((n ? n : 1) * sizeof *prices);
    int rc = -ENOMEM;

    m->by_id = malloc((n ? n : 1) * sizeof *m->by_id);
    m->by_price = malloc((n ? n : 1) * sizeof *m->by_price);
    m->out_of_stock = calloc(TOPK_BITSET_WORDS(n) + 1, sizeof *m->out_of_stock);
    if (!ids || !prices || !m->by_id || !m->by_price || !m->out_of_stock)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = (str_idx_t){ m->item_ids[i], i };
        prices[i] = (num_idx_t){ m->item_price[i], i };
        if (!m->in_stock[i])
            topk_bitset_set(m->out_of_stock, i);
    }
    qsort(ids, n, sizeof *ids, cmp_str_idx);
    qsort(prices, n, sizeof *prices, cmp_num_idx);
    for (uint32_t j = 0; j < n; j++) {
        m->by_id[j] = ids[j].idx;
        m->by_price[j] = prices[j].idx;
    }
    rc = 0;
out:
    free(ids);
    free(prices);
    return rc;
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
    if (ann) {
        ivf_opts_t io = { .seed = m->hdr.version };
        if (ivf_build(m->item_aug, m->hdr.n_items, d, &io, &m->ivf) != 0)
            return -ENOMEM;
        m->ann_probes = o->ann_probes ? o->ann_probes : MODEL_ANN_PROBES_DEFAULT;
    }
    if (flat_index_build(m->item_f, m->hdr.n_items, m->hdr.factors,
                         FLAT_KERNEL_AUTO, &m->flat) != FLAT_OK ||
        flat_index_build(m->item_unit, m->hdr.n_items, m->hdr.factors,
                         FLAT_KERNEL_AUTO, &m->flat_unit) != FLAT_OK)
        return -ENOMEM;
    return 0;
}

static int load_catalog(store_t *s, model_t *m)
{
    size_t n = m->hdr.n_items ? m->hdr.n_items : 1;
    item_fill_t fill = { m, calloc(n, sizeof(char *)) };
    int rc;

    m->item_ids = calloc(n, sizeof *m->item_ids);
    m->item_titles = calloc(n, sizeof *m->item_titles);
    m->item_price = calloc(n, sizeof *m->item_price);
    m->in_stock = calloc(n, 1);
    m->item_cat = calloc(n, sizeof *m->item_cat);
    if (!fill.cat_names || !m->item_ids || !m->item_titles || !m->item_price ||
        !m->in_stock || !m->item_cat) {
        free(fill.cat_names);
        return -ENOMEM;
    }
    rc = store_scan_items(s, fill_item, &fill);
    for (uint32_t i = 0; rc == 0 && i < m->hdr.n_items; i++)
        if (!m->item_ids[i])
            rc = -EIO; /* the catalog lost an item the model was trained on */
    if (rc == 0)
        rc = build_categories(m, fill.cat_names); /* frees the names */
    else
        for (uint32_t i = 0; i < m->hdr.n_items; i++)
            free(fill.cat_names[i]);
    free(fill.cat_names);
    if (rc == 0)
        rc = build_orders(m);
    return rc;
}

void model_opts_default(model_opts_t *opts)
{
    opts->ann_min_items = MODEL_ANN_MIN_ITEMS_DEFAULT;
    opts->ann_probes = MODEL_ANN_PROBES_DEFAULT;
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
    rc = load_catalog(s, m);
    if (rc == 0)
        rc = build_unit_vectors(m);
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

/* Binary search for key among names[order[0..n)] (order NULL: names are
 * sorted themselves); *idx gets the name's index in names. */
static int find_sorted(char *const *names, const uint32_t *order, size_t n,
                       const char *key, uint32_t *idx)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t at = order ? order[mid] : (uint32_t)mid;
        int c = strcmp(names[at], key);
        if (c == 0) {
            *idx = at;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -ENOENT;
}

int model_item_index(const model_t *m, const char *item_id, uint32_t *idx)
{
    return find_sorted(m->item_ids, m->by_id, m->hdr.n_items, item_id, idx);
}

int model_category_index(const model_t *m, const char *name, uint32_t *idx)
{
    return find_sorted(m->categories, NULL, m->n_categories, name, idx);
}

size_t model_bytes(const model_t *m)
{
    size_t n = m->hdr.n_items, f = m->hdr.factors, b = sizeof *m;
    b += (size_t)m->hdr.n_users * f * sizeof(float);      /* user_f */
    b += n * f * sizeof(float) * 2;                       /* item_f, item_unit */
    b += f * f * sizeof(float);                           /* gramian */
    b += n * (sizeof(float) * 2 + sizeof(double) + 1);    /* pop, pop_norm, price, stock */
    b += n * (sizeof(uint32_t) * 4 + sizeof(char *) * 2); /* cat, cat_items, orders, ids */
    b += TOPK_BITSET_WORDS(n) * sizeof(uint64_t);
    for (size_t i = 0; i < n; i++)
        b += strlen(m->item_ids[i]) + strlen(m->item_titles[i]) + 2;
    for (uint32_t c = 0; c < m->n_categories; c++)
        b += strlen(m->categories[c]) + 1 + sizeof(char *) + sizeof(uint32_t);
    if (m->item_aug)
        b += n * (f + 1) * sizeof(float);
    b += flat_index_bytes(m->flat) + flat_index_bytes(m->flat_unit);
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
