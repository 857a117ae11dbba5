/* api.c - lookups in an rpc_api_t (see api.h). */
#include "api.h"

#include <string.h>

long rpc_api_service(const rpc_api_t *api, const char *name)
{
    for (size_t i = 0; i < api->n_services; i++)
        if (strcmp(api->services[i].name, name) == 0)
            return (long)i;
    return -1;
}

int rpc_api_knows(void *ctx, const char *scope)
{
    const rpc_api_t *api = ctx;
    if (!strchr(scope, '/'))
        return rpc_api_service(api, scope) >= 0;
    for (size_t i = 0; i < api->n_methods; i++)
        if (strcmp(api->methods[i].path + 1, scope) == 0)
            return 1;
    return 0;
}
