/*
 * transport.c - gRPC C-core plumbing (see transport.h): the server and its
 * workers, arming, dispatch, unary calls, start and stop. The streaming
 * steps are in transport_stream.c; both share transport_call.h.
 *
 * Each call is one heap object used as the completion-queue tag; its phase
 * says which operation completed:
 *
 *   REQUESTED  a request_(registered_)call we armed has been matched. Re-arm
 *              a fresh request on the same queue FIRST (so concurrency never
 *              drops), then run the handler and start one batch
 *              {SEND_INITIAL_METADATA, SEND_MESSAGE, SEND_STATUS_FROM_SERVER,
 *              RECV_CLOSE_ON_SERVER}.
 *   SENT       that batch finished: free everything.
 *
 * Streaming calls add two phases: RECEIVING (client streaming: one
 * RECV_MESSAGE outstanding; a NULL message means the client half-closed)
 * and STREAMING (server streaming: one SEND_MESSAGE outstanding; the next
 * message is asked for only once the previous one was sent, which is the
 * stream's flow control). A stream between two steps (a message sent, or
 * RPC_STREAM_YIELD) waits on its worker's READY list, stepped only when the
 * queue is empty and has been polled for I/O, so the requests of other
 * calls are read and served between any two steps of a stream. At most
 * one batch is outstanding per call at any time, so a call's completions
 * never race each other; all of a call's completions arrive on its
 * worker's queue, so its state is only ever touched by that thread.
 *
 * The one exception: a server stream whose next() has nothing to send
 * (RPC_STREAM_WAIT) is PARKED on its worker's list with a lone
 * RECV_CLOSE_ON_SERVER outstanding (its `closer` tag, CLOSED when it
 * completes), so a client that cancels is noticed while nothing is being
 * sent. The worker wakes every TICK_MS (transport_stream.c) while it holds
 * parked calls, and only then, and asks each again. A stream on the ready
 * list arms the same close batch. Such a call ends after both its final
 * batch (SENT, then DONE) and its close completed.
 *
 * Lanes: methods on RPC_LANE_ADMIN are armed only on one extra worker's
 * queue (the admin thread), the others only on the request workers'.
 *
 * A REQUESTED completion with success == 0 means the server is shutting
 * down: free the state and do not re-arm (pitfall P2 in the gRPC notes).
 */
#include "transport.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "access.h"
#include "log.h"
#include "status_names.h"
#include "tlscreds.h"
#include "transport_call.h"

/* Outstanding requests per method per queue: how many calls of one method a
 * worker can have accepted but not yet started. */
#define PREARM 4

void rpc_fail(rpc_reply_t *out, grpc_status_code code, const char *fmt, ...)
{
    va_list ap;
    out->code = code;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

int64_t rpc_remaining_ms(const rpc_call_info_t *ci)
{
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    gpr_timespec d = ci->deadline;
    if (d.clock_type != GPR_CLOCK_MONOTONIC)
        d = gpr_convert_clock_type(d, GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(d, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0)
        return INT64_MAX;
    return gpr_time_to_millis(gpr_time_sub(d, now));
}

/* ---- arming ------------------------------------------------------------------ */

/* Streaming requests are read message by message, not handed over whole. */
static int reads_messages(rpc_kind_t kind)
{
    return kind == RPC_CLIENT_STREAM || kind == RPC_BIDI_STREAM;
}

const rpc_method_t *call_method(const call_t *c)
{
    return c->method == CATCH_ALL ? NULL : &c->w->t->methods[c->method];
}

void call_free(call_t *c)
{
    const rpc_method_t *m = call_method(c);
    if (c->stream_state && m && m->stream && m->stream->close)
        m->stream->close(c->stream_state);
    grpc_metadata_array_destroy(&c->md);
    if (c->recv)
        grpc_byte_buffer_destroy(c->recv);
    if (c->method == CATCH_ALL)
        grpc_call_details_destroy(&c->details);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    if (c->response)
        grpc_byte_buffer_destroy(c->response);
    if (c->call)
        grpc_call_unref(c->call);
    free(c);
}

void call_release(call_t *c)
{
    if (c->close_armed && !c->closed)
        c->phase = PHASE_DONE; /* freed when the close completes */
    else
        call_free(c);
}

/* Arms one request for `method` on w's queue. Failure only happens during
 * shutdown, when not re-arming is exactly right. */
static void arm(worker_t *w, int method)
{
    transport_t *t = w->t;
    grpc_call_error err;
    call_t *c = calloc(1, sizeof *c);

    if (!c) {
        plog(LOG_ERROR, "out of memory arming a call");
        return;
    }
    c->w = w;
    c->method = method;
    c->phase = PHASE_REQUESTED;
    grpc_metadata_array_init(&c->md);
    if (method == CATCH_ALL) {
        grpc_call_details_init(&c->details);
        err = grpc_server_request_call(t->server, &c->call, &c->details, &c->md,
                                       w->cq, w->cq, c);
    } else {
        err = grpc_server_request_registered_call(
            t->server, t->registered[method], &c->call, &c->deadline, &c->md,
            reads_messages(t->methods[method].kind) ? NULL : &c->payload,
            w->cq, w->cq, c);
    }
    if (err != GRPC_CALL_OK)
        call_free(c);
}

/* ---- answering --------------------------------------------------------------- */

grpc_byte_buffer *call_buffer(uint8_t *body, size_t len)
{
    grpc_slice s;
    grpc_byte_buffer *bb;
    if (len == 0) {
        free(body);
        s = grpc_empty_slice();
    } else {
        s = grpc_slice_new(body, len, free);
    }
    bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

/* Microseconds since a worker took the call up. */
static int64_t elapsed_us(const call_t *c)
{
    gpr_timespec d = gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), c->started);
    int64_t us = d.tv_sec * 1000000 + d.tv_nsec / 1000;
    return us > 0 ? us : 0;
}

/* Counts the call in the method's stats (the caller's table, if any). */
static void count(const call_t *c, grpc_status_code code, int64_t us)
{
    const transport_t *t = c->w->t;

    if (!t->opts.stats)
        return;
    callstats_record(&t->opts.stats[c->method == CATCH_ALL ? t->n_methods
                                                            : (size_t)c->method],
                     (int)code, (uint64_t)us);
}

/* The access-log line (access.h), when the transport was asked for one. */
static void access_line(const call_t *c, grpc_status_code code, int64_t us)
{
    const rpc_method_t *m = call_method(c);
    char *path;

    if (!c->w->t->opts.access_log)
        return;
    path = m ? NULL : grpc_slice_to_c_string(c->details.method);
    access_log_call(m ? m->path : path, code, us, c->peer, &c->md, &c->tags);
    gpr_free(path);
}

/* One line per finished call of an audited method (rpc_method_t.audit):
 * the method, who called and the status name, nothing from the request. */
static void audit(const call_t *c, grpc_status_code code)
{
    const rpc_method_t *m = call_method(c);
    if (!m || !m->audit)
        return;
    /* With tokens required, a call without a caller was refused by authorize. */
    plog(LOG_INFO, "audit: %s by %s%s%s: %s", m->path, c->caller[0] ? "'" : "",
         c->caller[0] ? c->caller : c->w->t->opts.authorize ? "(refused)" : "(no --auth-file)",
         c->caller[0] ? "'" : "", status_name((int)code));
}

/* Starts the final batch: metadata, optional message, status, close. */
void call_finish(call_t *c, const rpc_reply_t *r)
{
    grpc_op ops[4];
    size_t n = 0;
    grpc_slice details = grpc_slice_from_copied_string(
        r->code == GRPC_STATUS_OK ? "" : r->message);
    grpc_call_error err;
    int64_t us = elapsed_us(c);

    count(c, r->code, us);
    audit(c, r->code);
    access_line(c, r->code, us);
    memset(ops, 0, sizeof ops);
    if (!c->initial_md_sent) {
        ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
        n++;
        c->initial_md_sent = 1;
    }
    if (r->code == GRPC_STATUS_OK && r->body) {
        if (c->response)
            grpc_byte_buffer_destroy(c->response);
        c->response = call_buffer(r->body, r->len);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->response;
        n++;
    } else {
        free(r->body);
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = r->code;
    ops[n].data.send_status_from_server.status_details = &details;
    n++;
    if (!c->close_armed) {
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
        n++;
    }
    c->phase = PHASE_SENT;
    err = grpc_call_start_batch(c->call, ops, n, c, NULL);
    grpc_slice_unref(details);
    if (err != GRPC_CALL_OK) {
        plog(LOG_ERROR, "start_batch failed: %d", (int)err);
        grpc_call_cancel(c->call, NULL);
        call_release(c);
    }
}

int call_deadline_passed(const call_t *c)
{
    return gpr_time_cmp(c->deadline, gpr_now(GPR_CLOCK_MONOTONIC)) <= 0;
}

void call_reply_init(rpc_reply_t *r)
{
    memset(r, 0, sizeof *r);
    r->code = GRPC_STATUS_OK;
}

/* Copies a received message into one contiguous slice (caller unrefs).
 * Returns 0, or -1 if the buffer cannot be read. */
int call_read_message(grpc_byte_buffer *bb, grpc_slice *body)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return -1;
    *body = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    return 0;
}

/* The call's bearer token: "authorization: Bearer <t>" or "x-api-key: <t>".
 * The bytes belong to the call's metadata array. */
static void find_token(const grpc_metadata_array *md, const char **tok, size_t *len)
{
    *tok = NULL;
    *len = 0;
    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        const char *v = (const char *)GRPC_SLICE_START_PTR(m->value);
        size_t n = GRPC_SLICE_LENGTH(m->value);
        if (grpc_slice_str_cmp(m->key, "authorization") == 0) {
            if (n > 7 && strncasecmp(v, "bearer ", 7) == 0) {
                *tok = v + 7;
                *len = n - 7;
            }
            return;
        }
        if (grpc_slice_str_cmp(m->key, "x-api-key") == 0) {
            *tok = v;
            *len = n;
            return;
        }
    }
}

/* 0 when the call may run (c->caller set), else the status already set in r. */
static int authorize(call_t *c, const rpc_method_t *m, rpc_reply_t *r)
{
    const transport_opts_t *o = &c->w->t->opts;
    const char *tok;
    size_t len;
    int code;

    if (!o->authorize)
        return 0;
    find_token(&c->md, &tok, &len);
    code = o->authorize(o->auth_ctx, m->path, tok, len, r->message, sizeof r->message);
    if (code == GRPC_STATUS_OK) {
        snprintf(c->caller, sizeof c->caller, "%.64s", r->message);
        r->message[0] = '\0';
        return 0;
    }
    r->code = (grpc_status_code)code;
    return -1;
}

/* ---- calls answered later ------------------------------------------------------ */

/*
 * An async handler's call is answered from whichever thread finishes its
 * work. That is safe because a unary call has no batch outstanding between
 * dispatch and its final batch, so nothing else touches it meanwhile; the
 * final batch completes on the call's worker queue as usual (SENT, then
 * freed there).
 */
static void take(call_t *c)
{
    transport_t *t = c->w->t;
    pthread_mutex_lock(&t->taken_mu);
    t->taken++;
    pthread_mutex_unlock(&t->taken_mu);
}

void rpc_pending_finish(rpc_pending_t *p, rpc_reply_t *out)
{
    call_t *c = (call_t *)(void *)p;
    transport_t *t = c->w->t; /* c may be freed once its batch started */

    call_finish(c, out);
    pthread_mutex_lock(&t->taken_mu);
    if (--t->taken == 0)
        pthread_cond_broadcast(&t->taken_cv);
    pthread_mutex_unlock(&t->taken_mu);
}

/* transport_stop: every taken call answered (its final batch started). */
static void wait_taken(transport_t *t)
{
    pthread_mutex_lock(&t->taken_mu);
    while (t->taken)
        pthread_cond_wait(&t->taken_cv, &t->taken_mu);
    pthread_mutex_unlock(&t->taken_mu);
}

/* ---- dispatch ------------------------------------------------------------------- */

static void dispatch(call_t *c)
{
    transport_t *t = c->w->t;
    const rpc_method_t *m = call_method(c);
    rpc_reply_t r;
    grpc_slice body;
    rpc_call_info_t ci = { .deadline = c->deadline, .worker = c->w->index, .tags = &c->tags,
                           .caller = c->caller };

    c->started = gpr_now(GPR_CLOCK_MONOTONIC);
    if (t->opts.access_log)
        access_peer(c->call, c->peer, sizeof c->peer);
    call_reply_init(&r);
    if (!m) {
        char *name = grpc_slice_to_c_string(c->details.method);
        rpc_fail(&r, GRPC_STATUS_UNIMPLEMENTED,
                 "method %s is not implemented by this server", name);
        gpr_free(name);
        call_finish(c, &r);
        return;
    }
    if (authorize(c, m, &r) != 0) {
        call_finish(c, &r);
        return;
    }
    if (call_deadline_passed(c)) {
        rpc_fail(&r, GRPC_STATUS_DEADLINE_EXCEEDED,
                 "deadline passed before the call was started");
        call_finish(c, &r);
        return;
    }
    if (reads_messages(m->kind)) {
        if (!(c->stream_state = m->stream->open(t->app, &ci))) {
            rpc_fail(&r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
            call_finish(c, &r);
            return;
        }
        stream_receive_next(c);
        return;
    }
    if (!c->payload) {
        rpc_fail(&r, GRPC_STATUS_INVALID_ARGUMENT, "missing request message");
        call_finish(c, &r);
        return;
    }
    if (call_read_message(c->payload, &body) != 0) {
        rpc_fail(&r, GRPC_STATUS_INVALID_ARGUMENT, "unreadable request message");
        call_finish(c, &r);
        return;
    }
    if (m->kind == RPC_SERVER_STREAM) {
        c->stream_state = m->stream->start(t->app, &ci, GRPC_SLICE_START_PTR(body),
                                           GRPC_SLICE_LENGTH(body), &r);
        grpc_slice_unref(body);
        if (!c->stream_state) {
            if (r.code == GRPC_STATUS_OK)
                rpc_fail(&r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
            call_finish(c, &r);
            return;
        }
        stream_next(c);
        return;
    }
    if (m->async_handler) {
        take(c);
        m->async_handler(t->app, &ci, GRPC_SLICE_START_PTR(body), GRPC_SLICE_LENGTH(body),
                         (rpc_pending_t *)(void *)c);
        grpc_slice_unref(body);
        return;
    }
    m->handler(t->app, &ci, GRPC_SLICE_START_PTR(body), GRPC_SLICE_LENGTH(body), &r);
    grpc_slice_unref(body);
    call_finish(c, &r);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        /* Idle workers sleep until a completion; one holding parked streams
         * wakes at its tick as well. */
        grpc_event ev = grpc_completion_queue_next(
            w->cq, w->ready ? gpr_inf_past(GPR_CLOCK_MONOTONIC)
                   : w->parked ? w->next_tick : gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        call_t *c;
        if (w->parked && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), w->next_tick) >= 0)
            stream_wake_parked(w);
        /* Ready streams step only once nothing is queued and the queue has
         * been polled for I/O (cq_next with a past deadline): other calls
         * go first, each stream step waits behind them. */
        if (w->ready && ev.type == GRPC_QUEUE_TIMEOUT)
            stream_wake_ready(w);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) {
            w->drained = 1;
            break;
        }
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (*(enum call_phase *)ev.tag == PHASE_CLOSED) {
            stream_closed(((closer_t *)ev.tag)->c);
            continue;
        }
        c = ev.tag;
        switch (c->phase) {
        case PHASE_SENT:
            call_release(c);
            break;
        case PHASE_PARKED:
        case PHASE_DONE:
        case PHASE_CLOSED: /* no batch completes in these phases */
            break;
        case PHASE_RECEIVING:
            stream_received(c, ev.success);
            break;
        case PHASE_STREAMING:
            if (ev.success)
                stream_ready(c); /* the next message after other calls */
            else
                stream_broken(c);
            break;
        case PHASE_ANSWERED:
            if (ev.success) {
                stream_receive_next(c);
            } else {
                rpc_reply_t r;
                call_reply_init(&r);
                rpc_fail(&r, GRPC_STATUS_CANCELLED, "stream broken");
                call_finish(c, &r);
            }
            break;
        case PHASE_REQUESTED:
            if (!ev.success) { /* request cancelled by server shutdown */
                call_free(c);
                break;
            }
            arm(w, c->method); /* re-arm before working */
            dispatch(c);
            break;
        }
    }
    return NULL;
}

/* ---- start / stop -------------------------------------------------------------- */

static int register_methods(transport_t *t)
{
    t->registered = calloc(t->n_methods ? t->n_methods : 1, sizeof *t->registered);
    if (!t->registered)
        return -ENOMEM;
    for (size_t i = 0; i < t->n_methods; i++) {
        t->registered[i] = grpc_server_register_method(
            t->server, t->methods[i].path, NULL,
            reads_messages(t->methods[i].kind)
                ? GRPC_SRM_PAYLOAD_NONE
                : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        if (!t->registered[i])
            return -EINVAL;
    }
    return 0;
}

static grpc_server *server_create(void)
{
    grpc_arg args[1];
    grpc_channel_args ca = { 1, args };
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = TRANSPORT_MAX_MESSAGE_BYTES;
    return grpc_server_create(&ca, NULL);
}

/* A queue must be shut down and drained before it is destroyed. Queues
 * whose thread never ran (start-up failure) are drained here. */
static void destroy_queues(transport_t *t)
{
    for (unsigned i = 0; t->workers && i < t->n_workers; i++) {
        worker_t *w = &t->workers[i];
        if (!w->cq)
            continue;
        if (!w->drained) {
            grpc_completion_queue_shutdown(w->cq);
            worker_main(w);
        }
        grpc_completion_queue_destroy(w->cq);
    }
}

static void transport_free(transport_t *t)
{
    if (t->server)
        grpc_server_destroy(t->server);
    destroy_queues(t);
    free(t->workers);
    free(t->registered);
    pthread_mutex_destroy(&t->taken_mu);
    pthread_cond_destroy(&t->taken_cv);
    free(t);
    grpc_shutdown();
}

/* Connections may use descriptors below this (see listener.h). */
static int descriptor_cap(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > (rlim_t)INT32_MAX)
        return listener_fd_cap(INT32_MAX);
    return listener_fd_cap((long)rl.rlim_cur);
}

/* A TLS port stays on gRPC's listener (1.51 adds connections from a
 * descriptor for insecure credentials only); plaintext ports get Patron's
 * listener (listener.h) once the server has started. */
static int bind_tls_port(transport_t *t, const char *listen, int *port)
{
    grpc_server_credentials *creds;
    int rc;

    if ((rc = tls_server_credentials(t->opts.tls_cert_file, t->opts.tls_key_file,
                                      t->opts.tls_client_ca_file,
                                      t->opts.tls_require_client_cert, &creds)) != 0)
        return rc;
    *port = grpc_server_add_http2_port(t->server, listen, creds);
    grpc_server_credentials_release(creds);
    return *port == 0 ? -EADDRNOTAVAIL : 0;
}

static int has_admin_lane(const rpc_method_t *methods, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (methods[i].lane == RPC_LANE_ADMIN)
            return 1;
    return 0;
}

/* Arms the lane's methods on w's queue: a call is taken up only by the
 * thread whose queue it was requested on (and re-armed there). Request
 * workers also answer unknown methods. */
static void arm_worker(worker_t *w, rpc_lane_t lane)
{
    const transport_t *t = w->t;
    for (size_t m = 0; m < t->n_methods; m++)
        for (int k = 0; k < PREARM && t->methods[m].lane == lane; k++)
            arm(w, (int)m);
    if (lane == RPC_LANE_REQUEST)
        arm(w, CATCH_ALL);
}

int transport_start(const char *listen, unsigned threads,
                    const rpc_method_t *methods, size_t n_methods, void *app,
                    const transport_opts_t *opts, transport_t **out, int *port)
{
    transport_t *t;
    int tls, rc;

    if (!listen || threads == 0 || threads > 256)
        return -EINVAL;
    grpc_init();
    t = calloc(1, sizeof *t);
    if (!t) {
        grpc_shutdown();
        return -ENOMEM;
    }
    pthread_mutex_init(&t->taken_mu, NULL);
    pthread_cond_init(&t->taken_cv, NULL);
    t->methods = methods;
    t->n_methods = n_methods;
    if (opts)
        t->opts = *opts;
    tls = t->opts.tls_cert_file || t->opts.tls_key_file;
    t->app = app;
    t->n_workers = threads + (has_admin_lane(methods, n_methods) ? 1 : 0);
    t->workers = calloc(t->n_workers, sizeof *t->workers);
    t->server = server_create();
    if (!t->workers || !t->server) {
        transport_free(t);
        return -ENOMEM;
    }
    if ((rc = register_methods(t)) != 0) {
        transport_free(t);
        return rc;
    }
    for (unsigned i = 0; i < t->n_workers; i++) {
        t->workers[i].t = t;
        t->workers[i].index = i;
        t->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(t->server, t->workers[i].cq, NULL);
    }
    if (tls && (rc = bind_tls_port(t, listen, port)) != 0) {
        transport_free(t);
        return rc;
    }
    grpc_server_start(t->server);
    if (!tls && (rc = listener_start(t->server, listen, descriptor_cap(), &t->listener,
                                     port)) != 0) {
        transport_stop(t, 0); /* no call can have arrived: nothing listened */
        return rc;
    }
    for (unsigned i = 0; i < t->n_workers; i++)
        arm_worker(&t->workers[i], i < threads ? RPC_LANE_REQUEST : RPC_LANE_ADMIN);
    for (unsigned i = 0; i < t->n_workers; i++) {
        if (pthread_create(&t->workers[i].thread, NULL, worker_main,
                           &t->workers[i]) != 0) {
            plog(LOG_ERROR, "could not start worker thread %u", i);
            transport_stop(t, 0);
            return -ENOMEM;
        }
        t->workers[i].started = 1;
    }
    *out = t;
    return 0;
}

void transport_stop(transport_t *t, int drain_ms)
{
    grpc_completion_queue *shutdown_cq = grpc_completion_queue_create_for_pluck(NULL);
    int tag;
    grpc_event ev;

    /* Stop accepting; in-flight calls keep running on the workers. */
    listener_stop(t->listener);
    t->listener = NULL;
    grpc_server_shutdown_and_notify(t->server, shutdown_cq, &tag);
    ev = grpc_completion_queue_pluck(
        shutdown_cq, &tag,
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_millis(drain_ms, GPR_TIMESPAN)),
        NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        plog(LOG_WARN, "drain timed out after %d ms: cancelling calls", drain_ms);
        grpc_server_cancel_all_calls(t->server);
        grpc_completion_queue_pluck(shutdown_cq, &tag,
                                    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    }
    grpc_completion_queue_shutdown(shutdown_cq);
    grpc_completion_queue_destroy(shutdown_cq);
    /* Calls async handlers took are answered by their own threads (the
     * store's committers commit within a round's time); their final
     * batches complete on the workers' queues, still running. */
    wait_taken(t);
    /* Every call is done; the queues now hold only cancelled requests. */
    for (unsigned i = 0; i < t->n_workers; i++) {
        if (!t->workers[i].started)
            continue;
        grpc_completion_queue_shutdown(t->workers[i].cq);
        pthread_join(t->workers[i].thread, NULL);
    }
    transport_free(t); /* drains queues whose thread never started */
}
