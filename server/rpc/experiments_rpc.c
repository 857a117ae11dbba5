/*
 * experiments_rpc.c - the patron.v1.Experiments methods: definitions
 * (validated as a set, stored, swapped in), assignments, and results with
 * the statistics an analyst needs (SRM first, Welch, delta method, CUPED,
 * always-valid p-values, a warning when read before the planned size).
 */
#include "experiments_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "exp_report.h"
#include "patron/v1/experiments.pb-c.h"
#include "wallclock.h"

#define DAY_MS 86400000LL

/* Copies a string field into a fixed buffer; -1 if it does not fit. */
static int copy_id(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* Message -> definition; fields left empty stay empty (exp_slot_put fills
 * them). forced gets a malloc'd array (caller frees). */
static const char *from_pb(const Patron__V1__Experiment *p, experiment_t *e,
                           experiment_forced_t **forced)
{
    memset(e, 0, sizeof *e);
    *forced = NULL;
    if (copy_id(e->id, sizeof e->id, p->experiment_id))
        return "experiment_id: longer than 128 bytes";
    if (copy_id(e->salt, sizeof e->salt, p->salt))
        return "salt: longer than 128 bytes";
    if (copy_id(e->layer, sizeof e->layer, p->layer))
        return "layer: longer than 128 bytes";
    e->traffic_fraction = p->traffic_fraction;
    e->start_ms = p->start_unix_ms;
    e->stop_ms = p->stop_unix_ms;
    if (p->n_arms > EXPERIMENT_MAX_ARMS)
        return "arms: at most 16";
    e->n_arms = p->n_arms;
    for (size_t i = 0; i < p->n_arms; i++) {
        experiment_arm_t *a = &e->arms[i];
        if (copy_id(a->id, sizeof a->id, p->arms[i]->arm_id))
            return "arms[].arm_id: longer than 128 bytes";
        a->weight = p->arms[i]->weight;
        a->model_version = p->arms[i]->model_version;
        a->popularity_blend = p->arms[i]->popularity_blend;
        a->coupons_off = p->arms[i]->coupons_off;
        a->coupon_lambda = p->arms[i]->coupon_lambda;
        a->diversity = p->arms[i]->diversity;
        a->max_per_category = p->arms[i]->max_per_category;
    }
    if (p->n_forced_arms > 10000)
        return "forced_arms: at most 10000";
    if (p->n_forced_arms) {
        if (!(*forced = calloc(p->n_forced_arms, sizeof **forced)))
            return "out of memory";
        for (size_t i = 0; i < p->n_forced_arms; i++)
            if (copy_id((*forced)[i].customer_id, sizeof (*forced)[i].customer_id,
                        p->forced_arms[i]->customer_id) ||
                copy_id((*forced)[i].arm_id, sizeof (*forced)[i].arm_id,
                        p->forced_arms[i]->arm_id))
                return "forced_arms[]: id too long";
    }
    e->n_forced = p->n_forced_arms;
    e->forced = *forced;
    return NULL;
}

/* Definition -> message; strings borrow from e, arrays from the buffers. */
typedef struct exp_msg {
    Patron__V1__Experiment m;
    Patron__V1__Arm arms[EXPERIMENT_MAX_ARMS], *arm_ptrs[EXPERIMENT_MAX_ARMS];
    Patron__V1__ForcedArm *forced;
    Patron__V1__ForcedArm **forced_ptrs;
} exp_msg_t;

static int to_pb(const experiment_t *e, exp_msg_t *x)
{
    patron__v1__experiment__init(&x->m);
    x->m.experiment_id = (char *)e->id;
    x->m.salt = (char *)e->salt;
    x->m.layer = (char *)e->layer;
    x->m.traffic_fraction = e->traffic_fraction;
    x->m.start_unix_ms = e->start_ms;
    x->m.stop_unix_ms = e->stop_ms;
    for (size_t i = 0; i < e->n_arms; i++) {
        patron__v1__arm__init(&x->arms[i]);
        x->arms[i].arm_id = (char *)e->arms[i].id;
        x->arms[i].weight = e->arms[i].weight;
        x->arms[i].model_version = e->arms[i].model_version;
        x->arms[i].popularity_blend = e->arms[i].popularity_blend;
        x->arms[i].coupons_off = e->arms[i].coupons_off;
        x->arms[i].coupon_lambda = e->arms[i].coupon_lambda;
        x->arms[i].diversity = e->arms[i].diversity;
        x->arms[i].max_per_category = e->arms[i].max_per_category;
        x->arm_ptrs[i] = &x->arms[i];
    }
    x->m.n_arms = e->n_arms;
    x->m.arms = x->arm_ptrs;
    x->forced = calloc(e->n_forced ? e->n_forced : 1, sizeof *x->forced);
    x->forced_ptrs = calloc(e->n_forced ? e->n_forced : 1, sizeof *x->forced_ptrs);
    if (!x->forced || !x->forced_ptrs)
        return -ENOMEM;
    for (size_t i = 0; i < e->n_forced; i++) {
        patron__v1__forced_arm__init(&x->forced[i]);
        x->forced[i].customer_id = (char *)e->forced[i].customer_id;
        x->forced[i].arm_id = (char *)e->forced[i].arm_id;
        x->forced_ptrs[i] = &x->forced[i];
    }
    x->m.n_forced_arms = e->n_forced;
    x->m.forced_arms = x->forced_ptrs;
    return 0;
}

static void exp_msg_free(exp_msg_t *x)
{
    free(x->forced);
    free(x->forced_ptrs);
}

/* Copies the served definition id into *e without its forced list (the
 * results do not read it); 0 if none is served. */
static int served_def(app_t *a, const char *id, experiment_t *e)
{
    exp_snapshot_t *x = exp_slot_get(&a->experiments);
    const experiment_t *d = exp_snapshot_find(x, id);
    if (d) {
        *e = *d;
        e->forced = NULL;
        e->n_forced = 0;
    }
    exp_snapshot_unref(x);
    return d != NULL;
}

/* The definition in a Create/UpdateExperimentRequest (their one field), or
 * NULL with the failure in out; *msg owns it. */
static const Patron__V1__Experiment *decode_put(int update, const uint8_t *req, size_t len,
                                                rpc_reply_t *out, ProtobufCMessage **msg)
{
    const Patron__V1__Experiment *p;
    if (update) {
        Patron__V1__UpdateExperimentRequest *r = (Patron__V1__UpdateExperimentRequest *)decode(
            &patron__v1__update_experiment_request__descriptor, req, len, out);
        *msg = r ? &r->base : NULL;
        p = r ? r->experiment : NULL;
    } else {
        Patron__V1__CreateExperimentRequest *r = (Patron__V1__CreateExperimentRequest *)decode(
            &patron__v1__create_experiment_request__descriptor, req, len, out);
        *msg = r ? &r->base : NULL;
        p = r ? r->experiment : NULL;
    }
    if (*msg && !p) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "experiment: required");
        protobuf_c_message_free_unpacked(*msg, NULL);
        *msg = NULL;
    }
    return p;
}

/* Answers with the stored definition in the method's own response. */
static void encode_put(int update, exp_msg_t *msg, rpc_reply_t *out)
{
    Patron__V1__CreateExperimentResponse created = PATRON__V1__CREATE_EXPERIMENT_RESPONSE__INIT;
    Patron__V1__UpdateExperimentResponse updated = PATRON__V1__UPDATE_EXPERIMENT_RESPONSE__INIT;
    created.experiment = updated.experiment = &msg->m;
    encode(update ? &updated.base : &created.base, out);
}

static void put_experiment(app_t *a, const uint8_t *req, size_t len, int update,
                           rpc_reply_t *out)
{
    ProtobufCMessage *req_msg;
    const Patron__V1__Experiment *p = decode_put(update, req, len, out, &req_msg);
    experiment_forced_t *forced = NULL;
    experiment_t e;
    exp_msg_t msg = { 0 };
    char err[512];
    const char *bad;
    int rc;

    if (!p)
        return;
    if ((bad = from_pb(p, &e, &forced)) != NULL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "experiment.%s", bad);
        goto out;
    }
    rc = exp_slot_put(&a->experiments, &e, update, wall_ms(), err, sizeof err);
    if (rc == -ENOENT || rc == -EEXIST || rc == -EINVAL) {
        rpc_fail(out, rc == -ENOENT ? GRPC_STATUS_NOT_FOUND
                      : rc == -EEXIST ? GRPC_STATUS_ALREADY_EXISTS
                                      : GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
        goto out;
    }
    if (rc) {
        fail_errno(out, rc, err);
        goto out;
    }
    /* Stored while the stored set could not load (health NOT_SERVING): it
     * may load now, with this definition replacing the one that could not. */
    if (exp_slot_unloaded(&a->experiments))
        app_load_experiments(a);
    if (to_pb(&e, &msg) != 0)
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    else
        encode_put(update, &msg, out);
out:
    exp_msg_free(&msg);
    free(forced);
    protobuf_c_message_free_unpacked(req_msg, NULL);
}

void h_create_experiment(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out)
{
    put_experiment(app, req, len, 0, out);
}

void h_update_experiment(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                         size_t len, rpc_reply_t *out)
{
    put_experiment(app, req, len, 1, out);
}

void h_list_experiments(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                        size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    ProtobufCMessage *r = decode(&patron__v1__list_experiments_request__descriptor, req,
                                 len, out);
    Patron__V1__ListExperimentsResponse resp = PATRON__V1__LIST_EXPERIMENTS_RESPONSE__INIT;
    exp_snapshot_t *x;
    exp_msg_t *msgs;
    Patron__V1__Experiment **ptrs;
    size_t n;

    if (!r)
        return;
    protobuf_c_message_free_unpacked(r, NULL);
    x = exp_slot_get(&a->experiments);
    n = x->defs.n;
    msgs = calloc(n ? n : 1, sizeof *msgs);
    ptrs = calloc(n ? n : 1, sizeof *ptrs);
    if (msgs && ptrs) {
        size_t i;
        for (i = 0; i < n && to_pb(&x->defs.defs[i], &msgs[i]) == 0; i++)
            ptrs[i] = &msgs[i].m;
        resp.n_experiments = i;
        resp.experiments = ptrs;
        if (i == n)
            encode(&resp.base, out);
        else
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    exp_snapshot_unref(x); /* the messages borrowed its strings */
    for (size_t i = 0; msgs && i < n; i++)
        exp_msg_free(&msgs[i]);
    free(msgs);
    free(ptrs);
}

void h_get_assignment(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__GetAssignmentRequest *r = (Patron__V1__GetAssignmentRequest *)decode(
        &patron__v1__get_assignment_request__descriptor, req, len, out);
    Patron__V1__GetAssignmentResponse resp = PATRON__V1__GET_ASSIGNMENT_RESPONSE__INIT;
    experiment_assignment_t asg[EXPERIMENT_MAX_ARMS * 4];
    exp_snapshot_t *x;
    Patron__V1__Assignment msgs[EXPERIMENT_MAX_ARMS * 4], *ptrs[EXPERIMENT_MAX_ARMS * 4];
    size_t n = 0;
    int rc;

    if (!r)
        return;
    x = exp_slot_get(&a->experiments);
    rc = exp_snapshot_assign(x, r->customer_id, wall_ms(), asg, sizeof asg / sizeof asg[0],
                             &n);
    if (rc == -EINVAL) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "customer_id: 1..256 bytes without control characters");
    } else {
        n = n < sizeof asg / sizeof asg[0] ? n : sizeof asg / sizeof asg[0];
        for (size_t i = 0; i < n; i++) {
            patron__v1__assignment__init(&msgs[i]);
            msgs[i].experiment_id = (char *)asg[i].experiment->id;
            msgs[i].arm_id = (char *)asg[i].arm->id;
            msgs[i].forced = asg[i].forced;
            msgs[i].layer = (char *)asg[i].experiment->layer;
            ptrs[i] = &msgs[i];
        }
        resp.n_assignments = n;
        resp.assignments = ptrs;
        encode(&resp.base, out); /* strings point into x */
    }
    exp_snapshot_unref(x);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- results ------------------------------------------------------------------------ */

typedef struct metric_msg {
    Patron__V1__Metric m;
    Patron__V1__Difference d, c;
} metric_msg_t;

static void diff_msg(const exp_diff_t *x, Patron__V1__Difference *d)
{
    patron__v1__difference__init(d);
    d->estimate = x->estimate;
    d->relative = x->relative;
    d->ci_low = x->ci_lo;
    d->ci_high = x->ci_hi;
    d->p_value = x->p;
    d->always_valid_p = x->always_valid_p;
}

static void metric_msg(const exp_metric_t *x, metric_msg_t *mm)
{
    patron__v1__metric__init(&mm->m);
    mm->m.name = (char *)x->name;
    mm->m.value = x->value;
    if (x->has_diff) {
        diff_msg(&x->vs_control, &mm->d);
        mm->m.vs_control = &mm->d;
    }
    if (x->has_cuped) {
        diff_msg(&x->cuped, &mm->c);
        mm->m.cuped = &mm->c;
        mm->m.cuped_variance_reduction = x->cuped_variance_reduction;
    }
}

/* The report as messages; strings point into e and rep. */
static void encode_report(const experiment_t *e, const exp_report_t *rep, rpc_reply_t *out)
{
    Patron__V1__GetExperimentResultsResponse resp = PATRON__V1__GET_EXPERIMENT_RESULTS_RESPONSE__INIT;
    Patron__V1__ArmResult arms[EXPERIMENT_MAX_ARMS], *arm_ptrs[EXPERIMENT_MAX_ARMS];
    metric_msg_t metrics[EXPERIMENT_MAX_ARMS][EXP_REPORT_METRICS];
    Patron__V1__Metric *metric_ptrs[EXPERIMENT_MAX_ARMS][EXP_REPORT_METRICS];

    resp.experiment_id = (char *)e->id;
    for (size_t i = 0; i < rep->n_arms; i++) {
        const exp_arm_report_t *ar = &rep->arms[i];
        Patron__V1__ArmResult *m = &arms[i];
        patron__v1__arm_result__init(m);
        m->arm_id = (char *)e->arms[i].id;
        m->customers = ar->customers;
        m->exposures = ar->exposures;
        m->expected_share = ar->expected_share;
        m->conversion_rate = ar->conversion_rate;
        m->revenue_per_customer = ar->revenue_per_customer;
        for (int k = 0; k < EXP_REPORT_METRICS; k++) {
            metric_msg(&ar->metrics[k], &metrics[i][k]);
            metric_ptrs[i][k] = &metrics[i][k].m;
        }
        m->n_metrics = EXP_REPORT_METRICS;
        m->metrics = metric_ptrs[i];
        if (ar->metrics[0].has_diff) { /* the headline: conversion */
            m->lift = ar->metrics[0].vs_control.relative;
            m->ci_low = ar->metrics[0].vs_control.ci_lo;
            m->ci_high = ar->metrics[0].vs_control.ci_hi;
            m->p_value = ar->metrics[0].vs_control.p;
        }
        arm_ptrs[i] = m;
    }
    resp.n_arms = rep->n_arms;
    resp.arms = arm_ptrs;
    resp.customers_in_two_arms = rep->customers_in_two_arms;
    resp.sample_ratio_mismatch = rep->sample_ratio_mismatch;
    resp.srm_p_value = rep->srm_checked ? rep->srm_p : 0;
    resp.planned_customers_per_arm = rep->planned_customers_per_arm;
    resp.underpowered = rep->underpowered;
    resp.warning = (char *)rep->warning;
    encode(&resp.base, out);
}

void h_experiment_results(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                          size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__GetExperimentResultsRequest *r =
        (Patron__V1__GetExperimentResultsRequest *)decode(
            &patron__v1__get_experiment_results_request__descriptor, req, len, out);
    exp_report_t *rep = NULL;
    catalog_t *cat;
    experiment_t e;
    int rc;

    if (!r)
        return;
    if (!served_def(a, r->experiment_id, &e)) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "experiment_id: no experiment '%.128s'",
                 r->experiment_id);
        goto out;
    }
    if (r->attribution_days > 3650 || r->pre_period_days > 3650) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "attribution_days, pre_period_days: at most 3650");
        goto out;
    }
    if (!(rep = malloc(sizeof *rep))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    cat = catalog_slot_get(&a->catalogs);
    rc = exp_report(a->store, &e, cat,
                    (r->attribution_days ? r->attribution_days : 14) * DAY_MS,
                    (r->pre_period_days ? r->pre_period_days : 28) * DAY_MS,
                    app_deadline(ci), rep);
    catalog_unref(cat);
    if (rc)
        fail_errno(out, rc, "computing results");
    else
        encode_report(&e, rep, out);
out:
    free(rep);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
