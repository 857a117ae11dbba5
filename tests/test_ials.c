/*
 * test_ials.c - the implicit ALS trainer and its CSR helpers.
 *
 * The planted data set has G user groups, each interacting only with its own
 * item cluster; one in-cluster positive per user is held out. A trainer that
 * works must rank the held-out item above most items the user never touched,
 * lower the objective every sweep, and solve each row's normal equations
 * exactly (checked against a double-precision residual). Each of these holds
 * for the HKV objective (alpha0 = 1, nu = 0) and for Rendle et al.'s
 * (alpha0 < 1, frequency-scaled regularization nu > 0) and with eALS's
 * popularity-weighted unobserved pairs (pop_exp > 0); the CG solver must
 * reach the exact solver's loss and recover the held-out items as well.
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

typedef struct planted {
    csr_t ui;
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
            uint32_t s = j + test_rng_u32() % (ITEMS_PER_CLUSTER - j);
            uint32_t t = picks[j];
            picks[j] = picks[s];
            picks[s] = t;
        }
        for (uint32_t j = TRAIN_PER_USER; j-- > 0;) {
            rows[nnz] = u;
            cols[nnz] = picks[j];
            vals[nnz] = (float)(1 + test_rng_u32() % 3);
            nnz++;
        }
        rows[nnz] = u; /* a repeat of the first pick: summed by the builder */
        cols[nnz] = picks[0];
        vals[nnz] = 1.0f;
        nnz++;
        pl->held_out[u] = picks[TRAIN_PER_USER];
    }
    return csr_from_triplets(N_USERS, N_ITEMS, nnz, rows, cols, vals,
                                  &pl->ui);
}

static int row_has(const csr_t *m, uint32_t r, uint32_t c)
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

/* Rendle et al.'s variant: light unobserved weight, frequency-scaled reg. */
static ials_params_t rendle_params(uint32_t threads)
{
    ials_params_t p = small_params(threads);
    p.alpha0 = 0.3f;
    p.nu = 1.0f;
    p.reg = 0.002f;
    return p;
}

/* Rendle's variant with eALS's popularity-weighted unobserved pairs, the
 * exponent strong enough that the weights differ visibly on planted data. */
static ials_params_t eals_params(uint32_t threads)
{
    ials_params_t p = rendle_params(threads);
    p.pop_exp = 1.0f;
    return p;
}

/* alpha0_i = alpha0 N n_i^g / sum_j n_j^g from the definition in ials.h. */
static void unobserved_weights(const csr_t *m, const ials_params_t *p,
                               double *w)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < m->n_cols; i++)
        w[i] = 0.0;
    for (uint64_t e = 0; e < m->indptr[m->n_rows]; e++)
        w[m->indices[e]] += 1.0;
    for (uint32_t i = 0; i < m->n_cols; i++)
        sum += pow(w[i], p->pop_exp);
    for (uint32_t i = 0; i < m->n_cols; i++)
        w[i] = p->pop_exp == 0.0f
                   ? p->alpha0
                   : p->alpha0 * m->n_cols * pow(w[i], p->pop_exp) / sum;
}

static void test_planted_learns_clusters(const planted_t *pl, ials_params_t p)
{
    const uint32_t f = p.factors;
    const int exact = p.solver == IALS_SOLVER_EXACT;
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
    /* Each exact half-sweep minimizes the objective over one side, so the
     * loss can only fall; CG only approximately minimizes, but from a warm
     * start its steps still descend. Both must fall every sweep here. */
    for (uint32_t it = 1; it < tr.calls; it++) {
        int fell = exact ? tr.loss[it] < tr.loss[it - 1]
                         : tr.loss[it] <= tr.loss[it - 1] * (1.0 + 1e-6);
        if (!fell)
            fprintf(stderr, "loss rose at sweep %u: %.9g -> %.9g\n", it + 1,
                    tr.loss[it - 1], tr.loss[it]);
        CHECK(fell);
    }
    /* The callback reports the same objective ials_loss computes. */
    CHECK(tr.loss[tr.calls - 1] == ials_loss(&pl->ui, &p, x, y));

    double auc = held_out_auc(pl, x, y, f);
    printf("planted (%s, alpha0 %g, nu %g, pop_exp %g): auc %.3f -> %.3f, "
           "loss %.1f -> %.1f\n", ials_solver_name(p.solver), p.alpha0, p.nu,
           p.pop_exp, auc_init, auc, loss_init, tr.loss[tr.calls - 1]);
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
 *   (alpha0 X'X + lambda_i I + sum_u (c_ui - alpha0) x_u x_u') y_i
 *       = sum_u c_ui x_u,   c_ui = 1 + alpha r_ui,
 *   lambda_i = reg (n_i + alpha0 n_users)^nu
 * Checked in double; the float solve must agree to a small relative residual.
 */
static void test_item_rows_solve_normal_equations(const planted_t *pl,
                                                  ials_params_t p)
{
    p.iterations = 2;
    const uint32_t f = p.factors;
    float *x = malloc((size_t)N_USERS * f * sizeof *x);
    float *y = malloc((size_t)N_ITEMS * f * sizeof *y);
    csr_t iu = { 0 };
    double *a = malloc((size_t)f * f * sizeof *a);
    double b[64], a0[N_ITEMS];
    unobserved_weights(&pl->ui, &p, a0);
    if (!x || !y || !a || csr_transpose(&pl->ui, &iu) != 0) {
        CHECK(!"setup failed");
        goto done;
    }
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), 0);

    double worst = 0.0;
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        for (uint32_t r = 0; r < f; r++) {
            b[r] = 0.0;
            for (uint32_t c = 0; c < f; c++) {
                double s = 0.0;
                for (uint32_t u = 0; u < N_USERS; u++)
                    s += (double)x[u * f + r] * x[u * f + c];
                a[r * f + c] = a0[i] * s;
            }
        }
        double n_i = (double)(iu.indptr[i + 1] - iu.indptr[i]);
        double lambda = p.reg * pow(n_i + a0[i] * N_USERS, p.nu);
        for (uint32_t r = 0; r < f; r++)
            a[r * f + r] += lambda;
        for (uint64_t e = iu.indptr[i]; e < iu.indptr[i + 1]; e++) {
            const float *xu = x + (size_t)iu.indices[e] * f;
            double c = 1.0 + (double)p.alpha * fabs((double)iu.values[e]);
            double pref = iu.values[e] > 0.0f ? 1.0 : 0.0; /* < 0: negative */
            double w = c - a0[i];
            for (uint32_t r = 0; r < f; r++) {
                b[r] += pref * c * xu[r];
                for (uint32_t c2 = 0; c2 < f; c2++)
                    a[r * f + c2] += w * xu[r] * xu[c2];
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
        double rel = norm > 0 ? sqrt(res / norm) : sqrt(res);
        if (rel > worst)
            worst = rel;
    }
    printf("normal equations (alpha0 %g, nu %g, pop_exp %g): worst relative "
           "residual %.2e\n", p.alpha0, p.nu, p.pop_exp, worst);
    CHECK(worst < 1e-4);
done:
    csr_free(&iu);
    free(a);
    free(x);
    free(y);
}

static void test_deterministic(const planted_t *pl, ials_solver_t solver,
                               float pop_exp)
{
    ials_params_t p = small_params(2);
    p.iterations = 4;
    p.pop_exp = pop_exp;
    p.solver = solver;
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

/* ials_loss against the objective written out over every (u, i) pair:
 * weight c_ui on observed pairs, alpha0_i on the others, and each row's
 * lambda = reg (observed + unobserved weight * other side's size)^nu. */
static void test_loss_matches_definition(float alpha0, float nu, float pop_exp)
{
    uint32_t rows[] = { 0, 0, 1, 2, 2, 2 };
    uint32_t cols[] = { 1, 3, 0, 0, 2, 3 };
    float vals[] = { 1.0f, 2.5f, 4.0f, 0.5f, 1.0f, 3.0f };
    csr_t m = { 0 };
    CHECK_EQ_INT(csr_from_triplets(3, 4, 6, rows, cols, vals, &m), 0);
    m.values[4] = -2.0f; /* (2, 2): negative feedback, preference 0 */
    ials_params_t p = small_params(1);
    p.factors = 3;
    p.alpha = 1.5f;
    p.reg = 0.25f;
    p.alpha0 = alpha0;
    p.nu = nu;
    p.pop_exp = pop_exp;
    double a0[4];
    unobserved_weights(&m, &p, a0);
    float x[3 * 3], y[4 * 3];
    for (int k = 0; k < 9; k++)
        x[k] = (float)((k * 37) % 11) / 7.0f - 0.6f;
    for (int k = 0; k < 12; k++)
        y[k] = (float)((k * 53) % 13) / 9.0f - 0.5f;

    double want = 0.0;
    for (uint32_t u = 0; u < 3; u++)
        for (uint32_t i = 0; i < 4; i++) {
            double pr = dotd(x + u * 3, y + i * 3, 3), c = a0[i], pref = 0.0;
            for (uint64_t e = m.indptr[u]; e < m.indptr[u + 1]; e++)
                if (m.indices[e] == i) {
                    c = 1.0 + p.alpha * fabs((double)m.values[e]);
                    pref = m.values[e] > 0.0f ? 1.0 : 0.0;
                }
            want += c * (pref - pr) * (pref - pr);
        }
    double n_item[4] = { 0 };
    for (uint64_t e = 0; e < m.indptr[3]; e++)
        n_item[m.indices[e]] += 1.0;
    for (uint32_t u = 0; u < 3; u++) {
        double n_u = (double)(m.indptr[u + 1] - m.indptr[u]);
        want += p.reg * pow(n_u + alpha0 * 4.0, nu) *
                dotd(x + u * 3, x + u * 3, 3);
    }
    for (uint32_t i = 0; i < 4; i++)
        want += p.reg * pow(n_item[i] + a0[i] * 3.0, nu) *
                dotd(y + i * 3, y + i * 3, 3);
    double got = ials_loss(&m, &p, x, y);
    CHECK(fabs(got - want) < 1e-7 * fabs(want));
    csr_free(&m);
}

/*
 * Run to convergence, CG's few warm-started steps per row must reach the same
 * objective as solving every row exactly (within 1%), for both objectives.
 */
static void test_cg_matches_exact(const planted_t *pl, ials_params_t p)
{
    const uint32_t f = p.factors;
    float *x = malloc((size_t)N_USERS * f * sizeof *x);
    float *y = malloc((size_t)N_ITEMS * f * sizeof *y);
    if (!x || !y) {
        CHECK(!"allocation failed");
        goto done;
    }
    p.iterations = 150;
    p.solver = IALS_SOLVER_EXACT;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), 0);
    double exact = ials_loss(&pl->ui, &p, x, y);
    p.solver = IALS_SOLVER_CG;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), 0);
    double cg = ials_loss(&pl->ui, &p, x, y);
    printf("converged loss (alpha0 %g, nu %g, pop_exp %g): exact %.4f, cg %.4f "
           "(%+.3f%%)\n", p.alpha0, p.nu, p.pop_exp, exact, cg,
           100.0 * (cg - exact) / exact);
    CHECK(isfinite(cg) && fabs(cg - exact) <= 0.01 * exact);
done:
    free(x);
    free(y);
}

static void test_solver_names(void)
{
    ials_solver_t s = IALS_SOLVER_EXACT;
    CHECK_EQ_INT(ials_solver_parse("cg", &s), 0);
    CHECK_EQ_INT(s, IALS_SOLVER_CG);
    CHECK_EQ_INT(ials_solver_parse("exact", &s), 0);
    CHECK_EQ_INT(s, IALS_SOLVER_EXACT);
    CHECK_EQ_INT(ials_solver_parse("CG", &s), -EINVAL);
    CHECK_EQ_INT(ials_solver_parse("", &s), -EINVAL);
    CHECK_EQ_INT(ials_solver_parse(NULL, &s), -EINVAL);
    CHECK_EQ_INT(s, IALS_SOLVER_EXACT);
    CHECK_STREQ(ials_solver_name(IALS_SOLVER_CG), "cg");
    CHECK_STREQ(ials_solver_name(IALS_SOLVER_EXACT), "exact");
    CHECK(ials_solver_name((ials_solver_t)7) == NULL);

    /* The defaults stay the HKV objective with the exact solver. */
    ials_params_t p;
    ials_params_default(&p);
    CHECK(p.alpha0 == 1.0f && p.nu == 0.0f);
    CHECK_EQ_INT(p.solver, IALS_SOLVER_EXACT);
    CHECK_EQ_INT(p.cg_steps, 3);
}

static void test_csr_from_triplets(void)
{
    /* (0,2) appears three times: 1 + 0.5 + 0.25; (0,1) cancels to 0 and
     * (1,0) is negative: both dropped; row 2 stays empty. */
    uint32_t rows[] = { 1, 0, 0, 0, 0, 1, 0, 3 };
    uint32_t cols[] = { 3, 2, 1, 2, 1, 0, 2, 0 };
    float vals[] = { 7.0f, 1.0f, 2.0f, 0.5f, -2.0f, -1.0f, 0.25f, 9.0f };
    csr_t m = { 0 };
    CHECK_EQ_INT(csr_from_triplets(4, 5, 8, rows, cols, vals, &m), 0);
    CHECK_EQ_INT(m.n_rows, 4);
    CHECK_EQ_INT(m.n_cols, 5);
    uint64_t indptr[] = { 0, 1, 2, 2, 3 };
    uint32_t indices[] = { 2, 3, 0 };
    float values[] = { 1.75f, 7.0f, 9.0f };
    CHECK(memcmp(m.indptr, indptr, sizeof indptr) == 0);
    CHECK(memcmp(m.indices, indices, sizeof indices) == 0);
    CHECK(memcmp(m.values, values, sizeof values) == 0);
    csr_free(&m);
    csr_free(&m); /* idempotent */
    csr_free(NULL);

    /* Empty input is a valid empty matrix. */
    CHECK_EQ_INT(csr_from_triplets(3, 2, 0, NULL, NULL, NULL, &m), 0);
    CHECK_EQ_INT(m.indptr[3], 0);
    csr_free(&m);

    uint32_t r_bad[] = { 4 }, c_ok[] = { 0 }, r_ok[] = { 0 }, c_bad[] = { 5 };
    float v1[] = { 1.0f }, vnan[] = { NAN };
    CHECK_EQ_INT(csr_from_triplets(4, 5, 1, r_bad, c_ok, v1, &m), -EINVAL);
    CHECK_EQ_INT(csr_from_triplets(4, 5, 1, r_ok, c_bad, v1, &m), -EINVAL);
    CHECK_EQ_INT(csr_from_triplets(4, 5, 1, r_ok, c_ok, vnan, &m),
                 -EINVAL);
    CHECK_EQ_INT(csr_from_triplets(4, 5, 1, NULL, c_ok, v1, &m), -EINVAL);
}

static int csr_equal(const csr_t *a, const csr_t *b)
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
    csr_t t = { 0 }, tt = { 0 };
    CHECK_EQ_INT(csr_transpose(&pl->ui, &t), 0);
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
    CHECK_EQ_INT(csr_transpose(&t, &tt), 0);
    CHECK(csr_equal(&tt, &pl->ui));
    csr_free(&t);
    csr_free(&tt);
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
    p = good; p.alpha0 = -0.5f;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    CHECK(isnan(ials_loss(&pl->ui, &p, x, y)));
    p = good; p.alpha0 = NAN;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.nu = -1.0f;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.nu = 5.0f; /* (n + alpha0 N)^5 overflows float lambdas */
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.pop_exp = -0.1f;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    CHECK(isnan(ials_loss(&pl->ui, &p, x, y)));
    p = good; p.pop_exp = NAN;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.pop_exp = 4.5f;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.solver = (ials_solver_t)2;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    p = good; p.solver = IALS_SOLVER_CG; p.cg_steps = 0;
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(NULL, &good, x, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(&pl->ui, NULL, x, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(&pl->ui, &good, NULL, y, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ials_train(&pl->ui, &good, x, NULL, NULL, NULL), -EINVAL);

    /* Malformed matrices: unsorted row, column out of range, a value that is
     * not finite (a negative one is negative feedback, see
     * test_negative_feedback), indptr not starting at 0. None may touch the
     * factors. */
    uint64_t indptr[] = { 0, 2, 3 };
    uint32_t unsorted[] = { 1, 0, 1 }, out_of_range[] = { 0, 1, 9 },
             fine[] = { 0, 1, 1 };
    float vals[] = { 1, 1, 1 }, negative[] = { 1, NAN, 1 };
    csr_t m = { 2, 3, indptr, unsorted, vals };
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
    csr_t empty = { 1, 0, one_empty_row, NULL, NULL };
    p = good; p.reg = 0.0f;
    CHECK_EQ_INT(ials_train(&empty, &p, x, NULL, NULL, NULL), -EDOM);
    CHECK_EQ_INT(ials_train(&empty, &good, x, NULL, NULL, NULL), 0);
    for (uint32_t k = 0; k < good.factors; k++)
        CHECK(x[k] == 0.0f);
done:
    free(x);
    free(y);
}

/* Each value scaled by (column count / mean count)^-beta: popular columns
 * weaken, rare ones strengthen, beta 0 is the identity. */
/* csr_merge_fn: a pair's last value, kept whatever its sign. */
static float last_value(void *ctx, const size_t *pos, size_t n, int *keep)
{
    *keep = 1;
    return ((const float *)ctx)[pos[n - 1]];
}

/* The planted matrix plus, per user, a negative entry (-3) on one in-cluster
 * item it never touched and that is not its held-out item: neg[u]. */
static int planted_negatives(const planted_t *pl, csr_t *out, uint32_t *neg)
{
    enum { CAP = N_USERS * (TRAIN_PER_USER + 2) };
    static uint32_t rows[CAP], cols[CAP];
    static float vals[CAP];
    size_t nnz = 0;
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t g = u / USERS_PER_GROUP;
        for (uint64_t e = pl->ui.indptr[u]; e < pl->ui.indptr[u + 1]; e++) {
            rows[nnz] = u;
            cols[nnz] = pl->ui.indices[e];
            vals[nnz++] = pl->ui.values[e];
        }
        for (uint32_t j = 0; j < ITEMS_PER_CLUSTER; j++) {
            uint32_t i = g * ITEMS_PER_CLUSTER + j;
            if (i != pl->held_out[u] && !row_has(&pl->ui, u, i)) {
                neg[u] = i;
                break;
            }
        }
        rows[nnz] = u;
        cols[nnz] = neg[u];
        vals[nnz++] = -3.0f;
    }
    return csr_from_triplets_merged(N_USERS, N_ITEMS, nnz, rows, cols, vals, last_value,
                                    vals, out);
}

/* Mean over users of x_u.y_neg[u], and of x_u.y_i over the in-cluster items
 * the user never touched (neither held out nor neg[u]). */
static void negative_scores(const planted_t *pl, const uint32_t *neg, const float *x,
                            const float *y, uint32_t f, double *s_neg, double *s_other)
{
    *s_neg = *s_other = 0.0;
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t g = u / USERS_PER_GROUP, n = 0;
        double sum = 0.0;
        *s_neg += dotd(x + (size_t)u * f, y + (size_t)neg[u] * f, f);
        for (uint32_t j = 0; j < ITEMS_PER_CLUSTER; j++) {
            uint32_t i = g * ITEMS_PER_CLUSTER + j;
            if (i == neg[u] || i == pl->held_out[u] || row_has(&pl->ui, u, i))
                continue;
            sum += dotd(x + (size_t)u * f, y + (size_t)i * f, f);
            n++;
        }
        *s_other += n ? sum / n : 0.0;
    }
    *s_neg /= N_USERS;
    *s_other /= N_USERS;
}

/*
 * Negative feedback (a negative entry: preference 0 with confidence
 * 1 + alpha |r|): the trainer pushes those pairs' scores far below what the
 * same kind of item gets when merely unobserved, both solvers; the rows
 * still solve their normal equations exactly; the held-out items are
 * recovered as well as before.
 */
static void test_negative_feedback(const planted_t *pl, ials_params_t p)
{
    const uint32_t f = p.factors;
    uint32_t neg[N_USERS];
    planted_t with = *pl;
    float *x = malloc((size_t)N_USERS * f * sizeof *x);
    float *y = malloc((size_t)N_ITEMS * f * sizeof *y);
    double plain_neg, plain_other, s_neg, s_other, auc;

    if (!x || !y || planted_negatives(pl, &with.ui, neg) != 0) {
        CHECK(!"setup failed");
        goto done;
    }
    CHECK(csr_valid_signed(&with.ui) && !csr_valid(&with.ui));
    CHECK_EQ_INT(with.ui.indptr[N_USERS], pl->ui.indptr[N_USERS] + N_USERS);
    CHECK_EQ_INT(ials_train(&pl->ui, &p, x, y, NULL, NULL), 0);
    negative_scores(pl, neg, x, y, f, &plain_neg, &plain_other);
    CHECK_EQ_INT(ials_train(&with.ui, &p, x, y, NULL, NULL), 0);
    negative_scores(pl, neg, x, y, f, &s_neg, &s_other);
    auc = held_out_auc(pl, x, y, f);
    printf("negative feedback (%s): score of the marked item %.3f (unmarked %.3f), "
           "other untouched in-cluster items %.3f (%.3f); held-out auc %.3f\n",
           ials_solver_name(p.solver), s_neg, plain_neg, s_other, plain_other, auc);
    CHECK(plain_neg > 0.5 * plain_other);   /* unmarked, it looked like the rest */
    CHECK(s_neg < 0.25 * s_other);          /* marked, it is pushed towards 0 */
    CHECK(s_neg < 0.25 * plain_neg);
    CHECK(auc > 0.9);
    CHECK(isfinite(ials_loss(&with.ui, &p, x, y)));
    if (p.solver == IALS_SOLVER_EXACT) /* CG's few steps are not exact */
        test_item_rows_solve_normal_equations(&with, p);
done:
    if (with.ui.indptr != pl->ui.indptr)
        csr_free(&with.ui);
    free(x);
    free(y);
}

static void test_popularity_scale(void)
{
    /* Column counts 3, 1, 0, 2 over 4 columns: mean 1.5. */
    uint32_t rows[] = { 0, 0, 1, 1, 2, 2 };
    uint32_t cols[] = { 0, 1, 0, 3, 0, 3 };
    float vals[] = { 2.0f, 1.0f, 1.0f, 4.0f, 1.0f, 1.0f };
    csr_t m = { 0 };
    CHECK_EQ_INT(csr_from_triplets(3, 4, 6, rows, cols, vals, &m), 0);
    CHECK_EQ_INT(ials_csr_popularity_scale(&m, 0.0f), 0);
    CHECK(m.values[0] == 2.0f && m.values[3] == 4.0f);
    CHECK_EQ_INT(ials_csr_popularity_scale(&m, NAN), -EINVAL);
    CHECK_EQ_INT(ials_csr_popularity_scale(NULL, 1.0f), -EINVAL);
    CHECK(m.values[0] == 2.0f);
    CHECK_EQ_INT(ials_csr_popularity_scale(&m, 1.0f), 0);
    /* row 0: (0: 2), (1: 1); row 1: (0: 1), (3: 4); row 2: (0: 1), (3: 1) */
    CHECK(fabs(m.values[0] - 2.0 * 1.5 / 3.0) < 1e-6);
    CHECK(fabs(m.values[1] - 1.0 * 1.5 / 1.0) < 1e-6);
    CHECK(fabs(m.values[3] - 4.0 * 1.5 / 2.0) < 1e-6);
    CHECK(fabs(m.values[5] - 1.0 * 1.5 / 2.0) < 1e-6);
    csr_free(&m);

    /* A malformed matrix is refused untouched. */
    uint64_t indptr[] = { 0, 2 };
    uint32_t unsorted[] = { 1, 0 };
    float v2[] = { 1.0f, 1.0f };
    csr_t bad = { 1, 2, indptr, unsorted, v2 };
    CHECK_EQ_INT(ials_csr_popularity_scale(&bad, 1.0f), -EINVAL);
    CHECK(v2[0] == 1.0f && v2[1] == 1.0f);
}

int main(void)
{
    test_rng_seed(0x5eed); /* first: every draw of this test stays the same */
    planted_t pl;
    if (planted_build(&pl) != 0) {
        fprintf(stderr, "could not build the planted matrix\n");
        return 1;
    }
    CHECK_EQ_INT(pl.ui.indptr[N_USERS], (uint64_t)N_USERS * TRAIN_PER_USER);
    for (uint32_t u = 0; u < N_USERS; u++)
        CHECK(!row_has(&pl.ui, u, pl.held_out[u]));

    ials_params_t hkv = small_params(2), rendle = rendle_params(2),
                  eals = eals_params(2);
    test_planted_learns_clusters(&pl, hkv);
    test_planted_learns_clusters(&pl, rendle);
    test_planted_learns_clusters(&pl, eals);
    hkv.solver = rendle.solver = eals.solver = IALS_SOLVER_CG;
    test_planted_learns_clusters(&pl, hkv);
    test_planted_learns_clusters(&pl, rendle);
    test_planted_learns_clusters(&pl, eals);
    test_item_rows_solve_normal_equations(&pl, small_params(1));
    test_item_rows_solve_normal_equations(&pl, rendle_params(1));
    test_item_rows_solve_normal_equations(&pl, eals_params(1));
    test_negative_feedback(&pl, small_params(2));
    hkv = small_params(2);
    hkv.solver = IALS_SOLVER_CG;
    test_negative_feedback(&pl, hkv);
    test_cg_matches_exact(&pl, small_params(2));
    test_cg_matches_exact(&pl, rendle_params(2));
    test_cg_matches_exact(&pl, eals_params(2));
    test_deterministic(&pl, IALS_SOLVER_EXACT, 0.0f);
    test_deterministic(&pl, IALS_SOLVER_CG, 0.0f);
    test_deterministic(&pl, IALS_SOLVER_EXACT, 0.5f);
    test_deterministic(&pl, IALS_SOLVER_CG, 0.5f);
    test_loss_matches_definition(1.0f, 0.0f, 0.0f);
    test_loss_matches_definition(0.3f, 1.0f, 0.0f);
    test_loss_matches_definition(2.5f, 0.5f, 0.0f);
    test_loss_matches_definition(0.3f, 1.0f, 0.7f);
    test_loss_matches_definition(1.0f, 0.0f, 2.0f);
    test_popularity_scale();
    test_solver_names();
    test_csr_from_triplets();
    test_transpose(&pl);
    test_bad_params(&pl);
    csr_free(&pl.ui);
    TEST_MAIN_END();
}
