/*
 * health_rpc.h - grpc.health.v1.Health for every service of app_t.api (the
 * services table in methods.c, which reflection lists too, so every listed
 * service, Health and the reflection services included, has a status) and
 * "" (the whole server).
 *
 * What "serving" means is app_unready (app.h), the one rule Check, Watch
 * and the admin listener's /readyz share: a service flagged
 * RPC_SVC_NEEDS_MODEL, and "", are NOT_SERVING until a model is loaded; one
 * flagged RPC_SVC_NEEDS_EXPERIMENTS while the stored experiment definitions
 * are not served (app_t.experiments_unloaded); everything is NOT_SERVING
 * once the process drains.
 *
 * Check: SERVING or NOT_SERVING; an unknown service name is NOT_FOUND.
 *
 * Watch (server streaming): sends the current status at once, then one
 * message each time it changes; an unknown service gets SERVICE_UNKNOWN
 * (per the health protocol, not an error) and the stream stays open. When
 * the server drains the stream sends NOT_SERVING and ends with OK; a client
 * cancelling (or its deadline passing) ends it too. How changes are seen:
 * every change bumps app_t.health_epoch (app.h); a stream with nothing new
 * to send returns RPC_STREAM_WAIT and is parked on its worker, which asks
 * it again on its tick (transport.h, every 100 ms while it holds parked
 * streams): one atomic load per parked stream per tick, and no thread
 * blocked or spinning.
 */
#ifndef PATRON_SERVER_HEALTH_RPC_H
#define PATRON_SERVER_HEALTH_RPC_H

#include "app.h"
#include "transport.h"

void h_health_check(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);

extern const rpc_stream_ops_t health_watch_ops;

#endif
