/*
 * transport.h - a unary gRPC server on the gRPC C core (1.51).
 *
 * This is the only module that talks to the gRPC server API. It owns the
 * server, one completion queue and one thread per worker, arms every
 * registered method on every queue (several outstanding requests each) plus a
 * catch-all grpc_server_request_call, so any other method is answered
 * UNIMPLEMENTED at once instead of hanging until its deadline.
 *
 * Handlers are plain functions from request bytes to response bytes and a
 * status (or, for streaming methods, callbacks per message); they never see
 * gRPC objects. A call whose deadline has already
 * passed when it reaches a worker is answered DEADLINE_EXCEEDED without
 * running the handler.
 */
#ifndef PATRON_SERVER_TRANSPORT_H
#define PATRON_SERVER_TRANSPORT_H

#include <grpc/grpc.h>

#include "callstats.h"
#include <stddef.h>
#include <stdint.h>

/* The largest request message a call may carry (gRPC's max receive length;
 * the HTTP/JSON gateway's body limit too). */
#define TRANSPORT_MAX_MESSAGE_BYTES (16 * 1024 * 1024)

typedef struct rpc_reply {
    grpc_status_code code;    /* GRPC_STATUS_OK unless set */
    char message[512];        /* status details for errors */
    uint8_t *body;            /* malloc'd response bytes (taken over), or NULL */
    size_t len;
} rpc_reply_t;

/* What a handler reports about its call for the access log
 * (transport_opts_t.access_log): owned by the transport, one per call, empty
 * until the handler fills it (rpc_tags_set). Never customer or item ids. */
#define RPC_TAG_MAX 65
typedef struct rpc_call_tags {
    char request_id[RPC_TAG_MAX];  /* the response's provenance request id */
    unsigned long long model_version;
    char experiment[RPC_TAG_MAX];
    char arm[RPC_TAG_MAX];
} rpc_call_tags_t;

typedef struct rpc_call_info {
    gpr_timespec deadline;    /* GPR_CLOCK_MONOTONIC; infinite if none */
    unsigned worker;          /* index of the worker thread */
    rpc_call_tags_t *tags;    /* the call's access-log tags; NULL when a
                                 handler is called outside the transport */
    const char *caller;       /* the name of the token that authorized the
                                 call (the audit lines' caller); NULL or ""
                                 without --auth-file or outside the transport */
} rpc_call_info_t;

/* Runs on a worker thread. req is valid only during the call. */
typedef void (*rpc_handler_fn)(void *app, const rpc_call_info_t *ci,
                               const uint8_t *req, size_t len,
                               rpc_reply_t *out);

/* A unary call answered later (rpc_method_t.async_handler). */
typedef struct rpc_pending rpc_pending_t;

/* Runs on a worker thread like rpc_handler_fn, but the reply need not be
 * ready when it returns: it hands p to whatever will answer (a committer
 * thread, say) and returns, and the worker goes on serving other calls.
 * Exactly one rpc_pending_finish(p, ...) must follow, from any thread,
 * before or after the handler returns. req is valid only during the call;
 * ci only until the handler returns. The client's cancellation or deadline
 * is not watched meanwhile: the reply then goes nowhere. */
typedef void (*rpc_async_handler_fn)(void *app, const rpc_call_info_t *ci,
                                     const uint8_t *req, size_t len, rpc_pending_t *p);

/* Answers a call an async handler took: out's status and message, and its
 * body (taken over) when OK. p is gone afterwards. Any thread; once per
 * call. transport_stop waits for every taken call to be answered. */
void rpc_pending_finish(rpc_pending_t *p, rpc_reply_t *out);

/*
 * Streaming methods. Every callback runs on the call's worker thread, one
 * at a time for a given call; `st` is the per-call state `open`/`start`
 * returned, released by `close`, which is always called exactly once.
 *
 * Client streaming (many requests, one response):
 *   open(app, ci)            -> state, or NULL (RESOURCE_EXHAUSTED)
 *   message(st, req, len, o) once per request message; setting o->code
 *                            to an error ends the call with that status
 *   finish(st, o)            after the client half-closed: the response
 *
 * Server streaming (one request, many responses):
 *   start(app, ci, req, len, o) -> state, or NULL with o's status; keep it
 *                            cheap: long work belongs in next's steps
 *   next(st, o)              returns RPC_STREAM_MESSAGE (1) with o->body the
 *                            next message, RPC_STREAM_DONE (0) when done
 *                            (o->code = final status; an error status ends
 *                            the call whatever the answer), or
 *                            RPC_STREAM_WAIT when it has nothing to send
 *                            yet: the call is parked on its worker, which
 *                            asks again every 100 ms while it holds parked
 *                            calls (a bounded tick: one next() per parked
 *                            call; an idle worker never wakes). A parked
 *                            call whose client cancels (or whose deadline
 *                            passes) ends CANCELLED without another next().
 *                            RPC_STREAM_YIELD: one bounded step of work done
 *                            and no message yet; asked again as soon as the
 *                            worker has served every completion queued and
 *                            polled for I/O (so other calls' requests are
 *                            read and served between two steps).
 *   Flow control: next is asked for a message only once the previous one
 *   was sent (one SEND_MESSAGE outstanding), so a client that does not read
 *   holds its stream back at one message. Before every next the transport
 *   ends the call with DEADLINE_EXCEEDED once the deadline has passed, or
 *   CANCELLED once the client cancelled, and close releases the state. A
 *   step should take a millisecond or two at most: other calls on the
 *   worker wait for it (SelectAudience matches 64 customers per step).
 *
 * Bidirectional streaming (each request answered in turn):
 *   open, message, finish    as for client streaming, except that message
 *                            may set o->body: a response sent before the
 *                            next request is read; finish's o->body, if
 *                            any, is sent as a last message
 */
#define RPC_STREAM_DONE 0
#define RPC_STREAM_MESSAGE 1
#define RPC_STREAM_WAIT 2
#define RPC_STREAM_YIELD 3

typedef struct rpc_stream_ops {
    void *(*open)(void *app, const rpc_call_info_t *ci);
    void (*message)(void *st, const uint8_t *req, size_t len, rpc_reply_t *out);
    void (*finish)(void *st, rpc_reply_t *out);
    void *(*start)(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                   size_t len, rpc_reply_t *out);
    int (*next)(void *st, rpc_reply_t *out);
    void (*close)(void *st);
} rpc_stream_ops_t;

typedef enum rpc_kind {
    RPC_UNARY = 0,
    RPC_CLIENT_STREAM,
    RPC_SERVER_STREAM,
    RPC_BIDI_STREAM,
} rpc_kind_t;

/* Which threads run a method's calls. Admin calls that load a model or
 * rewrite much of the store on request run on one admin thread with its own
 * completion queue, so they never occupy the request workers (they queue
 * behind each other there, one at a time; the client waits for the reply
 * as for any call). */
typedef enum rpc_lane {
    RPC_LANE_REQUEST = 0,   /* the `threads` request workers */
    RPC_LANE_ADMIN,         /* the admin thread */
} rpc_lane_t;

typedef struct rpc_method {
    const char *path;               /* "/package.Service/Method" */
    rpc_handler_fn handler;         /* RPC_UNARY (and the HTTP gateway's) */
    rpc_async_handler_fn async_handler; /* RPC_UNARY: NULL, or what the
                                       transport runs instead of handler
                                       (both answer alike) */
    rpc_kind_t kind;
    const rpc_stream_ops_t *stream; /* streaming kinds */
    rpc_lane_t lane;
    int audit;                      /* log an "audit:" line per finished call:
                                       method, caller, status; never the
                                       request or the status message (they
                                       may hold customer data) */
} rpc_method_t;

typedef struct transport transport_t;

/* Checks a call to a registered method before anything else runs: path is
 * "/package.Service/Method", token the bearer token from the call's
 * "authorization: Bearer <token>" (or "x-api-key: <token>") metadata, NULL
 * when it has none. Returns a grpc_status_code: OK lets the call run (msg
 * then holds the caller's name for audit lines, "" if it has none), any
 * other ends it with that status and msg. Runs on worker threads. */
typedef int (*rpc_authorize_fn)(void *ctx, const char *path, const char *token,
                                size_t len, char *msg, size_t cap);

typedef struct transport_opts {
    rpc_authorize_fn authorize;   /* NULL: every call runs */
    void *auth_ctx;
    const char *tls_cert_file;    /* PEM certificate chain and private key: */
    const char *tls_key_file;     /* both for TLS, neither for plaintext */
    const char *tls_client_ca_file; /* NULL, or PEM roots client certificates
                                       are verified against (mutual TLS) */
    int tls_require_client_cert;  /* with tls_client_ca_file: refuse clients
                                     without a certificate it signed */
    callstats_t *stats;           /* NULL, or n_methods + 1 entries (the last
                                     for unknown methods) the transport counts
                                     every finished call in, by method: status
                                     and time from dispatch to the final batch */
    int access_log;               /* one log line per finished call: method,
                                     status, ms, peer, the handler's tags and
                                     the trace id of a W3C traceparent header */
} transport_opts_t;

/* Binds listen ("host:port", port 0 = ephemeral), starts `threads` workers
 * (plus the admin thread when a method is on RPC_LANE_ADMIN).
 * methods must outlive the transport; opts (may be NULL) is copied.
 * *port gets the bound port. Returns 0, or a negative errno (-EINVAL bad
 * arguments, -ENOENT/-EACCES unreadable TLS files, -EADDRNOTAVAIL could not
 * bind, -ENOMEM). */
int transport_start(const char *listen, unsigned threads,
                    const rpc_method_t *methods, size_t n_methods, void *app,
                    const transport_opts_t *opts, transport_t **out, int *port);

/* Stops accepting calls, lets in-flight calls finish (cancelling them after
 * drain_ms; calls an async handler took are waited for until answered),
 * joins the workers and frees everything. */
void transport_stop(transport_t *t, int drain_ms);

/* Sets a reply's error status with a printf-style message. */
void rpc_fail(rpc_reply_t *out, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the call's access-log tags (any string may be NULL: left as is;
 * longer ones are cut). Does nothing when ci or ci->tags is NULL. */
void rpc_tags_set(const rpc_call_info_t *ci, const char *request_id,
                  unsigned long long model_version, const char *experiment,
                  const char *arm);

/* Milliseconds left before the deadline (negative when passed). */
int64_t rpc_remaining_ms(const rpc_call_info_t *ci);

#endif
