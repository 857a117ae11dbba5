/*
 * cli_exp_html.c - the experiment report as one HTML page (cli_exp_html.h).
 */
#include "cli_exp_html.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const colours[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                       "#ff7f0e", "#8c564b", "#e377c2", "#17becf" };
#define N_COLOURS (sizeof colours / sizeof colours[0])

/* s as HTML/XML text. */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

static void head(FILE *f, const Patron__V1__GetExperimentResultsResponse *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
          "Experiment ", f);
    esc(f, r->experiment_id);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:24px;background:#fff;color:#222;max-width:900px}\n"
          ".srm-ok{background:#e6f4ea;border:2px solid #1e8e3e;padding:8px 16px}\n"
          ".srm-bad{background:#fce8e6;border:3px solid #d93025;padding:8px 16px}\n"
          ".warn{background:#fef7e0;border:1px solid #f9ab00;padding:6px 16px}\n"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;"
          "text-align:right}th:first-child,td:first-child{text-align:left}\n"
          "</style>\n</head>\n<body>\n<h1>Experiment ", f);
    esc(f, r->experiment_id);
    fputs("</h1>\n", f);
}

static void srm(FILE *f, const Patron__V1__GetExperimentResultsResponse *r)
{
    uint64_t exposed = 0;
    for (size_t i = 0; i < r->n_arms; i++)
        exposed += r->arms[i]->customers;
    fprintf(f, "<section id=\"srm\" class=\"%s\">\n<h2>Sample ratio check</h2>\n<p>",
            r->sample_ratio_mismatch ? "srm-bad" : "srm-ok");
    if (!exposed)
        fputs("No exposed customers yet.", f);
    else if (r->sample_ratio_mismatch)
        fprintf(f, "<strong>SAMPLE RATIO MISMATCH</strong> (chi-square p = %.3g): assignment "
                   "or logging is broken; no other number below can be trusted.",
                r->srm_p_value);
    else
        fprintf(f, "OK: the arms' sizes match their weights (chi-square p = %.3f).",
                r->srm_p_value);
    fputs("</p>\n</section>\n", f);
    if (r->customers_in_two_arms)
        fprintf(f, "<p class=\"warn\">%llu customers were exposed in two arms.</p>\n",
                (unsigned long long)r->customers_in_two_arms);
    if (r->warning && r->warning[0]) {
        fputs("<p class=\"warn\">", f);
        esc(f, r->warning);
        fputs("</p>\n", f);
    }
    if (r->underpowered)
        fprintf(f, "<p class=\"warn\">Read before the planned size (%llu customers per arm): "
                   "fixed-horizon p-values are not yet meaningful.</p>\n",
                (unsigned long long)r->planned_customers_per_arm);
}

static void arms_table(FILE *f, const Patron__V1__GetExperimentResultsResponse *r)
{
    fputs("<section id=\"arms\">\n<h2>Arms</h2>\n<table>\n<tr><th>arm</th><th>weight</th>"
          "<th>customers</th><th>exposures</th>", f);
    if (r->n_arms)
        for (size_t k = 0; k < r->arms[0]->n_metrics; k++) {
            fputs("<th>", f);
            esc(f, r->arms[0]->metrics[k]->name);
            fputs("</th>", f);
        }
    fputs("</tr>\n", f);
    for (size_t i = 0; i < r->n_arms; i++) {
        const Patron__V1__ArmResult *a = r->arms[i];
        fputs("<tr><td>", f);
        esc(f, a->arm_id);
        fprintf(f, "%s</td><td>%.3f</td><td>%llu</td><td>%llu</td>",
                i || !strcmp(a->arm_id, "control") ? "" : " (control)",
                a->expected_share, (unsigned long long)a->customers,
                (unsigned long long)a->exposures);
        for (size_t k = 0; k < a->n_metrics; k++)
            fprintf(f, "<td>%.4g</td>", a->metrics[k]->value);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n</section>\n", f);
}

/* One SVG per metric: a row per arm, the 95% interval of its difference
 * to control as a bar, the estimate as a dot, zero as a vertical line. */
static void metric_bars(FILE *f, const Patron__V1__GetExperimentResultsResponse *r)
{
    const double w = 640, label = 150, pad = 30, row = 30;
    fputs("<section id=\"metrics\">\n<h2>Difference to control, 95% confidence interval</h2>\n",
          f);
    if (!r->n_arms)
        fputs("<p>No arms.</p>\n", f);
    for (size_t k = 0; r->n_arms && k < r->arms[0]->n_metrics; k++) {
        double span = 0, h = row * (double)r->n_arms + 30;
        for (size_t i = 1; i < r->n_arms; i++) {
            const Patron__V1__Difference *d =
                k < r->arms[i]->n_metrics ? r->arms[i]->metrics[k]->vs_control : NULL;
            if (d)
                span = fmax(span, fmax(fabs(d->ci_low), fabs(d->ci_high)));
        }
        if (!(span > 0) || !isfinite(span))
            span = 1;
        double x0 = label + (w - label - pad) / 2, scale = (w - label - pad) / 2 / span;
        fputs("<h3>", f);
        esc(f, r->arms[0]->metrics[k]->name);
        fprintf(f, "</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                   "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\" "
                   "class=\"ci\">\n<line x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#888\"/>\n", w, h, x0, x0, h - 20);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">0</text>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">+%.3g</text>\n",
                label, h - 5, -span, x0, h - 5, w - pad, h - 5, span);
        for (size_t i = 0; i < r->n_arms; i++) {
            const Patron__V1__ArmResult *a = r->arms[i];
            const Patron__V1__Difference *d =
                i && k < a->n_metrics ? a->metrics[k]->vs_control : NULL;
            double y = 4 + row * (double)i + row / 2;
            fprintf(f, "<text x=\"4\" y=\"%.1f\">", y + 4);
            esc(f, a->arm_id);
            fputs(i || !strcmp(a->arm_id, "control") ? "" : " (control)", f);
            fputs("</text>", f);
            if (d) {
                double lo = x0 + d->ci_low * scale, hi = x0 + d->ci_high * scale;
                fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"10\" fill=\"%s\" opacity=\"0.6\"/><circle cx=\"%.1f\" "
                           "cy=\"%.1f\" r=\"4\" fill=\"#000\"/><title>%.4g [%.4g, %.4g], "
                           "p = %.3g</title>", lo, y - 5, fmax(hi - lo, 1),
                        colours[i % N_COLOURS], x0 + d->estimate * scale, y, d->estimate,
                        d->ci_low, d->ci_high, d->p_value);
            } else {
                fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"2\" height=\"10\" "
                           "fill=\"#444\"/>", x0 - 1, y - 5);
            }
            fputs("\n", f);
        }
        fputs("</svg>\n", f);
    }
    fputs("</section>\n", f);
}

/* Relative conversion lift of each non-control arm (ArmResult.lift with
 * its interval) against the attribution window, 1..n_days days. */
static void daily(FILE *f, const Patron__V1__GetExperimentResultsResponse *r,
                  Patron__V1__GetExperimentResultsResponse *const *by_day, size_t n)
{
    const double w = 640, h = 320, left = 60, right = 150, top = 20, bottom = 40;
    double lo = 0, hi = 0;
    fputs("<section id=\"daily\">\n<h2>Cumulative conversion lift by day after exposure</h2>\n",
          f);
    if (n == 0 || r->n_arms < 2) {
        fputs("<p>No treatment arm to chart.</p>\n</section>\n", f);
        return;
    }
    for (size_t d = 0; d < n; d++)
        for (size_t i = 1; i < by_day[d]->n_arms; i++) {
            const Patron__V1__ArmResult *a = by_day[d]->arms[i];
            if (isfinite(a->ci_low) && isfinite(a->ci_high)) {
                lo = fmin(lo, fmin(a->ci_low, a->lift));
                hi = fmax(hi, fmax(a->ci_high, a->lift));
            }
        }
    if (hi - lo < 1e-9)
        hi = lo + 0.1;
    double pw = w - left - right, ph = h - top - bottom;
#define X(d) (left + (n > 1 ? (double)(d) / (double)(n - 1) : 0.5) * pw)
#define Y(v) (top + ph - ((v) - lo) / (hi - lo) * ph)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\" class=\"daily\">\n"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
               "stroke-dasharray=\"4 3\"/>\n",
            w, h, left, top + ph, left + pw, top + ph, left, top, left, top + ph, left, Y(0),
            left + pw, Y(0));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%+.0f%%</text>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0%%</text>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%+.0f%%</text>\n",
            left - 4, Y(hi) + 4, hi * 100, left - 4, Y(0) + 4, left - 4, Y(lo) + 4, lo * 100);
    for (size_t d = 0; d < n; d++)
        if (n <= 15 || d % ((n + 13) / 14) == 0 || d == n - 1)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu</text>", X(d),
                    top + ph + 16, d + 1);
    fprintf(f, "\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">days after first exposure"
               " (attribution window)</text>\n", left + pw / 2, h - 4);
    for (size_t i = 1; i < r->n_arms; i++) {
        const char *c = colours[i % N_COLOURS];
        fprintf(f, "<polygon fill=\"%s\" opacity=\"0.15\" points=\"", c);
        for (size_t d = 0; d < n; d++)
            if (i < by_day[d]->n_arms)
                fprintf(f, "%.1f,%.1f ", X(d), Y(by_day[d]->arms[i]->ci_high));
        for (size_t d = n; d-- > 0;)
            if (i < by_day[d]->n_arms)
                fprintf(f, "%.1f,%.1f ", X(d), Y(by_day[d]->arms[i]->ci_low));
        fprintf(f, "\"/>\n<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
        for (size_t d = 0; d < n; d++)
            if (i < by_day[d]->n_arms)
                fprintf(f, "%.1f,%.1f ", X(d), Y(by_day[d]->arms[i]->lift));
        fprintf(f, "\"/>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">", w - right + 15, top + 20.0 * (double)i, c,
                w - right + 35, top + 5 + 20.0 * (double)i);
        esc(f, r->arms[i]->arm_id);
        fputs("</text>\n", f);
    }
#undef X
#undef Y
    fputs("</svg>\n<p>Shaded: the 95% interval of each arm's relative conversion lift over "
          "control.</p>\n</section>\n", f);
}

int cli_experiment_html(const char *path, const Patron__V1__GetExperimentResultsResponse *r,
                        Patron__V1__GetExperimentResultsResponse *const *by_day, size_t n_days)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    head(f, r);
    srm(f, r);
    arms_table(f, r);
    metric_bars(f, r);
    daily(f, r, by_day, n_days);
    fputs("</body>\n</html>\n", f);
    return ferror(f) | fclose(f) ? -EIO : 0;
}
