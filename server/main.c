/*
 * main.c - patrond, the Patron server.
 *
 *   patrond --data DIR --listen HOST:PORT [options]   (patrond --help)
 *
 * The options are one table (PATROND_OPTS below, parsed by cliopt.h), each
 * also settable by its PATRON_* environment variable.
 *
 * Signals are handled synchronously on the main thread (blocked everywhere,
 * taken with sigtimedwait): SIGHUP loads the newest model version now and
 * re-reads the token file,
 * SIGTERM/SIGINT drain in-flight calls and exit 0. Between signals the main
 * thread also polls the store for a newly published model every S seconds,
 * so `patron train` is picked up without a restart.
 *
 * Order: store -> app (model, experiments) -> gRPC transport -> trigger
 * scheduler (app_triggers_start) -> admin HTTP listener (reads the app); at
 * exit: draining set -> trigger scheduler joined -> transport stopped
 * (in-flight calls drained; /readyz answers 503 meanwhile) -> admin listener
 * stopped (its thread joined) -> app destroyed -> store closed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "admin_http.h"
#include "admin_routes.h"
#include "app.h"
#include "cliopt.h"
#include "methods.h"
#include "log.h"
#include "pemfile.h"
#include "store_record.h"
#include "transport.h"
#include "version.h"
#include "wallclock.h"

typedef struct options {
    const char *data, *listen, *port_file, *profiles, *auth_file, *tls_cert, *tls_key;
    const char *tls_client_ca;
    const char *admin_listen, *admin_port_file;
    int tls_require_client_cert, version, access_log, init;
    uint64_t map_bytes;
    log_format_t log_format;
    uint32_t threads;
    int poll_seconds, drain_ms;
    long long event_skew_s;
    model_opts_t model;
} options_t;

static const cli_cmd_t patrond_cmd = {
    "patrond", "--data DIR --listen HOST:PORT [options]",
    "The Patron server. Every option can also be set by the environment variable\n"
    "shown under it; the command line wins. SIGHUP reloads the newest model and\n"
    "the token file; SIGTERM drains in-flight calls and exits."
};

/* --log-format's parser (a CLI_CALL): "text" or "json". */
static int parse_log_format(void *dest, const char *value)
{
    if (log_format_parse(value, dest) == 0)
        return 0;
    fprintf(stderr, "patrond: --log-format: expected text or json, got \"%s\"\n", value);
    return -1;
}

/* 0 to serve, or the exit status (0 after --help, 2 for bad usage). */
static int parse_options(int argc, char **argv, options_t *o, int *exit_status)
{
    /* One row per flag, its PATRON_* variable derived from its name
     * (cliopt.h); the defaults are set below, before parsing. */
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory (refused if it holds no store)",
                CLI_REQUIRED, &o->data),
        CLI_FLAG("init", "create the store in --data if there is none", &o->init),
        CLI_MAP_SIZE(&o->map_bytes),
        CLI_STR("listen", "HOST:PORT", "the gRPC address (port 0: any free port)", CLI_REQUIRED,
                &o->listen),
        CLI_U32("threads", "N", "worker threads, one completion queue each (default 2)", 1, 256,
                &o->threads),
        CLI_INT("poll-seconds", "S", "check for a new model every S seconds\n"
                "(default 2, 0 = only on SIGHUP)", 0, 86400, &o->poll_seconds),
        CLI_INT("drain-ms", "MS", "on SIGTERM, wait this long for in-flight calls\n"
                "(default 10000)", 0, 3600000, &o->drain_ms),
        CLI_STR("port-file", "FILE", "write the bound port there (useful with port 0)", 0,
                &o->port_file),
        CLI_U32("ann-min-items", "N", "catalogs of at least N items also get an approximate (IVF)\n"
                "index for personalized search (default 500000, 0 = never)", 0, INT32_MAX,
                &o->model.ann_min_items),
        CLI_U32("ann-probes", "P", "IVF cells scanned per query (default 80: recall@20 about\n"
                "0.96 on 1M trained-like factors, see bench/bench_index)", 1, 1000000,
                &o->model.ann_probes),
        CLI_STR("profiles", "FILE", "profile settings: tiers, segments, lifecycle, points\n"
                "(recsys/customers/profile_file.h; default: built-in)", 0, &o->profiles),
        CLI_STR("auth-file", "FILE", "API tokens and what each may call (mode 600;\n"
                "server/transport/auth.h); without it every caller may call\n"
                "every method", 0,
                &o->auth_file),
        CLI_STR("tls-cert", "FILE", "serve TLS with this PEM certificate chain ...", 0,
                &o->tls_cert),
        CLI_STR("tls-key", "FILE", "... and this PEM private key (mode 600 or patrond refuses)",
                0, &o->tls_key),
        CLI_STR("tls-client-ca", "FILE", "mutual TLS: verify client certificates against these\n"
                "PEM roots ...", 0, &o->tls_client_ca),
        CLI_FLAG("tls-require-client-cert", "... and refuse clients without one",
                &o->tls_require_client_cert),
        CLI_I64("max-event-skew-seconds", "S", "refuse event times later than now + S\n"
                "(default 86400)", 0, 100.0 * 366 * 86400, &o->event_skew_s),
        CLI_CALL("log-format", "F", "stderr as text (default) or json: one object per\n"
                 "line (ts, level, msg, fields), gRPC core's lines too",
                 parse_log_format, &o->log_format),
        CLI_FLAG("access-log", "a line per finished call: method, status, ms,\n"
                 "peer, request_id, model_version, experiment, arm,\n"
                 "trace_id (W3C traceparent); never customer ids", &o->access_log),
        CLI_STR("admin-listen", "HOST:PORT", "plaintext HTTP for operators: GET /metrics\n"
                "(Prometheus), /healthz (alive), /readyz (model loaded, not\n"
                "draining, store writable); port 0: any free port", 0, &o->admin_listen),
        CLI_STR("admin-port-file", "FILE", "write the admin listener's bound port there", 0,
                &o->admin_port_file),
        CLI_DO("version", "print the release and source commit, and exit", &o->version),
        CLI_END,
    };
    int rc;

    *o = (options_t){ .threads = 2, .poll_seconds = 2, .drain_ms = 10000,
                      .event_skew_s = APP_DEFAULT_EVENT_SKEW_MS / 1000 };
    model_opts_default(&o->model);
    rc = cli_parse_env(argc, argv, &patrond_cmd, opts, "PATRON_");
    if (rc != CLI_PARSED) {
        *exit_status = rc;
        return -1;
    }
    if (o->version) {
        patron_print_version(stdout, "patrond");
        *exit_status = CLI_OK;
        return -1;
    }
    *exit_status = CLI_USAGE;
    if (!o->tls_cert != !o->tls_key) {
        fprintf(stderr, "patrond: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (o->admin_port_file && !o->admin_listen) {
        fprintf(stderr, "patrond: --admin-port-file needs --admin-listen\n");
        return -1;
    }
    if ((o->tls_client_ca && !o->tls_cert) || (o->tls_require_client_cert && !o->tls_client_ca)) {
        fprintf(stderr, "patrond: --tls-require-client-cert needs --tls-client-ca, which "
                        "needs --tls-cert and --tls-key\n");
        return -1;
    }
    return 0;
}

/* Whether a listen address is loopback only (127.x, ::1, localhost). */
static int loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]", 5) == 0 ||
           strncmp(listen, "localhost:", 10) == 0;
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")))
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path); /* readers never see a half-written file */
}

/* Waits for signals; returns when SIGTERM or SIGINT arrives. */
static void serve_until_stopped(app_t *a, const sigset_t *sigs, int poll_seconds)
{
    for (;;) {
        struct timespec wait = { poll_seconds > 0 ? poll_seconds : 3600, 0 };
        int sig = sigtimedwait(sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            plog(LOG_INFO, "%s received: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
        if (sig == SIGHUP) {
            char err[512];
            if (app_load_auth(a, err, sizeof err) != 0)
                plog(LOG_ERROR, "audit: tokens not reloaded: %s: every call except health checks "
                     "is refused until the file is fixed and patrond gets SIGHUP", err);
        }
        if (sig == SIGHUP || (sig < 0 && errno == EAGAIN && poll_seconds > 0))
            app_reload(a, NULL);
        if (sig == SIGHUP && atomic_load(&a->experiments_unloaded))
            app_load_experiments(a);
    }
}

/* Starts the admin HTTP listener on o->admin_listen (admin_routes.h over
 * app) and writes its port file. Returns 0, or -1 after logging why. */
static int start_admin(const options_t *o, app_t *app, admin_http_t **admin, int *port)
{
    int rc = admin_http_start(o->admin_listen, admin_routes, admin_n_routes, app, admin,
                              port);
    if (rc) {
        plog(LOG_ERROR, "cannot listen for admin HTTP on %s: %s", o->admin_listen,
             rc == -EINVAL ? "not a HOST:PORT address" : strerror(-rc));
        return -1;
    }
    if (o->admin_port_file && write_port_file(o->admin_port_file, *port) != 0)
        plog(LOG_WARN, "cannot write admin port file %s", o->admin_port_file);
    plog(LOG_INFO, "admin HTTP on %s (port %d): /metrics, /healthz, /readyz, "
         "POST /v1/{Service}/{Method} (HTTP/JSON)",
         o->admin_listen, *port);
    return 0;
}

/* The thread that takes SIGHUP/SIGTERM/SIGINT with sigtimedwait. A global
 * because the signal handler below needs it; process-wide by nature. */
static pthread_t main_thread;

/* Runs only on a thread that does not block the signals: one started
 * before main() blocked them (OpenBLAS starts its thread pool when the
 * library loads). The default action would end the process on a SIGHUP
 * (or end it without draining on a SIGTERM) that arrives while the main
 * thread is busy; instead the signal is sent on to the main thread, where
 * it stays pending until sigtimedwait takes it. */
static void to_main_thread(int sig)
{
    int saved = errno;
    pthread_kill(main_thread, sig);
    errno = saved;
}

static void forward_signals(const sigset_t *sigs)
{
    struct sigaction sa;

    main_thread = pthread_self();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = to_main_thread;
    sa.sa_mask = *sigs;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(sigs, sig) == 1)
            sigaction(sig, &sa, NULL);
}

/* Raises the open-file soft limit to the hard limit: every connection
 * holds a descriptor, and the transport caps connections below the limit
 * (listener.h), so the higher it is the more clients are served. */
/* Says what the trigger scheduler runs with (the programme in force). */
static void log_triggers(app_t *a)
{
    programme_t *p = app_programme(a);
    const trigger_config_t *tc = &p->settings.profile.triggers;
    if (tc->n_rules)
        plog(LOG_INFO, "triggers: %zu rules, scanning every %u s, next sequence %llu",
             tc->n_rules, tc->scan_seconds, (unsigned long long)atomic_load(&a->trigger_next));
    programme_unref(p);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t was;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
        return;
    was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        plog(LOG_WARN, "cannot raise the open-file limit from %llu: %s",
             (unsigned long long)was, strerror(errno));
}

int main(int argc, char **argv)
{
    options_t o;
    sigset_t sigs;
    store_t *store = NULL;
    transport_t *t = NULL;
    admin_http_t *admin = NULL;
    transport_opts_t topts;
    callstats_t *stats = NULL;
    app_t app;
    uint64_t version = 0;
    int port = 0, admin_port = 0, rc;

    if (parse_options(argc, argv, &o, &rc))
        return rc;
    log_set_format(o.log_format);
    log_route_grpc(); /* before the transport's grpc_init: one format on stderr */
    if (o.tls_key && pemfile_private(o.tls_key) == -EPERM) {
        plog(LOG_ERROR, "cannot start: the TLS key %s may be read by group or others "
             "(chmod 600 %s)", o.tls_key, o.tls_key);
        return 1;
    }
    /* Block before any thread starts so every thread inherits the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    forward_signals(&sigs);
    signal(SIGPIPE, SIG_IGN);

    if (!o.init && store_exists(o.data) == 0) {
        plog(LOG_ERROR, "no Patron store in %s; create one with `patron init --data %s` "
             "or pass --init", o.data, o.data);
        return 1;
    }
    if ((rc = store_open(o.data, (size_t)o.map_bytes, &store)) != 0) {
        plog(LOG_ERROR, "cannot open data directory %s: %s", o.data, store_strerror(rc));
        return 1;
    }
    {
        uint32_t from;
        uint64_t records;
        if (store_migration(store, &from, &records))
            plog(LOG_INFO, "data directory %s converted from record format %u to %d: "
                 "%llu records rewritten", o.data, from, STORE_FORMAT_VERSION,
                 (unsigned long long)records);
    }
    rc = app_init(&app, store, &o.model);
    app.data_dir = o.data;
    app.api = &patron_api; /* token scopes are checked against it */
    app.max_event_skew_ms = (int64_t)o.event_skew_s * 1000;
    app.access_log = o.access_log;
    if (rc == 0) {
        char err[512];
        if ((rc = app_programme_start(&app, o.profiles, err, sizeof err)) != 0)
            plog(LOG_ERROR, "%s", err);
    }
    if (rc == 0 && o.auth_file) {
        char err[512];
        app.auth_path = o.auth_file;
        if ((rc = app_load_auth(&app, err, sizeof err)) != 0)
            plog(LOG_ERROR, "%s", err);
    }
    if (rc != 0) {
        plog(LOG_ERROR, "cannot start: %s", strerror(-rc));
        app_destroy(&app);
        store_close(store);
        return 1;
    }
    if (!o.auth_file && !loopback(o.listen))
        plog(LOG_WARN, "listening on %s without --auth-file: anyone who can reach it "
             "may call every method, DeleteCustomer and ExportCustomer included",
             o.listen);
    if (o.auth_file && !o.tls_cert && !loopback(o.listen))
        plog(LOG_WARN, "listening on %s in plaintext with --auth-file: tokens cross the "
             "network readable by anyone on the path; serve TLS (--tls-cert, --tls-key) "
             "or listen on loopback behind a TLS proxy", o.listen);
    if ((rc = app_reload(&app, &version)) != 0)
        plog(LOG_WARN, "starting without a model: %s", strerror(-rc));
    else if (version == 0)
        plog(LOG_INFO, "no model published yet: health is NOT_SERVING until `patron train`");
    app_load_experiments(&app);
    if (!(stats = calloc(patron_api.n_methods + 1, sizeof *stats))) {
        plog(LOG_ERROR, "cannot start: out of memory");
        return 1;
    }
    app.stats = stats;
    app.started_ms = wall_ms();
    raise_fd_limit();
    topts = (transport_opts_t){ .authorize = o.auth_file ? app_authorize : NULL,
                                .auth_ctx = &app, .tls_cert_file = o.tls_cert,
                                .tls_key_file = o.tls_key,
                                .tls_client_ca_file = o.tls_client_ca,
                                .tls_require_client_cert = o.tls_require_client_cert,
                                .stats = stats, .access_log = o.access_log };
    rc = transport_start(o.listen, o.threads, patron_api.methods, patron_api.n_methods,
                         &app, &topts, &t, &port);
    if (rc) {
        if (o.tls_cert && rc != -EADDRNOTAVAIL)
            plog(LOG_ERROR, "cannot use the TLS certificate %s and key %s%s%s: %s", o.tls_cert,
                 o.tls_key, o.tls_client_ca ? " with client CA " : "",
                 o.tls_client_ca ? o.tls_client_ca : "",
                 rc == -EINVAL ? "not a valid PEM pair" : strerror(-rc));
        else
            plog(LOG_ERROR, "cannot listen on %s: %s", o.listen, strerror(-rc));
        app_destroy(&app);
        store_close(store);
        free(stats);
        return 1;
    }
    if ((rc = app_triggers_start(&app)) != 0) {
        plog(LOG_ERROR, "cannot start the trigger scheduler: %s", store_strerror(rc));
        transport_stop(t, 0);
        app_destroy(&app);
        store_close(store);
        free(stats);
        return 1;
    }
    log_triggers(&app);
    if (o.port_file && write_port_file(o.port_file, port) != 0)
        plog(LOG_WARN, "cannot write port file %s", o.port_file);
    plog(LOG_INFO, "patrond %s (commit %s) listening on %s (port %d, %u threads%s%s%s)",
         patron_version(), patron_commit(), o.listen, port, o.threads,
         o.tls_cert ? ", TLS" : "",
         o.tls_require_client_cert ? ", client certificates required"
         : o.tls_client_ca ? ", client certificates verified when sent" : "",
         o.auth_file ? ", tokens required" : "");

    if (o.admin_listen && start_admin(&o, &app, &admin, &admin_port) != 0) {
        app_triggers_stop(&app);
        transport_stop(t, 0);
        app_destroy(&app);
        store_close(store);
        free(stats);
        return 1;
    }

    serve_until_stopped(&app, &sigs, o.poll_seconds);
    app_drain(&app);
    app_triggers_stop(&app); /* no new triggers while draining; Subscribe streams end */
    transport_stop(t, o.drain_ms);
    admin_http_stop(admin);
    app_destroy(&app);
    store_close(store);
    free(stats);
    plog(LOG_INFO, "stopped");
    return 0;
}
