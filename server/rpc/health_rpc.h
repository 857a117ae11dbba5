/*
 * health_rpc.h - grpc.health.v1.Health/Check for every service of app_t.api
 * and "" (the whole server). A service flagged RPC_SVC_NEEDS_MODEL, and "",
 * are NOT_SERVING until a model is loaded; one flagged
 * RPC_SVC_NEEDS_EXPERIMENTS while the stored experiment definitions are not
 * served (app_t.experiments_unloaded); everything is NOT_SERVING once
 * the process drains. An unknown service name is NOT_FOUND.
 */
#ifndef PATRON_SERVER_HEALTH_RPC_H
#define PATRON_SERVER_HEALTH_RPC_H

#include "app.h"
#include "transport.h"

void h_health_check(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);

#endif
