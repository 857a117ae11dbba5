/*
 * handlers.h - handlers of patron.v1.Recommender, Events and Admin, for the
 * method list in methods.c. Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_HANDLERS_H
#define PATRON_SERVER_HANDLERS_H

#include "app.h"
#include "transport.h"

void h_recommend(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                 rpc_reply_t *out);
void h_similar_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
void h_rank_items(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                  rpc_reply_t *out);
void h_record_events(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
extern const rpc_stream_ops_t stream_events_ops;
void h_upsert_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);
void h_model_info(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                  size_t len, rpc_reply_t *out);
void h_reload_model(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out);

#endif
