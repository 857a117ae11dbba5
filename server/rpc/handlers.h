/*
 * handlers.h - the gRPC methods patrond serves, as a table for transport.
 * Each handler's `app` argument is an app_t (app.h).
 */
#ifndef PATRON_SERVER_HANDLERS_H
#define PATRON_SERVER_HANDLERS_H

#include <stddef.h>

#include "app.h"
#include "transport.h"

extern const rpc_method_t patron_methods[];
extern const size_t patron_n_methods;

#endif
