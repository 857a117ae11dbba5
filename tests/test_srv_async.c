/*
 * test_srv_async.c - unary calls answered later (transport.h's
 * rpc_async_handler_fn), against a real transport on loopback with ONE
 * request worker and the gRPC C client:
 *
 *  - the worker does not wait for a taken call: CALLS concurrent calls
 *    are all taken before any is answered (with a blocking handler on one
 *    worker the second could not start until the first was answered), then
 *    another thread answers them all, each with its own reply, and they
 *    finish OK (or with the error status given);
 *  - a call answered from inside the handler works too;
 *  - transport_stop waits for a taken call to be answered: the client
 *    still gets its reply.
 *
 * Every wait is bounded; nothing asserts a duration.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "testutil.h"
#include "transport.h"

#define CALLS 6

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static rpc_pending_t *taken[CALLS];
static uint8_t taken_req[CALLS];
static int n_taken;

/* Waits (at most 20 s) until n calls were taken; returns how many were. */
static int wait_taken(int n)
{
    struct timespec until;
    int got;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&mu);
    while (n_taken < n && pthread_cond_timedwait(&cv, &mu, &until) == 0)
        ;
    got = n_taken;
    pthread_mutex_unlock(&mu);
    return got;
}

/* Parks the call for the test to answer; request byte 0xff answers it at
 * once from inside the handler. */
static void h_later(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                    rpc_pending_t *p)
{
    (void)app, (void)ci;
    if (len == 1 && req[0] == 0xff) {
        rpc_reply_t r = { .code = GRPC_STATUS_OK, .body = malloc(1), .len = 1 };
        r.body[0] = 0xfe;
        rpc_pending_finish(p, &r);
        return;
    }
    pthread_mutex_lock(&mu);
    if (n_taken < CALLS) {
        taken_req[n_taken] = len ? req[0] : 0;
        taken[n_taken++] = p;
        p = NULL;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (p) { /* more than the test makes: answer at once */
        rpc_reply_t r = { .code = GRPC_STATUS_OK };
        rpc_pending_finish(p, &r);
    }
}

/* The sync twin the HTTP gateway would call (not used by the transport). */
static void h_sync(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                   rpc_reply_t *out)
{
    (void)app, (void)ci, (void)req, (void)len, (void)out;
}

static const rpc_method_t methods[] = {
    { .path = "/t.T/Later", .handler = h_sync, .async_handler = h_later },
};

static char addr[64];

typedef struct call {
    uint8_t req;
    client_result_t res;
    int rc;
} call_t;

static void *run_call(void *arg)
{
    call_t *c = arg;
    client_t *cl = NULL;
    c->res.code = GRPC_STATUS_UNKNOWN;
    c->rc = client_open(addr, &cl);
    if (c->rc == 0)
        c->rc = client_unary(cl, "/t.T/Later", &c->req, 1, 20000, &c->res);
    client_close(cl);
    return NULL;
}

/* Answers every taken call: its request byte + 1, or, for byte 3,
 * FAILED_PRECONDITION. */
static void answer_all(void)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n_taken; i++) {
        rpc_reply_t r = { .code = GRPC_STATUS_OK };
        if (taken_req[i] == 3) {
            rpc_fail(&r, GRPC_STATUS_FAILED_PRECONDITION, "three: refused");
        } else {
            r.body = malloc(1);
            r.body[0] = (uint8_t)(taken_req[i] + 1);
            r.len = 1;
        }
        rpc_pending_finish(taken[i], &r);
    }
    n_taken = 0;
    pthread_mutex_unlock(&mu);
}

static void test_all_taken_before_answering(void)
{
    call_t c[CALLS];
    pthread_t th[CALLS];

    for (int i = 0; i < CALLS; i++) {
        c[i] = (call_t){ .req = (uint8_t)i };
        CHECK_EQ_INT(pthread_create(&th[i], NULL, run_call, &c[i]), 0);
    }
    /* One worker took every call while none was answered. */
    CHECK_EQ_INT(wait_taken(CALLS), CALLS);
    answer_all();
    for (int i = 0; i < CALLS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(c[i].rc, 0);
        if (i == 3) {
            CHECK_EQ_INT(c[i].res.code, GRPC_STATUS_FAILED_PRECONDITION);
            CHECK(strstr(c[i].res.details, "three") != NULL);
        } else {
            CHECK_EQ_INT(c[i].res.code, GRPC_STATUS_OK);
            CHECK_EQ_INT((int)c[i].res.len, 1);
            CHECK_EQ_INT(c[i].res.len == 1 ? c[i].res.body[0] : -1, i + 1);
        }
        free(c[i].res.body);
    }
}

static void test_answered_inside_handler(void)
{
    call_t c = { .req = 0xff };
    run_call(&c);
    CHECK_EQ_INT(c.rc, 0);
    CHECK_EQ_INT(c.res.code, GRPC_STATUS_OK);
    CHECK_EQ_INT(c.res.len == 1 ? c.res.body[0] : -1, 0xfe);
    free(c.res.body);
}

static void *answer_later(void *arg)
{
    (void)arg;
    usleep(200000); /* transport_stop is waiting by now (or soon) */
    answer_all();
    return NULL;
}

/* transport_stop waits for the taken call; the client gets its answer. */
static void test_stop_waits_for_taken(transport_t *t)
{
    call_t c = { .req = 41 };
    pthread_t client, answerer;

    CHECK_EQ_INT(pthread_create(&client, NULL, run_call, &c), 0);
    CHECK_EQ_INT(wait_taken(1), 1);
    CHECK_EQ_INT(pthread_create(&answerer, NULL, answer_later, NULL), 0);
    transport_stop(t, 5000);
    pthread_join(answerer, NULL);
    pthread_join(client, NULL);
    CHECK_EQ_INT(c.rc, 0);
    CHECK_EQ_INT(c.res.code, GRPC_STATUS_OK);
    CHECK_EQ_INT(c.res.len == 1 ? c.res.body[0] : -1, 42);
    free(c.res.body);
}

int main(void)
{
    transport_t *t = NULL;
    int port = 0;

    CHECK_EQ_INT(transport_start("127.0.0.1:0", 1, methods, 1, NULL, NULL, &t, &port), 0);
    if (!t)
        TEST_MAIN_END();
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    test_answered_inside_handler();
    test_all_taken_before_answering();
    test_stop_waits_for_taken(t);
    TEST_MAIN_END();
}
