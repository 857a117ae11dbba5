/*
 * test_train.c - from stored events to a published model that recommends
 * well: customers in four taste groups, each buying and viewing inside its
 * own category, must get recommendations from their own category for items
 * they never touched. Also: versions increase, nothing is published without
 * events, and the loss reported after each sweep falls.
 */
#include <errno.h>
#include <stdio.h>

#include "model.h"
#include "recommend.h"
#include "store.h"
#include "testutil.h"
#include "train.h"

enum { GROUPS = 4, PER_GROUP = 12, CUSTOMERS = 80, BUYS = 5 };

static uint64_t rng_state = 12345;

static uint32_t next_rand(uint32_t bound)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % bound);
}

static void plant(store_t *s)
{
    store_item_t items[GROUPS * PER_GROUP];
    char ids[GROUPS * PER_GROUP][32];
    store_event_t ev[CUSTOMERS * BUYS * 2];
    char eids[CUSTOMERS * BUYS * 2][32], cids[CUSTOMERS][32];
    uint8_t out[CUSTOMERS * BUYS * 2];
    const char *why[CUSTOMERS * BUYS * 2];
    size_t n = 0;

    for (int i = 0; i < GROUPS * PER_GROUP; i++) {
        snprintf(ids[i], sizeof ids[i], "g%d-i%d", i / PER_GROUP, i);
        items[i] = (store_item_t){ ids[i], NULL, NULL, 10, 5, 1 };
    }
    CHECK_EQ_INT(store_upsert_items(s, items, GROUPS * PER_GROUP, NULL, NULL,
                                    NULL, NULL), 0);
    for (int c = 0; c < CUSTOMERS; c++) {
        int g = c % GROUPS;
        snprintf(cids[c], sizeof cids[c], "c%d", c);
        for (int b = 0; b < BUYS * 2; b++) {
            int item = g * PER_GROUP + (int)next_rand(PER_GROUP);
            snprintf(eids[n], sizeof eids[n], "e%zu", n);
            ev[n] = (store_event_t){ eids[n], cids[c], ids[item],
                                     b < BUYS ? STORE_EVENT_PURCHASE : STORE_EVENT_VIEW,
                                     1000 + (int64_t)n, 1, 10 };
            n++;
        }
    }
    CHECK_EQ_INT(store_record_events(s, ev, n, out, why), 0);
}

typedef struct losses {
    double v[64];
    uint32_t n;
} losses_t;

static int record_loss(void *ctx, uint32_t it, double loss)
{
    losses_t *l = ctx;
    if (l->n < 64)
        l->v[l->n++] = loss;
    return 0;
}

int main(void)
{
    store_t *s = NULL;
    model_t *m = NULL;
    train_config_t cfg;
    train_report_t rep;
    losses_t losses = { .n = 0 };
    int in_group = 0, total = 0;

    CHECK_EQ_INT(store_open(test_tmpdir("train"), 256u << 20, &s), 0);
    if (!s)
        return 1;
    train_config_default(&cfg);
    cfg.als.factors = 8;
    cfg.als.iterations = 8;
    cfg.als.threads = 2;
    CHECK_EQ_INT(train_run(s, &cfg, NULL, NULL, &rep), -ENOENT);

    plant(s);
    CHECK_EQ_INT(train_run(s, &cfg, record_loss, &losses, &rep), 0);
    CHECK_EQ_INT(rep.hdr.version, 1);
    CHECK_EQ_INT(rep.hdr.n_users, CUSTOMERS);
    CHECK_EQ_INT(rep.hdr.n_items, GROUPS * PER_GROUP);
    CHECK_EQ_INT(rep.events, CUSTOMERS * BUYS * 2);
    CHECK_EQ_INT(losses.n, cfg.als.iterations);
    for (uint32_t i = 1; i < losses.n; i++)
        CHECK(losses.v[i] <= losses.v[i - 1] * (1 + 1e-6));

    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    if (!m)
        return 1;
    for (int c = 0; c < CUSTOMERS; c++) {
        char cid[32], want[16];
        rec_item_t out[4];
        size_t n = 0;
        int pers = 0;
        rec_query_t q = { .customer_id = cid, .k = 4 };
        snprintf(cid, sizeof cid, "c%d", c);
        snprintf(want, sizeof want, "g%d-", c % GROUPS);
        CHECK_EQ_INT(rec_recommend(s, m, &q, out, &n, &pers), 0);
        CHECK(pers);
        CHECK_EQ_INT(n, 4);
        for (size_t i = 0; i < n; i++, total++)
            in_group += strncmp(m->item_ids[out[i].item], want, strlen(want)) == 0;
    }
    printf("recommendations inside the customer's taste group: %d of %d\n",
           in_group, total);
    CHECK(in_group >= total * 9 / 10);
    model_unref(m);

    /* The approximate index probing every cell answers exactly like exact
     * search; probing few cells still keeps tastes. */
    {
        model_opts_t all = { .ann_min_items = 1, .ann_probes = 1000000 };
        model_t *exact = NULL, *ann = NULL;
        CHECK_EQ_INT(model_load(s, 0, NULL, &exact), 0);
        CHECK_EQ_INT(model_load(s, 0, &all, &ann), 0);
        if (!exact || !ann)
            return 1;
        CHECK(ann->ivf != NULL && exact->ivf == NULL);
        for (int c = 0; c < CUSTOMERS; c++) {
            char cid[32];
            rec_item_t a[6], b[6];
            size_t na = 0, nb = 0;
            int pers;
            rec_query_t q = { .customer_id = cid, .k = 6 };
            snprintf(cid, sizeof cid, "c%d", c);
            CHECK_EQ_INT(rec_recommend(s, exact, &q, a, &na, &pers), 0);
            CHECK_EQ_INT(rec_recommend(s, ann, &q, b, &nb, &pers), 0);
            CHECK_EQ_INT(na, nb);
            for (size_t i = 0; i < na && i < nb; i++)
                CHECK(a[i].item == b[i].item && a[i].score == b[i].score);
        }
        model_unref(exact);
        model_unref(ann);
    }

    CHECK_EQ_INT(train_run(s, &cfg, NULL, NULL, &rep), 0);
    CHECK_EQ_INT(rep.hdr.version, 2);
    store_close(s);
    TEST_MAIN_END();
}
