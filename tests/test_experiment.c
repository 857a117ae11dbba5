/*
 * test_experiment.c - experiment definitions and assignment: the hash is
 * SipHash-2-4 and pinned forever, arms are balanced to their weights,
 * assignment is sticky and independent of other layers, ramping keeps
 * everyone, layers are exclusive inside and independent across, forced arms
 * and the time window hold, and every bad definition is rejected with a
 * message that names the field.
 */
#include "experiment.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

#define N_IDS 100000
/* chi-square critical values at p = 0.001 (any table) */
#define CHI2_CRIT_DF1 10.828
#define CHI2_CRIT_DF2 13.816

static experiment_t make(const char *id, const char *layer, double traffic,
                         int64_t start_ms, size_t n_arms, const double *weights)
{
    experiment_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(e.salt, sizeof e.salt, "%s-salt", id);
    snprintf(e.layer, sizeof e.layer, "%s", layer);
    e.traffic_fraction = traffic;
    e.start_ms = start_ms;
    e.n_arms = n_arms;
    for (size_t i = 0; i < n_arms; i++) {
        snprintf(e.arms[i].id, sizeof e.arms[i].id, "arm%zu", i);
        e.arms[i].weight = weights[i];
        e.arms[i].coupon_lambda = 0.5;
    }
    return e;
}

static const double halves[] = { 0.5, 0.5 };

static void customer(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "customer-%d", i);
}

static experiment_set_t *build(const experiment_t *defs, size_t n)
{
    experiment_set_t *set = NULL;
    char err[256] = "";
    int rc = experiment_set_new(defs, n, &set, err, sizeof err);
    if (rc) {
        fprintf(stderr, "experiment_set_new: %s\n", err);
        CHECK_EQ_INT(rc, 0);
    }
    return set;
}

/* The assignment in the layer of experiment id, or NULL. */
static const experiment_assignment_t *in_exp(const experiment_assignment_t *a,
                                             size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].experiment->id, id) == 0)
            return &a[i];
    return NULL;
}

/* ---- the hash ----------------------------------------------------------------------- */

static void test_hash_is_siphash_and_pinned(void)
{
    /* SipHash itself is checked against the paper's vectors in
     * test_base_hash.c. Assignment hashes, computed by an independent implementation. These
     * pin every customer's arm across releases: if they change, every
     * running experiment reshuffles. */
    CHECK(experiment_hash("arm", "salt-1", "customer-42") == 0xca871d7cb392cea2ULL);
    CHECK(experiment_hash("layer", "home-page", "c") == 0x9268874d74d9e085ULL);
    CHECK(experiment_hash("arm", "x",
                          "a-much-longer-customer-id-0123456789@example.com") ==
          0xd4d7efea42cf80f6ULL);
    CHECK(experiment_bucket(0) == 0);
    CHECK(experiment_bucket(UINT64_MAX) == EXPERIMENT_BUCKETS - 1);
    CHECK(experiment_unit(UINT64_MAX) < 1.0);
}

/* ---- balance --------------------------------------------------------------------------- */

static void test_balance_against_weights(void)
{
    const double w[] = { 0.2, 0.3, 0.5 };
    experiment_t e = make("bal", "main", 1.0, 0, 3, w);
    experiment_set_t *set = build(&e, 1);
    if (!set)
        return;
    size_t counts[3] = { 0, 0, 0 };
    char id[64];
    for (int i = 0; i < N_IDS; i++) {
        customer(id, sizeof id, i);
        experiment_assignment_t a;
        size_t n;
        CHECK_EQ_INT(experiment_assign(set, id, 1, &a, 1, &n), 0);
        CHECK_EQ_INT(n, 1);
        if (n == 1) {
            counts[a.arm_index]++;
            CHECK(a.arm == &a.experiment->arms[a.arm_index] && !a.forced);
        }
    }
    double chi2 = 0;
    for (int k = 0; k < 3; k++) {
        double exp_k = N_IDS * w[k];
        chi2 += (counts[k] - exp_k) * (counts[k] - exp_k) / exp_k;
    }
    fprintf(stderr, "balance 0.2/0.3/0.5 over %d ids: %zu %zu %zu, chi2 %.2f\n",
            N_IDS, counts[0], counts[1], counts[2], chi2);
    CHECK(chi2 < CHI2_CRIT_DF2);
    experiment_set_free(set);

    /* traffic fraction: about 30% get in, split evenly */
    e = make("part", "main", 0.3, 0, 2, halves);
    set = build(&e, 1);
    if (!set)
        return;
    size_t in = 0, arm0 = 0;
    for (int i = 0; i < N_IDS; i++) {
        customer(id, sizeof id, i);
        experiment_assignment_t a;
        size_t n;
        CHECK_EQ_INT(experiment_assign(set, id, 1, &a, 1, &n), 0);
        in += n;
        arm0 += n && a.arm_index == 0;
    }
    double frac = (double)in / N_IDS, sd = sqrt(0.3 * 0.7 / N_IDS);
    CHECK(fabs(frac - 0.3) < 4 * sd);
    double half = in / 2.0;
    CHECK((arm0 - half) * (arm0 - half) / half * 2 < CHI2_CRIT_DF1);
    experiment_set_free(set);
}

/* ---- stickiness ------------------------------------------------------------------------ */

static void test_sticky_and_independent_of_other_layers(void)
{
    experiment_t solo[1] = { make("hero", "home", 0.6, 100, 2, halves) };
    const double w3[] = { 0.1, 0.1, 0.8 };
    experiment_t crowd[4] = {
        make("other1", "coupons", 0.5, 50, 3, w3),
        solo[0],
        make("other2", "coupons", 0.25, 60, 2, halves),
        make("other3", "search", 1.0, 0, 2, halves),
    };
    experiment_set_t *a = build(solo, 1);
    experiment_set_t *b = build(solo, 1);   /* "after a restart" */
    experiment_set_t *c = build(crowd, 4);  /* other layers defined too */
    if (!a || !b || !c)
        goto out;
    CHECK_EQ_INT(experiment_set_layers(c), 3);
    char id[64];
    int same = 1, in_a = 0;
    for (int i = 0; i < 20000; i++) {
        customer(id, sizeof id, i);
        experiment_assignment_t xa[3], xb[3], xc[3];
        size_t na, nb, nc;
        CHECK_EQ_INT(experiment_assign(a, id, 1000, xa, 3, &na), 0);
        CHECK_EQ_INT(experiment_assign(b, id, 1000, xb, 3, &nb), 0);
        CHECK_EQ_INT(experiment_assign(c, id, 1000, xc, 3, &nc), 0);
        const experiment_assignment_t *pa = in_exp(xa, na, "hero");
        const experiment_assignment_t *pb = in_exp(xb, nb, "hero");
        const experiment_assignment_t *pc = in_exp(xc, nc, "hero");
        in_a += pa != NULL;
        if (!pa != !pb || !pa != !pc)
            same = 0;
        else if (pa && (strcmp(pa->arm->id, pb->arm->id) != 0 ||
                        strcmp(pa->arm->id, pc->arm->id) != 0))
            same = 0;
    }
    CHECK(same);
    CHECK(in_a > 11000 && in_a < 13000);
out:
    experiment_set_free(a);
    experiment_set_free(b);
    experiment_set_free(c);
}

/* ---- ramping ---------------------------------------------------------------------------- */

static void test_ramp_up_keeps_assignments(void)
{
    experiment_t e = make("ramp", "main", 0.1, 0, 2, halves);
    experiment_set_t *small = build(&e, 1);
    e.traffic_fraction = 0.5;
    experiment_set_t *big = build(&e, 1);
    if (!small || !big)
        goto out;
    char err[256] = "";
    CHECK_EQ_INT(experiment_set_update_invalid(small, big, 10, err, sizeof err), 0);
    size_t n_small = 0, n_big = 0;
    int kept = 1;
    char id[64];
    for (int i = 0; i < N_IDS; i++) {
        customer(id, sizeof id, i);
        experiment_assignment_t s, b;
        int in_s, in_b;
        CHECK_EQ_INT(experiment_assign_one(small, "ramp", id, 10, &s, &in_s), 0);
        CHECK_EQ_INT(experiment_assign_one(big, "ramp", id, 10, &b, &in_b), 0);
        n_small += in_s;
        n_big += in_b;
        if (in_s && (!in_b || s.arm_index != b.arm_index))
            kept = 0;
    }
    CHECK(kept);
    CHECK(n_small > 9000 && n_small < 11000);
    CHECK(n_big > 49000 && n_big < 51000);
out:
    experiment_set_free(small);
    experiment_set_free(big);
}

static void test_updates_that_move_customers_are_rejected(void)
{
    experiment_t defs[2] = {
        make("first", "main", 0.2, 1000, 2, halves),
        make("second", "main", 0.2, 2000, 2, halves),
    };
    experiment_set_t *prev = build(defs, 2), *next = NULL;
    char err[256] = "";
    uint32_t lo, hi;
    CHECK_EQ_INT(experiment_set_range(prev, "first", &lo, &hi), 0);
    CHECK(lo == 0 && hi == 2000);
    CHECK_EQ_INT(experiment_set_range(prev, "second", &lo, &hi), 0);
    CHECK(lo == 2000 && hi == 4000);
    CHECK_EQ_INT(experiment_set_range(prev, "nope", &lo, &hi), -EINVAL);

    /* ramping the last one in the layer is fine */
    defs[1].traffic_fraction = 0.7;
    next = build(defs, 2);
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 5000, err, sizeof err), 0);
    experiment_set_free(next);

    /* ramping the first would shift the second's range */
    defs[1].traffic_fraction = 0.2;
    defs[0].traffic_fraction = 0.4;
    next = build(defs, 2);
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 5000, err, sizeof err),
                 -EINVAL);
    CHECK(strstr(err, "'second'") && strstr(err, "range"));
    /* ...which is harmless while the second has not started */
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 1500, err, sizeof err), 0);
    experiment_set_free(next);

    /* re-weighting a started experiment moves customers between arms */
    defs[0].traffic_fraction = 0.2;
    defs[0].arms[0].weight = 0.6;
    defs[0].arms[1].weight = 0.4;
    next = build(defs, 2);
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 1500, err, sizeof err),
                 -EINVAL);
    CHECK(strstr(err, "arms[0].weight") != NULL);
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 999, err, sizeof err), 0);
    experiment_set_free(next);

    /* a new salt reshuffles everyone */
    defs[0].arms[0].weight = defs[0].arms[1].weight = 0.5;
    snprintf(defs[0].salt, sizeof defs[0].salt, "fresh");
    next = build(defs, 2);
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 1500, err, sizeof err),
                 -EINVAL);
    CHECK(strstr(err, "salt") != NULL);
    experiment_set_free(next);

    /* stopping or ramping down keeps the range and is fine */
    snprintf(defs[0].salt, sizeof defs[0].salt, "first-salt");
    defs[0].stop_ms = 6000;
    defs[1].traffic_fraction = 0.1;
    next = build(defs, 2);
    CHECK_EQ_INT(experiment_set_update_invalid(prev, next, 5000, err, sizeof err), 0);
    experiment_set_free(next);
    experiment_set_free(prev);
}

/* ---- layers ------------------------------------------------------------------------------- */

static void test_layers_exclusive_within_overlap_across(void)
{
    experiment_t defs[4] = {
        make("a", "models", 0.3, 0, 2, halves),
        make("b", "models", 0.3, 1, 2, halves),
        make("c", "models", 0.4, 2, 2, halves),
        make("d", "coupons", 0.5, 0, 2, halves),
    };
    experiment_set_t *set = build(defs, 4);
    if (!set)
        return;
    size_t count[4] = { 0 }, both_a_d = 0, both_c_d = 0;
    int exclusive = 1;
    char id[64];
    for (int i = 0; i < N_IDS; i++) {
        customer(id, sizeof id, i);
        experiment_assignment_t x[2];
        size_t n;
        CHECK_EQ_INT(experiment_assign(set, id, 10, x, 2, &n), 0);
        int in_models = 0;
        for (size_t k = 0; k < n; k++)
            in_models += strcmp(x[k].experiment->layer, "models") == 0;
        if (in_models > 1)
            exclusive = 0;
        for (int k = 0; k < 4; k++)
            count[k] += in_exp(x, n, defs[k].id) != NULL;
        both_a_d += in_exp(x, n, "a") && in_exp(x, n, "d");
        both_c_d += in_exp(x, n, "c") && in_exp(x, n, "d");
    }
    CHECK(exclusive);
    /* the models layer is fully used: everyone is in exactly one of a, b, c */
    CHECK_EQ_INT(count[0] + count[1] + count[2], N_IDS);
    double sd = sqrt(0.3 * 0.7 / N_IDS) * N_IDS;
    CHECK(fabs(count[0] - 0.3 * N_IDS) < 4 * sd);
    CHECK(fabs(count[1] - 0.3 * N_IDS) < 4 * sd);
    /* the coupons layer is independent: P(a and d) = P(a) P(d) */
    double exp_ad = (double)count[0] * count[3] / N_IDS;
    double exp_cd = (double)count[2] * count[3] / N_IDS;
    CHECK(fabs(both_a_d - exp_ad) < 4 * sqrt(exp_ad));
    CHECK(fabs(both_c_d - exp_cd) < 4 * sqrt(exp_cd));
    fprintf(stderr, "layers: a %zu b %zu c %zu d %zu; a&d %zu (independent: %.0f)\n",
            count[0], count[1], count[2], count[3], both_a_d, exp_ad);

    /* only as many assignments as layers; a short array says so */
    experiment_assignment_t one;
    size_t n = 0;
    int short_seen = 0;
    for (int i = 0; i < 100 && !short_seen; i++) {
        customer(id, sizeof id, i);
        int rc = experiment_assign(set, id, 10, &one, 1, &n);
        if (rc == -ENOBUFS) {
            short_seen = 1;
            CHECK_EQ_INT(n, 2);
        } else {
            CHECK_EQ_INT(rc, 0);
        }
    }
    CHECK(short_seen);
    experiment_set_free(set);
}

/* ---- forced arms and the window -------------------------------------------------------------- */

static void test_forced_arms(void)
{
    experiment_forced_t forced[2];
    memset(forced, 0, sizeof forced);
    snprintf(forced[0].customer_id, sizeof forced[0].customer_id, "qa-zoe");
    snprintf(forced[0].arm_id, sizeof forced[0].arm_id, "arm1");
    snprintf(forced[1].customer_id, sizeof forced[1].customer_id, "qa-adam");
    snprintf(forced[1].arm_id, sizeof forced[1].arm_id, "arm0");
    /* tiny traffic: only forcing gets the QA accounts in; a sibling in the
     * same layer takes the rest of it */
    experiment_t defs[2] = {
        make("tiny", "main", 0.0001, 100, 2, halves),
        make("big", "main", 0.9999, 0, 2, halves),
    };
    defs[0].forced = forced;
    defs[0].n_forced = 2;
    defs[0].stop_ms = 1000;
    experiment_set_t *set = build(defs, 2);
    forced[0].arm_id[0] = 'X'; /* the set holds its own copy */
    if (!set)
        return;
    experiment_assignment_t a[1];
    size_t n;
    CHECK_EQ_INT(experiment_assign(set, "qa-zoe", 500, a, 1, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_STREQ(a[0].experiment->id, "tiny");
    CHECK_STREQ(a[0].arm->id, "arm1");
    CHECK(a[0].forced == 1);
    CHECK_STREQ(a[0].experiment->forced[1].customer_id, "qa-zoe"); /* sorted */
    CHECK_EQ_INT(experiment_assign(set, "qa-adam", 500, a, 1, &n), 0);
    CHECK(n == 1 && strcmp(a[0].arm->id, "arm0") == 0 && a[0].forced);
    /* outside the window the forced customer falls back to hashing */
    CHECK_EQ_INT(experiment_assign(set, "qa-zoe", 1000, a, 1, &n), 0);
    CHECK(n == 0 || (strcmp(a[0].experiment->id, "big") == 0 && !a[0].forced));
    experiment_set_free(set);

    /* one customer forced into two experiments of a layer is ambiguous */
    snprintf(forced[0].arm_id, sizeof forced[0].arm_id, "arm1");
    defs[1].forced = forced;
    defs[1].n_forced = 1;
    char err[256] = "";
    CHECK_EQ_INT(experiment_set_invalid(defs, 2, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "qa-zoe") && strstr(err, "'big'") && strstr(err, "'tiny'"));
}

static void test_time_window(void)
{
    experiment_t e = make("win", "main", 1.0, 1000, 2, halves);
    e.stop_ms = 2000;
    experiment_set_t *set = build(&e, 1);
    if (!set)
        return;
    experiment_assignment_t a;
    size_t n;
    int in;
    CHECK_EQ_INT(experiment_assign(set, "c1", 999, &a, 1, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(experiment_assign(set, "c1", 1000, &a, 1, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(experiment_assign(set, "c1", 1999, &a, 1, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(experiment_assign(set, "c1", 2000, &a, 1, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(experiment_assign_one(set, "win", "c1", 2000, &a, &in), 0);
    CHECK_EQ_INT(in, 0);
    experiment_set_free(set);

    e.stop_ms = 0; /* open-ended */
    set = build(&e, 1);
    if (!set)
        return;
    CHECK_EQ_INT(experiment_assign(set, "c1", INT64_MAX, &a, 1, &n), 0);
    CHECK_EQ_INT(n, 1);
    experiment_set_free(set);
}

/* ---- validation ------------------------------------------------------------------------------- */

typedef void (*mutate_fn)(experiment_t *);

static void m_id(experiment_t *e) { snprintf(e->id, sizeof e->id, "bad id"); }
static void m_id_empty(experiment_t *e) { e->id[0] = 0; }
static void m_salt(experiment_t *e) { e->salt[0] = 0; }
static void m_layer(experiment_t *e) { snprintf(e->layer, sizeof e->layer, "l/1"); }
static void m_traffic0(experiment_t *e) { e->traffic_fraction = 0; }
static void m_traffic_big(experiment_t *e) { e->traffic_fraction = 1.5; }
static void m_traffic_nan(experiment_t *e) { e->traffic_fraction = NAN; }
static void m_traffic_tiny(experiment_t *e) { e->traffic_fraction = 1e-5; }
static void m_start(experiment_t *e) { e->start_ms = -1; }
static void m_stop(experiment_t *e) { e->stop_ms = e->start_ms; }
static void m_one_arm(experiment_t *e) { e->n_arms = 1; e->arms[0].weight = 1; }
static void m_dup_arm(experiment_t *e) { snprintf(e->arms[1].id, sizeof e->arms[1].id, "arm0"); }
static void m_arm_id(experiment_t *e) { e->arms[1].id[0] = 0; }
static void m_weight0(experiment_t *e) { e->arms[1].weight = 0; e->arms[0].weight = 1; }
static void m_weight_sum(experiment_t *e) { e->arms[1].weight = 0.4; }
static void m_weight_close(experiment_t *e) { e->arms[1].weight = 0.5 + 1e-8; }
static void m_blend(experiment_t *e) { e->arms[0].popularity_blend = 1.5; }
static void m_lambda(experiment_t *e) { e->arms[1].coupon_lambda = -1; }
static void m_long_id(experiment_t *e)
{
    memset(e->id, 'x', EXPERIMENT_MAX_ID + 1); /* unterminated in its buffer */
}

static const experiment_forced_t bad_forced_arm[1] = { { "qa", "arm9" } };
static const experiment_forced_t bad_forced_customer[1] = { { "", "arm0" } };
static const experiment_forced_t dup_forced[2] = { { "qa", "arm0" }, { "qa", "arm1" } };

static void m_forced_arm(experiment_t *e) { e->forced = bad_forced_arm; e->n_forced = 1; }
static void m_forced_customer(experiment_t *e) { e->forced = bad_forced_customer; e->n_forced = 1; }
static void m_forced_dup(experiment_t *e) { e->forced = dup_forced; e->n_forced = 2; }

static void test_validation_names_fields(void)
{
    static const struct { mutate_fn fn; const char *field; } cases[] = {
        { m_id, "id:" },
        { m_id_empty, "id:" },
        { m_long_id, "id:" },
        { m_salt, "salt:" },
        { m_layer, "layer:" },
        { m_traffic0, "traffic_fraction" },
        { m_traffic_big, "traffic_fraction" },
        { m_traffic_nan, "traffic_fraction" },
        { m_traffic_tiny, "traffic_fraction" },
        { m_start, "start_ms" },
        { m_stop, "stop_ms" },
        { m_one_arm, "arms:" },
        { m_dup_arm, "arms[1].id" },
        { m_arm_id, "arms[1].id" },
        { m_weight0, "arms[1].weight" },
        { m_weight_sum, "sum to 1" },
        { m_weight_close, "sum to 1" },
        { m_blend, "arms[0].popularity_blend" },
        { m_lambda, "arms[1].coupon_lambda" },
        { m_forced_arm, "forced[0].arm_id" },
        { m_forced_customer, "forced[0].customer_id" },
        { m_forced_dup, "forced[1].customer_id" },
    };
    char err[256];
    experiment_t good = make("good", "main", 0.5, 10, 2, halves);
    CHECK_EQ_INT(experiment_invalid(&good, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        experiment_t e = good;
        cases[i].fn(&e);
        err[0] = 0;
        int rc = experiment_invalid(&e, err, sizeof err);
        if (rc != -EINVAL || !strstr(err, cases[i].field))
            fprintf(stderr, "case %zu (%s): rc %d, message \"%s\"\n", i,
                    cases[i].field, rc, err);
        CHECK_EQ_INT(rc, -EINVAL);
        CHECK(strstr(err, cases[i].field) != NULL);
        experiment_set_t *set = (experiment_set_t *)1;
        CHECK_EQ_INT(experiment_set_new(&e, 1, &set, NULL, 0), -EINVAL);
        CHECK(set == NULL);
    }

    /* weights that are 1 up to rounding are fine; thirds, for example */
    const double thirds[] = { 1.0 / 3, 1.0 / 3, 1.0 / 3 };
    experiment_t t = make("thirds", "main", 1.0, 0, 3, thirds);
    CHECK_EQ_INT(experiment_invalid(&t, err, sizeof err), 0);
    t.arms[0].coupons_off = 1;
    t.arms[0].coupon_lambda = NAN; /* ignored without coupons */
    CHECK_EQ_INT(experiment_invalid(&t, err, sizeof err), 0);

    /* sets: duplicate ids, an overfull layer */
    experiment_t two[2] = { good, good };
    CHECK_EQ_INT(experiment_set_invalid(two, 2, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "'good'") && strstr(err, "twice"));
    snprintf(two[1].id, sizeof two[1].id, "other");
    two[1].traffic_fraction = 0.6;
    CHECK_EQ_INT(experiment_set_invalid(two, 2, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "layer 'main'") && strstr(err, "traffic_fraction"));
    snprintf(two[1].layer, sizeof two[1].layer, "elsewhere");
    CHECK_EQ_INT(experiment_set_invalid(two, 2, err, sizeof err), 0);

    /* model versions the caller has loaded */
    const uint64_t loaded[] = { 3, 4 };
    good.arms[0].model_version = 4;
    CHECK_EQ_INT(experiment_models_invalid(&good, loaded, 2, err, sizeof err), 0);
    good.arms[1].model_version = 7;
    CHECK_EQ_INT(experiment_models_invalid(&good, loaded, 2, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "arms[1].model_version") && strstr(err, "7"));
    CHECK(experiment_strerror(-EINVAL) != experiment_strerror(-ENOBUFS));
}

static void test_customer_id_errors(void)
{
    experiment_t e = make("x", "main", 1.0, 0, 2, halves);
    experiment_set_t *set = build(&e, 1);
    if (!set)
        return;
    experiment_assignment_t a;
    size_t n = 99;
    CHECK_EQ_INT(experiment_assign(set, "", 0, &a, 1, &n), -EINVAL);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(experiment_assign(set, "tab\there", 0, &a, 1, &n), -EINVAL);
    char longid[EXPERIMENT_MAX_CUSTOMER + 2];
    memset(longid, 'c', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    CHECK_EQ_INT(experiment_assign(set, longid, 0, &a, 1, &n), -EINVAL);
    longid[EXPERIMENT_MAX_CUSTOMER] = 0; /* exactly the limit */
    CHECK_EQ_INT(experiment_assign(set, longid, 0, &a, 1, &n), 0);
    CHECK_EQ_INT(experiment_assign(set, NULL, 0, &a, 1, &n), -EINVAL);
    int in;
    CHECK_EQ_INT(experiment_assign_one(set, "nope", "c", 0, &a, &in), -EINVAL);
    /* unicode ids are bytes like any other */
    CHECK_EQ_INT(experiment_assign(set, "kund-\xc3\xa5\xc3\xa4\xc3\xb6", 0, &a, 1, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK(experiment_set_find(set, "x") == experiment_set_at(set, 0));
    CHECK(experiment_set_find(set, "y") == NULL);
    CHECK(experiment_set_at(set, 1) == NULL);
    CHECK_EQ_INT(experiment_set_count(set), 1);
    experiment_set_free(set);
    experiment_set_free(NULL);

    /* the empty set assigns nobody */
    experiment_set_t *empty = build(NULL, 0);
    CHECK_EQ_INT(experiment_assign(empty, "c", 0, NULL, 0, &n), 0);
    CHECK_EQ_INT(n, 0);
    experiment_set_free(empty);
}

int main(void)
{
    test_hash_is_siphash_and_pinned();
    test_balance_against_weights();
    test_sticky_and_independent_of_other_layers();
    test_ramp_up_keeps_assignments();
    test_updates_that_move_customers_are_rejected();
    test_layers_exclusive_within_overlap_across();
    test_forced_arms();
    test_time_window();
    test_validation_names_fields();
    test_customer_id_errors();
    TEST_MAIN_END();
}
