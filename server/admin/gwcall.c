/*
 * gwcall.c - one HTTP/JSON call through a method's handler (gwcall.h).
 *
 * The request goes JSON -> message -> protobuf bytes so the handler gets
 * exactly what a gRPC client would send and runs its own decoding and
 * checks (prescan limits, string rules) unchanged; the response bytes are
 * unpacked against the method's output type and written as JSON.
 */
#include "gwcall.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "grpc/health/v1/health.pb-c.h"
#include "log.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/coupons.pb-c.h"
#include "patron/v1/events.pb-c.h"
#include "patron/v1/experiments.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "patron/v1/triggers.pb-c.h"
#include "pbjson.h"
#include "status_names.h"

/* Every service whose methods may be called over HTTP. A service missing
 * here answers UNIMPLEMENTED ("no message types"); test_srv_pbjson checks
 * that each unary and server-streaming method of patron_api is covered. */
static const ProtobufCServiceDescriptor *const services[] = {
    &patron__v1__recommender__descriptor, &patron__v1__events__descriptor,
    &patron__v1__profiles__descriptor,    &patron__v1__experiments__descriptor,
    &patron__v1__admin__descriptor,       &patron__v1__coupons__descriptor,
    &patron__v1__triggers__descriptor,
    &grpc__health__v1__health__descriptor,
};

static const ProtobufCMethodDescriptor *method_desc(const char *path)
{
    const char *slash;
    size_t svc_len;

    if (path[0] != '/' || !(slash = strchr(path + 1, '/')))
        return NULL;
    svc_len = (size_t)(slash - path - 1);
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        const ProtobufCServiceDescriptor *s = services[i];
        if (strlen(s->name) == svc_len && memcmp(s->name, path + 1, svc_len) == 0)
            return protobuf_c_service_descriptor_get_method_by_name(s, slash + 1);
    }
    return NULL;
}

int gwcall_types(const char *path, const ProtobufCMessageDescriptor **in,
                 const ProtobufCMessageDescriptor **out)
{
    const ProtobufCMethodDescriptor *m = method_desc(path);

    if (!m)
        return -1;
    *in = m->input;
    *out = m->output;
    return 0;
}

static void fail(gwcall_reply_t *out, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(gwcall_reply_t *out, int code, const char *fmt, ...)
{
    va_list ap;

    out->code = code;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

static long method_index(const rpc_api_t *api, const char *path)
{
    for (size_t i = 0; i < api->n_methods; i++)
        if (strcmp(api->methods[i].path, path) == 0)
            return (long)i;
    return -1;
}

/* Whether two message types have the same fields (ids, names, types,
 * labels, field types): one's JSON is the other's. */
static int same_shape(const ProtobufCMessageDescriptor *a, const ProtobufCMessageDescriptor *b)
{
    if (a == b)
        return 1;
    if (a->n_fields != b->n_fields)
        return 0;
    for (unsigned i = 0; i < a->n_fields; i++) {
        const ProtobufCFieldDescriptor *x = &a->fields[i], *y = &b->fields[i];
        if (x->id != y->id || x->type != y->type || x->label != y->label ||
            x->descriptor != y->descriptor || strcmp(x->name, y->name) != 0)
            return 0;
    }
    return 1;
}

/* A unary method of the same service whose request has the shape of the
 * streaming method path's: what to call over HTTP instead. */
static const char *unary_alternative(const rpc_api_t *api, const char *path)
{
    const ProtobufCMethodDescriptor *sm = method_desc(path);
    const char *slash = strchr(path + 1, '/');
    size_t prefix = (size_t)(slash - path) + 1;

    for (size_t i = 0; sm && i < api->n_methods; i++) {
        const rpc_method_t *m = &api->methods[i];
        const ProtobufCMethodDescriptor *um;
        if (m->kind != RPC_UNARY || strncmp(m->path, path, prefix) != 0)
            continue;
        if ((um = method_desc(m->path)) && same_shape(um->input, sm->input))
            return m->path;
    }
    return NULL;
}

static void refuse_stream(const rpc_api_t *api, const rpc_method_t *m, gwcall_reply_t *out)
{
    const char *alt = unary_alternative(api, m->path);

    if (alt)
        fail(out, GRPC_STATUS_UNIMPLEMENTED,
             "%s streams requests and is not served over HTTP/JSON: POST the messages "
             "in one call to /v1%s, or call %s over gRPC", m->path, alt, m->path);
    else
        fail(out, GRPC_STATUS_UNIMPLEMENTED,
             "%s streams requests and is not served over HTTP/JSON: call it over gRPC",
             m->path);
}

/* The request as protobuf bytes (malloc'd), or -1 with out's status set. */
static int request_bytes(const ProtobufCMessageDescriptor *d, const gwcall_req_t *req,
                         uint8_t **bytes, size_t *len, gwcall_reply_t *out)
{
    ProtobufCMessage *msg;
    char err[400];
    int rc;

    if (pbjson_count_values(req->body, req->len) > GWCALL_MAX_VALUES) {
        fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "request: more than %zu JSON values",
             GWCALL_MAX_VALUES);
        return -1;
    }
    rc = pbjson_parse(d, req->body, req->len, &msg, err, sizeof err);
    if (rc) {
        fail(out, rc == -ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INVALID_ARGUMENT,
             "%s", err);
        return -1;
    }
    *len = protobuf_c_message_get_packed_size(msg);
    if (*len > GWCALL_MAX_BYTES) {
        protobuf_c_message_free_unpacked(msg, NULL);
        fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "request of %zu bytes exceeds %zu", *len,
             GWCALL_MAX_BYTES);
        return -1;
    }
    if (!(*bytes = malloc(*len ? *len : 1))) {
        protobuf_c_message_free_unpacked(msg, NULL);
        fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    protobuf_c_message_pack(msg, *bytes);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}

/* Response bytes of type d as JSON text (malloc'd), or NULL with out's
 * status set. */
static char *response_json(const ProtobufCMessageDescriptor *d, const uint8_t *body,
                           size_t len, size_t *text_len, gwcall_reply_t *out)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, len, body);
    char err[400], *text;

    if (!msg) {
        fail(out, GRPC_STATUS_INTERNAL, "the response is not a valid %s", d->name);
        return NULL;
    }
    text = pbjson_format(msg, text_len, err, sizeof err);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (!text)
        fail(out, GRPC_STATUS_INTERNAL, "cannot write the %s response as JSON: %s", d->name,
             err);
    return text;
}

static void run_unary(app_t *app, const rpc_method_t *m, const rpc_call_info_t *ci,
                      const ProtobufCMessageDescriptor *od, const uint8_t *req, size_t len,
                      gwcall_reply_t *out)
{
    rpc_reply_t r = { .code = GRPC_STATUS_OK };

    m->handler(app, ci, req, len, &r);
    if (r.code != GRPC_STATUS_OK)
        fail(out, r.code, "%s", r.message);
    else
        out->body = response_json(od, r.body, r.len, &out->len, out);
    free(r.body);
}

/* Makes out->body hold need bytes (the streamed array is limited to
 * GWCALL_MAX_BYTES). */
static int reserve(gwcall_reply_t *out, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 4096;
    char *p;

    if (need > GWCALL_MAX_BYTES) {
        fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED,
             "the streamed response exceeds %zu bytes of JSON: call the method over gRPC "
             "to stream it", GWCALL_MAX_BYTES);
        return -1;
    }
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (!(p = realloc(out->body, c))) {
        fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    out->body = p;
    *cap = c;
    return 0;
}

/* Appends one element to the array in out->body: '[' or ',' and text. */
static int append_element(gwcall_reply_t *out, size_t *cap, const char *text, size_t n)
{
    if (reserve(out, cap, out->len + 1 + n) != 0)
        return -1;
    out->body[out->len] = out->len ? ',' : '[';
    memcpy(out->body + out->len + 1, text, n);
    out->len += 1 + n;
    return 0;
}

/* Ends the array: "[...]" and a NUL ("[]" without elements). */
static int close_array(gwcall_reply_t *out, size_t *cap)
{
    if (reserve(out, cap, out->len + 3) != 0)
        return -1;
    if (!out->len)
        out->body[out->len++] = '[';
    out->body[out->len++] = ']';
    out->body[out->len] = '\0';
    return 0;
}

/* A server-streaming method: every message into one JSON array. */
static void run_server_stream(app_t *app, const rpc_method_t *m, const rpc_call_info_t *ci,
                              const ProtobufCMessageDescriptor *od, const uint8_t *req,
                              size_t len, gwcall_reply_t *out)
{
    rpc_reply_t r = { .code = GRPC_STATUS_OK };
    void *st = m->stream->start(app, ci, req, len, &r);
    size_t cap = 0;

    if (!st) {
        if (r.code == GRPC_STATUS_OK)
            fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        else
            fail(out, r.code, "%s", r.message);
        free(r.body);
        return;
    }
    for (;;) {
        size_t n;
        char *text;
        int step;
        if (rpc_remaining_ms(ci) <= 0) { /* as the transport checks before each */
            fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed during the stream");
            break;
        }
        r = (rpc_reply_t){ .code = GRPC_STATUS_OK };
        step = m->stream->next(st, &r);
        if (step == RPC_STREAM_YIELD)
            continue;
        if (step != RPC_STREAM_MESSAGE) {
            /* DONE, or WAIT: a stream of changes (Health/Watch) answers what
             * it has now; HTTP has no way to send the later ones */
            if (r.code != GRPC_STATUS_OK)
                fail(out, r.code, "%s", r.message);
            free(r.body);
            break;
        }
        text = response_json(od, r.body, r.len, &n, out);
        free(r.body);
        if (!text || append_element(out, &cap, text, n) != 0) {
            free(text);
            break;
        }
        free(text);
    }
    m->stream->close(st);
    if (out->code == GRPC_STATUS_OK)
        close_array(out, &cap);
}

static gpr_timespec deadline_of(int64_t timeout_ms)
{
    if (timeout_ms < 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
}

/* Authorizes, converts and runs the call of method m. */
static void dispatch(app_t *app, const rpc_method_t *m, const gwcall_req_t *req,
                     rpc_call_tags_t *tags, char *caller, size_t caller_cap,
                     gwcall_reply_t *out)
{
    const ProtobufCMessageDescriptor *in, *od;
    rpc_call_info_t ci = { .deadline = deadline_of(req->timeout_ms), .worker = 0,
                           .tags = tags, .caller = caller }; /* set by authorize below */
    uint8_t *bytes = NULL;
    size_t len = 0;
    int code;

    code = app_authorize(app, m->path, req->token, req->token_len, caller, caller_cap);
    if (code != GRPC_STATUS_OK) {
        fail(out, code, "%s", caller);
        caller[0] = '\0';
        return;
    }
    if (m->kind == RPC_CLIENT_STREAM || m->kind == RPC_BIDI_STREAM) {
        refuse_stream(app->api, m, out);
        return;
    }
    if (gwcall_types(m->path, &in, &od) != 0) {
        fail(out, GRPC_STATUS_UNIMPLEMENTED, "%s has no message types for HTTP/JSON", m->path);
        return;
    }
    if (rpc_remaining_ms(&ci) <= 0 && req->timeout_ms >= 0) {
        fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed before the call was started");
        return;
    }
    if (request_bytes(in, req, &bytes, &len, out) != 0)
        return;
    if (m->kind == RPC_SERVER_STREAM)
        run_server_stream(app, m, &ci, od, bytes, len, out);
    else
        run_unary(app, m, &ci, od, bytes, len, out);
    free(bytes);
}

/* One line per finished call of an audited method, like the transport's,
 * marked as coming over HTTP. */
static void audit(const app_t *app, const rpc_method_t *m, const char *caller, int code)
{
    if (!m->audit)
        return;
    plog(LOG_INFO, "audit: %s by %s%s%s over HTTP: %s", m->path, caller[0] ? "'" : "",
         caller[0] ? caller : app->auth_path ? "(refused)" : "(no --auth-file)",
         caller[0] ? "'" : "", status_name(code));
}

/* The access line of a finished call (access.h), its traceparent header
 * passed as the one metadata entry access_log_call reads. */
static void access_line(const gwcall_req_t *req, int code, int64_t us,
                        const rpc_call_tags_t *tags)
{
    grpc_metadata tp;
    grpc_metadata_array md = { 0, 0, NULL };

    if (req->traceparent) {
        tp.key = grpc_slice_from_static_string("traceparent");
        tp.value = grpc_slice_from_static_buffer(req->traceparent, strlen(req->traceparent));
        md.count = md.capacity = 1;
        md.metadata = &tp;
    }
    access_log_call(req->path, (grpc_status_code)code, us, req->peer ? req->peer : "", &md,
                    tags);
}

void gwcall_run(app_t *app, const gwcall_req_t *req, gwcall_reply_t *out)
{
    long idx = method_index(app->api, req->path);
    gpr_timespec t0 = gpr_now(GPR_CLOCK_MONOTONIC), dt;
    char caller[sizeof out->message] = "";
    rpc_call_tags_t tags;
    int64_t us;

    memset(out, 0, sizeof *out);
    memset(&tags, 0, sizeof tags);
    if (idx < 0) {
        fail(out, GRPC_STATUS_NOT_FOUND, "no method %s is served", req->path);
        idx = (long)app->api->n_methods; /* the stats slot of unknown methods */
    } else {
        dispatch(app, &app->api->methods[idx], req, &tags, caller, sizeof caller, out);
        audit(app, &app->api->methods[idx], caller, out->code);
    }
    if (out->code != GRPC_STATUS_OK) {
        free(out->body);
        out->body = NULL;
        out->len = 0;
    }
    dt = gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), t0);
    us = (int64_t)dt.tv_sec * 1000000 + dt.tv_nsec / 1000;
    if (app->stats)
        callstats_record(&app->stats[idx], out->code, (uint64_t)(us > 0 ? us : 0));
    if (app->access_log)
        access_line(req, out->code, us, &tags);
}
