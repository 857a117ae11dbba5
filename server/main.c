/*
 * main.c - patrond, the Patron server.
 *
 *   patrond --data DIR --listen HOST:PORT [--threads N] [--poll-seconds S]
 *           [--drain-ms MS] [--port-file FILE] [--ann-min-items N]
 *           [--ann-probes P] [--profiles FILE] [--auth-file FILE]
 *           [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE
 *            [--tls-require-client-cert]]]
 *
 * Signals are handled synchronously on the main thread (blocked everywhere,
 * taken with sigtimedwait): SIGHUP loads the newest model version now and
 * re-reads the token file,
 * SIGTERM/SIGINT drain in-flight calls and exit 0. Between signals the main
 * thread also polls the store for a newly published model every S seconds,
 * so `patron train` is picked up without a restart.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app.h"
#include "methods.h"
#include "log.h"
#include "pemfile.h"
#include "profile_file.h"
#include "store_record.h"
#include "transport.h"
#include "wallclock.h"

typedef struct options {
    const char *data, *listen, *port_file, *profiles, *auth_file, *tls_cert, *tls_key;
    const char *tls_client_ca;
    int tls_require_client_cert;
    unsigned threads;
    int poll_seconds, drain_ms;
    long event_skew_s;
    model_opts_t model;
} options_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: patrond --data DIR --listen HOST:PORT [--threads N]\n"
            "               [--poll-seconds S] [--drain-ms MS] [--port-file FILE]\n"
            "  --threads N       worker threads, one completion queue each (default 2)\n"
            "  --poll-seconds S  check for a new model every S seconds (default 2, 0 = only on SIGHUP)\n"
            "  --drain-ms MS     on SIGTERM, wait this long for in-flight calls (default 10000)\n"
            "  --port-file FILE  write the bound port there (useful with port 0)\n"
            "  --ann-min-items N catalogs of at least N items also get an approximate\n"
            "                    (IVF) index for personalized search (default 500000, 0 = never)\n"
            "  --profiles FILE   profile settings: tiers, segments, lifecycle, points\n"
            "                    (see recsys/customers/profile_file.h; default: built-in)\n"
            "  --ann-probes P    IVF cells scanned per query (default 80: recall@20 about 0.96\n"
            "                    on 1M trained-like factors, see bench/bench_index)\n"
            "  --auth-file FILE  API tokens and what each may call (server/transport/auth.h; mode 600);\n"
            "                    without it every caller may call every method\n"
            "  --tls-cert FILE   serve TLS with this PEM certificate chain ...\n"
            "  --tls-key FILE    ... and this PEM private key (mode 600 or patrond refuses)\n"
            "  --tls-client-ca FILE  mutual TLS: verify client certificates against these\n"
            "                    PEM roots ...\n"
            "  --tls-require-client-cert  ... and refuse clients without one\n"
            "  --max-event-skew-seconds S  refuse event times later than now + S\n"
            "                    (default 86400; env PATRON_MAX_EVENT_SKEW_SECONDS)\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options_t *o)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "threads", required_argument, NULL, 't' },
        { "poll-seconds", required_argument, NULL, 'p' },
        { "drain-ms", required_argument, NULL, 'r' },
        { "port-file", required_argument, NULL, 'f' },
        { "ann-min-items", required_argument, NULL, 'a' },
        { "ann-probes", required_argument, NULL, 'P' },
        { "profiles", required_argument, NULL, 'C' },
        { "auth-file", required_argument, NULL, 'A' },
        { "tls-cert", required_argument, NULL, 'c' },
        { "tls-key", required_argument, NULL, 'k' },
        { "tls-client-ca", required_argument, NULL, 'Q' },
        { "tls-require-client-cert", no_argument, NULL, 'R' },
        { "max-event-skew-seconds", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long v;
    int c;

    const char *env_skew = getenv("PATRON_MAX_EVENT_SKEW_SECONDS");

    *o = (options_t){ .threads = 2, .poll_seconds = 2, .drain_ms = 10000,
                      .event_skew_s = APP_DEFAULT_EVENT_SKEW_MS / 1000 };
    model_opts_default(&o->model);
    if (env_skew && *env_skew && parse_int(env_skew, 0, 100L * 366 * 86400, &o->event_skew_s)) {
        fprintf(stderr, "patrond: PATRON_MAX_EVENT_SKEW_SECONDS: not a number of seconds "
                        "in 0..3162240000\n");
        goto bad;
    }
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'f': o->port_file = optarg; break;
        case 't':
            if (parse_int(optarg, 1, 256, &v)) goto bad;
            o->threads = (unsigned)v;
            break;
        case 'p':
            if (parse_int(optarg, 0, 86400, &v)) goto bad;
            o->poll_seconds = (int)v;
            break;
        case 'r':
            if (parse_int(optarg, 0, 3600000, &v)) goto bad;
            o->drain_ms = (int)v;
            break;
        case 'a':
            if (parse_int(optarg, 0, INT32_MAX, &v)) goto bad;
            o->model.ann_min_items = (uint32_t)v;
            break;
        case 'P':
            if (parse_int(optarg, 1, 1000000, &v)) goto bad;
            o->model.ann_probes = (uint32_t)v;
            break;
        case 'C': o->profiles = optarg; break;
        case 'A': o->auth_file = optarg; break;
        case 'c': o->tls_cert = optarg; break;
        case 'k': o->tls_key = optarg; break;
        case 'Q': o->tls_client_ca = optarg; break;
        case 'R': o->tls_require_client_cert = 1; break;
        case 'S':
            if (parse_int(optarg, 0, 100L * 366 * 86400, &o->event_skew_s)) goto bad;
            break;
        case 'h': usage(stdout); exit(0);
        default: goto bad;
        }
    }
    if (!o->data || !o->listen || optind != argc)
        goto bad;
    if (!o->tls_cert != !o->tls_key) {
        fprintf(stderr, "patrond: --tls-cert and --tls-key go together\n");
        goto bad;
    }
    if ((o->tls_client_ca && !o->tls_cert) || (o->tls_require_client_cert && !o->tls_client_ca)) {
        fprintf(stderr, "patrond: --tls-require-client-cert needs --tls-client-ca, which "
                        "needs --tls-cert and --tls-key\n");
        goto bad;
    }
    return 0;
bad:
    usage(stderr);
    return -1;
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

/* Raises the open-file soft limit to the hard limit: every connection
 * holds a descriptor, and the transport caps connections below the limit
 * (listener.h), so the higher it is the more clients are served. */
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
    transport_opts_t topts;
    callstats_t *stats = NULL;
    app_t app;
    uint64_t version = 0;
    int port = 0, rc;

    if (parse_options(argc, argv, &o))
        return 2;
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
    signal(SIGPIPE, SIG_IGN);

    if ((rc = store_open(o.data, 0, &store)) != 0) {
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
    app.api = &patron_api; /* token scopes are checked against it */
    app.max_event_skew_ms = (int64_t)o.event_skew_s * 1000;
    if (rc == 0 && o.profiles) {
        char err[512];
        if ((rc = profile_config_load(o.profiles, &app.profile_cfg, err, sizeof err)) != 0)
            plog(LOG_ERROR, "%s", err);
        else
            plog(LOG_INFO, "profile settings from %s", o.profiles);
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
                                .stats = stats };
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
    if (o.port_file && write_port_file(o.port_file, port) != 0)
        plog(LOG_WARN, "cannot write port file %s", o.port_file);
    plog(LOG_INFO, "listening on %s (port %d, %u threads%s%s%s)", o.listen, port, o.threads,
         o.tls_cert ? ", TLS" : "",
         o.tls_require_client_cert ? ", client certificates required"
         : o.tls_client_ca ? ", client certificates verified when sent" : "",
         o.auth_file ? ", tokens required" : "");

    serve_until_stopped(&app, &sigs, o.poll_seconds);
    atomic_store(&app.draining, 1);
    transport_stop(t, o.drain_ms);
    app_destroy(&app);
    store_close(store);
    free(stats);
    plog(LOG_INFO, "stopped");
    return 0;
}
