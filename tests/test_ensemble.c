/*
 * test_ensemble.c - a seed ensemble is the mean of its members: its dot
 * products equal the average of separately trained models' scores, and one
 * member is exactly ials_train.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ensemble.h"
#include "ials.h"
#include "testutil.h"

enum { USERS = 40, ITEMS = 30, F = 4 };

/* Two blocks: users in the first half touch items of the first half. */
static void planted(csr_t *m)
{
    uint32_t rows[USERS * 6], cols[USERS * 6];
    float vals[USERS * 6];
    size_t n = 0;
    for (uint32_t u = 0; u < USERS; u++)
        for (uint32_t k = 0; k < 6; k++) {
            rows[n] = u;
            cols[n] = (u < USERS / 2 ? 0 : ITEMS / 2) + (u * 7 + k * 3) % (ITEMS / 2);
            vals[n] = 1.0f;
            n++;
        }
    CHECK_EQ_INT(csr_from_triplets(USERS, ITEMS, n, rows, cols, vals, m), 0);
}

static float dot(const float *a, const float *b, uint32_t n)
{
    float s = 0.0f;
    for (uint32_t j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

int main(void)
{
    csr_t m;
    ials_params_t p;
    static float eu[USERS * 3 * F], ei[ITEMS * 3 * F];
    static float mu[3][USERS * F], mi[3][ITEMS * F];

    planted(&m);
    ials_params_default(&p);
    p.factors = F;
    p.iterations = 5;
    p.seed = 11;
    p.threads = 2;

    /* Three members = the mean of seeds 11, 12, 13. */
    CHECK_EQ_INT(ensemble_train(&m, &p, 3, eu, ei, NULL, NULL), 0);
    for (uint32_t k = 0; k < 3; k++) {
        ials_params_t q = p;
        q.seed = p.seed + k;
        CHECK_EQ_INT(ials_train(&m, &q, mu[k], mi[k], NULL, NULL), 0);
    }
    double worst = 0.0;
    for (uint32_t u = 0; u < USERS; u++)
        for (uint32_t i = 0; i < ITEMS; i++) {
            double mean = 0.0;
            for (uint32_t k = 0; k < 3; k++)
                mean += dot(mu[k] + u * F, mi[k] + i * F, F) / 3.0;
            double got = dot(eu + u * 3 * F, ei + i * 3 * F, 3 * F);
            worst = fmax(worst, fabs(got - mean));
        }
    CHECK(worst < 1e-5);

    /* One member is ials_train itself, bit for bit. */
    CHECK_EQ_INT(ensemble_train(&m, &p, 1, eu, ei, NULL, NULL), 0);
    CHECK(memcmp(eu, mu[0], sizeof mu[0]) == 0);
    CHECK(memcmp(ei, mi[0], sizeof mi[0]) == 0);

    CHECK_EQ_INT(ensemble_train(&m, &p, 0, eu, ei, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(ensemble_train(&m, &p, ENSEMBLE_MAX_MEMBERS + 1, eu, ei,
                                NULL, NULL), -EINVAL);
    p.factors = 0;
    CHECK_EQ_INT(ensemble_train(&m, &p, 2, eu, ei, NULL, NULL), -EINVAL);
    csr_free(&m);
    TEST_MAIN_END();
}
