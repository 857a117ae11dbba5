/* health_rpc.c - grpc.health.v1.Health/Check (see health_rpc.h). */
#include "health_rpc.h"

#include "codec.h"
#include "grpc/health/v1/health.pb-c.h"

/* Whether `service` (an index into a->api->services, -1 for "") serves. */
static int serving(app_t *a, long service)
{
    return !app_unready(a, service >= 0 ? a->api->services[service].flags
                                        : RPC_SVC_NEEDS_MODEL);
}

void h_health_check(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Grpc__Health__V1__HealthCheckRequest *r =
        (Grpc__Health__V1__HealthCheckRequest *)decode(
            &grpc__health__v1__health_check_request__descriptor, req, len, out);
    Grpc__Health__V1__HealthCheckResponse resp =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    long which;

    (void)ci;
    if (!r)
        return;
    which = r->service[0] ? rpc_api_service(a->api, r->service) : -1;
    if (r->service[0] && which < 0) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "service: unknown service \"%.200s\"",
                 r->service);
    } else {
        resp.status = serving(a, which)
            ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        encode(&resp.base, out);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
