/*
 * experiments_rpc.h - handlers of patron.v1.Experiments, for the method
 * list in methods.c. Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_EXPERIMENTS_RPC_H
#define PATRON_SERVER_EXPERIMENTS_RPC_H

#include "app.h"
#include "transport.h"

void h_create_experiment(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out);
void h_update_experiment(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out);
void h_list_experiments(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                        size_t len, rpc_reply_t *out);
void h_get_assignment(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out);
void h_experiment_results(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                          size_t len, rpc_reply_t *out);

#endif
