/*
 * test_ease.c - EASE (Steck, WWW 2019) as ease.h promises it: the closed form
 * B = I - P diag(1/diag P), P = (X'X + lambda I)^-1, checked against a direct
 * double-precision inverse; a zero diagonal; neighbours that follow the
 * data's structure; scores x_u B; the blend's standardization; bad input.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ease.h"
#include "ials.h"
#include "testutil.h"

static void build(uint32_t rows, uint32_t cols, size_t n, const uint32_t *r,
                  const uint32_t *c, csr_t *m)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t k = 0; k < n; k++)
        v[k] = 1.0f;
    CHECK_EQ_INT(csr_from_triplets(rows, cols, n, r, c, v, m), 0);
    free(v);
}

/* Inverts the n x n matrix a (n <= 8) by Gauss-Jordan with partial pivoting. */
static void invert(double *a, int n, double *inv)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            inv[i * n + j] = i == j;
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[p * n + c]))
                p = r;
        for (int j = 0; j < n; j++) {
            double t = a[c * n + j]; a[c * n + j] = a[p * n + j]; a[p * n + j] = t;
            t = inv[c * n + j]; inv[c * n + j] = inv[p * n + j]; inv[p * n + j] = t;
        }
        double d = a[c * n + c];
        for (int j = 0; j < n; j++) {
            a[c * n + j] /= d;
            inv[c * n + j] /= d;
        }
        for (int r = 0; r < n; r++) {
            double f = a[r * n + c];
            if (r == c || f == 0.0)
                continue;
            for (int j = 0; j < n; j++) {
                a[r * n + j] -= f * a[c * n + j];
                inv[r * n + j] -= f * inv[c * n + j];
            }
        }
    }
}

/* 4 users x 3 items, lambda 1: B against the formula computed directly. */
static void test_closed_form(void)
{
    static const uint32_t r[] = { 0, 0, 1, 1, 2, 2, 2, 3 };
    static const uint32_t c[] = { 0, 1, 1, 2, 0, 1, 2, 2 };
    csr_t m;
    float B[9];
    double g[9] = { 0 }, p[9];

    build(4, 3, 8, r, c, &m);
    for (int k = 0; k < 8; k++) /* G = X'X, users' pairs */
        for (int l = 0; l < 8; l++)
            if (r[k] == r[l])
                g[c[k] * 3 + c[l]] += 1.0;
    /* By hand: G = [[2,2,1],[2,3,2],[1,2,3]]. */
    CHECK(g[0] == 2 && g[1] == 2 && g[2] == 1 && g[4] == 3 && g[5] == 2 && g[8] == 3);
    for (int i = 0; i < 3; i++)
        g[i * 3 + i] += 1.0;
    invert(g, 3, p);
    CHECK_EQ_INT(ease_fit(&m, 1.0f, B), 0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double want = i == j ? 0.0 : -p[i * 3 + j] / p[j * 3 + j];
            CHECK(fabs(B[i * 3 + j] - want) < 1e-5);
        }

    /* Scores are x_u B: user 2 holds every item, user 3 only item 2. */
    uint32_t items[3] = { 2, 0, 1 };
    float s[3];
    ease_score(&m, B, 2, items, 3, s);
    for (int j = 0; j < 3; j++) {
        float want = B[0 * 3 + items[j]] + B[1 * 3 + items[j]] + B[2 * 3 + items[j]];
        CHECK(fabs(s[j] - want) < 1e-6);
    }
    ease_score(&m, B, 3, items, 3, s);
    CHECK(s[0] == 0.0f); /* an item never scores itself */
    CHECK(s[1] == B[2 * 3 + 0] && s[2] == B[2 * 3 + 1]);
    csr_free(&m);
}

/*
 * Items on two rings of 6: user u of ring k holds items {k6 + u, k6 + u + 1
 * mod 6}. Every item looks the same, so B is zero on the diagonal, zero
 * between rings (no co-occurrence: G and P are block diagonal), and each
 * item's strongest neighbours are its two ring neighbours, equally strong.
 */
static void test_ring_neighbours(void)
{
    enum { RING = 6, N = 2 * RING };
    uint32_t r[2 * N], c[2 * N];
    csr_t m;
    float *B = malloc(N * N * sizeof *B);
    size_t n = 0;

    for (uint32_t k = 0; k < 2; k++)
        for (uint32_t u = 0; u < RING; u++) {
            r[n] = k * RING + u; c[n++] = k * RING + u;
            r[n] = k * RING + u; c[n++] = k * RING + (u + 1) % RING;
        }
    build(N, N, n, r, c, &m);
    CHECK_EQ_INT(ease_fit(&m, 0.5f, B), 0);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t base = i / RING * RING, at = i % RING;
        uint32_t next = base + (at + 1) % RING, prev = base + (at + RING - 1) % RING;
        const float *row = B + (size_t)i * N;
        CHECK(row[i] == 0.0f);
        CHECK(row[next] > 0.0f);
        CHECK(fabsf(row[next] - row[prev]) < 1e-5f);
        for (uint32_t j = 0; j < N; j++) {
            if (j / RING != i / RING)
                CHECK(fabsf(row[j]) < 1e-6f);
            else if (j != next && j != prev)
                CHECK(row[j] < row[next]);
        }
        /* Same-shaped items: equal rows up to rotation. */
        CHECK(fabsf(row[next] - B[next * N + base + (next - base + 1) % RING]) < 1e-5f);
    }
    free(B);
    csr_free(&m);
}

/* The blend standardizes each side over the candidates: w = 1 and w = 0
 * give the z-scores of one model, w = 0.5 their mean. */
static void test_blend(void)
{
    static const uint32_t r[] = { 0, 0, 1, 1, 2, 2, 2, 3 };
    static const uint32_t c[] = { 0, 1, 1, 2, 0, 1, 2, 2 };
    static const float uf[4 * 2] = { 1, 0, 0, 1, 1, 1, 2, -1 };
    static const float itf[3 * 2] = { 3, 0, 1, 1, 0, 2 };
    uint32_t items[3] = { 0, 1, 2 };
    float B[9], f1[3], f0[3], half[3], e[3];
    csr_t m;

    build(4, 3, 8, r, c, &m);
    CHECK_EQ_INT(ease_fit(&m, 2.0f, B), 0);
    ease_blend_t b = { &m, B, uf, itf, 2, 1.0f };
    ease_score_blend(&b, 3, items, 3, f1); /* user 3: x = (2,-1): 6, 1, -2 */
    double mean = 5.0 / 3.0, sd = sqrt(((6 - mean) * (6 - mean) + (1 - mean) * (1 - mean) +
                                        (-2 - mean) * (-2 - mean)) / 3.0);
    CHECK(fabs(f1[0] - (6 - mean) / sd) < 1e-5);
    CHECK(fabs(f1[2] - (-2 - mean) / sd) < 1e-5);
    b.w = 0.0f;
    ease_score_blend(&b, 3, items, 3, f0);
    ease_score(&m, B, 3, items, 3, e);
    mean = (e[0] + e[1] + e[2]) / 3.0;
    sd = sqrt(((e[0] - mean) * (e[0] - mean) + (e[1] - mean) * (e[1] - mean) +
               (e[2] - mean) * (e[2] - mean)) / 3.0);
    CHECK(sd > 0);
    for (int j = 0; j < 3; j++)
        CHECK(fabs(f0[j] - (e[j] - mean) / sd) < 1e-5);
    b.w = 0.5f;
    ease_score_blend(&b, 3, items, 3, half);
    for (int j = 0; j < 3; j++)
        CHECK(fabsf(half[j] - 0.5f * (f0[j] + f1[j])) < 1e-5f);

    /* A user with no history: EASE scores are all 0, its side adds 0. */
    static const uint32_t r2[] = { 0 }, c2[] = { 1 };
    csr_t one;
    float B1[9];
    build(4, 3, 1, r2, c2, &one);
    CHECK_EQ_INT(ease_fit(&one, 1.0f, B1), 0);
    ease_blend_t b1 = { &one, B1, uf, itf, 2, 0.0f };
    ease_score_blend(&b1, 2, items, 3, e);
    CHECK(e[0] == 0.0f && e[1] == 0.0f && e[2] == 0.0f);
    csr_free(&one);
    csr_free(&m);
}

static void test_bad_input(void)
{
    static const uint32_t r[] = { 0, 0 }, c[] = { 0, 1 };
    csr_t m, empty = { 0 };
    float B[4];

    build(1, 2, 2, r, c, &m);
    CHECK_EQ_INT(ease_fit(&m, 0.0f, B), -EINVAL);
    CHECK_EQ_INT(ease_fit(&m, -1.0f, B), -EINVAL);
    CHECK_EQ_INT(ease_fit(&m, NAN, B), -EINVAL);
    CHECK_EQ_INT(ease_fit(&m, INFINITY, B), -EINVAL);
    CHECK_EQ_INT(ease_fit(&m, 1.0f, NULL), -EINVAL);
    CHECK_EQ_INT(ease_fit(NULL, 1.0f, B), -EINVAL);
    CHECK_EQ_INT(ease_fit(&empty, 1.0f, B), -EINVAL);
    m.indices[1] = 0; /* unsorted / duplicate columns */
    CHECK_EQ_INT(ease_fit(&m, 1.0f, B), -EINVAL);
    m.indices[1] = 2; /* out of range */
    CHECK_EQ_INT(ease_fit(&m, 1.0f, B), -EINVAL);
    m.indices[1] = 1;
    CHECK_EQ_INT(ease_fit(&m, 1.0f, B), 0);
    /* X = [1 1], lambda 1: P = [[2,1],[1,2]]^-1, B_01 = -P_01 / P_11 = 1/2. */
    CHECK(fabsf(B[1] - 0.5f) < 1e-6f && fabsf(B[2] - 0.5f) < 1e-6f);
    CHECK(B[0] == 0.0f && B[3] == 0.0f);
    csr_free(&m);
}

int main(void)
{
    test_closed_form();
    test_ring_neighbours();
    test_blend();
    test_bad_input();
    TEST_MAIN_END();
}
