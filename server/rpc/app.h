/*
 * app.h - the state one patrond process serves from: the store, the slots
 * holding what is served (model, catalog, coupon catalog, experiments: each
 * an immutable snapshot swapped atomically, which a request pins), and
 * whether the process is draining. Handlers receive it as their `app`
 * argument; there is no global instance. app_t must not move after
 * app_init (the experiments slot points at the model slot and options).
 */
#ifndef PATRON_SERVER_APP_H
#define PATRON_SERVER_APP_H

#include <pthread.h>
#include <stdatomic.h>

#include "api.h"
#include "arms.h"
#include "auth.h"
#include "callstats.h"
#include "catalog.h"
#include "counters.h"
#include "coupon_catalog.h"
#include "custdata.h"
#include "customers.h"
#include "customers_clv.h"
#include "exp_snapshot.h"
#include "model.h"
#include "profile.h"
#include "programme.h"
#include "shown.h"
#include "store.h"
#include "tz.h"
#include "triggers.h"

#define APP_MAX_OWNERS 12 /* OWNERS_DURABLE and the in-memory ones */
#define APP_DEFAULT_EVENT_SKEW_MS STORE_DEFAULT_EVENT_SKEW_MS

typedef struct app {
    store_t *store;           /* owned by main */
    const char *data_dir;     /* the store's directory (borrowed), for readiness */
    model_opts_t model_opts;  /* how each loaded version is indexed */
    model_slot_t models;
    catalog_slot_t catalogs;  /* the item catalog, swapped after item writes */
    coupon_catalog_slot_t coupons; /* coupon definitions, swapped after coupon writes */
    pthread_mutex_t reload_mu; /* one model load at a time */
    atomic_int draining;      /* set on SIGTERM (app_drain): health says NOT_SERVING */
    /* Bumped after every change health reports (a model swapped in,
     * draining, experiments_unloaded flipping), after the change is
     * visible: health Watch streams compare it instead of re-reading the
     * state (health_rpc.h). */
    atomic_uint_fast64_t health_epoch;

    /* The loyalty programme: the operator's settings as a whole (settings.h:
     * tiers and benefits, points rules, contact policy, triggers, coupon
     * guards, ...), an immutable snapshot (programme.h) swapped atomically
     * by SetProgramme (app_programme.c). A request pins one
     * (app_programme, or app_customers_begin) and reads every setting from
     * it to the end, never a mix of two versions. programme_mu orders the
     * writers: each stores its version and swaps it in before the next. */
    programme_slot_t programme;
    pthread_mutex_t programme_mu;
    /* Customer profiles: the catalog (a reference to the served snapshot,
     * not a copy) and RFM cut-points are replaced (under the write lock)
     * when items are upserted or a new model (trained with a new RFM job)
     * is loaded. */
    pthread_rwlock_t cust_lock;
    catalog_t *cust_catalog;
    rfm_cutpoints_t cutpoints;
    clv_model_t clv;          /* valid when has_clv (fitted by patron train) */
    int has_clv;

    /* Experiments: the served snapshot (definitions, assignment set, the
     * model versions arms pin), swapped by its slot (exp_snapshot.h). */
    exp_slot_t experiments;
    /* Nonzero while the stored definitions failed to load
     * (app_load_experiments): health says patron.v1.Experiments is
     * NOT_SERVING rather than serving silently without them. */
    atomic_int experiments_unloaded;

    shown_t *shown;           /* recently shown items, in memory */
    /* Time zones read for the contact policy (tz.h): each name loaded once,
     * shared by every thread. */
    tz_cache_t *zones;

    /* Who keeps data about a customer (custdata.h), walked by DeleteCustomer
     * and ExportCustomer: the durable owners, then the in-memory ones.
     * Filled once by app_init (app_owners.c). */
    custdata_owner_t owners[APP_MAX_OWNERS];
    size_t n_owners;

    /* Who may call what (auth.h); NULL auth_path: no checks. Replaced under
     * the write lock when the file is reloaded (SIGHUP). */
    const char *auth_path;
    pthread_rwlock_t auth_lock;
    auth_t *auth;
    uint64_t auth_failures;   /* failed loads, under auth_lock */
    int auth_last_ok;         /* the last load succeeded (1 before any), under auth_lock */

    const rpc_api_t *api;        /* what is served (methods.h), set by main */
    /* Calls by method: api->methods order plus one for unknown methods
     * (transport_opts_t.stats), owned by main; NULL until set. */
    callstats_t *stats;
    int64_t started_ms;          /* wall clock at start */
    /* What the use cases did (events, coupon decisions, exposures), for
     * /metrics; incremented where the work commits. */
    counters_t counters;
    int64_t max_event_skew_ms;   /* event times later than now + this are refused */
    int access_log;              /* --access-log: HTTP/JSON calls get lines too */

    /* Triggers (app_triggers.c): the sequence the next logged trigger gets,
     * bumped after each commit (Subscribe streams compare their cursor with
     * it on their tick instead of reading the store); the scheduler thread
     * (NULL until app_triggers_start). Firings go through the contact
     * policy (the programme's contact settings, zones). */
    atomic_uint_fast64_t trigger_next;
    struct trigger_sched *trigger_sched;
} app_t;

/* Returns 0 or a negative errno (the catalog could not be read). */
int app_init(app_t *a, store_t *store, const model_opts_t *opts);
void app_destroy(app_t *a);

/* Fills a->owners: the store, coupons, experiments, the recently-shown
 * list, the served model and the experiment set (app_owners.c). */
void app_owners_init(app_t *a);

/* Points profiles at the served catalog snapshot and re-reads the RFM
 * cut-points and the CLV model. */
int app_refresh_customers(app_t *a);

/* Rebuilds the catalog snapshot from the store and refreshes profiles: at
 * start and with each model load (items may have been written beside the
 * server, e.g. by patron import). UpsertItems goes through
 * app_upsert_items instead. Returns 0 or a negative errno (logged; the old
 * snapshot stays). */
int app_items_changed(app_t *a);

/* Stores items (store_upsert_items: same arguments, return value and
 * errors) and swaps in a catalog snapshot with them (patched, or rebuilt:
 * catalog_slot_upsert), so serving and profiles see the write from the
 * next request on. A snapshot that could not be built is logged; the
 * write stays committed. */
int app_upsert_items(app_t *a, const store_item_t *items, size_t n, size_t *inserted,
                     size_t *updated, size_t *bad_index, const char **reason);

/* After coupons were written: swaps in a coupon catalog snapshot read from
 * the store, so TargetCoupons decides with the write from the next call on.
 * Returns 0 or a negative errno (logged; the old snapshot stays). */
int app_coupons_changed(app_t *a);

/* The call's deadline as a monotime_seconds() value, the form recsys scans
 * take (they stop with -ETIMEDOUT once it passed); 0 when there is none or
 * ci is NULL. */
double app_deadline(const rpc_call_info_t *ci);

/* Takes the read lock, pins the programme in force and fills c for a
 * profile call (c->cfg is the pinned programme's profile settings), with
 * the call's deadline (ci may be NULL: none) so scans stop with -ETIMEDOUT
 * when it passes; release with app_customers_end(a, c). */
void app_customers_begin(app_t *a, const rpc_call_info_t *ci, customers_ctx_t *c);
/* app_customers_begin with programme p (a reference is taken): a stream
 * pins one programme at its start and uses it at every step. */
void app_customers_begin_with(app_t *a, const rpc_call_info_t *ci, programme_t *p,
                              customers_ctx_t *c);
void app_customers_end(app_t *a, customers_ctx_t *c);
/* The whole settings of the programme c pinned (coupon guards, contact
 * policy): borrowed until app_customers_end. */
const settings_t *app_customers_settings(const customers_ctx_t *c);

/* ---- the programme (app_programme.c) --------------------------------------------- */

/* For app_init: serves the defaults as version 0. 0 or -ENOMEM. */
int app_programme_init(app_t *a);

/* The programme in force, with a reference taken: release with
 * programme_unref. Never NULL after app_init (the defaults, version 0). */
programme_t *app_programme(app_t *a);

/* At start: serves the newest stored version when the store holds one (the
 * --profiles file at path is then not used: a warning says so when its
 * text differs), else the file at path (NULL: the defaults) as version 0,
 * which is not stored until the first SetProgramme. Logs which is in force.
 * Returns 0, or -EINVAL/-ENOENT/a store error with err saying what (a bad
 * file line, a stored version this build refuses). */
int app_programme_start(app_t *a, const char *path, char *err, size_t cap);

/* What SetProgramme or a rollback asks for. */
typedef struct app_programme_edit {
    uint64_t expected_version;  /* the version the editor read (0: none stored) */
    const char *text;           /* len bytes, settings-file syntax */
    size_t len;
    const char *set_by;         /* the caller's token name; NULL or "": none */
    uint64_t rollback_of;       /* 0, or the stored version text repeats */
} app_programme_edit_t;

/* Parses e->text with the settings file's parser (settings_parse), stores
 * it durably as version expected + 1 if expected is still the newest, and
 * swaps it in for every request from the next one on. Returns 0 with *out
 * the new programme (a reference: unref it); -EINVAL (err: "programme:LINE:
 * setting: what"; nothing stored), -ESTALE (err names the newest version;
 * nothing stored), or a store error (nothing served changes). */
int app_programme_set(app_t *a, const app_programme_edit_t *e, programme_t **out, char *err,
                      size_t cap);

/* (Re)reads a->auth_path and swaps the tokens in (an empty file: none, so
 * every call but health checks is refused). On error (the file deleted,
 * readable by others, a bad line) it fails closed: the tokens served so far
 * are dropped too, so revoking by deleting the file revokes, and a leaked
 * file's tokens stop working. Returns 0 or auth_load's error with err set.
 * A NULL auth_path is 0: every call allowed. */
int app_load_auth(app_t *a, char *err, size_t cap);

/* For GetServerStats: tokens in service and failed loads since start. */
void app_auth_state(app_t *a, size_t *tokens, uint64_t *failures);

/* For /metrics: 1 if the last token load succeeded (or none happened: no
 * --auth-file), 0 if it failed (every call but health is refused). */
int app_auth_last_ok(app_t *a);

/* transport's authorize hook (ctx is the app_t): OK, UNAUTHENTICATED or
 * PERMISSION_DENIED with a message naming the method. */
int app_authorize(void *ctx, const char *path, const char *token, size_t len,
                  char *msg, size_t cap);

/* Why the process does not serve what `flags` (RPC_SVC_*) need, or NULL
 * when it does: "draining", "stored experiment definitions not loaded",
 * "no model loaded" (static strings). The one readiness rule, shared by
 * grpc.health.v1 (health_rpc.c) and /readyz (server/admin). Thread-safe
 * (app_ready.c). */
const char *app_unready(app_t *a, int flags);

/* Whether writes to the store can succeed: 1, or 0 with why (cap bytes)
 * saying what stops them (the data directory not writable, its file system
 * read-only or full). Thread-safe; a few system calls, no store
 * transaction (app_ready.c). */
int app_store_writable(app_t *a, char *why, size_t cap);

/* Loads the newest published model if it differs from the one served and
 * swaps it in. *version gets the version served afterwards (0 if none).
 * Returns 0 (also when nothing changed or no model exists yet) or a
 * negative errno from loading; the old model stays in service on error. */
int app_reload(app_t *a, uint64_t *version);

/* Serves the stored experiment definitions (exp_slot_load: at start after
 * the first model load, and again on SIGHUP while they are not served).
 * On failure logs the reason (the definition or arm, or the store error),
 * sets experiments_unloaded and keeps serving the previous set; on success
 * clears it. Returns exp_slot_load's result. */
int app_load_experiments(app_t *a);

/* SIGTERM: from now on health answers NOT_SERVING for everything, and
 * Watch streams send that and end (health_rpc.h). */
void app_drain(app_t *a);

/* ---- triggers (app_triggers.c) -------------------------------------------------- */

/* Starts the trigger scheduler thread when the programme in force defines
 * trigger rules (a programme edited to have rules where the one at start
 * had none needs a restart to start it; rules and the scan period are
 * read from the programme in force at each evaluation): it evaluates the customers
 * app_triggers_touch queued as soon as they are queued, and every customer
 * (with events, or with attributes alone: a birthday, a signup date) every
 * scan_seconds (the time-based rules: cart abandonment,
 * stage changes, birthdays, price drops). Reads a->trigger_next from the
 * store first. Returns 0 (also with no rules: nothing started) or a
 * negative errno. Call after app_init and the settings, before serving. */
int app_triggers_start(app_t *a);

/* Stops and joins the scheduler (an evaluation under way finishes first);
 * queued customers not yet evaluated are dropped (the next start's first
 * scan sees them). NULL-safe about a scheduler never started. Call before
 * app_destroy, after app_drain. */
void app_triggers_stop(app_t *a);

/* After events were committed: queues these customers (n ids) for the
 * scheduler to evaluate now. Never blocks on an evaluation; when the queue
 * is full the scheduler runs a full scan instead. A no-op without rules. */
void app_triggers_touch(app_t *a, const char *const *customer_ids, size_t n);

/* Evaluates one customer now, on the calling thread, under the scheduler's
 * lock (evaluations never overlap). Returns triggers_evaluate's result. */
int app_triggers_evaluate(app_t *a, const char *customer_id, int64_t now_ms,
                          triggers_result_t *res);

/* After the store erased customer index `user`: marks it erased in every
 * loaded model (the served one and those experiment arms pin), so its
 * trained factors stop being used at once, without reloading a model. */
void app_forget_customer(app_t *a, uint32_t user);

#endif
