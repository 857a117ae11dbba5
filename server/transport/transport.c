/*
 * transport.c - gRPC C-core plumbing for unary calls (see transport.h).
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
 * and STREAMING (server streaming: one SEND_MESSAGE outstanding). At most
 * one batch is outstanding per call at any time, so a call's completions
 * never race each other.
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
#include "listener.h"
#include "log.h"
#include "pemfile.h"
#include "status_names.h"

/* Outstanding requests per method per queue: how many calls of one method a
 * worker can have accepted but not yet started. */
#define PREARM 4
#define MAX_RECV_BYTES (16 * 1024 * 1024)
#define CATCH_ALL (-1)

enum call_phase { PHASE_REQUESTED, PHASE_RECEIVING, PHASE_STREAMING, PHASE_ANSWERED,
                  PHASE_SENT };

typedef struct worker worker_t;

typedef struct call {
    enum call_phase phase;
    worker_t *w;
    int method;                    /* index into methods, or CATCH_ALL */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;     /* registered methods only */
    grpc_call_details details;     /* catch-all only */
    grpc_byte_buffer *response;
    grpc_byte_buffer *recv;        /* client streaming: last message */
    void *stream_state;            /* streaming: the handler's state */
    gpr_timespec started;          /* when a worker took the call up */
    int initial_md_sent;
    int cancelled;
    char caller[65];               /* who, for audit lines (authorize) */
    rpc_call_tags_t tags;          /* the handler's, for the access log */
    char peer[64];                 /* the access log's, read at dispatch */
} call_t;

struct worker {
    transport_t *t;
    unsigned index;
    grpc_completion_queue *cq;
    pthread_t thread;
    int started;                   /* thread running */
    int drained;                   /* queue saw GRPC_QUEUE_SHUTDOWN */
};

struct transport {
    grpc_server *server;
    const rpc_method_t *methods;
    void **registered;             /* grpc handle per method */
    size_t n_methods;
    void *app;
    worker_t *workers;
    unsigned n_workers;
    transport_opts_t opts;
    listener_t *listener;          /* plaintext: our accept loop; TLS: NULL */
};

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

static const rpc_method_t *method_of(const call_t *c)
{
    return c->method == CATCH_ALL ? NULL : &c->w->t->methods[c->method];
}

static void call_free(call_t *c)
{
    const rpc_method_t *m = method_of(c);
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

static grpc_byte_buffer *buffer_take(uint8_t *body, size_t len)
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
    const rpc_method_t *m = method_of(c);
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
    const rpc_method_t *m = method_of(c);
    if (!m || !m->audit)
        return;
    /* With tokens required, a call without a caller was refused by authorize. */
    plog(LOG_INFO, "audit: %s by %s%s%s: %s", m->path, c->caller[0] ? "'" : "",
         c->caller[0] ? c->caller : c->w->t->opts.authorize ? "(refused)" : "(no --auth-file)",
         c->caller[0] ? "'" : "", status_name((int)code));
}

/* Starts the final batch: metadata, optional message, status, close. */
static void finish(call_t *c, const rpc_reply_t *r)
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
        c->response = buffer_take(r->body, r->len);
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
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
    n++;
    c->phase = PHASE_SENT;
    err = grpc_call_start_batch(c->call, ops, n, c, NULL);
    grpc_slice_unref(details);
    if (err != GRPC_CALL_OK) {
        plog(LOG_ERROR, "start_batch failed: %d", (int)err);
        call_free(c);
    }
}

static int deadline_passed(const call_t *c)
{
    return gpr_time_cmp(c->deadline, gpr_now(GPR_CLOCK_MONOTONIC)) <= 0;
}

static void reply_init(rpc_reply_t *r)
{
    memset(r, 0, sizeof *r);
    r->code = GRPC_STATUS_OK;
}

/* Copies a received message into one contiguous slice (caller unrefs).
 * Returns 0, or -1 if the buffer cannot be read. */
static int read_message(grpc_byte_buffer *bb, grpc_slice *body)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return -1;
    *body = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    return 0;
}

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
        call_free(c);
    }
}

static void receive_next(call_t *c)
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
    c->response = buffer_take(r->body, r->len);
    r->body = NULL;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = c->response;
    start_op(c, &op, phase);
}

/* Server streaming: asks the handler for the next message and sends it,
 * or finishes the call. */
static void stream_next(call_t *c)
{
    const rpc_stream_ops_t *ops = method_of(c)->stream;
    rpc_reply_t r;

    reply_init(&r);
    if (!ops->next(c->stream_state, &r)) {
        free(r.body);
        r.body = NULL;
        finish(c, &r);
        return;
    }
    send_message(c, &r, PHASE_STREAMING);
}

/* A RECV_MESSAGE completed on a client-streaming call. */
static void on_received(call_t *c, int success)
{
    const rpc_stream_ops_t *ops = method_of(c)->stream;
    rpc_reply_t r;
    grpc_slice body;

    reply_init(&r);
    if (!success) {
        rpc_fail(&r, GRPC_STATUS_CANCELLED, "stream broken");
        finish(c, &r);
        return;
    }
    if (!c->recv) { /* half-close: the client has sent everything */
        ops->finish(c->stream_state, &r);
        finish(c, &r);
        return;
    }
    if (read_message(c->recv, &body) != 0) {
        rpc_fail(&r, GRPC_STATUS_INVALID_ARGUMENT, "unreadable request message");
    } else {
        ops->message(c->stream_state, GRPC_SLICE_START_PTR(body),
                     GRPC_SLICE_LENGTH(body), &r);
        grpc_slice_unref(body);
    }
    grpc_byte_buffer_destroy(c->recv);
    c->recv = NULL;
    if (r.code != GRPC_STATUS_OK) {
        finish(c, &r);
    } else if (r.body) { /* bidi: answer, then read the next request */
        send_message(c, &r, PHASE_ANSWERED);
    } else {
        receive_next(c);
    }
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

static void dispatch(call_t *c)
{
    transport_t *t = c->w->t;
    const rpc_method_t *m = method_of(c);
    rpc_reply_t r;
    grpc_slice body;
    rpc_call_info_t ci = { c->deadline, c->w->index, &c->tags };

    c->started = gpr_now(GPR_CLOCK_MONOTONIC);
    if (t->opts.access_log)
        access_peer(c->call, c->peer, sizeof c->peer);
    reply_init(&r);
    if (!m) {
        char *name = grpc_slice_to_c_string(c->details.method);
        rpc_fail(&r, GRPC_STATUS_UNIMPLEMENTED,
                 "method %s is not implemented by this server", name);
        gpr_free(name);
        finish(c, &r);
        return;
    }
    if (authorize(c, m, &r) != 0) {
        finish(c, &r);
        return;
    }
    if (deadline_passed(c)) {
        rpc_fail(&r, GRPC_STATUS_DEADLINE_EXCEEDED,
                 "deadline passed before the call was started");
        finish(c, &r);
        return;
    }
    if (reads_messages(m->kind)) {
        if (!(c->stream_state = m->stream->open(t->app, &ci))) {
            rpc_fail(&r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
            finish(c, &r);
            return;
        }
        receive_next(c);
        return;
    }
    if (!c->payload) {
        rpc_fail(&r, GRPC_STATUS_INVALID_ARGUMENT, "missing request message");
        finish(c, &r);
        return;
    }
    if (read_message(c->payload, &body) != 0) {
        rpc_fail(&r, GRPC_STATUS_INVALID_ARGUMENT, "unreadable request message");
        finish(c, &r);
        return;
    }
    if (m->kind == RPC_SERVER_STREAM) {
        c->stream_state = m->stream->start(t->app, &ci, GRPC_SLICE_START_PTR(body),
                                           GRPC_SLICE_LENGTH(body), &r);
        grpc_slice_unref(body);
        if (!c->stream_state) {
            if (r.code == GRPC_STATUS_OK)
                rpc_fail(&r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
            finish(c, &r);
            return;
        }
        stream_next(c);
        return;
    }
    m->handler(t->app, &ci, GRPC_SLICE_START_PTR(body), GRPC_SLICE_LENGTH(body), &r);
    grpc_slice_unref(body);
    finish(c, &r);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        call_t *c;
        if (ev.type == GRPC_QUEUE_SHUTDOWN) {
            w->drained = 1;
            break;
        }
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        c = ev.tag;
        switch (c->phase) {
        case PHASE_SENT:
            call_free(c);
            break;
        case PHASE_RECEIVING:
            on_received(c, ev.success);
            break;
        case PHASE_STREAMING:
        case PHASE_ANSWERED:
            if (ev.success) {
                if (c->phase == PHASE_STREAMING)
                    stream_next(c);
                else
                    receive_next(c);
            } else {
                rpc_reply_t r;
                reply_init(&r);
                rpc_fail(&r, GRPC_STATUS_CANCELLED, "stream broken");
                finish(c, &r);
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
    args[0].value.integer = MAX_RECV_BYTES;
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
    free(t);
    grpc_shutdown();
}

/* Whether and how clients present certificates (mutual TLS). */
static grpc_ssl_client_certificate_request_type client_cert_request(const transport_opts_t *o)
{
    if (!o->tls_client_ca_file)
        return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    return o->tls_require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
}

/* TLS from the PEM files in o. gRPC core 1.51's C API has no
 * setter for the TLS versions; its TLS layer (tsi) defaults to 1.2..1.3, so
 * TLS 1.2 is the minimum (tests/integration/test_admin_ops.py checks that a
 * TLS 1.1 handshake is refused). */
static int server_credentials(const transport_opts_t *o, grpc_server_credentials **out)
{
    grpc_ssl_pem_key_cert_pair pair;
    grpc_ssl_server_certificate_config *config;
    grpc_ssl_server_credentials_options *options;
    char *cert = NULL, *key = NULL, *ca = NULL;
    int rc;

    if (!o->tls_cert_file || !o->tls_key_file ||
        (o->tls_require_client_cert && !o->tls_client_ca_file))
        return -EINVAL;
    if ((rc = pemfile_read(o->tls_cert_file, &cert)) != 0 ||
        (rc = pemfile_read(o->tls_key_file, &key)) != 0 ||
        (o->tls_client_ca_file && (rc = pemfile_read(o->tls_client_ca_file, &ca)) != 0)) {
        if (key)
            memset(key, 0, strlen(key));
        free(key);
        free(cert);
        return rc;
    }
    pair.cert_chain = cert;
    pair.private_key = key;
    /* the config keeps its own copies */
    config = grpc_ssl_server_certificate_config_create(ca, &pair, 1);
    options = grpc_ssl_server_credentials_create_options_using_config(client_cert_request(o),
                                                                      config);
    *out = options ? grpc_ssl_server_credentials_create_with_options(options) : NULL;
    memset(key, 0, strlen(key));
    free(key);
    free(cert);
    free(ca);
    return *out ? 0 : -EINVAL;
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

    if ((rc = server_credentials(&t->opts, &creds)) != 0)
        return rc;
    *port = grpc_server_add_http2_port(t->server, listen, creds);
    grpc_server_credentials_release(creds);
    return *port == 0 ? -EADDRNOTAVAIL : 0;
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
    t->methods = methods;
    t->n_methods = n_methods;
    if (opts)
        t->opts = *opts;
    tls = t->opts.tls_cert_file || t->opts.tls_key_file;
    t->app = app;
    t->n_workers = threads;
    t->workers = calloc(threads, sizeof *t->workers);
    t->server = server_create();
    if (!t->workers || !t->server) {
        transport_free(t);
        return -ENOMEM;
    }
    if ((rc = register_methods(t)) != 0) {
        transport_free(t);
        return rc;
    }
    for (unsigned i = 0; i < threads; i++) {
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
    for (unsigned i = 0; i < threads; i++) {
        worker_t *w = &t->workers[i];
        for (size_t m = 0; m < n_methods; m++)
            for (int k = 0; k < PREARM; k++)
                arm(w, (int)m);
        arm(w, CATCH_ALL);
    }
    for (unsigned i = 0; i < threads; i++) {
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
    /* Every call is done; the queues now hold only cancelled requests. */
    for (unsigned i = 0; i < t->n_workers; i++) {
        if (!t->workers[i].started)
            continue;
        grpc_completion_queue_shutdown(t->workers[i].cq);
        pthread_join(t->workers[i].thread, NULL);
    }
    transport_free(t); /* drains queues whose thread never started */
}
