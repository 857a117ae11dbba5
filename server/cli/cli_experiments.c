/*
 * cli_experiments.c - `patron experiment ...` and `patron simulate-experiment`.
 *
 *   patron experiment create|update --addr A --id ID --arm NAME:WEIGHT[:model=V][:blend=B][:diversity=D][:maxcat=N]...
 *                    [--layer L] [--traffic F] [--force CUSTOMER:ARM]... [--start TIME] [--stop TIME]
 *   patron experiment list --addr A
 *   patron experiment assign --addr A --user ID
 *   patron experiment report --addr A --id ID [--attribution-days N]
 *   patron simulate-experiment --data DIR [--days N] [--customers N] [--seed N]
 *
 * simulate-experiment copies the store in DIR (which must hold a trained
 * model) to a temporary directory, starts the real patrond on it (loopback,
 * ephemeral port), runs a two-arm experiment (personalized vs popularity
 * only) for a simulated month of customer visits whose purchases follow
 * each customer's own favourite categories, prints the report, stops the
 * server and removes the copy. DIR is not changed.
 */
#include "cli.h"
#include "cli_exp_html.h"
#include "pbjson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "patron/v1/events.pb-c.h"
#include "patron/v1/experiments.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "patron/v1/recommender.pb-c.h"
#include "wallclock.h"
#include "rng.h"

#define TIMEOUT_MS 30000
#define MAX_ARMS 16
#define MAX_FORCED 64

extern char **environ;

/* ---- experiment subcommands ------------------------------------------------------ */

typedef struct exp_args {
    const char *addr, *id, *layer, *user;
    double traffic;
    long long start, stop;
    uint32_t attribution_days;
    int json;
    const char *html;
    size_t n_arms, n_forced;
    Patron__V1__Arm arms[MAX_ARMS];
    Patron__V1__Arm *arm_ptrs[MAX_ARMS];
    char arm_names[MAX_ARMS][129];
    Patron__V1__ForcedArm forced[MAX_FORCED];
    Patron__V1__ForcedArm *forced_ptrs[MAX_FORCED];
    char forced_ids[MAX_FORCED][2][257];
} exp_args_t;

/* NAME:WEIGHT[:model=V][:blend=B][:diversity=D][:maxcat=N] */
static int parse_arm(const char *spec, exp_args_t *x)
{
    char buf[512], *save = NULL, *tok;
    Patron__V1__Arm *arm;
    int field = 0;

    if (x->n_arms == MAX_ARMS || strlen(spec) >= sizeof buf)
        return -1;
    arm = &x->arms[x->n_arms];
    patron__v1__arm__init(arm);
    snprintf(buf, sizeof buf, "%s", spec);
    for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save), field++) {
        if (field == 0) {
            snprintf(x->arm_names[x->n_arms], sizeof x->arm_names[0], "%s", tok);
            arm->arm_id = x->arm_names[x->n_arms];
        } else if (field == 1) {
            arm->weight = atof(tok);
        } else if (strncmp(tok, "model=", 6) == 0) {
            arm->model_version = strtoull(tok + 6, NULL, 10);
        } else if (strncmp(tok, "blend=", 6) == 0) {
            arm->popularity_blend = atof(tok + 6);
        } else if (strncmp(tok, "diversity=", 10) == 0) {
            arm->diversity = atof(tok + 10);
        } else if (strncmp(tok, "maxcat=", 7) == 0) {
            arm->max_per_category = (uint32_t)strtoul(tok + 7, NULL, 10);
        } else if (strcmp(tok, "nocoupons") == 0) {
            arm->coupons_off = 1;
        } else {
            return -1;
        }
    }
    if (field < 2)
        return -1;
    x->arm_ptrs[x->n_arms] = arm;
    x->n_arms++;
    return 0;
}

static int parse_forced(const char *spec, exp_args_t *x)
{
    const char *colon = strrchr(spec, ':');
    size_t n = x->n_forced;
    if (!colon || n == MAX_FORCED || (size_t)(colon - spec) >= sizeof x->forced_ids[0][0])
        return -1;
    memcpy(x->forced_ids[n][0], spec, (size_t)(colon - spec));
    x->forced_ids[n][0][colon - spec] = '\0';
    snprintf(x->forced_ids[n][1], sizeof x->forced_ids[n][1], "%s", colon + 1);
    patron__v1__forced_arm__init(&x->forced[n]);
    x->forced[n].customer_id = x->forced_ids[n][0];
    x->forced[n].arm_id = x->forced_ids[n][1];
    x->forced_ptrs[n] = &x->forced[n];
    x->n_forced++;
    return 0;
}

static int opt_arm(void *x, const char *v)
{
    if (parse_arm(v, x) == 0)
        return 0;
    fprintf(stderr, "patron experiment: --arm: expected NAME:WEIGHT[:model=V][:blend=B]"
                    "[:diversity=D][:maxcat=N][:nocoupons] (at most %d arms), got \"%s\"\n",
            MAX_ARMS, v);
    return -1;
}

static int opt_force(void *x, const char *v)
{
    if (parse_forced(v, x) == 0)
        return 0;
    fprintf(stderr, "patron experiment: --force: expected CUSTOMER:ARM (at most %d), "
                    "got \"%s\"\n", MAX_FORCED, v);
    return -1;
}

static const char exp_synopsis[] =
    "create|update --addr A --id ID --arm NAME:WEIGHT[:model=V][:blend=B][:diversity=D]"
    "[:maxcat=N]\n"
    "                         [--arm ...] [--layer L] [--traffic F] [--force CUSTOMER:ARM]\n"
    "                         [--start TIME] [--stop TIME]\n"
    "   or: patron experiment list --addr A\n"
    "   or: patron experiment assign --addr A --user ID\n"
    "   or: patron experiment report --addr A --id ID [--attribution-days N] [--json]\n"
    "                         [--html FILE]";

/* Parses the flags after the sub-command word into *x. */
static int parse_exp_args(int argc, char **argv, const cli_cmd_t *cmd, exp_args_t *x)
{
    cli_opt_t opts[] = {
        CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &x->addr),
        CLI_STR("id", "ID", "experiment id (create, update, report)", 0, &x->id),
        CLI_STR("layer", "L", "layer: experiments in one layer never share a customer",
                0, &x->layer),
        CLI_NUM("traffic", "F", "share of the layer's customers in it (default 1)", 0, 1,
                &x->traffic),
        CLI_CALL("arm", "SPEC", "an arm, NAME:WEIGHT[:model=V]...; repeat per arm", opt_arm, x),
        CLI_CALL("force", "CUSTOMER:ARM", "pin a customer to an arm; repeatable", opt_force, x),
        CLI_TIME("start", "create, update: serve from this time (default: at once)",
                 &x->start),
        CLI_TIME("stop", "create, update: stop serving at this time (default: never)",
                 &x->stop),
        CLI_STR("user", "ID", "customer id (assign)", 0, &x->user),
        CLI_U32("attribution-days", "N", "report: days after exposure that count", 0, 3650,
                &x->attribution_days),
        CLI_FLAG("json", "report: the results as JSON (the API's proto3 JSON mapping)",
                 &x->json),
        CLI_STR("html", "FILE", "report: also write a self-contained HTML page", 0, &x->html),
        CLI_END,
    };
    memset(x, 0, sizeof *x);
    x->traffic = 1.0;
    return cli_parse(argc, argv, 2, cmd, opts);
}

static void print_experiment(const Patron__V1__Experiment *e)
{
    char start[CLI_TIME_CAP], stop[CLI_TIME_CAP];
    printf("experiment %s: layer %s, salt %s, traffic %.3f, start %s, stop %s\n",
           e->experiment_id, e->layer, e->salt, e->traffic_fraction,
           e->start_unix_ms ? cli_time_format(e->start_unix_ms, start) : "none",
           e->stop_unix_ms ? cli_time_format(e->stop_unix_ms, stop) : "none");
    for (size_t i = 0; i < e->n_arms; i++)
        printf("  arm %-12s weight %.3f model %llu blend %.2f diversity %.2f maxcat %u%s\n",
               e->arms[i]->arm_id, e->arms[i]->weight,
               (unsigned long long)e->arms[i]->model_version, e->arms[i]->popularity_blend,
               e->arms[i]->diversity, e->arms[i]->max_per_category,
               e->arms[i]->coupons_off ? " coupons off" : "");
    for (size_t i = 0; i < e->n_forced_arms; i++)
        printf("  forced %s -> %s\n", e->forced_arms[i]->customer_id, e->forced_arms[i]->arm_id);
}

static void print_diff(const char *label, const Patron__V1__Difference *d, int sequential)
{
    printf("      %-8s %+10.4f (%+6.1f%%)  95%% CI [%+.4f, %+.4f]  p %.4f", label,
           d->estimate, 100 * d->relative, d->ci_low, d->ci_high, d->p_value);
    if (sequential)
        printf("  always-valid p %.4f", d->always_valid_p);
    printf("\n");
}

/* The report: SRM first and loudly, then arms, then the differences. */
static void print_report(const Patron__V1__GetExperimentResultsResponse *r)
{
    uint64_t exposed = 0;
    for (size_t i = 0; i < r->n_arms; i++)
        exposed += r->arms[i]->customers;
    printf("== experiment %s\n", r->experiment_id);
    if (!exposed)
        printf("no exposed customers yet\n");
    else if (r->sample_ratio_mismatch)
        printf("!!! SAMPLE RATIO MISMATCH (chi-square p = %.3g): assignment or logging is "
               "broken; no other number below can be trusted !!!\n", r->srm_p_value);
    else
        printf("sample ratio check: ok (chi-square p = %.3f)\n", r->srm_p_value);
    if (r->customers_in_two_arms)
        printf("warning: %llu customers were exposed in two arms\n",
               (unsigned long long)r->customers_in_two_arms);
    if (r->warning && r->warning[0])
        printf("warning: %s\n", r->warning);
    printf("planned customers per arm (5%% revenue lift, 80%% power): %llu\n",
           (unsigned long long)r->planned_customers_per_arm);
    printf("%-12s %8s %9s %6s %10s %10s %10s %10s %9s\n", "arm", "share", "customers",
           "expos.", "conversion", "revenue/c", "margin/c", "click-thr", "rev/expo");
    for (size_t i = 0; i < r->n_arms; i++) {
        const Patron__V1__ArmResult *a = r->arms[i];
        double v[5] = { 0 };
        for (size_t k = 0; k < a->n_metrics && k < 5; k++)
            v[k] = a->metrics[k]->value;
        printf("%-12s %8.3f %9llu %6llu %10.4f %10.2f %10.2f %10.4f %9.2f\n", a->arm_id,
               a->expected_share, (unsigned long long)a->customers,
               (unsigned long long)a->exposures, v[0], v[1], v[2], v[3], v[4]);
    }
    for (size_t i = 1; i < r->n_arms; i++) {
        const Patron__V1__ArmResult *a = r->arms[i];
        printf("  %s vs %s:\n", a->arm_id, r->arms[0]->arm_id);
        for (size_t k = 0; k < a->n_metrics; k++) {
            const Patron__V1__Metric *m = a->metrics[k];
            if (!m->vs_control)
                continue;
            printf("    %s\n", m->name);
            print_diff("plain", m->vs_control, k < 3);
            if (m->cuped && m->cuped_variance_reduction > 0.001)
                print_diff("CUPED", m->cuped, 0);
        }
    }
}

/* GetExperimentResults of id with an attribution window of days. */
static Patron__V1__GetExperimentResultsResponse *results(client_t *c, const char *id,
                                                         unsigned days)
{
    Patron__V1__GetExperimentResultsRequest req = PATRON__V1__GET_EXPERIMENT_RESULTS_REQUEST__INIT;
    req.experiment_id = (char *)id;
    req.attribution_days = days;
    return (Patron__V1__GetExperimentResultsResponse *)cli_rpc(
        c, "/patron.v1.Experiments/GetExperimentResults", &req.base,
        &patron__v1__get_experiment_results_response__descriptor);
}

/* Default attribution window of the results (the API's 0). */
#define DEFAULT_ATTRIBUTION_DAYS 14

/* --html FILE: r and the results at windows of 1..days days, as one page. */
static int report_html(client_t *c, const char *path, const char *id, unsigned days,
                       const Patron__V1__GetExperimentResultsResponse *r)
{
    Patron__V1__GetExperimentResultsResponse *by_day[366] = { NULL };
    size_t n = 0;
    int rc = 0;

    days = days ? days : DEFAULT_ATTRIBUTION_DAYS;
    days = days < 366 ? days : 366;
    for (; n < days; n++)
        if (!(by_day[n] = results(c, id, (unsigned)n + 1))) {
            rc = -EIO;
            break;
        }
    if (rc == 0 && (rc = cli_experiment_html(path, r, by_day, n)) != 0)
        cli_error(rc, "writing %s", path);
    else if (rc == 0)
        fprintf(stderr, "report written to %s\n", path);
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&by_day[i]->base, NULL);
    return rc;
}

/* Prints the results of experiment id (as JSON with json) and with html
 * writes the page too; 0 or 1. */
static int report(client_t *c, const char *id, unsigned days, int json, const char *html)
{
    Patron__V1__GetExperimentResultsResponse *r = results(c, id, days);
    json_object *o;
    char err[256];
    int rc = 0;

    if (!r)
        return 1;
    if (!json)
        print_report(r);
    else if ((rc = pbjson_to_object(&r->base, &o, err, sizeof err)) != 0)
        fprintf(stderr, "patron: the results as JSON: %s\n", err);
    else
        rc = cli_json_print(o);
    if (rc == 0 && html)
        rc = report_html(c, html, id, days, r);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc ? 1 : 0;
}

/* Creates (or updates) e and prints the stored definition; 0 or 1. */
static int send_experiment(client_t *c, Patron__V1__Experiment *e, int update)
{
    Patron__V1__CreateExperimentRequest create = PATRON__V1__CREATE_EXPERIMENT_REQUEST__INIT;
    Patron__V1__UpdateExperimentRequest upd = PATRON__V1__UPDATE_EXPERIMENT_REQUEST__INIT;
    const Patron__V1__Experiment *stored;
    ProtobufCMessage *got;

    create.experiment = upd.experiment = e;
    if (update)
        got = cli_rpc(c, "/patron.v1.Experiments/UpdateExperiment", &upd.base,
                      &patron__v1__update_experiment_response__descriptor);
    else
        got = cli_rpc(c, "/patron.v1.Experiments/CreateExperiment", &create.base,
                      &patron__v1__create_experiment_response__descriptor);
    if (!got)
        return 1;
    stored = update ? ((Patron__V1__UpdateExperimentResponse *)got)->experiment
                    : ((Patron__V1__CreateExperimentResponse *)got)->experiment;
    if (stored)
        print_experiment(stored);
    else
        fprintf(stderr, "patron: the server answered without the experiment\n");
    protobuf_c_message_free_unpacked(got, NULL);
    return stored ? 0 : 1;
}

static int put(client_t *c, const exp_args_t *x, int update)
{
    Patron__V1__Experiment e = PATRON__V1__EXPERIMENT__INIT;
    e.experiment_id = (char *)x->id;
    e.layer = (char *)(x->layer ? x->layer : "");
    e.traffic_fraction = x->traffic;
    e.start_unix_ms = x->start;
    e.stop_unix_ms = x->stop;
    e.n_arms = x->n_arms;
    e.arms = (Patron__V1__Arm **)x->arm_ptrs;
    e.n_forced_arms = x->n_forced;
    e.forced_arms = (Patron__V1__ForcedArm **)x->forced_ptrs;
    return send_experiment(c, &e, update);
}

static int cmd_experiment(int argc, char **argv)
{
    static exp_args_t x; /* large; one command per process */
    static const char *const subs[] = { "create", "update", "list", "assign", "report" };
    const char *sub = argc > 1 ? argv[1] : "";
    char name[64];
    client_t *c;
    int rc = 1, known = 0;

    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        known |= strcmp(sub, subs[i]) == 0;
    snprintf(name, sizeof name, "experiment%s%s", known ? " " : "", known ? sub : "");
    cli_cmd_t cmd = { name, exp_synopsis,
                      "Creates, changes, lists and reports A/B experiments on a running "
                      "server." };
    if (!known) {
        int help = !strcmp(sub, "--help") || !strcmp(sub, "-h");
        if (!help)
            fprintf(stderr, "patron experiment: expected create, update, list, assign or "
                            "report%s%s\n", sub[0] ? ", got " : "", sub);
        printf("usage: patron experiment %s\n", exp_synopsis);
        return help ? CLI_OK : CLI_USAGE;
    }
    if ((rc = parse_exp_args(argc, argv, &cmd, &x)) != CLI_PARSED)
        return rc;
    if (client_open(x.addr, &c) != 0)
        return CLI_FAIL;
    rc = CLI_FAIL;
    if ((!strcmp(sub, "create") || !strcmp(sub, "update")) && x.id) {
        rc = put(c, &x, sub[0] == 'u');
    } else if (!strcmp(sub, "report") && x.id) {
        rc = report(c, x.id, x.attribution_days, x.json, x.html);
    } else if (!strcmp(sub, "list")) {
        Patron__V1__ListExperimentsRequest req = PATRON__V1__LIST_EXPERIMENTS_REQUEST__INIT;
        Patron__V1__ListExperimentsResponse *r = (Patron__V1__ListExperimentsResponse *)cli_rpc(
            c, "/patron.v1.Experiments/ListExperiments", &req.base,
            &patron__v1__list_experiments_response__descriptor);
        if (r) {
            for (size_t i = 0; i < r->n_experiments; i++)
                print_experiment(r->experiments[i]);
            protobuf_c_message_free_unpacked(&r->base, NULL);
            rc = 0;
        }
    } else if (!strcmp(sub, "assign") && x.user) {
        Patron__V1__GetAssignmentRequest req = PATRON__V1__GET_ASSIGNMENT_REQUEST__INIT;
        Patron__V1__GetAssignmentResponse *r;
        req.customer_id = (char *)x.user;
        r = (Patron__V1__GetAssignmentResponse *)cli_rpc(c, "/patron.v1.Experiments/GetAssignment",
                                                     &req.base,
                                                     &patron__v1__get_assignment_response__descriptor);
        if (r) {
            for (size_t i = 0; i < r->n_assignments; i++)
                printf("%s: experiment %s arm %s%s\n", x.user, r->assignments[i]->experiment_id,
                       r->assignments[i]->arm_id, r->assignments[i]->forced ? " (forced)" : "");
            if (!r->n_assignments)
                printf("%s: in no experiment\n", x.user);
            protobuf_c_message_free_unpacked(&r->base, NULL);
            rc = 0;
        }
    } else {
        fprintf(stderr, "patron experiment %s: %s is required\n", sub,
                strcmp(sub, "assign") == 0 ? "--user" : "--id");
        rc = CLI_USAGE;
    }
    client_close(c);
    return rc;
}

/* ---- simulate-experiment ----------------------------------------------------------- */

typedef struct sim_customer {
    char id[257];
    char fav[3][128];
    int n_fav;
} sim_customer_t;

typedef struct sim {
    sim_customer_t *cust;
    size_t n, cap;
    uint64_t rng;
} sim_t;

static double sim_unit(sim_t *s)
{
    return splitmix64_unit(&s->rng);
}

static int collect_customer(void *ctx, const uint8_t *msg, size_t len)
{
    sim_t *s = ctx;
    Patron__V1__SelectAudienceResponse *m =
        patron__v1__select_audience_response__unpack(NULL, len, msg);
    if (!m)
        return 1;
    if (m->customer_id[0] && m->profile && m->profile->n_favourite_categories && s->n < s->cap) {
        sim_customer_t *c = &s->cust[s->n++];
        snprintf(c->id, sizeof c->id, "%s", m->customer_id);
        for (size_t i = 0; i < m->profile->n_favourite_categories && i < 3; i++)
            snprintf(c->fav[c->n_fav++], sizeof c->fav[0], "%s",
                     m->profile->favourite_categories[i]);
    }
    patron__v1__select_audience_response__free_unpacked(m, NULL);
    return 0;
}

/* Copies DIR/data.mdb into a fresh temporary directory. */
static int copy_store(const char *data, char *tmp, size_t cap)
{
    char src[PATH_MAX + 16], dst[PATH_MAX + 16], buf[1 << 16];
    int in, out;
    ssize_t n;

    snprintf(tmp, cap, "/tmp/patron-sim-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(src, sizeof src, "%s/data.mdb", data);
    snprintf(dst, sizeof dst, "%s/db", tmp);
    if (mkdir(dst, 0700) != 0)
        return -1;
    snprintf(dst, sizeof dst, "%s/db/data.mdb", tmp);
    if ((in = open(src, O_RDONLY)) < 0)
        return -1;
    if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
        close(in);
        return -1;
    }
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    close(in);
    if (close(out) != 0 || n < 0)
        return -1;
    return 0;
}

/* Removes the temporary copy (a store is a few files, known by name). */
static void remove_copy(const char *tmp)
{
    static const char *const files[] = { "db/data.mdb", "db/lock.mdb", "port",
                                         "port.tmp", "patrond.log" };
    char path[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/db", tmp);
    rmdir(path);
    rmdir(tmp);
}

/* Starts patrond (next to this binary) on the copy; fills addr. */
static pid_t start_server(const char *tmp, char *addr, size_t cap)
{
    char self[PATH_MAX], patrond[PATH_MAX + 16], db[PATH_MAX + 16],
        port_file[PATH_MAX + 16], log[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    posix_spawn_file_actions_t fa;
    pid_t pid;
    char *args[10];

    if (n <= 0)
        return -1;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(patrond, sizeof patrond, "%s/patrond", self);
    snprintf(db, sizeof db, "%s/db", tmp);
    snprintf(port_file, sizeof port_file, "%s/port", tmp);
    snprintf(log, sizeof log, "%s/patrond.log", tmp);
    args[0] = patrond;
    args[1] = "--data";
    args[2] = db;
    args[3] = "--listen";
    args[4] = "127.0.0.1:0";
    args[5] = "--port-file";
    args[6] = port_file;
    args[7] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid, patrond, &fa, NULL, args, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; pid > 0 && i < 300; i++) { /* up to 30 s for the model load */
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) == 1 && port > 0) {
                fclose(f);
                snprintf(addr, cap, "127.0.0.1:%d", port);
                return pid;
            }
            fclose(f);
        }
        usleep(100000);
    }
    if (pid > 0)
        kill(pid, SIGKILL);
    return -1;
}

static int is_favourite(const sim_customer_t *c, const char *category, int *rank)
{
    for (int i = 0; i < c->n_fav; i++)
        if (strcmp(c->fav[i], category) == 0) {
            *rank = i;
            return 1;
        }
    return 0;
}

/* One visit: recommendations, then views and purchases driven by the
 * customer's favourite categories. Returns events added to batch, or
 * (size_t)-1 when Recommend failed. */
static size_t visit(client_t *c, sim_t *s, const sim_customer_t *cu, int day, size_t seq,
                    Patron__V1__Event *ev, char (*ids)[48], size_t cap)
{
    Patron__V1__RecommendRequest req = PATRON__V1__RECOMMEND_REQUEST__INIT;
    Patron__V1__RecommendResponse *r;
    size_t n = 0;

    req.customer_id = (char *)cu->id;
    req.k = 8;
    req.include_item_details = 1;
    r = (Patron__V1__RecommendResponse *)cli_rpc(c, "/patron.v1.Recommender/Recommend", &req.base,
                                             &patron__v1__recommend_response__descriptor);
    if (!r)
        return (size_t)-1;
    for (size_t i = 0; i < r->n_items && n + 2 <= cap; i++) {
        const Patron__V1__ScoredItem *it = r->items[i];
        int rank = 3;
        int fav = it->details && is_favourite(cu, it->details->category, &rank);
        double p_view = fav ? 0.35 - 0.08 * rank : 0.04;
        double p_buy = fav ? 0.10 - 0.025 * rank : 0.01;
        int viewed = sim_unit(s) < p_view;
        int bought = sim_unit(s) < p_buy;
        for (int kind = 0; kind < 2; kind++) {
            if (!(kind == 0 ? viewed || bought : bought))
                continue;
            patron__v1__event__init(&ev[n]);
            snprintf(ids[n], sizeof ids[n], "sim-%d-%zu-%zu", day, seq, n);
            ev[n].event_id = ids[n];
            ev[n].customer_id = (char *)cu->id;
            ev[n].item_id = (char *)it->item_id; /* valid until r is freed: copied below */
            ev[n].type = kind == 0 ? PATRON__V1__EVENT_TYPE__EVENT_TYPE_VIEW
                                   : PATRON__V1__EVENT_TYPE__EVENT_TYPE_PURCHASE;
            ev[n].time_unix_ms = wall_ms();
            ev[n].quantity = 1;
            ev[n].unit_price = it->details ? it->details->price : 10.0;
            n++;
        }
    }
    /* Keep the item ids past the response: copy them into the id buffers'
     * spare room (ids are short) before freeing r. */
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(ids[i]) + 1;
        snprintf(ids[i] + used, sizeof ids[i] - used, "%s", ev[i].item_id);
        ev[i].item_id = ids[i] + used;
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return n;
}

static int cmd_simulate_experiment(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "simulate-experiment", "--data DIR [--days N] [--customers N] [--seed N]",
        "Copies the store in DIR (with a trained model) to a temporary directory, starts\n"
        "patrond on it and runs a two-arm experiment (personalized vs popular) over\n"
        "simulated visits; prints the report. DIR is not changed."
    };
    const char *data = NULL;
    uint32_t days = 30, want = 300;
    int rc = 1;
    size_t total_events = 0, visits = 0;
    char tmp[PATH_MAX], addr[64], exp_id[64];
    sim_t s = { .rng = 42 };
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory (not changed)", CLI_REQUIRED, &data),
        CLI_U32("days", "N", "simulated days", 1, 365, &days),
        CLI_U32("customers", "N", "customers with purchases to simulate", 10, 100000, &want),
        CLI_U64("seed", "N", "random seed (default 42)", &s.rng),
        CLI_END,
    };
    client_t *c = NULL;
    pid_t pid;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    rc = 1;
    if (copy_store(data, tmp, sizeof tmp) != 0) {
        fprintf(stderr, "patron: cannot copy %s/data.mdb: %s\n", data, strerror(errno));
        return 1;
    }
    if ((pid = start_server(tmp, addr, sizeof addr)) < 0) {
        fprintf(stderr, "patron: could not start patrond (log in %s)\n", tmp);
        return 1;
    }
    printf("patrond started on %s over a temporary copy of %s\n", addr, data);
    if (client_open(addr, &c) != 0 || !(s.cust = calloc(want, sizeof *s.cust)))
        goto out;
    s.cap = want;
    {
        Patron__V1__SelectAudienceRequest req = PATRON__V1__SELECT_AUDIENCE_REQUEST__INIT;
        client_result_t res;
        size_t len;
        uint8_t *buf;
        req.expression = "orders >= 1";
        req.limit = want;
        len = protobuf_c_message_get_packed_size(&req.base);
        if (!(buf = malloc(len ? len : 1)))
            goto out;
        protobuf_c_message_pack(&req.base, buf);
        client_unary_stream(c, "/patron.v1.Profiles/SelectAudience", buf, len, TIMEOUT_MS,
                            collect_customer, &s, &res);
        free(buf);
        if (s.n < 10) {
            fprintf(stderr, "patron: the store has too few customers with purchases\n");
            goto out;
        }
    }
    snprintf(exp_id, sizeof exp_id, "sim-%lld", (long long)(wall_ms() / 1000));
    {
        Patron__V1__Experiment e = PATRON__V1__EXPERIMENT__INIT;
        Patron__V1__Arm a = PATRON__V1__ARM__INIT, b = PATRON__V1__ARM__INIT, *arms[2] = { &a, &b };
        a.arm_id = "personalized";
        a.weight = 0.5;
        b.arm_id = "popular";
        b.weight = 0.5;
        b.popularity_blend = 1.0;
        e.experiment_id = exp_id;
        e.layer = "simulation";
        e.traffic_fraction = 1.0;
        e.n_arms = 2;
        e.arms = arms;
        if (send_experiment(c, &e, 0) != 0)
            goto out;
    }
    printf("simulating %d days of visits by %zu customers (each visits on ~40%% of days; "
           "views and purchases follow their favourite categories)\n", (int)days, s.n);
    for (int day = 0; day < (int)days; day++) {
        for (size_t i = 0; i < s.n; i++) {
            Patron__V1__Event ev[16], *evp[16];
            char ids[16][48];
            size_t n;
            if (sim_unit(&s) >= 0.4)
                continue;
            visits++;
            n = visit(c, &s, &s.cust[i], day, i, ev, ids, 16);
            if (n == (size_t)-1) {
                fprintf(stderr, "patron: the server cannot recommend: stopping\n");
                goto out;
            }
            if (n) {
                Patron__V1__RecordEventsRequest rq = PATRON__V1__RECORD_EVENTS_REQUEST__INIT;
                Patron__V1__RecordEventsResponse *rr;
                for (size_t k = 0; k < n; k++)
                    evp[k] = &ev[k];
                rq.n_events = n;
                rq.events = evp;
                rr = (Patron__V1__RecordEventsResponse *)cli_rpc(
                    c, "/patron.v1.Events/RecordEvents", &rq.base,
                    &patron__v1__record_events_response__descriptor);
                if (rr) {
                    total_events += rr->accepted;
                    protobuf_c_message_free_unpacked(&rr->base, NULL);
                }
            }
        }
    }
    printf("%zu visits (Recommend calls, each logged as an exposure), %zu events recorded\n\n",
           visits, total_events);
    rc = report(c, exp_id, 0, 0, NULL);
out:
    client_close(c);
    free(s.cust);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    remove_copy(tmp);
    return rc;
}

static const cli_command_t commands[] = {
    { "experiment", "create|update|list|assign|report A/B experiments", cmd_experiment },
    { "simulate-experiment", "run an experiment on simulated visits to a copy",
      cmd_simulate_experiment },
};

const cli_family_t cli_experiments_family = { "experiments", commands,
                                              sizeof commands / sizeof commands[0] };
