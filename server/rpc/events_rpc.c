/*
 * events_rpc.c - the patron.v1.Events methods: RecordEvents (one message,
 * one transaction) and StreamEvents (each message stored as it arrives),
 * with per-event outcomes from the store. RecordEvents waits for the
 * store's group commit without holding a worker (store_record_events_async),
 * so writers far more numerous than workers share its rounds; StreamEvents
 * pipelines its messages through it.
 */
#include "events_rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "enums.h"
#include "grow.h"
#include "patron/v1/events.pb-c.h"
#include "wallclock.h"

/* Largest batch one RecordEvents message carries. */
#define MAX_EVENTS_PER_MESSAGE 100000

/* Longest error list a streamed RecordEvents reply carries; the counts
 * stay exact beyond it. */
#define MAX_STREAM_ERRORS 1000

/* What one or more stored batches came to: counts and per-event errors
 * (reasons are static strings from the store). */
typedef struct event_tally {
    uint32_t accepted, duplicates, rejected;
    Patron__V1__EventError *errs;
    size_t n_errs, cap_errs;
} event_tally_t;

static int tally_error(event_tally_t *t, uint32_t index, const char *reason,
                       size_t limit)
{
    if (t->n_errs >= limit)
        return 0;
    if (GROW(t->errs, t->cap_errs, t->n_errs + 1))
        return -ENOMEM;
    patron__v1__event_error__init(&t->errs[t->n_errs]);
    t->errs[t->n_errs].index = index;
    t->errs[t->n_errs].reason = (char *)reason;
    t->n_errs++;
    return 0;
}

/* A not_interested in a whole category must name a category some item of
 * the served catalog has (the store keeps no index of categories). NULL
 * when there is no category or it is known. */
static const char *category_unknown(const catalog_t *c, const char *category)
{
    uint32_t id;
    if (!category || !category[0])
        return NULL;
    if (!c || catalog_category_index(c, category, &id) != 0)
        return "category: unknown category (no item has it)";
    return NULL;
}

/* Queues the customers of the accepted events for trigger evaluation
 * (app_triggers_touch): their events are committed. */
static void touch_accepted(app_t *a, const store_event_t *ev, const uint8_t *outcome,
                           size_t n)
{
    const char *ids[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (outcome[i] != STORE_ACCEPTED || (k && strcmp(ids[k - 1], ev[i].customer_id) == 0))
            continue;
        ids[k++] = ev[i].customer_id;
        if (k == sizeof ids / sizeof ids[0]) {
            app_triggers_touch(a, ids, k);
            k = 0;
        }
    }
    app_triggers_touch(a, ids, k);
}

/* One request's events made ready for the store: the events the store is
 * to see in ev[0..kept), and for each of the n events of the request the
 * reason it was turned away before the store (early; NULL if it was not).
 * outcome and reason receive the store's verdict on ev. */
typedef struct prepared {
    size_t n, kept;
    store_event_t *ev;
    uint8_t *outcome;
    const char **reason;
    const char **early;
} prepared_t;

static void prepared_free(prepared_t *p)
{
    free(p->ev);
    free(p->outcome);
    free(p->reason);
    free(p->early);
}

/* Events whose time is implausible (store_event_time_invalid at the wall
 * clock) or whose category no item has are turned away here. The store
 * events point into events' strings. 0 or -ENOMEM. */
static int prepare(app_t *a, Patron__V1__Event *const *events, size_t n, prepared_t *p)
{
    size_t cap = n ? n : 1;
    int64_t now = wall_ms();
    catalog_t *cat;

    *p = (prepared_t){ .n = n, .ev = calloc(cap, sizeof *p->ev),
                       .outcome = calloc(cap, 1), .reason = calloc(cap, sizeof *p->reason),
                       .early = calloc(cap, sizeof *p->early) };
    if (!p->ev || !p->outcome || !p->reason || !p->early) {
        prepared_free(p);
        return -ENOMEM;
    }
    cat = catalog_slot_get(&a->catalogs);
    for (size_t i = 0; i < n; i++) {
        const Patron__V1__Event *e = events[i];
        if ((p->early[i] = store_event_time_invalid(e->time_unix_ms, now,
                                                    a->max_event_skew_ms)) != NULL ||
            (p->early[i] = category_unknown(cat, e->category)) != NULL)
            continue;
        p->ev[p->kept++] = (store_event_t){ e->event_id, e->customer_id, e->item_id,
                                            event_type_from_pb(e->type), e->time_unix_ms,
                                            e->quantity, e->unit_price, e->category };
    }
    catalog_unref(cat);
    return 0;
}

/* After the store committed p's events: queues their customers for the
 * triggers, counts them and adds the outcomes to t (positions numbered
 * from `first`). 0 or -ENOMEM. */
static int account(app_t *a, const prepared_t *p, uint32_t first, size_t err_limit,
                   event_tally_t *t)
{
    int rc = 0;

    touch_accepted(a, p->ev, p->outcome, p->kept);
    for (size_t i = 0, k = 0; i < p->n && rc == 0; i++) {
        const char *why = p->early[i];
        if (!why) {
            switch (p->outcome[k]) {
            case STORE_ACCEPTED:
                t->accepted++;
                counters_event(&a->counters, p->ev[k].type);
                break;
            case STORE_DUPLICATE: t->duplicates++; break;
            default: why = p->reason[k];
            }
            k++;
        }
        if (why) {
            t->rejected++;
            counters_events_rejected(&a->counters, 1);
            rc = tally_error(t, first + (uint32_t)i, why, err_limit);
        }
    }
    return rc;
}

/* Stores one request's events (positions numbered from `first`) in one
 * transaction and adds the outcomes to t. Returns 0 or a negative errno
 * (then nothing of this batch was stored). */
static int store_batch(app_t *a, Patron__V1__Event *const *events, size_t n,
                       uint32_t first, size_t err_limit, event_tally_t *t)
{
    prepared_t p;
    int rc;

    if ((rc = prepare(a, events, n, &p)) != 0)
        return rc;
    if ((rc = store_record_events(a->store, p.ev, p.kept, p.outcome, p.reason)) == 0)
        rc = account(a, &p, first, err_limit, t);
    prepared_free(&p);
    return rc;
}

/* One batch's events: RecordEvents' request, or one StreamEvents message
 * (the same fields in a message of its own). */
typedef struct event_batch {
    ProtobufCMessage *msg;       /* owns the events */
    Patron__V1__Event **events;
    size_t n;
} event_batch_t;

/* Answers RecordEvents, or StreamEvents when stream is set: the same
 * totals in each method's own response message. */
static void reply_tally(const event_tally_t *t, int stream, rpc_reply_t *out)
{
    Patron__V1__RecordEventsResponse rec = PATRON__V1__RECORD_EVENTS_RESPONSE__INIT;
    Patron__V1__StreamEventsResponse str = PATRON__V1__STREAM_EVENTS_RESPONSE__INIT;
    Patron__V1__EventError **ep = calloc(t->n_errs ? t->n_errs : 1, sizeof *ep);

    if (!ep) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (size_t i = 0; i < t->n_errs; i++)
        ep[i] = &t->errs[i];
    if (stream) {
        str.accepted = t->accepted;
        str.duplicates = t->duplicates;
        str.rejected = t->rejected;
        str.n_errors = t->n_errs;
        str.errors = ep;
        encode(&str.base, out);
    } else {
        rec.accepted = t->accepted;
        rec.duplicates = t->duplicates;
        rec.rejected = t->rejected;
        rec.n_errors = t->n_errs;
        rec.errors = ep;
        encode(&rec.base, out);
    }
    free(ep);
}

/* Decodes a RecordEventsRequest (or, stream set, a StreamEventsRequest)
 * into b; 0, or -1 with the failure in out. */
static int decode_events(int stream, const uint8_t *req, size_t len, rpc_reply_t *out,
                         event_batch_t *b)
{
    if (stream) {
        Patron__V1__StreamEventsRequest *r = (Patron__V1__StreamEventsRequest *)decode(
            &patron__v1__stream_events_request__descriptor, req, len, out);
        if (!r)
            return -1;
        *b = (event_batch_t){ &r->base, r->events, r->n_events };
    } else {
        Patron__V1__RecordEventsRequest *r = (Patron__V1__RecordEventsRequest *)decode(
            &patron__v1__record_events_request__descriptor, req, len, out);
        if (!r)
            return -1;
        *b = (event_batch_t){ &r->base, r->events, r->n_events };
    }
    if (b->n > MAX_EVENTS_PER_MESSAGE) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "events: at most %d per message, got %zu", MAX_EVENTS_PER_MESSAGE, b->n);
        protobuf_c_message_free_unpacked(b->msg, NULL);
        return -1;
    }
    return 0;
}

void h_record_events(void *app, const rpc_call_info_t *ci,
                            const uint8_t *req, size_t len, rpc_reply_t *out)
{
    event_tally_t t = { 0 };
    event_batch_t b;
    int rc;

    if (decode_events(0, req, len, out, &b) != 0)
        return;
    rc = store_batch(app, b.events, b.n, 0, SIZE_MAX, &t);
    if (rc)
        fail_errno(out, rc, "storing events (nothing of this batch was stored)");
    else
        reply_tally(&t, 0, out);
    free(t.errs);
    protobuf_c_message_free_unpacked(b.msg, NULL);
}

/* RecordEvents on the transport: the call waits for the store's group
 * commit without holding its worker, so every call waiting when a commit
 * round starts is in it (one fsync for all of them), however few workers
 * serve them. The reply is sent from the committer thread once the events
 * are durable. */
typedef struct record_call {
    app_t *app;
    rpc_pending_t *pending;
    event_batch_t b;     /* owns the strings p.ev points into */
    prepared_t p;
} record_call_t;

static void record_call_free(record_call_t *rc)
{
    prepared_free(&rc->p);
    if (rc->b.msg)
        protobuf_c_message_free_unpacked(rc->b.msg, NULL);
    free(rc);
}

/* The store's verdict (store_done_fn): the reply, as h_record_events'. */
static void record_done(void *ctx, int rc)
{
    record_call_t *call = ctx;
    rpc_pending_t *pending = call->pending;
    rpc_reply_t out = { .code = GRPC_STATUS_OK };
    event_tally_t t = { 0 };

    if (rc == 0)
        rc = account(call->app, &call->p, 0, SIZE_MAX, &t);
    if (rc)
        fail_errno(&out, rc, "storing events (nothing of this batch was stored)");
    else
        reply_tally(&t, 0, &out);
    free(t.errs);
    record_call_free(call);
    rpc_pending_finish(pending, &out);
}

void h_record_events_async(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                           size_t len, rpc_pending_t *pending)
{
    app_t *a = app;
    record_call_t *call = calloc(1, sizeof *call);
    rpc_reply_t out = { .code = GRPC_STATUS_OK };
    int rc;

    (void)ci;
    if (!call) {
        rpc_fail(&out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        rpc_pending_finish(pending, &out);
        return;
    }
    call->app = a;
    call->pending = pending;
    if (decode_events(0, req, len, &out, &call->b) != 0) {
        call->b.msg = NULL; /* decode_events freed it */
        record_call_free(call);
        rpc_pending_finish(pending, &out);
        return;
    }
    if ((rc = prepare(a, call->b.events, call->b.n, &call->p)) != 0) {
        record_done(call, rc);
        return;
    }
    if (call->p.kept == 0) { /* nothing for the store: answer now */
        record_done(call, 0);
        return;
    }
    rc = store_record_events_async(a->store, call->p.ev, call->p.kept, call->p.outcome,
                                   call->p.reason, record_done, call);
    if (rc)
        record_done(call, rc);
}

/*
 * StreamEvents: each message is stored (one transaction, whole or not at
 * all) by the store's group commit, and the single reply comes only once
 * every message of the stream is committed, so when it says "accepted",
 * everything is durable. Event indices in errors count across the whole
 * stream.
 *
 * Messages are pipelined: the worker hands a message to the store and reads
 * the next one while the store commits (in the same round as other
 * streams' messages, one fsync for all), at most STREAM_IN_FLIGHT messages
 * per stream at once; a message beyond that waits on the worker for the
 * oldest to be committed, which holds a fast client back. Completions run
 * on the store's committer threads and add to the tally under the stream's
 * lock. The first message that fails ends the stream with its error: the
 * messages before it are stored, later ones may be.
 */
#define STREAM_IN_FLIGHT 2

typedef struct event_stream {
    app_t *app;
    uint32_t seen;        /* events received so far (the worker's) */
    uint32_t messages;    /* messages received so far (the worker's) */
    pthread_mutex_t mu;   /* the fields below */
    pthread_cond_t cv;
    event_tally_t t;
    unsigned in_flight;   /* messages handed to the store, not completed */
    int failed_rc;        /* the first failed message's error, 0 if none */
    uint32_t failed_msg;  /* its number in the stream, from 0 */
} event_stream_t;

/* One message on its way through the store. */
typedef struct stream_msg {
    event_stream_t *st;
    event_batch_t b;      /* owns the strings p.ev points into */
    prepared_t p;
    uint32_t first;       /* the stream index of its first event */
    uint32_t index;       /* its number in the stream */
} stream_msg_t;

static void stream_msg_free(stream_msg_t *m)
{
    prepared_free(&m->p);
    if (m->b.msg)
        protobuf_c_message_free_unpacked(m->b.msg, NULL);
    free(m);
}

/* With st->mu held: a message's outcome (rc 0: committed) into the tally. */
static void stream_account(event_stream_t *st, stream_msg_t *m, int rc)
{
    if (rc == 0)
        rc = account(st->app, &m->p, m->first, MAX_STREAM_ERRORS, &st->t);
    if (rc && (!st->failed_rc || m->index < st->failed_msg)) {
        st->failed_rc = rc;
        st->failed_msg = m->index;
    }
}

/* The store's verdict on a message (store_done_fn), on a committer thread. */
static void stream_msg_done(void *ctx, int rc)
{
    stream_msg_t *m = ctx;
    event_stream_t *st = m->st;

    pthread_mutex_lock(&st->mu);
    stream_account(st, m, rc);
    stream_msg_free(m);
    st->in_flight--;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu); /* st may be gone after this (close) */
}

/* Waits until at most `most` messages are in flight; returns the first
 * failure so far (0 if none). */
static int stream_wait(event_stream_t *st, unsigned most)
{
    int rc;
    pthread_mutex_lock(&st->mu);
    while (st->in_flight > most)
        pthread_cond_wait(&st->cv, &st->mu);
    rc = st->failed_rc;
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* The stream's error reply for its first failed message. */
static void stream_failed(event_stream_t *st, rpc_reply_t *out)
{
    char what[200];
    snprintf(what, sizeof what, "storing events: message %u of this stream was not stored "
             "(the messages before it are, later ones may be: resend from it, event ids "
             "make that safe)", st->failed_msg);
    fail_errno(out, st->failed_rc, what);
}

static void *events_open(void *app, const rpc_call_info_t *ci)
{
    event_stream_t *st = calloc(1, sizeof *st);
    (void)ci;
    if (!st)
        return NULL;
    st->app = app;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    return st;
}

/* Hands m to the store (or, nothing in it for the store, accounts it now). */
static void stream_submit(event_stream_t *st, stream_msg_t *m)
{
    int rc;

    pthread_mutex_lock(&st->mu);
    if (m->p.kept == 0) {
        stream_account(st, m, 0);
        pthread_mutex_unlock(&st->mu);
        stream_msg_free(m);
        return;
    }
    st->in_flight++;
    pthread_mutex_unlock(&st->mu);
    rc = store_record_events_async(st->app->store, m->p.ev, m->p.kept, m->p.outcome,
                                   m->p.reason, stream_msg_done, m);
    if (rc)
        stream_msg_done(m, rc);
}

static void events_message(void *state, const uint8_t *req, size_t len,
                           rpc_reply_t *out)
{
    event_stream_t *st = state;
    stream_msg_t *m = calloc(1, sizeof *m);
    int rc;

    if (!m) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    m->st = st;
    if (decode_events(1, req, len, out, &m->b) != 0) {
        m->b.msg = NULL; /* decode_events freed it */
        stream_msg_free(m);
        return;
    }
    if ((uint64_t)st->seen + m->b.n > UINT32_MAX) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "events: a stream takes at most 4294967295 events");
        stream_msg_free(m);
        return;
    }
    m->first = st->seen;
    m->index = st->messages++;
    st->seen += (uint32_t)m->b.n;
    /* Back-pressure: the oldest message must be committed first. */
    if (stream_wait(st, STREAM_IN_FLIGHT - 1) != 0) {
        stream_failed(st, out);
        stream_msg_free(m);
        return;
    }
    if ((rc = prepare(st->app, m->b.events, m->b.n, &m->p)) != 0) {
        fail_errno(out, rc, "storing events (earlier messages of this stream "
                            "are stored, this one is not)");
        stream_msg_free(m);
        return;
    }
    stream_submit(st, m);
}

static int cmp_error_index(const void *a, const void *b)
{
    const Patron__V1__EventError *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

static void events_finish(void *state, rpc_reply_t *out)
{
    event_stream_t *st = state;

    if (stream_wait(st, 0) != 0) {
        stream_failed(st, out);
        return;
    }
    /* Completions of two rounds may run at once: errors in stream order. */
    if (st->t.n_errs > 1)
        qsort(st->t.errs, st->t.n_errs, sizeof *st->t.errs, cmp_error_index);
    reply_tally(&st->t, 1, out);
}

static void events_close(void *state)
{
    event_stream_t *st = state;
    stream_wait(st, 0); /* completions still to come use st */
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->t.errs);
    free(st);
}

const rpc_stream_ops_t stream_events_ops = {
    .open = events_open,
    .message = events_message,
    .finish = events_finish,
    .close = events_close,
};
