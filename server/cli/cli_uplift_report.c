/*
 * cli_uplift_report.c - eval-uplift's machine-readable and graphic output
 * (cli_uplift_report.h): the figures as JSON and the Qini curves as SVG.
 */
#include "cli_uplift_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* One colour per policy, in uplift_policy_t order. */
static const char *const colours[UPLIFT_N_POLICIES] = { "#1f77b4", "#d62728", "#7f7f7f" };

json_object *cli_uplift_policies_json(const uplift_policy_eval_t *pe, const double *budgets,
                                      size_t n_budgets)
{
    json_object *arr = json_object_new_array();
    for (int r = 0; arr && r < UPLIFT_N_POLICIES; r++) {
        json_object *p = json_object_new_object(), *bs = json_object_new_array();
        json_object_object_add(p, "policy", json_object_new_string(uplift_policy_name(r)));
        json_object_object_add(p, "auuc", json_object_new_double(pe[r].auuc));
        json_object_object_add(p, "qini", json_object_new_double(pe[r].qini));
        for (size_t b = 0; b < n_budgets; b++) {
            const uplift_budget_eval_t *e = &pe[r].at_budget[b];
            json_object *o = json_object_new_object();
            json_object_object_add(o, "budget", json_object_new_double(budgets[b]));
            json_object_object_add(o, "k", json_object_new_int64((int64_t)e->k));
            json_object_object_add(o, "spend", json_object_new_double(e->spend));
            json_object_object_add(o, "incr_margin", json_object_new_double(e->incr_margin));
            json_object_object_add(o, "incr_profit", json_object_new_double(e->incr_profit));
            json_object_object_add(o, "roi", json_object_new_double(e->roi));
            json_object_array_add(bs, o);
        }
        json_object_object_add(p, "budgets", bs);
        json_object_array_add(arr, p);
    }
    return arr;
}

/* Geometry of the plot, in SVG user units. */
#define W 720.0
#define H 440.0
#define LEFT 70.0
#define RIGHT 190.0
#define TOP 40.0
#define BOTTOM 60.0
#define MAX_POINTS 400

/* s as XML character data. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
}

/* A "nice" tick step for a range of span units, about 5 ticks. */
static double tick_step(double span)
{
    double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

int cli_uplift_svg(const char *path, const uplift_model_t *m, const uplift_log_t *rows,
                   size_t n, const char *title)
{
    double *score[UPLIFT_N_POLICIES] = { NULL }, *curve[UPLIFT_N_POLICIES] = { NULL };
    double *bought = malloc((n ? n : 1) * sizeof *bought), lo = 0, hi = 0, auuc, qini;
    uint8_t *treated = malloc(n ? n : 1);
    FILE *f = NULL;
    int rc = bought && treated && n ? 0 : n ? -ENOMEM : -EINVAL;

    for (int r = 0; rc == 0 && r < UPLIFT_N_POLICIES; r++)
        if (!(score[r] = malloc(n * sizeof *score[r])) ||
            !(curve[r] = malloc((n + 1) * sizeof *curve[r])))
            rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        treated[i] = rows[i].treated != 0;
        bought[i] = rows[i].bought ? 1.0 : 0.0;
    }
    if (rc == 0)
        rc = uplift_policy_scores(m, rows, n, score);
    for (int r = 0; rc == 0 && r < UPLIFT_N_POLICIES; r++)
        rc = uplift_qini(score[r], treated, bought, n, curve[r], &auuc, &qini);
    for (int r = 0; rc == 0 && r < UPLIFT_N_POLICIES; r++)
        for (size_t k = 0; k <= n; k++) {
            lo = fmin(lo, curve[r][k]);
            hi = fmax(hi, curve[r][k]);
        }
    if (rc == 0 && !(f = fopen(path, "w")))
        rc = -errno;
    if (rc == 0) {
        double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM, step;
        if (hi - lo < 1e-9)
            hi = lo + 1;
        step = tick_step(hi - lo);
        lo = floor(lo / step) * step;
        hi = ceil(hi / step) * step;
#define X(frac) (LEFT + (frac) * pw)
#define Y(v) (TOP + ph - ((v) - lo) / (hi - lo) * ph)
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
                   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                   "<text x=\"%.0f\" y=\"22\" font-size=\"15\">", W, H, W, H, LEFT);
        xml_text(f, title);
        fprintf(f, "</text>\n<g stroke=\"#000\" stroke-width=\"1\">\n"
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n</g>\n",
                LEFT, TOP + ph, LEFT + pw, TOP + ph, LEFT, TOP, LEFT, TOP + ph);
        for (int t = 0; t <= 5; t++)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d%%</text>\n",
                    X(t / 5.0), TOP + ph, X(t / 5.0), TOP + ph + 5, X(t / 5.0), TOP + ph + 18,
                    t * 20);
        for (double v = lo; v <= hi + step / 2; v += step)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                    LEFT, Y(v), LEFT + pw, Y(v), LEFT - 6, Y(v) + 4, fabs(v) < step / 1e6 ? 0 : v);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">share of customers "
                   "targeted, best first (%zu offers)</text>\n", X(0.5), H - 15, n);
        fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">"
                   "incremental buyers (Qini)</text>\n", TOP + ph / 2);
        for (int r = 0; r < UPLIFT_N_POLICIES; r++) {
            size_t stride = n / MAX_POINTS + 1;
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                       "data-policy=\"%s\" points=\"", colours[r], uplift_policy_name(r));
            for (size_t k = 0; k <= n; k += stride)
                fprintf(f, "%.1f,%.1f ", X((double)k / (double)n), Y(curve[r][k]));
            if (n % stride)
                fprintf(f, "%.1f,%.1f", X(1.0), Y(curve[r][n]));
            fprintf(f, "\"/>\n");
        }
        fprintf(f, "<g>\n");
        for (int r = 0; r < UPLIFT_N_POLICIES; r++)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", W - RIGHT + 15,
                    TOP + 10 + 20.0 * r, colours[r], W - RIGHT + 35, TOP + 15 + 20.0 * r,
                    uplift_policy_name(r));
        fprintf(f, "</g>\n</svg>\n");
#undef X
#undef Y
        if (fclose(f) != 0)
            rc = -EIO;
    }
    for (int r = 0; r < UPLIFT_N_POLICIES; r++) {
        free(score[r]);
        free(curve[r]);
    }
    free(bought);
    free(treated);
    return rc;
}
