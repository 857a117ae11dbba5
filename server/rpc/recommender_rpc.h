/*
 * recommender_rpc.h - handlers of patron.v1.Recommender, for the method list in
 * methods.c.
 * Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_RECOMMENDER_RPC_H
#define PATRON_SERVER_RECOMMENDER_RPC_H

#include "app.h"
#include "transport.h"

void h_recommend(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                 size_t len, rpc_reply_t *out);
void h_similar_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
void h_rank_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                  size_t len, rpc_reply_t *out);
void h_complementary_items(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                           size_t len, rpc_reply_t *out);

#endif
