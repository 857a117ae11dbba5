/*
 * vsknn.c - session-kNN with decaying current-session weights (vsknn.h).
 * An inverted index (item -> sessions, most recent first) finds the
 * candidates; similarities need the candidate's sorted item list only.
 */
#include "vsknn.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Session order for the inverted lists: later start first, then the
 * later-built first. Sorting needs the times: a context-free comparison
 * over (time, index) pairs. */
typedef struct sess_key {
    int64_t time;
    uint32_t sess;
} sess_key_t;

static int cmp_recent(const void *a, const void *b)
{
    const sess_key_t *x = a, *y = b;
    if (x->time != y->time)
        return x->time > y->time ? -1 : 1;
    return (x->sess < y->sess) - (x->sess > y->sess);
}

/* Distinct sorted items of every session into v->sess_ptr/sess_items. */
static int index_sessions(vsknn_t *v, const uint64_t *ptr, const uint32_t *items)
{
    uint64_t w = 0;
    v->sess_ptr = malloc(((size_t)v->n_sess + 1) * sizeof *v->sess_ptr);
    v->sess_items = malloc((ptr[v->n_sess] ? ptr[v->n_sess] : 1) * sizeof *v->sess_items);
    if (!v->sess_ptr || !v->sess_items)
        return -ENOMEM;
    v->sess_ptr[0] = 0;
    for (uint32_t s = 0; s < v->n_sess; s++) {
        uint32_t *at = v->sess_items + w;
        size_t n = (size_t)(ptr[s + 1] - ptr[s]), k = 0;
        memcpy(at, items + ptr[s], n * sizeof *at);
        qsort(at, n, sizeof *at, cmp_u32);
        for (size_t i = 0; i < n; i++) {
            if (at[i] >= v->n_items)
                return -EINVAL;
            if (k == 0 || at[k - 1] != at[i])
                at[k++] = at[i];
        }
        w += k;
        v->sess_ptr[s + 1] = w;
    }
    return 0;
}

/* The inverted lists, each most recent session first. */
static int index_items(vsknn_t *v)
{
    uint64_t total = v->sess_ptr[v->n_sess];
    uint64_t *fill = calloc((size_t)v->n_items + 1, sizeof *fill);
    sess_key_t *order = malloc(((size_t)v->n_sess + 1) * sizeof *order);
    int rc = -ENOMEM;

    v->item_ptr = calloc((size_t)v->n_items + 1, sizeof *v->item_ptr);
    v->item_sess = malloc((total ? total : 1) * sizeof *v->item_sess);
    if (fill && order && v->item_ptr && v->item_sess) {
        for (uint64_t j = 0; j < total; j++)
            v->item_ptr[v->sess_items[j] + 1]++;
        for (uint32_t i = 0; i < v->n_items; i++)
            v->item_ptr[i + 1] += v->item_ptr[i];
        memcpy(fill, v->item_ptr, (size_t)v->n_items * sizeof *fill);
        for (uint32_t s = 0; s < v->n_sess; s++)
            order[s] = (sess_key_t){ v->sess_time[s], s };
        qsort(order, v->n_sess, sizeof *order, cmp_recent);
        for (uint32_t r = 0; r < v->n_sess; r++) {
            uint32_t s = order[r].sess;
            for (uint64_t j = v->sess_ptr[s]; j < v->sess_ptr[s + 1]; j++)
                v->item_sess[fill[v->sess_items[j]]++] = s;
        }
        rc = 0;
    }
    free(fill);
    free(order);
    return rc;
}

int vsknn_build(uint32_t n_items, uint32_t n_sess, const uint64_t *ptr,
                const uint32_t *items, const int64_t *time, vsknn_t *out)
{
    int rc;

    memset(out, 0, sizeof *out);
    out->n_items = n_items;
    out->n_sess = n_sess;
    if (!(out->sess_time = malloc(((size_t)n_sess + 1) * sizeof *out->sess_time)))
        return -ENOMEM;
    if (n_sess)
        memcpy(out->sess_time, time, n_sess * sizeof *time);
    if ((rc = index_sessions(out, ptr, items)) != 0 || (rc = index_items(out)) != 0)
        vsknn_free(out);
    return rc;
}

void vsknn_free(vsknn_t *v)
{
    if (!v)
        return;
    free(v->sess_ptr);
    free(v->sess_items);
    free(v->sess_time);
    free(v->item_ptr);
    free(v->item_sess);
    memset(v, 0, sizeof *v);
}

/* ---- scoring ---------------------------------------------------------------- */

typedef struct weighted {
    uint32_t item;
    float w;
} weighted_t;

static int cmp_weighted(const void *a, const void *b)
{
    return cmp_u32(&((const weighted_t *)a)->item, &((const weighted_t *)b)->item);
}

/* The current session's distinct items, ascending, with w = p / n. */
static size_t session_weights(const vsknn_t *v, const uint32_t *ctx, size_t n,
                              weighted_t *cur)
{
    size_t m = 0, k = 0;
    for (size_t p = 0; p < n; p++)
        if (ctx[p] < v->n_items)
            cur[m++] = (weighted_t){ ctx[p], (float)(p + 1) / (float)n };
    /* Stable enough: among equal items keep the largest weight (latest). */
    qsort(cur, m, sizeof *cur, cmp_weighted);
    for (size_t i = 0; i < m; i++) {
        if (k && cur[k - 1].item == cur[i].item) {
            if (cur[i].w > cur[k - 1].w)
                cur[k - 1].w = cur[i].w;
        } else {
            cur[k++] = cur[i];
        }
    }
    return k;
}

typedef struct neighbour {
    float sim;
    int64_t time;
    uint32_t sess;
} neighbour_t;

static int cmp_neighbour_recent(const void *a, const void *b)
{
    const neighbour_t *x = a, *y = b;
    sess_key_t kx = { x->time, x->sess }, ky = { y->time, y->sess };
    return cmp_recent(&kx, &ky);
}

static int cmp_neighbour_sim(const void *a, const void *b)
{
    const neighbour_t *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim > y->sim ? -1 : 1;
    return cmp_neighbour_recent(a, b);
}

static int cmp_neighbour_sess(const void *a, const void *b)
{
    return cmp_u32(&((const neighbour_t *)a)->sess, &((const neighbour_t *)b)->sess);
}

static float similarity(const vsknn_t *v, uint32_t s, const weighted_t *cur, size_t m)
{
    const uint32_t *it = v->sess_items + v->sess_ptr[s];
    size_t len = (size_t)(v->sess_ptr[s + 1] - v->sess_ptr[s]), a = 0, b = 0;
    double dot = 0;
    while (a < m && b < len) { /* both ascending: a merge */
        if (cur[a].item == it[b])
            dot += cur[a++].w, b++;
        else if (cur[a].item < it[b])
            a++;
        else
            b++;
    }
    return (float)(dot / sqrt((double)m * (double)len));
}

/* Candidate sessions: union of the items' lists, deduplicated, the
 * `sample` most recent kept. */
static size_t candidates(const vsknn_t *v, const weighted_t *cur, size_t m,
                         uint32_t sample, neighbour_t *nb)
{
    size_t n = 0, k = 0;
    for (size_t a = 0; a < m; a++)
        for (uint64_t j = v->item_ptr[cur[a].item]; j < v->item_ptr[cur[a].item + 1]; j++) {
            uint32_t s = v->item_sess[j];
            nb[n++] = (neighbour_t){ 0, v->sess_time[s], s };
        }
    qsort(nb, n, sizeof *nb, cmp_neighbour_sess);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || nb[k - 1].sess != nb[i].sess)
            nb[k++] = nb[i];
    qsort(nb, k, sizeof *nb, cmp_neighbour_recent);
    return k < sample ? k : sample;
}

int vsknn_score(const vsknn_t *v, const vsknn_params_t *p, const uint32_t *ctx,
                size_t n, float *scores)
{
    weighted_t *cur;
    neighbour_t *nb;
    uint64_t total = 0;
    size_t m, nc;

    if (p->k == 0 || p->sample == 0)
        return -EINVAL;
    memset(scores, 0, (size_t)v->n_items * sizeof *scores);
    cur = malloc((n ? n : 1) * sizeof *cur);
    if (!cur)
        return -ENOMEM;
    m = session_weights(v, ctx, n, cur);
    for (size_t a = 0; a < m; a++)
        total += v->item_ptr[cur[a].item + 1] - v->item_ptr[cur[a].item];
    if (!(nb = malloc((total ? total : 1) * sizeof *nb))) {
        free(cur);
        return -ENOMEM;
    }
    nc = candidates(v, cur, m, p->sample, nb);
    for (size_t i = 0; i < nc; i++)
        nb[i].sim = similarity(v, nb[i].sess, cur, m);
    qsort(nb, nc, sizeof *nb, cmp_neighbour_sim);
    for (size_t i = 0; i < nc && i < p->k; i++)
        for (uint64_t j = v->sess_ptr[nb[i].sess]; j < v->sess_ptr[nb[i].sess + 1]; j++)
            scores[v->sess_items[j]] += nb[i].sim;
    free(cur);
    free(nb);
    return 0;
}
