/*
 * reflection.c - gRPC server reflection over the embedded FileDescriptorSet
 * (see reflection.h).
 */
#include "reflection.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "app.h"
#include "codec.h"

/* The build's FileDescriptorSet (proto/embed.cmake). */
extern const unsigned char patron_api_fds[];
extern const size_t patron_api_fds_len;

typedef Google__Protobuf__FileDescriptorProto file_proto_t;
typedef Google__Protobuf__DescriptorProto msg_proto_t;
typedef Grpc__Reflection__V1__ServerReflectionRequest refl_req_t;
typedef Grpc__Reflection__V1__ServerReflectionResponse refl_resp_t;

/* NOT_FOUND and INVALID_ARGUMENT, as ErrorResponse.error_code wants them. */
enum { CODE_INVALID_ARGUMENT = 3, CODE_NOT_FOUND = 5 };

typedef struct refl {
    const Google__Protobuf__FileDescriptorSet *fds; /* shared_fds(): read only */
    const rpc_service_t *services; /* what patrond serves (app_t.api) */
    size_t n_services;
} refl_t;

/* The embedded set, parsed by the first stream that needs it and then
 * shared read-only by every stream for the life of the process (never
 * freed: it is immutable, and a stream may still be reading it while the
 * process exits). A failed parse (out of memory) is retried by the next
 * stream. */
static pthread_mutex_t fds_lock = PTHREAD_MUTEX_INITIALIZER;
static Google__Protobuf__FileDescriptorSet *fds_parsed;

static const Google__Protobuf__FileDescriptorSet *shared_fds(void)
{
    Google__Protobuf__FileDescriptorSet *fds;

    pthread_mutex_lock(&fds_lock);
    if (!fds_parsed)
        fds_parsed = google__protobuf__file_descriptor_set__unpack(NULL, patron_api_fds_len,
                                                                   patron_api_fds);
    fds = fds_parsed;
    pthread_mutex_unlock(&fds_lock);
    return fds;
}

static void *refl_open(void *app, const rpc_call_info_t *ci)
{
    const app_t *a = app;
    refl_t *r = calloc(1, sizeof *r);

    (void)ci;
    if (!r)
        return NULL;
    if (!(r->fds = shared_fds())) {
        free(r);
        return NULL;
    }
    r->services = a->api->services;
    r->n_services = a->api->n_services;
    return r;
}

static void refl_close(void *st)
{
    free(st);
}

/* ---- lookups ------------------------------------------------------------------- */

static long file_by_name(const refl_t *r, const char *name)
{
    for (size_t i = 0; i < r->fds->n_file; i++)
        if (strcmp(r->fds->file[i]->name, name) == 0)
            return (long)i;
    return -1;
}

/* Does sym equal prefix + "." + name (prefix may be empty)? */
static int names(const char *sym, const char *prefix, const char *name)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return strcmp(sym, name) == 0;
    return strncmp(sym, prefix, n) == 0 && sym[n] == '.' && strcmp(sym + n + 1, name) == 0;
}

/* A message (with its nested messages, enums and fields), by full name. */
static int in_message(const msg_proto_t *m, const char *scope, const char *sym)
{
    char full[512];
    if (names(sym, scope, m->name))
        return 1;
    if (snprintf(full, sizeof full, "%s%s%s", scope, *scope ? "." : "", m->name) >=
        (int)sizeof full)
        return 0;
    for (size_t i = 0; i < m->n_field; i++)
        if (names(sym, full, m->field[i]->name))
            return 1;
    for (size_t i = 0; i < m->n_enum_type; i++)
        if (names(sym, full, m->enum_type[i]->name))
            return 1;
    for (size_t i = 0; i < m->n_nested_type; i++)
        if (in_message(m->nested_type[i], full, sym))
            return 1;
    return 0;
}

/* The file declaring sym (a message, enum, service, method or field), or -1. */
static long file_by_symbol(const refl_t *r, const char *sym)
{
    if (*sym == '.')
        sym++;
    for (size_t i = 0; i < r->fds->n_file; i++) {
        const file_proto_t *f = r->fds->file[i];
        const char *pkg = f->package ? f->package : "";
        for (size_t j = 0; j < f->n_message_type; j++)
            if (in_message(f->message_type[j], pkg, sym))
                return (long)i;
        for (size_t j = 0; j < f->n_enum_type; j++)
            if (names(sym, pkg, f->enum_type[j]->name))
                return (long)i;
        for (size_t j = 0; j < f->n_service; j++) {
            char full[512];
            const Google__Protobuf__ServiceDescriptorProto *s = f->service[j];
            if (names(sym, pkg, s->name))
                return (long)i;
            snprintf(full, sizeof full, "%s%s%s", pkg, *pkg ? "." : "", s->name);
            for (size_t k = 0; k < s->n_method; k++)
                if (names(sym, full, s->method[k]->name))
                    return (long)i;
        }
    }
    return -1;
}

/* Marks file i and everything it imports, transitively. */
static void mark_with_imports(const refl_t *r, size_t i, unsigned char *want)
{
    const file_proto_t *f = r->fds->file[i];
    if (want[i])
        return;
    want[i] = 1;
    for (size_t d = 0; d < f->n_dependency; d++) {
        long j = file_by_name(r, f->dependency[d]);
        if (j >= 0)
            mark_with_imports(r, (size_t)j, want);
    }
}

/* ---- answers ------------------------------------------------------------------- */

typedef struct answer {
    refl_resp_t resp;
    Grpc__Reflection__V1__FileDescriptorResponse files;
    Grpc__Reflection__V1__ListServiceResponse list;
    Grpc__Reflection__V1__ServiceResponse svc[64], *svc_ptrs[64];
    Grpc__Reflection__V1__ExtensionNumberResponse ext;
    Grpc__Reflection__V1__ErrorResponse err;
    ProtobufCBinaryData blobs[64];
    char message[256];
} answer_t;

static void error_answer(answer_t *a, int code, const char *fmt, const char *what)
{
    grpc__reflection__v1__error_response__init(&a->err);
    snprintf(a->message, sizeof a->message, fmt, what);
    a->err.error_code = code;
    a->err.error_message = a->message;
    a->resp.message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    a->resp.error_response = &a->err;
}

/* File i and its imports, each serialized. Returns 0 or -ENOMEM. */
static int files_answer(const refl_t *r, size_t i, answer_t *a)
{
    unsigned char want[64] = { 0 };
    size_t n = 0;

    if (r->fds->n_file > sizeof want)
        return -ENOMEM;
    mark_with_imports(r, i, want);
    grpc__reflection__v1__file_descriptor_response__init(&a->files);
    for (size_t j = 0; j < r->fds->n_file; j++) {
        const ProtobufCMessage *m = &r->fds->file[j]->base;
        if (!want[j])
            continue;
        a->blobs[n].len = protobuf_c_message_get_packed_size(m);
        if (!(a->blobs[n].data = malloc(a->blobs[n].len ? a->blobs[n].len : 1)))
            return -ENOMEM;
        protobuf_c_message_pack(m, a->blobs[n].data);
        n++;
    }
    a->files.n_file_descriptor_proto = n;
    a->files.file_descriptor_proto = a->blobs;
    a->resp.message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    a->resp.file_descriptor_response = &a->files;
    return 0;
}

static void list_answer(const refl_t *r, answer_t *a)
{
    size_t n = r->n_services;

    if (n > sizeof a->svc / sizeof a->svc[0]) /* methods.c has 9 */
        n = sizeof a->svc / sizeof a->svc[0];
    grpc__reflection__v1__list_service_response__init(&a->list);
    for (size_t i = 0; i < n; i++) {
        grpc__reflection__v1__service_response__init(&a->svc[i]);
        a->svc[i].name = (char *)r->services[i].name;
        a->svc_ptrs[i] = &a->svc[i];
    }
    a->list.n_service = n;
    a->list.service = a->svc_ptrs;
    a->resp.message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    a->resp.list_services_response = &a->list;
}

static int answer(const refl_t *r, const refl_req_t *q, answer_t *a)
{
    long i;

    switch (q->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        list_answer(r, a);
        return 0;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        if ((i = file_by_name(r, q->file_by_filename)) >= 0)
            return files_answer(r, (size_t)i, a);
        error_answer(a, CODE_NOT_FOUND, "no file %s", q->file_by_filename);
        return 0;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        if ((i = file_by_symbol(r, q->file_containing_symbol)) >= 0)
            return files_answer(r, (size_t)i, a);
        error_answer(a, CODE_NOT_FOUND, "no symbol %s", q->file_containing_symbol);
        return 0;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        if (file_by_symbol(r, q->all_extension_numbers_of_type) < 0) {
            error_answer(a, CODE_NOT_FOUND, "no type %s", q->all_extension_numbers_of_type);
            return 0;
        }
        grpc__reflection__v1__extension_number_response__init(&a->ext);
        a->ext.base_type_name = q->all_extension_numbers_of_type;
        a->resp.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        a->resp.all_extension_numbers_response = &a->ext;
        return 0;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
        error_answer(a, CODE_NOT_FOUND, "%s", "the API declares no extensions");
        return 0;
    default:
        error_answer(a, CODE_INVALID_ARGUMENT, "%s", "empty request: set one of its fields");
        return 0;
    }
}

static void refl_message(void *st, const uint8_t *req, size_t len, rpc_reply_t *out)
{
    refl_t *r = st;
    /* decode: the edge's limits and string checks (codec.h), as for every
     * other request: the answer echoes the request (original_request), and
     * a string that is not UTF-8 would make it unreadable to the client. */
    refl_req_t *q = (refl_req_t *)decode(
        &grpc__reflection__v1__server_reflection_request__descriptor, req, len, out);
    answer_t *a;
    size_t n;

    if (!q)
        return;
    if (!(a = calloc(1, sizeof *a))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        grpc__reflection__v1__server_reflection_request__free_unpacked(q, NULL);
        return;
    }
    grpc__reflection__v1__server_reflection_response__init(&a->resp);
    a->resp.valid_host = q->host;
    a->resp.original_request = q;
    if (answer(r, q, a) != 0) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        n = grpc__reflection__v1__server_reflection_response__get_packed_size(&a->resp);
        if (!(out->body = malloc(n ? n : 1))) {
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        } else {
            out->len = grpc__reflection__v1__server_reflection_response__pack(&a->resp,
                                                                            out->body);
        }
    }
    for (size_t i = 0; i < sizeof a->blobs / sizeof a->blobs[0]; i++)
        free(a->blobs[i].data);
    free(a);
    grpc__reflection__v1__server_reflection_request__free_unpacked(q, NULL);
}

static void refl_finish(void *st, rpc_reply_t *out)
{
    (void)st;
    (void)out; /* the client is done asking: OK */
}

const rpc_stream_ops_t reflection_stream_ops = {
    .open = refl_open,
    .message = refl_message,
    .finish = refl_finish,
    .close = refl_close,
};
