/*
 * test_srv_deadline.c - long handlers stop at the call's deadline (issue 20
 * item 8): SelectAudience scans every customer (SelectCampaignAudience
 * shares the scan, customers_select); given a deadline that has passed by
 * the time the scan runs it answers DEADLINE_EXCEEDED instead of finishing
 * the scan, and with time left it answers as before.
 */
#include <errno.h>
#include <string.h>

#include "app.h"
#include "methods.h"
#include "patron/v1/profiles.pb-c.h"
#include "profiles_rpc.h"
#include "testutil.h"

#define NOW 1718000000000LL

static void setup(store_t *s)
{
    store_item_t item = { "g1", NULL, "Garden", 10, 5, 1 };
    store_event_t ev[3] = {
        { "e1", "c1", "g1", STORE_EVENT_PURCHASE, NOW - 1000, 1, 10 },
        { "e2", "c2", "g1", STORE_EVENT_PURCHASE, NOW - 1000, 1, 10 },
        { "e3", "c3", "g1", STORE_EVENT_PURCHASE, NOW - 1000, 1, 10 },
    };
    uint8_t out[3];
    const char *why[3];
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 3, out, why), 0);
}

/* Starts SelectAudience with the deadline `ms` from now; returns the code. */
static int audience(app_t *a, int64_t ms)
{
    Patron__V1__SelectAudienceRequest r = PATRON__V1__SELECT_AUDIENCE_REQUEST__INIT;
    rpc_call_info_t ci = { .deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                                    gpr_time_from_millis(ms, GPR_TIMESPAN)) };
    rpc_reply_t out;
    uint8_t buf[256];
    size_t len;
    void *st;

    r.as_of_unix_ms = NOW;
    len = patron__v1__select_audience_request__pack(&r, buf);
    memset(&out, 0, sizeof out);
    st = select_audience_ops.start(a, &ci, buf, len, &out);
    if (st) {
        CHECK_EQ_INT(out.code, GRPC_STATUS_OK);
        select_audience_ops.close(st);
    } else {
        CHECK(strstr(out.message, "deadline") != NULL);
    }
    free(out.body);
    return (int)out.code;
}

int main(void)
{
    store_t *s = NULL;
    app_t a;
    model_opts_t opts;

    if (store_open(test_tmpdir("srv-deadline"), 64u << 20, &s) != 0)
        return 1;
    setup(s);
    model_opts_default(&opts);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(app_init(&a, s, &opts), 0);
    a.api = &patron_api;

    CHECK_EQ_INT(audience(&a, 60000), GRPC_STATUS_OK);
    CHECK_EQ_INT(audience(&a, -1), GRPC_STATUS_DEADLINE_EXCEEDED);

    app_destroy(&a);
    store_close(s);
    TEST_MAIN_END();
}
