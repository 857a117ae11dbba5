/*
 * admin_http.c - the admin HTTP listener on libmicrohttpd (admin_http.h):
 * binding, routing by exact path, 404/405, and the daemon's lifetime.
 */
#include "admin_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "listener.h"
#include "log.h"

#define ALLOWED_METHODS "GET, HEAD"

struct admin_http {
    struct MHD_Daemon *daemon;
    const admin_route_t *routes;
    size_t n_routes;
    void *ctx;
};

void admin_reply_text(admin_reply_t *out, unsigned status, const char *text)
{
    size_t len = strlen(text);

    free(out->body);
    out->body = NULL;
    out->len = 0;
    out->status = status;
    if (len && (out->body = malloc(len)) == NULL) {
        out->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return;
    }
    memcpy(out->body, text, len);
    out->len = len;
}

static const admin_route_t *find_route(const admin_http_t *h, const char *path)
{
    for (size_t i = 0; i < h->n_routes; i++)
        if (strcmp(h->routes[i].path, path) == 0)
            return &h->routes[i];
    return NULL;
}

/* Answers one request from its route (or 404/405) before any body is read:
 * the admin paths take none. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    admin_http_t *h = cls;
    const admin_route_t *r = find_route(h, url);
    admin_reply_t rep = { MHD_HTTP_OK, "text/plain; charset=utf-8", NULL, 0 };
    struct MHD_Response *resp;
    enum MHD_Result ok;

    (void)version;
    if (strncmp(url, GATEWAY_PREFIX, strlen(GATEWAY_PREFIX)) == 0) /* HTTP/JSON calls */
        return gateway_request(h->ctx, conn, url, method, upload_data, upload_data_size,
                               req_cls);
    if (!r)
        admin_reply_text(&rep, MHD_HTTP_NOT_FOUND, "not found\n");
    else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
             strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        admin_reply_text(&rep, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    else
        r->fn(h->ctx, &rep);
    if (rep.body)
        resp = MHD_create_response_from_buffer(rep.len, rep.body, MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(rep.body);
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep.content_type);
    if (rep.status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ALLOWED_METHODS);
    ok = MHD_queue_response(conn, rep.status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* libmicrohttpd's own diagnostics, one plog line each. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    plog(LOG_WARN, "admin http: %s", line);
}

int admin_http_start(const char *listen, const admin_route_t *routes, size_t n,
                     void *ctx, admin_http_t **out, int *port)
{
    admin_http_t *h;
    int fd;

    *out = NULL;
    if ((fd = listener_bind(listen, port)) < 0)
        return fd;
    if (!(h = calloc(1, sizeof *h))) {
        close(fd);
        return -ENOMEM;
    }
    h->routes = routes;
    h->n_routes = n;
    h->ctx = ctx;
    h->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
            MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL, /* first: it covers the rest */
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_HTTP_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_HTTP_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, gateway_completed, NULL,
        MHD_OPTION_END);
    if (!h->daemon) {
        close(fd);
        free(h);
        return -EIO;
    }
    *out = h;
    return 0;
}

void admin_http_stop(admin_http_t *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon); /* joins the thread, closes the socket */
    free(h);
}
