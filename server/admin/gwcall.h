/*
 * gwcall.h - one HTTP/JSON call (gateway.h) without the HTTP: finds the
 * method in app_t.api and its message types in the services' protobuf-c
 * descriptors, checks the token, converts the JSON request (pbjson.h),
 * runs the method's handler as the gRPC transport would, and converts the
 * response back. Counts the call in app_t.stats, writes the audit line of
 * an audited method and, with app_t.access_log, the access line
 * (access.h).
 */
#ifndef PATRON_SERVER_GWCALL_H
#define PATRON_SERVER_GWCALL_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* The largest request body and response: the gRPC transport's message
 * limit. */
#define GWCALL_MAX_BYTES ((size_t)TRANSPORT_MAX_MESSAGE_BYTES)
/* The most JSON values a request may hold (pbjson_count_values): twice the
 * repeated elements a gRPC request may carry in all (prescan's limit), so
 * json-c's objects for one request stay within about 100 MB. */
#define GWCALL_MAX_VALUES ((size_t)2000000)

typedef struct gwcall_req {
    const char *path;      /* "/package.Service/Method" */
    const char *body;      /* JSON text (len bytes, need not end in NUL) */
    size_t len;
    const char *token;     /* bearer token (token_len bytes), NULL if none */
    size_t token_len;
    int64_t timeout_ms;    /* < 0: no deadline */
    const char *peer;      /* for the access log: "http:ipv4:127.0.0.1:5555" */
    const char *traceparent; /* the W3C traceparent header, or NULL */
} gwcall_req_t;

typedef struct gwcall_reply {
    int code;              /* grpc_status_code */
    char message[512];     /* for errors */
    char *body;            /* OK: malloc'd JSON text (an object, or an array
                              for a server-streaming method), the caller's */
    size_t len;
} gwcall_reply_t;

/* Runs the call (on the caller's thread, for as long as the handler
 * takes). out->body is set only when out->code is OK. */
void gwcall_run(app_t *app, const gwcall_req_t *req, gwcall_reply_t *out);

/* The request and response types of method path ("/package.Service/
 * Method"), from the protobuf-c service descriptors; 0, or -1 when no
 * descriptor knows the method. */
int gwcall_types(const char *path, const ProtobufCMessageDescriptor **in,
                 const ProtobufCMessageDescriptor **out);

#endif
