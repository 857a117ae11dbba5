/* health_rpc.c - grpc.health.v1.Health/Check and Watch (see health_rpc.h). */
#include "health_rpc.h"

#include <stdlib.h>

#include "codec.h"
#include "grpc/health/v1/health.pb-c.h"

#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
#define SERVICE_UNKNOWN GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN

/* Whether `service` (an index into a->api->services, -1 for "") serves:
 * app_unready, the one readiness rule (app.h). */
static int serving(app_t *a, long service)
{
    return !app_unready(a, service >= 0 ? a->api->services[service].flags
                                        : RPC_SVC_NEEDS_MODEL);
}

/* The service a request names: its index, -1 for "", or -2 if unknown. */
static long requested_service(app_t *a, const Grpc__Health__V1__HealthCheckRequest *r)
{
    long which;
    if (!r->service[0])
        return -1;
    which = rpc_api_service(a->api, r->service);
    return which >= 0 ? which : -2;
}

static void encode_status(Grpc__Health__V1__HealthCheckResponse__ServingStatus status,
                          rpc_reply_t *out)
{
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = status;
    encode(&resp.base, out);
}

void h_health_check(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Grpc__Health__V1__HealthCheckRequest *r =
        (Grpc__Health__V1__HealthCheckRequest *)decode(
            &grpc__health__v1__health_check_request__descriptor, req, len, out);
    long which;

    (void)ci;
    if (!r)
        return;
    which = requested_service(a, r);
    if (which == -2)
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "service: unknown service \"%.200s\"",
                 r->service);
    else
        encode_status(serving(a, which) ? SERVING : NOT_SERVING, out);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- Watch ------------------------------------------------------------------ */

typedef struct watch {
    app_t *a;
    long service;            /* as requested_service */
    int sent;                /* a status went out */
    int last;                /* ... this one */
    uint_fast64_t epoch;     /* app_t.health_epoch when it was computed */
} watch_t;

static void *watch_start(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Grpc__Health__V1__HealthCheckRequest *r =
        (Grpc__Health__V1__HealthCheckRequest *)decode(
            &grpc__health__v1__health_check_request__descriptor, req, len, out);
    watch_t *w;

    (void)ci;
    if (!r)
        return NULL;
    if ((w = calloc(1, sizeof *w)) != NULL) {
        w->a = a;
        w->service = requested_service(a, r);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return w; /* NULL: the transport answers RESOURCE_EXHAUSTED */
}

/* Nothing new: wait for a change, or end once draining (NOT_SERVING, the
 * status a draining server has, went out already). */
static int unchanged(const watch_t *w)
{
    return atomic_load(&w->a->draining) ? 0 : RPC_STREAM_WAIT;
}

static int watch_next(void *st, rpc_reply_t *out)
{
    watch_t *w = st;
    /* Read the epoch before the state: a change after this read bumps it
     * again, so the next tick sees it. */
    uint_fast64_t epoch = atomic_load(&w->a->health_epoch);
    int status;

    if (w->sent && epoch == w->epoch)
        return unchanged(w);
    w->epoch = epoch;
    status = w->service == -2 ? SERVICE_UNKNOWN
             : serving(w->a, w->service) ? SERVING : NOT_SERVING;
    if (w->sent && status == w->last)
        return unchanged(w);
    encode_status((Grpc__Health__V1__HealthCheckResponse__ServingStatus)status, out);
    if (out->code != GRPC_STATUS_OK)
        return 0;
    w->sent = 1;
    w->last = status;
    return 1;
}

const rpc_stream_ops_t health_watch_ops = {
    .start = watch_start,
    .next = watch_next,
    .close = free,
};
