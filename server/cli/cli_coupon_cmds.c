/*
 * cli_coupon_cmds.c - `patron coupon ...`: the coupon programme from the
 * command line, over the Coupons RPCs of a running patrond (the budget
 * reading from the store, as no RPC reports it).
 *
 *   patron coupon upsert --addr A --id ID --campaign C --kind KIND --budget B
 *                        --benefit SPEC... --from TIME --until TIME [...]
 *   patron coupon target --addr A --user ID [--cart ITEM:QTY:PRICE[:COST]]...
 *   patron coupon audience --addr A --campaign C [--budget B] [--limit N]  (CSV)
 *   patron coupon redeem --addr A --id RID --user ID --coupon C --discount X
 *   patron coupon budget --data DIR --campaign C
 *
 * A benefit SPEC is KIND[,amount=X][,percent=F][,cap=X][,threshold=X]
 * [,min-threshold=X] with KIND amount|percent|shipping|threshold; a kind is
 * the proto enum's name in lower case with dashes (fixed-amount).
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couponstore.h"
#include "csv.h"
#include "patron/v1/coupons.pb-c.h"
#include "status_names.h"
#include "store.h"

#define MAX_BENEFITS 8
#define MAX_CART 64
#define MAX_LIST 32

typedef struct coupon_args {
    const char *addr, *data, *id, *campaign, *user, *coupon, *request_id;
    const char *segments, *tiers, *categories, *items;
    int kind, stackable, referred, period;
    double budget, min_basket, discount, milestone;
    uint32_t per_customer;
    long long from, until, as_of, limit;
    size_t n_benefits, n_cart;
    Patron__V1__CouponBenefit benefits[MAX_BENEFITS];
    Patron__V1__CouponBenefit *benefit_ptrs[MAX_BENEFITS];
    Patron__V1__CartLine cart[MAX_CART];
    Patron__V1__CartLine *cart_ptrs[MAX_CART];
    char cart_ids[MAX_CART][257];
} coupon_args_t;

/* value ("fixed-amount") as a value of the enum whose names start with
 * prefix ("COUPON_KIND_"); -1 if none (or the UNSPECIFIED zero). */
static int enum_value(const ProtobufCEnumDescriptor *d, const char *prefix, const char *value,
                      size_t len)
{
    char name[96];
    size_t n = strlen(prefix);
    const ProtobufCEnumValue *v;

    if (len == 0 || n + len >= sizeof name)
        return -1;
    memcpy(name, prefix, n);
    for (size_t i = 0; i < len; i++)
        name[n + i] = value[i] == '-' ? '_' : (char)toupper((unsigned char)value[i]);
    name[n + len] = '\0';
    v = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    return v && v->value > 0 ? v->value : -1;
}

static int opt_kind(void *dest, const char *v)
{
    int k = enum_value(&patron__v1__coupon_kind__descriptor, "COUPON_KIND_", v, strlen(v));
    if (k < 0) {
        fprintf(stderr, "patron coupon: --kind: expected spend-x-save-y, percent-off, "
                        "fixed-amount, free-shipping, welcome, birthday, win-back, "
                        "referral or anniversary, got \"%s\"\n", v);
        return -1;
    }
    *(int *)dest = k;
    return 0;
}

/* --guaranteed PERIOD: an entitlement granted once per PERIOD. */
static int opt_period(void *dest, const char *v)
{
    int p = enum_value(&patron__v1__grant_period__descriptor, "GRANT_PERIOD_", v, strlen(v));
    if (p < 0) {
        fprintf(stderr, "patron coupon: --guaranteed: expected once, year, month or week, "
                        "got \"%s\"\n", v);
        return -1;
    }
    *(int *)dest = p;
    return 0;
}

/* One key=value of a benefit spec into b; 0 or -1. */
static int benefit_field(Patron__V1__CouponBenefit *b, const char *kv, size_t len)
{
    static const char *const keys[] = { "amount", "percent", "cap", "threshold",
                                        "min-threshold" };
    double *dest[] = { &b->amount, &b->percent, &b->cap, &b->threshold, &b->min_threshold };
    const char *eq = memchr(kv, '=', len);
    char num[64], *end;

    if (!eq || (size_t)(kv + len - eq - 1) >= sizeof num || eq + 1 == kv + len)
        return -1;
    memcpy(num, eq + 1, (size_t)(kv + len - eq - 1));
    num[kv + len - eq - 1] = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i]) == (size_t)(eq - kv) && !memcmp(kv, keys[i], (size_t)(eq - kv))) {
            *dest[i] = strtod(num, &end);
            return *end ? -1 : 0;
        }
    return -1;
}

static int opt_benefit(void *dest, const char *v)
{
    coupon_args_t *a = dest;
    Patron__V1__CouponBenefit *b = &a->benefits[a->n_benefits];
    size_t len = strcspn(v, ",");
    int kind;

    if (a->n_benefits == MAX_BENEFITS)
        goto bad;
    patron__v1__coupon_benefit__init(b);
    if ((kind = enum_value(&patron__v1__benefit_kind__descriptor, "BENEFIT_KIND_", v, len)) < 0)
        goto bad;
    b->kind = (Patron__V1__BenefitKind)kind;
    for (const char *p = v + len; *p == ','; p += len) {
        p++;
        len = strcspn(p, ",");
        if (benefit_field(b, p, len) != 0)
            goto bad;
    }
    a->benefit_ptrs[a->n_benefits] = b;
    a->n_benefits++;
    return 0;
bad:
    fprintf(stderr, "patron coupon: --benefit: expected KIND[,amount=X][,percent=F][,cap=X]"
                    "[,threshold=X][,min-threshold=X] with KIND amount, percent, shipping "
                    "or threshold (at most %d), got \"%s\"\n", MAX_BENEFITS, v);
    return -1;
}

/* ITEM:QTY:PRICE[:COST] */
static int opt_cart(void *dest, const char *v)
{
    coupon_args_t *a = dest;
    Patron__V1__CartLine *l = &a->cart[a->n_cart];
    const char *colon = strchr(v, ':');
    char *end;
    long q;

    if (a->n_cart == MAX_CART || !colon || colon == v || (size_t)(colon - v) > 256)
        goto bad;
    patron__v1__cart_line__init(l);
    memcpy(a->cart_ids[a->n_cart], v, (size_t)(colon - v));
    a->cart_ids[a->n_cart][colon - v] = '\0';
    l->item_id = a->cart_ids[a->n_cart];
    q = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != ':' || q < 1 || q > 1000000)
        goto bad;
    l->quantity = (int32_t)q;
    l->unit_price = strtod(end + 1, &end);
    if (*end == ':')
        l->unit_cost = strtod(end + 1, &end);
    if (*end || !(l->unit_price >= 0) || !(l->unit_cost >= 0))
        goto bad;
    a->cart_ptrs[a->n_cart] = l;
    a->n_cart++;
    return 0;
bad:
    fprintf(stderr, "patron coupon: --cart: expected ITEM:QTY:PRICE[:COST] (at most %d "
                    "lines), got \"%s\"\n", MAX_CART, v);
    return -1;
}

/* Splits the comma list s of flag name into out (pointers into buf, cap
 * bytes) and sets *n; -1 after naming the flag when it holds more than
 * MAX_LIST entries or does not fit buf (nothing is dropped). */
static int split_list(const char *name, const char *s, char *buf, size_t cap, char **out,
                      size_t *n)
{
    *n = 0;
    if (!s || !*s)
        return 0;
    if (strlen(s) >= cap)
        goto bad;
    snprintf(buf, cap, "%s", s);
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
        if (*n == MAX_LIST)
            goto bad;
        out[(*n)++] = p;
    }
    return 0;
bad:
    fprintf(stderr, "patron coupon upsert: --%s: at most %d names in %zu bytes\n", name,
            MAX_LIST, cap - 1);
    return -1;
}

/* Flags that must be given (numbers and calls have no CLI_REQUIRED);
 * 0, or -1 after naming the first missing one. */
static int need(const cli_opt_t *opts, const char *const *names, const char *who)
{
    for (; *names; names++)
        if (!cli_opt_find(opts, *names)->given) {
            fprintf(stderr, "patron %s: --%s is required\n", who, *names);
            return -1;
        }
    return 0;
}

#define ADDR_OPT(a) CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &(a)->addr)

/* ---- the sub-commands ------------------------------------------------------------ */

static void print_coupon(const Patron__V1__Coupon *c)
{
    char from[CLI_TIME_CAP], until[CLI_TIME_CAP];
    const ProtobufCEnumValue *k =
        protobuf_c_enum_descriptor_get_value(&patron__v1__coupon_kind__descriptor, c->kind);
    const ProtobufCEnumValue *p =
        protobuf_c_enum_descriptor_get_value(&patron__v1__grant_period__descriptor, c->period);
    printf("coupon %s: campaign %s, kind %s, %zu benefit(s), valid %s to %s, campaign "
           "budget %g, %u per customer%s%s", c->coupon_id, c->campaign_id, k ? k->name : "?",
           c->n_benefits, cli_time_format(c->valid_from_unix_ms, from),
           cli_time_format(c->valid_until_unix_ms, until), c->campaign_budget,
           c->per_customer_limit,
           c->mode == PATRON__V1__COUPON_MODE__COUPON_MODE_GUARANTEED ? ", guaranteed: "
                                                                        : ", targeted",
           c->mode == PATRON__V1__COUPON_MODE__COUPON_MODE_GUARANTEED && p ? p->name : "");
    if (c->milestone_spend > 0)
        printf(", spend milestone %.2f", c->milestone_spend);
    printf("\n");
}

static int upsert(int argc, char **argv, coupon_args_t *a)
{
    static const cli_cmd_t cmd = {
        "coupon upsert",
        "--addr A --id ID --campaign C --kind KIND --budget B --benefit SPEC...\n"
        "                     --from TIME --until TIME [--per-customer N] [--segments S,..]\n"
        "                     [--tiers T,..] [--categories C,..] [--items I,..]\n"
        "                     [--min-basket X] [--stackable] [--guaranteed PERIOD]\n"
        "                     [--milestone-spend X]",
        "Inserts or replaces a coupon definition (UpsertCoupon) and prints it as stored.\n"
        "--guaranteed makes it an entitlement (TargetCoupons grants it whenever eligible,\n"
        "once per PERIOD: once|year|month|week); without it, uplift targeting decides.\n"
        "--milestone-spend X: entitled only once the customer's net spend in the\n"
        "PERIOD reaches X (\"spend 1000 this year\": --guaranteed year --milestone-spend 1000).\n"
        "SPEC: KIND[,amount=X][,percent=F][,cap=X][,threshold=X][,min-threshold=X], KIND\n"
        "amount|percent|shipping|threshold; --benefit once, or 2..8 times for a welcome pack."
    };
    char lists[4][1024], *seg[MAX_LIST], *tier[MAX_LIST], *cat[MAX_LIST], *item[MAX_LIST];
    cli_opt_t opts[] = {
        ADDR_OPT(a),
        CLI_STR("id", "ID", "the coupon id", CLI_REQUIRED, &a->id),
        CLI_STR("campaign", "C", "its campaign (coupons of one campaign share its budget)",
                CLI_REQUIRED, &a->campaign),
        CLI_CALL("kind", "KIND", "fixed-amount, percent-off, spend-x-save-y, free-shipping, "
                 "welcome, birthday, win-back, referral, anniversary", opt_kind, &a->kind),
        CLI_NUM("budget", "B", "the campaign's hard budget", 0, 1e15, &a->budget),
        CLI_CALL("benefit", "SPEC", "a benefit (see above); repeat for a welcome pack",
                 opt_benefit, a),
        CLI_TIME("from", "valid from this time", &a->from),
        CLI_TIME("until", "valid until this time (exclusive)", &a->until),
        CLI_U32("per-customer", "N", "grants per customer (default 1)", 1, 1e9,
                &a->per_customer),
        CLI_STR("segments", "S,..", "eligible RFM segments (default: any)", 0, &a->segments),
        CLI_STR("tiers", "T,..", "eligible tiers (default: any)", 0, &a->tiers),
        CLI_STR("categories", "C,..", "categories it applies to (default: all)", 0,
                &a->categories),
        CLI_STR("items", "I,..", "items it applies to (default: all)", 0, &a->items),
        CLI_NUM("min-basket", "X", "the smallest in-scope basket", 0, 1e15, &a->min_basket),
        CLI_FLAG("stackable", "may be combined with other coupons", &a->stackable),
        CLI_CALL("guaranteed", "PERIOD", "an entitlement, granted once per PERIOD (once, "
                 "year, month, week)", opt_period, &a->period),
        CLI_NUM("milestone-spend", "X", "with --guaranteed: entitled once the net spend in "
                "the period reaches X", 0, 1e15, &a->milestone),
        CLI_END,
    };
    Patron__V1__Coupon c = PATRON__V1__COUPON__INIT;
    Patron__V1__UpsertCouponRequest req = PATRON__V1__UPSERT_COUPON_REQUEST__INIT;
    Patron__V1__UpsertCouponResponse *r;
    int rc;

    a->per_customer = 1;
    if ((rc = cli_parse(argc, argv, 2, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (need(opts, (const char *const[]){ "kind", "budget", "benefit", "from", "until",
                                           NULL }, cmd.name) != 0)
        return CLI_USAGE;
    c.coupon_id = (char *)a->id;
    c.campaign_id = (char *)a->campaign;
    c.kind = (Patron__V1__CouponKind)a->kind;
    c.n_benefits = a->n_benefits;
    c.benefits = a->benefit_ptrs;
    c.valid_from_unix_ms = a->from;
    c.valid_until_unix_ms = a->until;
    c.campaign_budget = a->budget;
    c.per_customer_limit = a->per_customer;
    if (split_list("segments", a->segments, lists[0], sizeof lists[0], seg,
                   &c.n_eligible_segments) != 0 ||
        split_list("tiers", a->tiers, lists[1], sizeof lists[1], tier, &c.n_eligible_tiers) ||
        split_list("categories", a->categories, lists[2], sizeof lists[2], cat,
                   &c.n_categories) ||
        split_list("items", a->items, lists[3], sizeof lists[3], item, &c.n_items))
        return CLI_USAGE;
    c.eligible_segments = seg;
    c.eligible_tiers = tier;
    c.categories = cat;
    c.items = item;
    c.min_basket = a->min_basket;
    c.stackable = a->stackable;
    if (a->period > 0) {
        c.mode = PATRON__V1__COUPON_MODE__COUPON_MODE_GUARANTEED;
        c.period = (Patron__V1__GrantPeriod)a->period;
    }
    c.milestone_spend = a->milestone;
    req.coupon = &c;
    r = (Patron__V1__UpsertCouponResponse *)cli_call(
        a->addr, "/patron.v1.Coupons/UpsertCoupon", &req.base,
        &patron__v1__upsert_coupon_response__descriptor);
    if (!r)
        return CLI_FAIL;
    if (r->coupon)
        print_coupon(r->coupon);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return CLI_OK;
}

/* "  entitlement birthday-gift (campaign bday): GRANTED at ..., until ..." */
static void print_entitlement(const Patron__V1__Entitlement *e)
{
    char at[CLI_TIME_CAP], until[CLI_TIME_CAP];
    const ProtobufCEnumValue *s = protobuf_c_enum_descriptor_get_value(
        &patron__v1__entitlement_status__descriptor, e->status);
    const char *name = s ? s->name + strlen("ENTITLEMENT_STATUS_") : "?";
    printf("  entitlement %s (campaign %s): %s", e->coupon_id, e->campaign_id, name);
    if (e->granted_unix_ms)
        printf(" at %s, usable until %s", cli_time_format(e->granted_unix_ms, at),
               cli_time_format(e->valid_until_unix_ms, until));
    printf(", max cost %.2f\n    %s\n", e->max_cost, e->reason);
}

static int target(int argc, char **argv, coupon_args_t *a)
{
    static const cli_cmd_t cmd = {
        "coupon target",
        "--addr A --user ID [--cart ITEM:QTY:PRICE[:COST]]... [--request-id R]\n"
        "                     [--referred] [--as-of TIME]",
        "Decides a coupon for one customer (TargetCoupons); a grant reserves its\n"
        "worst-case cost against the campaign budget."
    };
    cli_opt_t opts[] = {
        ADDR_OPT(a),
        CLI_STR("user", "ID", "the customer", CLI_REQUIRED, &a->user),
        CLI_CALL("cart", "ITEM:QTY:PRICE[:COST]", "a cart line; repeat per line", opt_cart, a),
        CLI_STR("request-id", "R", "idempotency key (a retry grants nothing twice)", 0,
                &a->request_id),
        CLI_FLAG("referred", "signed up through a referral", &a->referred),
        CLI_TIME("as-of", "the decision time (default: now)", &a->as_of),
        CLI_END,
    };
    Patron__V1__TargetCouponsRequest req = PATRON__V1__TARGET_COUPONS_REQUEST__INIT;
    Patron__V1__TargetCouponsResponse *r;
    const Patron__V1__CouponDecision *d;
    int rc;

    if ((rc = cli_parse(argc, argv, 2, &cmd, opts)) != CLI_PARSED)
        return rc;
    req.customer_id = (char *)a->user;
    req.n_cart = a->n_cart;
    req.cart = a->cart_ptrs;
    req.request_id = (char *)(a->request_id ? a->request_id : "");
    req.referred = a->referred;
    req.as_of_unix_ms = a->as_of;
    r = (Patron__V1__TargetCouponsResponse *)cli_call(
        a->addr, "/patron.v1.Coupons/TargetCoupons", &req.base,
        &patron__v1__target_coupons_response__descriptor);
    if (!r)
        return CLI_FAIL;
    if ((d = r->decision) != NULL) {
        const ProtobufCEnumValue *o = protobuf_c_enum_descriptor_get_value(
            &patron__v1__coupon_outcome__descriptor, d->outcome);
        printf("customer %s: %s%s%s%s%s, outcome %s, request %s%s%s\n", a->user,
               d->coupon_id[0] ? "coupon " : "no coupon", d->coupon_id,
               d->campaign_id[0] ? " (campaign " : "", d->campaign_id,
               d->campaign_id[0] ? ")" : "", o ? o->name : "?",
               r->provenance ? r->provenance->request_id : "",
               r->known_customer ? "" : " (prospect)", r->replayed ? " (replayed)" : "");
        printf("  uplift %.4f (p %.4f -> %.4f), basket %.2f, discount %.2f, expected cost "
               "%.2f, max cost %.2f, incremental margin %.2f, lambda %.3f, value %.3f\n",
               d->uplift, d->p_control, d->p_treated, d->basket, d->discount, d->expected_cost,
               d->max_cost, d->incremental_margin, d->lambda, d->value);
        printf("  reason: %s\n", d->reason);
    }
    for (size_t i = 0; i < r->n_entitlements; i++)
        print_entitlement(r->entitlements[i]);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return CLI_OK;
}

typedef struct audience_out {
    unsigned long long rows;
    int bad;
} audience_out_t;

static int print_member(void *ctx, const uint8_t *msg, size_t len)
{
    audience_out_t *o = ctx;
    Patron__V1__SelectCampaignAudienceResponse *m =
        patron__v1__select_campaign_audience_response__unpack(NULL, len, msg);
    if (!m) {
        o->bad = 1;
        return -1;
    }
    csv_write_field(stdout, m->customer_id);
    putchar(',');
    csv_write_field(stdout, m->coupon_id);
    printf(",%.6g,%.6g,%.6g,%.6g\n", m->expected_incremental_profit, m->expected_cost,
           m->max_cost, m->cumulative_max_cost);
    o->rows++;
    patron__v1__select_campaign_audience_response__free_unpacked(m, NULL);
    return 0;
}

static int audience(int argc, char **argv, coupon_args_t *a)
{
    static const cli_cmd_t cmd = {
        "coupon audience", "--addr A --campaign C [--budget B] [--limit N] [--as-of TIME]",
        "Streams the campaign's audience (SelectCampaignAudience) as CSV to stdout: the\n"
        "customers by expected incremental profit, cut where the budget runs out.\n"
        "Read-only: nothing is granted."
    };
    cli_opt_t opts[] = {
        ADDR_OPT(a),
        CLI_STR("campaign", "C", "the campaign", CLI_REQUIRED, &a->campaign),
        CLI_NUM("budget", "B", "spend at most this (default: the campaign's remaining)", 0,
                1e15, &a->budget),
        CLI_I64("limit", "N", "at most N customers (0: all)", 0, 1e15, &a->limit),
        CLI_TIME("as-of", "the time to decide at (default: now)", &a->as_of),
        CLI_END,
    };
    Patron__V1__SelectCampaignAudienceRequest req =
        PATRON__V1__SELECT_CAMPAIGN_AUDIENCE_REQUEST__INIT;
    audience_out_t o = { 0 };
    client_result_t res;
    client_t *c;
    uint8_t *buf;
    size_t len;
    int rc;

    if ((rc = cli_parse(argc, argv, 2, &cmd, opts)) != CLI_PARSED)
        return rc;
    req.campaign_id = (char *)a->campaign;
    req.budget = a->budget;
    req.as_of_unix_ms = a->as_of;
    req.limit = (uint64_t)a->limit;
    len = protobuf_c_message_get_packed_size(&req.base);
    if (!(buf = malloc(len ? len : 1)) || client_open(a->addr, &c) != 0) {
        free(buf);
        return CLI_FAIL;
    }
    protobuf_c_message_pack(&req.base, buf);
    printf("customer_id,coupon_id,expected_incremental_profit,expected_cost,max_cost,"
           "cumulative_max_cost\n");
    rc = client_unary_stream(c, "/patron.v1.Coupons/SelectCampaignAudience", buf, len,
                             600000, print_member, &o, &res);
    client_close(c);
    free(buf);
    if (rc || res.code != GRPC_STATUS_OK || o.bad) {
        fprintf(stderr, "patron: SelectCampaignAudience failed: %s: %s\n",
                rc ? "not started" : status_name((int)res.code), rc ? "" : res.details);
        return CLI_FAIL;
    }
    fflush(stdout);
    fprintf(stderr, "%llu customers written\n", o.rows);
    return CLI_OK;
}

static int redeem(int argc, char **argv, coupon_args_t *a)
{
    static const cli_cmd_t cmd = {
        "coupon redeem", "--addr A --id RID --user ID --coupon C --discount X [--time TIME]",
        "Records a redemption of a granted coupon (RecordRedemption): the discount moves\n"
        "from the campaign's reservations to its spend. Idempotent by --id."
    };
    cli_opt_t opts[] = {
        ADDR_OPT(a),
        CLI_STR("id", "RID", "the redemption id (idempotency key)", CLI_REQUIRED, &a->id),
        CLI_STR("user", "ID", "the customer", CLI_REQUIRED, &a->user),
        CLI_STR("coupon", "C", "the coupon redeemed", CLI_REQUIRED, &a->coupon),
        CLI_NUM("discount", "X", "what the customer saved", 0, 1e15, &a->discount),
        CLI_TIME("time", "when (default: now)", &a->as_of),
        CLI_END,
    };
    Patron__V1__RecordRedemptionRequest req = PATRON__V1__RECORD_REDEMPTION_REQUEST__INIT;
    Patron__V1__RecordRedemptionResponse *r;
    int rc;

    if ((rc = cli_parse(argc, argv, 2, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (need(opts, (const char *const[]){ "discount", NULL }, cmd.name) != 0)
        return CLI_USAGE;
    req.redemption_id = (char *)a->id;
    req.customer_id = (char *)a->user;
    req.coupon_id = (char *)a->coupon;
    req.discount = a->discount;
    req.time_unix_ms = a->as_of;
    r = (Patron__V1__RecordRedemptionResponse *)cli_call(
        a->addr, "/patron.v1.Coupons/RecordRedemption", &req.base,
        &patron__v1__record_redemption_response__descriptor);
    if (!r)
        return CLI_FAIL;
    printf("redemption %s%s: campaign spent %.2f, committed %.2f, budget %.2f\n", a->id,
           r->duplicate ? " (duplicate: nothing changed)" : "", r->campaign_spent,
           r->campaign_committed, r->campaign_budget);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return CLI_OK;
}

static int budget(int argc, char **argv, coupon_args_t *a)
{
    static const cli_cmd_t cmd = {
        "coupon budget", "--data DIR --campaign C",
        "A campaign's budget account from the store (no RPC reports it; the store may be\n"
        "served meanwhile): budget, spent, committed, remaining, grants, redemptions."
    };
    uint64_t map_bytes = 0;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a->data),
        CLI_MAP_SIZE(&map_bytes),
        CLI_STR("campaign", "C", "the campaign", CLI_REQUIRED, &a->campaign),
        CLI_END,
    };
    couponstore_budget_t b;
    store_t *s;
    int rc;

    if ((rc = cli_parse(argc, argv, 2, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (cli_store_open(a->data, map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = couponstore_get_budget(s, a->campaign, &b);
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: no campaign \"%s\" (no coupon of it was ever stored)\n",
                a->campaign);
        return CLI_FAIL;
    }
    if (rc) {
        cli_error(rc, "cannot read the budget of %s", a->campaign);
        return CLI_FAIL;
    }
    printf("campaign %s: budget %.2f, spent %.2f, committed %.2f, remaining %.2f; %llu "
           "grants, %llu redemptions\n", a->campaign, b.budget, b.spent, b.committed,
           b.budget - b.spent - b.committed, (unsigned long long)b.grants,
           (unsigned long long)b.redemptions);
    return CLI_OK;
}

static const char coupon_usage[] =
    "usage: patron coupon upsert|target|audience|redeem|budget [flags]\n"
    "       (patron coupon SUB --help for a sub-command's flags)\n";

static int cmd_coupon(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **, coupon_args_t *);
    } subs[] = {
        { "upsert", upsert }, { "target", target }, { "audience", audience },
        { "redeem", redeem }, { "budget", budget },
    };
    const char *sub = argc > 1 ? argv[1] : "";
    coupon_args_t a;

    memset(&a, 0, sizeof a);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(sub, subs[i].name))
            return subs[i].run(argc, argv, &a);
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(coupon_usage, stdout);
        return CLI_OK;
    }
    fprintf(stderr, "patron coupon: expected upsert, target, audience, redeem or budget%s%s\n",
            sub[0] ? ", got " : "", sub);
    fputs(coupon_usage, stderr);
    return CLI_USAGE;
}

static const cli_command_t commands[] = {
    { "coupon", "upsert|target|audience|redeem|budget: the coupon programme", cmd_coupon },
};

const cli_family_t cli_coupon_cmds_family = { "coupon programme (ask a running patrond)",
                                              commands, sizeof commands / sizeof commands[0] };
