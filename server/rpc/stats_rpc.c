/*
 * stats_rpc.c - Admin/GetServerStats (see stats_rpc.h).
 */
#include "stats_rpc.h"

#include <stdlib.h>

#include "codec.h"
#include "status_names.h"
#include "store.h"
#include "patron/v1/admin.pb-c.h"
#include "wallclock.h"

/* One method's message; its arrays are carved from the caller's buffers. */
static void method_stats(const callstats_summary_t *s, const char *path,
                         Patron__V1__MethodStats *m, Patron__V1__StatusCount *codes,
                         Patron__V1__StatusCount **code_ptrs)
{
    size_t n = 0;
    patron__v1__method_stats__init(m);
    m->method = (char *)path;
    m->calls = s->calls;
    m->errors = s->errors;
    for (int c = 0; c < CALLSTATS_CODES; c++) {
        if (!s->by_code[c])
            continue;
        patron__v1__status_count__init(&codes[n]);
        codes[n].code = (char *)status_name(c);
        codes[n].calls = s->by_code[c];
        code_ptrs[n] = &codes[n];
        n++;
    }
    m->n_by_status = n;
    m->by_status = code_ptrs;
    m->mean_ms = s->mean_ms;
    m->p50_ms = s->p50_ms;
    m->p90_ms = s->p90_ms;
    m->p99_ms = s->p99_ms;
    m->max_ms = s->max_ms;
}

void h_server_stats(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                    size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    ProtobufCMessage *r = decode(&patron__v1__get_server_stats_request__descriptor,
                                 req, len, out);
    Patron__V1__GetServerStatsResponse resp = PATRON__V1__GET_SERVER_STATS_RESPONSE__INIT;
    size_t n = a->api->n_methods + 1, used = 0; /* + unknown methods */
    Patron__V1__MethodStats *ms = calloc(n ? n : 1, sizeof *ms);
    Patron__V1__MethodStats **mp = calloc(n ? n : 1, sizeof *mp);
    Patron__V1__StatusCount *codes = calloc((n ? n : 1) * CALLSTATS_CODES, sizeof *codes);
    Patron__V1__StatusCount **cp = calloc((n ? n : 1) * CALLSTATS_CODES, sizeof *cp);
    model_t *m;

    (void)ci;
    if (!r)
        goto out;
    protobuf_c_message_free_unpacked(r, NULL);
    if (!ms || !mp || !codes || !cp) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; a->stats && i < n; i++) {
        callstats_summary_t s;
        callstats_summarize(&a->stats[i], &s);
        if (!s.calls)
            continue;
        method_stats(&s, i < a->api->n_methods ? a->api->methods[i].path : "(unknown)",
                     &ms[used], codes + i * CALLSTATS_CODES,
                     cp + i * CALLSTATS_CODES);
        mp[used] = &ms[used];
        used++;
    }
    resp.started_unix_ms = a->started_ms;
    resp.uptime_seconds = (double)(wall_ms() - a->started_ms) / 1000.0;
    if ((m = model_slot_get(&a->models)) != NULL) {
        resp.model_version = m->hdr.version;
        model_unref(m);
    }
    resp.n_methods = used;
    resp.methods = mp;
    {
        size_t tokens;
        app_auth_state(a, &tokens, &resp.token_reload_failures);
        resp.tokens = (uint32_t)tokens;
    }
    Patron__V1__StoreUsage su = PATRON__V1__STORE_USAGE__INIT;
    store_usage_t u;
    if (store_usage(a->store, &u) == 0) { /* else left out: stats still answer */
        su.used_bytes = u.used_bytes;
        su.file_bytes = u.file_bytes;
        su.map_bytes = u.map_bytes;
        su.limit_bytes = u.limit_bytes;
        resp.store = &su;
    }
    encode(&resp.base, out);
out:
    free(ms);
    free(mp);
    free(codes);
    free(cp);
}
