/*
 * gateway.c - the HTTP side of HTTP/JSON calls (gateway.h): reading the
 * body under the size limit, the token and deadline headers, and writing
 * the JSON answer or error. The call itself is gwcall.c's.
 */
#include "gateway.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwcall.h"
#include "pbjson.h"
#include "status_names.h"

#define PATH_CAP 256

/* What one request keeps between libmicrohttpd's calls: its body so far. */
typedef struct gw_req {
    char *body;
    size_t len, cap;
    int too_large;
} gw_req_t;

unsigned gateway_http_status(int code)
{
    switch (code) {
    case GRPC_STATUS_OK: return 200;
    case GRPC_STATUS_CANCELLED: return 499;
    case GRPC_STATUS_INVALID_ARGUMENT: return 400;
    case GRPC_STATUS_DEADLINE_EXCEEDED: return 504;
    case GRPC_STATUS_NOT_FOUND: return 404;
    case GRPC_STATUS_ALREADY_EXISTS: return 409;
    case GRPC_STATUS_PERMISSION_DENIED: return 403;
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return 429;
    case GRPC_STATUS_FAILED_PRECONDITION: return 400;
    case GRPC_STATUS_ABORTED: return 409;
    case GRPC_STATUS_OUT_OF_RANGE: return 400;
    case GRPC_STATUS_UNIMPLEMENTED: return 501;
    case GRPC_STATUS_UNAVAILABLE: return 503;
    case GRPC_STATUS_UNAUTHENTICATED: return 401;
    default: return 500; /* UNKNOWN, INTERNAL, DATA_LOSS */
    }
}

/* Queues body (malloc'd, taken over) as an application/json answer. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, char *body,
                              size_t len, const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ok;

    if (!resp) {
        free(body);
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* {"code": NAME, "message": MSG, "http_status": N} */
static enum MHD_Result answer_error(struct MHD_Connection *conn, int code, unsigned status,
                                    const char *message, const char *allow)
{
    json_object *o = json_object_new_object();
    char *text = NULL;
    size_t len = 0;

    if (o) {
        json_object_object_add(o, "code", json_object_new_string(status_name(code)));
        json_object_object_add(o, "message", json_object_new_string(message));
        json_object_object_add(o, "http_status", json_object_new_int((int)status));
        text = pbjson_text(o, &len);
        json_object_put(o);
    }
    if (!text)
        return MHD_NO;
    return answer(conn, status, text, len, allow);
}

/* The bearer token of "Authorization: Bearer <token>" or "X-Api-Key". */
static const char *find_token(struct MHD_Connection *conn, size_t *len)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

    if (v && strncasecmp(v, "Bearer ", 7) == 0) {
        v += 7;
        while (*v == ' ')
            v++;
    } else {
        v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Api-Key");
    }
    *len = v ? strlen(v) : 0;
    return v;
}

/* gRPC's "grpc-timeout" value: 1-8 digits and a unit (H M S m u n), into
 * ms (rounded up); -1 when malformed. */
static int64_t grpc_timeout_ms(const char *v)
{
    size_t n = strspn(v, "0123456789");
    int64_t x;

    if (n < 1 || n > 8 || strlen(v) != n + 1)
        return -1;
    x = strtoll(v, NULL, 10);
    switch (v[n]) {
    case 'H': return x * 3600000;
    case 'M': return x * 60000;
    case 'S': return x * 1000;
    case 'm': return x;
    case 'u': return (x + 999) / 1000;
    case 'n': return (x + 999999) / 1000000;
    default: return -1;
    }
}

/* The call's timeout from X-Patron-Timeout-Ms or grpc-timeout: 0 and
 * *ms (-1 without either), or -1 with msg naming the bad header. */
static int read_timeout(struct MHD_Connection *conn, int64_t *ms, char *msg, size_t cap)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Patron-Timeout-Ms");

    *ms = -1;
    if (v) {
        size_t n = strspn(v, "0123456789");
        if (n < 1 || n > 12 || v[n]) {
            snprintf(msg, cap, "X-Patron-Timeout-Ms: expected milliseconds (1 to 12 digits), "
                     "got \"%.32s\"", v);
            return -1;
        }
        *ms = strtoll(v, NULL, 10);
        return 0;
    }
    if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "grpc-timeout"))) {
        if ((*ms = grpc_timeout_ms(v)) < 0) {
            snprintf(msg, cap, "grpc-timeout: expected 1-8 digits and a unit of H, M, S, m, "
                     "u or n, got \"%.32s\"", v);
            return -1;
        }
    }
    return 0;
}

/* The client's address as the access log writes it, marked as HTTP:
 * "http:ipv4:127.0.0.1:5555", "http:ipv6:[::1]:5555". */
static void peer_of(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const void *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "http:ipv4:%s:%u", ip, ntohs(v4->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const void *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "http:ipv6:[%s]:%u", ip, ntohs(v6->sin6_port));
    } else {
        snprintf(out, cap, "http:unknown");
    }
}

/* Runs the call once the whole body is in. */
static enum MHD_Result run(void *app, struct MHD_Connection *conn, const char *url,
                           gw_req_t *r)
{
    char path[PATH_CAP], msg[256], peer[80];
    gwcall_req_t req = { .path = path, .body = r->body ? r->body : "", .len = r->len,
                         .peer = peer };
    gwcall_reply_t rep;
    size_t ulen = strlen(url), plen = strlen(GATEWAY_PREFIX) - 1;

    if (r->too_large)
        snprintf(msg, sizeof msg, "request body exceeds %zu bytes", GWCALL_MAX_BYTES);
    if (r->too_large)
        return answer_error(conn, GRPC_STATUS_RESOURCE_EXHAUSTED, 413, msg, NULL);
    if (ulen - plen >= sizeof path) /* "/v1/S/M" -> "/S/M" */
        return answer_error(conn, GRPC_STATUS_NOT_FOUND, 404, "no such method", NULL);
    memcpy(path, url + plen, ulen - plen + 1);
    if (read_timeout(conn, &req.timeout_ms, msg, sizeof msg) != 0)
        return answer_error(conn, GRPC_STATUS_INVALID_ARGUMENT, 400, msg, NULL);
    req.token = find_token(conn, &req.token_len);
    req.traceparent = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent");
    peer_of(conn, peer, sizeof peer);
    gwcall_run(app, &req, &rep);
    if (rep.code != GRPC_STATUS_OK)
        return answer_error(conn, rep.code, gateway_http_status(rep.code), rep.message, NULL);
    return answer(conn, 200, rep.body, rep.len, NULL);
}

/* Appends an upload chunk, or marks the request too large (the rest is
 * read and dropped: memory stays bounded). */
static void take_chunk(gw_req_t *r, const char *data, size_t n)
{
    if (r->too_large || n > GWCALL_MAX_BYTES - r->len) {
        r->too_large = 1;
        return;
    }
    if (r->len + n > r->cap) {
        size_t c = r->cap ? r->cap : 1024;
        char *p;
        while (c < r->len + n)
            c *= 2;
        if (!(p = realloc(r->body, c))) {
            r->too_large = 1; /* answered as too large for this server */
            return;
        }
        r->body = p;
        r->cap = c;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
}

/* A declared Content-Length above the limit: answered before the body. */
static int declared_too_large(struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    return v && strtoull(v, NULL, 10) > GWCALL_MAX_BYTES;
}

enum MHD_Result gateway_request(void *app, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
    gw_req_t *r = *req_cls;
    char msg[128];

    if (!r) {
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return answer_error(conn, GRPC_STATUS_UNIMPLEMENTED, 405,
                                "HTTP/JSON calls are POST requests", "POST");
        if (declared_too_large(conn)) {
            snprintf(msg, sizeof msg, "request body exceeds %zu bytes", GWCALL_MAX_BYTES);
            return answer_error(conn, GRPC_STATUS_RESOURCE_EXHAUSTED, 413, msg, NULL);
        }
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *req_cls = r;
        return MHD_YES; /* the body follows */
    }
    if (*upload_data_size) {
        take_chunk(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return run(app, conn, url, r);
}

void gateway_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
    gw_req_t *r = *req_cls;

    (void)cls, (void)conn, (void)toe;
    if (r) {
        free(r->body);
        free(r);
        *req_cls = NULL;
    }
}
