/*
 * programme_rpc.h - the loyalty programme's methods of patron.v1.Admin:
 * GetProgramme, SetProgramme, ListProgrammeVersions, RollbackProgramme
 * (app_programme.c does the work), for the method list in methods.c.
 * Being Admin methods, a token needs the patron.v1.Admin scope (or the
 * method's) to call them. Each handler's `app` argument is an app_t.
 */
#ifndef PATRON_SERVER_PROGRAMME_RPC_H
#define PATRON_SERVER_PROGRAMME_RPC_H

#include "app.h"
#include "transport.h"

void h_get_programme(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out);
void h_set_programme(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out);
void h_list_programme_versions(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                               size_t len, rpc_reply_t *out);
void h_rollback_programme(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                          size_t len, rpc_reply_t *out);

#endif
