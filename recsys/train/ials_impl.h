/*
 * ials_impl.h - what ials.c (the sweeps) and ials_loss.c (the objective)
 * share. Private to recsys/train/: not part of the ials.h contract.
 */
#ifndef PATRON_RECSYS_IALS_IMPL_H
#define PATRON_RECSYS_IALS_IMPL_H

#include <stdlib.h>

#include "ials.h"

/* Sanity bounds on parameters: beyond these something is wrong upstream. */
#define IALS_MAX_FACTORS 4096u
#define IALS_MAX_THREADS 256u
#define IALS_MAX_CG_STEPS 1000u
#define IALS_MAX_POP_EXP 4.0f

/* 1 if every parameter is within its documented range. */
int ials_params_valid(const ials_params_t *p);

/* lambda_r = reg (n_r + alpha0 n_other)^nu (Rendle et al. 2022, sec. 3.2). */
double ials_row_lambda(float reg, float nu, float alpha0, uint64_t n_r, uint32_t n_other);

/* alpha0_i = alpha0 N n_i^g / sum_j n_j^g (eALS, eq. 8), so the weights
 * average alpha0; uniform alpha0 if no item has a pair. Caller frees; NULL
 * on -ENOMEM. */
float *ials_item_weights(const csr_t *ui, const ials_params_t *p);

/* The objective of ials.h for valid inputs; NaN on -ENOMEM. */
double ials_loss_unchecked(const csr_t *ui, const ials_params_t *p, const float *user_f,
                           const float *item_f);

/* malloc that never returns NULL for a zero-size request. */
static inline void *ials_xmalloc(size_t n)
{
    return malloc(n ? n : 1);
}

#endif
