/*
 * chol.c - small dense SPD solves by Cholesky factorization (contract in
 * chol.h).
 */
#include "chol.h"

#include <errno.h>
#include <math.h>

int chol_solve(double *a, double *b, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (size_t k = 0; k < j; k++)
            s -= a[j * d + k] * a[j * d + k];
        if (!(s > 0.0))
            return -EDOM;
        double l = sqrt(s);
        a[j * d + j] = l;
        for (size_t i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (size_t k = 0; k < j; k++)
                t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / l;
        }
    }
    for (size_t i = 0; i < d; i++) {       /* L y = b */
        double t = b[i];
        for (size_t k = 0; k < i; k++)
            t -= a[i * d + k] * b[k];
        b[i] = t / a[i * d + i];
    }
    for (size_t i = d; i-- > 0;) {         /* L^T x = y */
        double t = b[i];
        for (size_t k = i + 1; k < d; k++)
            t -= a[k * d + i] * b[k];
        b[i] = t / a[i * d + i];
    }
    return 0;
}
