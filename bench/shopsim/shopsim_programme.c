/*
 * shopsim_programme.c - DIR/programme_events.csv: what members of a loyalty
 * programme do besides shopping, derived from the simulated shop after the
 * fact so that the shop's own files stay byte-identical:
 *
 *   signup    one per customer, a minute before their first event;
 *   check_in  on SIM_CHECK_IN_RATE of the days a customer visits, half a
 *             minute before the day's first event;
 *   review    SIM_REVIEW_RATE of purchase lines, 2-10 days later (of the
 *             item bought; never past the simulated period);
 *   share     SIM_SHARE_RATE of purchase lines, an hour later.
 *
 * Same columns as events.csv (patron format; quantity 1, unit_price 0,
 * item_id empty for signup and check_in), ids p0000001..., sorted by time.
 * The draws come from a stream of their own, seeded from the seed, so the
 * file depends only on the arguments.
 */
#include "shopsim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SIM_CHECK_IN_RATE 0.30
#define SIM_REVIEW_RATE 0.15
#define SIM_SHARE_RATE 0.05

typedef struct prog_event {
    int64_t t;
    uint32_t customer, item; /* item SIM_NO_CUSTOMER: none */
    uint8_t type;            /* index into prog_names */
    uint32_t seq;            /* generation order, makes the sort total */
} prog_event_t;

enum { PROG_SIGNUP, PROG_CHECK_IN, PROG_REVIEW, PROG_SHARE, PROG_TYPES };
static const char *const prog_names[PROG_TYPES] = {"signup", "check_in", "review", "share"};

typedef struct prog_list {
    prog_event_t *ev;
    size_t n, cap;
} prog_list_t;

static int prog_add(prog_list_t *l, int64_t t, uint32_t customer, uint32_t item, uint8_t type)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        prog_event_t *ev = realloc(l->ev, cap * sizeof *ev);
        if (!ev)
            return -ENOMEM;
        l->ev = ev;
        l->cap = cap;
    }
    l->ev[l->n] = (prog_event_t){t, customer, item, type, (uint32_t)l->n};
    l->n++;
    return 0;
}

static int prog_cmp(const void *a, const void *b)
{
    const prog_event_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The simulated customers' programme events into *l (unsorted). */
static int prog_generate(const sim_t *s, prog_list_t *l)
{
    xoshiro_t rng;
    xoshiro_seed(&rng, s->cfg.seed ^ 0x70726f6772616d6dULL); /* "programm" */
    int64_t end = s->start + (int64_t)s->cfg.days * SIM_DAY_S;
    int64_t *last_day = malloc((size_t)s->cfg.customers * sizeof *last_day);
    if (!last_day)
        return -ENOMEM;
    for (uint32_t c = 0; c < s->cfg.customers; c++)
        last_day[c] = -1;
    int rc = 0;
    for (size_t k = 0; k < s->nev && rc == 0; k++) {
        const sim_event_t *e = &s->ev[k];
        if (e->customer == SIM_NO_CUSTOMER || e->type > SIM_REFUND)
            continue;
        int64_t day = e->t / SIM_DAY_S;
        if (last_day[e->customer] < 0)
            rc = prog_add(l, e->t - 60, e->customer, SIM_NO_CUSTOMER, PROG_SIGNUP);
        if (rc == 0 && last_day[e->customer] != day) {
            last_day[e->customer] = day;
            if (xoshiro_unit(&rng) < SIM_CHECK_IN_RATE)
                rc = prog_add(l, e->t - 30, e->customer, SIM_NO_CUSTOMER, PROG_CHECK_IN);
        }
        if (rc == 0 && e->type == SIM_PURCHASE) {
            int64_t review = e->t + (2 + (int64_t)(xoshiro_unit(&rng) * 9)) * SIM_DAY_S;
            if (xoshiro_unit(&rng) < SIM_REVIEW_RATE && review < end)
                rc = prog_add(l, review, e->customer, e->item, PROG_REVIEW);
            if (rc == 0 && xoshiro_unit(&rng) < SIM_SHARE_RATE && e->t + 3600 < end)
                rc = prog_add(l, e->t + 3600, e->customer, e->item, PROG_SHARE);
        }
    }
    free(last_day);
    return rc;
}

int sim_write_programme(const sim_t *s, uint64_t counts[4])
{
    prog_list_t l = {0};
    int rc = prog_generate(s, &l);
    if (rc != 0) {
        free(l.ev);
        return rc;
    }
    qsort(l.ev, l.n, sizeof *l.ev, prog_cmp);
    FILE *f = sim_open(s->cfg.out, "programme_events.csv");
    if (!f) {
        free(l.ev);
        return -EIO;
    }
    fputs("event_id,customer_id,item_id,type,timestamp,quantity,unit_price\n", f);
    for (size_t k = 0; k < l.n; k++) {
        const prog_event_t *e = &l.ev[k];
        char ts[32];
        sim_iso_time(e->t, ts, sizeof ts);
        fprintf(f, "p%07zu,c%06u,", k + 1, e->customer);
        if (e->item != SIM_NO_CUSTOMER)
            fprintf(f, "i%05u", e->item);
        fprintf(f, ",%s,%s,1,0\n", prog_names[e->type], ts);
        counts[e->type]++;
    }
    free(l.ev);
    return sim_close(f, "programme_events.csv");
}
