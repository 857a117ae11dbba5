/*
 * cli_batch.c - `patron recommend-batch`: an audience's recommendations (and,
 * optionally, each member's coupon decision) as rows for a campaign export.
 *
 *   patron recommend-batch --addr HOST:PORT (--expr EXPR | --users FILE) [-k N]
 *                          [--format csv|jsonl] [--workers N] [--limit N]
 *                          [--include-purchased] [--with-coupon --batch-id ID]
 *
 * The audience comes from SelectAudience (--expr, streamed) or a file of
 * customer ids (--users, one per line; blank lines and lines starting with
 * '#' skipped). Then --workers threads call Recommend (and TargetCoupons)
 * per customer over one channel (one client_t: its pluck queue takes up to
 * GRPC_MAX_COMPLETION_QUEUE_PLUCKERS concurrent calls). Each customer's rows
 * are formatted apart and written in one piece, so rows of two customers
 * never interleave; customers come out in completion order.
 *
 * Rows: customer_id, rank, item_id, score, reason, model_version,
 * request_id, and with --with-coupon coupon_id and coupon_outcome. A
 * TargetCoupons call grants: its request id is BATCH-ID:CUSTOMER (BATCH-ID:#
 * and the FNV-1a hash of the customer id in hex when that is longer than 64
 * bytes), so a rerun with the same --batch-id returns the same decisions and
 * grants nothing twice. Progress goes to stderr about once a second; a customer whose call
 * fails is reported on stderr (the first 10 by name) and the command exits
 * 1 after writing every other customer's rows.
 */
#include "cli.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "grow.h"
#include "hash.h"
#include "monotime.h"
#include "patron/v1/coupons.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "status_names.h"

#define BATCH_MAX_WORKERS GRPC_MAX_COMPLETION_QUEUE_PLUCKERS
#define BATCH_CALL_MS 30000
#define BATCH_AUDIENCE_MS 600000
#define BATCH_NAMED_FAILURES 10
#define BATCH_MAX_ID 256          /* longer lines in --users are refused */
#define BATCH_REQUEST_ID_CAP 65   /* TargetCoupons request ids: 64 bytes */

typedef struct batch_args {
    const char *addr, *expr, *users, *format, *batch_id;
    uint32_t k, workers;
    long long limit;
    int include_purchased, with_coupon, jsonl;
} batch_args_t;

/* The audience: customer ids, owned. */
typedef struct audience {
    char **ids;
    size_t n, cap;
} audience_t;

static void audience_free(audience_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ids[i]);
    free(a->ids);
    memset(a, 0, sizeof *a);
}

static int audience_add(audience_t *a, const char *id, size_t len)
{
    char *copy;
    if (GROW(a->ids, a->cap, a->n + 1) != 0 || !(copy = strndup(id, len)))
        return -ENOMEM;
    a->ids[a->n++] = copy;
    return 0;
}

/* ---- the audience from a file or from SelectAudience ------------------------------ */

static int read_users(const char *path, long long limit, audience_t *a)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[BATCH_MAX_ID + 2];
    size_t lineno = 0;
    int rc = 0;

    if (!f) {
        fprintf(stderr, "patron: --users: cannot open %s: %s\n", path, strerror(errno));
        return -errno;
    }
    while (rc == 0 && (limit == 0 || (long long)a->n < limit) && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        lineno++;
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "patron: --users: %s:%zu: a customer id longer than %d bytes\n",
                    path, lineno, BATCH_MAX_ID);
            rc = -EINVAL;
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
            line[--len] = '\0';
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s && *s != '#')
            rc = audience_add(a, s, strlen(s));
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "patron: --users: reading %s: %s\n", path, strerror(errno));
        rc = -EIO;
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

typedef struct select_ctx {
    audience_t *a;
    int rc;
} select_ctx_t;

static int collect_member(void *ctx, const uint8_t *msg, size_t len)
{
    select_ctx_t *s = ctx;
    Patron__V1__SelectAudienceResponse *m =
        patron__v1__select_audience_response__unpack(NULL, len, msg);
    if (!m) {
        s->rc = -EBADMSG;
        return 1;
    }
    if (m->customer_id[0] && (s->rc = audience_add(s->a, m->customer_id,
                                                   strlen(m->customer_id))) != 0) {
        patron__v1__select_audience_response__free_unpacked(m, NULL);
        return 1;
    }
    patron__v1__select_audience_response__free_unpacked(m, NULL);
    return 0;
}

static int select_audience(client_t *c, const batch_args_t *b, audience_t *a)
{
    Patron__V1__SelectAudienceRequest req = PATRON__V1__SELECT_AUDIENCE_REQUEST__INIT;
    select_ctx_t s = { a, 0 };
    client_result_t res;
    size_t len;
    uint8_t *buf;
    int rc;

    req.expression = (char *)b->expr;
    req.limit = (uint64_t)b->limit;
    len = protobuf_c_message_get_packed_size(&req.base);
    if (!(buf = malloc(len ? len : 1)))
        return -ENOMEM;
    protobuf_c_message_pack(&req.base, buf);
    rc = client_unary_stream(c, "/patron.v1.Profiles/SelectAudience", buf, len,
                             BATCH_AUDIENCE_MS, collect_member, &s, &res);
    free(buf);
    if (rc == 0 && s.rc == 0 && res.code == GRPC_STATUS_OK)
        return 0;
    if (s.rc)
        fprintf(stderr, "patron: SelectAudience: %s\n",
                s.rc == -EBADMSG ? "an answer that does not decode" : strerror(-s.rc));
    else
        fprintf(stderr, "patron: SelectAudience failed: %s: %s\n",
                rc ? "not started" : status_name((int)res.code), rc ? "" : res.details);
    return s.rc ? s.rc : -EIO;
}

/* ---- the calls and the rows ------------------------------------------------------- */

typedef struct batch {
    const batch_args_t *args;
    client_t *client;
    const audience_t *aud;
    pthread_mutex_t lock;       /* next, the counters, stdout, stderr */
    size_t next, done, failed, rows;
    double start_s, last_progress_s;
    int write_failed;
} batch_t;

/* Calls method with msg; the decoded answer, or NULL with *code / why set. */
static ProtobufCMessage *call(client_t *c, const char *method, const ProtobufCMessage *msg,
                              const ProtobufCMessageDescriptor *desc, int *code, char *why,
                              size_t cap)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    client_result_t res;
    ProtobufCMessage *out = NULL;

    *code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    snprintf(why, cap, "out of memory");
    if (!buf)
        return NULL;
    protobuf_c_message_pack(msg, buf);
    if (client_unary(c, method, buf, len, BATCH_CALL_MS, &res) != 0) {
        *code = GRPC_STATUS_UNAVAILABLE;
        snprintf(why, cap, "the call could not be started");
    } else if (res.code != GRPC_STATUS_OK) {
        *code = (int)res.code;
        snprintf(why, cap, "%s", res.details);
    } else if (!(out = protobuf_c_message_unpack(desc, NULL, res.len, res.body))) {
        *code = GRPC_STATUS_INTERNAL;
        snprintf(why, cap, "an answer that does not decode");
    }
    free(res.body);
    free(buf);
    return out;
}

static const char *outcome_name(int v)
{
    const ProtobufCEnumValue *e =
        protobuf_c_enum_descriptor_get_value(&patron__v1__coupon_outcome__descriptor, v);
    return e ? e->name : "";
}

/* One row in the chosen format into f. */
static void write_row(FILE *f, const batch_args_t *b, const char *cust, size_t rank,
                      const Patron__V1__ScoredItem *it, const Patron__V1__RecommendResponse *r,
                      const Patron__V1__CouponDecision *d)
{
    unsigned long long version = r->provenance ? r->provenance->model_version : 0;
    const char *req_id = r->provenance ? r->provenance->request_id : "";
    if (b->jsonl) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "customer_id", json_object_new_string(cust));
        json_object_object_add(o, "rank", json_object_new_int64((int64_t)rank));
        json_object_object_add(o, "item_id", json_object_new_string(it->item_id));
        char score[32];
        snprintf(score, sizeof score, "%.6g", it->score);
        json_object_object_add(o, "score", json_object_new_double_s(it->score, score));
        json_object_object_add(o, "reason", json_object_new_string(cli_reason_name(it->reason)));
        json_object_object_add(o, "model_version", json_object_new_int64((int64_t)version));
        json_object_object_add(o, "request_id", json_object_new_string(req_id));
        if (b->with_coupon) {
            json_object_object_add(o, "coupon_id",
                                   json_object_new_string(d && d->coupon_id ? d->coupon_id : ""));
            json_object_object_add(o, "coupon_outcome",
                                   json_object_new_string(d ? outcome_name(d->outcome) : ""));
        }
        fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return;
    }
    csv_write_field(f, cust);
    fprintf(f, ",%zu,", rank);
    csv_write_field(f, it->item_id);
    fprintf(f, ",%.6g,%s,%llu,%s", (double)it->score, cli_reason_name(it->reason), version, req_id);
    if (b->with_coupon) {
        fputc(',', f);
        csv_write_field(f, d && d->coupon_id ? d->coupon_id : "");
        fprintf(f, ",%s", d ? outcome_name(d->outcome) : "");
    }
    fputc('\n', f);
}

/* Recommend (and TargetCoupons) for one customer; its rows into *text.
 * Returns the number of rows, or -1 with *code / why set. */
static long one_customer(batch_t *bt, const char *cust, char **text, size_t *text_len,
                         int *code, char *why, size_t cap)
{
    const batch_args_t *b = bt->args;
    Patron__V1__RecommendRequest req = PATRON__V1__RECOMMEND_REQUEST__INIT;
    Patron__V1__RecommendResponse *r;
    Patron__V1__TargetCouponsResponse *t = NULL;
    char request_id[BATCH_REQUEST_ID_CAP];
    FILE *f;

    req.customer_id = (char *)cust;
    req.k = b->k;
    req.include_purchased = b->include_purchased;
    r = (Patron__V1__RecommendResponse *)call(bt->client, "/patron.v1.Recommender/Recommend",
                                              &req.base, &patron__v1__recommend_response__descriptor,
                                              code, why, cap);
    if (!r)
        return -1;
    if (b->with_coupon) {
        Patron__V1__TargetCouponsRequest tr = PATRON__V1__TARGET_COUPONS_REQUEST__INIT;
        int n = snprintf(request_id, sizeof request_id, "%s:%s", b->batch_id, cust);
        if (n < 0 || (size_t)n >= sizeof request_id)
            snprintf(request_id, sizeof request_id, "%.16s:#%016llx", b->batch_id,
                     (unsigned long long)fnv1a64_str(cust));
        tr.customer_id = (char *)cust;
        tr.request_id = request_id;
        t = (Patron__V1__TargetCouponsResponse *)call(
            bt->client, "/patron.v1.Coupons/TargetCoupons", &tr.base,
            &patron__v1__target_coupons_response__descriptor, code, why, cap);
        if (!t) {
            protobuf_c_message_free_unpacked(&r->base, NULL);
            return -1;
        }
    }
    if (!(f = open_memstream(text, text_len))) {
        *code = GRPC_STATUS_RESOURCE_EXHAUSTED;
        snprintf(why, cap, "out of memory");
        protobuf_c_message_free_unpacked(&r->base, NULL);
        if (t)
            protobuf_c_message_free_unpacked(&t->base, NULL);
        return -1;
    }
    for (size_t i = 0; i < r->n_items; i++)
        write_row(f, b, cust, i + 1, r->items[i], r, t ? t->decision : NULL);
    fclose(f);
    long n = (long)r->n_items;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (t)
        protobuf_c_message_free_unpacked(&t->base, NULL);
    return n;
}

/* Under bt->lock: the progress line, at most once a second. */
static void progress(batch_t *bt, int final)
{
    double now = monotime_seconds();
    if (!final && now - bt->last_progress_s < 1.0)
        return;
    bt->last_progress_s = now;
    double s = now - bt->start_s;
    fprintf(stderr, "recommend-batch: %zu of %zu customers, %zu rows, %zu failed, %.1f s "
                    "(%.0f customers/s)\n", bt->done, bt->aud->n, bt->rows, bt->failed, s,
            s > 0 ? (double)bt->done / s : 0.0);
}

static void *worker(void *arg)
{
    batch_t *bt = arg;
    char why[512];
    for (;;) {
        size_t i;
        pthread_mutex_lock(&bt->lock);
        i = bt->next < bt->aud->n && !bt->write_failed ? bt->next++ : SIZE_MAX;
        pthread_mutex_unlock(&bt->lock);
        if (i == SIZE_MAX)
            return NULL;
        const char *cust = bt->aud->ids[i];
        char *text = NULL;
        size_t len = 0;
        int code = 0;
        long rows = one_customer(bt, cust, &text, &len, &code, why, sizeof why);
        pthread_mutex_lock(&bt->lock);
        if (rows < 0) {
            if (bt->failed++ < BATCH_NAMED_FAILURES)
                fprintf(stderr, "patron: recommend-batch: customer \"%s\": %s: %s\n", cust,
                        status_name(code), why);
        } else if (len && fwrite(text, 1, len, stdout) != len) {
            bt->write_failed = 1;
        } else {
            bt->rows += (size_t)rows;
        }
        bt->done++;
        progress(bt, 0);
        pthread_mutex_unlock(&bt->lock);
        free(text);
    }
}

static int run_batch(const batch_args_t *b)
{
    batch_t bt = { .args = b };
    audience_t aud = { 0 };
    pthread_t th[BATCH_MAX_WORKERS];
    uint32_t started = 0;
    int rc;

    if (client_open(b->addr, &bt.client) != 0)
        return CLI_FAIL;
    rc = b->users ? read_users(b->users, b->limit, &aud) : select_audience(bt.client, b, &aud);
    if (rc) {
        client_close(bt.client);
        audience_free(&aud);
        return CLI_FAIL;
    }
    fprintf(stderr, "recommend-batch: %zu customers, k %u, %u workers\n", aud.n, b->k,
            b->workers);
    if (!b->jsonl)
        printf("customer_id,rank,item_id,score,reason,model_version,request_id%s\n",
               b->with_coupon ? ",coupon_id,coupon_outcome" : "");
    bt.aud = &aud;
    bt.start_s = bt.last_progress_s = monotime_seconds();
    pthread_mutex_init(&bt.lock, NULL);
    for (; started < b->workers; started++)
        if (pthread_create(&th[started], NULL, worker, &bt) != 0)
            break;
    if (started == 0)
        worker(&bt);   /* no thread could start: do the work here */
    for (uint32_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&bt.lock);
    if (fflush(stdout) != 0)
        bt.write_failed = 1;
    progress(&bt, 1);
    if (bt.write_failed)
        fprintf(stderr, "patron: recommend-batch: writing the rows: %s\n", strerror(errno));
    client_close(bt.client);
    audience_free(&aud);
    return bt.failed || bt.write_failed ? CLI_FAIL : CLI_OK;
}

int cli_recommend_batch(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "recommend-batch",
        "--addr HOST:PORT (--expr EXPR | --users FILE) [-k N]\n"
        "                              [--format csv|jsonl] [--workers N] [--limit N]\n"
        "                              [--include-purchased] [--with-coupon --batch-id ID]",
        "Recommendations for an audience (an audience expression, or a file of customer\n"
        "ids, - for stdin) as rows on stdout: customer_id, rank, item_id, score, reason,\n"
        "model_version, request_id (with --with-coupon also coupon_id, coupon_outcome:\n"
        "TargetCoupons with request id BATCH-ID:CUSTOMER, so a rerun grants nothing\n"
        "twice). One channel, N calls in flight; progress on stderr; exit 1 if any\n"
        "customer failed (named on stderr), after writing the others."
    };
    batch_args_t b = { .k = 10, .workers = 4, .format = "csv" };
    cli_opt_t opts[] = {
        CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &b.addr),
        CLI_STR("expr", "EXPR", "audience expression (SelectAudience; \"\" is everyone)", 0,
                &b.expr),
        CLI_STR("users", "FILE", "customer ids, one per line (- for stdin)", 0, &b.users),
        { "k", 'k', CLI_KIND_U32, &b.k, 1, 1000, "N", "items per customer (default 10)", 0,
          NULL, 0 },
        CLI_STR("format", "F", "csv (default) or jsonl", 0, &b.format),
        CLI_U32("workers", "N", "calls in flight (default 4)", 1, BATCH_MAX_WORKERS,
                &b.workers),
        CLI_I64("limit", "N", "at most N customers (0: all)", 0, 1e15, &b.limit),
        CLI_FLAG("include-purchased", "also items the customer bought", &b.include_purchased),
        CLI_FLAG("with-coupon", "also each customer's coupon decision (grants!)",
                 &b.with_coupon),
        CLI_STR("batch-id", "ID", "names this run for --with-coupon's idempotent grants", 0,
                &b.batch_id),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    if (rc != CLI_PARSED)
        return rc;
    if (!b.expr == !b.users) {
        fprintf(stderr, "patron recommend-batch: give exactly one of --expr and --users\n");
        return CLI_USAGE;
    }
    if (strcmp(b.format, "csv") != 0 && strcmp(b.format, "jsonl") != 0) {
        fprintf(stderr, "patron recommend-batch: --format: expected csv or jsonl, got \"%s\"\n",
                b.format);
        return CLI_USAGE;
    }
    b.jsonl = strcmp(b.format, "jsonl") == 0;
    if (b.with_coupon != (b.batch_id != NULL)) {
        fprintf(stderr, "patron recommend-batch: --with-coupon and --batch-id go together "
                        "(the batch id makes a rerun's grants idempotent)\n");
        return CLI_USAGE;
    }
    if (b.batch_id && (!b.batch_id[0] || strlen(b.batch_id) > 16 || strchr(b.batch_id, ':'))) {
        fprintf(stderr, "patron recommend-batch: --batch-id: 1 to 16 characters, no ':'\n");
        return CLI_USAGE;
    }
    return run_batch(&b);
}
