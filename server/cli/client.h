/*
 * client.h - a minimal blocking unary gRPC client on the C core, used by the
 * `patron` command line and by bench/ load generators.
 */
#ifndef PATRON_SERVER_CLIENT_H
#define PATRON_SERVER_CLIENT_H

#include <grpc/grpc.h>
#include <stddef.h>
#include <stdint.h>

typedef struct client client_t;

/* Connects lazily to addr ("host:port"). From the environment:
 * PATRON_TLS_CA, a PEM file of trusted roots, makes the channel TLS;
 * PATRON_TOKEN is sent with every call as "authorization: Bearer <token>".
 * Returns 0, -ENOENT (PATRON_TLS_CA unreadable) or -ENOMEM. */
int client_open(const char *addr, client_t **out);
void client_close(client_t *c); /* NULL-safe */

typedef struct client_result {
    grpc_status_code code;
    char details[512];
    uint8_t *body;   /* malloc'd response (free it), NULL unless code is OK */
    size_t len;
} client_result_t;

/* Calls method ("/pkg.Svc/Method") with the serialized request and waits at
 * most timeout_ms. Returns 0 when a status arrived (see res->code), or a
 * negative errno if the call could not be started. */
int client_unary(client_t *c, const char *method, const uint8_t *req,
                 size_t len, int timeout_ms, client_result_t *res);

/* Produces the next message of a client stream: returns 1 with *msg a
 * malloc'd buffer (the client frees it), or 0 when the stream is done. */
typedef int (*client_next_fn)(void *ctx, uint8_t **msg, size_t *len);

/* A client-streaming call: sends every message next() produces, half-closes
 * and waits for the single response. Same result rules as client_unary. */
int client_stream_unary(client_t *c, const char *method, client_next_fn next,
                        void *ctx, int timeout_ms, client_result_t *res);

/* The same call driven by the caller (push instead of pull): start it,
 * send messages, then finish to half-close and wait for the response.
 * client_stream_start returns 0, -ENOMEM or -EIO (not started).
 * client_stream_send returns 0, or -EIO once the call has ended (the server
 * answered early, e.g. with an error): stop sending and call finish, whose
 * result says why. client_stream_finish frees st; same result rules as
 * client_unary. Not thread-safe: one thread drives a stream. */
typedef struct client_stream client_stream_t;
int client_stream_start(client_t *c, const char *method, int timeout_ms,
                        client_stream_t **out);
int client_stream_send(client_stream_t *st, const uint8_t *msg, size_t len);
int client_stream_finish(client_stream_t *st, client_result_t *res);

/* Receives one message of a server stream; msg is valid during the call.
 * A nonzero return cancels the call. */
typedef int (*client_recv_fn)(void *ctx, const uint8_t *msg, size_t len);

/* A server-streaming call: sends req, calls on_message for each response
 * message, and fills res with the final status (res->body stays NULL).
 * Returns 0 when a status arrived, or a negative errno. */
int client_unary_stream(client_t *c, const char *method, const uint8_t *req,
                        size_t len, int timeout_ms, client_recv_fn on_message,
                        void *ctx, client_result_t *res);

#endif
