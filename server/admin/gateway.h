/*
 * gateway.h - HTTP/JSON on the admin listener: POST /v1/{Service}/{Method}
 * calls the gRPC method /{Service}/{Method} with the proto3 JSON mapping
 * (pbjson.h), for clients without gRPC (PHP shops, curl, browsers' fetch).
 *
 *   curl -H 'Authorization: Bearer TOKEN' -d '{"customerId":"c1","k":5}' \
 *        http://127.0.0.1:9090/v1/patron.v1.Recommender/Recommend
 *
 * A call goes the gRPC way from the request bytes on: JSON -> protobuf
 * bytes -> the method's handler from app_t.api (its request checks and
 * limits included) -> response bytes -> JSON. The same tokens and scopes
 * (app_authorize: "Authorization: Bearer <token>" or "X-Api-Key: <token>"),
 * the same per-method call statistics (app_t.stats, so /metrics and
 * GetServerStats count HTTP calls too), audit lines and, with
 * --access-log, access lines (peer "http:ipv4:...", the trace id of a
 * `traceparent` header).
 *
 * Deadline (optional): "X-Patron-Timeout-Ms: <ms>" or "grpc-timeout:
 * <digits><H|M|S|m|u|n>"; handlers see it as a gRPC call's deadline, and a
 * call whose deadline passed before it started is DEADLINE_EXCEEDED.
 *
 * Answers: 200 with the response message as a JSON object; for a
 * server-streaming method (SelectAudience, SelectCampaignAudience) 200 with
 * a JSON array of every message, refused with RESOURCE_EXHAUSTED once the
 * array would exceed GWCALL_MAX_BYTES (gwcall.h) (use the gRPC method to stream more);
 * a stream of changes (Health/Watch) answers the messages it has at once.
 * Client-streaming and bidirectional methods are UNIMPLEMENTED over HTTP,
 * naming the unary method to use instead when the service has one whose
 * request has the same fields (StreamEvents -> RecordEvents).
 *
 * Errors are {"code": "<gRPC status name>", "message": "...",
 * "http_status": N} with N from the gRPC -> HTTP mapping of google.rpc.Code
 * (gateway_http_status); exceptions: a request body above GWCALL_MAX_BYTES (gwcall.h)
 * is 413, a method other than POST 405.
 *
 * Threads: the admin listener runs one thread per connection, so a slow
 * call holds only its own connection; calls run on those threads, beside
 * the gRPC workers.
 */
#ifndef PATRON_SERVER_GATEWAY_H
#define PATRON_SERVER_GATEWAY_H

#include <microhttpd.h>
#include <stddef.h>

#define GATEWAY_PREFIX "/v1/"

/* libmicrohttpd's access handler for a URL under GATEWAY_PREFIX (the admin
 * listener routes them here), app the app_t. Reads the body over several
 * calls (*req_cls holds it), then answers. */
enum MHD_Result gateway_request(void *app, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *upload_data,
                                size_t *upload_data_size, void **req_cls);

/* MHD_OPTION_NOTIFY_COMPLETED callback: frees what gateway_request kept in
 * *req_cls (nothing for other routes). */
void gateway_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);

/* The HTTP status for a gRPC status code (google.rpc.Code's mapping:
 * INVALID_ARGUMENT 400, NOT_FOUND 404, ...). */
unsigned gateway_http_status(int code);

#endif
