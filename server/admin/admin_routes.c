/*
 * admin_routes.c - /healthz, /readyz and /metrics over app_t
 * (admin_routes.h).
 */
#include "admin_routes.h"

#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "expo.h"
#include "metrics.h"

static void h_healthz(void *ctx, admin_reply_t *out)
{
    (void)ctx;
    admin_reply_text(out, 200, "ok\n");
}

static void h_readyz(void *ctx, admin_reply_t *out)
{
    app_t *a = ctx;
    const char *unready = app_unready(a, RPC_SVC_NEEDS_MODEL);
    char why[512], text[600];

    if (unready) {
        snprintf(text, sizeof text, "not ready: %s\n", unready);
        admin_reply_text(out, 503, text);
    } else if (!app_store_writable(a, why, sizeof why)) {
        snprintf(text, sizeof text, "not ready: %s\n", why);
        admin_reply_text(out, 503, text);
    } else {
        admin_reply_text(out, 200, "ready\n");
    }
}

static void h_metrics(void *ctx, admin_reply_t *out)
{
    size_t len;
    char *text = metrics_render(ctx, &len);

    if (!text) {
        admin_reply_text(out, 500, "out of memory\n");
        return;
    }
    out->content_type = EXPO_CONTENT_TYPE;
    out->body = text;
    out->len = len;
}

const admin_route_t admin_routes[] = {
    { "/healthz", h_healthz },
    { "/readyz", h_readyz },
    { "/metrics", h_metrics },
};
const size_t admin_n_routes = sizeof admin_routes / sizeof admin_routes[0];
