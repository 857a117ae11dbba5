/*
 * ensemble.c - seed ensembles of implicit ALS models (see ensemble.h).
 *
 * Members are trained one after another, each with all of p->threads: the
 * trainer already keeps every core busy, and one member at a time needs one
 * member's scratch memory.
 */
#include "ensemble.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Copies member k's rows (n x f) into columns [k f, (k+1) f) of the
 * combined n x (members f) matrix, scaled by s. */
static void place_member(const float *src, uint32_t n, uint32_t f,
                         uint32_t members, uint32_t k, float s, float *dst)
{
    const size_t width = (size_t)members * f;
    for (uint32_t r = 0; r < n; r++) {
        const float *in = src + (size_t)r * f;
        float *out = dst + (size_t)r * width + (size_t)k * f;
        for (uint32_t j = 0; j < f; j++)
            out[j] = s * in[j];
    }
}

int ensemble_train(const csr_t *ui, const ials_params_t *p,
                   uint32_t members, float *user_f, float *item_f,
                   ials_progress_fn progress, void *ctx)
{
    if (!ui || !p || members < 1 || members > ENSEMBLE_MAX_MEMBERS)
        return -EINVAL;
    if (members == 1)
        return ials_train(ui, p, user_f, item_f, progress, ctx);
    if ((ui->n_rows && !user_f) || (ui->n_cols && !item_f))
        return -EINVAL;

    const uint32_t f = p->factors;
    float *uf = malloc(((size_t)ui->n_rows * f + 1) * sizeof *uf);
    float *itf = malloc(((size_t)ui->n_cols * f + 1) * sizeof *itf);
    int rc = (uf && itf) ? 0 : -ENOMEM;
    for (uint32_t k = 0; !rc && k < members; k++) {
        ials_params_t mp = *p;
        mp.seed = p->seed + k;
        rc = ials_train(ui, &mp, uf, itf, progress, ctx);
        if (rc)
            break;
        place_member(uf, ui->n_rows, f, members, k, 1.0f / (float)members,
                     user_f);
        place_member(itf, ui->n_cols, f, members, k, 1.0f, item_f);
    }
    free(uf);
    free(itf);
    return rc;
}
