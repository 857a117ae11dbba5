/*
 * test_srv_deadline.c - long calls give their worker back (issue 20 item 8).
 *
 * SelectAudience works in steps (transport.h's server-streaming contract):
 * start only parses, each next() matches a bounded number of customers
 * (RPC_STREAM_YIELD) until the population is done, then produces one member
 * per step, the total on the first; the transport checks the deadline and
 * cancellation between steps (tests/integration/test_streams.py).
 * GetExperimentResults, a scan over every exposed customer, stops with
 * DEADLINE_EXCEEDED once the call's deadline has passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "methods.h"
#include "patron/v1/profiles.pb-c.h"
#include "experiments_rpc.h"
#include "patron/v1/experiments.pb-c.h"
#include "profiles_rpc.h"
#include "testexperiment.h"
#include "testutil.h"

#define NOW 1718000000000LL

static void setup(store_t *s)
{
    store_item_t item = { .item_id = "g1", .title = NULL, .category = "Garden",
                          .price = 10, .unit_cost = 5, .in_stock = 1 };
    store_event_t ev[3] = {
        { "e1", "c1", "g1", STORE_EVENT_PURCHASE, NOW - 1000, 1, 10, NULL },
        { "e2", "c2", "g1", STORE_EVENT_PURCHASE, NOW - 1000, 1, 10, NULL },
        { "e3", "c3", "g1", STORE_EVENT_PURCHASE, NOW - 1000, 1, 10, NULL },
    };
    uint8_t out[3];
    const char *why[3];
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 3, out, why), 0);
}

/* Runs SelectAudience step by step as the transport would; checks the
 * members come in customer order with the total first, and returns how many
 * steps yielded before the first message. */
static int audience_steps(app_t *a, int customers)
{
    Patron__V1__SelectAudienceRequest r = PATRON__V1__SELECT_AUDIENCE_REQUEST__INIT;
    rpc_call_info_t ci = { .deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC) };
    rpc_reply_t out;
    uint8_t buf[256];
    size_t len;
    void *st;
    int step, yields = 0, members = 0;

    r.as_of_unix_ms = NOW;
    len = patron__v1__select_audience_request__pack(&r, buf);
    memset(&out, 0, sizeof out);
    st = select_audience_ops.start(a, &ci, buf, len, &out);
    CHECK(st != NULL);
    if (!st)
        return -1;
    for (;;) {
        Patron__V1__SelectAudienceResponse *m;
        memset(&out, 0, sizeof out);
        step = select_audience_ops.next(st, &out);
        CHECK_EQ_INT(out.code, GRPC_STATUS_OK);
        if (step == RPC_STREAM_DONE)
            break;
        if (step == RPC_STREAM_YIELD) {
            CHECK(members == 0); /* every customer is matched before a member is sent */
            CHECK(out.body == NULL);
            yields++;
            continue;
        }
        CHECK_EQ_INT(step, RPC_STREAM_MESSAGE);
        m = patron__v1__select_audience_response__unpack(NULL, out.len, out.body);
        CHECK(m != NULL);
        if (m) {
            char want[16];
            snprintf(want, sizeof want, "c%d", members + 1);
            CHECK(strcmp(m->customer_id, want) == 0);
            CHECK_EQ_INT((int)m->total, members == 0 ? customers : 0);
            patron__v1__select_audience_response__free_unpacked(m, NULL);
        }
        free(out.body);
        members++;
    }
    CHECK_EQ_INT(members, customers);
    select_audience_ops.close(st);
    return yields;
}

/* GetExperimentResults of an experiment with one exposed customer, with
 * the call's deadline `ms` from now; returns the status code. */
static int results(app_t *a, int64_t ms)
{
    Patron__V1__GetExperimentResultsRequest r =
        PATRON__V1__GET_EXPERIMENT_RESULTS_REQUEST__INIT;
    rpc_call_info_t ci = { .deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                                    gpr_time_from_millis(ms, GPR_TIMESPAN)) };
    rpc_reply_t out;
    uint8_t buf[256];
    size_t len;

    r.experiment_id = "exp";
    len = patron__v1__get_experiment_results_request__pack(&r, buf);
    memset(&out, 0, sizeof out);
    h_experiment_results(a, &ci, buf, len, &out);
    free(out.body);
    if (out.code == GRPC_STATUS_DEADLINE_EXCEEDED)
        CHECK(strstr(out.message, "deadline") != NULL);
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

    CHECK(audience_steps(&a, 3) >= 1); /* matching is a step of its own */

    /* GetExperimentResults scans every exposed customer: it stops at the
     * deadline (before: it answered however long the scan took). */
    {
        experiment_t e = test_two_arms("exp", "default", "control", "treatment", NOW - 1000);
        expstore_exposure_t x = { "req-1", "c1", "exp", 0, 0, NOW, NULL, 0 };
        char err[256];
        CHECK_EQ_INT(exp_slot_put(&a.experiments, &e, 0, NOW, err, sizeof err), 0);
        CHECK_EQ_INT(expstore_log(s, &x), 0);
        CHECK_EQ_INT(results(&a, 60000), GRPC_STATUS_OK);
        CHECK_EQ_INT(results(&a, -1), GRPC_STATUS_DEADLINE_EXCEEDED);
    }

    app_destroy(&a);
    store_close(s);
    TEST_MAIN_END();
}
