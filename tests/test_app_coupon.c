/*
 * test_app_coupon.c - TargetCoupons as a use case (recsys/app/serve_coupon.h):
 * the grant and its experiment exposure commit together. A failing exposure
 * write leaves no grant, no offer row and an unchanged budget; a replay
 * logs the exposure (also for a grant an older release stored without
 * one); a request id of another customer is refused; an arm with coupons
 * off decides none and says so.
 */
#include <errno.h>

#include "arms.h"
#include "catalog.h"
#include "couponstore.h"
#include "experiment.h"
#include "expstore.h"
#include "serve_coupon.h"
#include "testcoupon.h"
#include "testexperiment.h"
#include "testutil.h"

#define T0 1718000000000LL
#define DAY 86400000LL

static coupon_t fixed_coupon(void)
{
    return test_fixed_coupon("fix2", "spring", 2.0, 100, T0);
}

/* An active customer as the decision sees them; borrows from *v. */
static coupon_customer_t customer(const char *id, customer_view_t *v)
{
    coupon_customer_t c;
    memset(v, 0, sizeof *v);
    snprintf(v->customer_id, sizeof v->customer_id, "%s", id);
    v->p.orders = 3;
    v->p.monetary = 120;
    v->p.average_basket = 40;
    v->p.recency_days = 10;
    v->p.stage = PROFILE_STAGE_ACTIVE;
    v->p.tier = -1;
    v->segment = -1;
    serve_coupon_customer(v, &c);
    CHECK(c.customer_id == v->customer_id);
    return c;
}

static experiment_t promo_experiment(void)
{
    return test_two_arms("promo", "coupons", "a", "b", T0 - DAY);
}

typedef struct fixture {
    store_t *s;
    coupon_t catalog[1];
    coupon_config_t cfg;
    experiment_t e;
    experiment_set_t *set;
} fixture_t;

static void fixture_open(fixture_t *f)
{
    char err[200];
    memset(f, 0, sizeof *f);
    CHECK_EQ_INT(store_open(test_tmpdir("app-coupon"), 0, &f->s), 0);
    f->catalog[0] = fixed_coupon();
    CHECK_EQ_INT(couponstore_put_coupon(f->s, &f->catalog[0], NULL, NULL), 0);
    coupon_config_default(&f->cfg);
    f->cfg.holdout_rate = 0.0; /* every eligible request is granted */
    f->cfg.explore_rate = 0.0;
    f->e = promo_experiment();
    CHECK_EQ_INT(experiment_set_new(&f->e, 1, &f->set, err, sizeof err), 0);
}

static void fixture_close(fixture_t *f)
{
    experiment_set_free(f->set);
    store_close(f->s);
}

static int target(fixture_t *f, const arms_t *arms, const coupon_customer_t *cust,
                  const char *req, couponstore_offer_t *o, int *replayed)
{
    couponstore_target_t t = { .request_id = req, .cust = cust, .catalog = f->catalog,
                               .n = 1, .cfg = &f->cfg, .now_ms = T0 };
    return serve_target_coupon(f->s, arms, &t, NULL, o, replayed);
}

/* Customers exposed in the experiment (either arm) and their exposures. */
static void exposed(fixture_t *f, uint64_t *customers, uint64_t *exposures)
{
    expstore_results_t *res = calloc(1, sizeof *res);
    *customers = *exposures = 0;
    CHECK(res != NULL);
    if (!res)
        return;
    CHECK_EQ_INT(expstore_results(f->s, &f->e, NULL, 0, 14 * DAY, 28 * DAY, 0, res), 0);
    for (size_t i = 0; i < res->n_arms; i++) {
        *customers += res->arms[i].customers;
        *exposures += res->arms[i].exposures;
    }
    free(res);
}

static void check_nothing_granted(fixture_t *f, const char *req, const char *cust)
{
    couponstore_offer_t o;
    couponstore_budget_t b;
    couponstore_history_t h;
    if (req) /* no offer row either */
        CHECK_EQ_INT(couponstore_get_offer(f->s, req, &o), -ENOENT);
    CHECK_EQ_INT(couponstore_get_budget(f->s, "spring", &b), 0);
    CHECK(b.committed == 0.0);
    CHECK_EQ_INT(b.grants, 0);
    CHECK_EQ_INT(couponstore_get_history(f->s, cust, &h), 0);
    CHECK_EQ_INT(h.n_grants, 0);
}

static void test_failed_exposure_aborts_the_grant(void)
{
    fixture_t f;
    customer_view_t va;
    coupon_customer_t ann = customer("ann", &va);
    couponstore_offer_t o;
    couponstore_budget_t b;
    uint64_t nc, ne;
    int replayed = 0;
    arms_t arms;

    fixture_open(&f);
    /* The exposure write fails (an arm whose experiment id the log refuses)
     * after the grant was written in the same transaction. */
    arms_from(NULL, 0, T0, &arms);
    /* No request at all is an argument error, not a crash. */
    CHECK_EQ_INT(serve_target_coupon(f.s, &arms, NULL, NULL, &o, &replayed), -EINVAL);
    arms.n = 1;
    CHECK_EQ_INT(target(&f, &arms, &ann, "req-1", &o, &replayed), -EINVAL);
    check_nothing_granted(&f, "req-1", "ann");
    /* The retry, with the exposure writable, grants once and logs it. */
    CHECK_EQ_INT(arms_assign(f.set, "ann", T0, &arms), 0);
    CHECK_EQ_INT(arms.n, 1);
    CHECK_EQ_INT(target(&f, &arms, &ann, "req-1", &o, &replayed), 0);
    CHECK(!replayed);
    CHECK_EQ_INT(o.outcome, COUPON_GRANT);
    CHECK_STREQ(o.coupon_id, "fix2");
    CHECK_EQ_INT(couponstore_get_budget(f.s, "spring", &b), 0);
    CHECK(b.committed == 2.0);
    CHECK_EQ_INT(b.grants, 1);
    exposed(&f, &nc, &ne);
    CHECK_EQ_INT(nc, 1);
    CHECK_EQ_INT(ne, 1);
    /* A second retry replays: same grant, budget and exposure count. */
    CHECK_EQ_INT(target(&f, &arms, &ann, "req-1", &o, &replayed), 0);
    CHECK(replayed);
    CHECK_EQ_INT(couponstore_get_budget(f.s, "spring", &b), 0);
    CHECK_EQ_INT(b.grants, 1);
    exposed(&f, &nc, &ne);
    CHECK_EQ_INT(ne, 1);
    fixture_close(&f);
}

static void test_replay_logs_the_exposure(void)
{
    fixture_t f;
    customer_view_t vb, vc;
    coupon_customer_t bo = customer("bo", &vb), cy = customer("cy", &vc);
    couponstore_target_t t = { .request_id = "req-old", .cust = &bo,
                               .catalog = NULL, .n = 1, .now_ms = T0 };
    couponstore_offer_t o;
    couponstore_budget_t b;
    uint64_t nc, ne;
    int replayed = 0;
    arms_t arms;

    fixture_open(&f);
    t.catalog = f.catalog;
    t.cfg = &f.cfg;
    /* A grant stored without its exposure (what the two-transaction
     * release left behind when the second write failed). */
    CHECK_EQ_INT(couponstore_target(f.s, &t, &o, &replayed), 0);
    CHECK_EQ_INT(o.outcome, COUPON_GRANT);
    exposed(&f, &nc, &ne);
    CHECK_EQ_INT(ne, 0);
    CHECK_EQ_INT(arms_assign(f.set, "bo", T0, &arms), 0);
    CHECK_EQ_INT(target(&f, &arms, &bo, "req-old", &o, &replayed), 0);
    CHECK(replayed);
    exposed(&f, &nc, &ne);
    CHECK_EQ_INT(nc, 1);
    CHECK_EQ_INT(ne, 1);
    CHECK_EQ_INT(couponstore_get_budget(f.s, "spring", &b), 0);
    CHECK_EQ_INT(b.grants, 1);
    /* Another customer's request id: refused, and no exposure for cy. */
    CHECK_EQ_INT(arms_assign(f.set, "cy", T0, &arms), 0);
    CHECK_EQ_INT(target(&f, &arms, &cy, "req-old", &o, &replayed), -EEXIST);
    exposed(&f, &nc, &ne);
    CHECK_EQ_INT(nc, 1);
    fixture_close(&f);
}

static void test_arm_without_coupons(void)
{
    fixture_t f;
    customer_view_t vd;
    coupon_customer_t di = customer("di", &vd);
    couponstore_offer_t o;
    uint64_t nc, ne;
    int replayed = 0;
    arms_t arms;

    fixture_open(&f);
    CHECK_EQ_INT(arms_assign(f.set, "di", T0, &arms), 0);
    arms.coupons_off = 1;
    CHECK_EQ_INT(target(&f, &arms, &di, "req-off", &o, &replayed), 0);
    CHECK_STREQ(o.coupon_id, "");
    CHECK(strstr(o.reason, "experiment arm gives no coupons") != NULL);
    check_nothing_granted(&f, NULL, "di");
    exposed(&f, &nc, &ne);
    CHECK_EQ_INT(ne, 1); /* the "none" decision is an exposure too */
    fixture_close(&f);
}

static void test_prospect_view(void)
{
    customers_ctx_t c;
    customer_view_t v;
    store_t *s = NULL;
    int known = 1;

    CHECK_EQ_INT(store_open(test_tmpdir("app-view"), 0, &s), 0);
    if (!s)
        return;
    memset(&c, 0, sizeof c);
    c.store = s;
    profile_config_t cfg;
    profile_config_default(&cfg);
    c.cfg = &cfg;
    CHECK_EQ_INT(serve_coupon_view(&c, "nobody", T0, &v, &known), 0);
    CHECK(!known);
    CHECK_STREQ(v.customer_id, "nobody");
    CHECK_EQ_INT(v.p.stage, PROFILE_STAGE_PROSPECT);
    CHECK_EQ_INT(v.p.tier, -1);
    store_close(s);
}

/* Cart lines resolve against the catalog snapshot; bad lines are named. */
static void test_cart(void)
{
    store_item_t items[2] = { { .item_id = "mug", .title = "Mug", .category = "kitchen",
                                .price = 8.0, .unit_cost = 3.0, .in_stock = 1 },
                              { .item_id = "pan", .title = "Pan", .category = "kitchen",
                                .price = 30.0, .unit_cost = 0.0, .in_stock = 1 } };
    serve_cart_line_t in[3] = { { "pan", 2, 30.0, 20.0 }, { "mug", 0, 8.0, 0.0 },
                                { "nope", 1, 1.0, 0.0 } };
    coupon_cart_line_t out[3];
    coupon_config_t cfg;
    catalog_t *c = NULL;
    store_t *s = NULL;
    const char *why = NULL;
    size_t bad = 9;

    CHECK_EQ_INT(store_open(test_tmpdir("app-cart"), 0, &s), 0);
    if (!s)
        return;
    CHECK_EQ_INT(store_upsert_items(s, items, 2, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(catalog_load(s, &c), 0);
    coupon_config_default(&cfg);
    CHECK_EQ_INT(serve_coupon_cart(c, &cfg, in, 2, out, &bad, &why), 0);
    CHECK_EQ_INT(out[0].item, 1);
    CHECK_EQ_INT(out[0].category, c->item_cat[1]);
    CHECK(out[0].amount == 60.0);
    CHECK(out[0].margin == 20.0);                  /* 2 x (30 - 20) */
    CHECK(out[1].amount == 8.0);                   /* quantity 0 counts as 1 */
    CHECK(out[1].margin == 8.0 * cfg.margin_rate); /* cost unknown */
    CHECK_EQ_INT(serve_coupon_cart(c, &cfg, in, 3, out, &bad, &why), -EINVAL);
    CHECK_EQ_INT(bad, 2);
    CHECK_STREQ(why, ".item_id: unknown item");
    in[1].quantity = -1;
    CHECK_EQ_INT(serve_coupon_cart(c, &cfg, in, 3, out, &bad, &why), -EINVAL);
    CHECK_EQ_INT(bad, 1);
    CHECK(strstr(why, "quantity") != NULL);
    CHECK_EQ_INT(serve_coupon_cart(NULL, &cfg, in, 1, out, &bad, &why), -EINVAL);

    /* A coupon's scope by name. */
    {
        const char *cats[2] = { "kitchen", "garden" }, *ids[2] = { "pan", "mug" };
        const char *many[COUPON_MAX_SCOPE + 1];
        const char *field = NULL;
        coupon_t cp;
        memset(&cp, 0, sizeof cp);
        CHECK_EQ_INT(serve_coupon_scope(c, cats, 1, ids, 2, &cp, &field, &bad, &why), 0);
        CHECK_EQ_INT(cp.n_categories, 1);
        CHECK_EQ_INT(cp.categories[0], c->item_cat[0]);
        CHECK_EQ_INT(cp.n_items, 2);
        CHECK_EQ_INT(cp.items[0], 1);
        CHECK_EQ_INT(cp.items[1], 0);
        CHECK_EQ_INT(serve_coupon_scope(c, cats, 2, ids, 2, &cp, &field, &bad, &why),
                     -EINVAL);
        CHECK_STREQ(field, "categories");
        CHECK_EQ_INT(bad, 1);
        ids[1] = "nope";
        CHECK_EQ_INT(serve_coupon_scope(c, cats, 1, ids, 2, &cp, &field, &bad, &why),
                     -EINVAL);
        CHECK_STREQ(field, "items");
        CHECK_EQ_INT(bad, 1);
        CHECK_STREQ(why, "unknown item");
        for (size_t i = 0; i <= COUPON_MAX_SCOPE; i++)
            many[i] = "mug";
        CHECK_EQ_INT(serve_coupon_scope(c, cats, 0, many, COUPON_MAX_SCOPE + 1, &cp, &field,
                                        &bad, &why), -EINVAL);
        CHECK(bad == SIZE_MAX);
        CHECK(strncmp(why, "at most ", 8) == 0);
    }
    catalog_unref(c);
    store_close(s);
}

int main(void)
{
    test_cart();
    test_failed_exposure_aborts_the_grant();
    test_replay_logs_the_exposure();
    test_arm_without_coupons();
    test_prospect_view();
    TEST_MAIN_END();
}
