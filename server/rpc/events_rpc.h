/*
 * events_rpc.h - handlers of patron.v1.Events, for the method list in methods.c.
 * Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_EVENTS_RPC_H
#define PATRON_SERVER_EVENTS_RPC_H

#include "app.h"
#include "transport.h"

void h_record_events(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
/* RecordEvents as the transport runs it: the same answer as h_record_events
 * (which the HTTP gateway calls), sent once the store's group commit made
 * the events durable, without holding the worker while it waits. */
void h_record_events_async(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                           size_t len, rpc_pending_t *pending);
extern const rpc_stream_ops_t stream_events_ops;

#endif
