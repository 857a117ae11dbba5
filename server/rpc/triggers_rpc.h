/*
 * triggers_rpc.h - patron.v1.Triggers, for the method list in methods.c.
 *
 * Subscribe (server streaming) sends every logged trigger (triggers.h)
 * with a sequence above the request's cursor, in order, one
 * SubscribeResponse each,
 * then parks (RPC_STREAM_WAIT: the worker asks again on its 100 ms tick)
 * until app_t.trigger_next says a newer one was logged. It ends with OK
 * when the server drains (the consumer reconnects with its cursor), and
 * CANCELLED / DEADLINE_EXCEEDED when the client cancels or its deadline
 * passes. A cursor below 0, or at or beyond the next sequence to be
 * logged, is INVALID_ARGUMENT naming `cursor`. Rows removed by retention
 * (patron compact --trigger-retention-days) or erasure are skipped.
 */
#ifndef PATRON_SERVER_TRIGGERS_RPC_H
#define PATRON_SERVER_TRIGGERS_RPC_H

#include "app.h"
#include "transport.h"

extern const rpc_stream_ops_t triggers_subscribe_ops;

#endif
