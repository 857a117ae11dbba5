/*
 * test_ials.c - the implicit ALS trainer and its CSR helpers.
 *
 * The planted data set has G user groups, each interacting only with its own
 * item cluster; one in-cluster positive per user is held out. A trainer that
 * works must rank the held-out item above most items the user never touched,
 * lower the objective every sweep, and solve each row's normal equations
 * exactly (checked against a double-precision residual).
 */
#include "ials.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

enum {
    GROUPS = 5,
    USERS_PER_GROUP = 40,
    ITEMS_PER_CLUSTER = 24,
    TRAIN_PER_USER = 12,
    N_USERS = GROUPS * USERS_PER_GROUP,
    N_ITEMS = GROUPS * ITEMS_PER_CLUSTER,
};

static uint64_t rng_state = 0x5eed;

static uint32_t rng_u32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

typedef struct planted {
    ials_csr_t ui;
    uint32_t held_out[N_USERS];
} planted_t;

/* Each user picks TRAIN_PER_USER + 1 distinct items of its cluster (strength
 * 1..3); the last pick is held out. Triplets go in shuffled-ish order with a
 * duplicate per user, so the CSR builder's sort and sum are exercised too. */
static int planted_build(planted_t *pl)
{
    enum { CAP = N_USERS * (TRAIN_PER_USER + 1) };
    static uint32_t rows[CAP], cols[CAP];
    static float vals[CAP];
    size_t nnz = 0;
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t g = u / USERS_PER_GROUP;
        uint32_t picks[ITEMS_PER_CLUSTER];
        for (uint32_t j = 0; j < ITEMS_PER_CLUSTER; j++)
            picks[j] = g * ITEMS_PER_CLUSTER + j;
        for (uint32_t j = 0; j <= TRAIN_PER_USER; j++) { /* partial shuffle */
            uint32_t s = j + rng_u32() % (ITEMS_PER_CLUSTER - j);
            uint32_t t = picks[j];
            picks[j] = picks[s];
            picks[s] = t;
        }
        for (uint32_t j = TRAIN_PER_USER; j-- > 0;) {
            rows[nnz] = u;
            cols[nnz] = picks[j];
            vals[nnz] = (float)(1 + rng_u32() % 3);
            nnz++;
        }
        rows[nnz] = u; /* a repeat of the first pick: summed by the builder */
        cols[nnz] = picks[0];
        vals[nnz] = 1.0f;
        nnz++;
        pl->held_out[u] = picks[TRAIN_PER_USER];
    }
    return ials_csr_from_triplets(N_USERS, N_ITEMS, nnz, rows, cols, vals,
                                  &pl->ui);
}

static int row_has(const ials_csr_t *m, uint32_t r, uint32_t c)
{
    for (uint64_t e = m->indptr[r]; e < m->indptr[r + 1]; e++)
        if (m->indices[e] == c)
            return 1;
    return 0;
}

static double dotd(const float *a, const float *b, uint32_t f)
{
    double s = 0.0;
    for (uint32_t k = 0; k < f; k++)
        s += (double)a[k] * b[k];
    return s;
}

/* Mean over users of P(score(held out) > score(random untouched item)). */
static double held_out_auc(const planted_t *pl, const float *x, const float *y,
                           uint32_t f)
{
    double auc = 0.0;
    for (uint32_t u = 0; u < N_USERS; u++) {
        const float *xu = x + (size_t)u * f;
        double pos = dotd(xu, y + (size_t)pl->held_out[u] * f, f);
        double wins = 0.0;
        uint32_t negs = 0;
        for (uint32_t i = 0; i < N_ITEMS; i++) {
            if (i == pl->held_out[u] || row_has(&pl->ui, u, i))
                continue;
            double s = dotd(xu, y + (size_t)i * f, f);
            wins += s < pos ? 1.0 : s == pos ? 0.5 : 0.0;
            negs++;
        }
        auc += wins / negs;
    }
    return auc / N_USERS;
}

typedef struct trace {
    double loss[64];
    uint32_t calls, stop_at;
    int order_ok;
} trace_t;

static int record_loss(void *ctx, uint32_t iteration, double loss)
{
    trace_t *t = ctx;
    if (iteration != t->calls + 1 || t->calls >= 64)
        t->order_ok = 0;
    else
        t->loss[t->calls++] = loss;
    return t->stop_at && iteration >= t->stop_at;
}

static ials_params_t small_params(uint32_t threads)
{
    ials_params_t p;
    ials_params_default(&p);
    p.factors = 16;
    p.iterations = 10;
    p.reg = 0.1f;
    p.alpha = 5.0f;
    p.threads = threads;
    p.seed = 42;
    return p;
}

static void test_planted_learns_clusters(const planted_t *pl)
{
    ials_params_t p = small_params(2);
    const uint32_t f = p.factors;
    float *x = malloc((size_t)N_USERS * f * sizeof *x);
    float *y = malloc((size_t)N_ITEMS * f * sizeof *y);
    trace_t tr = { .order_ok = 1 };
    if (!x || !y) {
        CHECK(!"allocation failed");
        goto done;
    }

    /* Before training (iterations = 0: initialization only) the ranking is
     * noise; after, the held-out item beats nearly every untouched item. */
    p.iterations = 0;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, record_loss, &tr), 0);
    double auc_init = held_out_auc(pl, x, y, f);
    double loss_init = ials_loss(&pl->ui, &p, x, y);
    CHECK_EQ_INT(tr.calls, 0);

    p.iterations = 10;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, record_loss, &tr), 0);
    CHECK(tr.order_ok);
    CHECK_EQ_INT(tr.calls, 10);
    CHECK(tr.loss[0] < loss_init);
    for (uint32_t it = 1; it < tr.calls; it++) {
        if (!(tr.loss[it] < tr.loss[it - 1]))
            fprintf(stderr, "loss rose at sweep %u: %.9g -> %.9g\n", it + 1,
                    tr.loss[it - 1], tr.loss[it]);
        CHECK(tr.loss[it] < tr.loss[it - 1]);
    }
    /* The callback reports the same objective ials_loss computes. */
    CHECK(tr.loss[tr.calls - 1] == ials_loss(&pl->ui, &p, x, y));

    double auc = held_out_auc(pl, x, y, f);
    printf("planted: auc %.3f -> %.3f, loss %.1f -> %.1f\n", auc_init, auc,
           loss_init, tr.loss[tr.calls - 1]);
    CHECK(auc_init < 0.7);
    CHECK(auc > 0.9);

    /* Early stop: a nonzero return ends training after that sweep. */
    trace_t stop = { .order_ok = 1, .stop_at = 3 };
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, record_loss, &stop), 0);
    CHECK_EQ_INT(stop.calls, 3);
done:
    free(x);
    free(y);
}

/*
 * After a full sweep the item side was solved last, so every item vector must
 * satisfy its normal equations against the final user factors:
 *   (X'X + reg I + sum_u alpha r_ui x_u x_u') y_i = sum_u (1 + alpha r_ui) x_u
 * Checked in double; the float solve must agree to a small relative residual.
 */
static void test_item_rows_solve_normal_equations(const planted_t *pl)
{
    ials_params_t p = small_params(1);
    p.iterations = 2;
    const uint32_t f = p.factors;
    float *x = malloc((size_t)N_USERS * f * sizeof *x);
    float *y = malloc((size_t)N_ITEMS * f * sizeof *y);
    ials_csr_t iu = { 0 };
    double *a = malloc((size_t)f * f * sizeof *a);
    double b[64];
    if (!x || !y || !a || ials_csr_transpose(&pl->ui, &iu) != 0) {
        CHECK(!"setup failed");
        goto done;
    }
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), 0);

    double worst = 0.0;
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        for (uint32_t r = 0; r < f; r++) {
            b[r] = 0.0;
            for (uint32_t c = 0; c < f; c++) {
                double s = r == c ? p.reg : 0.0;
                for (uint32_t u = 0; u < N_USERS; u++)
                    s += (double)x[u * f + r] * x[u * f + c];
                a[r * f + c] = s;
            }
        }
        for (uint64_t e = iu.indptr[i]; e < iu.indptr[i + 1]; e++) {
            const float *xu = x + (size_t)iu.indices[e] * f;
            double w = (double)p.alpha * iu.values[e];
            for (uint32_t r = 0; r < f; r++) {
                b[r] += (1.0 + w) * xu[r];
                for (uint32_t c = 0; c < f; c++)
                    a[r * f + c] += w * xu[r] * xu[c];
            }
        }
        double res = 0.0, norm = 0.0;
        for (uint32_t r = 0; r < f; r++) {
            double ay = 0.0;
            for (uint32_t c = 0; c < f; c++)
                ay += a[r * f + c] * y[(size_t)i * f + c];
            res += (ay - b[r]) * (ay - b[r]);
            norm += b[r] * b[r];
        }
        double rel = sqrt(res / norm);
        if (rel > worst)
            worst = rel;
    }
    printf("normal equations: worst relative residual %.2e\n", worst);
    CHECK(worst < 1e-4);
done:
    ials_csr_free(&iu);
    free(a);
    free(x);
    free(y);
}

static void test_deterministic(const planted_t *pl)
{
    ials_params_t p = small_params(2);
    p.iterations = 4;
    const size_t nx = (size_t)N_USERS * p.factors;
    const size_t ny = (size_t)N_ITEMS * p.factors;
    float *x1 = malloc(nx * sizeof(float)), *y1 = malloc(ny * sizeof(float));
    float *x2 = malloc(nx * sizeof(float)), *y2 = malloc(ny * sizeof(float));
    if (!x1 || !y1 || !x2 || !y2) {
        CHECK(!"allocation failed");
        goto done;
    }
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x1, y1, NULL, NULL), 0);
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x2, y2, NULL, NULL), 0);
    CHECK(memcmp(x1, x2, nx * sizeof(float)) == 0);
    CHECK(memcmp(y1, y2, ny * sizeof(float)) == 0);

    /* Rows never depend on which thread solved them: 1, 2 and 3 threads give
     * the same bits. */
    for (uint32_t threads = 1; threads <= 3; threads += 2) {
        p.threads = threads;
        CHECK_EQ_INT(ials_train(&pl->ui, &p, x2, y2, NULL, NULL), 0);
        CHECK(memcmp(x1, x2, nx * sizeof(float)) == 0);
        CHECK(memcmp(y1, y2, ny * sizeof(float)) == 0);
    }

    /* The objective does not depend on how many threads computed it. */
    p.threads = 1;
    double loss1 = ials_loss(&pl->ui, &p, x1, y1);
    p.threads = 3;
    CHECK(loss1 == ials_loss(&pl->ui, &p, x1, y1));

    /* A different seed starts elsewhere. */
    p.seed = 43;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x2, y2, NULL, NULL), 0);
    CHECK(memcmp(y1, y2, ny * sizeof(float)) != 0);
done:
    free(x1);
    free(y1);
    free(x2);
    free(y2);
}

/* ials_loss against the objective written out over every (u, i) pair. */
static void test_loss_matches_definition(void)
{
    uint32_t rows[] = { 0, 0, 1, 2, 2, 2 };
    uint32_t cols[] = { 1, 3, 0, 0, 2, 3 };
    float vals[] = { 1.0f, 2.5f, 4.0f, 0.5f, 1.0f, 3.0f };
    ials_csr_t m = { 0 };
    CHECK_EQ_INT(ials_csr_from_triplets(3, 4, 6, rows, cols, vals, &m), 0);
    ials_params_t p = small_params(1);
    p.factors = 3;
    p.alpha = 1.5f;
    p.reg = 0.25f;
    float x[3 * 3], y[4 * 3];
    for (int k = 0; k < 9; k++)
        x[k] = (float)((k * 37) % 11) / 7.0f - 0.6f;
    for (int k = 0; k < 12; k++)
        y[k] = (float)((k * 53) % 13) / 9.0f - 0.5f;

    double want = 0.0;
    for (uint32_t u = 0; u < 3; u++)
        for (uint32_t i = 0; i < 4; i++) {
            double pr = dotd(x + u * 3, y + i * 3, 3), c = 1.0, pref = 0.0;
            for (uint64_t e = m.indptr[u]; e < m.indptr[u + 1]; e++)
                if (m.indices[e] == i) {
                    c = 1.0 + p.alpha * m.values[e];
                    pref = 1.0;
                }
            want += c * (pref - pr) * (pref - pr);
        }
    want += p.reg * (dotd(x, x, 9) + dotd(y, y, 12));
    double got = ials_loss(&m, &p, x, y);
    CHECK(fabs(got - want) < 1e-9 * fabs(want));
    ials_csr_free(&m);
}

static void test_csr_from_triplets(void)
{
    /* (0,2) appears three times: 1 + 0.5 + 0.25; (0,1) cancels to 0 and
     * (1,0) is negative: both dropped; row 2 stays empty. */
    uint32_t rows[] = { 1, 0, 0, 0, 0, 1, 0, 3 };
    uint32_t cols[] = { 3, 2, 1, 2, 1, 0, 2, 0 };
    float vals[] = { 7.0f, 1.0f, 2.0f, 0.5f, -2.0f, -1.0f, 0.25f, 9.0f };
    ials_csr_t m = { 0 };
    CHECK_EQ_INT(ials_csr_from_triplets(4, 5, 8, rows, cols, vals, &m), 0);
    CHECK_EQ_INT(m.n_rows, 4);
    CHECK_EQ_INT(m.n_cols, 5);
    uint64_t indptr[] = { 0, 1, 2, 2, 3 };
    uint32_t indices[] = { 2, 3, 0 };
    float values[] = { 1.75f, 7.0f, 9.0f };
    CHECK(memcmp(m.indptr, indptr, sizeof indptr) == 0);
    CHECK(memcmp(m.indices, indices, sizeof indices) == 0);
    CHECK(memcmp(m.values, values, sizeof values) == 0);
    ials_csr_free(&m);
    ials_csr_free(&m); /* idempotent */
    ials_csr_free(NULL);

    /* Empty input is a valid empty matrix. */
    CHECK_EQ_INT(ials_csr_from_triplets(3, 2, 0, NULL, NULL, NULL, &m), 0);
    CHECK_EQ_INT(m.indptr[3], 0);
    ials_csr_free(&m);

    uint32_t r_bad[] = { 4 }, c_ok[] = { 0 }, r_ok[] = { 0 }, c_bad[] = { 5 };
    float v1[] = { 1.0f }, vnan[] = { NAN };
    CHECK_EQ_INT(ials_csr_from_triplets(4, 5, 1, r_bad, c_ok, v1, &m), -EINVAL);
    CHECK_EQ_INT(ials_csr_from_triplets(4, 5, 1, r_ok, c_bad, v1, &m), -EINVAL);
    CHECK_EQ_INT(ials_csr_from_triplets(4, 5, 1, r_ok, c_ok, vnan, &m),
                 -EINVAL);
    CHECK_EQ_INT(ials_csr_from_triplets(4, 5, 1, NULL, c_ok, v1, &m), -EINVAL);
}

static int csr_equal(const ials_csr_t *a, const ials_csr_t *b)
{
    uint64_t nnz = a->indptr[a->n_rows];
    return a->n_rows == b->n_rows && a->n_cols == b->n_cols &&
           memcmp(a->indptr, b->indptr,
                  (a->n_rows + 1) * sizeof *a->indptr) == 0 &&
           memcmp(a->indices, b->indices, nnz * sizeof *a->indices) == 0 &&
           memcmp(a->values, b->values, nnz * sizeof *a->values) == 0;
}

static void test_transpose(const planted_t *pl)
{
    ials_csr_t t = { 0 }, tt = { 0 };
    CHECK_EQ_INT(ials_csr_transpose(&pl->ui, &t), 0);
    CHECK_EQ_INT(t.n_rows, N_ITEMS);
    CHECK_EQ_INT(t.n_cols, N_USERS);
    CHECK_EQ_INT(t.indptr[N_ITEMS], pl->ui.indptr[N_USERS]);
    /* Every entry lands at (col, row) with its value, columns sorted. */
    int ok = 1;
    for (uint32_t u = 0; u < N_USERS; u++)
        for (uint64_t e = pl->ui.indptr[u]; e < pl->ui.indptr[u + 1]; e++) {
            uint32_t i = pl->ui.indices[e];
            int found = 0;
            for (uint64_t k = t.indptr[i]; k < t.indptr[i + 1]; k++) {
                found |= t.indices[k] == u && t.values[k] == pl->ui.values[e];
                if (k > t.indptr[i])
                    ok &= t.indices[k] > t.indices[k - 1];
            }
            ok &= found;
        }
    CHECK(ok);
    CHECK_EQ_INT(ials_csr_transpose(&t, &tt), 0);
    CHECK(csr_equal(&tt, &pl->ui));
    ials_csr_free(&t);
    ials_csr_free(&tt);
}

static void test_bad_params(const planted_t *pl)
{
    ials_params_t good = small_params(1), p;
    float *x = calloc((size_t)N_USERS * good.factors, sizeof *x);
    float *y = calloc((size_t)N_ITEMS * good.factors, sizeof *y);
    if (!x || !y) {
        CHECK(!"allocation failed");
        goto done;
    }
    p = good; p.factors = 0;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    CHECK(isnan(ials_loss(&pl->ui, &p, x, y)));
    p = good; p.threads = 0;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.reg = -0.1f;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.alpha = NAN;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.init_scale = INFINITY;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(NULL, &good, x, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(&pl->ui, NULL, x, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(&pl->ui, &good, NULL, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(&pl->ui, &good, x, NULL, NULL, NULL), -EINVAL);

    /* Malformed matrices: unsorted row, column out of range, negative value,
     * indptr not starting at 0. None may touch the factors. */
    uint64_t indptr[] = { 0, 2, 3 };
    uint32_t unsorted[] = { 1, 0, 1 }, out_of_range[] = { 0, 1, 9 },
             fine[] = { 0, 1, 1 };
    float vals[] = { 1, 1, 1 }, negative[] = { 1, -1, 1 };
    ials_csr_t m = { 2, 3, indptr, unsorted, vals };
    x[0] = 123.0f;
    CHECK_EQ_INT(ials_train(&m, &good, x, y, NULL, NULL), -EINVAL);
    m.indices = out_of_range;
    CHECK_EQ_INT(ials_train(&m, &good, x, y, NULL, NULL), -EINVAL);
    m.indices = fine;
    m.values = negative;
    CHECK_EQ_INT(ials_train(&m, &good, x, y, NULL, NULL), -EINVAL);
    CHECK(isnan(ials_loss(&m, &good, x, y)));
    m.values = vals;
    uint64_t shifted[] = { 1, 2, 3 };
    m.indptr = shifted;
    CHECK_EQ_INT(ials_train(&m, &good, x, y, NULL, NULL), -EINVAL);
    CHECK(x[0] == 123.0f);

    /* The well-formed version trains. */
    m.indptr = indptr;
    CHECK_EQ_INT(ials_train(&m, &good, x, y, NULL, NULL), 0);
    CHECK(isfinite(ials_loss(&m, &good, x, y)));

    /* No items and no regularization: the user system is the zero matrix,
     * which Cholesky must refuse rather than divide by zero. With reg > 0
     * the same problem is fine and the user factor is exactly zero. */
    uint64_t one_empty_row[] = { 0, 0 };
    ials_csr_t empty = { 1, 0, one_empty_row, NULL, NULL };
    p = good; p.reg = 0.0f;
    CHECK_EQ_INT(ials_train(&empty, &p, x, NULL, NULL, NULL), -EDOM);
    CHECK_EQ_INT(ials_train(&empty, &good, x, NULL, NULL, NULL), 0);
    for (uint32_t k = 0; k < good.factors; k++)
        CHECK(x[k] == 0.0f);
done:
    free(x);
    free(y);
}

int main(void)
{
    planted_t pl;
    if (planted_build(&pl) != 0) {
        fprintf(stderr, "could not build the planted matrix\n");
        return 1;
    }
    CHECK_EQ_INT(pl.ui.indptr[N_USERS], (uint64_t)N_USERS * TRAIN_PER_USER);
    for (uint32_t u = 0; u < N_USERS; u++)
        CHECK(!row_has(&pl.ui, u, pl.held_out[u]));

    test_planted_learns_clusters(&pl);
    test_item_rows_solve_normal_equations(&pl);
    test_deterministic(&pl);
    test_loss_matches_definition();
    test_csr_from_triplets();
    test_transpose(&pl);
    test_bad_params(&pl);
    ials_csr_free(&pl.ui);
    TEST_MAIN_END();
}
