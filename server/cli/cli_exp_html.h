/*
 * cli_exp_html.h - `patron experiment report --html FILE`: one
 * self-contained HTML page (inline CSS and SVG; no scripts, fonts, images
 * or links): the sample-ratio check first, the arms, a 95% confidence
 * interval bar per metric and arm (difference to control), and the
 * cumulative conversion lift of each arm by day after exposure.
 */
#ifndef PATRON_SERVER_CLI_EXP_HTML_H
#define PATRON_SERVER_CLI_EXP_HTML_H

#include <stddef.h>

#include "patron/v1/experiments.pb-c.h"

/* Writes the page for r to path; by_day[d] is the result with an
 * attribution window of d + 1 days (n_days of them, each with r's arms in
 * r's order; 0 draws no daily chart). Returns 0 or a negative errno. */
int cli_experiment_html(const char *path, const Patron__V1__GetExperimentResultsResponse *r,
                        Patron__V1__GetExperimentResultsResponse *const *by_day,
                        size_t n_days);

#endif
