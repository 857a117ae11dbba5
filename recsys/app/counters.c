/*
 * counters.c - monitoring counters of the use cases (counters.h).
 */
#include "counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

void counters_init(counters_t *c)
{
    for (int i = 0; i < COUNTERS_EVENT_TYPES; i++)
        atomic_init(&c->events[i], 0);
    atomic_init(&c->events_rejected, 0);
    for (int i = 0; i < COUNTERS_OUTCOMES; i++)
        atomic_init(&c->decisions[i], 0);
    for (int i = 0; i < COUNTERS_TRIGGER_OUTCOMES; i++)
        atomic_init(&c->triggers[i], 0);
    pthread_mutex_init(&c->mu, NULL);
    c->arms = NULL;
    c->n_arms = c->cap_arms = 0;
    c->arms_dropped = 0;
}

void counters_destroy(counters_t *c)
{
    pthread_mutex_destroy(&c->mu);
    free(c->arms);
    c->arms = NULL;
}

void counters_event(counters_t *c, int type)
{
    if (c && type > 0 && type < COUNTERS_EVENT_TYPES)
        atomic_fetch_add_explicit(&c->events[type], 1, memory_order_relaxed);
}

void counters_events_rejected(counters_t *c, uint64_t n)
{
    if (c && n)
        atomic_fetch_add_explicit(&c->events_rejected, n, memory_order_relaxed);
}

void counters_decision(counters_t *c, int outcome)
{
    if (c && outcome >= 0 && outcome < COUNTERS_OUTCOMES)
        atomic_fetch_add_explicit(&c->decisions[outcome], 1, memory_order_relaxed);
}

void counters_triggers(counters_t *c, int outcome, uint64_t n)
{
    if (c && n && outcome >= 0 && outcome < COUNTERS_TRIGGER_OUTCOMES)
        atomic_fetch_add_explicit(&c->triggers[outcome], n, memory_order_relaxed);
}

/* The entry of (experiment, arm), added if there is room; NULL if not.
 * Under c->mu. */
static counters_arm_t *arm_entry(counters_t *c, const char *experiment, const char *arm)
{
    counters_arm_t *e;

    for (size_t i = 0; i < c->n_arms; i++)
        if (strcmp(c->arms[i].experiment, experiment) == 0 && strcmp(c->arms[i].arm, arm) == 0)
            return &c->arms[i];
    if (c->n_arms >= COUNTERS_MAX_ARMS || GROW(c->arms, c->cap_arms, c->n_arms + 1))
        return NULL;
    e = &c->arms[c->n_arms++];
    memset(e, 0, sizeof *e);
    strncpy(e->experiment, experiment, sizeof e->experiment - 1);
    strncpy(e->arm, arm, sizeof e->arm - 1);
    return e;
}

void counters_exposure(counters_t *c, const arms_t *a)
{
    if (!c || !a->n)
        return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < a->n; i++) {
        counters_arm_t *e = arm_entry(c, a->a[i].experiment, a->a[i].arm);
        if (e)
            e->exposures++;
        else
            c->arms_dropped++;
    }
    pthread_mutex_unlock(&c->mu);
}

static int by_arm(const void *x, const void *y)
{
    const counters_arm_t *a = x, *b = y;
    int d = strcmp(a->experiment, b->experiment);
    return d ? d : strcmp(a->arm, b->arm);
}

int counters_arms(counters_t *c, counters_arm_t **out, size_t *n, uint64_t *dropped)
{
    int rc = 0;

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&c->mu);
    if (dropped)
        *dropped = c->arms_dropped;
    if (c->n_arms && !(*out = malloc(c->n_arms * sizeof **out)))
        rc = -ENOMEM;
    else if (c->n_arms) {
        memcpy(*out, c->arms, c->n_arms * sizeof **out);
        *n = c->n_arms;
    }
    pthread_mutex_unlock(&c->mu);
    if (*n)
        qsort(*out, *n, sizeof **out, by_arm);
    return rc;
}
