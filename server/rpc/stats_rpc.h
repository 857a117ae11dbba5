/*
 * stats_rpc.h - patron.v1.Admin/GetServerStats, for the method list in
 * methods.c: per-method calls, errors by status and latency since start
 * (callstats.h), from the counters the transport keeps in app_t.
 */
#ifndef PATRON_SERVER_STATS_RPC_H
#define PATRON_SERVER_STATS_RPC_H

#include "app.h"
#include "transport.h"

void h_server_stats(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);

#endif
