/*
 * methods.h - the API patrond serves (api.h), from the one method list in
 * methods.c. Only main and tests include this: handlers reach the API
 * through app_t.api.
 */
#ifndef PATRON_SERVER_METHODS_H
#define PATRON_SERVER_METHODS_H

#include "api.h"

extern const rpc_api_t patron_api;

#endif
