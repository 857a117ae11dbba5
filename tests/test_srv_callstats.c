/*
 * test_srv_callstats.c - per-method counters and latency quantiles: exact
 * counts (also from concurrent threads), quantiles within the histogram's
 * 12.5%, and bucket edges.
 */
#include <math.h>
#include <pthread.h>

#include "callstats.h"
#include "testutil.h"

static int near(double got, double want, double rel)
{
    return fabs(got - want) <= rel * want;
}

static void test_quantiles(void)
{
    static callstats_t s; /* zeroed */
    callstats_summary_t sum;

    callstats_summarize(&s, &sum);
    CHECK(sum.calls == 0 && sum.p99_ms == 0 && sum.max_ms == 0);
    for (int i = 0; i < 900; i++)
        callstats_record(&s, 0, 100);        /* 0.1 ms, OK */
    for (int i = 0; i < 95; i++)
        callstats_record(&s, 0, 10000);      /* 10 ms */
    for (int i = 0; i < 5; i++)
        callstats_record(&s, 3, 10000);      /* INVALID_ARGUMENT */
    callstats_record(&s, 99, 7);             /* an out-of-range code: UNKNOWN */
    callstats_summarize(&s, &sum);
    CHECK_EQ_INT(sum.calls, 1001);
    CHECK_EQ_INT(sum.errors, 6);
    CHECK_EQ_INT(sum.by_code[3], 5);
    CHECK_EQ_INT(sum.by_code[2], 1);
    CHECK(near(sum.p50_ms, 0.1, 0.125));
    CHECK(near(sum.p90_ms, 0.1, 0.125));
    CHECK(near(sum.p99_ms, 10.0, 0.125));
    CHECK(sum.max_ms == 10.0);
    CHECK(near(sum.mean_ms, (900 * 0.1 + 100 * 10.0 + 0.007) / 1001, 1e-9));
}

static void test_buckets(void)
{
    /* Every duration falls in a bucket whose middle is within 12.5%. */
    for (uint64_t us = 1; us < (1ull << 33); us = us * 3 / 2 + 1) {
        unsigned b = callstats_bucket(us);
        CHECK(b < CALLSTATS_BUCKETS);
        if (!near(callstats_bucket_mid(b), (double)us, 0.125))
            fprintf(stderr, "  %llu us -> bucket %u, middle %g\n", (unsigned long long)us, b,
                    callstats_bucket_mid(b));
        CHECK(near(callstats_bucket_mid(b), (double)us, 0.125));
        CHECK(callstats_bucket(us + 1) >= b); /* monotone */
    }
    CHECK_EQ_INT(callstats_bucket(0), 0);
    CHECK_EQ_INT(callstats_bucket(UINT64_MAX), CALLSTATS_BUCKETS - 1);
}

static callstats_t shared;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        callstats_record(&shared, i % 10 == 0 ? 14 : 0, (uint64_t)(i % 1000));
    return NULL;
}

static void test_concurrent(void)
{
    pthread_t t[4];
    callstats_summary_t sum;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    callstats_summarize(&shared, &sum);
    CHECK_EQ_INT(sum.calls, 400000);
    CHECK_EQ_INT(sum.by_code[14], 40000);
    CHECK(sum.max_ms == 0.999);
}

int main(void)
{
    test_quantiles();
    test_buckets();
    test_concurrent();
    TEST_MAIN_END();
}
