/*
 * access.h - the access log (transport_opts_t.access_log): one line per
 * finished call, written through log.h (so in --log-format json it is one
 * JSON object), with msg "access" and the fields
 *
 *   method  status  ms  peer  request_id  model_version  experiment  arm
 *   trace_id
 *
 * status is the gRPC status name; ms the time from dispatch to the final
 * batch; request_id, model_version, experiment and arm what the handler
 * reported (rpc_tags_set), empty/0 when it reported nothing; trace_id the
 * 32 hex digits of the caller's W3C `traceparent` header when it sent a
 * valid one. Nothing from the request body: never customer or item ids.
 * Called on worker threads; keeps no state.
 */
#ifndef PATRON_SERVER_ACCESS_H
#define PATRON_SERVER_ACCESS_H

#include <grpc/grpc.h>
#include <stdint.h>

#include "transport.h"

/* The call's peer as gRPC names it ("ipv4:127.0.0.1:5555",
 * "ipv6:[::1]:5555"), into out (cut to cap). A connection Patron's own
 * listener accepted (listener.h) is "fd:N" to gRPC: its address is read
 * from the descriptor, so call it while the call is live (at dispatch). */
void access_peer(grpc_call *call, char *out, size_t cap);

/* Writes the line for a finished call. method is the path (for a method
 * the server does not serve, the path the caller asked for), peer from
 * access_peer, md the call's received metadata, tags may be NULL. */
void access_log_call(const char *method, grpc_status_code code, int64_t us,
                     const char *peer, const grpc_metadata_array *md,
                     const rpc_call_tags_t *tags);

/* The trace id of a W3C traceparent value ("00-<32 hex>-<16 hex>-<2 hex>",
 * lower-case hex, trace and parent ids not all zero; a later version may
 * append "-..." after the flags) into out (32 digits and NUL). Returns 0,
 * or -1 when the value is not a valid traceparent (out then ""). */
int traceparent_trace_id(const char *value, size_t len, char out[33]);

#endif
