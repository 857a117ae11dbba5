/*
 * testexperiment.h - the experiment the experiment tests start from: two
 * arms split 50/50, all traffic, open-ended from start_ms, its id as its
 * salt. Tests set the arms' policies and forced lists on the copy. For
 * tests that link the experiments library.
 */
#ifndef PATRON_TESTS_TESTEXPERIMENT_H
#define PATRON_TESTS_TESTEXPERIMENT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "experiment.h"

static inline experiment_t test_two_arms(const char *id, const char *layer,
                                         const char *arm0, const char *arm1,
                                         int64_t start_ms)
{
    experiment_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(e.salt, sizeof e.salt, "%s", id);
    snprintf(e.layer, sizeof e.layer, "%s", layer);
    e.traffic_fraction = 1;
    e.start_ms = start_ms;
    e.n_arms = 2;
    snprintf(e.arms[0].id, sizeof e.arms[0].id, "%s", arm0);
    snprintf(e.arms[1].id, sizeof e.arms[1].id, "%s", arm1);
    e.arms[0].weight = e.arms[1].weight = 0.5;
    return e;
}

#endif
