/*
 * test_srv_methods.c - the one method list (server/rpc/methods.c): every
 * method belongs to a listed service, every service has a method, no path
 * is served twice, and the kinds match what dispatch needs.
 */
#include "google/protobuf/descriptor.pb-c.h"
#include "methods.h"
#include "testutil.h"

/* The service part of "/package.Service/Method", NUL-terminated in buf. */
static const char *service_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strchr(path + 1, '/');
    size_t n = slash ? (size_t)(slash - path - 1) : 0;
    if (path[0] != '/' || !n || n >= cap)
        return NULL;
    memcpy(buf, path + 1, n);
    buf[n] = '\0';
    return buf;
}

static void test_methods_belong_to_listed_services(void)
{
    const rpc_api_t *api = &patron_api;
    size_t uses[64] = { 0 };

    CHECK(api->n_services <= sizeof uses / sizeof uses[0]);
    for (size_t i = 0; i < api->n_methods; i++) {
        char buf[128];
        const char *svc = service_of(api->methods[i].path, buf, sizeof buf);
        long k = svc ? rpc_api_service(api, svc) : -1;
        CHECK(k >= 0);
        if (k >= 0)
            uses[k]++;
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(api->methods[i].path, api->methods[j].path) != 0);
        if (api->methods[i].kind == RPC_UNARY)
            CHECK(api->methods[i].handler != NULL);
        else
            CHECK(api->methods[i].stream != NULL);
    }
    for (size_t k = 0; k < api->n_services; k++)
        CHECK(uses[k] > 0);
}

static void test_service_lookup(void)
{
    long c = rpc_api_service(&patron_api, "patron.v1.Coupons");
    long r = rpc_api_service(&patron_api, "patron.v1.Recommender");
    CHECK(c >= 0);
    CHECK(r >= 0);
    if (c >= 0)
        CHECK(!(patron_api.services[c].flags & RPC_SVC_NEEDS_MODEL));
    if (r >= 0)
        CHECK(patron_api.services[r].flags & RPC_SVC_NEEDS_MODEL);
    CHECK_EQ_INT(rpc_api_service(&patron_api, ""), -1);
    CHECK_EQ_INT(rpc_api_service(&patron_api, "patron.v1"), -1);
    CHECK(rpc_api_service(&patron_api, "grpc.health.v1.Health") >= 0);
}

/* Token scopes are checked against what is served. */
static void test_scopes_known(void)
{
    void *api = (void *)&patron_api;
    CHECK(rpc_api_knows(api, "patron.v1.Coupons"));
    CHECK(rpc_api_knows(api, "patron.v1.Profiles/GetProfile"));
    CHECK(rpc_api_knows(api, "grpc.health.v1.Health/Check"));
    CHECK(!rpc_api_knows(api, "patron.v1.Recomender"));
    CHECK(!rpc_api_knows(api, "patron.v1.Profiles/GetProfiles"));
    CHECK(!rpc_api_knows(api, "patron.v1.Profiles/"));
    CHECK(!rpc_api_knows(api, ""));
}

/* The API's FileDescriptorSet, embedded for reflection (proto/embed.cmake). */
extern const unsigned char patron_api_fds[];
extern const size_t patron_api_fds_len;

static int served(const char *path)
{
    for (size_t i = 0; i < patron_api.n_methods; i++)
        if (strcmp(patron_api.methods[i].path, path) == 0)
            return 1;
    return 0;
}

/* The list and the .proto files agree: every listed method is declared
 * (a typo would register a path no client calls), and every patron.v1
 * method is listed (a new RPC cannot be left UNIMPLEMENTED by accident). */
static void test_list_matches_the_protos(void)
{
    Google__Protobuf__FileDescriptorSet *fds =
        google__protobuf__file_descriptor_set__unpack(NULL, patron_api_fds_len,
                                                      patron_api_fds);
    size_t declared = 0, found = 0;

    CHECK(fds != NULL);
    if (!fds)
        return;
    for (size_t f = 0; f < fds->n_file; f++) {
        const Google__Protobuf__FileDescriptorProto *fp = fds->file[f];
        for (size_t sv = 0; sv < fp->n_service; sv++)
            for (size_t m = 0; m < fp->service[sv]->n_method; m++) {
                char path[256];
                snprintf(path, sizeof path, "/%s.%s/%s", fp->package, fp->service[sv]->name,
                         fp->service[sv]->method[m]->name);
                if (served(path))
                    found++;
                else if (strncmp(fp->package, "patron.", 7) == 0) {
                    fprintf(stderr, "declared but not served: %s\n", path);
                    CHECK(0);
                }
                declared++;
            }
    }
    /* Every declared method is served, Health/Watch and reflection included. */
    CHECK_EQ_INT(declared, patron_api.n_methods);
    CHECK_EQ_INT(found, patron_api.n_methods);
    google__protobuf__file_descriptor_set__free_unpacked(fds, NULL);
}

int main(void)
{
    test_list_matches_the_protos();
    test_scopes_known();
    test_methods_belong_to_listed_services();
    test_service_lookup();
    TEST_MAIN_END();
}
