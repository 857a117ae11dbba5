/*
 * test_topk.c - topk_mips and topk_scores against a brute-force full sort.
 *
 * Two kinds of data: small integers, where every float dot product is exact
 * and ties are everywhere, so the result must match the reference exactly
 * (ids and scores, ties by lower id); and uniform reals, where scores may
 * differ from a double-precision reference by rounding, so ranks are compared
 * with a tolerance.
 */
#include "topk.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>

typedef struct ref {
    uint32_t id;
    double score;
} ref_t;

static float rng_small_int(void)
{
    return (float)((int)(test_rng_u32() % 9) - 4);
}

static int ref_cmp(const void *pa, const void *pb)
{
    const ref_t *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Every allowed item scored in double, sorted best first; returns count. */
static uint32_t brute_force(const float *items, uint32_t n, uint32_t dim,
                            const float *q, const uint64_t *deny, ref_t *ref)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (deny && topk_bitset_test(deny, i))
            continue;
        double s = 0.0;
        for (uint32_t d = 0; d < dim; d++)
            s += (double)items[(size_t)i * dim + d] * q[d];
        ref[m].id = i;
        ref[m].score = s;
        m++;
    }
    qsort(ref, m, sizeof *ref, ref_cmp);
    return m;
}

/* Integer data: exact agreement required, ids and scores, rank by rank. */
static void check_exact(uint32_t n, uint32_t dim, uint32_t k, int with_deny)
{
    float *items = malloc(((size_t)n * dim + 1) * sizeof *items);
    float *q = malloc(((size_t)dim + 1) * sizeof *q);
    uint64_t *deny = calloc(TOPK_BITSET_WORDS(n) + 1, sizeof *deny);
    ref_t *ref = malloc(((size_t)n + 1) * sizeof *ref);
    topk_hit_t *out = malloc(((size_t)k + 1) * sizeof *out);
    if (!items || !q || !deny || !ref || !out) {
        CHECK(!"allocation failed");
        goto done;
    }
    for (size_t j = 0; j < (size_t)n * dim; j++)
        items[j] = rng_small_int();
    for (uint32_t d = 0; d < dim; d++)
        q[d] = rng_small_int();
    uint32_t denied = 0;
    if (with_deny)
        for (uint32_t i = 0; i < n; i++)
            if (test_rng_u32() % 2) {
                topk_bitset_set(deny, i);
                denied++;
            }

    uint32_t m = brute_force(items, n, dim, q, with_deny ? deny : NULL, ref);
    CHECK_EQ_INT(m, n - denied);
    size_t got = topk_mips(items, n, dim, q, with_deny ? deny : NULL, k, out);
    CHECK_EQ_INT(got, k < m ? k : m);
    for (size_t r = 0; r < got; r++) {
        if (out[r].id != ref[r].id || (double)out[r].score != ref[r].score) {
            fprintf(stderr, "n=%u dim=%u k=%u deny=%d rank %zu: got (%u, %g) "
                    "want (%u, %g)\n", n, dim, k, with_deny, r, out[r].id,
                    (double)out[r].score, ref[r].id, ref[r].score);
            CHECK(!"exact top-k mismatch");
            break;
        }
    }
done:
    free(items);
    free(q);
    free(deny);
    free(ref);
    free(out);
}

/* Real data: the returned scores are the float dot products (close to the
 * double reference), the k-th score bounds everything left out, the order is
 * non-increasing with ties by id, and no id repeats. */
static void check_real(uint32_t n, uint32_t dim, uint32_t k)
{
    float *items = malloc(((size_t)n * dim + 1) * sizeof *items);
    float *q = malloc(((size_t)dim + 1) * sizeof *q);
    ref_t *ref = malloc(((size_t)n + 1) * sizeof *ref);
    topk_hit_t *out = malloc(((size_t)k + 1) * sizeof *out);
    uint8_t *seen = calloc((size_t)n + 1, 1);
    if (!items || !q || !ref || !out || !seen) {
        CHECK(!"allocation failed");
        goto done;
    }
    for (size_t j = 0; j < (size_t)n * dim; j++)
        items[j] = test_rng_uniform();
    for (uint32_t d = 0; d < dim; d++)
        q[d] = test_rng_uniform();
    uint32_t m = brute_force(items, n, dim, q, NULL, ref);
    size_t got = topk_mips(items, n, dim, q, NULL, k, out);
    CHECK_EQ_INT(got, k < m ? k : m);

    double tol = 1e-5 * dim;
    int bad = 0;
    for (size_t r = 0; r < got && !bad; r++) {
        uint32_t id = out[r].id;
        double exact = 0.0;
        for (uint32_t d = 0; d < dim; d++)
            exact += (double)items[(size_t)id * dim + d] * q[d];
        bad |= id >= n || seen[id];
        seen[id < n ? id : 0] = 1;
        bad |= fabs(out[r].score - exact) > tol;
        bad |= fabs(out[r].score - ref[r].score) > tol;
        if (r > 0)
            bad |= out[r].score > out[r - 1].score ||
                   (out[r].score == out[r - 1].score && id < out[r - 1].id);
    }
    if (got > 0 && !bad)
        for (uint32_t r = 0; r < m; r++)
            if (!seen[ref[r].id])
                bad |= ref[r].score > out[got - 1].score + tol;
    if (bad)
        fprintf(stderr, "real data n=%u dim=%u k=%u\n", n, dim, k);
    CHECK(!bad);
done:
    free(items);
    free(q);
    free(ref);
    free(out);
    free(seen);
}

static void test_random_against_brute_force(void)
{
    static const uint32_t cases[][3] = {
        /* n, dim, k */
        { 1, 1, 1 },      { 10, 3, 20 },    { 255, 7, 255 },  { 256, 8, 300 },
        { 257, 9, 10 },   { 1000, 17, 10 }, { 1000, 64, 100 },
        { 4099, 33, 1 },  { 5000, 5, 64 },  { 3000, 128, 500 },
        { 2000, 2, 2000 }, { 700, 32, 50 },   { 300, 256, 20 },
        { 500, 16, 7 },   { 999, 48, 30 },  { 400, 96, 400 }, { 333, 192, 9 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        check_exact(cases[c][0], cases[c][1], cases[c][2], 0);
        check_exact(cases[c][0], cases[c][1], cases[c][2], 1);
        check_real(cases[c][0], cases[c][1], cases[c][2]);
    }
}

static void test_empty_cases(void)
{
    float items[4 * 2] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    float q[2] = { 1, 1 };
    topk_hit_t out[4];
    topk_hit_t sentinel = { 777, 7.0f };
    for (int i = 0; i < 4; i++)
        out[i] = sentinel;

    CHECK_EQ_INT(topk_mips(items, 4, 2, q, NULL, 0, out), 0);
    CHECK_EQ_INT(topk_mips(items, 0, 2, q, NULL, 3, out), 0);
    CHECK_EQ_INT(topk_scores(items, 0, NULL, 3, out), 0);
    CHECK_EQ_INT(topk_scores(items, 4, NULL, 0, out), 0);
    CHECK_EQ_INT(out[0].id, 777); /* nothing written */

    uint64_t all[1] = { 0xf };
    CHECK_EQ_INT(topk_mips(items, 4, 2, q, all, 4, out), 0);
    CHECK_EQ_INT(topk_scores(items, 4, all, 4, out), 0);

    /* Bits beyond n in the last word do not count as denials. */
    uint64_t beyond[1] = { ~(uint64_t)0 << 4 | 0x1 };
    CHECK_EQ_INT(topk_mips(items, 4, 2, q, beyond, 4, out), 3);
    CHECK_EQ_INT(out[0].id, 3);
    CHECK_EQ_INT(out[2].id, 1);

    /* dim 0: every score is 0, so ids come back in order. */
    CHECK_EQ_INT(topk_mips(items, 4, 0, q, NULL, 3, out), 3);
    CHECK_EQ_INT(out[0].id, 0);
    CHECK_EQ_INT(out[2].id, 2);
    CHECK(out[0].score == 0.0f);
}

/* Denials cut the result to exactly min(k, allowed), never below. */
static void test_deny_exact_count(void)
{
    enum { N = 1000, DIM = 16 };
    static float items[N * DIM];
    float q[DIM];
    uint64_t deny[TOPK_BITSET_WORDS(N)];
    topk_hit_t out[50];

    for (size_t j = 0; j < N * DIM; j++)
        items[j] = test_rng_uniform();
    for (int d = 0; d < DIM; d++)
        q[d] = test_rng_uniform();
    /* Deny the 40 best items and all but 7 of the rest. */
    topk_hit_t best[40];
    CHECK_EQ_INT(topk_mips(items, N, DIM, q, NULL, 40, best), 40);
    memset(deny, 0xff, sizeof deny);
    uint32_t allowed[7] = { 0, 1, 500, 998, 999, 63, 64 };
    for (int a = 0; a < 7; a++)
        deny[allowed[a] >> 6] &= ~((uint64_t)1 << (allowed[a] & 63));
    for (int b = 0; b < 40; b++)
        topk_bitset_set(deny, best[b].id);
    uint32_t left = 0;
    for (uint32_t i = 0; i < N; i++)
        left += !topk_bitset_test(deny, i);

    size_t got = topk_mips(items, N, DIM, q, deny, 50, out);
    CHECK_EQ_INT(got, left);
    for (size_t r = 0; r < got; r++)
        CHECK(!topk_bitset_test(deny, out[r].id));
    got = topk_mips(items, N, DIM, q, deny, 3, out);
    CHECK_EQ_INT(got, 3);
}

/* Equal scores come back by ascending id however they are laid out. */
static void test_ties(void)
{
    enum { N = 600, DIM = 4 };
    static float items[N * DIM];
    float q[DIM] = { 1, 0, 0, 0 };
    topk_hit_t out[N];

    /* Three score levels interleaved: 2 at i%3==2, 1 at i%3==1, 0 else. */
    for (uint32_t i = 0; i < N; i++)
        items[i * DIM] = (float)(i % 3);
    size_t got = topk_mips(items, N, DIM, q, NULL, N, out);
    CHECK_EQ_INT(got, N);
    int ok = 1;
    for (uint32_t r = 0; r < N; r++) {
        uint32_t level = 2 - r / (N / 3), pos = r % (N / 3);
        ok &= out[r].id == level + 3 * pos;
        ok &= out[r].score == (float)level;
    }
    CHECK(ok);

    /* k cuts through a tie: the lowest ids of the tied level win. */
    got = topk_mips(items, N, DIM, q, NULL, 205, out);
    CHECK_EQ_INT(got, 205);
    CHECK_EQ_INT(out[199].id, 599);
    CHECK_EQ_INT(out[200].id, 1);
    CHECK_EQ_INT(out[204].id, 13);

    /* Same for topk_scores, and deterministic across repeated calls. */
    static float scores[N];
    for (uint32_t i = 0; i < N; i++)
        scores[i] = (float)((i * 7) % 5);
    topk_hit_t again[N];
    CHECK_EQ_INT(topk_scores(scores, N, NULL, 250, out), 250);
    CHECK_EQ_INT(topk_scores(scores, N, NULL, 250, again), 250);
    CHECK(memcmp(out, again, 250 * sizeof *out) == 0);
    for (uint32_t r = 1; r < 250; r++)
        CHECK(out[r - 1].score > out[r].score ||
              (out[r - 1].score == out[r].score && out[r - 1].id < out[r].id));
    CHECK(out[0].score == 4.0f && out[0].id == 2); /* 2*7 % 5 == 4 */
}

static void test_scores_against_brute_force(void)
{
    enum { N = 3001 };
    static float scores[N];
    static ref_t ref[N];
    static topk_hit_t out[N];
    uint64_t deny[TOPK_BITSET_WORDS(N)] = { 0 };

    for (uint32_t i = 0; i < N; i++)
        scores[i] = (float)(test_rng_u32() % 200) - 100.0f; /* many ties */
    for (uint32_t i = 0; i < N; i += 3)
        topk_bitset_set(deny, i);
    uint32_t m = 0;
    for (uint32_t i = 0; i < N; i++)
        if (!topk_bitset_test(deny, i))
            ref[m++] = (ref_t){ i, scores[i] };
    qsort(ref, m, sizeof *ref, ref_cmp);

    static const uint32_t ks[] = { 1, 10, 777, 2000, 5000 };
    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
        size_t got = topk_scores(scores, N, deny, ks[c], out);
        CHECK_EQ_INT(got, ks[c] < m ? ks[c] : m);
        int ok = 1;
        for (size_t r = 0; r < got; r++)
            ok &= out[r].id == ref[r].id && out[r].score == ref[r].score;
        CHECK(ok);
    }
}

/* NaN never outranks a number; NaNs among themselves go by id. */
static void test_nan_scores_rank_last(void)
{
    float scores[5] = { NAN, 1.0f, NAN, -INFINITY, 0.5f };
    topk_hit_t out[5];
    CHECK_EQ_INT(topk_scores(scores, 5, NULL, 5, out), 5);
    CHECK_EQ_INT(out[0].id, 1);
    CHECK_EQ_INT(out[1].id, 4);
    CHECK_EQ_INT(out[2].id, 0);
    CHECK_EQ_INT(out[3].id, 2);
    CHECK_EQ_INT(out[4].id, 3);
    CHECK_EQ_INT(topk_scores(scores, 5, NULL, 2, out), 2);
    CHECK_EQ_INT(out[0].id, 1);
    CHECK_EQ_INT(out[1].id, 4);
}

int main(void)
{
    test_rng_seed(12345); /* first: every draw of this test stays the same */
    test_random_against_brute_force();
    test_empty_cases();
    test_deny_exact_count();
    test_ties();
    test_scores_against_brute_force();
    test_nan_scores_rank_last();
    TEST_MAIN_END();
}
