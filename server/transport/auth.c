/*
 * auth.c - bearer tokens with scopes (see auth.h).
 */
#include "auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"

#define AUTH_MAX_SCOPES 32
#define AUTH_MAX_NAME 64
#define AUTH_MAX_SCOPE 160

typedef struct token {
    char name[AUTH_MAX_NAME + 1];
    char token[AUTH_MAX_TOKEN + 1];
    size_t len;
    size_t n_scopes;
    char scopes[AUTH_MAX_SCOPES][AUTH_MAX_SCOPE + 1];
} token_t;

struct auth {
    token_t *t;
    size_t n, cap;
};

static int fail(char *err, size_t cap, int rc, const char *path, unsigned line,
                const char *what)
{
    if (line)
        snprintf(err, cap, "%s:%u: %s", path, line, what);
    else
        snprintf(err, cap, "%s: %s", path, what);
    return rc;
}

static int token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("._~+/=-", c) != NULL;
}

static int valid_token(const char *s)
{
    size_t n = strlen(s);
    if (n < AUTH_MIN_TOKEN || n > AUTH_MAX_TOKEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!token_char(s[i]))
            return 0;
    return 1;
}

/* "*", "pkg.Service" or "pkg.Service/Method": letters, digits, '_' and '.',
 * at most one '/', not at either end. */
static int valid_scope(const char *s)
{
    size_t n = strlen(s), slashes = 0;
    if (strcmp(s, "*") == 0)
        return 1;
    if (n == 0 || n > AUTH_MAX_SCOPE || s[0] == '/' || s[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/')
            slashes++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return 0;
    }
    return slashes <= 1;
}

/* Parses one non-empty line into t; known (may be NULL) vets scopes.
 * Returns NULL or what is wrong. */
static const char *parse_line(char *line, token_t *t, auth_known_fn known, void *ctx)
{
    char *save = NULL, *name = strtok_r(line, " \t", &save);
    char *tok = strtok_r(NULL, " \t", &save), *scope;

    memset(t, 0, sizeof *t);
    if (!name || !tok)
        return "expected NAME TOKEN SCOPE...";
    if (strlen(name) > AUTH_MAX_NAME)
        return "name longer than 64 characters";
    if (!valid_token(tok))
        return "token must be 16..256 characters of [A-Za-z0-9._~+/=-]";
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->token, sizeof t->token, "%s", tok);
    t->len = strlen(tok);
    while ((scope = strtok_r(NULL, " \t", &save)) != NULL) {
        if (!valid_scope(scope))
            return "bad scope: expected *, package.Service or package.Service/Method";
        if (known && strcmp(scope, "*") != 0 && !known(ctx, scope))
            return "unknown scope: the server has no such service or method";
        if (t->n_scopes == AUTH_MAX_SCOPES)
            return "more than 32 scopes";
        snprintf(t->scopes[t->n_scopes++], AUTH_MAX_SCOPE + 1, "%s", scope);
    }
    if (t->n_scopes == 0)
        return "no scope: give at least one (\"*\" for every method)";
    return NULL;
}

int auth_load(const char *path, auth_t **out, char *err, size_t errcap)
{
    return auth_load_known(path, NULL, NULL, out, err, errcap);
}

int auth_load_known(const char *path, auth_known_fn known, void *ctx, auth_t **out,
                    char *err, size_t errcap)
{
    FILE *f;
    struct stat st;
    char line[4096];
    unsigned lineno = 0;
    auth_t *a;
    int rc = 0;

    *out = NULL;
    if (!(f = fopen(path, "r")))
        return fail(err, errcap, -errno, path, 0, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fclose(f);
        return fail(err, errcap, -EPERM, path, 0,
                    "holds secrets but group or others may read it (chmod 600)");
    }
    if (!(a = calloc(1, sizeof *a))) {
        fclose(f);
        return fail(err, errcap, -ENOMEM, path, 0, "out of memory");
    }
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#'), *p = line;
        const char *bad;
        token_t t;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = fail(err, errcap, -EINVAL, path, lineno, "line longer than 4095 bytes");
            break;
        }
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            continue;
        if ((bad = parse_line(p, &t, known, ctx)) != NULL) {
            rc = fail(err, errcap, -EINVAL, path, lineno, bad);
            break;
        }
        for (size_t i = 0; i < a->n && rc == 0; i++)
            if (strcmp(a->t[i].token, t.token) == 0 || strcmp(a->t[i].name, t.name) == 0)
                rc = fail(err, errcap, -EINVAL, path, lineno,
                          "name or token repeats an earlier line");
        if (rc)
            break;
        if (GROW(a->t, a->cap, a->n + 1) != 0) {
            rc = fail(err, errcap, -ENOMEM, path, lineno, "out of memory");
            break;
        }
        a->t[a->n++] = t;
    }
    fclose(f);
    if (rc) {
        auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void auth_free(auth_t *a)
{
    if (!a)
        return;
    /* The tokens are secrets: do not leave them in freed memory. */
    if (a->t) {
        volatile unsigned char *p = (volatile unsigned char *)a->t;
        for (size_t i = 0; i < a->n * sizeof *a->t; i++)
            p[i] = 0;
    }
    free(a->t);
    free(a);
}

size_t auth_count(const auth_t *a)
{
    return a ? a->n : 0;
}

/* Constant time in the stored token's length for a given candidate. */
static int same_token(const token_t *t, const char *s, size_t len)
{
    unsigned char diff = (unsigned char)(t->len != len);
    for (size_t i = 0; i < t->len; i++)
        diff |= (unsigned char)(t->token[i] ^ (i < len ? s[i] : 0));
    return diff == 0;
}

static int scope_covers(const char *scope, const char *path)
{
    size_t n = strlen(scope);
    if (strcmp(scope, "*") == 0)
        return 1;
    if (path[0] != '/' || strncmp(path + 1, scope, n) != 0)
        return 0;
    /* A service covers "/svc/<any method>"; a method covers exactly itself. */
    return strchr(scope, '/') ? path[1 + n] == '\0' : path[1 + n] == '/';
}

auth_result_t auth_check(const auth_t *a, const char *path, const char *token,
                         size_t len, const char **name)
{
    const token_t *found = NULL;

    if (name)
        *name = NULL;
    if (strncmp(path, "/grpc.health.v1.Health/", 23) == 0)
        return AUTH_OK;
    if (!token || len == 0)
        return AUTH_MISSING;
    for (size_t i = 0; a && i < a->n; i++) /* no early exit: same time for any token */
        if (same_token(&a->t[i], token, len))
            found = &a->t[i];
    if (!found)
        return AUTH_UNKNOWN;
    if (name)
        *name = found->name;
    if (strncmp(path, "/grpc.reflection.", 17) == 0)
        return AUTH_OK; /* the API's shape, for any known caller */
    for (size_t s = 0; s < found->n_scopes; s++)
        if (scope_covers(found->scopes[s], path))
            return AUTH_OK;
    return AUTH_DENIED;
}
