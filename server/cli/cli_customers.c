/*
 * cli_customers.c - the customer commands of `patron`.
 *
 *   patron profile --addr HOST:PORT --user ID [--as-of TIME]
 *   patron audience --addr HOST:PORT [--expr EXPR] [--limit N] [--as-of TIME]  (CSV)
 *   patron segments --data DIR [--as-of TIME] [--profiles FILE]
 *                   (offline: RFM segment and lifecycle sizes)
 *   patron export-customer --addr HOST:PORT --user ID   (cli_export.c)
 *   patron points --addr HOST:PORT --user ID [--as-of TIME] [--tail N]  (cli_points.c)
 */
#include "cli.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "customers.h"
#include "settings.h"
#include "patron/v1/profiles.pb-c.h"
#include "status_names.h"
#include "store.h"
#include "wallclock.h"

typedef struct cust_args {
    const char *addr, *user, *expr, *data, *profiles;
    long long limit, as_of;
    int json;
    uint64_t map_bytes;
} cust_args_t;

#define AS_OF_OPT(a) CLI_TIME("as-of", "the time to compute at (default: now)", &(a)->as_of)

int cli_profile_config(const char *path, profile_config_t *pc)
{
    char err[512];
    if (!path) {
        profile_config_default(pc);
        return 0;
    }
    if (settings_load(path, pc, NULL, err, sizeof err) != 0) { /* coupon lines checked too */
        fprintf(stderr, "patron: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- profile ------------------------------------------------------------------- */

/* A LifecycleStage's name: the API's numbers are profile_stage_t's but for
 * PROSPECT. */
static const char *stage_label(Patron__V1__LifecycleStage stage)
{
    const char *n;
    if (stage == PATRON__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PROSPECT)
        return "prospect";
    n = profile_stage_name((profile_stage_t)stage);
    return n && n[0] ? n : "unknown";
}

/* "free shipping, points x1.5, ..." of a tier's benefits; "none" without any. */
static void print_benefits(const Patron__V1__TierBenefits *b)
{
    int n = 0;
    if (b && b->free_shipping)
        printf("%sfree shipping", n++ ? ", " : "");
    if (b && b->points_multiplier > 0)
        printf("%spoints x%g", n++ ? ", " : "", b->points_multiplier);
    if (b && b->early_access_hours)
        printf("%searly access %u h", n++ ? ", " : "", b->early_access_hours);
    if (b && b->price_list && b->price_list[0])
        printf("%sprice list %s", n++ ? ", " : "", b->price_list);
    if (b && b->dedicated_service)
        printf("%sdedicated service", n++ ? ", " : "");
    if (!n)
        printf("none");
}

/* The tier held, its benefits and the progress text (patron points prints
 * the points' status). */
static void print_tier_status(const Patron__V1__TierStatus *t)
{
    if (!t)
        return;
    printf("  tier %s, benefits: ", t->tier[0] ? t->tier : "-");
    print_benefits(t->benefits);
    printf("\n  progress: %s\n", t->progress);
}

static int profile(const cust_args_t *a)
{
    Patron__V1__GetProfileRequest req = PATRON__V1__GET_PROFILE_REQUEST__INIT;
    Patron__V1__GetProfileResponse *resp;
    const Patron__V1__Profile *p;

    req.customer_id = (char *)a->user;
    req.as_of_unix_ms = a->as_of;
    resp = (Patron__V1__GetProfileResponse *)cli_call(
        a->addr, "/patron.v1.Profiles/GetProfile", &req.base,
        &patron__v1__get_profile_response__descriptor);
    if (!resp)
        return 1;
    if (!(p = resp->profile)) {
        fprintf(stderr, "patron: GetProfile answered without a profile\n");
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return 1;
    }
    printf("customer %s: %u orders, %u purchases, net %.2f, basket %.2f, last %.1f days "
           "ago, typical gap %.1f days\n  RFM %u%u%u segment %s, tier %s, stage %s, "
           "points %lld (earned %lld, redeemed %lld)\n  favourite categories:",
           p->customer_id, p->orders, p->purchases, p->monetary, p->average_basket,
           p->recency_days, p->typical_gap_days, p->recency_score, p->frequency_score,
           p->monetary_score, p->segment[0] ? p->segment : "-", p->tier,
           stage_label(p->stage), (long long)p->points, (long long)p->points_earned,
           (long long)p->points_redeemed);
    for (size_t i = 0; i < p->n_favourite_categories; i++)
        printf(" %s;", p->favourite_categories[i]);
    printf("\n");
    print_tier_status(p->tier_status);
    cli_print_missions(p, "  ");
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return 0;
}

static int cmd_profile(int argc, char **argv)
{
    static const cli_cmd_t cmd = { "profile", "--addr HOST:PORT --user ID [--as-of TIME]",
                                   "A customer's profile: RFM, segment, tier, stage, points, missions." };
    cust_args_t a = { 0 };
    cli_opt_t opts[] = {
        CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &a.addr),
        CLI_STR("user", "ID", "the customer id", CLI_REQUIRED, &a.user),
        AS_OF_OPT(&a),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : profile(&a);
}

/* ---- audience ------------------------------------------------------------------ */

typedef struct audience_out {
    uint64_t total, rows;
    int bad;
} audience_out_t;

static int print_member(void *ctx, const uint8_t *msg, size_t len)
{
    audience_out_t *o = ctx;
    Patron__V1__SelectAudienceResponse *m =
        patron__v1__select_audience_response__unpack(NULL, len, msg);
    const Patron__V1__Profile *p;

    if (!m) {
        o->bad = 1;
        return 1;
    }
    if (o->rows == 0)
        o->total = m->total;
    if (m->customer_id[0] && (p = m->profile) != NULL) {
        csv_write_field(stdout, m->customer_id);
        printf(",%s,%s,%s,%u,%u,%u,%u,%.2f,%.1f,%lld,", p->segment, p->tier,
               stage_label(p->stage), p->recency_score, p->frequency_score,
               p->monetary_score, p->orders, p->monetary, p->recency_days,
               (long long)p->points);
        csv_write_field(stdout, p->n_favourite_categories ? p->favourite_categories[0] : "");
        putchar(',');
        csv_write_field(stdout, p->attributes ? p->attributes->region : "");
        putchar('\n');
        o->rows++;
    }
    patron__v1__select_audience_response__free_unpacked(m, NULL);
    return 0;
}

static int audience(const cust_args_t *a)
{
    Patron__V1__SelectAudienceRequest req = PATRON__V1__SELECT_AUDIENCE_REQUEST__INIT;
    audience_out_t o = { 0 };
    client_result_t res;
    client_t *c;
    uint8_t *buf;
    size_t len;
    int rc;

    req.expression = (char *)(a->expr ? a->expr : "");
    req.limit = (uint64_t)a->limit;
    req.as_of_unix_ms = a->as_of;
    len = protobuf_c_message_get_packed_size(&req.base);
    if (!(buf = malloc(len ? len : 1)) || client_open(a->addr, &c) != 0) {
        free(buf);
        return 1;
    }
    protobuf_c_message_pack(&req.base, buf);
    printf("customer_id,segment,tier,stage,r,f,m,orders,monetary,recency_days,points,"
           "top_category,region\n");
    rc = client_unary_stream(c, "/patron.v1.Profiles/SelectAudience", buf, len, 600000,
                             print_member, &o, &res);
    client_close(c);
    free(buf);
    if (rc || res.code != GRPC_STATUS_OK || o.bad) {
        fprintf(stderr, "patron: SelectAudience failed: %s: %s\n", status_name((int)res.code),
                res.details);
        return 1;
    }
    fflush(stdout);
    fprintf(stderr, "%llu of %llu matching customers written\n",
            (unsigned long long)o.rows, (unsigned long long)o.total);
    return 0;
}

static int cmd_audience(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "audience", "--addr HOST:PORT [--expr EXPR] [--limit N] [--as-of TIME]",
        "Streams the customers matching an audience expression as CSV to stdout."
    };
    cust_args_t a = { 0 };
    cli_opt_t opts[] = {
        CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &a.addr),
        CLI_STR("expr", "EXPR", "audience expression (default: everyone)", 0, &a.expr),
        CLI_I64("limit", "N", "at most N rows (0: all)", 0, 1e15, &a.limit),
        AS_OF_OPT(&a),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : audience(&a);
}

/* ---- segments ------------------------------------------------------------------ */

/* Offline: RFM segment sizes and the lifecycle distribution of a store. */
typedef struct segment_counts {
    const profile_config_t *cfg;
    uint64_t segment[PROFILE_MAX_SEGMENTS + 1], stage[6], tier[PROFILE_MAX_TIERS + 1];
    uint64_t customers;
} segment_counts_t;

static int count_segments(void *ctx, const customer_view_t *v)
{
    segment_counts_t *sc = ctx;
    sc->customers++;
    sc->segment[v->segment >= 0 ? v->segment : PROFILE_MAX_SEGMENTS]++;
    sc->stage[v->p.stage <= 5 ? v->p.stage : 0]++;
    sc->tier[v->p.tier >= 0 ? v->p.tier : PROFILE_MAX_TIERS]++;
    return 0;
}

/* {"label": count, ...} of the nonzero counts[0..n), labels from name(i). */
static json_object *counts_json(const uint64_t *counts, int n, const char *(*name)(void *, int),
                                void *ctx)
{
    json_object *o = json_object_new_object();
    for (int i = 0; o && i < n; i++)
        if (counts[i])
            json_object_object_add(o, name(ctx, i), json_object_new_int64((int64_t)counts[i]));
    return o;
}

static const char *segment_label(void *pc, int i)
{
    return i == PROFILE_MAX_SEGMENTS ? "(no orders)" : profile_segment_name(pc, i);
}

static const char *tier_label(void *pc, int i)
{
    return profile_tier_name(pc, i);
}

static const char *stage_name(void *ctx, int i)
{
    (void)ctx;
    return stage_label(i);
}

/* patron segments --json: {"as_of", "as_of_unix_ms", "customers", "segments",
 * "lifecycle", "tiers"} with name -> count objects (zero counts left out). */
static int segments_json(profile_config_t *pc, const segment_counts_t *sc, int64_t as_of)
{
    json_object *o = json_object_new_object();
    char when[CLI_TIME_CAP];
    json_object_object_add(o, "as_of", json_object_new_string(cli_time_format(as_of, when)));
    json_object_object_add(o, "as_of_unix_ms", json_object_new_int64(as_of));
    json_object_object_add(o, "customers", json_object_new_int64((int64_t)sc->customers));
    json_object_object_add(o, "segments", counts_json(sc->segment, PROFILE_MAX_SEGMENTS + 1,
                                                      segment_label, pc));
    json_object_object_add(o, "lifecycle", counts_json(sc->stage, 6, stage_name, NULL));
    json_object_object_add(o, "tiers", counts_json(sc->tier, PROFILE_MAX_TIERS, tier_label,
                                                   pc));
    return cli_json_print(o);
}

static int segments(const cust_args_t *a)
{
    profile_config_t pc;
    rfm_cutpoints_t cut;
    catalog_t *cat = NULL;
    customers_ctx_t c;
    segment_counts_t sc = { 0 };
    char when[CLI_TIME_CAP];
    int64_t as_of;
    store_t *s;
    int rc;

    as_of = a->as_of ? a->as_of : wall_ms();
    if (cli_store_open(a->data, a->map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    if (cli_profile_config(a->profiles, &pc) != 0) {
        store_close(s);
        return 2;
    }
    rc = customers_rfm_job(s, &pc, as_of, &cut);
    if (rc == 0)
        rc = catalog_load(s, &cat);
    if (rc == 0) {
        c = (customers_ctx_t){ s, &pc, cat, &cut, 0, NULL };
        sc.cfg = &pc;
        rc = customers_select(&c, NULL, as_of, count_segments, &sc);
    }
    catalog_unref(cat);
    store_close(s);
    if (rc) {
        cli_error(rc, "segments failed");
        return 1;
    }
    if (a->json)
        return segments_json(&pc, &sc, as_of) == 0 ? 0 : 1;
    printf("%llu customers with events, as of %s (RFM cut-points recomputed)\n",
           (unsigned long long)sc.customers, cli_time_format(as_of, when));
    printf("RFM segments:");
    for (int i = 0; i < PROFILE_MAX_SEGMENTS; i++)
        if (sc.segment[i])
            printf(" %s %llu;", profile_segment_name(&pc, i), (unsigned long long)sc.segment[i]);
    if (sc.segment[PROFILE_MAX_SEGMENTS])
        printf(" (no orders) %llu;", (unsigned long long)sc.segment[PROFILE_MAX_SEGMENTS]);
    printf("\nlifecycle:");
    for (int i = 0; i < 6; i++)
        if (sc.stage[i])
            printf(" %s %llu;", stage_label(i), (unsigned long long)sc.stage[i]);
    printf("\ntiers:");
    for (int i = 0; i < PROFILE_MAX_TIERS; i++)
        if (sc.tier[i])
            printf(" %s %llu;", profile_tier_name(&pc, i), (unsigned long long)sc.tier[i]);
    printf("\n");
    return 0;
}

static int cmd_segments(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "segments", "--data DIR [--as-of TIME] [--profiles FILE] [--json]",
        "Offline: recomputes the RFM cut-points and prints segment, lifecycle and\n"
        "tier sizes."
    };
    cust_args_t a = { 0 };
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        AS_OF_OPT(&a),
        CLI_STR("profiles", "FILE", "profile settings (default: built in)", 0, &a.profiles),
        CLI_FLAG("json", "the sizes as one JSON object (stable keys)", &a.json),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : segments(&a);
}

static const cli_command_t commands[] = {
    { "profile", "a customer's profile from a running server", cmd_profile },
    { "audience", "customers matching an expression, as CSV", cmd_audience },
    { "segments", "offline: RFM segment and lifecycle sizes", cmd_segments },
    { "export-customer", "every row the server holds about a customer, as JSON",
      cli_export_customer },
    { "points", "a customer's points ledger and balance from a running server",
      cli_points },
};

const cli_family_t cli_customers_family = { "customers", commands,
                                            sizeof commands / sizeof commands[0] };
