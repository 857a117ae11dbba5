/* fuzz_api.c - patron_api's methods with their message types (fuzz_api.h). */
#include "fuzz_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "methods.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/coupons.pb-c.h"
#include "patron/v1/events.pb-c.h"
#include "patron/v1/experiments.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "patron/v1/triggers.pb-c.h"

#define MAX_METHODS 64

static const ProtobufCServiceDescriptor *const services[] = {
    &patron__v1__recommender__descriptor, &patron__v1__events__descriptor,
    &patron__v1__profiles__descriptor,    &patron__v1__experiments__descriptor,
    &patron__v1__admin__descriptor,       &patron__v1__coupons__descriptor,
    &patron__v1__triggers__descriptor,
    &grpc__health__v1__health__descriptor,
    &grpc__reflection__v1__server_reflection__descriptor,
};

/* The service descriptor of "pkg.Service" (v1alpha reflection reads and
 * answers the v1 messages: reflection.h). */
static const ProtobufCServiceDescriptor *service_of(const char *svc)
{
    if (strcmp(svc, "grpc.reflection.v1alpha.ServerReflection") == 0)
        svc = "grpc.reflection.v1.ServerReflection";
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        if (strcmp(services[i]->name, svc) == 0)
            return services[i];
    return NULL;
}

static fuzz_method_t table[MAX_METHODS];
static const char *names[MAX_METHODS];
static size_t n_table;

static void build(void)
{
    if (patron_api.n_methods > MAX_METHODS) {
        fprintf(stderr, "fuzz: %zu methods, MAX_METHODS is %d\n", patron_api.n_methods,
                MAX_METHODS);
        abort();
    }
    for (size_t i = 0; i < patron_api.n_methods; i++) {
        const rpc_method_t *m = &patron_api.methods[i];
        const char *slash = strrchr(m->path, '/');
        char svc[96];
        const ProtobufCServiceDescriptor *sd;
        const ProtobufCMethodDescriptor *md = NULL;

        snprintf(svc, sizeof svc, "%.*s", (int)(slash - m->path - 1), m->path + 1);
        if ((sd = service_of(svc)))
            md = protobuf_c_service_descriptor_get_method_by_name(sd, slash + 1);
        if (!md) {
            fprintf(stderr, "fuzz: no message types for %s: add its service to "
                            "tests/fuzz/fuzz_api.c\n", m->path);
            abort();
        }
        table[i].m = m;
        table[i].in = md->input;
        table[i].out = md->output;
        snprintf(table[i].name, sizeof table[i].name, "%s.%s", svc, slash + 1);
        names[i] = table[i].name;
    }
    n_table = patron_api.n_methods;
}

const fuzz_method_t *fuzz_methods(size_t *n)
{
    if (!n_table)
        build();
    *n = n_table;
    return table;
}

const char *const *fuzz_method_names(size_t *n)
{
    fuzz_methods(n);
    return names;
}
