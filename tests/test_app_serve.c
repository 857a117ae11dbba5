/*
 * test_app_serve.c - the serving use cases (recsys/app/serve.h, arms.h,
 * exposure.h) over a real store and a hand-built model: the customer's arm
 * decides the model version and the list's settings, each response is
 * logged as an exposure once per request id (a retry changes nothing),
 * what was served is excluded on request as recently shown, and a failed
 * exposure write serves nothing and records nothing as shown.
 */
#include <errno.h>
#include <math.h>

#include "arms.h"
#include "catalog.h"
#include "experiment.h"
#include "expstore.h"
#include "model.h"
#include "serve.h"
#include "testexperiment.h"
#include "testutil.h"

#define T0 1718000000000LL
#define DAY 86400000LL
enum { N_ITEMS = 6, F = 2 };

static const char *item_ids[N_ITEMS] = { "a", "b", "c", "d", "e", "f" };

/* alice prefers a > b > ... > f; popularity prefers c, e, d, b, a, f. */
static void setup(store_t *s)
{
    store_item_t items[N_ITEMS];
    float uf[F] = { 1, 0 };
    float itf[N_ITEMS * F] = { 6, 1, 5, 2, 4, 3, 3, 4, 2, 5, 1, 6 };
    float pop[N_ITEMS] = { 1, 2, 9, 3, 8, 0 };
    store_model_hdr_t h = { .factors = F, .n_users = 1, .n_items = N_ITEMS,
                            .reg = 0.1f, .alpha = 1, .alpha0 = 1, .w_view = 1,
                            .w_cart = 2, .w_purchase = 4, .w_refund = 4 };
    store_event_t ev = { "e1", "alice", "f", STORE_EVENT_VIEW, T0 - DAY, 1, 1, NULL };
    uint8_t out;
    const char *why;

    for (int i = 0; i < N_ITEMS; i++)
        items[i] = (store_item_t){ .item_id = item_ids[i], .title = NULL, .category = i < 3 ? "kitchen" : "garden",
                                   .price = 10.0, .unit_cost = 1.0, .in_stock = 1 };
    CHECK_EQ_INT(store_upsert_items(s, items, N_ITEMS, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, &ev, 1, &out, &why), 0);
    CHECK_EQ_INT(store_event_seq(s, &h.train_seq), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
}

static const experiment_forced_t forced_alice[] = { { "alice", "treatment" } };

/* Two arms; alice is forced into "treatment", which names model version 7,
 * a popularity blend, diversity settings and a coupon lambda. */
static experiment_t ranking_experiment(void)
{
    experiment_t e = test_two_arms("ranking", "a-ranking", "control", "treatment",
                                   T0 - 10 * DAY);
    e.arms[1].model_version = 7;
    e.arms[1].popularity_blend = 0.5;
    e.arms[1].diversity = 0.3;
    e.arms[1].max_per_category = 2;
    e.n_forced = 1;
    e.forced = forced_alice;
    return e;
}

/* A second layer: every customer's coupons are off in both its arms. */
static experiment_t coupon_experiment(void)
{
    experiment_t e = test_two_arms("nocoupons", "b-coupons", "off", "off2", T0 - 10 * DAY);
    e.arms[0].coupons_off = e.arms[1].coupons_off = 1;
    return e;
}

static void test_arms_decide_model_and_options(void)
{
    experiment_t defs[2] = { ranking_experiment(), coupon_experiment() };
    experiment_set_t *set = NULL;
    const char *exp, *arm;
    char err[200];
    arms_t a;

    CHECK_EQ_INT(experiment_set_new(defs, 2, &set, err, sizeof err), 0);
    CHECK_EQ_INT(arms_assign(set, "alice", T0, &a), 0);
    CHECK_EQ_INT(a.n, 2);
    CHECK_STREQ(a.a[0].experiment, "ranking");
    CHECK_STREQ(a.a[0].arm, "treatment");
    CHECK_EQ_INT(a.a[0].arm_index, 1);
    CHECK(a.a[0].forced);
    CHECK_EQ_INT(a.model_version, 7);
    CHECK(fabsf(a.popularity_blend - 0.5f) < 1e-6f);
    CHECK(fabsf(a.diversity - 0.3f) < 1e-6f);
    CHECK_EQ_INT(a.max_per_category, 2);
    CHECK(a.coupons_off); /* from the second layer: the first sets no policy */
    CHECK_EQ_INT(a.now_ms, T0);
    arms_provenance(&a, &exp, &arm);
    CHECK_STREQ(exp, "ranking");
    CHECK_STREQ(arm, "treatment");

    /* Before the experiments start: no arms, the defaults. */
    CHECK_EQ_INT(arms_assign(set, "alice", T0 - 20 * DAY, &a), 0);
    CHECK_EQ_INT(a.n, 0);
    CHECK_EQ_INT(a.model_version, 0);
    CHECK(a.popularity_blend == 0.0f && !a.coupons_off);
    arms_provenance(&a, &exp, &arm);
    CHECK(exp == NULL && arm == NULL);
    /* No experiment set at all, and a bad customer id. */
    CHECK_EQ_INT(arms_assign(NULL, "alice", T0, &a), 0);
    CHECK_EQ_INT(a.n, 0);
    CHECK_EQ_INT(arms_assign(set, "", T0, &a), -EINVAL);
    CHECK_EQ_INT(a.n, 0);
    experiment_set_free(set);
}

/* The arm's blend reaches the recommender: the list equals rec_recommend's
 * with that blend, and differs from the unblended one. */
static void test_arm_settings_shape_the_list(store_t *s, const model_t *m,
                                             const catalog_t *c, shown_t *sh)
{
    serve_env_t env = { s, sh, NULL };
    arms_t arms;
    rec_query_t q = { .customer_id = "alice", .k = 3 };
    rec_item_t got[3], want[3], plain[3];
    size_t n = 0, nw = 0, np = 0;
    int pers = 0;
    const char *failed;

    arms_from(NULL, 0, T0, &arms);
    arms.popularity_blend = 0.9f;
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 0, "req-blend", got, &n, &pers,
                                 &failed), 0);
    q.popularity_blend = 0.9f;
    CHECK_EQ_INT(rec_recommend(s, m, c, &q, want, &nw, &pers), 0);
    q.popularity_blend = 0;
    CHECK_EQ_INT(rec_recommend(s, m, c, &q, plain, &np, &pers), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(nw, 3);
    for (size_t i = 0; i < n && i < nw; i++)
        CHECK_EQ_INT(got[i].item, want[i].item);
    CHECK(got[0].item != plain[0].item); /* c (popular) vs a (alice's taste) */
    CHECK_STREQ(c->ids[plain[0].item], "a");
    CHECK_STREQ(c->ids[got[0].item], "c");

    /* The arm's category cap applies when the request sets no diversity... */
    arms.popularity_blend = 0;
    arms.max_per_category = 1;
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 0, "req-cap", got, &n, &pers,
                                 &failed), 0);
    CHECK_EQ_INT(n, 2); /* one kitchen, one garden item */
    /* ...and the request's own settings win over it. */
    q.diversity.max_per_cat = 3;
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 0, "req-own", got, &n, &pers,
                                 &failed), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, SERVE_MAX_SHOWN_MINUTES + 1,
                                 "req-bad", got, &n, &pers, &failed), -EINVAL);
}

static uint64_t exposures_of(store_t *s, const experiment_t *e, size_t arm)
{
    expstore_results_t *res = calloc(1, sizeof *res);
    uint64_t n = 0;
    CHECK(res != NULL);
    if (!res)
        return 0;
    CHECK_EQ_INT(expstore_results(s, e, NULL, 0, 14 * DAY, 28 * DAY, 0, res), 0);
    n = res->arms[arm].exposures;
    free(res);
    return n;
}

static void test_exposure_once_per_request_and_shown(store_t *s, const model_t *m,
                                                     const catalog_t *c)
{
    shown_t *sh = shown_new(16);
    experiment_t e = ranking_experiment();
    experiment_set_t *set = NULL;
    serve_env_t env = { s, sh, NULL };
    rec_query_t q = { .customer_id = "alice", .k = 2 };
    rec_item_t first[2], again[2], ranked[3];
    size_t n = 0, n2 = 0, nr = 0, unknown[3], nu = 0;
    const char *cands[3] = { "b", "zz-unknown", "a" };
    const char *failed;
    char err[200];
    int pers = 0;
    arms_t arms;

    CHECK_EQ_INT(experiment_set_new(&e, 1, &set, err, sizeof err), 0);
    CHECK_EQ_INT(arms_assign(set, "alice", T0, &arms), 0);
    arms.popularity_blend = 0; /* alice's own taste: a, b first */
    arms.diversity = 0;
    arms.max_per_category = 0;
    CHECK_EQ_INT(exposures_of(s, &e, 1), 0);
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 0, "req-1", first, &n, &pers,
                                 &failed), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(exposures_of(s, &e, 1), 1);
    /* A retry under the same request id is not a second exposure. */
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 0, "req-1", first, &n, &pers,
                                 &failed), 0);
    CHECK_EQ_INT(exposures_of(s, &e, 1), 1);
    /* What was served is excluded as recently shown. */
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 60, "req-2", again, &n2, &pers,
                                 &failed), 0);
    CHECK_EQ_INT(exposures_of(s, &e, 1), 2);
    CHECK_EQ_INT(n2, 2);
    for (size_t i = 0; i < n2; i++)
        for (size_t j = 0; j < n; j++)
            CHECK(again[i].item != first[j].item);
    /* RankItems: known candidates ranked, the unknown one reported, logged. */
    CHECK_EQ_INT(serve_rank(&env, m, c, &arms, "alice", 0, cands, 3, "req-3", ranked, &nr,
                            unknown, &nu, &pers, &failed), 0);
    CHECK_EQ_INT(nr, 2);
    CHECK_EQ_INT(nu, 1);
    CHECK_EQ_INT(unknown[0], 1);
    CHECK_STREQ(c->ids[ranked[0].item], "a");
    CHECK_EQ_INT(exposures_of(s, &e, 1), 3);
    experiment_set_free(set);
    shown_free(sh);
}

/* An exposure that cannot be written fails the call: nothing served, and
 * nothing recorded as shown. */
static void test_failed_exposure_serves_nothing(store_t *s, const model_t *m,
                                                const catalog_t *c)
{
    shown_t *sh = shown_new(16);
    serve_env_t env = { s, sh, NULL };
    rec_query_t q = { .customer_id = "alice", .k = 2 };
    rec_item_t out[2];
    uint32_t seen[SHOWN_PER_CUSTOMER];
    size_t n = 0, nr = 0, unknown[1], nu = 0;
    const char *cands[1] = { "a" };
    const char *failed = NULL;
    int pers = 0;
    arms_t arms;

    arms_from(NULL, 0, T0, &arms);
    arms.n = 1; /* an arm whose experiment id is empty: the log refuses it */
    CHECK_EQ_INT(serve_recommend(&env, m, c, &arms, &q, 0, "req-x", out, &n, &pers,
                                 &failed), -EINVAL);
    CHECK(failed && strstr(failed, "exposure"));
    CHECK_EQ_INT(shown_since(sh, "alice", 0, seen, SHOWN_PER_CUSTOMER), 0);
    CHECK_EQ_INT(serve_rank(&env, m, c, &arms, "alice", 0, cands, 1, "req-y", out, &nr,
                            unknown, &nu, &pers, &failed), -EINVAL);
    CHECK(failed && strstr(failed, "exposure"));
    shown_free(sh);
}

/* Similar items; an item added after training has details but no factors:
 * SimilarItems says so, RankItems lists it among the unranked. */
static void test_similar_and_new_items(store_t *s, const model_t *m, const catalog_t *c)
{
    store_item_t g = { .item_id = "g", .title = "new", .category = "garden",
                       .price = 5.0, .unit_cost = 1.0, .in_stock = 1 };
    shown_t *sh = shown_new(16);
    serve_env_t env = { s, sh, NULL };
    const char *cands[2] = { "g", "a" };
    const char *failed;
    rec_item_t out[2];
    size_t n = 9, unknown[2], nu = 0;
    catalog_t *c2 = NULL;
    int pers = 0;
    arms_t arms;

    CHECK_EQ_INT(serve_similar(m, c, "a", 2, NULL, NULL, out, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_STREQ(c->ids[out[0].item], "b");
    CHECK_EQ_INT(serve_similar(m, c, "nope", 2, NULL, NULL, out, &n), -ENOENT);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_upsert_items(s, &g, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(catalog_load(s, &c2), 0);
    if (!c2)
        return;
    CHECK_EQ_INT(serve_similar(m, c2, "g", 2, NULL, NULL, out, &n), -ENODATA);
    arms_from(NULL, 0, T0, &arms);
    CHECK_EQ_INT(serve_rank(&env, m, c2, &arms, "alice", 0, cands, 2, "req-g", out, &n,
                            unknown, &nu, &pers, &failed), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(nu, 1);
    CHECK_EQ_INT(unknown[0], 0);
    catalog_unref(c2);
    shown_free(sh);
}

int main(void)
{
    store_t *s = NULL;
    model_t *m = NULL;
    catalog_t *c = NULL;
    shown_t *sh = shown_new(16);

    CHECK(sh != NULL);
    CHECK_EQ_INT(store_open(test_tmpdir("app-serve"), 0, &s), 0);
    if (!s || !sh)
        return 1;
    setup(s);
    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    CHECK_EQ_INT(catalog_load(s, &c), 0);
    if (!m || !c)
        return 1;
    test_arms_decide_model_and_options();
    test_arm_settings_shape_the_list(s, m, c, sh);
    test_exposure_once_per_request_and_shown(s, m, c);
    test_failed_exposure_serves_nothing(s, m, c);
    test_similar_and_new_items(s, m, c);
    model_unref(m);
    catalog_unref(c);
    shown_free(sh);
    store_close(s);
    TEST_MAIN_END();
}
