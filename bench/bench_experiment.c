/*
 * bench_experiment.c - what assignment adds to a request: experiment_assign
 * for 10 experiments in 3 layers (with a few forced QA customers), over
 * distinct customer ids, in nanoseconds per call. The budget is 5 us.
 *
 *   bench_experiment [customers]     (default 1000000)
 */
#include "experiment.h"
#include "monotime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_EXPERIMENTS 10
#define ID_LEN 32

static double now_ns(void)
{
    return monotime_seconds() * 1e9;
}

/* 4 experiments in "models", 3 in "coupons", 3 in "ranking". */
static void define(experiment_t *defs, experiment_forced_t *forced)
{
    static const char *layers[] = { "models", "coupons", "ranking" };
    static const int layer_of[N_EXPERIMENTS] = { 0, 0, 0, 0, 1, 1, 1, 2, 2, 2 };
    memset(defs, 0, N_EXPERIMENTS * sizeof *defs);
    for (int i = 0; i < N_EXPERIMENTS; i++) {
        experiment_t *e = &defs[i];
        snprintf(e->id, sizeof e->id, "exp-%d", i);
        snprintf(e->salt, sizeof e->salt, "salt-%d", i);
        snprintf(e->layer, sizeof e->layer, "%s", layers[layer_of[i]]);
        e->traffic_fraction = 0.2;
        e->start_ms = i;
        e->n_arms = 3;
        for (int k = 0; k < 3; k++) {
            snprintf(e->arms[k].id, sizeof e->arms[k].id, "arm-%d", k);
            e->arms[k].weight = k == 2 ? 0.5 : 0.25;
        }
    }
    for (int i = 0; i < 20; i++) {
        snprintf(forced[i].customer_id, sizeof forced[i].customer_id, "qa-%02d", i);
        snprintf(forced[i].arm_id, sizeof forced[i].arm_id, "arm-%d", i % 3);
    }
    defs[0].forced = forced;
    defs[0].n_forced = 20;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [customers]\n", argv[0]);
        return 2;
    }
    experiment_t defs[N_EXPERIMENTS];
    experiment_forced_t forced[20];
    define(defs, forced);
    experiment_set_t *set = NULL;
    char err[256];
    if (experiment_set_new(defs, N_EXPERIMENTS, &set, err, sizeof err)) {
        fprintf(stderr, "bench_experiment: %s\n", err);
        return 1;
    }
    char *ids = malloc((size_t)n * ID_LEN);
    if (!ids) {
        experiment_set_free(set);
        return 1;
    }
    for (long i = 0; i < n; i++)
        snprintf(ids + i * ID_LEN, ID_LEN, "customer-%09ld", i * 7919 % n);

    experiment_assignment_t out[3];
    size_t got, total = 0;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        experiment_assign(set, ids + i * ID_LEN, 100, out, 3, &got);
        total += got;
    }
    double ns = (now_ns() - t0) / (double)n;
    printf("experiment_assign: %.0f ns/assignment (%d experiments in 3 layers, "
           "%ld customers, %.2f assignments per customer)\n",
           ns, N_EXPERIMENTS, n, (double)total / (double)n);
    free(ids);
    experiment_set_free(set);
    return 0;
}
