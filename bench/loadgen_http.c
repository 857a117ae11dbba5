/*
 * loadgen_http.c - HTTP/JSON overhead against gRPC, in one run, on one
 * patrond: the same requests (the same customers in the same order) sent
 * first over gRPC, then as POST /v1/{Service}/{Method} on the admin
 * listener, each for the same duration with the same number of closed-loop
 * connections.
 *
 *   loadgen_http --addr HOST:PORT --http HOST:PORT [--method recommend|profile]
 *                [--concurrency C] [--duration S] [--customers N]
 *                [--customer-fmt c%06d] [-k K] [--seed N]
 *
 * Prints, per protocol, calls, errors (any status but OK: the same
 * customers get the same answers either way), req/s, p50 and p99, then the
 * HTTP/gRPC ratios; exits 1 when a protocol had no successful call. The HTTP client is a plain keep-alive HTTP/1.1 socket
 * (no library in the way); the gRPC one is the patron CLI's (client.h).
 * Request bytes are written by hand (field 1 customer_id, field 2 k), so
 * the program does not depend on generated message names. Loopback only;
 * stops by itself after the duration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "grow.h"
#include "monotime.h"
#include "rng.h"

typedef struct config {
    const char *addr, *http, *method, *customer_fmt;
    unsigned concurrency, customers, k;
    double duration;
    uint64_t seed;
} config_t;

typedef struct worker {
    const config_t *cfg;
    int http;                 /* 1: HTTP/JSON, 0: gRPC */
    pthread_t thread;
    uint64_t rng;
    double *lat_us;
    size_t n_lat, cap_lat;
    unsigned long errors;
    double stop_at;
} worker_t;

static const char *grpc_path(const config_t *c)
{
    return strcmp(c->method, "profile") == 0 ? "/patron.v1.Profiles/GetProfile"
                                              : "/patron.v1.Recommender/Recommend";
}

static void customer(worker_t *w, char *out, size_t cap)
{
    snprintf(out, cap, w->cfg->customer_fmt,
             (unsigned)(splitmix64(&w->rng) % w->cfg->customers));
}

/* GetProfileRequest / RecommendRequest: 1 = customer_id, 2 = k (recommend). */
static size_t grpc_request(worker_t *w, uint8_t *buf, size_t cap)
{
    char cust[64];
    size_t n = 0, len;

    customer(w, cust, sizeof cust);
    len = strlen(cust);
    if (len + 8 > cap || len > 127)
        return 0;
    buf[n++] = 0x0a;
    buf[n++] = (uint8_t)len;
    memcpy(buf + n, cust, len);
    n += len;
    if (strcmp(w->cfg->method, "recommend") == 0) {
        unsigned k = w->cfg->k;
        buf[n++] = 0x10;
        while (k >= 0x80) {
            buf[n++] = (uint8_t)(k | 0x80);
            k >>= 7;
        }
        buf[n++] = (uint8_t)k;
    }
    return n;
}

static size_t http_request(worker_t *w, char *buf, size_t cap)
{
    char cust[64], body[160];
    int blen;

    customer(w, cust, sizeof cust);
    if (strcmp(w->cfg->method, "recommend") == 0)
        blen = snprintf(body, sizeof body, "{\"customerId\":\"%s\",\"k\":%u}", cust, w->cfg->k);
    else
        blen = snprintf(body, sizeof body, "{\"customerId\":\"%s\"}", cust);
    return (size_t)snprintf(buf, cap,
                            "POST /v1%s HTTP/1.1\r\nHost: %s\r\n"
                            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                            grpc_path(w->cfg), w->cfg->http, blen, body);
}

static int http_connect(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    int fd, one = 1;

    if (!colon || (size_t)(colon - hostport) >= sizeof host)
        return -1;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Sends one request and reads the whole response on a keep-alive
 * connection. Returns the HTTP status, or -1 (the connection is lost). */
static int http_call(int fd, const char *req, size_t len, char *buf, size_t cap)
{
    size_t have = 0, head, body;
    char *end, *cl;

    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, req + off, len - off);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")))
            break;
        if (have == cap - 1)
            return -1;
    }
    head = (size_t)(end - buf) + 4;
    if (!(cl = strcasestr(buf, "\r\nContent-Length:")) || cl > end)
        return -1;
    body = strtoul(cl + 17, NULL, 10);
    if (head + body > cap - 1)
        return -1;
    while (have < head + body) {
        ssize_t n = read(fd, buf + have, head + body - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return atoi(buf + 9); /* "HTTP/1.1 200" */
}

static int record(worker_t *w, double us)
{
    if (GROW(w->lat_us, w->cap_lat, w->n_lat + 1) != 0)
        return -1;
    w->lat_us[w->n_lat++] = us;
    return 0;
}

static void run_http(worker_t *w)
{
    static const size_t cap = 1 << 20;
    char req[512], *buf = malloc(cap);
    int fd = http_connect(w->cfg->http);

    while (buf && fd >= 0 && monotime_seconds() < w->stop_at) {
        size_t len = http_request(w, req, sizeof req);
        double t0 = monotime_seconds();
        int st = http_call(fd, req, len, buf, cap);
        if (record(w, (monotime_seconds() - t0) * 1e6) != 0)
            break;
        if (st != 200)
            w->errors++;
        if (st < 0) {
            close(fd);
            fd = http_connect(w->cfg->http);
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
}

static void run_grpc(worker_t *w)
{
    client_t *cl;
    uint8_t req[256];

    if (client_open(w->cfg->addr, &cl) != 0)
        return;
    while (monotime_seconds() < w->stop_at) {
        size_t len = grpc_request(w, req, sizeof req);
        client_result_t res;
        double t0 = monotime_seconds();
        if (client_unary(cl, grpc_path(w->cfg), req, len, 10000, &res) != 0)
            res.code = GRPC_STATUS_UNKNOWN;
        if (record(w, (monotime_seconds() - t0) * 1e6) != 0)
            break;
        if (res.code != GRPC_STATUS_OK)
            w->errors++;
        free(res.body);
    }
    client_close(cl);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    if (w->http)
        run_http(w);
    else
        run_grpc(w);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct figures {
    double rps, p50_us, p99_us;
    size_t calls;
    unsigned long errors;
} figures_t;

/* One protocol's run: C workers for the duration, then the figures. */
static int run(const config_t *c, int http, figures_t *f)
{
    worker_t *w = calloc(c->concurrency, sizeof *w);
    double *all = NULL, t0;
    size_t n = 0, cap = 0;

    if (!w)
        return -1;
    t0 = monotime_seconds();
    for (unsigned i = 0; i < c->concurrency; i++) {
        w[i] = (worker_t){ .cfg = c, .http = http, .rng = c->seed + i,
                           .stop_at = t0 + c->duration };
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
            return -1;
    }
    memset(f, 0, sizeof *f);
    for (unsigned i = 0; i < c->concurrency; i++) {
        pthread_join(w[i].thread, NULL);
        if (GROW(all, cap, n + w[i].n_lat) == 0) {
            memcpy(all + n, w[i].lat_us, w[i].n_lat * sizeof *all);
            n += w[i].n_lat;
        }
        f->errors += w[i].errors;
        free(w[i].lat_us);
    }
    f->calls = n;
    f->rps = (double)n / (monotime_seconds() - t0);
    if (n) {
        qsort(all, n, sizeof *all, cmp_double);
        f->p50_us = all[n / 2];
        f->p99_us = all[(size_t)((double)(n - 1) * 0.99)];
    }
    free(all);
    free(w);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen_http --addr HOST:PORT --http HOST:PORT "
            "[--method recommend|profile] [--concurrency C] [--duration S] "
            "[--customers N] [--customer-fmt FMT] [-k K] [--seed N]\n");
}

static int parse(int argc, char **argv, config_t *c)
{
    static const struct option opts[] = {
        { "addr", required_argument, 0, 'a' },     { "http", required_argument, 0, 'h' },
        { "method", required_argument, 0, 'm' },   { "concurrency", required_argument, 0, 'c' },
        { "duration", required_argument, 0, 'd' }, { "customers", required_argument, 0, 'n' },
        { "customer-fmt", required_argument, 0, 'f' }, { "seed", required_argument, 0, 's' },
        { 0, 0, 0, 0 },
    };
    int o;

    *c = (config_t){ .method = "recommend", .customer_fmt = "c%06d", .concurrency = 1,
                     .customers = 1000, .k = 20, .duration = 5, .seed = 1 };
    while ((o = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
        switch (o) {
        case 'a': c->addr = optarg; break;
        case 'h': c->http = optarg; break;
        case 'm': c->method = optarg; break;
        case 'c': c->concurrency = (unsigned)atoi(optarg); break;
        case 'd': c->duration = atof(optarg); break;
        case 'n': c->customers = (unsigned)atoi(optarg); break;
        case 'f': c->customer_fmt = optarg; break;
        case 's': c->seed = strtoull(optarg, NULL, 10); break;
        case 'k': c->k = (unsigned)atoi(optarg); break;
        default: return -1;
        }
    }
    if (!c->addr || !c->http || !c->concurrency || !c->customers || c->duration <= 0 ||
        (strcmp(c->method, "recommend") != 0 && strcmp(c->method, "profile") != 0))
        return -1;
    return 0;
}

static void print(const char *name, const figures_t *f)
{
    printf("%-10s %9zu calls %6lu errors %10.0f req/s   p50 %8.1f us   p99 %8.1f us\n",
           name, f->calls, f->errors, f->rps, f->p50_us, f->p99_us);
}

int main(int argc, char **argv)
{
    config_t c;
    figures_t g, h;

    if (parse(argc, argv, &c) != 0) {
        usage();
        return 2;
    }
    printf("%s, %u connection(s), %.0f s each, %u customers\n", grpc_path(&c), c.concurrency,
           c.duration, c.customers);
    if (run(&c, 0, &g) != 0 || run(&c, 1, &h) != 0) {
        fprintf(stderr, "loadgen_http: cannot start workers\n");
        return 1;
    }
    print("gRPC", &g);
    print("HTTP/JSON", &h);
    if (g.rps > 0 && g.p50_us > 0 && g.p99_us > 0)
        printf("HTTP/JSON vs gRPC: %.2fx req/s, %.2fx p50, %.2fx p99\n", h.rps / g.rps,
               h.p50_us / g.p50_us, h.p99_us / g.p99_us);
    /* errors are application answers too (GetProfile of a customer without
     * events is NOT_FOUND): counted, and fatal only when nothing succeeded */
    return g.errors == g.calls || h.errors == h.calls ? 1 : 0;
}
