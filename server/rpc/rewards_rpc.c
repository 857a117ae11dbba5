/*
 * rewards_rpc.c - RedeemPoints of a reward and ListRewards
 * (rewards_rpc.h).
 */
#include "rewards_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "id.h"
#include "rewards.h"
#include "store_links.h"
#include "wallclock.h"

#define WHY_MAX 320

static Patron__V1__RewardKind kind_to_pb(int kind)
{
    switch (kind) {
    case POINTS_REWARD_COUPON: return PATRON__V1__REWARD_KIND__REWARD_KIND_COUPON;
    case POINTS_REWARD_CASH: return PATRON__V1__REWARD_KIND__REWARD_KIND_CASH;
    case POINTS_REWARD_TIER: return PATRON__V1__REWARD_KIND__REWARD_KIND_TIER;
    default: return PATRON__V1__REWARD_KIND__REWARD_KIND_UNSPECIFIED;
    }
}

/* ---- RedeemPoints of a reward ----------------------------------------------------- */

static const char *optional_id_invalid(const char *id, const char *field, char *buf,
                                       size_t cap)
{
    if (!id[0] || id_check(id, STORE_MAX_ID, ID_PRINTABLE))
        return NULL;
    snprintf(buf, cap, "%s: at most 256 bytes of UTF-8 without control characters", field);
    return buf;
}

/* The answer from the stored redemption (a retry's: the first one's). */
static void redeem_answer(const profile_config_t *cfg, const rewards_result_t *res,
                          const char *resolved, rpc_reply_t *out)
{
    Patron__V1__RedeemPointsResponse resp = PATRON__V1__REDEEM_POINTS_RESPONSE__INIT;
    const store_points_entry_t *e = &res->entry;
    const points_reward_t *w = points_reward_find(&cfg->points, e->reward_id);

    resp.balance = res->balance;
    resp.duplicate = res->duplicate;
    resp.reward_id = (char *)e->reward_id;
    resp.kind = e->coupon_id[0] ? PATRON__V1__REWARD_KIND__REWARD_KIND_COUPON
                : e->tier[0]    ? PATRON__V1__REWARD_KIND__REWARD_KIND_TIER
                : w             ? kind_to_pb(w->kind)
                                : PATRON__V1__REWARD_KIND__REWARD_KIND_UNSPECIFIED;
    resp.points = e->points;
    resp.coupon_id = (char *)e->coupon_id;
    resp.coupon_valid_until_unix_ms = e->coupon_id[0] ? e->until_ms : 0;
    resp.cash = e->cash;
    resp.tier = (char *)e->tier;
    resp.tier_until_unix_ms = e->tier[0] ? e->until_ms : 0;
    resp.resolved_customer_id = (char *)resolved;
    encode(&resp.base, out);
}

static void redeem_reply(int rc, const profile_config_t *pc,
                         const Patron__V1__RedeemPointsRequest *r,
                         const rewards_request_t *q, const rewards_result_t *res,
                         const char *resolved, rpc_reply_t *out)
{
    if (rc == 0) {
        redeem_answer(pc, res, resolved, out);
    } else if (rc == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: no events");
    } else if (rc == -ERANGE) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION,
                 "points: balance %lld is less than %lld (reward '%s'); nothing was spent",
                 (long long)res->balance, (long long)q->points, r->reward_id);
    } else if (rc == -EDQUOT || rc == -EPERM) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "reward_id: '%s' refused: %s; nothing "
                 "was spent", r->reward_id, res->why);
    } else if (rc == -ENXIO) {
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "reward_id: '%s' buys coupon '%s', "
                 "which is not in the coupon catalog (UpsertCoupon); nothing was spent",
                 r->reward_id, q->reward->target);
    } else if (rc == -EEXIST) {
        rpc_fail(out, GRPC_STATUS_ALREADY_EXISTS,
                 "redemption_id: already used by an adjustment of this customer");
    } else {
        fail_errno(out, rc, "redeeming a reward");
    }
}

void rewards_rpc_redeem(app_t *a, const rpc_call_info_t *ci,
                        const Patron__V1__RedeemPointsRequest *r, rpc_reply_t *out)
{
    /* One programme for the whole redemption: the reward, the guards, the answer. */
    programme_t *prog = app_programme(a);
    rewards_request_t q = { .customer_id = r->customer_id, .redemption_id = r->redemption_id,
                            .device_id = r->device_id, .address_id = r->address_id,
                            .coupon_cfg = &prog->settings.coupon, .now_ms = wall_ms() };
    rewards_result_t res;
    customers_ctx_t c;
    char buf[WHY_MAX], who[STORE_MAX_ID + 1];
    const char *bad;
    int linked, rc;

    if (!(q.reward = points_reward_find(&prog->settings.profile.points, r->reward_id))) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "reward_id: no reward \"%.64s\" in the catalog "
                 "(the settings file's reward lines; ListRewards lists them)", r->reward_id);
        goto out;
    }
    if ((bad = points_reward_points_invalid(q.reward, r->points, PROFILE_MAX_POINTS, &q.points,
                                            buf, sizeof buf)) ||
        (bad = optional_id_invalid(r->device_id, "device_id", buf, sizeof buf)) ||
        (bad = optional_id_invalid(r->address_id, "address_id", buf, sizeof buf))) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", bad);
        goto out;
    }
    if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
        fail_errno(out, linked, "resolving customer_id");
        goto out;
    }
    q.customer_id = who;
    app_customers_begin_with(a, ci, prog, &c);
    rc = rewards_redeem(&c, &q, &res);
    app_customers_end(a, &c);
    redeem_reply(rc, &prog->settings.profile, r, &q, &res, linked ? who : "", out);
out:
    programme_unref(prog);
}

/* ---- ListRewards ------------------------------------------------------------------ */

static void reward_fill(const points_reward_t *w, int64_t balance, int known,
                        Patron__V1__Reward *m)
{
    patron__v1__reward__init(m);
    m->reward_id = (char *)w->name;
    m->kind = kind_to_pb(w->kind);
    if (w->kind == POINTS_REWARD_COUPON)
        m->coupon_id = (char *)w->target;
    if (w->kind == POINTS_REWARD_TIER) {
        m->tier = (char *)w->target;
        m->tier_days = w->days;
    }
    m->cost = w->cost;
    m->cash_rate = w->rate;
    m->min_points = w->min_points;
    m->step_points = w->step;
    if (!known)
        return;
    if (w->kind != POINTS_REWARD_CASH) {
        m->affordable = balance >= w->cost;
        return;
    }
    m->affordable = balance >= w->min_points;
    if (m->affordable) {
        m->max_points = balance / w->step * w->step;
        m->max_cash = points_reward_cash(w, m->max_points);
    }
}

/* The customer's available balance now: 0 and *known, or an error. */
static int balance_of(app_t *a, const rpc_call_info_t *ci, const char *who, int64_t *balance)
{
    customers_ctx_t c;
    customer_view_t v;
    int rc;
    app_customers_begin(a, ci, &c);
    rc = customers_view(&c, who, wall_ms(), &v);
    app_customers_end(a, &c);
    *balance = rc == 0 ? v.points_balance : 0;
    return rc;
}

static void list_answer(app_t *a, int64_t balance, int known, const char *resolved,
                        rpc_reply_t *out)
{
    programme_t *prog = app_programme(a);
    const points_config_t *pc = &prog->settings.profile.points;
    Patron__V1__ListRewardsResponse resp = PATRON__V1__LIST_REWARDS_RESPONSE__INIT;
    Patron__V1__Reward *rows = calloc(pc->n_rewards ? pc->n_rewards : 1, sizeof *rows);
    Patron__V1__Reward **ptrs = calloc(pc->n_rewards ? pc->n_rewards : 1, sizeof *ptrs);

    if (!rows || !ptrs) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        for (size_t i = 0; i < pc->n_rewards; i++) {
            reward_fill(&pc->rewards[i], balance, known, &rows[i]);
            ptrs[i] = &rows[i];
        }
        resp.rewards = ptrs;
        resp.n_rewards = pc->n_rewards;
        resp.balance = balance;
        resp.resolved_customer_id = (char *)resolved;
        encode(&resp.base, out);
    }
    free(rows);
    free(ptrs);
    programme_unref(prog);
}

void h_list_rewards(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                    rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__ListRewardsRequest *r = (Patron__V1__ListRewardsRequest *)decode(
        &patron__v1__list_rewards_request__descriptor, req, len, out);
    char who[STORE_MAX_ID + 1];
    int64_t balance = 0;
    int linked = 0, rc = 0;

    if (!r)
        return;
    if (r->customer_id[0] && !id_check(r->customer_id, STORE_MAX_ID, 0)) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "customer_id: at most 256 bytes");
        goto out;
    }
    if (r->customer_id[0]) {
        if ((linked = store_resolve_customer(a->store, r->customer_id, who)) < 0) {
            fail_errno(out, linked, "resolving customer_id");
            goto out;
        }
        rc = balance_of(a, ci, who, &balance);
    }
    if (rc == -ENOENT)
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "customer_id: no events, attributes or points");
    else if (rc)
        fail_errno(out, rc, "reading the points balance");
    else
        list_answer(a, balance, r->customer_id[0] != 0, linked ? who : "", out);
out:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
