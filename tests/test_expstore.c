/*
 * test_expstore.c - experiments in the store: definitions round-trip with
 * their forced lists, an exposure logged twice under one request id counts
 * once (retries), concurrent logging loses nothing, and outcomes are
 * attributed from the first exposure within the window, with the
 * pre-period spend as covariate and forced customers left out.
 */
#include <errno.h>
#include <pthread.h>

#include "expstore.h"
#include "testexperiment.h"
#include "testutil.h"

#define DAY 86400000LL
#define T0 (1700000000000LL)

static experiment_t two_arms(const char *id)
{
    return test_two_arms(id, "default", "control", "treatment", T0);
}

typedef struct logger {
    store_t *s;
    int id;
} logger_t;

static void *log_many(void *arg)
{
    logger_t *l = arg;
    for (int i = 0; i < 50; i++) {
        char req[32], cust[32];
        expstore_exposure_t e = { req, cust, "exp", (uint32_t)(i % 2), 0, T0 + i, NULL, 0 };
        snprintf(req, sizeof req, "req-%d-%d", l->id, i);
        snprintf(cust, sizeof cust, "load-%d", i);
        if (expstore_log(l->s, &e) != 0)
            return (void *)1;
    }
    return NULL;
}

static int load_version(store_t *s, uint64_t version)
{
    store_model_hdr_t h;
    float *u, *i, *p;
    int rc = store_load_model(s, version, &h, &u, &i, &p);
    free(u);
    free(i);
    free(p);
    return rc;
}

static int tx_has_v3(store_tx_t *tx, void *ctx)
{
    (void)ctx;
    return store_tx_model_exists(tx, 3);
}

/* Publishing new models never deletes a version a stored definition pins
 * (issue 20 item 2: the experiment was dropped at restart). Once no
 * definition names it any more, the next publish drops it. */
static void test_pinned_model_kept(void)
{
    store_t *s = NULL;
    store_model_hdr_t h = { .factors = 1, .n_users = 1, .n_items = 1 };
    float uf[1] = { 1 }, itf[1] = { 1 }, pop[1] = { 1 };
    experiment_t e = two_arms("pinned");

    CHECK_EQ_INT(store_open(test_tmpdir("exppin"), 64u << 20, &s), 0);
    if (!s)
        exit(1);
    store_set_model_keep(s, expstore_model_pinned, NULL);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    e.arms[1].model_version = 2;
    CHECK_EQ_INT(expstore_save(s, &e), 0);
    for (int i = 0; i < STORE_MODELS_KEPT + 2; i++)
        CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(h.version, STORE_MODELS_KEPT + 4);
    CHECK_EQ_INT(load_version(s, 2), 0);          /* pinned: kept */
    CHECK(load_version(s, 1) != 0);               /* not pinned: dropped */
    CHECK(load_version(s, 3) != 0);
    CHECK_EQ_INT(load_version(s, h.version - STORE_MODELS_KEPT + 1), 0);

    /* A definition naming a dropped version is not stored (a publish may
     * drop it after CreateExperiment loaded it, before the save). */
    e.arms[1].model_version = 3;
    CHECK_EQ_INT(expstore_save(s, &e), -ESTALE);
    CHECK_EQ_INT(store_table_atomic(s, tx_has_v3, NULL), 0);

    e.arms[1].model_version = 0;                  /* the pin is gone */
    CHECK_EQ_INT(expstore_save(s, &e), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK(load_version(s, 2) != 0);
    store_close(s);
}

int main(void)
{
    test_pinned_model_kept();

    store_t *s = NULL;
    experiment_t e = two_arms("exp");
    experiment_forced_t forced[1] = { { "qa", "treatment" } };
    expstore_defs_t defs;
    expstore_results_t *res = calloc(1, sizeof *res);
    store_item_t item = { .item_id = "i1", .title = NULL, .category = NULL,
                          .price = 10, .unit_cost = 4, .in_stock = 1 };
    const double cost[1] = { 4 };  /* i1's, as the catalog snapshot has it */
    uint32_t shown[2] = { 0, 0 };
    pthread_t th[4];
    logger_t lg[4];

    CHECK_EQ_INT(store_open(test_tmpdir("expstore"), 64u << 20, &s), 0);
    if (!s || !res)
        return 1;
    e.forced = forced;
    e.n_forced = 1;
    CHECK_EQ_INT(expstore_save(s, &e), 0);
    CHECK_EQ_INT(expstore_load(s, &defs), 0);
    CHECK_EQ_INT(defs.n, 1);
    CHECK_STREQ(defs.defs[0].id, "exp");
    CHECK_EQ_INT(defs.defs[0].n_forced, 1);
    CHECK_STREQ(defs.defs[0].forced[0].customer_id, "qa");
    expstore_defs_free(&defs);

    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    {
        /* alice (control): 10 spent before, 2 x 10 within the window, one
         * purchase after it. bob (treatment): nothing. qa: forced. */
        store_event_t ev[] = {
            { "a0", "alice", "i1", STORE_EVENT_PURCHASE, T0 - 5 * DAY, 1, 10, NULL },
            { "a1", "alice", "i1", STORE_EVENT_VIEW, T0 + DAY, 1, 0, NULL },
            { "a2", "alice", "i1", STORE_EVENT_PURCHASE, T0 + 2 * DAY, 2, 10, NULL },
            { "a3", "alice", "i1", STORE_EVENT_PURCHASE, T0 + 30 * DAY, 1, 10, NULL },
            { "q1", "qa", "i1", STORE_EVENT_PURCHASE, T0 + DAY, 1, 10, NULL },
        };
        uint8_t o[5];
        const char *why[5];
        CHECK_EQ_INT(store_record_events(s, ev, 5, o, why), 0);
    }
    {
        expstore_exposure_t a = { "r1", "alice", "exp", 0, 0, T0, shown, 1 };
        expstore_exposure_t a_retry = a;
        expstore_exposure_t b = { "r2", "bob", "exp", 1, 0, T0, shown, 2 };
        expstore_exposure_t q = { "r3", "qa", "exp", 1, 1, T0, NULL, 0 };
        CHECK_EQ_INT(expstore_log(s, &a), 0);
        CHECK_EQ_INT(expstore_log(s, &a_retry), 0); /* a retry: counted once */
        CHECK_EQ_INT(expstore_log(s, &b), 0);
        CHECK_EQ_INT(expstore_log(s, &q), 0);
        expstore_exposure_t bad = { "", "x", "exp", 0, 0, T0, NULL, 0 };
        CHECK_EQ_INT(expstore_log(s, &bad), -EINVAL);
    }
    CHECK_EQ_INT(expstore_results(s, &e, cost, 1, 14 * DAY, 28 * DAY, 0, res), 0);
    CHECK_EQ_INT(res->n_arms, 2);
    CHECK_EQ_INT(res->arms[0].customers, 1);
    CHECK_EQ_INT(res->arms[0].exposures, 1);
    CHECK_EQ_INT(res->arms[1].customers, 1);  /* bob; qa is forced */
    CHECK_EQ_INT(res->arms[1].forced, 1);
    CHECK(res->arms[0].conversion.mean_y == 1.0);
    CHECK(res->arms[0].revenue.mean_y == 20.0);        /* the late purchase is out */
    CHECK(res->arms[0].margin.mean_y == 20.0 - 2 * 4); /* unit cost 4 */
    CHECK(res->arms[0].revenue.mean_x == 10.0);        /* pre-period spend */
    CHECK(res->arms[0].ctr.mean_num == 1.0 && res->arms[0].ctr.mean_den == 1.0);
    CHECK(res->arms[1].conversion.mean_y == 0.0);
    CHECK_EQ_INT(res->mixed, 0);

    /* Concurrent logging (group-committed) loses nothing. */
    for (int i = 0; i < 4; i++) {
        lg[i] = (logger_t){ s, i };
        pthread_create(&th[i], NULL, log_many, &lg[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        CHECK(r == NULL);
    }
    CHECK_EQ_INT(expstore_results(s, &e, cost, 1, 14 * DAY, 28 * DAY, 0, res), 0);
    CHECK_EQ_INT(res->arms[0].exposures + res->arms[1].exposures, 1 + 2 + 200);
    CHECK_EQ_INT(res->arms[0].customers + res->arms[1].customers, 2 + 50);

    /* Retention forgets old request ids only: results stay as they were. */
    {
        uint64_t removed = 0;
        expstore_exposure_t again = { "r1", "alice", "exp", 0, 0, T0 + 60, shown, 1 };
        CHECK_EQ_INT(expstore_prune_requests(s, T0 + 25, &removed), 0);
        CHECK_EQ_INT(removed, 3 + 4 * 25);
        CHECK_EQ_INT(expstore_results(s, &e, cost, 1, 14 * DAY, 28 * DAY, 0, res), 0);
        CHECK_EQ_INT(res->arms[0].exposures + res->arms[1].exposures, 1 + 2 + 200);
        CHECK_EQ_INT(expstore_prune_requests(s, T0 + 25, &removed), 0);
        CHECK_EQ_INT(removed, 0);
        /* The price: a retry of a forgotten request counts again. */
        CHECK_EQ_INT(expstore_log(s, &again), 0);
        CHECK_EQ_INT(expstore_results(s, &e, cost, 1, 14 * DAY, 28 * DAY, 0, res), 0);
        CHECK_EQ_INT(res->arms[0].exposures + res->arms[1].exposures, 1 + 2 + 200 + 1);
    }
    free(res);
    store_close(s);
    TEST_MAIN_END();
}
