/*
 * app_triggers.c - patrond's trigger scheduler (app.h): one thread that
 * evaluates the customers whose events just committed (queued by
 * app_triggers_touch from RecordEvents/StreamEvents) and, every
 * scan_seconds, every customer (those with events, then those known by
 * attributes alone), for the rules that fire with time alone (a cart left
 * for N hours, a stage reached by idleness, a birthday coming, a price
 * that dropped).
 *
 * Threads: the scheduler thread evaluates; request workers only queue ids
 * (a mutex, a copy, a signal) so RecordEvents never waits for an
 * evaluation. app_triggers_evaluate may be called from any thread: `eval`
 * serializes evaluations (triggers.h needs them not to overlap).
 *
 * Shutdown: app_triggers_stop sets `stop`, signals, and joins; the thread
 * checks `stop` between customers, so it returns within one evaluation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "coupon_catalog.h"
#include "log.h"
#include "store_links.h"
#include "store_record.h"
#include "wallclock.h"

#define QUEUE_MAX 4096   /* queued customers; beyond, a full scan runs instead */

typedef struct trigger_sched {
    app_t *a;
    pthread_t thread;
    pthread_mutex_t mu;      /* guards everything below */
    pthread_cond_t wake;
    int stop;
    int scan_now;            /* the queue overflowed: scan everyone */
    char **queue;            /* malloc'd ids */
    size_t n_queued;
    pthread_mutex_t eval;    /* one evaluation at a time */
} trigger_sched_t;

int app_triggers_evaluate(app_t *a, const char *customer_id, int64_t now_ms,
                          triggers_result_t *res)
{
    trigger_sched_t *ts = a->trigger_sched;
    customers_ctx_t c;
    triggers_env_t env;
    contactstore_env_t contact = { a->store, NULL, a->zones };
    const settings_t *set;
    model_t *m;
    coupon_catalog_t *coupons;
    triggers_result_t r;
    char who[STORE_MAX_ID + 1];
    int rc;

    if (!ts)
        return 0;
    /* Events of an id merged away land on its survivor (store_links.h). */
    if ((rc = store_resolve_customer(a->store, customer_id, who)) < 0)
        return rc == -EINVAL ? 0 : rc;
    customer_id = who;
    pthread_mutex_lock(&ts->eval);
    m = model_slot_get(&a->models);
    coupons = coupon_catalog_slot_get(&a->coupons);
    app_customers_begin(a, NULL, &c);
    /* One programme for the whole evaluation: rules, contact policy, guards. */
    set = app_customers_settings(&c);
    contact.cfg = &set->profile.contact;
    env = (triggers_env_t){ .cust = &c, .model = m,
                            .coupons = coupons ? coupons->coupons : NULL,
                            .n_coupons = coupons ? coupons->n : 0, .coupon_cfg = &set->coupon,
                            .contact = &contact };
    rc = triggers_evaluate(&env, customer_id, now_ms, &r);
    app_customers_end(a, &c);
    coupon_catalog_unref(coupons);
    model_unref(m);
    if (r.last_seq)
        atomic_store(&a->trigger_next, r.last_seq + 1);
    counters_triggers(&a->counters, COUNTERS_TRIGGER_LOGGED, r.logged);
    counters_triggers(&a->counters, COUNTERS_TRIGGER_DEFERRED, r.deferred);
    counters_triggers(&a->counters, COUNTERS_TRIGGER_SUPPRESSED, r.suppressed);
    pthread_mutex_unlock(&ts->eval);
    if (res)
        *res = r;
    if (rc)
        plog(LOG_ERROR, "triggers: evaluating a customer failed: %s", store_strerror(rc));
    return rc;
}

static int stopping(trigger_sched_t *ts)
{
    int stop;
    pthread_mutex_lock(&ts->mu);
    stop = ts->stop;
    pthread_mutex_unlock(&ts->mu);
    return stop;
}

/* Every customer with events, in index order, until done or stopped. */
static void scan_with_events(trigger_sched_t *ts)
{
    app_t *a = ts->a;
    uint32_t n = 0, items;
    char id[STORE_MAX_ID + 1];

    if (store_counts(a->store, &n, &items) != 0)
        return;
    for (uint32_t i = 0; i < n && !stopping(ts); i++)
        if (store_customer_id(a->store, i, id, sizeof id) == 0)
            app_triggers_evaluate(a, id, wall_ms(), NULL);
}

#define SCAN_PAGE 128

/* Every customer known only by SetCustomerAttributes (a birthday or a
 * signup date, no events yet), a page of ids at a time, so no read
 * transaction stays open while they are evaluated. */
static void scan_attribute_only(trigger_sched_t *ts)
{
    char (*ids)[STORE_MAX_ID + 1] = malloc(SCAN_PAGE * sizeof *ids);
    char after[STORE_MAX_ID + 1] = "";
    size_t n = SCAN_PAGE;
    int rc = ids ? 0 : -ENOMEM;

    while (rc == 0 && n == SCAN_PAGE && !stopping(ts)) {
        if ((rc = store_attr_only_customers(ts->a->store, after, ids, SCAN_PAGE, &n)) != 0)
            break;
        for (size_t i = 0; i < n && !stopping(ts); i++)
            app_triggers_evaluate(ts->a, ids[i], wall_ms(), NULL);
        if (n)
            memcpy(after, ids[n - 1], sizeof after);
    }
    if (rc)
        plog(LOG_ERROR, "triggers: listing the customers known by attributes failed: %s",
             store_strerror(rc));
    free(ids);
}

/* Every customer: those with events, then those with attributes alone
 * (time-based rules such as birthday and anniversary need no events). */
static void scan_all(trigger_sched_t *ts)
{
    scan_with_events(ts);
    scan_attribute_only(ts);
}

/* Evaluates the queued customers (taken under the lock, evaluated without). */
static void drain_queue(trigger_sched_t *ts, char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        app_triggers_evaluate(ts->a, ids[i], wall_ms(), NULL);
        free(ids[i]);
    }
    free(ids);
}

static struct timespec deadline_after(uint32_t seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += seconds;
    return t;
}

/* The programme in force's scan period: an edit changes it from the next
 * scan on. */
static uint32_t scan_period(app_t *a)
{
    programme_t *p = app_programme(a);
    uint32_t period = p->settings.profile.triggers.scan_seconds;
    programme_unref(p);
    return period;
}

static void *sched_main(void *arg)
{
    trigger_sched_t *ts = arg;
    struct timespec next_scan = deadline_after(0);

    pthread_mutex_lock(&ts->mu);
    while (!ts->stop) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (ts->n_queued) {
            char **ids = ts->queue;
            size_t n = ts->n_queued;
            ts->queue = NULL;
            ts->n_queued = 0;
            pthread_mutex_unlock(&ts->mu);
            drain_queue(ts, ids, n);
            pthread_mutex_lock(&ts->mu);
            continue;
        }
        if (ts->scan_now || now.tv_sec > next_scan.tv_sec ||
            (now.tv_sec == next_scan.tv_sec && now.tv_nsec >= next_scan.tv_nsec)) {
            ts->scan_now = 0;
            pthread_mutex_unlock(&ts->mu);
            scan_all(ts);
            next_scan = deadline_after(scan_period(ts->a));
            pthread_mutex_lock(&ts->mu);
            continue;
        }
        pthread_cond_timedwait(&ts->wake, &ts->mu, &next_scan);
    }
    pthread_mutex_unlock(&ts->mu);
    return NULL;
}

int app_triggers_start(app_t *a)
{
    trigger_sched_t *ts;
    pthread_condattr_t ca;
    programme_t *p = app_programme(a);
    size_t rules = p->settings.profile.triggers.n_rules;
    uint64_t next = 1;
    int rc;

    programme_unref(p);
    if ((rc = triggers_next_seq(a->store, &next)) != 0)
        return rc;
    atomic_store(&a->trigger_next, next);
    if (rules == 0)
        return 0;
    if (!(ts = calloc(1, sizeof *ts)))
        return -ENOMEM;
    ts->a = a;
    pthread_mutex_init(&ts->mu, NULL);
    pthread_mutex_init(&ts->eval, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ts->wake, &ca);
    pthread_condattr_destroy(&ca);
    a->trigger_sched = ts;
    if ((rc = pthread_create(&ts->thread, NULL, sched_main, ts)) != 0) {
        a->trigger_sched = NULL;
        pthread_cond_destroy(&ts->wake);
        pthread_mutex_destroy(&ts->mu);
        pthread_mutex_destroy(&ts->eval);
        free(ts);
        return -rc;
    }
    return 0;
}

void app_triggers_stop(app_t *a)
{
    trigger_sched_t *ts = a->trigger_sched;
    if (!ts)
        return;
    pthread_mutex_lock(&ts->mu);
    ts->stop = 1;
    pthread_cond_signal(&ts->wake);
    pthread_mutex_unlock(&ts->mu);
    pthread_join(ts->thread, NULL);
    for (size_t i = 0; i < ts->n_queued; i++)
        free(ts->queue[i]);
    free(ts->queue);
    a->trigger_sched = NULL;
    pthread_cond_destroy(&ts->wake);
    pthread_mutex_destroy(&ts->mu);
    pthread_mutex_destroy(&ts->eval);
    free(ts);
}

/* Appends id unless queued already or the queue is full (then scan_now). */
static void enqueue(trigger_sched_t *ts, const char *id)
{
    char *copy;
    for (size_t i = 0; i < ts->n_queued; i++)
        if (strcmp(ts->queue[i], id) == 0)
            return;
    if (ts->n_queued == QUEUE_MAX) {
        ts->scan_now = 1;
        return;
    }
    if (!ts->queue && !(ts->queue = calloc(QUEUE_MAX, sizeof *ts->queue))) {
        ts->scan_now = 1;
        return;
    }
    if (!(copy = strdup(id))) {
        ts->scan_now = 1;
        return;
    }
    ts->queue[ts->n_queued++] = copy;
}

void app_triggers_touch(app_t *a, const char *const *customer_ids, size_t n)
{
    trigger_sched_t *ts = a->trigger_sched;
    if (!ts || n == 0)
        return;
    pthread_mutex_lock(&ts->mu);
    for (size_t i = 0; i < n; i++)
        if (customer_ids[i] && customer_ids[i][0])
            enqueue(ts, customer_ids[i]);
    pthread_cond_signal(&ts->wake);
    pthread_mutex_unlock(&ts->mu);
}
