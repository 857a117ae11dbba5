/*
 * api.h - the shape of the API patrond serves: its services and methods.
 *
 * One instance exists, patron_api (methods.h), built from the one method
 * list in methods.c. Dispatch (transport), health, reflection and stats all
 * read it through app_t.api, so none of them includes another's header and
 * a new method or service is one line in methods.c.
 */
#ifndef PATRON_SERVER_API_H
#define PATRON_SERVER_API_H

#include <stddef.h>

#include "transport.h"

/* Health answers NOT_SERVING for the service until a model is loaded. */
#define RPC_SVC_NEEDS_MODEL 1
/* ... while the stored experiment definitions are not served (one failed
 * to load at start: app_load_experiments). */
#define RPC_SVC_NEEDS_EXPERIMENTS 2

typedef struct rpc_service {
    const char *name;          /* "package.Service" */
    int flags;                 /* RPC_SVC_* */
} rpc_service_t;

typedef struct rpc_api {
    const rpc_method_t *methods;  /* in stats order (app_t.stats) */
    size_t n_methods;
    const rpc_service_t *services; /* every service a method belongs to */
    size_t n_services;
} rpc_api_t;

/* The index of service `name` in api->services, or -1. */
long rpc_api_service(const rpc_api_t *api, const char *name);

/* 1 if scope names a service of api ("package.Service") or one of its
 * methods ("package.Service/Method"), else 0. ctx is the rpc_api_t (an
 * auth_known_fn, so token files are checked against what is served). */
int rpc_api_knows(void *ctx, const char *scope);

#endif
