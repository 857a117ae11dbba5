/*
 * test_index_flat.c - the compact flat index must return exactly what
 * topk_mips returns (same ids, same scores, same order, ties by lower id) on
 * every kind of data: random reals, small integers full of ties, identical
 * rows, adversarial scales (one huge-norm row, zero rows, subnormal rows,
 * NaN/inf rows), odd dims, deny bitsets, k > n. Every int8 kernel the CPU
 * supports is checked, and the batched search must match the single one.
 */
#include "flat.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

static float rng_gauss(void)
{
    float s = 0.0f;
    for (int i = 0; i < 4; i++)
        s += test_rng_uniform();
    return s;
}

static const flat_kernel_t kernels[] = {
    FLAT_KERNEL_SCALAR, FLAT_KERNEL_AVX2, FLAT_KERNEL_AVX512VNNI,
};

/* Same hits as topk_mips, bit for bit. */
static int same_hits(const topk_hit_t *a, uint32_t na, const topk_hit_t *b,
                     size_t nb)
{
    if (na != nb)
        return 0;
    for (uint32_t r = 0; r < na; r++) {
        if (a[r].id != b[r].id)
            return 0;
        if (memcmp(&a[r].score, &b[r].score, sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

/* Checks one query on one index against topk_mips; returns 1 if equal. */
static int check_query(const flat_index_t *idx, const float *items, uint32_t n,
                       uint32_t dim, const float *q, const uint64_t *deny,
                       uint32_t k)
{
    topk_hit_t *want = malloc(((size_t)k + 1) * sizeof *want);
    topk_hit_t *got = malloc(((size_t)k + 1) * sizeof *got);
    int ok = 0;
    if (want && got) {
        size_t nw = topk_mips(items, n, dim, q, deny, k, want);
        uint32_t ng = 12345;
        int rc = flat_index_search(idx, q, deny, k, got, &ng);
        ok = rc == 0 && same_hits(got, ng, want, nw);
    }
    free(want);
    free(got);
    return ok;
}

/* All kernels, nq queries, with and without a random deny set. */
static void check_data(const char *what, const float *items, uint32_t n,
                       uint32_t dim, const float *queries, uint32_t nq,
                       uint32_t k)
{
    uint64_t *deny = calloc(TOPK_BITSET_WORDS(n) + 1, sizeof *deny);
    if (!deny) {
        CHECK(!"allocation failed");
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        if (test_rng_u32() % 3 == 0)
            topk_bitset_set(deny, i);
    for (size_t kk = 0; kk < sizeof kernels / sizeof kernels[0]; kk++) {
        flat_index_t *idx = NULL;
        int rc = flat_index_build(items, n, dim, kernels[kk], &idx);
        if (rc == -ENOTSUP)
            continue;
        CHECK_EQ_INT(rc, 0);
        if (rc)
            continue;
        int bad = 0;
        for (uint32_t qi = 0; qi < nq; qi++) {
            const float *q = queries + (size_t)qi * dim;
            bad += !check_query(idx, items, n, dim, q, NULL, k);
            bad += !check_query(idx, items, n, dim, q, deny, k);
        }
        if (bad)
            fprintf(stderr, "%s: n=%u dim=%u k=%u kernel=%s: %d mismatches\n",
                    what, n, dim, k, flat_index_kernel_name(idx), bad);
        CHECK_EQ_INT(bad, 0);
        flat_index_free(idx);
    }
    free(deny);
}

static float *alloc_floats(size_t count)
{
    float *p = malloc((count + 1) * sizeof *p);
    if (!p)
        CHECK(!"allocation failed");
    return p;
}

static void test_random_reals(void)
{
    static const uint32_t cases[][3] = {
        /* n, dim, k */
        { 1, 1, 1 },     { 7, 3, 20 },     { 100, 16, 5 },  { 1000, 31, 20 },
        { 2000, 64, 20 }, { 2000, 64, 2500 }, { 3000, 100, 50 }, { 500, 200, 1 },
        { 4096, 64, 1 },  { 777, 33, 776 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint32_t n = cases[c][0], dim = cases[c][1], k = cases[c][2];
        float *items = alloc_floats((size_t)n * dim);
        float *qs = alloc_floats((size_t)8 * dim);
        if (items && qs) {
            for (size_t j = 0; j < (size_t)n * dim; j++)
                items[j] = rng_gauss();
            for (size_t j = 0; j < (size_t)8 * dim; j++)
                qs[j] = rng_gauss();
            check_data("random", items, n, dim, qs, 8, k);
        }
        free(items);
        free(qs);
    }
}

/* Small integers: every score is exact and ties are everywhere. */
static void test_integer_ties(void)
{
    const uint32_t n = 3000, dim = 24;
    float *items = alloc_floats((size_t)n * dim);
    float *qs = alloc_floats((size_t)6 * dim);
    if (items && qs) {
        for (size_t j = 0; j < (size_t)n * dim; j++)
            items[j] = (float)((int)(test_rng_u32() % 5) - 2);
        for (size_t j = 0; j < (size_t)6 * dim; j++)
            qs[j] = (float)((int)(test_rng_u32() % 5) - 2);
        check_data("integer ties", items, n, dim, qs, 6, 40);
    }
    free(items);
    free(qs);
}

/* Every row identical: every row is a candidate (buffer growth path) and the
 * answer is the k lowest allowed ids. */
static void test_identical_rows(void)
{
    const uint32_t n = 5000, dim = 16;
    float *items = alloc_floats((size_t)n * dim);
    float q[16];
    if (items) {
        for (uint32_t d = 0; d < dim; d++)
            q[d] = test_rng_uniform();
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t d = 0; d < dim; d++)
                items[(size_t)i * dim + d] = 0.25f * (float)(d + 1);
        check_data("identical rows", items, n, dim, q, 1, 100);
    }
    free(items);
}

/* One huge-norm row, zero rows, subnormal rows, a row with one huge and many
 * tiny components, NaN and inf rows, mixed with ordinary rows. */
static void test_adversarial_scales(void)
{
    const uint32_t n = 2000, dim = 20;
    float *items = alloc_floats((size_t)n * dim);
    float *qs = alloc_floats((size_t)6 * dim);
    if (!items || !qs)
        goto done;
    for (size_t j = 0; j < (size_t)n * dim; j++)
        items[j] = rng_gauss();
    for (uint32_t i = 0; i < n; i += 10)
        memset(items + (size_t)i * dim, 0, dim * sizeof(float)); /* zero */
    for (uint32_t d = 0; d < dim; d++) {
        items[(size_t)5 * dim + d] = 1e30f * test_rng_uniform();   /* huge */
        items[(size_t)6 * dim + d] = 1e-41f * test_rng_uniform();  /* subnormal */
        items[(size_t)7 * dim + d] = 1e-3f * test_rng_uniform();   /* tiny */
        items[(size_t)8 * dim + d] = 3e38f;                   /* norm overflows */
    }
    items[(size_t)9 * dim + 3] = 1e6f;                        /* one spike */
    items[(size_t)11 * dim + 2] = NAN;
    items[(size_t)13 * dim + 0] = INFINITY;
    items[(size_t)15 * dim + 1] = -INFINITY;
    for (size_t j = 0; j < (size_t)6 * dim; j++)
        qs[j] = rng_gauss();
    qs[(size_t)1 * dim + 4] = 1e7f;   /* spiky query */
    for (uint32_t d = 0; d < dim; d++) {
        qs[(size_t)2 * dim + d] = 0.0f;                  /* zero query */
        qs[(size_t)3 * dim + d] *= 1e-40f;               /* subnormal query */
        qs[(size_t)5 * dim + d] *= 1e36f;                /* overflowing scores */
    }
    qs[(size_t)4 * dim + 7] = NAN;    /* NaN query */
    check_data("adversarial", items, n, dim, qs, 6, 30);
    /* Same rows without the non-finite ones (so scores stay comparable). */
    for (uint32_t d = 0; d < dim; d++) {
        items[(size_t)8 * dim + d] = 0.5f;
        items[(size_t)11 * dim + d] = 0.5f;
        items[(size_t)13 * dim + d] = 0.5f;
        items[(size_t)15 * dim + d] = 0.5f;
    }
    check_data("adversarial finite", items, n, dim, qs, 2, 30);
done:
    free(items);
    free(qs);
}

/* Deny everything but a few: exactly the allowed count comes back. */
static void test_deny_counts(void)
{
    const uint32_t n = 1000, dim = 8;
    float *items = alloc_floats((size_t)n * dim);
    uint64_t deny[TOPK_BITSET_WORDS(1000)];
    float q[8];
    topk_hit_t hits[50];
    flat_index_t *idx = NULL;
    if (!items)
        return;
    for (size_t j = 0; j < (size_t)n * dim; j++)
        items[j] = rng_gauss();
    for (uint32_t d = 0; d < dim; d++)
        q[d] = rng_gauss();
    memset(deny, 0xff, sizeof deny);
    deny[3] &= ~((uint64_t)1 << 5);   /* allow 197 */
    deny[10] &= ~((uint64_t)1 << 0);  /* allow 640 */
    deny[15] &= ~((uint64_t)1 << 39); /* allow 999 */
    CHECK_EQ_INT(flat_index_build(items, n, dim, FLAT_KERNEL_AUTO, &idx), 0);
    if (idx) {
        uint32_t nh = 0;
        CHECK_EQ_INT(flat_index_search(idx, q, deny, 50, hits, &nh), 0);
        CHECK_EQ_INT(nh, 3);
        for (uint32_t r = 0; r < nh; r++)
            CHECK(hits[r].id == 197 || hits[r].id == 640 || hits[r].id == 999);
        memset(deny, 0xff, sizeof deny);
        CHECK_EQ_INT(flat_index_search(idx, q, deny, 50, hits, &nh), 0);
        CHECK_EQ_INT(nh, 0);
    }
    flat_index_free(idx);
    free(items);
}

/* Batched search equals single search for every query, with per-query deny
 * sets, across batch sizes that hit the one-by-one and chunked paths. */
static void test_batch(void)
{
    const uint32_t n = 5000, dim = 32, k = 20, nqmax = 150;
    float *items = alloc_floats((size_t)n * dim);
    float *qs = alloc_floats((size_t)nqmax * dim);
    uint64_t *bits = calloc((size_t)nqmax * TOPK_BITSET_WORDS(n), sizeof *bits);
    const uint64_t **deny = calloc(nqmax, sizeof *deny);
    topk_hit_t *hits = malloc((size_t)nqmax * k * sizeof *hits);
    topk_hit_t single[20];
    uint32_t *nh = calloc(nqmax, sizeof *nh);
    flat_index_t *idx = NULL;
    if (!items || !qs || !bits || !deny || !hits || !nh) {
        CHECK(!"allocation failed");
        goto done;
    }
    for (size_t j = 0; j < (size_t)n * dim; j++)
        items[j] = rng_gauss() * (1.0f + (float)(j / dim % 7));
    for (size_t j = 0; j < (size_t)nqmax * dim; j++)
        qs[j] = rng_gauss();
    for (uint32_t d = 0; d < dim; d++)
        qs[(size_t)4 * dim + d] = 0.0f; /* a zero query inside a batch */
    qs[(size_t)9 * dim + 1] = NAN;      /* and a NaN one */
    for (uint32_t qi = 0; qi < nqmax; qi++) {
        uint64_t *b = bits + (size_t)qi * TOPK_BITSET_WORDS(n);
        for (uint32_t i = 0; i < n; i++)
            if (test_rng_u32() % 4 == 0)
                topk_bitset_set(b, i);
        deny[qi] = qi % 3 == 0 ? NULL : b;
    }
    CHECK_EQ_INT(flat_index_build(items, n, dim, FLAT_KERNEL_AUTO, &idx), 0);
    if (!idx)
        goto done;
    static const uint32_t sizes[] = { 1, 3, 4, 64, 65, 150 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t nq = sizes[s];
        CHECK_EQ_INT(flat_index_search_batch(idx, qs, nq, deny, k, hits, nh), 0);
        int bad = 0;
        for (uint32_t qi = 0; qi < nq; qi++) {
            size_t nw = topk_mips(items, n, dim, qs + (size_t)qi * dim,
                                  deny[qi], k, single);
            bad += !same_hits(hits + (size_t)qi * k, nh[qi], single, nw);
        }
        if (bad)
            fprintf(stderr, "batch nq=%u: %d mismatches\n", nq, bad);
        CHECK_EQ_INT(bad, 0);
    }
    /* No deny array at all. */
    CHECK_EQ_INT(flat_index_search_batch(idx, qs, 10, NULL, k, hits, nh), 0);
    for (uint32_t qi = 0; qi < 10; qi++) {
        size_t nw = topk_mips(items, n, dim, qs + (size_t)qi * dim, NULL, k,
                              single);
        CHECK(same_hits(hits + (size_t)qi * k, nh[qi], single, nw));
    }
done:
    flat_index_free(idx);
    free(items);
    free(qs);
    free(bits);
    free(deny);
    free(hits);
    free(nh);
}

static void test_edge_and_errors(void)
{
    float items[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    float q[3] = { 1, 0, -1 };
    topk_hit_t hits[8];
    uint32_t nh = 99;
    flat_index_t *idx = NULL;

    CHECK_EQ_INT(flat_index_build(items, 4, 0, FLAT_KERNEL_AUTO, &idx),
                 -EINVAL);
    CHECK(idx == NULL);
    CHECK_EQ_INT(flat_index_build(NULL, 4, 3, FLAT_KERNEL_AUTO, &idx),
                 -EINVAL);
    CHECK_EQ_INT(flat_index_build(items, 4, 3, FLAT_KERNEL_AUTO, NULL),
                 -EINVAL);

    /* Empty index. */
    CHECK_EQ_INT(flat_index_build(NULL, 0, 3, FLAT_KERNEL_AUTO, &idx), 0);
    CHECK_EQ_INT(flat_index_search(idx, q, NULL, 5, hits, &nh), 0);
    CHECK_EQ_INT(nh, 0);
    flat_index_free(idx);
    idx = NULL;

    CHECK_EQ_INT(flat_index_build(items, 4, 3, FLAT_KERNEL_AUTO, &idx), 0);
    CHECK_EQ_INT(flat_index_search(idx, q, NULL, 0, hits, &nh), 0);
    CHECK_EQ_INT(nh, 0);
    /* k > n: all four, best first; scores are all -2: ties by lower id. */
    CHECK_EQ_INT(flat_index_search(idx, q, NULL, 8, hits, &nh), 0);
    CHECK_EQ_INT(nh, 4);
    for (uint32_t r = 0; r < nh; r++) {
        CHECK_EQ_INT(hits[r].id, r);
        CHECK(hits[r].score == -2.0f);
    }
    CHECK_EQ_INT(flat_index_search(idx, NULL, NULL, 8, hits, &nh), -EINVAL);
    CHECK_EQ_INT(flat_index_search(idx, q, NULL, 8, hits, NULL), -EINVAL);
    CHECK(flat_index_bytes(idx) > 0);
    flat_index_free(idx);
    flat_index_free(NULL);
}

/* Scores plus a per-row bias: the same answer as scoring every row exactly
 * (topk_dot + beta * bias, then topk_scores), including the popularity-like
 * case that motivated it: a tiny query, a dominant bias with many ties. */
static void test_bias(void)
{
    const uint32_t n = 3000, dim = 64, k = 20;
    float *items = alloc_floats((size_t)n * dim), *bias = alloc_floats(n);
    float *scores = alloc_floats(n), q[64];
    topk_hit_t want[20], got[20];
    uint64_t deny[TOPK_BITSET_WORDS(3000)] = { 0 };
    flat_index_t *idx = NULL;

    for (size_t i = 0; i < (size_t)n * dim; i++)
        items[i] = rng_gauss() * 0.1f;
    for (uint32_t i = 0; i < n; i++)
        bias[i] = i % 3 ? 0.0f : (float)(test_rng_u32() % 100) / 100.0f; /* many ties */
    for (uint32_t i = 0; i < n; i += 7)
        topk_bitset_set(deny, i);
    CHECK_EQ_INT(flat_index_build(items, n, dim, FLAT_KERNEL_AUTO, &idx), 0);
    for (int round = 0; round < 6; round++) {
        float qscale = round < 3 ? 1.0f : 0.01f, beta = round % 3 == 0 ? 0.0f
                                                       : round % 3 == 1 ? 0.3f : 0.9f;
        const uint64_t *dn = round & 1 ? deny : NULL;
        uint32_t ng = 0;
        size_t nw;
        for (uint32_t d = 0; d < dim; d++)
            q[d] = rng_gauss() * qscale;
        for (uint32_t i = 0; i < n; i++)
            scores[i] = topk_dot(items + (size_t)i * dim, q, dim) + beta * bias[i];
        nw = topk_scores(scores, n, dn, k, want);
        CHECK_EQ_INT(flat_index_search_bias(idx, q, bias, beta, dn, k, got, &ng), 0);
        CHECK(same_hits(got, ng, want, nw));
    }
    /* A zero query (the int8 path cannot bound it) is the bias alone. */
    memset(q, 0, sizeof q);
    {
        uint32_t ng = 0;
        size_t nw;
        for (uint32_t i = 0; i < n; i++)
            scores[i] = 0.5f * bias[i];
        nw = topk_scores(scores, n, NULL, k, want);
        CHECK_EQ_INT(flat_index_search_bias(idx, q, bias, 0.5f, NULL, k, got, &ng), 0);
        CHECK(same_hits(got, ng, want, nw));
    }
    flat_index_free(idx);
    free(items);
    free(bias);
    free(scores);
}

int main(void)
{
    test_rng_seed(0x243f6a8885a308d3ull); /* first: every draw of this test stays the same */
    test_bias();
    test_random_reals();
    test_integer_ties();
    test_identical_rows();
    test_adversarial_scales();
    test_deny_counts();
    test_batch();
    test_edge_and_errors();
    TEST_MAIN_END();
}
