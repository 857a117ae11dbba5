/*
 * chol.h - the small dense symmetric positive definite solve: Cholesky
 * A = L L' and two triangular substitutions, in double, for systems of a
 * few dozen unknowns (the Newton steps of the uplift model's logistic
 * regressions). The per-row f x f systems of iALS use their own blocked,
 * vectorized float kernel (ials.c) and serving's fold-in uses LAPACK
 * (foldin.c): those are sized and tuned for their hot loops.
 */
#ifndef PATRON_BASE_CHOL_H
#define PATRON_BASE_CHOL_H

#include <stddef.h>

/* Solves a x = b for SPD a (d x d, row-major; only its lower triangle is
 * read, and it is overwritten by L). b becomes x. Returns 0, or -EDOM if a
 * pivot is not positive (a not numerically positive definite; b is then
 * unspecified). */
int chol_solve(double *a, double *b, size_t d);

#endif
