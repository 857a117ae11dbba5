/*
 * points_rpc.c - ListPointsLedger and the profile's PointsStatus
 * (points_rpc.h).
 *
 * GetProfile's mission statuses come from the same derived ledger (its
 * missions result), so a profile and the ledger rows always agree.
 *
 * Page tokens name a place in the ledger, not an offset: "pl1.T.K" is the
 * K-th row (from 0) at time T (unix ms), the row the next page starts
 * with. Rows are in time order and derived on every call, so the next page
 * starts where the last one ended even when events stored meanwhile add
 * rows after it.
 */
#include "points_rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "enums.h"
#include "id.h"
#include "points_store.h"
#include "store_links.h"
#include "utf8.h"
#include "wallclock.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
#define TOKEN_MAX 48


void points_status_fill(const profile_config_t *cfg, const customer_view_t *v,
                        Patron__V1__PointsStatus *m)
{
    patron__v1__points_status__init(m);
    m->available = v->points_balance;
    m->pending = v->points_pending;
    m->next_vest_points = v->points_next_vest;
    m->next_vest_unix_ms = v->points_next_vest_ms;
    m->expiring_soon = v->points_expiring;
    m->expiring_soon_unix_ms = v->points_expiring_ms;
    m->expiring_soon_days = cfg->points.expiring_soon_days;
    m->expired = v->points_expired;
}

/* ---- missions -------------------------------------------------------------------- */

#define MISSION_TEXT_MAX 512

struct missions_msg {
    Patron__V1__MissionStatus st[MISSIONS_MAX];
    Patron__V1__MissionStatus *ptrs[MISSIONS_MAX];
    char *cats[MISSIONS_MAX][MISSION_MAX_CATEGORIES];
    char text[MISSIONS_MAX][MISSION_TEXT_MAX];
    size_t n;
};

static void mission_fill(const customers_ctx_t *c, const mission_def_t *d,
                         const mission_progress_t *p, missions_msg_t *mm, size_t k)
{
    Patron__V1__MissionStatus *m = &mm->st[k];
    const char *const *names = c->cat ? (const char *const *)c->cat->categories : NULL;
    size_t n_names = c->cat ? c->cat->n_categories : 0;

    patron__v1__mission_status__init(m);
    m->mission = (char *)d->name;
    m->kind = (char *)mission_kind_name(d->kind);
    m->event_type = (char *)store_event_type_name(d->type);
    m->progress = p->progress;
    m->target = p->target;
    for (size_t j = 0; j < p->n_categories; j++)
        if (names && p->categories[j] < n_names)
            mm->cats[k][m->n_categories++] = (char *)names[p->categories[j]];
    m->categories = mm->cats[k];
    m->completed = p->completed;
    m->completed_unix_ms = p->completed_ms;
    m->period = (char *)mission_period_name(d->period);
    m->period_start_unix_ms = p->period_start_ms;
    m->period_end_unix_ms = p->period_end_ms == INT64_MAX ? 0 : p->period_end_ms;
    m->reward_points = d->reward_points;
    m->completions = p->completions;
    m->progress_text = missions_progress_text(d, p, names, n_names, mm->text[k],
                                              sizeof mm->text[k]);
    mm->ptrs[k] = m;
}

int missions_msg_new(const customers_ctx_t *c, const char *customer_id, int64_t now_ms,
                     missions_msg_t **out)
{
    points_store_view_t pv;
    missions_msg_t *mm;
    int rc;

    *out = NULL;
    if (c->cfg->missions.n == 0)
        return 0;
    if ((rc = points_store_ledger(c->store, c->cfg, c->cat, customer_id, now_ms, &pv)) == 0) {
        const missions_result_t *r = &pv.ledger.missions;
        if (!(mm = calloc(1, sizeof *mm))) {
            rc = -ENOMEM;
        } else {
            for (size_t k = 0; k < r->n && k < c->cfg->missions.n; k++)
                mission_fill(c, &c->cfg->missions.m[k], &r->progress[k], mm, k);
            mm->n = r->n;
            *out = mm;
        }
    }
    points_store_view_free(&pv);
    return rc;
}

void missions_msg_attach(missions_msg_t *mm, Patron__V1__Profile *p)
{
    if (!mm)
        return;
    p->missions = mm->ptrs;
    p->n_missions = mm->n;
}

void missions_msg_free(missions_msg_t *mm)
{
    free(mm);
}

/* ---- page tokens ----------------------------------------------------------------- */

typedef struct place {
    int64_t time_ms;
    uint64_t k;        /* rows at time_ms before it */
} place_t;

/* Digits only (a leading - when neg_ok), at most 19 of them, up to `end`;
 * 0 or -EINVAL. */
static int token_number(const char *s, char end, int neg_ok, const char **rest, int64_t *out)
{
    int neg = neg_ok && *s == '-', n = 0;
    int64_t v = 0;
    s += neg;
    for (; *s >= '0' && *s <= '9' && n < 19; s++, n++)
        v = v * 10 + (*s - '0');
    if (n == 0 || *s != end)
        return -EINVAL;
    *rest = s + (end != '\0');
    *out = neg ? -v : v;
    return 0;
}

/* "" is the start; else "pl1.T.K". 0 or -EINVAL. */
static int token_parse(const char *s, place_t *p)
{
    int64_t t, k;
    *p = (place_t){ INT64_MIN, 0 };
    if (!*s)
        return 0;
    if (strncmp(s, "pl1.", 4) != 0 || token_number(s + 4, '.', 1, &s, &t) ||
        token_number(s, '\0', 0, &s, &k))
        return -EINVAL;
    *p = (place_t){ t, (uint64_t)k };
    return 0;
}

/* The index of the first row at or after p. */
static size_t place_find(const points_ledger_t *l, place_t p)
{
    size_t i = 0;
    uint64_t k = 0;
    while (i < l->n && l->rows[i].time_ms < p.time_ms)
        i++;
    while (i < l->n && l->rows[i].time_ms == p.time_ms && k < p.k)
        i++, k++;
    return i;
}

/* The token of row i. */
static void place_token(const points_ledger_t *l, size_t i, char *buf, size_t cap)
{
    uint64_t k = 0;
    for (size_t j = i; j > 0 && l->rows[j - 1].time_ms == l->rows[i].time_ms; j--)
        k++;
    snprintf(buf, cap, "pl1.%" PRId64 ".%" PRIu64, l->rows[i].time_ms, k);
}

/* ---- ListPointsLedger ------------------------------------------------------------- */

static const char *request_invalid(const Patron__V1__ListPointsLedgerRequest *r, place_t *p)
{
    if (!id_check(r->customer_id, STORE_MAX_ID, 0))
        return "customer_id: 1..256 bytes required";
    if (r->as_of_unix_ms < 0)
        return "as_of_unix_ms: must be >= 0 (0 = now)";
    if (token_parse(r->page_token, p) != 0)
        return "page_token: not a token ListPointsLedger returned (\"\" for the first page)";
    return NULL;
}

/* Whether the store knows anything of the customer (a ledger can be empty). */
static int customer_known(store_t *s, const char *id, const points_store_view_t *pv)
{
    uint32_t idx;
    store_attrs_t at;
    return pv->n > 0 || pv->n_red > 0 || store_customer_index(s, id, &idx) == 0 ||
           store_get_attrs(s, id, &at) == 0;
}

/* Encodes rows [from, from + n) of pv's ledger. */
static void encode_page(const profile_config_t *cfg, const points_store_view_t *pv,
                        size_t from, size_t n, const char *resolved, rpc_reply_t *out)
{
    const points_ledger_t *l = &pv->ledger;
    Patron__V1__ListPointsLedgerResponse resp = PATRON__V1__LIST_POINTS_LEDGER_RESPONSE__INIT;
    Patron__V1__PointsLedgerRow *rows = calloc(n ? n : 1, sizeof *rows);
    Patron__V1__PointsLedgerRow **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    char next[TOKEN_MAX] = "";

    if (!rows || !ptrs) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const points_row_t *w = &l->rows[from + i];
        Patron__V1__PointsLedgerRow *m = &rows[i];
        patron__v1__points_ledger_row__init(m);
        m->time_unix_ms = w->time_ms;
        m->reason = points_reason_to_pb(w->reason);
        m->rule = (char *)points_rule_name(cfg, w->rule);
        m->source_id = (char *)w->source;
        m->delta = w->delta;
        m->pending_delta = w->pending_delta;
        m->balance = w->balance;
        m->pending = w->pending;
        m->bucket_unix_ms = w->bucket_ms;
        m->note = (char *)w->note;
        m->mission = w->mission >= 0 && (size_t)w->mission < cfg->missions.n
                         ? (char *)cfg->missions.m[w->mission].name : "";
        ptrs[i] = m;
    }
    if (from + n < l->n)
        place_token(l, from + n, next, sizeof next);
    resp.rows = ptrs;
    resp.n_rows = n;
    resp.next_page_token = next;
    resp.total_rows = l->n;
    resp.balance = l->balance;
    resp.pending = l->pending;
    resp.resolved_customer_id = (char *)resolved;
    encode(&resp.base, out);
out:
    free(rows);
    free(ptrs);
}

void h_list_points_ledger(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                          size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__ListPointsLedgerRequest *r = (Patron__V1__ListPointsLedgerRequest *)decode(
        &patron__v1__list_points_ledger_request__descriptor, req, len, out);
    char who[STORE_MAX_ID + 1];
    const char *bad;
    customers_ctx_t c;
    points_store_view_t pv;
    place_t at;
    size_t from, n;
    int linked, rc;

    if (!r)
        return;
    if ((bad = request_invalid(r, &at)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, linked, "resolving customer_id");
        goto out;
    }
    app_customers_begin(a, ci, &c);
    rc = points_store_ledger(c.store, c.cfg, c.cat, who,
                             r->as_of_unix_ms > 0 ? r->as_of_unix_ms : wall_ms(), &pv);
    if (rc) {
        fail_errno(out, rc, "reading the points ledger");
    } else if (!customer_known(c.store, who, &pv)) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: no events, attributes or points");
    } else {
        n = r->page_size == 0 ? PAGE_DEFAULT : r->page_size > PAGE_MAX ? PAGE_MAX : r->page_size;
        from = place_find(&pv.ledger, at);
        if (n > pv.ledger.n - from)
            n = pv.ledger.n - from;
        encode_page(c.cfg, &pv, from, n, linked ? who : "", out);
    }
    points_store_view_free(&pv);
    app_customers_end(a, &c);
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- AdjustPoints ------------------------------------------------------------------ */

/* The largest adjustment one call makes, either way. */
#define ADJUST_MAX 1000000000LL

static const char *adjust_invalid(const Patron__V1__AdjustPointsRequest *r)
{
    size_t n = strlen(r->reason);
    if (!id_check(r->customer_id, STORE_MAX_ID, ID_PRINTABLE))
        return "customer_id: 1..256 bytes of UTF-8 without control characters required";
    if (!id_check(r->adjustment_id, STORE_MAX_ID, ID_PRINTABLE))
        return "adjustment_id: 1..256 bytes of UTF-8 without control characters required";
    if (r->delta == 0 || r->delta > ADJUST_MAX || r->delta < -ADJUST_MAX)
        return "delta: must be nonzero, in -1000000000..1000000000";
    if (n == 0 || n > STORE_POINTS_REASON_MAX || !utf8_valid(r->reason, n))
        return "reason: 1..200 bytes of UTF-8 required (the ledger row shows it)";
    if (r->operator_id[0] && !id_check(r->operator_id, STORE_MAX_ID, ID_PRINTABLE))
        return "operator_id: at most 256 bytes of UTF-8 without control characters";
    return NULL;
}

static void adjust_reply(int rc, const Patron__V1__AdjustPointsRequest *r,
                         const customers_points_result_t *res, const char *resolved,
                         rpc_reply_t *out)
{
    Patron__V1__AdjustPointsResponse resp = PATRON__V1__ADJUST_POINTS_RESPONSE__INIT;
    if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: no events or attributes");
    } else if (rc == -ERANGE) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION,
                 "delta: the available balance %lld is less than %lld (an adjustment never "
                 "takes the balance below zero)", (long long)res->balance,
                 (long long)-r->delta);
    } else if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_ALREADY_EXISTS,
                 "adjustment_id: already used by a redemption of this customer");
    } else if (rc) {
        fail_errno(out, rc, "adjusting points");
    } else {
        resp.balance = res->balance;
        resp.duplicate = res->duplicate;
        resp.delta = res->duplicate ? res->stored.adjust : r->delta;
        resp.resolved_customer_id = (char *)resolved;
        encode(&resp.base, out);
    }
}

void h_adjust_points(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__AdjustPointsRequest *r = (Patron__V1__AdjustPointsRequest *)decode(
        &patron__v1__adjust_points_request__descriptor, req, len, out);
    customers_points_result_t res = { 0 };
    store_points_entry_t e;
    char who[STORE_MAX_ID + 1];
    const char *bad;
    customers_ctx_t c;
    int linked, rc;

    if (!r)
        return;
    if ((bad = adjust_invalid(r)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    memset(&e, 0, sizeof e);
    e.adjust = r->delta;
    e.time_ms = wall_ms();
    strcpy(e.reason, r->reason);
    strcpy(e.operator_id, r->operator_id);
    if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, linked, "resolving customer_id");
        goto out;
    }
    app_customers_begin(a, ci, &c);
    rc = customers_points_write(&c, who, r->adjustment_id, &e, e.time_ms, &res);
    app_customers_end(a, &c);
    adjust_reply(rc, r, &res, linked ? who : "", out);
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
