/*
 * admin_rpc.h - handlers of patron.v1.Admin (but GetServerStats: stats_rpc.h),
 * for the method list in methods.c.
 * Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_ADMIN_RPC_H
#define PATRON_SERVER_ADMIN_RPC_H

#include "app.h"
#include "transport.h"

void h_upsert_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);
void h_model_info(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                  size_t len, rpc_reply_t *out);
void h_reload_model(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);

#endif
