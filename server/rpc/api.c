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
