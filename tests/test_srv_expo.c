/*
 * test_srv_expo.c - the Prometheus text exposition (server/admin/expo.h) and
 * the RPC families built from callstats (metrics_rpc): the format's lines,
 * escaping, and a latency histogram that is cumulative, sums to _count and
 * puts each duration in the bucket Prometheus' `le` semantics promise.
 */
#include <math.h>

#include "expo.h"
#include "metrics.h"
#include "testutil.h"

/* The value of the sample line that starts with series followed by a
 * space, or NAN if there is none. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return NAN;
}

static char *render(void (*fn)(expo_t *, void *), void *ctx)
{
    expo_t e;
    size_t len;
    char *text;

    expo_init(&e);
    fn(&e, ctx);
    text = expo_take(&e, &len);
    CHECK(text != NULL);
    CHECK_EQ_INT(strlen(text), len);
    return text;
}

static void write_escapes(expo_t *e, void *ctx)
{
    expo_label_t l[] = { { "campaign", "a\\b\"c\nd" }, { "arm", "plain" } };
    (void)ctx;
    expo_family(e, "x_total", "counter", "Help with \\ and\na newline \"kept\".");
    expo_u64(e, "x_total", l, 2, 18446744073709551615ull);
    expo_family(e, "y", "gauge", "Gauge.");
    expo_double(e, "y", NULL, 0, 0.25);
    expo_double(e, "y", l + 1, 1, NAN);
    expo_double(e, "y", l + 1, 1, -INFINITY);
}

static void test_format_and_escaping(void)
{
    char *text = render(write_escapes, NULL);
    CHECK_STREQ(text,
                "# HELP x_total Help with \\\\ and\\na newline \"kept\".\n"
                "# TYPE x_total counter\n"
                "x_total{campaign=\"a\\\\b\\\"c\\nd\",arm=\"plain\"} 18446744073709551615\n"
                "# HELP y Gauge.\n"
                "# TYPE y gauge\n"
                "y 0.25\n"
                "y{arm=\"plain\"} NaN\n"
                "y{arm=\"plain\"} -Inf\n");
    free(text);
}

static void test_empty_text(void)
{
    expo_t e;
    size_t len = 99;
    char *text;
    expo_init(&e);
    text = expo_take(&e, &len);
    CHECK(text != NULL && text[0] == '\0');
    CHECK_EQ_INT(len, 0);
    free(text);
}

/* Two methods and the unknown-method slot. */
static const rpc_method_t methods[] = {
    { .path = "/p.S/A" },
    { .path = "/p.S/B" },
};
static const rpc_api_t api = { methods, 2, NULL, 0 };

static void write_rpc(expo_t *e, void *ctx)
{
    metrics_rpc(e, &api, ctx);
}

static void test_rpc_histogram(void)
{
    static callstats_t stats[3];
    static const uint64_t us[] = { 10, 31, 32, 100, 2000000, 20000000 };
    const char *p, *prev_le = NULL;
    uint64_t prev = 0, total = 0;
    char *text;
    int buckets = 0;

    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++)
        callstats_record(&stats[0], us[i] == 100 ? 3 : 0, us[i]);
    callstats_record(&stats[2], 12, 5);
    text = render(write_rpc, stats);

    CHECK_EQ_INT(sample(text, "patron_rpc_calls_total{method=\"/p.S/A\",code=\"OK\"}"), 5);
    CHECK_EQ_INT(sample(text, "patron_rpc_calls_total{method=\"/p.S/A\","
                              "code=\"INVALID_ARGUMENT\"}"), 1);
    CHECK_EQ_INT(sample(text, "patron_rpc_calls_total{method=\"/p.S/B\",code=\"OK\"}"), 0);
    CHECK(isnan(sample(text, "patron_rpc_calls_total{method=\"/p.S/B\",code=\"CANCELLED\"}")));
    CHECK_EQ_INT(sample(text, "patron_rpc_calls_total{method=\"(unknown)\","
                              "code=\"UNIMPLEMENTED\"}"), 1);

    /* Recorded durations are truncated: 32 us means 32..33 us, above le=32 us. */
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"0.000032\"}"), 2);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"0.000064\"}"), 3);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"0.000128\"}"), 4);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"1.048576\"}"), 4);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"2.097152\"}"), 5);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"16.777216\"}"), 5);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\","
                              "le=\"+Inf\"}"), 6);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_count{method=\"/p.S/A\"}"), 6);
    CHECK(fabs(sample(text, "patron_rpc_duration_seconds_sum{method=\"/p.S/A\"}") -
               22000173e-6) < 1e-9);
    CHECK_EQ_INT(sample(text, "patron_rpc_duration_seconds_count{method=\"/p.S/B\"}"), 0);

    /* Method A's buckets: 20 bounds and +Inf, cumulative, ending at _count. */
    for (p = strstr(text, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\""); p;
         p = strstr(p + 1, "patron_rpc_duration_seconds_bucket{method=\"/p.S/A\"")) {
        const char *le = strstr(p, "le=\"") + 4;
        uint64_t v = strtoull(strchr(p, ' ') + 1, NULL, 10);
        CHECK(v >= prev);
        if (prev_le && strncmp(le, "+Inf", 4) != 0)
            CHECK(strtod(le, NULL) > strtod(prev_le, NULL));
        prev = v;
        prev_le = le;
        total = v;
        buckets++;
    }
    CHECK_EQ_INT(buckets, METRICS_LE_LAST_OCTAVE - METRICS_LE_FIRST_OCTAVE + 2);
    CHECK_EQ_INT(total, 6);

    /* Each family is announced once, before its samples. */
    CHECK(strstr(text, "# TYPE patron_rpc_calls_total counter\n") == strstr(text, "# TYPE"));
    CHECK(strstr(text, "# TYPE patron_rpc_duration_seconds histogram\n") <
          strstr(text, "patron_rpc_duration_seconds_bucket"));
    free(text);
}

int main(void)
{
    test_format_and_escaping();
    test_empty_text();
    test_rpc_histogram();
    if (test_failures) {
        fprintf(stderr, "%d check(s) failed\n", test_failures);
        return 1;
    }
    printf("test_srv_expo: ok\n");
    return 0;
}
