/*
 * test_srv_lanes.c - the transport keeps long calls from holding request
 * workers (issue 20 item 8), against a real transport on loopback with one
 * request worker and the gRPC C client:
 *
 *  - a server stream that works in steps (RPC_STREAM_YIELD) lets other
 *    calls through on the same worker, stops at its deadline with
 *    DEADLINE_EXCEEDED and at a client's cancel with CANCELLED, its state
 *    closed each time (before: a handler that computed everything in start
 *    held the worker until it was done);
 *  - a stream whose client does not read holds back: the handler is asked
 *    for its next message only once the previous one was sent, so what it
 *    produced stays within what the client read plus the flow-control
 *    window, and the deadline ends it;
 *  - a call on RPC_LANE_ADMIN runs on the admin thread: while one is
 *    blocked, calls on the request worker answer.
 *
 * Every wait is bounded; nothing asserts a duration.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callstats.h"
#include "client.h"
#include "testutil.h"
#include "transport.h"

#define FLOOD_BYTES (256 * 1024)

typedef struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int admin_running, admin_release;
    atomic_int streams_open, streams_closed;
    atomic_long steps, flood_made;
} shared_t;

static shared_t sh = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* Waits (at most 20 s) until *flag is nonzero; returns it. */
static int wait_flag(int *flag)
{
    struct timespec until;
    int v;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&sh.mu);
    while (!*flag && pthread_cond_timedwait(&sh.cv, &sh.mu, &until) == 0)
        ;
    v = *flag;
    pthread_mutex_unlock(&sh.mu);
    return v;
}

static void set_flag(int *flag)
{
    pthread_mutex_lock(&sh.mu);
    *flag = 1;
    pthread_cond_broadcast(&sh.cv);
    pthread_mutex_unlock(&sh.mu);
}

/* Polls (at most 20 s) until the atomic reaches want. */
static int wait_count(atomic_int *a, int want)
{
    for (int i = 0; i < 2000 && atomic_load(a) < want; i++)
        usleep(10000);
    return atomic_load(a) >= want;
}

static void h_fast(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                   rpc_reply_t *out)
{
    (void)app, (void)ci, (void)req, (void)len;
    out->body = malloc(1);
    out->body[0] = 0x2a;
    out->len = 1;
}

/* Blocks its thread until the test releases it. */
static void h_admin(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                    rpc_reply_t *out)
{
    (void)app, (void)ci, (void)req, (void)len, (void)out;
    set_flag(&sh.admin_running);
    wait_flag(&sh.admin_release);
}

/* Steps: works forever in small steps, sending one message after the first
 * 16, so a client can see it started. */
static void *steps_start(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out)
{
    (void)app, (void)ci, (void)req, (void)len, (void)out;
    atomic_fetch_add(&sh.streams_open, 1);
    return calloc(1, sizeof(long));
}

static int steps_next(void *st, rpc_reply_t *out)
{
    long *n = st;
    atomic_fetch_add(&sh.steps, 1);
    if (++*n == 16) {
        out->body = malloc(1);
        out->body[0] = 1;
        out->len = 1;
        return 1;
    }
    return RPC_STREAM_YIELD;
}

static void stream_close(void *st)
{
    free(st);
    atomic_fetch_add(&sh.streams_closed, 1);
}

/* Flood: an endless stream of large messages. */
static int flood_next(void *st, rpc_reply_t *out)
{
    (void)st;
    atomic_fetch_add(&sh.flood_made, 1);
    out->body = calloc(1, FLOOD_BYTES);
    out->len = FLOOD_BYTES;
    return 1;
}

static const rpc_stream_ops_t steps_ops = { .start = steps_start, .next = steps_next,
                                            .close = stream_close };
static const rpc_stream_ops_t flood_ops = { .start = steps_start, .next = flood_next,
                                            .close = stream_close };

enum { M_FAST, M_ADMIN, M_STEPS, M_FLOOD, N_METHODS };
static const rpc_method_t methods[N_METHODS] = {
    [M_FAST] = { .path = "/t.T/Fast", .handler = h_fast },
    [M_ADMIN] = { .path = "/t.T/Admin", .handler = h_admin, .lane = RPC_LANE_ADMIN },
    [M_STEPS] = { .path = "/t.T/Steps", .kind = RPC_SERVER_STREAM, .stream = &steps_ops },
    [M_FLOOD] = { .path = "/t.T/Flood", .kind = RPC_SERVER_STREAM, .stream = &flood_ops },
};

static char addr[64];

/* One call of Fast on a fresh client; returns its status. */
static int fast(void)
{
    client_t *c = NULL;
    client_result_t res;
    int code = -1;
    if (client_open(addr, &c) == 0 &&
        client_unary(c, "/t.T/Fast", (const uint8_t *)"", 0, 5000, &res) == 0) {
        code = (int)res.code;
        free(res.body);
    }
    client_close(c);
    return code;
}

typedef struct stream_call {
    const char *method;
    int timeout_ms;
    int cancel_after;      /* messages, 0: never cancel */
    useconds_t read_delay; /* per message: a slow reader */
    long received;
    client_result_t res;
} stream_call_t;

static int on_message(void *ctx, const uint8_t *msg, size_t len)
{
    stream_call_t *sc = ctx;
    (void)msg, (void)len;
    sc->received++;
    if (sc->read_delay)
        usleep(sc->read_delay);
    return sc->cancel_after && sc->received >= sc->cancel_after;
}

static void *run_stream(void *arg)
{
    stream_call_t *sc = arg;
    client_t *c = NULL;
    sc->res.code = GRPC_STATUS_UNKNOWN;
    if (client_open(addr, &c) == 0)
        client_unary_stream(c, sc->method, (const uint8_t *)"", 0, sc->timeout_ms,
                            on_message, sc, &sc->res);
    client_close(c);
    return NULL;
}

static uint64_t count_of(callstats_t *stats, int method, int code)
{
    callstats_summary_t s;
    callstats_summarize(&stats[method], &s);
    return s.by_code[code];
}

/* A stepping stream leaves the worker to others, and ends at its deadline. */
static void test_steps_deadline(callstats_t *stats)
{
    stream_call_t sc = { .method = "/t.T/Steps", .timeout_ms = 1500 };
    pthread_t th;
    int closed = atomic_load(&sh.streams_closed);

    CHECK_EQ_INT(pthread_create(&th, NULL, run_stream, &sc), 0);
    CHECK(wait_count(&sh.streams_open, 1));
    /* The stream is running on the only request worker, and others answer. */
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(fast(), GRPC_STATUS_OK);
    CHECK_EQ_INT(atomic_load(&sh.streams_closed), closed);
    pthread_join(th, NULL);
    CHECK_EQ_INT(sc.res.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    CHECK_EQ_INT(sc.received, 1);
    CHECK(wait_count(&sh.streams_closed, closed + 1));
    CHECK(count_of(stats, M_STEPS, GRPC_STATUS_DEADLINE_EXCEEDED) +
          count_of(stats, M_STEPS, GRPC_STATUS_CANCELLED) == 1);
}

/* A client that cancels mid-stream frees the stream's state and worker. */
static void test_steps_cancel(callstats_t *stats)
{
    stream_call_t sc = { .method = "/t.T/Steps", .timeout_ms = 20000, .cancel_after = 1 };
    int closed = atomic_load(&sh.streams_closed);
    uint64_t cancelled = count_of(stats, M_STEPS, GRPC_STATUS_CANCELLED);

    run_stream(&sc);
    CHECK_EQ_INT(sc.res.code, GRPC_STATUS_CANCELLED);
    CHECK(wait_count(&sh.streams_closed, closed + 1));
    for (int i = 0; i < 200 && count_of(stats, M_STEPS, GRPC_STATUS_CANCELLED) == cancelled; i++)
        usleep(10000);
    CHECK_EQ_INT(count_of(stats, M_STEPS, GRPC_STATUS_CANCELLED), cancelled + 1);
    CHECK_EQ_INT(fast(), GRPC_STATUS_OK);
}

/* A slow reader: the handler runs only as far ahead as flow control lets
 * the sends complete, and the deadline ends the call. */
static void test_flood_slow_reader(void)
{
    stream_call_t sc = { .method = "/t.T/Flood", .timeout_ms = 1500,
                         .read_delay = 200000 };
    int closed = atomic_load(&sh.streams_closed);

    atomic_store(&sh.flood_made, 0);
    run_stream(&sc);
    CHECK_EQ_INT(sc.res.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    CHECK(sc.received >= 1);
    CHECK(wait_count(&sh.streams_closed, closed + 1));
    /* What sits between the handler and the reader is bounded by the HTTP/2
     * windows (gRPC's BDP probing grows them to a few MB) and the socket
     * buffers: here at most 16 MB, 64 messages of 256 KB, where a producer
     * not held back would have made thousands in the same time. */
    CHECK(atomic_load(&sh.flood_made) <= sc.received + 64);
}

typedef struct admin_call {
    client_result_t res;
} admin_call_t;

static void *run_admin(void *arg)
{
    admin_call_t *ac = arg;
    client_t *c = NULL;
    ac->res.code = GRPC_STATUS_UNKNOWN;
    if (client_open(addr, &c) == 0 &&
        client_unary(c, "/t.T/Admin", (const uint8_t *)"", 0, 20000, &ac->res) == 0)
        free(ac->res.body);
    client_close(c);
    return NULL;
}

/* While an admin call holds its thread, the one request worker answers. */
static void test_admin_lane(void)
{
    admin_call_t ac;
    pthread_t th;

    CHECK_EQ_INT(pthread_create(&th, NULL, run_admin, &ac), 0);
    CHECK(wait_flag(&sh.admin_running));
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(fast(), GRPC_STATUS_OK);
    set_flag(&sh.admin_release);
    pthread_join(th, NULL);
    CHECK_EQ_INT(ac.res.code, GRPC_STATUS_OK);
}

int main(void)
{
    static callstats_t stats[N_METHODS + 1];
    transport_opts_t opts = { .stats = stats };
    transport_t *t = NULL;
    int port = 0;

    CHECK_EQ_INT(transport_start("127.0.0.1:0", 1, methods, N_METHODS, NULL, &opts, &t,
                                 &port), 0);
    if (!t)
        TEST_MAIN_END();
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    CHECK_EQ_INT(fast(), GRPC_STATUS_OK);
    test_steps_deadline(stats);
    test_steps_cancel(stats);
    test_flood_slow_reader();
    test_admin_lane();
    transport_stop(t, 1000);
    CHECK_EQ_INT(atomic_load(&sh.streams_open), atomic_load(&sh.streams_closed));
    TEST_MAIN_END();
}
