/*
 * auth.h - who may call what: bearer tokens with scopes, read from an
 * operator's file. Pure policy: no gRPC here (transport.c hands over the
 * method path and the token it found in the call's metadata).
 *
 * The file, one "NAME TOKEN SCOPE..." line per token, is documented for
 * operators in one place: `patron help formats` (server/cli/cli_formats.c,
 * copied into README.md). The file holds secrets, so it is refused when group or others may read it
 * (like ssh keys). A file without tokens (empty, or only comments) is valid
 * and admits no one: emptying the file is how an operator locks every
 * caller out. Health checks (grpc.health.v1.Health) never need a token:
 * load balancers and probes call them. Server reflection needs a known
 * token, whatever its scopes.
 */
#ifndef PATRON_SERVER_AUTH_H
#define PATRON_SERVER_AUTH_H

#include <stddef.h>

#define AUTH_MIN_TOKEN 16
#define AUTH_MAX_TOKEN 256

typedef struct auth auth_t;

typedef enum auth_result {
    AUTH_OK = 0,
    AUTH_MISSING,   /* no token in the call */
    AUTH_UNKNOWN,   /* a token, but not one in the file */
    AUTH_DENIED,    /* a known token without a scope covering the method */
} auth_result_t;

/* Reads path (zero tokens is a valid result). On error returns -ENOENT/-EACCES (cannot read), -EPERM
 * (readable by group or others), -EINVAL (bad line) or -ENOMEM, with
 * "path:line: what" in err. */
int auth_load(const char *path, auth_t **out, char *err, size_t errcap);

/* auth_load, and a scope other than "*" that known(ctx, scope) says the
 * server does not serve ("package.Service" or "package.Service/Method") is
 * a bad line too: a typo would otherwise deny calls without a word. */
typedef int (*auth_known_fn)(void *ctx, const char *scope);
int auth_load_known(const char *path, auth_known_fn known, void *ctx, auth_t **out,
                    char *err, size_t errcap);
void auth_free(auth_t *a); /* NULL-safe */

/* Number of tokens loaded. */
size_t auth_count(const auth_t *a);

/*
 * May the holder of token (len bytes, not NUL-terminated; NULL when the
 * call carried none) call method path ("/package.Service/Method")? A NULL
 * a holds no tokens (only health checks pass).
 * *name (may be NULL) gets the token's label when it is known. Tokens are
 * compared in constant time.
 */
auth_result_t auth_check(const auth_t *a, const char *path, const char *token,
                         size_t len, const char **name);

#endif
