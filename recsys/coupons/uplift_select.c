/*
 * uplift_select.c - the logistic or the boosted T-learner, whichever earns
 * more on held-out offers (uplift_select.h).
 */
#include "uplift_select.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "uplift_ope.h"

static const double val_shares[] = { 0.01, 0.025, 0.05, 0.10, 0.20 };
#define N_VAL_SHARES (sizeof val_shares / sizeof val_shares[0])
#define DEFAULT_ASSIGN_PROB 0.5

const char *uplift_learner_name(uplift_learner_t l)
{
    return l == UPLIFT_LEARNER_BOOSTED ? "boosted T-learner" : "logistic T-learner";
}

/* The economics of the fitted rows: margin and discount of a purchase per
 * unit of average basket (1/p-weighted over buyers), and the mean basket
 * for rows that have none. */
typedef struct economics {
    double margin, discount, basket;
} economics_t;

static double basket_of(const uplift_log_t *l, double fallback)
{
    return l->x.average_basket > 0.0 && isfinite(l->x.average_basket) ? l->x.average_basket
                                                                       : fallback;
}

static void fit_economics(const uplift_log_t *rows, size_t n, economics_t *e)
{
    double sb = 0.0, nb = 0.0, sm = 0.0, wm = 0.0, sd = 0.0, wd = 0.0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].x.average_basket > 0.0 && isfinite(rows[i].x.average_basket)) {
            sb += rows[i].x.average_basket;
            nb += 1.0;
        }
    e->basket = nb > 0.0 ? sb / nb : 1.0;
    for (size_t i = 0; i < n; i++) {
        const uplift_log_t *l = &rows[i];
        double w = 1.0 / (l->assign_prob > 0.0 ? l->assign_prob : DEFAULT_ASSIGN_PROB);
        double b = basket_of(l, e->basket);
        if (!l->bought)
            continue;
        sm += w * l->margin;
        wm += w * b;
        if (l->treated) {
            sd += w * l->cost;
            wd += w * b;
        }
    }
    e->margin = wm > 0.0 ? sm / wm : 0.0;
    e->discount = wd > 0.0 ? sd / wd : 0.0;
}

static double value_of(const uplift_pred_t *p, const economics_t *e, const uplift_log_t *l)
{
    double b = basket_of(l, e->basket), m = e->margin * b, d = e->discount * b;
    return p->p_treated * (m - d) - p->p_control * m;
}

typedef struct split {
    uplift_log_t *fit, *val;
    size_t n_fit, n_val;
    double *score;
} split_t;

static int split_rows(const uplift_log_t *logs, const uint8_t *held_out, size_t n, split_t *s)
{
    s->fit = malloc(n * sizeof *s->fit);
    s->val = malloc(n * sizeof *s->val);
    s->score = malloc(n * sizeof *s->score);
    s->n_fit = s->n_val = 0;
    if (!s->fit || !s->val || !s->score)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (held_out[i])
            s->val[s->n_val++] = logs[i];
        else
            s->fit[s->n_fit++] = logs[i];
    }
    return 0;
}

static int value_logistic(const split_t *s, const economics_t *e, double *value)
{
    uplift_model_t m;
    int rc = uplift_fit(s->fit, s->n_fit, NULL, &m);
    for (size_t i = 0; rc == 0 && i < s->n_val; i++) {
        uplift_pred_t p;
        if ((rc = uplift_predict(&m, &s->val[i].x, &p)) == 0)
            s->score[i] = value_of(&p, e, &s->val[i]);
    }
    return rc ? rc : uplift_ope_top_value(s->val, s->n_val, s->score, val_shares,
                                          N_VAL_SHARES, value);
}

static int value_boosted(const split_t *s, const economics_t *e, double *value)
{
    uplift_gbt_tl_t *m = malloc(sizeof *m);
    int rc = m ? uplift_gbt_tl_fit(s->fit, s->n_fit, NULL, m) : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < s->n_val; i++) {
        uplift_pred_t p;
        uplift_gbt_tl_predict(m, &s->val[i].x, &p);
        s->score[i] = value_of(&p, e, &s->val[i]);
    }
    free(m);
    return rc ? rc : uplift_ope_top_value(s->val, s->n_val, s->score, val_shares,
                                          N_VAL_SHARES, value);
}

int uplift_select_learner(const uplift_log_t *logs, const uint8_t *held_out, size_t n,
                          size_t min_rows, uplift_selection_t *out)
{
    split_t s = { 0 };
    economics_t e;
    int rc;

    if (!logs || !held_out || !out || n == 0)
        return -EINVAL;
    out->chosen = UPLIFT_LEARNER_LOGISTIC;
    out->value[0] = out->value[1] = NAN;
    out->boosted_considered = 0;
    if ((rc = split_rows(logs, held_out, n, &s)) != 0)
        goto done;
    out->n_fit = s.n_fit;
    out->n_val = s.n_val;
    out->fit_treated = out->fit_control = 0;
    for (size_t i = 0; i < s.n_fit; i++)
        (*(s.fit[i].treated ? &out->fit_treated : &out->fit_control))++;
    if (s.n_fit == 0 || s.n_val == 0)
        goto done;   /* nothing to compare on: the logistic learner and its priors */
    fit_economics(s.fit, s.n_fit, &e);
    if ((rc = value_logistic(&s, &e, &out->value[UPLIFT_LEARNER_LOGISTIC])) != 0)
        goto done;
    out->boosted_considered = out->fit_treated >= min_rows && out->fit_control >= min_rows;
    if (!out->boosted_considered)
        goto done;
    if ((rc = value_boosted(&s, &e, &out->value[UPLIFT_LEARNER_BOOSTED])) != 0)
        goto done;
    if (out->value[UPLIFT_LEARNER_BOOSTED] > out->value[UPLIFT_LEARNER_LOGISTIC])
        out->chosen = UPLIFT_LEARNER_BOOSTED;
done:
    free(s.fit);
    free(s.val);
    free(s.score);
    return rc;
}
