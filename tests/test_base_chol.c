/*
 * test_base_chol.c - the small dense SPD solve (base/chol.h): a known
 * system, a random well-conditioned one checked by its residual, and the
 * refusal of matrices that are not positive definite.
 */
#include "testutil.h"

#include <errno.h>
#include <math.h>

#include "chol.h"
#include "rng.h"

static void test_known_system(void)
{
    /* A = [[4,2,2],[2,5,3],[2,3,6]], x = [1,-2,3] -> b = A x */
    double a[9] = { 4, 2, 2, 2, 5, 3, 2, 3, 6 };
    double b[3] = { 4 - 4 + 6, 2 - 10 + 9, 2 - 6 + 18 };
    CHECK_EQ_INT(chol_solve(a, b, 3), 0);
    CHECK(fabs(b[0] - 1) < 1e-12 && fabs(b[1] + 2) < 1e-12 && fabs(b[2] - 3) < 1e-12);
    /* a now holds L: L[0][0] = 2, L[1][0] = 1, L[1][1] = 2 */
    CHECK(fabs(a[0] - 2) < 1e-12 && fabs(a[3] - 1) < 1e-12 && fabs(a[4] - 2) < 1e-12);
}

/* A = M M' + I for a pseudo-random M: SPD; the residual of the solution is
 * at rounding level. */
static void test_random_residual(void)
{
    enum { D = 12 };
    double m[D * D], a[D * D], a0[D * D], b[D], b0[D];
    uint64_t s = 7;
    for (int i = 0; i < D * D; i++)
        m[i] = splitmix64_unit(&s) - 0.5;
    for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
            double t = i == j ? 1.0 : 0.0;
            for (int k = 0; k < D; k++)
                t += m[i * D + k] * m[j * D + k];
            a[i * D + j] = a0[i * D + j] = t;
        }
        b[i] = b0[i] = (double)(i + 1);
    }
    CHECK_EQ_INT(chol_solve(a, b, D), 0);
    double worst = 0;
    for (int i = 0; i < D; i++) {
        double r = -b0[i];
        for (int j = 0; j < D; j++)
            r += a0[i * D + j] * b[j];
        worst = fabs(r) > worst ? fabs(r) : worst;
    }
    CHECK(worst < 1e-10);
}

static void test_not_positive_definite(void)
{
    double sing[4] = { 1, 1, 1, 1 }, b[2] = { 1, 1 };
    CHECK_EQ_INT(chol_solve(sing, b, 2), -EDOM);
    double indef[4] = { 1, 2, 2, 1 }, c[2] = { 1, 1 };
    CHECK_EQ_INT(chol_solve(indef, c, 2), -EDOM);
    double nan_a[1] = { NAN }, d[1] = { 1 };
    CHECK_EQ_INT(chol_solve(nan_a, d, 1), -EDOM);
    CHECK_EQ_INT(chol_solve(NULL, NULL, 0), 0);
}

int main(void)
{
    test_known_system();
    test_random_residual();
    test_not_positive_definite();
    return test_failures ? 1 : 0;
}
