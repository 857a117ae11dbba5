/*
 * transport_call.h - inside the transport (not for handlers: they see
 * transport.h): the state of one call, of a worker and of the server, and
 * the steps transport.c (arming, dispatch, unary calls, start and stop)
 * and transport_stream.c (streaming calls) share. The life of a call, its
 * phases and which thread touches it are described in transport.c.
 */
#ifndef PATRON_SERVER_TRANSPORT_CALL_H
#define PATRON_SERVER_TRANSPORT_CALL_H

#include <grpc/grpc.h>
#include <pthread.h>

#include "listener.h"
#include "transport.h"

#define CATCH_ALL (-1)

enum call_phase { PHASE_REQUESTED, PHASE_RECEIVING, PHASE_STREAMING, PHASE_ANSWERED,
                  PHASE_SENT, PHASE_PARKED, PHASE_DONE, PHASE_CLOSED };

typedef struct worker worker_t;

/* The tag of a parked stream's RECV_CLOSE_ON_SERVER: its first member is a
 * phase (PHASE_CLOSED) like call_t's, so a completion's tag tells which. */
typedef struct closer {
    enum call_phase phase;
    struct call *c;
} closer_t;

typedef struct call {
    enum call_phase phase;    /* first: see closer_t */
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
    closer_t closer;               /* RECV_CLOSE_ON_SERVER on its own, once parked */
    int close_armed, closed;       /* ... started; completed */
    struct call *next_parked;      /* the worker's parked list */
} call_t;

struct worker {
    transport_t *t;
    unsigned index;
    grpc_completion_queue *cq;
    pthread_t thread;
    int started;                   /* thread running */
    int drained;                   /* queue saw GRPC_QUEUE_SHUTDOWN */
    call_t *parked;                /* streams waiting for something to send */
    call_t *ready;                 /* streams to step again (stream_ready) */
    gpr_timespec next_tick;        /* when to ask them again */
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
    /* Calls async handlers took and have not answered yet (any thread
     * answers: rpc_pending_finish); transport_stop waits for none. */
    pthread_mutex_t taken_mu;
    pthread_cond_t taken_cv;
    unsigned taken;
};

/* The method a call is for; NULL for one the server does not serve. */
const rpc_method_t *call_method(const call_t *c);

/* Frees the call and everything it holds (closing its stream state). */
void call_free(call_t *c);

/* The call's last batch completed, or could not start (then cancel the
 * call first): frees it, unless a parked stream's own RECV_CLOSE_ON_SERVER
 * is still outstanding; its completion (stream_closed) frees it then. */
void call_release(call_t *c);

/* A byte buffer taking over body (malloc'd, len bytes; may be empty). */
grpc_byte_buffer *call_buffer(uint8_t *body, size_t len);

/* Starts the final batch: initial metadata if not sent yet, r's message
 * when OK, the status, and RECV_CLOSE_ON_SERVER unless a parked stream
 * armed its own; counts and logs the call (stats, audit, access log).
 * r->body is taken over. */
void call_finish(call_t *c, const rpc_reply_t *r);

void call_reply_init(rpc_reply_t *r);

/* Whether the call's deadline has passed. */
int call_deadline_passed(const call_t *c);

/* Copies a received message into one contiguous slice (caller unrefs).
 * Returns 0, or -1 if the buffer cannot be read. */
int call_read_message(grpc_byte_buffer *bb, grpc_slice *body);

/* transport_stream.c: the streaming steps. */
void stream_receive_next(call_t *c);             /* arm RECV_MESSAGE */
void stream_next(call_t *c);                     /* send, park, yield or finish */
void stream_broken(call_t *c);                   /* its send or yield failed */
void stream_received(call_t *c, int success);    /* a RECV_MESSAGE completed */
void stream_wake_parked(worker_t *w);            /* the tick */
void stream_ready(call_t *c);                    /* step again after a poll */
void stream_wake_ready(worker_t *w);             /* ... now */
void stream_closed(call_t *c);                   /* a parked call's close completed */

#endif
