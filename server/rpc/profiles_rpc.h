/*
 * profiles_rpc.h - handlers of patron.v1.Profiles, for the method list in
 * methods.c. Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_PROFILES_RPC_H
#define PATRON_SERVER_PROFILES_RPC_H

#include "app.h"
#include "transport.h"

void h_get_profile(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                   size_t len, rpc_reply_t *out);
void h_set_attributes(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out);
void h_redeem_points(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
void h_delete_customer(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out);
/* MergeCustomers (customers_merge.h): INVALID_ARGUMENT naming the field for
 * a bad or repeated id or a request_id reused for another pair, NOT_FOUND
 * naming the unknown id. */
void h_merge_customers(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out);
/* ExportCustomer (export_rpc.c). */
void h_export_customer(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out);
extern const rpc_stream_ops_t select_audience_ops;

#endif
