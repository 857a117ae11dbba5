/* triggers_rpc.c - patron.v1.Triggers/Subscribe (see triggers_rpc.h). */
#include "triggers_rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "codec.h"
#include "enums.h"
#include "patron/v1/triggers.pb-c.h"

typedef struct subscription {
    app_t *a;
    uint64_t cursor;            /* the last sequence sent (or the request's) */
    triggers_record_t rec;      /* the row being sent */
} subscription_t;

static void *subscribe_start(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                             size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__SubscribeRequest *r = (Patron__V1__SubscribeRequest *)decode(
        &patron__v1__subscribe_request__descriptor, req, len, out);
    uint64_t next = atomic_load(&a->trigger_next);
    subscription_t *s = NULL;

    (void)ci;
    if (!r)
        return NULL;
    if (r->cursor < 0)
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "cursor: must be 0 (from the start) or the sequence of the last "
                 "trigger processed, got %" PRId64, r->cursor);
    else if ((uint64_t)r->cursor >= next)
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "cursor: %" PRId64 " is beyond the newest trigger (%" PRIu64 "): "
                 "a cursor from another store?", r->cursor, next - 1);
    else if (!(s = calloc(1, sizeof *s)))
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    else {
        s->a = a;
        s->cursor = (uint64_t)r->cursor;
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return s;
}

static void encode_trigger(const triggers_record_t *t, rpc_reply_t *out)
{
    Patron__V1__SubscribeResponse resp = PATRON__V1__SUBSCRIBE_RESPONSE__INIT;
    Patron__V1__Trigger m = PATRON__V1__TRIGGER__INIT;
    Patron__V1__TriggerCoupon c = PATRON__V1__TRIGGER_COUPON__INIT;
    char *items[TRIGGER_MAX_ITEMS], *recs[TRIGGER_MAX_RECOMMEND_K];

    m.sequence = (int64_t)t->seq;
    m.customer_id = (char *)t->customer_id;
    m.rule = (char *)t->rule;
    m.kind = (Patron__V1__TriggerKind)t->kind;
    m.reason = (char *)t->reason;
    m.time_unix_ms = t->time_ms;
    m.fired_unix_ms = t->fired_ms;
    m.dedup_key = (char *)t->key;
    m.channel = t->channel >= 0 ? (Patron__V1__Channel)(t->channel + 1)
                                : PATRON__V1__CHANNEL__CHANNEL_UNSPECIFIED;
    m.contact_message_id = (char *)t->message_id;
    for (size_t i = 0; i < t->n_items; i++)
        items[i] = (char *)t->items[i];
    m.n_items = t->n_items;
    m.items = items;
    for (size_t i = 0; i < t->n_recommended; i++)
        recs[i] = (char *)t->recommended[i];
    m.n_recommended_items = t->n_recommended;
    m.recommended_items = recs;
    if (t->coupon_outcome >= 0) {
        c.request_id = (char *)t->coupon_request_id;
        c.coupon_id = (char *)t->coupon_id;
        c.campaign_id = (char *)t->coupon_campaign;
        c.outcome = outcome_to_pb(t->coupon_outcome);
        c.reason = (char *)t->coupon_reason;
        m.coupon = &c;
    }
    resp.trigger = &m;
    encode(&resp.base, out);
}

/* Nothing to send now: wait for the next trigger, or end when draining. */
static int idle(const subscription_t *s)
{
    return atomic_load(&s->a->draining) ? RPC_STREAM_DONE : RPC_STREAM_WAIT;
}

static int subscribe_next(void *st, rpc_reply_t *out)
{
    subscription_t *s = st;
    int rc;

    if (atomic_load(&s->a->draining))
        return RPC_STREAM_DONE;
    if (s->cursor + 1 >= atomic_load(&s->a->trigger_next))
        return idle(s);
    rc = triggers_next(s->a->store, s->cursor, &s->rec);
    if (rc == -ENOENT)
        return idle(s);
    if (rc) {
        fail_errno(out, rc, "reading the trigger log");
        return RPC_STREAM_DONE;
    }
    encode_trigger(&s->rec, out);
    if (out->code != GRPC_STATUS_OK)
        return RPC_STREAM_DONE;
    s->cursor = s->rec.seq;
    return RPC_STREAM_MESSAGE;
}

const rpc_stream_ops_t triggers_subscribe_ops = {
    .start = subscribe_start,
    .next = subscribe_next,
    .close = free,
};
