/*
 * coupons_rpc.h - handlers of patron.v1.Coupons, for the method list in
 * methods.c. Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_COUPONS_RPC_H
#define PATRON_SERVER_COUPONS_RPC_H

#include "app.h"
#include "transport.h"

void h_upsert_coupon(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
void h_target_coupons(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out);
void h_record_redemption(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out);
extern const rpc_stream_ops_t select_campaign_audience_ops;

#endif
