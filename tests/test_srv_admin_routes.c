/*
 * test_srv_admin_routes.c - what the admin listener answers, through its
 * route table on a real app and store (no HTTP: admin_http is
 * test_srv_admin_http's): /readyz 503 with the reason before a model,
 * while the data directory is not writable, and while draining, 200
 * otherwise; /healthz always 200; /metrics the exposition with the app's
 * counters.
 */
#include <string.h>

#include "admin_routes.h"
#include "app.h"
#include "expo.h"
#include "methods.h"
#include "testutil.h"

/* Answers path through the route table: out's body is NUL-terminated
 * here for the checks (freed by the caller). */
static admin_reply_t get(app_t *a, const char *path)
{
    admin_reply_t out = { 200, "text/plain; charset=utf-8", NULL, 0 };
    for (size_t i = 0; i < admin_n_routes; i++)
        if (strcmp(admin_routes[i].path, path) == 0)
            admin_routes[i].fn(a, &out);
    out.body = realloc(out.body, out.len + 1);
    out.body[out.len] = '\0';
    return out;
}

static void expect(app_t *a, const char *path, unsigned status, const char *body)
{
    admin_reply_t r = get(a, path);
    CHECK_EQ_INT(r.status, status);
    if (body)
        CHECK_STREQ(r.body, body);
    free(r.body);
}

int main(void)
{
    store_t *s = NULL;
    app_t a;
    model_opts_t opts;
    store_model_hdr_t h = { .factors = 1, .n_users = 1, .n_items = 1 };
    float uf[1] = { 1 }, itf[1] = { 1 }, pop[1] = { 1 };
    char dir[512], missing[600];
    admin_reply_t m;

    snprintf(dir, sizeof dir, "%s", test_tmpdir("srv-admin-routes"));
    snprintf(missing, sizeof missing, "%s/no-such-dir", dir);
    if (store_open(dir, 64u << 20, &s) != 0)
        return 1;
    model_opts_default(&opts);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(app_init(&a, s, &opts), 0);
    a.api = &patron_api;
    a.data_dir = dir;

    expect(&a, "/healthz", 200, "ok\n");
    expect(&a, "/readyz", 503, "not ready: no model loaded\n");

    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(app_reload(&a, NULL), 0);
    expect(&a, "/readyz", 200, "ready\n");

    a.data_dir = missing; /* as if the directory had gone */
    {
        admin_reply_t r = get(&a, "/readyz");
        CHECK_EQ_INT(r.status, 503);
        CHECK(strncmp(r.body, "not ready: data directory ", 26) == 0);
        CHECK(strstr(r.body, "not writable: No such file or directory\n") != NULL);
        free(r.body);
    }
    a.data_dir = dir;

    counters_event(&a.counters, STORE_EVENT_VIEW);
    counters_events_rejected(&a.counters, 2);
    m = get(&a, "/metrics");
    CHECK_EQ_INT(m.status, 200);
    CHECK_STREQ(m.content_type, EXPO_CONTENT_TYPE);
    CHECK(strstr(m.body, "\npatron_model_version 1\n") != NULL);
    CHECK(strstr(m.body, "\npatron_events_ingested_total{type=\"view\"} 1\n") != NULL);
    CHECK(strstr(m.body, "\npatron_events_rejected_total 2\n") != NULL);
    CHECK(strstr(m.body, "\npatron_auth_last_reload_success 1\n") != NULL);
    CHECK(strstr(m.body, "\nprocess_open_fds ") != NULL);
    CHECK_EQ_INT(strlen(m.body), m.len);
    free(m.body);

    atomic_store(&a.draining, 1);
    expect(&a, "/readyz", 503, "not ready: draining\n");
    expect(&a, "/healthz", 200, "ok\n");

    app_destroy(&a);
    store_close(s);
    if (test_failures) {
        fprintf(stderr, "%d check(s) failed\n", test_failures);
        return 1;
    }
    printf("test_srv_admin_routes: ok\n");
    return 0;
}
