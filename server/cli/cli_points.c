/*
 * cli_points.c - `patron points`: a customer's points ledger from a running
 * server (Profiles/ListPointsLedger), its last rows as a table and the
 * figures GetProfile shows beside it (points status, missions).
 *
 *   patron points --addr HOST:PORT --user ID [--as-of TIME] [--tail N]
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patron/v1/profiles.pb-c.h"

#define PAGE 1000

typedef struct points_args {
    const char *addr, *user;
    long long as_of;
    uint32_t tail;
} points_args_t;

static const char *reason_word(Patron__V1__PointsReason r)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&patron__v1__points_reason__descriptor, (int)r);
    return v ? v->name + strlen("POINTS_REASON_") : "?";
}

static void print_row(const Patron__V1__PointsLedgerRow *w)
{
    char t[CLI_TIME_CAP];
    printf("%-24s %-7s %-12s %-20s %+9lld %+9lld %9lld\n", cli_time_format(w->time_unix_ms, t),
           reason_word(w->reason), w->rule[0] ? w->rule : w->mission[0] ? w->mission : "-",
           w->source_id,
           (long long)w->delta, (long long)w->pending_delta, (long long)w->balance);
}

/* One page from token; NULL after printing the error. */
static Patron__V1__ListPointsLedgerResponse *page(const points_args_t *a, const char *token)
{
    Patron__V1__ListPointsLedgerRequest req = PATRON__V1__LIST_POINTS_LEDGER_REQUEST__INIT;
    req.customer_id = (char *)a->user;
    req.as_of_unix_ms = a->as_of;
    req.page_size = PAGE;
    req.page_token = (char *)token;
    return (Patron__V1__ListPointsLedgerResponse *)cli_call(
        a->addr, "/patron.v1.Profiles/ListPointsLedger", &req.base,
        &patron__v1__list_points_ledger_response__descriptor);
}

/* The rows after the last `tail` of the ledger's total are printed as the
 * pages pass. */
static int print_ledger(const points_args_t *a, uint64_t *total)
{
    char token[64] = "";
    uint64_t seen = 0;
    int first = 1;
    do {
        Patron__V1__ListPointsLedgerResponse *r = page(a, token);
        if (!r)
            return CLI_FAIL;
        if (first)
            printf("%-24s %-7s %-12s %-20s %9s %9s %9s\n", "time", "reason", "rule", "source",
                   "delta", "pending", "balance");
        first = 0;
        *total = r->total_rows;
        for (size_t i = 0; i < r->n_rows; i++, seen++)
            if (!a->tail || seen + a->tail >= r->total_rows)
                print_row(r->rows[i]);
        snprintf(token, sizeof token, "%s", r->next_page_token);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    } while (token[0]);
    return CLI_OK;
}

void cli_print_missions(const Patron__V1__Profile *p, const char *indent)
{
    for (size_t i = 0; i < p->n_missions; i++) {
        const Patron__V1__MissionStatus *m = p->missions[i];
        printf("%smission %-12s %s (reward %lld, completed %u time%s)\n", indent, m->mission,
               m->progress_text, (long long)m->reward_points, m->completions,
               m->completions == 1 ? "" : "s");
    }
}

static int print_status(const points_args_t *a, uint64_t total)
{
    Patron__V1__GetProfileRequest req = PATRON__V1__GET_PROFILE_REQUEST__INIT;
    Patron__V1__GetProfileResponse *resp;
    const Patron__V1__PointsStatus *s;
    char t1[CLI_TIME_CAP], t2[CLI_TIME_CAP];

    req.customer_id = (char *)a->user;
    req.as_of_unix_ms = a->as_of;
    resp = (Patron__V1__GetProfileResponse *)cli_call(
        a->addr, "/patron.v1.Profiles/GetProfile", &req.base,
        &patron__v1__get_profile_response__descriptor);
    if (!resp)
        return CLI_FAIL;
    if (resp->profile && (s = resp->profile->points_status) != NULL)
        printf("%llu rows; available %lld, pending %lld (next %lld on %s), expiring within "
               "%u days %lld (first on %s), expired %lld\n",
               (unsigned long long)total, (long long)s->available, (long long)s->pending,
               (long long)s->next_vest_points,
               s->next_vest_unix_ms ? cli_time_format(s->next_vest_unix_ms, t1) : "-",
               s->expiring_soon_days, (long long)s->expiring_soon,
               s->expiring_soon_unix_ms ? cli_time_format(s->expiring_soon_unix_ms, t2) : "-",
               (long long)s->expired);
    if (resp->profile)
        cli_print_missions(resp->profile, "");
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return CLI_OK;
}

int cli_points(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "points", "--addr HOST:PORT --user ID [--as-of TIME] [--tail N]",
        "A customer's points ledger (earn, vest, cancel, adjust, expire, redeem and\n"
        "mission rows), balance, pending and expiring points, and each mission's\n"
        "progress." };
    points_args_t a = { 0 };
    uint64_t total = 0;
    cli_opt_t opts[] = {
        CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &a.addr),
        CLI_STR("user", "ID", "the customer id", CLI_REQUIRED, &a.user),
        CLI_TIME("as-of", "the time to compute at (default: now)", &a.as_of),
        CLI_U32("tail", "N", "print the last N rows only (default: all)", 0, 1000000, &a.tail),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    if (rc != CLI_PARSED)
        return rc;
    if ((rc = print_ledger(&a, &total)) != CLI_OK)
        return rc;
    return print_status(&a, total);
}
