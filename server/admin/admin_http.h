/*
 * admin_http.h - patrond's plaintext admin HTTP listener (/metrics, /healthz,
 * /readyz: admin_routes.h), separate from the gRPC port so Prometheus and
 * probes reach it when gRPC is TLS-only or behind tokens.
 *
 * HTTP is libmicrohttpd's: this module binds the socket (listener_bind),
 * hands it to a daemon with one internal polling thread, and maps each
 * request's path to a route. GET and HEAD only: another method on a known
 * path is 405 with "Allow: GET, HEAD", an unknown path 404. Paths under
 * /v1/ are HTTP/JSON calls (POST, gateway.h).
 *
 * Threads: one thread per connection (a slow HTTP/JSON call holds only its
 * own), so handlers run concurrently; at most ADMIN_HTTP_MAX_CONNECTIONS
 * connections open (more are refused), each closed after
 * ADMIN_HTTP_TIMEOUT_S idle seconds.
 *
 * Lifetime: start it once what the handlers read (ctx: the app) is ready;
 * admin_http_stop joins the threads, so after it returns no handler runs and
 * ctx may be freed. patrond: app loaded -> transport started -> admin
 * started ... draining set -> transport stopped -> admin stopped -> app
 * destroyed.
 */
#ifndef PATRON_SERVER_ADMIN_HTTP_H
#define PATRON_SERVER_ADMIN_HTTP_H

#include <stddef.h>

#define ADMIN_HTTP_MAX_CONNECTIONS 32
#define ADMIN_HTTP_TIMEOUT_S 10

/* What a handler answers. body is malloc'd (NULL for an empty body) and
 * belongs to the listener once the handler returns. */
typedef struct admin_reply {
    unsigned status;            /* HTTP status, e.g. 200, 503 */
    const char *content_type;   /* static string */
    char *body;
    size_t len;
} admin_reply_t;

/* Fills out for a GET (or HEAD) of the route's path. out arrives as 200,
 * "text/plain; charset=utf-8", no body. A handler that cannot allocate its
 * body sets status 500. */
typedef void (*admin_handler_fn)(void *ctx, admin_reply_t *out);

typedef struct admin_route {
    const char *path;           /* exact match, e.g. "/metrics" */
    admin_handler_fn fn;
} admin_route_t;

typedef struct admin_http admin_http_t;

/* Binds listen ("host:port", "[v6]:port"; port 0 = ephemeral) and starts
 * serving routes[0..n) (borrowed: they and ctx must outlive the listener).
 * *port gets the bound port. Returns 0, -EINVAL (bad address),
 * -EADDRNOTAVAIL (cannot bind) or -ENOMEM/-EIO (the daemon did not start). */
int admin_http_start(const char *listen, const admin_route_t *routes, size_t n,
                     void *ctx, admin_http_t **out, int *port);

/* Stops the daemon (joining its thread) and closes the socket. NULL-safe. */
void admin_http_stop(admin_http_t *h);

/* Helper for handlers: sets out's body to a malloc'd copy of text (status
 * 500 and no body if the copy fails). */
void admin_reply_text(admin_reply_t *out, unsigned status, const char *text);

#endif
