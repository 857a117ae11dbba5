/*
 * transport_stream.c - the streaming calls of the transport (transport.h):
 * client streaming (RECEIVING: one RECV_MESSAGE outstanding; a NULL
 * message means the client half-closed), server streaming (STREAMING: one
 * SEND_MESSAGE outstanding), bidirectional (ANSWERED: a response sent
 * before the next request is read), and parked server streams
 * (RPC_STREAM_WAIT; see transport.c for how they are woken and closed).
 * Everything here runs on the call's worker thread.
 */
#include <grpc/byte_buffer.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "transport_call.h"

#define TICK_MS 100  /* parked streams are asked again this often */

/* Starts a one-op (plus initial metadata the first time) batch. */
static void start_op(call_t *c, grpc_op *op, enum call_phase phase)
{
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!c->initial_md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->initial_md_sent = 1;
    }
    ops[n++] = *op;
    c->phase = phase;
    if (grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK) {
        plog(LOG_ERROR, "start_batch failed on a streaming call");
        grpc_call_cancel(c->call, NULL);
        call_release(c);
    }
}

void stream_receive_next(call_t *c)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv;
    start_op(c, &op, PHASE_RECEIVING);
}

/* Sends r's body (taken over) as one message of a stream; the completion
 * arrives in `phase`. */
static void send_message(call_t *c, rpc_reply_t *r, enum call_phase phase)
{
    grpc_op op;
    if (c->response)
        grpc_byte_buffer_destroy(c->response);
    c->response = call_buffer(r->body, r->len);
    r->body = NULL;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = c->response;
    start_op(c, &op, phase);
}

static void park(call_t *c);
static void end_cancelled(call_t *c);

/* Ends a stream whose deadline passed before its next step. */
static void end_deadline(call_t *c)
{
    rpc_reply_t r;
    call_reply_init(&r);
    rpc_fail(&r, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed while streaming");
    call_finish(c, &r);
}

/* Server streaming: unless the client is gone or the deadline passed, asks
 * the handler for its next step and sends the message, parks or yields
 * the call, or finishes it. */
void stream_next(call_t *c)
{
    const rpc_stream_ops_t *ops = call_method(c)->stream;
    rpc_reply_t r;
    int more;

    if (c->closed) {
        end_cancelled(c);
        return;
    }
    if (call_deadline_passed(c)) {
        end_deadline(c);
        return;
    }
    call_reply_init(&r);
    more = ops->next(c->stream_state, &r);
    if (more == RPC_STREAM_MESSAGE && r.code == GRPC_STATUS_OK) {
        send_message(c, &r, PHASE_STREAMING);
        return;
    }
    free(r.body);
    r.body = NULL;
    if (r.code == GRPC_STATUS_OK && more == RPC_STREAM_WAIT)
        park(c);
    else if (r.code == GRPC_STATUS_OK && more == RPC_STREAM_YIELD)
        stream_ready(c);
    else
        call_finish(c, &r);
}

/* A stream's send (or yield) failed: the client went away, or core ended
 * the call at its deadline. */
void stream_broken(call_t *c)
{
    rpc_reply_t r;
    call_reply_init(&r);
    if (call_deadline_passed(c))
        rpc_fail(&r, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed while streaming");
    else
        rpc_fail(&r, GRPC_STATUS_CANCELLED, "stream broken");
    call_finish(c, &r);
}

/* ---- parked and yielding streams (RPC_STREAM_WAIT, RPC_STREAM_YIELD) --------------- */

static void end_cancelled(call_t *c)
{
    rpc_reply_t r;
    call_reply_init(&r);
    rpc_fail(&r, GRPC_STATUS_CANCELLED, "cancelled by the client");
    call_finish(c, &r);
}

/* Arms the call's own RECV_CLOSE_ON_SERVER (once), so a cancellation is
 * seen while nothing is being sent. Returns 0, or -1 (the call ended). */
static int watch_close(call_t *c)
{
    grpc_op op;

    if (c->closed) { /* the client left while a message was in flight */
        end_cancelled(c);
        return -1;
    }
    if (c->close_armed)
        return 0;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled;
    c->closer.phase = PHASE_CLOSED;
    c->closer.c = c;
    if (grpc_call_start_batch(c->call, &op, 1, &c->closer, NULL) != GRPC_CALL_OK) {
        plog(LOG_ERROR, "start_batch failed watching a stream");
        end_cancelled(c);
        return -1;
    }
    c->close_armed = 1;
    return 0;
}

/* Gives the worker back (RPC_STREAM_YIELD, or a message sent): c waits on
 * the worker's ready list, asked again once the worker has served every
 * completion queued and polled for I/O (transport.c). Not through the
 * queue itself: a queue never empty is never polled, and the requests of
 * other calls would wait unread for the whole stream. */
void stream_ready(call_t *c)
{
    worker_t *w = c->w;

    if (watch_close(c) != 0)
        return;
    c->phase = PHASE_PARKED;
    c->next_parked = w->ready;
    w->ready = c;
}

/* Puts c on its worker's parked list, first arming its own
 * RECV_CLOSE_ON_SERVER so a cancellation is seen while it waits. */
static void park(call_t *c)
{
    worker_t *w = c->w;

    if (watch_close(c) != 0)
        return;
    if (!w->parked)
        w->next_tick = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                    gpr_time_from_millis(TICK_MS, GPR_TIMESPAN));
    c->phase = PHASE_PARKED;
    c->next_parked = w->parked;
    w->parked = c;
}

/* Takes c off whichever list holds it (parked or ready). */
static void unpark(call_t *c)
{
    call_t **p = &c->w->parked;
    while (*p && *p != c)
        p = &(*p)->next_parked;
    if (!*p)
        for (p = &c->w->ready; *p && *p != c;)
            p = &(*p)->next_parked;
    if (*p)
        *p = c->next_parked;
    c->next_parked = NULL;
}

/* Asks every stream of a list again (each may park or yield once more). */
static void wake(call_t *list)
{
    while (list) {
        call_t *c = list;
        list = c->next_parked;
        c->next_parked = NULL;
        stream_next(c);
    }
}

/* The tick: asks every parked stream again. */
void stream_wake_parked(worker_t *w)
{
    call_t *list = w->parked;
    w->parked = NULL;
    wake(list);
}

void stream_wake_ready(worker_t *w)
{
    call_t *list = w->ready;
    w->ready = NULL;
    wake(list);
}

/* A parked stream's RECV_CLOSE_ON_SERVER completed: the call is over. */
void stream_closed(call_t *c)
{
    c->closed = 1;
    if (c->phase == PHASE_DONE) {           /* the final batch completed first */
        call_free(c);
    } else if (c->phase == PHASE_PARKED) {  /* cancelled while waiting */
        unpark(c);
        end_cancelled(c);
    }
    /* Otherwise a send is in flight: its completion ends the call. */
}

/* A RECV_MESSAGE completed on a client-streaming call. */
void stream_received(call_t *c, int success)
{
    const rpc_stream_ops_t *ops = call_method(c)->stream;
    rpc_reply_t r;
    grpc_slice body;

    call_reply_init(&r);
    if (!success) {
        rpc_fail(&r, GRPC_STATUS_CANCELLED, "stream broken");
        call_finish(c, &r);
        return;
    }
    if (!c->recv) { /* half-close: the client has sent everything */
        ops->finish(c->stream_state, &r);
        call_finish(c, &r);
        return;
    }
    if (call_read_message(c->recv, &body) != 0) {
        rpc_fail(&r, GRPC_STATUS_INVALID_ARGUMENT, "unreadable request message");
    } else {
        ops->message(c->stream_state, GRPC_SLICE_START_PTR(body),
                     GRPC_SLICE_LENGTH(body), &r);
        grpc_slice_unref(body);
    }
    grpc_byte_buffer_destroy(c->recv);
    c->recv = NULL;
    if (r.code != GRPC_STATUS_OK) {
        call_finish(c, &r);
    } else if (r.body) { /* bidi: answer, then read the next request */
        send_message(c, &r, PHASE_ANSWERED);
    } else {
        stream_receive_next(c);
    }
}
