/*
 * cli_serve.c - the commands that ask a running patrond (over gRPC).
 *
 *   patron recommend --addr HOST:PORT --user ID [-k N] [--include-purchased]
 *                    [--diversity X] [--max-per-category N]
 *   patron recommend-batch ...  (cli_batch.c)
 *   patron health --addr HOST:PORT [--service NAME]
 *   patron model-info --addr HOST:PORT
 *   patron stats --addr HOST:PORT   (calls, errors, latency per method)
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "bytesize.h"
#include "grpc/health/v1/health.pb-c.h"
#include "patron/v1/admin.pb-c.h"
#include "patron/v1/recommender.pb-c.h"

typedef struct serve_args {
    const char *addr, *user, *service;
    uint32_t k, max_per_category;
    int include_purchased;
    float diversity;
} serve_args_t;

#define ADDR_OPT(a) CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &(a)->addr)

/* ---- recommend ----------------------------------------------------------------- */

const char *cli_reason_name(int r)
{
    switch ((Patron__V1__Reason)r) {
    case PATRON__V1__REASON__REASON_PERSONALIZED: return "personalized";
    case PATRON__V1__REASON__REASON_POPULAR: return "popular";
    case PATRON__V1__REASON__REASON_SIMILAR_ITEM: return "similar-item";
    case PATRON__V1__REASON__REASON_FOLD_IN: return "fold-in";
    case PATRON__V1__REASON__REASON_COMPLEMENT: return "complement";
    default: return "unspecified";
    }
}

static int recommend(const serve_args_t *a)
{
    Patron__V1__RecommendRequest req = PATRON__V1__RECOMMEND_REQUEST__INIT;
    Patron__V1__RecommendResponse *resp;

    req.customer_id = (char *)a->user;
    req.k = (uint32_t)a->k;
    req.include_purchased = a->include_purchased;
    req.include_item_details = 1;
    req.diversity = a->diversity;
    req.max_per_category = a->max_per_category;
    resp = (Patron__V1__RecommendResponse *)cli_call(
        a->addr, "/patron.v1.Recommender/Recommend", &req.base,
        &patron__v1__recommend_response__descriptor);
    if (!resp)
        return 1;
    printf("customer %s: %s, model version %llu, request %s\n", a->user,
           resp->personalized ? "personalized" : "popular fallback",
           resp->provenance ? (unsigned long long)resp->provenance->model_version : 0ULL,
           resp->provenance ? resp->provenance->request_id : "");
    for (size_t i = 0; i < resp->n_items; i++) {
        const Patron__V1__ScoredItem *it = resp->items[i];
        printf("  %2zu. %-12s %9.4f  %-12s  %-16.16s %s\n", i + 1, it->item_id,
               it->score, cli_reason_name(it->reason),
               it->details ? it->details->category : "",
               it->details ? it->details->title : "");
    }
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return 0;
}

static int cmd_recommend(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "recommend", "--addr HOST:PORT --user ID [-k N] [--include-purchased]\n"
                     "                        [--diversity X] [--max-per-category N]",
        "Asks the server for a customer's top-k items, with titles and categories."
    };
    serve_args_t a = { .k = 10 };
    cli_opt_t opts[] = {
        ADDR_OPT(&a),
        CLI_STR("user", "ID", "the customer id", CLI_REQUIRED, &a.user),
        { "k", 'k', CLI_KIND_U32, &a.k, 1, 1000, "N", "how many items (default 10)", 0, NULL, 0 },
        CLI_FLAG("include-purchased", "also items the customer bought", &a.include_purchased),
        CLI_FLT("diversity", "X", "MMR diversity weight", 0, 1, &a.diversity),
        CLI_U32("max-per-category", "N", "cap per category (0: none)", 0, 1000,
                &a.max_per_category),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : recommend(&a);
}

/* ---- health, model-info, stats ------------------------------------------------- */

static int health(const serve_args_t *a)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *resp;
    int serving;

    req.service = (char *)(a->service ? a->service : "");
    resp = (Grpc__Health__V1__HealthCheckResponse *)cli_call(
        a->addr, "/grpc.health.v1.Health/Check", &req.base,
        &grpc__health__v1__health_check_response__descriptor);
    if (!resp)
        return 1;
    serving = resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    printf("%s\n", serving ? "SERVING" : "NOT_SERVING");
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return serving ? 0 : 1;
}

static int cmd_health(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "health", "--addr HOST:PORT [--service NAME]",
        "gRPC health check: prints SERVING (exit 0) or NOT_SERVING (exit 1)."
    };
    serve_args_t a = { 0 };
    cli_opt_t opts[] = {
        ADDR_OPT(&a),
        CLI_STR("service", "NAME", "a service name (default: the whole server)", 0,
                &a.service),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : health(&a);
}

static int model_info(const serve_args_t *a)
{
    Patron__V1__GetModelInfoRequest req = PATRON__V1__GET_MODEL_INFO_REQUEST__INIT;
    Patron__V1__GetModelInfoResponse *resp;
    const Patron__V1__ModelInfo *m;

    resp = (Patron__V1__GetModelInfoResponse *)cli_call(
        a->addr, "/patron.v1.Admin/GetModelInfo", &req.base,
        &patron__v1__get_model_info_response__descriptor);
    if (!resp)
        return 1;
    if (!(m = resp->model)) {
        fprintf(stderr, "patron: GetModelInfo answered without a model\n");
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return 1;
    }
    char when[CLI_TIME_CAP];
    printf("model version %llu trained at %s: %u factors, %u customers, "
           "%u items, %u iterations, reg %g, alpha %g, loss %.6g, %.1f MB in memory\n",
           (unsigned long long)m->version, cli_time_format(m->trained_at_unix_ms, when),
           m->factors, m->customers, m->items, m->iterations, m->regularization,
           m->alpha, m->final_loss, (double)m->memory_bytes / 1e6);
    if (m->source && *m->source && strcmp(m->source, "trained") != 0)
        printf("  imported from %s (patron import-model)\n", m->source);
    printf("  catalog: %u items, %.1f MB (swapped on every item upsert)\n",
           m->catalog_items, (double)m->catalog_bytes / 1e6);
    for (size_t i = 0; i < m->n_also_loaded; i++)
        printf("  also loaded for experiments: version %llu, %.1f MB\n",
               (unsigned long long)m->also_loaded[i]->version,
               (double)m->also_loaded[i]->memory_bytes / 1e6);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return 0;
}

static int cmd_model_info(int argc, char **argv)
{
    static const cli_cmd_t cmd = { "model-info", "--addr HOST:PORT",
                                   "The model the server serves: version, size, settings." };
    serve_args_t a = { 0 };
    cli_opt_t opts[] = { ADDR_OPT(&a), CLI_END };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : model_info(&a);
}

static int server_stats(const serve_args_t *a)
{
    Patron__V1__GetServerStatsRequest req = PATRON__V1__GET_SERVER_STATS_REQUEST__INIT;
    Patron__V1__GetServerStatsResponse *s;

    s = (Patron__V1__GetServerStatsResponse *)cli_call(
        a->addr, "/patron.v1.Admin/GetServerStats", &req.base,
        &patron__v1__get_server_stats_response__descriptor);
    if (!s)
        return 1;
    printf("up %.0f s, model version %llu\n", s->uptime_seconds,
           (unsigned long long)s->model_version);
    if (s->store) {
        char used[16], limit[16];
        printf("store: %s used of %s map limit (--map-size)\n",
               bytesize_format(s->store->used_bytes, used, sizeof used),
               bytesize_format(s->store->limit_bytes, limit, sizeof limit));
    }
    printf("%-52s %9s %7s %8s %8s %8s %8s  %s\n", "method", "calls", "errors", "mean_ms",
           "p50_ms", "p99_ms", "max_ms", "statuses");
    for (size_t i = 0; i < s->n_methods; i++) {
        const Patron__V1__MethodStats *m = s->methods[i];
        printf("%-52s %9llu %7llu %8.3f %8.3f %8.3f %8.3f ", m->method,
               (unsigned long long)m->calls, (unsigned long long)m->errors, m->mean_ms,
               m->p50_ms, m->p99_ms, m->max_ms);
        for (size_t c = 0; c < m->n_by_status; c++)
            printf(" %s %llu", m->by_status[c]->code,
                   (unsigned long long)m->by_status[c]->calls);
        printf("\n");
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return 0;
}

static int cmd_stats(int argc, char **argv)
{
    static const cli_cmd_t cmd = { "stats", "--addr HOST:PORT",
                                   "Calls, errors and latency per method since start." };
    serve_args_t a = { 0 };
    cli_opt_t opts[] = { ADDR_OPT(&a), CLI_END };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : server_stats(&a);
}

static const cli_command_t commands[] = {
    { "recommend", "a customer's recommendations from a running server", cmd_recommend },
    { "recommend-batch", "an audience's recommendations as CSV/JSONL rows (campaign export)",
      cli_recommend_batch },
    { "health", "is the server serving", cmd_health },
    { "model-info", "the served model", cmd_model_info },
    { "stats", "per-method calls, errors and latency", cmd_stats },
};

const cli_family_t cli_serve_family = { "serving (ask a running patrond)", commands,
                                        sizeof commands / sizeof commands[0] };
