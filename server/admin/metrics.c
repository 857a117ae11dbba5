/*
 * metrics.c - patrond's /metrics families (metrics.h), one static function
 * per source.
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couponstore.h"
#include "procstat.h"
#include "status_names.h"
#include "version.h"
#include "wallclock.h"

#define N_LE (METRICS_LE_LAST_OCTAVE - METRICS_LE_FIRST_OCTAVE + 1)

/* 2^octave microseconds in seconds: exact in six decimals, trailing zeros
 * dropped ("0.000032", "1.048576", "16.777216"). */
static void le_text(unsigned octave, char *buf, size_t cap)
{
    size_t n;

    snprintf(buf, cap, "%.6f", (double)(1ull << octave) / 1e6);
    n = strlen(buf);
    while (n > 1 && buf[n - 1] == '0' && buf[n - 2] != '.')
        buf[--n] = '\0';
}

static const char *method_name(const rpc_api_t *api, size_t i)
{
    return i < api->n_methods ? api->methods[i].path : "(unknown)";
}

static void rpc_calls(expo_t *e, const rpc_api_t *api, const callstats_t *stats)
{
    expo_family(e, "patron_rpc_calls_total", "counter",
                "gRPC calls finished, by method and status code.");
    for (size_t i = 0; i <= api->n_methods; i++) {
        for (int c = 0; c < CALLSTATS_CODES; c++) {
            uint64_t n = atomic_load_explicit(&stats[i].by_code[c], memory_order_relaxed);
            expo_label_t l[] = { { "method", method_name(api, i) },
                                 { "code", status_name(c) } };
            if (n || c == 0)
                expo_u64(e, "patron_rpc_calls_total", l, 2, n);
        }
    }
}

/* One method's histogram: callstats bucket b holds durations in
 * [2^(b/4) * (1 + (b%4)/4), ...) us for b >= 8, so the calls below 2^k us
 * are those of buckets 0 .. 4k-1. */
static void rpc_histogram(expo_t *e, const char *method, const callstats_t *s,
                          const char *const *le)
{
    uint64_t hist[CALLSTATS_BUCKETS], cum[N_LE], count = 0;
    expo_label_t l[] = { { "method", method } };
    unsigned b = 0;

    for (unsigned i = 0; i < CALLSTATS_BUCKETS; i++)
        hist[i] = atomic_load_explicit(&s->hist[i], memory_order_relaxed);
    for (unsigned k = 0; k < N_LE; k++) {
        for (; b < 4 * (METRICS_LE_FIRST_OCTAVE + k); b++)
            count += hist[b];
        cum[k] = count;
    }
    for (; b < CALLSTATS_BUCKETS; b++)
        count += hist[b];
    expo_histogram(e, "patron_rpc_duration_seconds", l, 1, le, cum, N_LE, count,
                   (double)atomic_load_explicit(&s->total_us, memory_order_relaxed) / 1e6);
}

void metrics_rpc(expo_t *e, const rpc_api_t *api, const callstats_t *stats)
{
    char text[N_LE][16];
    const char *le[N_LE];

    rpc_calls(e, api, stats);
    for (unsigned k = 0; k < N_LE; k++) {
        le_text(METRICS_LE_FIRST_OCTAVE + k, text[k], sizeof text[k]);
        le[k] = text[k];
    }
    expo_family(e, "patron_rpc_duration_seconds", "histogram",
                "gRPC call latency from the request's arrival to its status, by method.");
    for (size_t i = 0; i <= api->n_methods; i++)
        rpc_histogram(e, method_name(api, i), &stats[i], le);
}

static void gauge(expo_t *e, const char *name, const char *help, double v)
{
    expo_family(e, name, "gauge", help);
    expo_double(e, name, NULL, 0, v);
}

static void model(expo_t *e, app_t *a)
{
    model_t *m = model_slot_get(&a->models);

    gauge(e, "patron_model_version", "Version of the model served (0: none loaded).",
          m ? (double)m->hdr.version : 0);
    gauge(e, "patron_model_items", "Items the served model has factors for.",
          m ? (double)m->hdr.n_items : 0);
    if (m)
        gauge(e, "patron_model_age_seconds",
              "Seconds since the served model was trained (absent without a model).",
              (double)(wall_ms() - m->hdr.trained_at_ms) / 1000.0);
    model_unref(m);
}

/* The group commit's rounds (one fsync each) and the writes they carried:
 * their ratio is how well concurrent writers share a commit. */
static void commits(expo_t *e, app_t *a)
{
    store_commit_stats_t st;

    store_commit_stats(a->store, &st);
    expo_family(e, "patron_store_group_commits_total", "counter",
                "Group commit rounds committed (one fsynced transaction each).");
    expo_u64(e, "patron_store_group_commits_total", NULL, 0, st.rounds);
    expo_family(e, "patron_store_group_commit_writes_total", "counter",
                "Writes those rounds stored (a RecordEvents request or StreamEvents "
                "message is one write).");
    expo_u64(e, "patron_store_group_commit_writes_total", NULL, 0, st.writes);
}

static void programme(expo_t *e, app_t *a)
{
    programme_t *p = app_programme(a);
    gauge(e, "patron_programme_version",
          "Version of the loyalty programme in force (0: none stored yet: the --profiles "
          "file or the defaults).", (double)p->version);
    programme_unref(p);
}

static void store(expo_t *e, app_t *a)
{
    store_usage_t u;

    commits(e, a);
    if (store_usage(a->store, &u) != 0)
        return;
    gauge(e, "patron_store_bytes_used",
          "Bytes of the store's pages holding live data (LMDB reuses the rest).",
          (double)u.used_bytes);
    gauge(e, "patron_store_file_bytes", "Size of the store's data file (its high-water mark).",
          (double)u.file_bytes);
    gauge(e, "patron_store_map_bytes", "The store's LMDB map size now.", (double)u.map_bytes);
    gauge(e, "patron_store_map_limit_bytes",
          "The most the map may grow to: writes fail once bytes used nears it.",
          (double)u.limit_bytes);
}

static void auth(expo_t *e, app_t *a)
{
    size_t tokens;
    uint64_t failures;

    app_auth_state(a, &tokens, &failures);
    expo_family(e, "patron_auth_reload_failures_total", "counter",
                "Token file loads that failed (then every call but health is refused).");
    expo_u64(e, "patron_auth_reload_failures_total", NULL, 0, failures);
    gauge(e, "patron_auth_last_reload_success",
          "1 if the last token file load succeeded (or no --auth-file), 0 if it failed.",
          app_auth_last_ok(a));
    gauge(e, "patron_auth_tokens", "API tokens in service.", (double)tokens);
}

static void process(expo_t *e)
{
    procstat_t p;

    if (procstat_read(&p) != 0)
        return;
    expo_family(e, "process_cpu_seconds_total", "counter",
                "Total user and system CPU time spent in seconds.");
    expo_double(e, "process_cpu_seconds_total", NULL, 0, p.cpu_seconds);
    gauge(e, "process_resident_memory_bytes", "Resident memory size in bytes.",
          (double)p.resident_bytes);
    gauge(e, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
          (double)p.virtual_bytes);
    gauge(e, "process_open_fds", "Number of open file descriptors.", (double)p.open_fds);
    if (p.max_fds)
        gauge(e, "process_max_fds", "Maximum number of open file descriptors.",
              (double)p.max_fds);
    gauge(e, "process_start_time_seconds",
          "Start time of the process since unix epoch in seconds.", p.start_time_seconds);
}

/* ---- coupon budgets -------------------------------------------------------------- */

typedef struct campaign_budget {
    const char *campaign;      /* borrowed from the catalog snapshot */
    couponstore_budget_t b;
} campaign_budget_t;

static int by_campaign(const void *x, const void *y)
{
    return strcmp(((const campaign_budget_t *)x)->campaign,
                  ((const campaign_budget_t *)y)->campaign);
}

/* The distinct campaigns of cat, sorted, with their budget accounts read
 * from the store (a campaign whose account cannot be read is left out). */
static size_t read_budgets(store_t *s, const coupon_catalog_t *cat, campaign_budget_t *out)
{
    size_t n = 0, kept = 0;

    for (size_t i = 0; i < cat->n; i++)
        out[n++].campaign = cat->coupons[i].campaign;
    qsort(out, n, sizeof *out, by_campaign);
    for (size_t i = 0; i < n; i++) {
        if (kept && strcmp(out[kept - 1].campaign, out[i].campaign) == 0)
            continue;
        out[kept].campaign = out[i].campaign;
        if (couponstore_get_budget(s, out[kept].campaign, &out[kept].b) == 0)
            kept++;
    }
    return kept;
}

enum { SPENT, COMMITTED, TOTAL };

static void budget_family(expo_t *e, const char *name, const char *help,
                          const campaign_budget_t *cb, size_t n, int which)
{
    expo_family(e, name, "gauge", help);
    for (size_t i = 0; i < n; i++) {
        expo_label_t l[] = { { "campaign", cb[i].campaign } };
        const couponstore_budget_t *b = &cb[i].b;
        expo_double(e, name, l, 1, which == SPENT ? b->spent
                                   : which == COMMITTED ? b->committed : b->budget);
    }
}

static void budgets(expo_t *e, app_t *a)
{
    coupon_catalog_t *cat = coupon_catalog_slot_get(&a->coupons);
    campaign_budget_t *cb = cat && cat->n ? calloc(cat->n, sizeof *cb) : NULL;
    size_t n = cb ? read_budgets(a->store, cat, cb) : 0;

    if (cat && cat->n && !cb)
        e->failed = 1;
    budget_family(e, "patron_coupon_budget_spent", "Redeemed discounts, by campaign.",
                  cb, n, SPENT);
    budget_family(e, "patron_coupon_budget_committed",
                  "Worst-case cost of grants not yet redeemed or expired, by campaign.",
                  cb, n, COMMITTED);
    /* _limit, not _total: a gauge, and Prometheus (promtool's lint)
     * reserves _total for counters. */
    budget_family(e, "patron_coupon_budget_limit",
                  "The campaign's budget: spent + committed never exceeds it.",
                  cb, n, TOTAL);
    free(cb);
    coupon_catalog_unref(cat);
}

/* ---- what the use cases counted (counters.h) ---------------------------------- */


static const char *const outcomes[COUNTERS_OUTCOMES] = {
    [COUPON_GRANT] = "grant", [COUPON_GRANT_EXPLORE] = "grant_explore",
    [COUPON_NONE_NOT_WORTH] = "none_not_worth", [COUPON_NONE_EXPLORE] = "none_explore",
    [COUPON_NONE_INELIGIBLE] = "none_ineligible", [COUPON_NONE_HOLDOUT] = "none_holdout",
    [COUPON_NONE_VELOCITY] = "none_velocity", [COUPON_NONE_FREQUENCY] = "none_frequency",
};
_Static_assert(COUPON_NONE_FREQUENCY == COUNTERS_OUTCOMES - 1, "a name per coupon outcome");
_Static_assert(STORE_EVENT_TYPE_MAX == COUNTERS_EVENT_TYPES - 1, "a counter per event type");

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void events(expo_t *e, counters_t *c)
{
    expo_family(e, "patron_events_ingested_total", "counter",
                "Events stored (RecordEvents, StreamEvents), by type; duplicates excluded.");
    for (int t = 1; t < COUNTERS_EVENT_TYPES; t++) {
        expo_label_t l[] = { { "type", store_event_type_name(t) } };
        expo_u64(e, "patron_events_ingested_total", l, 1, load(&c->events[t]));
    }
    expo_family(e, "patron_events_rejected_total", "counter",
                "Events refused for a bad field or an implausible time.");
    expo_u64(e, "patron_events_rejected_total", NULL, 0, load(&c->events_rejected));
}

static void decisions(expo_t *e, counters_t *c)
{
    expo_family(e, "patron_coupon_decisions_total", "counter",
                "TargetCoupons decisions committed (replays excluded), by outcome.");
    for (int o = 0; o < COUNTERS_OUTCOMES; o++) {
        expo_label_t l[] = { { "outcome", outcomes[o] } };
        expo_u64(e, "patron_coupon_decisions_total", l, 1, load(&c->decisions[o]));
    }
}

static void triggers(expo_t *e, counters_t *c)
{
    static const char *const names[COUNTERS_TRIGGER_OUTCOMES] = { "logged", "deferred",
                                                                  "suppressed" };
    expo_family(e, "patron_triggers_total", "counter",
                "Trigger firings by what the contact policy made of them: logged "
                "(streamed by Triggers/Subscribe), deferred (tried again later; counted "
                "each time) or suppressed (no consent anywhere, or too late).");
    for (int o = 0; o < COUNTERS_TRIGGER_OUTCOMES; o++) {
        expo_label_t l[] = { { "outcome", names[o] } };
        expo_u64(e, "patron_triggers_total", l, 1, load(&c->triggers[o]));
    }
}

static void exposures(expo_t *e, counters_t *c)
{
    counters_arm_t *arms;
    size_t n;
    uint64_t dropped;

    if (counters_arms(c, &arms, &n, &dropped) != 0) {
        e->failed = 1;
        return;
    }
    expo_family(e, "patron_experiment_exposures_total", "counter",
                "Responses served under an experiment arm (Recommend, RankItems, "
                "TargetCoupons; a retried request id counts again).");
    for (size_t i = 0; i < n; i++) {
        expo_label_t l[] = { { "experiment", arms[i].experiment }, { "arm", arms[i].arm } };
        expo_u64(e, "patron_experiment_exposures_total", l, 2, arms[i].exposures);
    }
    expo_family(e, "patron_experiment_exposures_uncounted_total", "counter",
                "Exposures not counted by arm: more arms were served than the table holds.");
    expo_u64(e, "patron_experiment_exposures_uncounted_total", NULL, 0, dropped);
    free(arms);
}

static void build_info(expo_t *e)
{
    expo_label_t l[] = { { "version", patron_version() }, { "commit", patron_commit() } };

    expo_family(e, "patron_build_info", "gauge",
                "Always 1: the release and source commit of this patrond.");
    expo_double(e, "patron_build_info", l, 2, 1);
}

char *metrics_render(app_t *a, size_t *len)
{
    expo_t e;

    expo_init(&e);
    if (a->stats)
        metrics_rpc(&e, a->api, a->stats);
    model(&e, a);
    programme(&e, a);
    store(&e, a);
    budgets(&e, a);
    events(&e, &a->counters);
    decisions(&e, &a->counters);
    triggers(&e, &a->counters);
    exposures(&e, &a->counters);
    auth(&e, a);
    build_info(&e);
    process(&e);
    return expo_take(&e, len);
}
