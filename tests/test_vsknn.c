/*
 * test_vsknn.c - V-SKNN on three hand-made sessions where every similarity
 * and score is worked out by hand (vsknn.h gives the formulas).
 */
#include <errno.h>
#include <math.h>

#include "testutil.h"
#include "vsknn.h"

#define N_ITEMS 5

/* S0 = {1, 2} at t 1, S1 = {3, 2, 3} (= {2, 3}) at t 2, S2 = {3, 4} at t 3. */
static const uint64_t ptr[] = { 0, 2, 5, 7 };
static const uint32_t items[] = { 1, 2, 3, 2, 3, 3, 4 };
static const int64_t times[] = { 1, 2, 3 };

static void check_scores(const float *got, const float *want)
{
    for (int i = 0; i < N_ITEMS; i++)
        if (fabsf(got[i] - want[i]) > 1e-6f) {
            fprintf(stderr, "item %d: score %.7f, want %.7f\n", i, got[i], want[i]);
            test_failures++;
        }
}

static void score(const vsknn_t *v, uint32_t k, uint32_t sample, const uint32_t *ctx,
                  size_t n, const float *want)
{
    vsknn_params_t p = { k, sample };
    float got[N_ITEMS];
    CHECK_EQ_INT(vsknn_score(v, &p, ctx, n, got), 0);
    check_scores(got, want);
}

int main(void)
{
    vsknn_t v;
    const uint32_t ctx[] = { 2, 3 };
    /* 2 at position 1 of 2 (w 1/2), 3 at 2 (w 1); |s| = 2, every |nb| = 2:
     * sim S0 = 0.5/2, S1 = 1.5/2, S2 = 1/2. */
    const float all3[N_ITEMS] = { 0, 0.25f, 1.0f, 1.25f, 0.5f };
    const float top2[N_ITEMS] = { 0, 0, 0.75f, 1.25f, 0.5f };   /* S1, S2 */
    const float recent1[N_ITEMS] = { 0, 0, 0, 0.5f, 0.5f };     /* S2 only */
    /* 3 2 3: 3's latest position is 3 of 3 (w 1), 2's is 2 (w 2/3):
     * sim S0 = (2/3)/2, S1 = (5/3)/2, S2 = 1/2. */
    const uint32_t rep[] = { 3, 2, 3 };
    const float rep3[N_ITEMS] = { 0, 1.0f / 3, 1.0f / 3 + 5.0f / 6, 5.0f / 6 + 0.5f, 0.5f };
    /* Unknown items (>= N_ITEMS) are left out, weights still by position:
     * 2 at 1 of 3 (w 1/3) alone, |s| = 1: sim S0 = S1 = (1/3)/sqrt(2). */
    const uint32_t unknown[] = { 2, 99, 77 };
    float s = (1.0f / 3) / sqrtf(2.0f);
    const float unk[N_ITEMS] = { 0, s, 2 * s, s, 0 };
    const uint32_t bad_items[] = { 1, 5 };
    const uint64_t bad_ptr[] = { 0, 2 };
    float out[N_ITEMS];
    vsknn_params_t zero = { 0, 10 };

    CHECK_EQ_INT(vsknn_build(N_ITEMS, 3, ptr, items, times, &v), 0);
    score(&v, 3, 500, ctx, 2, all3);
    score(&v, 2, 500, ctx, 2, top2);
    score(&v, 3, 1, ctx, 2, recent1);
    score(&v, 3, 500, rep, 3, rep3);
    score(&v, 3, 500, unknown, 3, unk);
    {
        const float none[N_ITEMS] = { 0 };
        const uint32_t lonely[] = { 0 }; /* in no past session */
        score(&v, 3, 500, lonely, 1, none);
        score(&v, 3, 500, NULL, 0, none);
    }
    CHECK_EQ_INT(vsknn_score(&v, &zero, ctx, 2, out), -EINVAL);
    vsknn_free(&v);
    vsknn_free(&v); /* idempotent */
    CHECK_EQ_INT(vsknn_build(N_ITEMS, 1, bad_ptr, bad_items, times, &v), -EINVAL);
    return test_failures ? 1 : 0;
}
