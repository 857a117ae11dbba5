/*
 * test_srv_auth.c - API tokens and scopes (server/transport/auth.h): who may call
 * what, and token files that are refused with the line that is wrong.
 */
#include <errno.h>
#include <sys/stat.h>

#include "auth.h"
#include "testutil.h"

#define SHOP "shop-front-7f3a9c2e"
#define ADMIN "admin-0c6d1b5e9a7f44"

static const char *write_file(const char *text, mode_t mode)
{
    static char path[600];
    FILE *f;
    snprintf(path, sizeof path, "%s/tokens", test_tmpdir("auth"));
    f = fopen(path, "w");
    if (!f)
        exit(2);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

static auth_result_t check(const auth_t *a, const char *path, const char *tok,
                           const char **name)
{
    return auth_check(a, path, tok, tok ? strlen(tok) : 0, name);
}

static void test_scopes(void)
{
    const char *path = write_file(
        "# storefront: recommendations and one profile method\n"
        "storefront " SHOP " patron.v1.Recommender patron.v1.Profiles/GetProfile\n"
        "\n"
        "   admin\t" ADMIN "   *   # everything\n", 0600);
    auth_t *a = NULL;
    char err[256];
    const char *name = NULL;

    CHECK_EQ_INT(auth_load(path, &a, err, sizeof err), 0);
    if (!a)
        return;
    CHECK_EQ_INT(auth_count(a), 2);
    /* Probes never need a token. */
    CHECK_EQ_INT(check(a, "/grpc.health.v1.Health/Check", NULL, NULL), AUTH_OK);
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/Recommend", NULL, NULL), AUTH_MISSING);
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/Recommend", "nope-nope-nope-nope", NULL),
                 AUTH_UNKNOWN);
    /* A prefix or an extension of a real token is not that token. */
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/Recommend", "shop-front-7f3a9c2", NULL),
                 AUTH_UNKNOWN);
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/Recommend", SHOP "0", NULL), AUTH_UNKNOWN);
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/Recommend", SHOP, &name), AUTH_OK);
    CHECK_STREQ(name, "storefront");
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/SimilarItems", SHOP, NULL), AUTH_OK);
    CHECK_EQ_INT(check(a, "/patron.v1.Profiles/GetProfile", SHOP, NULL), AUTH_OK);
    /* A method scope is that method only; a service scope is that service. */
    CHECK_EQ_INT(check(a, "/patron.v1.Profiles/DeleteCustomer", SHOP, &name), AUTH_DENIED);
    CHECK_STREQ(name, "storefront");
    /* ExportCustomer returns personal data: a storefront scoped to
     * GetProfile may not call it, like DeleteCustomer. */
    CHECK_EQ_INT(check(a, "/patron.v1.Profiles/ExportCustomer", SHOP, NULL), AUTH_DENIED);
    CHECK_EQ_INT(check(a, "/patron.v1.Profiles/GetProfileX", SHOP, NULL), AUTH_DENIED);
    CHECK_EQ_INT(check(a, "/patron.v1.RecommenderX/Recommend", SHOP, NULL), AUTH_DENIED);
    CHECK_EQ_INT(check(a, "/patron.v1.Admin/ReloadModel", SHOP, NULL), AUTH_DENIED);
    CHECK_EQ_INT(check(a, "/patron.v1.Admin/ReloadModel", ADMIN, &name), AUTH_OK);
    CHECK_STREQ(name, "admin");
    CHECK_EQ_INT(check(a, "/patron.v1.Profiles/DeleteCustomer", ADMIN, NULL), AUTH_OK);
    CHECK_EQ_INT(check(a, "/patron.v1.Profiles/ExportCustomer", ADMIN, NULL), AUTH_OK);
    auth_free(a);
}

/* Loads text (mode 0600 unless given) and expects rc and a message holding
 * `want`. */
static void refused(const char *text, mode_t mode, int rc, const char *want)
{
    auth_t *a = (auth_t *)1;
    char err[256] = "";
    CHECK_EQ_INT(auth_load(write_file(text, mode), &a, err, sizeof err), rc);
    CHECK(a == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "  message was: %s (wanted \"%s\")\n", err, want);
    CHECK(strstr(err, want) != NULL);
}

static void test_bad_files(void)
{
    auth_t *a = (auth_t *)1;
    char err[256];

    refused("shop " SHOP " *\n", 0644, -EPERM, "chmod 600");
    refused("ok " SHOP " *\nshort tooshort *\n", 0600, -EINVAL, ":2: token must be");
    refused("a " SHOP " *\nb " SHOP " *\n", 0600, -EINVAL, ":2: name or token repeats");
    refused("a " SHOP "\n", 0600, -EINVAL, ":1: no scope");
    refused("a " SHOP " /patron.v1.Admin\n", 0600, -EINVAL, ":1: bad scope");
    refused("a " SHOP " patron.v1.Admin/Reload/Model\n", 0600, -EINVAL, ":1: bad scope");
    refused("onlyaname\n", 0600, -EINVAL, ":1: expected NAME TOKEN SCOPE");
    refused("a " SHOP "\xff" " *\n", 0600, -EINVAL, ":1: token must be");
    CHECK_EQ_INT(auth_load("/nonexistent/tokens", &a, err, sizeof err), -ENOENT);
    CHECK(a == NULL);
}

/* An emptied file is how an operator locks everyone out: it loads, with no
 * token, and only health checks pass. A NULL set (a failed reload) is the
 * same. */
static void test_empty_file_admits_no_one(void)
{
    auth_t *a = NULL;
    char err[256] = "";

    CHECK_EQ_INT(auth_load(write_file("# nothing\n\n", 0600), &a, err, sizeof err), 0);
    CHECK(a != NULL);
    CHECK_EQ_INT(auth_count(a), 0);
    CHECK_EQ_INT(check(a, "/grpc.health.v1.Health/Check", NULL, NULL), AUTH_OK);
    CHECK_EQ_INT(check(a, "/patron.v1.Recommender/Recommend", SHOP, NULL), AUTH_UNKNOWN);
    CHECK_EQ_INT(check(a, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                       ADMIN, NULL), AUTH_UNKNOWN);
    auth_free(a);
    a = NULL;
    CHECK_EQ_INT(auth_load(write_file("", 0600), &a, err, sizeof err), 0);
    CHECK_EQ_INT(auth_count(a), 0);
    auth_free(a);
    CHECK_EQ_INT(check(NULL, "/grpc.health.v1.Health/Check", NULL, NULL), AUTH_OK);
    CHECK_EQ_INT(check(NULL, "/patron.v1.Admin/ReloadModel", ADMIN, NULL), AUTH_UNKNOWN);
}

/* A toy server: one service with one method. */
static int known_scope(void *ctx, const char *scope)
{
    (void)ctx;
    return strcmp(scope, "patron.v1.Profiles") == 0 ||
           strcmp(scope, "patron.v1.Profiles/GetProfile") == 0;
}

static void test_unknown_scopes(void)
{
    auth_t *a = NULL;
    char err[512];
    const char *path = write_file("ok " SHOP " patron.v1.Profiles/GetProfile *\n"
                                  "typo " ADMIN " patron.v1.Profile\n", 0600);

    CHECK_EQ_INT(auth_load_known(path, known_scope, NULL, &a, err, sizeof err), -EINVAL);
    CHECK(a == NULL);
    CHECK(strstr(err, ":2: unknown scope") != NULL);
    /* Without the check the same file loads (the typo denies silently). */
    CHECK_EQ_INT(auth_load(path, &a, err, sizeof err), 0);
    CHECK_EQ_INT(auth_count(a), 2);
    auth_free(a);
}

int main(void)
{
    test_unknown_scopes();
    test_scopes();
    test_bad_files();
    test_empty_file_admits_no_one();
    TEST_MAIN_END();
}
