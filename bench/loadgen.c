/*
 * loadgen.c - a closed-loop gRPC load generator for patrond.
 *
 *   loadgen --addr HOST:PORT [--concurrency C] [--duration S | --requests N]
 *           [--mix recommend=8,similar=1,rank=1,target=0] [--customers N] [--items N]
 *           [--customer-fmt c%06d] [--item-fmt i%05d] [--zipf S] [-k K]
 *           [--deadline-ms MS] [--seed N]
 *
 * C threads each keep one call in flight on their own connection. Customers
 * and items are drawn with Zipf skew (a few very active customers, a long
 * tail), ids built from a printf format so they match the shop simulator's.
 * "target" calls Coupons/TargetCoupons (each one a decision, an offer log
 * write and possibly a grant). Prints QPS, latency percentiles and errors by status code. Talks to the
 * address it is given only; stops by itself after the duration or count.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "grow.h"
#include "patron/v1/coupons.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "monotime.h"
#include "rng.h"

enum { RPC_RECOMMEND, RPC_SIMILAR, RPC_RANK, RPC_TARGET, RPC_KINDS };
static const char *const rpc_names[RPC_KINDS] = { "recommend", "similar", "rank",
                                                   "target" };
static const char *const rpc_paths[RPC_KINDS] = {
    "/patron.v1.Recommender/Recommend",
    "/patron.v1.Recommender/SimilarItems",
    "/patron.v1.Recommender/RankItems",
    "/patron.v1.Coupons/TargetCoupons",
};

typedef struct config {
    const char *addr, *customer_fmt, *item_fmt;
    unsigned concurrency, k, customers, items, mix[RPC_KINDS];
    double duration, zipf;
    long requests;
    int deadline_ms;
    uint64_t seed;
} config_t;

typedef struct zipf {
    double *cdf;
    unsigned n;
} zipf_t;

typedef struct worker {
    const config_t *cfg;
    const zipf_t *cust, *item;
    pthread_t thread;
    uint64_t rng;
    double *lat_us;       /* per-call latency, microseconds */
    size_t n_lat, cap_lat;
    unsigned long errors[17];
    long budget;          /* calls this worker makes (requests mode), or -1 */
    double stop_at;
} worker_t;



static int zipf_init(zipf_t *z, unsigned n, double s)
{
    double sum = 0;
    z->n = n;
    z->cdf = malloc(n * sizeof *z->cdf);
    if (!z->cdf)
        return -1;
    for (unsigned i = 0; i < n; i++)
        z->cdf[i] = (sum += 1.0 / pow(i + 1.0, s));
    for (unsigned i = 0; i < n; i++)
        z->cdf[i] /= sum;
    return 0;
}

static unsigned zipf_draw(const zipf_t *z, uint64_t *rng)
{
    double u = splitmix64_unit(rng);
    unsigned lo = 0, hi = z->n - 1;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int pick_kind(const config_t *c, uint64_t *rng)
{
    unsigned total = 0, r;
    for (int i = 0; i < RPC_KINDS; i++)
        total += c->mix[i];
    r = (unsigned)(splitmix64(rng) % total);
    for (int i = 0; i < RPC_KINDS; i++) {
        if (r < c->mix[i])
            return i;
        r -= c->mix[i];
    }
    return RPC_RECOMMEND;
}

/* Serializes one request of `kind` into a malloc'd buffer. */
static uint8_t *build_request(worker_t *w, int kind, size_t *len)
{
    const config_t *c = w->cfg;
    char cust[64], items[20][64], *item_ptrs[20];
    ProtobufCMessage *msg;
    Patron__V1__RecommendRequest rr = PATRON__V1__RECOMMEND_REQUEST__INIT;
    Patron__V1__SimilarItemsRequest sr = PATRON__V1__SIMILAR_ITEMS_REQUEST__INIT;
    Patron__V1__RankItemsRequest kr = PATRON__V1__RANK_ITEMS_REQUEST__INIT;
    Patron__V1__TargetCouponsRequest tr = PATRON__V1__TARGET_COUPONS_REQUEST__INIT;
    uint8_t *buf;

    snprintf(cust, sizeof cust, c->customer_fmt, zipf_draw(w->cust, &w->rng));
    for (int i = 0; i < 20; i++) {
        snprintf(items[i], sizeof items[i], c->item_fmt, zipf_draw(w->item, &w->rng));
        item_ptrs[i] = items[i];
    }
    if (kind == RPC_RECOMMEND) {
        rr.customer_id = cust;
        rr.k = c->k;
        msg = &rr.base;
    } else if (kind == RPC_SIMILAR) {
        sr.item_id = items[0];
        sr.k = c->k;
        msg = &sr.base;
    } else if (kind == RPC_TARGET) {
        tr.customer_id = cust;
        msg = &tr.base;
    } else {
        kr.customer_id = cust;
        kr.n_item_ids = 20;
        kr.item_ids = item_ptrs;
        msg = &kr.base;
    }
    *len = protobuf_c_message_get_packed_size(msg);
    buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(msg, buf);
    return buf;
}

static int record(worker_t *w, double us)
{
    if (GROW(w->lat_us, w->cap_lat, w->n_lat + 1) != 0)
        return -1;
    w->lat_us[w->n_lat++] = us;
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    client_t *cl;

    if (client_open(w->cfg->addr, &cl) != 0)
        return NULL;
    while (w->budget != 0 && monotime_seconds() < w->stop_at) {
        int kind = pick_kind(w->cfg, &w->rng);
        size_t len;
        uint8_t *req = build_request(w, kind, &len);
        client_result_t res;
        double t0;

        if (!req)
            break;
        t0 = monotime_seconds();
        if (client_unary(cl, rpc_paths[kind], req, len, w->cfg->deadline_ms, &res) != 0)
            res.code = GRPC_STATUS_UNKNOWN;
        if (record(w, (monotime_seconds() - t0) * 1e6) != 0)
            break;
        if (res.code != GRPC_STATUS_OK)
            w->errors[res.code < 17 ? res.code : GRPC_STATUS_UNKNOWN]++;
        free(res.body);
        free(req);
        if (w->budget > 0)
            w->budget--;
    }
    client_close(cl);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double p)
{
    size_t i;
    if (!n)
        return 0;
    i = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[i ? i - 1 : 0];
}

static int parse_mix(const char *s, unsigned mix[RPC_KINDS])
{
    char buf[256], *save = NULL, *tok;
    memset(mix, 0, RPC_KINDS * sizeof *mix);
    snprintf(buf, sizeof buf, "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        int found = 0;
        if (!eq)
            return -1;
        *eq = '\0';
        for (int i = 0; i < RPC_KINDS; i++)
            if (strcmp(tok, rpc_names[i]) == 0) {
                mix[i] = (unsigned)strtoul(eq + 1, NULL, 10);
                found = 1;
            }
        if (!found)
            return -1;
    }
    return mix[0] + mix[1] + mix[2] + mix[3] ? 0 : -1;
}

static void usage(void)
{
    fputs("usage: loadgen --addr HOST:PORT [--concurrency C] [--duration S | --requests N]\n"
          "               [--mix recommend=8,similar=1,rank=1,target=0] [--customers N] [--items N]\n"
          "               [--customer-fmt c%06d] [--item-fmt i%05d] [--zipf S] [-k K]\n"
          "               [--deadline-ms MS] [--seed N]\n", stderr);
}

static int parse(int argc, char **argv, config_t *c)
{
    static const struct option opts[] = {
        { "addr", 1, NULL, 'a' }, { "concurrency", 1, NULL, 'c' },
        { "duration", 1, NULL, 'd' }, { "requests", 1, NULL, 'n' },
        { "mix", 1, NULL, 'm' }, { "customers", 1, NULL, 'u' },
        { "items", 1, NULL, 'i' }, { "customer-fmt", 1, NULL, 'U' },
        { "item-fmt", 1, NULL, 'I' }, { "zipf", 1, NULL, 'z' },
        { "deadline-ms", 1, NULL, 'D' }, { "seed", 1, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    int o;
    *c = (config_t){ .customer_fmt = "c%06d", .item_fmt = "i%05d", .concurrency = 4,
                     .k = 20, .customers = 2000, .items = 500, .duration = 5,
                     .zipf = 1.05, .requests = -1, .deadline_ms = 1000, .seed = 1,
                     .mix = { 8, 1, 1 } };
    while ((o = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
        switch (o) {
        case 'a': c->addr = optarg; break;
        case 'c': c->concurrency = (unsigned)atoi(optarg); break;
        case 'd': c->duration = atof(optarg); break;
        case 'n': c->requests = atol(optarg); break;
        case 'm': if (parse_mix(optarg, c->mix)) return -1; break;
        case 'u': c->customers = (unsigned)atoi(optarg); break;
        case 'i': c->items = (unsigned)atoi(optarg); break;
        case 'U': c->customer_fmt = optarg; break;
        case 'I': c->item_fmt = optarg; break;
        case 'z': c->zipf = atof(optarg); break;
        case 'D': c->deadline_ms = atoi(optarg); break;
        case 's': c->seed = strtoull(optarg, NULL, 10); break;
        case 'k': c->k = (unsigned)atoi(optarg); break;
        default: return -1;
        }
    }
    if (!c->addr || c->concurrency < 1 || c->concurrency > 1024 || c->customers < 1 ||
        c->items < 1 || c->duration <= 0 || c->duration > 3600 || c->deadline_ms < 1)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    config_t c;
    zipf_t cust, item;
    worker_t *w;
    double t0, secs, *all;
    size_t total = 0, at = 0;
    unsigned long errors[17] = { 0 }, n_err = 0;

    if (parse(argc, argv, &c) != 0) {
        usage();
        return 2;
    }
    if (zipf_init(&cust, c.customers, c.zipf) || zipf_init(&item, c.items, c.zipf) ||
        !(w = calloc(c.concurrency, sizeof *w))) {
        fputs("loadgen: out of memory\n", stderr);
        return 1;
    }
    t0 = monotime_seconds();
    for (unsigned i = 0; i < c.concurrency; i++) {
        w[i] = (worker_t){ .cfg = &c, .cust = &cust, .item = &item,
                           .rng = c.seed * 1000003ULL + i,
                           .stop_at = t0 + c.duration,
                           .budget = c.requests < 0 ? -1
                                   : c.requests / c.concurrency + (i < c.requests % c.concurrency) };
        if (c.requests >= 0)
            w[i].stop_at = t0 + 3600; /* count mode: bounded by the count */
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    }
    for (unsigned i = 0; i < c.concurrency; i++)
        pthread_join(w[i].thread, NULL);
    secs = monotime_seconds() - t0;
    for (unsigned i = 0; i < c.concurrency; i++)
        total += w[i].n_lat;
    all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return 1;
    for (unsigned i = 0; i < c.concurrency; i++) {
        memcpy(all + at, w[i].lat_us, w[i].n_lat * sizeof *all);
        at += w[i].n_lat;
        for (int e = 0; e < 17; e++) {
            errors[e] += w[i].errors[e];
            n_err += w[i].errors[e];
        }
        free(w[i].lat_us);
    }
    qsort(all, total, sizeof *all, cmp_double);
    printf("calls %zu in %.2f s: %.0f QPS, concurrency %u, mix recommend=%u similar=%u "
           "rank=%u target=%u, k %u\n", total, secs, (double)total / secs, c.concurrency,
           c.mix[0], c.mix[1], c.mix[2], c.mix[3], c.k);
    printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
           percentile(all, total, 50), percentile(all, total, 90),
           percentile(all, total, 99), percentile(all, total, 99.9),
           total ? all[total - 1] : 0.0);
    printf("errors %lu", n_err);
    for (int e = 0; e < 17; e++)
        if (errors[e])
            printf("  status %d: %lu", e, errors[e]);
    printf("\n");
    free(all);
    free(w);
    free(cust.cdf);
    free(item.cdf);
    return n_err ? 1 : 0;
}
