/*
 * compeval.c - basket hold-one-out of ComplementaryItems against
 * SimilarItems, raw co-occurrence and popularity (compeval.h).
 *
 * The served methods are scored through copurchase_complements itself, so
 * the evaluation measures the code that answers requests; the baselines
 * score every item densely and the hidden item's rank is counted directly.
 */
#include "compeval.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "monotime.h"

enum { M_POP, M_SIMILAR, M_COUNTS, M_STATS, M_SERVED, M_LIFT0, M_LIFT1 };

static const char *const method_names[COMPEVAL_METHODS] = {
    "popularity", "similar-items (factor cosine)", "co-occurrence counts",
    "complements: statistics only", "complements (served)",
    "complements, lift^0", "complements, lift^1",
};

void compeval_config_default(compeval_config_t *c)
{
    train_config_default(&c->train);
    c->train.copurchase = NULL;
    copurchase_params_default(&c->cp);
    c->test_share = 0.2;
    c->k = 10;
}

/* ---- the split -------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The time of the first held-out basket. */
static int cut_time(const copurchase_baskets_t *all, double share, int64_t *cut)
{
    uint32_t n = all->items.n_rows;
    int64_t *t;
    if (n < 2)
        return -ENOENT;
    if (!(t = malloc(n * sizeof *t)))
        return -ENOMEM;
    memcpy(t, all->time_ms, n * sizeof *t);
    qsort(t, n, sizeof *t, cmp_i64);
    *cut = t[(size_t)((double)n * (1.0 - share))];
    free(t);
    return 0;
}

static int before_cut(void *ctx, const store_event_rec_t *ev)
{
    return ev->time_ms < *(const int64_t *)ctx;
}

/* ---- what the methods share ---------------------------------------------------------- */

typedef struct state {
    const compeval_config_t *c;
    uint32_t n_items, f;
    float *unit;                 /* n_items x f unit item vectors */
    copurchase_t cp[3];          /* served, lift^0, lift^1 */
    copurchase_t raw;            /* every pair, for the counts */
    uint32_t *nb;                /* neighbour cache: n_items x COPURCHASE_TAIL_NEIGHBORS */
    float *nb_cos;
    uint8_t *nb_done;
    uint32_t *nb_n;
    copurchase_acc_t acc;
    float *dense;                /* n_items */
    uint8_t *cand;               /* n_items: the counts' candidates */
    copurchase_hit_t *hits;      /* k */
} state_t;

/* copurchase_similar_fn: exact cosine neighbours, cached per item. */
static int neighbors(void *ctx, uint32_t item, uint32_t k, uint32_t *items, float *cos,
                     size_t *n)
{
    state_t *st = ctx;
    const uint32_t K = COPURCHASE_TAIL_NEIGHBORS;
    uint32_t *nb = st->nb + (size_t)item * K;
    float *nc = st->nb_cos + (size_t)item * K;

    if (!st->nb_done[item]) {
        const float *q = st->unit + (size_t)item * st->f;
        uint32_t got = 0;
        for (uint32_t j = 0; j < st->n_items; j++) {
            float v = 0;
            uint32_t at;
            if (j == item)
                continue;
            for (uint32_t d = 0; d < st->f; d++)
                v += q[d] * st->unit[(size_t)j * st->f + d];
            if (got == K && v <= nc[K - 1])
                continue;
            at = got < K ? got++ : K - 1;
            while (at > 0 && nc[at - 1] < v) {
                nc[at] = nc[at - 1];
                nb[at] = nb[at - 1];
                at--;
            }
            nc[at] = v;
            nb[at] = j;
        }
        st->nb_n[item] = got;
        st->nb_done[item] = 1;
    }
    *n = st->nb_n[item] < k ? st->nb_n[item] : k;
    memcpy(items, nb, *n * sizeof *items);
    memcpy(cos, nc, *n * sizeof *cos);
    return 0;
}

/* Rank of hidden among candidates (cand NULL: every item) by dense score,
 * cart excluded, ties to the lower index: 0-based, or -1 when not in the
 * top k. */
static int dense_rank(const state_t *st, const float *score, const uint8_t *cand,
                      const uint32_t *cart, size_t n_cart, uint32_t hidden)
{
    uint32_t better = 0;
    float h = score[hidden];
    if (cand && !cand[hidden])
        return -1;
    for (uint32_t j = 0; j < st->n_items && better < st->c->k; j++) {
        if (j == hidden || (cand && !cand[j]) || !(score[j] > h || (score[j] == h && j < hidden)))
            continue;
        int in_cart = 0;
        for (size_t i = 0; i < n_cart && !in_cart; i++)
            in_cart = cart[i] == j;
        better += !in_cart;
    }
    return better < st->c->k ? (int)better : -1;
}

/* The hidden item's 0-based rank in the served answer, or -1. */
static int served_rank(state_t *st, const copurchase_t *cp, int tail, const uint32_t *cart,
                       size_t n_cart, uint32_t hidden, int *rank)
{
    copurchase_tail_t t = { neighbors, st, COPURCHASE_TAIL_SUPPORT,
                            COPURCHASE_TAIL_NEIGHBORS };
    size_t n;
    int rc;
    copurchase_acc_reset(&st->acc);
    rc = copurchase_complements(cp, tail ? &t : NULL, cart, n_cart, NULL, st->c->k,
                                &st->acc, st->hits, &n);
    *rank = -1;
    for (size_t i = 0; i < n && rc == 0 && *rank < 0; i++)
        if (st->hits[i].item == hidden)
            *rank = (int)i;
    return rc;
}

/* Every method on one (cart, hidden) case: rank[m] per method (0-based, -1
 * outside the top k). */
static int score_case(state_t *st, const float *cart_vec, const uint32_t *cart,
                      size_t n_cart, uint32_t hidden, int rank[COMPEVAL_METHODS])
{
    uint8_t *cand = st->cand;
    int rc;

    for (uint32_t j = 0; j < st->n_items; j++)
        st->dense[j] = (float)st->cp[0].item_baskets[j];
    rank[M_POP] = dense_rank(st, st->dense, NULL, cart, n_cart, hidden);
    for (uint32_t j = 0; j < st->n_items; j++) {
        float v = 0;
        for (uint32_t d = 0; d < st->f; d++)
            v += cart_vec[d] * st->unit[(size_t)j * st->f + d];
        st->dense[j] = v;
    }
    rank[M_SIMILAR] = dense_rank(st, st->dense, NULL, cart, n_cart, hidden);

    memset(st->dense, 0, st->n_items * sizeof *st->dense);
    memset(cand, 0, st->n_items);
    for (size_t i = 0; i < n_cart; i++)
        for (uint64_t e = st->raw.ptr[cart[i]]; e < st->raw.ptr[cart[i] + 1]; e++) {
            st->dense[st->raw.partner[e]] += (float)st->raw.count[e];
            cand[st->raw.partner[e]] = 1;
        }
    rank[M_COUNTS] = dense_rank(st, st->dense, cand, cart, n_cart, hidden);

    if ((rc = served_rank(st, &st->cp[0], 0, cart, n_cart, hidden, &rank[M_STATS])) != 0 ||
        (rc = served_rank(st, &st->cp[0], 1, cart, n_cart, hidden, &rank[M_SERVED])) != 0 ||
        (rc = served_rank(st, &st->cp[1], 1, cart, n_cart, hidden, &rank[M_LIFT0])) != 0)
        return rc;
    return served_rank(st, &st->cp[2], 1, cart, n_cart, hidden, &rank[M_LIFT1]);
}

/* ---- training before the cut ---------------------------------------------------------- */

static int train_factors(store_t *s, const compeval_config_t *c, int64_t cut, state_t *st)
{
    csr_t ui = { 0 };
    float *user_f = NULL, *item_f = NULL;
    int rc = train_build_matrix(s, &c->train, before_cut, &cut, &ui, NULL, NULL);

    st->f = c->train.als.factors;
    if (rc == 0 && ui.n_cols != st->n_items)
        rc = -EAGAIN; /* an item registered between the two reads */
    if (rc == 0) {
        user_f = malloc((size_t)ui.n_rows * st->f * sizeof *user_f + 1);
        item_f = malloc((size_t)ui.n_cols * st->f * sizeof *item_f + 1);
        rc = user_f && item_f ? 0 : -ENOMEM;
    }
    if (rc == 0)
        rc = ials_train(&ui, &c->train.als, user_f, item_f, NULL, NULL);
    if (rc == 0) {
        for (uint32_t i = 0; i < st->n_items; i++) {
            float *r = item_f + (size_t)i * st->f;
            double nn = 0;
            for (uint32_t d = 0; d < st->f; d++)
                nn += (double)r[d] * r[d];
            for (uint32_t d = 0; d < st->f; d++)
                r[d] = nn > 0 ? (float)(r[d] / sqrt(nn)) : 0.0f;
        }
        st->unit = item_f;
        item_f = NULL;
    }
    csr_free(&ui);
    free(user_f);
    free(item_f);
    return rc;
}

static int train_stats(const copurchase_baskets_t *train, const compeval_config_t *c,
                       state_t *st)
{
    copurchase_params_t p = c->cp;
    int rc = copurchase_build(train, &p, &st->cp[0]);
    p.lift_exp = 0.0f;
    if (rc == 0)
        rc = copurchase_build(train, &p, &st->cp[1]);
    p.lift_exp = 1.0f;
    if (rc == 0)
        rc = copurchase_build(train, &p, &st->cp[2]);
    p = c->cp;
    p.min_support = 1;
    p.max_neighbors = 10000;
    p.lift_exp = 0.0f; /* kept by count when a list is cut */
    if (rc == 0)
        rc = copurchase_build(train, &p, &st->raw);
    return rc;
}

static void state_free(state_t *st)
{
    free(st->unit);
    for (int i = 0; i < 3; i++)
        copurchase_free(&st->cp[i]);
    copurchase_free(&st->raw);
    free(st->nb);
    free(st->nb_cos);
    free(st->nb_done);
    free(st->nb_n);
    copurchase_acc_free(&st->acc);
    free(st->dense);
    free(st->cand);
    free(st->hits);
}

static int state_alloc(state_t *st)
{
    size_t n = st->n_items + 1, K = COPURCHASE_TAIL_NEIGHBORS;
    st->nb = malloc(n * K * sizeof *st->nb);
    st->nb_cos = malloc(n * K * sizeof *st->nb_cos);
    st->nb_done = calloc(n, 1);
    st->nb_n = calloc(n, sizeof *st->nb_n);
    st->dense = calloc(n, sizeof *st->dense);
    st->cand = calloc(n, 1);
    st->hits = malloc(st->c->k * sizeof *st->hits);
    if (!st->nb || !st->nb_cos || !st->nb_done || !st->nb_n || !st->dense || !st->cand ||
        !st->hits)
        return -ENOMEM;
    return copurchase_acc_init(&st->acc, st->n_items);
}

/* ---- the held-out baskets ---------------------------------------------------------------- */

/* Hides each item of basket r in turn. */
static int run_basket(state_t *st, const csr_t *b, uint32_t r, float *vec,
                      uint32_t *cart, compeval_report_t *out)
{
    uint64_t lo = b->indptr[r], hi = b->indptr[r + 1];
    int rc = 0;

    for (uint64_t h = lo; h < hi && rc == 0; h++) {
        uint32_t hidden = b->indices[h];
        size_t n_cart = 0;
        int tail = 1, rank[COMPEVAL_METHODS];
        memset(vec, 0, st->f * sizeof *vec);
        for (uint64_t e = lo; e < hi; e++) {
            uint32_t i = b->indices[e];
            if (e == h)
                continue;
            cart[n_cart++] = i;
            tail &= st->cp[0].item_baskets[i] < COPURCHASE_TAIL_SUPPORT;
            for (uint32_t d = 0; d < st->f; d++)
                vec[d] += st->unit[(size_t)i * st->f + d];
        }
        if ((rc = score_case(st, vec, cart, n_cart, hidden, rank)) != 0)
            break;
        out->cases++;
        out->tail_cases += tail;
        for (int k = 0; k < COMPEVAL_METHODS; k++) {
            compeval_row_t *row = &out->rows[k];
            double gain = rank[k] >= 0 ? 1.0 / log2(rank[k] + 2.0) : 0.0;
            row->hits += rank[k] >= 0;
            row->dcg += gain;
            if (tail) {
                row->tail_hits += rank[k] >= 0;
                row->tail_dcg += gain;
            }
        }
    }
    return rc;
}

static int run_test(state_t *st, const copurchase_baskets_t *all, int64_t cut,
                    compeval_report_t *out)
{
    const csr_t *b = &all->items;
    float *vec = malloc((st->f + 1) * sizeof *vec);
    uint32_t *cart = malloc((st->c->cp.max_basket + 1) * sizeof *cart);
    int rc = vec && cart ? 0 : -ENOMEM;

    for (uint32_t r = 0; r < b->n_rows && rc == 0; r++) {
        uint64_t size = b->indptr[r + 1] - b->indptr[r];
        if (all->time_ms[r] < cut || size < 2 || size > st->c->cp.max_basket)
            continue;
        out->test_baskets++;
        rc = run_basket(st, b, r, vec, cart, out);
    }
    free(vec);
    free(cart);
    return rc;
}

int compeval_run(store_t *s, const compeval_config_t *c, compeval_report_t *out)
{
    copurchase_baskets_t all = { 0 }, train = { 0 };
    state_t st = { .c = c };
    double t0;
    int64_t cut = 0;
    int rc;

    memset(out, 0, sizeof *out);
    for (int k = 0; k < COMPEVAL_METHODS; k++)
        out->rows[k].name = method_names[k];
    if (!(c->test_share > 0 && c->test_share < 1) || c->k < 1 || c->k > 1000 ||
        copurchase_params_invalid(&c->cp))
        return -EINVAL;
    if ((rc = copurchase_baskets(s, &c->cp, 0, 0, NULL, NULL, &all)) != 0)
        return rc;
    st.n_items = all.items.n_cols;
    out->items = st.n_items;
    if ((rc = cut_time(&all, c->test_share, &cut)) == 0)
        rc = copurchase_baskets(s, &c->cp, 0, st.n_items, before_cut, &cut, &train);
    out->cut_ms = cut;
    out->train_baskets = train.items.n_rows;
    t0 = monotime_seconds();
    if (rc == 0)
        rc = train_factors(s, c, cut, &st);
    if (rc == 0)
        rc = train_stats(&train, c, &st);
    out->train_seconds = monotime_seconds() - t0;
    if (rc == 0)
        rc = state_alloc(&st);
    if (rc == 0)
        rc = run_test(&st, &all, cut, out);
    if (rc == 0 && out->cases == 0)
        rc = -ENOENT;
    state_free(&st);
    copurchase_baskets_free(&all);
    copurchase_baskets_free(&train);
    return rc;
}
