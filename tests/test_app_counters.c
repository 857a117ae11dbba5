/*
 * test_app_counters.c - the use cases' monitoring counters
 * (recsys/app/counters.h): per-type and per-outcome counts, exposures per
 * (experiment, arm) sorted, the table's cap, NULL counters, and exact
 * counts from several threads at once.
 */
#include <pthread.h>

#include "counters.h"
#include "store.h"
#include "coupon.h"
#include "testutil.h"

static void arms_of(arms_t *a, const char *exp1, const char *arm1, const char *exp2,
                    const char *arm2)
{
    memset(a, 0, sizeof *a);
    snprintf(a->a[0].experiment, sizeof a->a[0].experiment, "%s", exp1);
    snprintf(a->a[0].arm, sizeof a->a[0].arm, "%s", arm1);
    a->n = 1;
    if (exp2) {
        snprintf(a->a[1].experiment, sizeof a->a[1].experiment, "%s", exp2);
        snprintf(a->a[1].arm, sizeof a->a[1].arm, "%s", arm2);
        a->n = 2;
    }
}

static void test_counts(void)
{
    counters_t c;
    counters_arm_t *t;
    arms_t a;
    size_t n;
    uint64_t dropped = 9;

    counters_init(&c);
    counters_event(&c, STORE_EVENT_PURCHASE);
    counters_event(&c, STORE_EVENT_PURCHASE);
    counters_event(&c, STORE_EVENT_VIEW);
    counters_event(&c, 0);   /* not a type: ignored */
    counters_event(&c, 99);
    counters_events_rejected(&c, 3);
    counters_decision(&c, COUPON_NONE_HOLDOUT);
    counters_decision(&c, -1);
    CHECK_EQ_INT(c.events[STORE_EVENT_PURCHASE], 2);
    CHECK_EQ_INT(c.events[STORE_EVENT_VIEW], 1);
    CHECK_EQ_INT(c.events[0], 0);
    CHECK_EQ_INT(c.events_rejected, 3);
    CHECK_EQ_INT(c.decisions[COUPON_NONE_HOLDOUT], 1);

    arms_of(&a, "zeta", "b", "alpha", "control");
    counters_exposure(&c, &a);
    arms_of(&a, "zeta", "a", NULL, NULL);
    counters_exposure(&c, &a);
    arms_of(&a, "zeta", "b", NULL, NULL);
    counters_exposure(&c, &a);
    a.n = 0;
    counters_exposure(&c, &a);
    CHECK_EQ_INT(counters_arms(&c, &t, &n, &dropped), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(dropped, 0);
    if (n == 3) {
        CHECK_STREQ(t[0].experiment, "alpha");
        CHECK_STREQ(t[0].arm, "control");
        CHECK_EQ_INT(t[0].exposures, 1);
        CHECK_STREQ(t[1].arm, "a");
        CHECK_EQ_INT(t[1].exposures, 1);
        CHECK_STREQ(t[2].arm, "b");
        CHECK_EQ_INT(t[2].exposures, 2);
    }
    free(t);
    counters_destroy(&c);

    /* NULL counters: nothing happens. */
    counters_event(NULL, STORE_EVENT_VIEW);
    counters_events_rejected(NULL, 1);
    counters_decision(NULL, COUPON_GRANT);
    arms_of(&a, "x", "y", NULL, NULL);
    counters_exposure(NULL, &a);
}

static void test_cap(void)
{
    counters_t c;
    counters_arm_t *t;
    arms_t a;
    size_t n;
    uint64_t dropped;
    char arm[32];

    counters_init(&c);
    CHECK_EQ_INT(counters_arms(&c, &t, &n, &dropped), 0);
    CHECK(t == NULL && n == 0);
    for (int i = 0; i < COUNTERS_MAX_ARMS + 5; i++) {
        snprintf(arm, sizeof arm, "arm%05d", i);
        arms_of(&a, "e", arm, NULL, NULL);
        counters_exposure(&c, &a);
    }
    arms_of(&a, "e", "arm00000", NULL, NULL); /* known arms still count */
    counters_exposure(&c, &a);
    CHECK_EQ_INT(counters_arms(&c, &t, &n, &dropped), 0);
    CHECK_EQ_INT(n, COUNTERS_MAX_ARMS);
    CHECK_EQ_INT(dropped, 5);
    CHECK_EQ_INT(t[0].exposures, 2);
    free(t);
    counters_destroy(&c);
}

#define THREADS 4
#define ROUNDS 20000

static void *hammer(void *arg)
{
    counters_t *c = arg;
    arms_t a;
    arms_of(&a, "exp", "arm", "exp2", "arm");
    for (int i = 0; i < ROUNDS; i++) {
        counters_event(c, STORE_EVENT_CART);
        counters_decision(c, COUPON_GRANT);
        counters_exposure(c, &a);
    }
    return NULL;
}

static void test_threads(void)
{
    counters_t c;
    pthread_t th[THREADS];
    counters_arm_t *t;
    size_t n;

    counters_init(&c);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, hammer, &c);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(c.events[STORE_EVENT_CART], THREADS * ROUNDS);
    CHECK_EQ_INT(c.decisions[COUPON_GRANT], THREADS * ROUNDS);
    CHECK_EQ_INT(counters_arms(&c, &t, &n, NULL), 0);
    CHECK_EQ_INT(n, 2);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(t[i].exposures, THREADS * ROUNDS);
    free(t);
    counters_destroy(&c);
}

int main(void)
{
    test_counts();
    test_cap();
    test_threads();
    if (test_failures) {
        fprintf(stderr, "%d check(s) failed\n", test_failures);
        return 1;
    }
    printf("test_app_counters: ok\n");
    return 0;
}
