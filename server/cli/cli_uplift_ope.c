/*
 * cli_uplift_ope.c - eval-uplift's off-policy estimates (cli_uplift_ope.h).
 */
#include "cli_uplift_ope.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coupon.h"
#include "uplift_ope.h"

#define NAME_MAX_LEN 40
#define FIXED_POLICIES 3   /* no coupon, served, everyone */

typedef struct policy {
    char name[NAME_MAX_LEN];
    uint8_t *target;       /* per test row */
    uplift_ope_t est;
} policy_t;

static json_object *est_json(const uplift_ope_est_t *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "value", json_object_new_double(e->value));
    json_object_object_add(o, "se", json_object_new_double(e->se));
    json_object_object_add(o, "lo", json_object_new_double(e->lo));
    json_object_object_add(o, "hi", json_object_new_double(e->hi));
    return o;
}

static void add_json(json_object *out, const policy_t *p, size_t np, size_t n_test,
                     size_t randomized, size_t guarded)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(o, "estimand", json_object_new_string(
        "incremental profit (margin - discount) over no coupon, summed over the test offers"));
    json_object_object_add(o, "test_offers", json_object_new_int64((int64_t)n_test));
    json_object_object_add(o, "randomized", json_object_new_int64((int64_t)randomized));
    json_object_object_add(o, "guarded", json_object_new_int64((int64_t)guarded));
    for (size_t k = 0; k < np; k++) {
        json_object *q = json_object_new_object();
        json_object_object_add(q, "policy", json_object_new_string(p[k].name));
        json_object_object_add(q, "targeted", json_object_new_int64((int64_t)p[k].est.n_target));
        json_object_object_add(q, "targeted_treated",
                               json_object_new_int64((int64_t)p[k].est.n_target_treated));
        json_object_object_add(q, "ips", est_json(&p[k].est.ips));
        json_object_object_add(q, "dr", est_json(&p[k].est.dr));
        json_object_array_add(arr, q);
    }
    json_object_object_add(o, "policies", arr);
    json_object_object_add(out, "off_policy", o);
}

/* The CSV of which test offers each policy targets. */
static int write_rows(const char *path, const policy_t *p, size_t np,
                      const couponstore_uplift_key_t *const *rk, const uplift_log_t *rows,
                      size_t n_test)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "request_id,customer_id,treated,assign_prob");
    for (size_t k = 0; k < np; k++)
        fprintf(f, ",%s", p[k].name);
    fprintf(f, "\n");
    for (size_t i = 0; i < n_test; i++) {
        /* ids are printable without commas or quotes? not guaranteed: quote */
        fputc('"', f);
        for (const char *c = rk[i]->request_id; *c; c++)
            fprintf(f, *c == '"' ? "\"\"" : "%c", *c);
        fputs("\",\"", f);
        for (const char *c = rk[i]->customer_id; *c; c++)
            fprintf(f, *c == '"' ? "\"\"" : "%c", *c);
        fprintf(f, "\",%d,%.6g", rows[i].treated != 0, rows[i].assign_prob);
        for (size_t k = 0; k < np; k++)
            fprintf(f, ",%d", p[k].target[i] != 0);
        fprintf(f, "\n");
    }
    return fclose(f) == 0 ? 0 : -EIO;
}

static void print_table(FILE *txt, const policy_t *p, size_t np, size_t n_test,
                        size_t randomized, size_t guarded)
{
    fprintf(txt, "off-policy estimates on the test split (%zu offers: %zu with a randomized "
            "decision, %zu decided by a guard), from the logged assignment probabilities:\n"
            "incremental profit over no coupon, self-normalized IPS and doubly robust, 95%% CI\n",
            n_test, randomized, guarded);
    if (randomized == 0)
        fprintf(txt, "note: no randomized decisions (exploration off?): only the served "
                "policy's own choices were observed, the other policies cannot be estimated\n");
    fprintf(txt, "  %-24s %9s %12s  %-25s %12s  %-25s\n", "policy", "targeted", "IPS",
            "95% CI", "DR", "95% CI");
    for (size_t k = 0; k < np; k++) {
        const uplift_ope_t *e = &p[k].est;
        fprintf(txt, "  %-24s %9zu %12.2f  [%10.2f, %10.2f] %12.2f  [%10.2f, %10.2f]\n",
                p[k].name, e->n_target, e->ips.value, e->ips.lo, e->ips.hi, e->dr.value,
                e->dr.lo, e->dr.hi);
    }
}

int cli_uplift_ope(const cli_uplift_ope_args_t *a, const uplift_log_t *logs,
                   const couponstore_uplift_key_t *keys, const uint8_t *is_test, size_t n,
                   const uplift_model_t *m)
{
    size_t n_test = 0, n_fit = 0, randomized = 0, guarded = 0, n_gain = 0;
    size_t np = FIXED_POLICIES + a->n_tops + 1;
    policy_t p[FIXED_POLICIES + CLI_UPLIFT_OPE_MAX_TOPS + 1];
    if (a->n_tops > CLI_UPLIFT_OPE_MAX_TOPS)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        n_test += is_test[i] != 0;
    n_fit = n - n_test;
    if (n_test == 0 || n_fit == 0)
        return -EINVAL;
    memset(p, 0, sizeof p);
    uplift_log_t *rows = malloc(n_test * sizeof *rows), *fit = malloc(n_fit * sizeof *fit);
    const couponstore_uplift_key_t **rk = malloc(n_test * sizeof *rk);
    double *pc = malloc(n_test * sizeof *pc), *pt = malloc(n_test * sizeof *pt);
    double *mu0 = malloc(n_test * sizeof *mu0), *mu1 = malloc(n_test * sizeof *mu1);
    size_t *order = malloc(n_test * sizeof *order);
    double *gain = malloc(n_test * sizeof *gain);
    uint8_t *guard = malloc(n_test);
    int rc = rows && fit && rk && pc && pt && mu0 && mu1 && order && gain && guard ? 0 : -ENOMEM;
    for (size_t k = 0; rc == 0 && k < np; k++)
        if (!(p[k].target = calloc(n_test, 1)))
            rc = -ENOMEM;
    for (size_t i = 0, t = 0, f = 0; rc == 0 && i < n; i++) {
        if (!is_test[i]) {
            fit[f++] = logs[i];
            continue;
        }
        uplift_pred_t pr;
        rows[t] = logs[i];
        rk[t] = &keys[i];
        if ((rc = uplift_predict(m, &logs[i].x, &pr)) != 0)
            break;
        pc[t] = pr.p_control;
        pt[t] = pr.p_treated;
        guard[t] = (uint8_t)coupon_outcome_guarded(keys[i].outcome);
        guarded += guard[t];
        randomized += !guard[t] && logs[i].assign_prob < 1.0;
        t++;
    }
    if (rc == 0)
        rc = uplift_ope_outcomes(fit, n_fit, rows, pc, pt, n_test, mu0, mu1);
    if (rc == 0) {
        snprintf(p[0].name, NAME_MAX_LEN, "no coupon");
        snprintf(p[1].name, NAME_MAX_LEN, "served");
        snprintf(p[2].name, NAME_MAX_LEN, "coupon to everyone");
        for (size_t i = 0; i < n_test; i++) {
            gain[i] = !guard[i] && mu1[i] - mu0[i] > 0.0 ? mu1[i] - mu0[i] : NAN;
            if (guard[i])
                continue;
            p[1].target[i] = (uint8_t)coupon_outcome_greedy_grant(rk[i]->outcome, rk[i]->value);
            p[2].target[i] = 1;
        }
        n_gain = uplift_rank(gain, n_test, order);
        for (size_t t = 0; t < a->n_tops; t++) {
            policy_t *q = &p[FIXED_POLICIES + t];
            size_t k = (size_t)(a->tops[t] / 100.0 * (double)n_test);
            snprintf(q->name, NAME_MAX_LEN, "model top %g%%", a->tops[t]);
            for (size_t j = 0; j < k && j < n_gain; j++)
                q->target[order[j]] = 1;
        }
        snprintf(p[np - 1].name, NAME_MAX_LEN, "model gain > 0");
        for (size_t j = 0; j < n_gain; j++)
            p[np - 1].target[order[j]] = 1;
    }
    for (size_t k = 0; rc == 0 && k < np; k++)
        rc = uplift_ope_evaluate(rows, n_test, p[k].target, mu0, mu1, &p[k].est);
    if (rc == 0) {
        print_table(a->txt, p, np, n_test, randomized, guarded);
        if (a->out)
            add_json(a->out, p, np, n_test, randomized, guarded);
    }
    if (rc == 0 && a->rows_path) {
        if ((rc = write_rows(a->rows_path, p, np, rk, rows, n_test)) != 0)
            cli_error(rc, "writing %s", a->rows_path);
        else
            fprintf(a->txt, "the offers each policy targets written to %s\n", a->rows_path);
    } else if (rc) {
        cli_error(rc, "estimating off-policy");
    }
    for (size_t k = 0; k < np; k++)
        free(p[k].target);
    free(rows);
    free(fit);
    free(rk);
    free(pc);
    free(pt);
    free(mu0);
    free(mu1);
    free(order);
    free(gain);
    free(guard);
    return rc;
}
