/*
 * test_srv_access.c - the access log's pieces that need no server: the W3C
 * traceparent header read for its trace id (valid forms accepted, every
 * malformed one refused so a bad header never lands in a log line as a
 * trace id), and the handler tags (rpc_tags_set) cut to their size.
 */
#include <string.h>

#include "access.h"
#include "testutil.h"

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"

static int tid(const char *v, char out[33])
{
    return traceparent_trace_id(v, strlen(v), out);
}

static void test_valid(void)
{
    char out[33];
    CHECK_EQ_INT(tid("00-" TRACE "-" PARENT "-01", out), 0);
    CHECK_STREQ(out, TRACE);
    CHECK_EQ_INT(tid("00-" TRACE "-" PARENT "-00", out), 0);
    /* A later version may append fields after the flags. */
    CHECK_EQ_INT(tid("01-" TRACE "-" PARENT "-01-what-comes-next", out), 0);
    CHECK_STREQ(out, TRACE);
    CHECK_EQ_INT(tid("cc-" TRACE "-" PARENT "-09", out), 0);
}

static void test_invalid(void)
{
    static const char *bad[] = {
        "",
        "00",
        "00-" TRACE "-" PARENT "-0",                              /* short */
        "00-" TRACE "-" PARENT "-01-extra",                       /* 00 is exact */
        "01-" TRACE "-" PARENT "-01x",                            /* no dash after */
        "ff-" TRACE "-" PARENT "-01",                             /* version ff */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01",      /* upper case */
        "00-00000000000000000000000000000000-" PARENT "-01",      /* zero trace */
        "00-" TRACE "-0000000000000000-01",                       /* zero parent */
        "00_" TRACE "-" PARENT "-01",
        "00-" TRACE "_" PARENT "-01",
        "00-" TRACE "-" PARENT "_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-" PARENT "-01",      /* not hex */
        "00-" TRACE "-" PARENT "-0g",
        "0g-" TRACE "-" PARENT "-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736\n-" PARENT "-0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[33] = "unchanged";
        if (tid(bad[i], out) != -1 || out[0] != '\0') {
            fprintf(stderr, "accepted bad traceparent #%zu: %s\n", i, bad[i]);
            test_failures++;
        }
    }
    /* Bytes beyond len are not read: a valid value cut short is refused. */
    {
        char out[33];
        const char *v = "00-" TRACE "-" PARENT "-01";
        CHECK_EQ_INT(traceparent_trace_id(v, strlen(v) - 1, out), -1);
    }
}

static void test_tags(void)
{
    rpc_call_tags_t tags;
    rpc_call_info_t ci = { .tags = &tags };
    char long_id[200];

    memset(&tags, 0, sizeof tags);
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    rpc_tags_set(&ci, long_id, 7, "exp", NULL);
    CHECK_EQ_INT(strlen(tags.request_id), RPC_TAG_MAX - 1);
    CHECK_EQ_INT(tags.model_version, 7);
    CHECK_STREQ(tags.experiment, "exp");
    CHECK_STREQ(tags.arm, "");
    rpc_tags_set(&ci, NULL, 8, NULL, "arm-b");
    CHECK_EQ_INT(strlen(tags.request_id), RPC_TAG_MAX - 1); /* NULL: left as is */
    CHECK_STREQ(tags.arm, "arm-b");
    /* Handlers called outside the transport have no tags: nothing happens. */
    ci.tags = NULL;
    rpc_tags_set(&ci, "x", 1, "y", "z");
    rpc_tags_set(NULL, "x", 1, "y", "z");
}

int main(void)
{
    test_valid();
    test_invalid();
    test_tags();
    TEST_MAIN_END();
}
