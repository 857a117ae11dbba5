/*
 * loadgen_ingest.c - event ingestion throughput over gRPC.
 *
 *   loadgen_ingest --addr HOST:PORT [--streams S] [--events N] [--batch B]
 *                  [--customers C] [--items I] [--customer-fmt c%06d]
 *                  [--item-fmt i%05d] [--unary] [--prefix P] [--seconds T]
 *
 * S threads each send N/S events over Events/StreamEvents in messages of B
 * events (or, with --unary, one RecordEvents call per message) and check
 * the server's counts. The items must exist on the server (e.g. the shop
 * simulator's catalog imported with `patron import`). With --seconds, each
 * thread stops sending after T seconds (a stream then ends, but gRPC may
 * have queued many of its messages still to be stored: bound streams with
 * --events); the events sent are what is counted. Prints events/s
 * and exits nonzero if any event sent was not accepted.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "patron/v1/events.pb-c.h"
#include "monotime.h"

typedef struct config {
    const char *addr, *customer_fmt, *item_fmt, *prefix;
    unsigned streams, batch, customers, items;
    unsigned long events;
    int unary;
    double deadline;       /* monotime_seconds() to stop sending at, 0: none */
} config_t;

typedef struct worker {
    const config_t *cfg;
    unsigned index;
    unsigned long first, count, next; /* event numbers this worker sends */
    unsigned long accepted, other;
    int failed;
    pthread_t thread;
} worker_t;

/* Builds the message holding events [w->next, w->next + batch). One
 * encoder for both methods: StreamEventsRequest and StreamEventsResponse
 * have RecordEventsRequest's and RecordEventsResponse's fields and numbers
 * (proto/patron/v1/events.proto), so the bytes are the same. */
static int next_message(void *ctx, uint8_t **msg, size_t *len)
{
    worker_t *w = ctx;
    const config_t *c = w->cfg;
    unsigned long end = w->first + w->count, n;
    Patron__V1__RecordEventsRequest req = PATRON__V1__RECORD_EVENTS_REQUEST__INIT;
    Patron__V1__Event *ev, **evp;
    char (*ids)[3][64];

    if (w->next >= end || (c->deadline > 0 && monotime_seconds() >= c->deadline))
        return 0;
    n = end - w->next < c->batch ? end - w->next : c->batch;
    ev = calloc(n, sizeof *ev);
    evp = calloc(n, sizeof *evp);
    ids = calloc(n, sizeof *ids);
    if (!ev || !evp || !ids) {
        free(ev);
        free(evp);
        free(ids);
        return 0;
    }
    for (unsigned long i = 0; i < n; i++) {
        unsigned long e = w->next + i;
        patron__v1__event__init(&ev[i]);
        snprintf(ids[i][0], sizeof ids[i][0], "%s-%lu", c->prefix, e);
        snprintf(ids[i][1], sizeof ids[i][1], c->customer_fmt, (int)(e * 7919 % c->customers));
        snprintf(ids[i][2], sizeof ids[i][2], c->item_fmt, (int)(e * 104729 % c->items));
        ev[i].event_id = ids[i][0];
        ev[i].customer_id = ids[i][1];
        ev[i].item_id = ids[i][2];
        ev[i].type = e % 10 == 0 ? PATRON__V1__EVENT_TYPE__EVENT_TYPE_CART
                                 : PATRON__V1__EVENT_TYPE__EVENT_TYPE_VIEW;
        ev[i].time_unix_ms = 1700000000000LL + (long long)e;
        ev[i].quantity = 1;
        evp[i] = &ev[i];
    }
    req.n_events = n;
    req.events = evp;
    *len = protobuf_c_message_get_packed_size(&req.base);
    *msg = malloc(*len ? *len : 1);
    if (*msg)
        protobuf_c_message_pack(&req.base, *msg);
    free(ev);
    free(evp);
    free(ids);
    w->next += n;
    return *msg != NULL;
}

static void account(worker_t *w, client_result_t *res)
{
    Patron__V1__RecordEventsResponse *r;
    if (res->code != GRPC_STATUS_OK) {
        fprintf(stderr, "loadgen_ingest: status %d: %s\n", (int)res->code, res->details);
        w->failed = 1;
        return;
    }
    r = patron__v1__record_events_response__unpack(NULL, res->len, res->body);
    if (!r) {
        w->failed = 1;
        return;
    }
    w->accepted += r->accepted;
    w->other += r->duplicates + r->rejected;
    patron__v1__record_events_response__free_unpacked(r, NULL);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    client_t *cl;
    client_result_t res;

    if (client_open(w->cfg->addr, &cl) != 0) {
        w->failed = 1;
        return NULL;
    }
    w->next = w->first;
    if (!w->cfg->unary) {
        if (client_stream_unary(cl, "/patron.v1.Events/StreamEvents", next_message, w,
                                600000, &res) != 0)
            w->failed = 1;
        else
            account(w, &res);
        free(res.body);
    } else {
        uint8_t *msg;
        size_t len;
        while (!w->failed && next_message(w, &msg, &len)) {
            if (client_unary(cl, "/patron.v1.Events/RecordEvents", msg, len, 60000, &res) != 0)
                w->failed = 1;
            else
                account(w, &res);
            free(res.body);
            free(msg);
        }
    }
    client_close(cl);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "addr", 1, NULL, 'a' }, { "streams", 1, NULL, 's' }, { "events", 1, NULL, 'n' },
        { "batch", 1, NULL, 'b' }, { "customers", 1, NULL, 'c' }, { "items", 1, NULL, 'i' },
        { "customer-fmt", 1, NULL, 'C' }, { "item-fmt", 1, NULL, 'I' },
        { "unary", 0, NULL, 'u' }, { "prefix", 1, NULL, 'p' }, { "seconds", 1, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    config_t c = { .customer_fmt = "c%06d", .item_fmt = "i%05d", .prefix = "ingest",
                   .streams = 2, .batch = 1000, .customers = 2000, .items = 500,
                   .events = 200000 };
    unsigned long accepted = 0, other = 0, sent = 0;
    double seconds = 0;
    worker_t *w;
    double t0, secs;
    int o, failed = 0;
    char prefix[64];

    snprintf(prefix, sizeof prefix, "ingest%ld", (long)time(NULL));
    c.prefix = prefix; /* fresh ids each run, so every event is new */
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'a': c.addr = optarg; break;
        case 's': c.streams = (unsigned)atoi(optarg); break;
        case 'n': c.events = strtoul(optarg, NULL, 10); break;
        case 'b': c.batch = (unsigned)atoi(optarg); break;
        case 'c': c.customers = (unsigned)atoi(optarg); break;
        case 'i': c.items = (unsigned)atoi(optarg); break;
        case 'C': c.customer_fmt = optarg; break;
        case 'I': c.item_fmt = optarg; break;
        case 'u': c.unary = 1; break;
        case 'p': c.prefix = optarg; break;
        case 'S': seconds = atof(optarg); break;
        default: return 2;
        }
    }
    if (!c.addr || c.streams < 1 || c.streams > 256 || c.batch < 1 || c.batch > 100000 ||
        c.customers < 1 || c.items < 1 || c.events < 1) {
        fputs("usage: loadgen_ingest --addr HOST:PORT [--streams S] [--events N] "
              "[--batch B] [--customers C] [--items I] [--unary] [--seconds T]\n", stderr);
        return 2;
    }
    if (!(w = calloc(c.streams, sizeof *w)))
        return 1;
    t0 = monotime_seconds();
    c.deadline = seconds > 0 ? t0 + seconds : 0;
    for (unsigned i = 0; i < c.streams; i++) {
        unsigned long share = c.events / c.streams;
        w[i] = (worker_t){ .cfg = &c, .index = i, .first = i * share,
                           .count = i + 1 == c.streams ? c.events - i * share : share };
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    }
    for (unsigned i = 0; i < c.streams; i++) {
        pthread_join(w[i].thread, NULL);
        accepted += w[i].accepted;
        sent += w[i].next - w[i].first;
        other += w[i].other;
        failed |= w[i].failed;
    }
    secs = monotime_seconds() - t0;
    printf("%s: %lu events in %.2f s = %.0f events/s durable (%u %s, %u events per "
           "message); accepted %lu, not accepted %lu%s\n",
           c.unary ? "RecordEvents" : "StreamEvents", sent, secs,
           (double)accepted / secs, c.streams, c.unary ? "connections" : "streams",
           c.batch, accepted, other, failed ? ", FAILED" : "");
    free(w);
    return failed || accepted != sent ? 1 : 0;
}
