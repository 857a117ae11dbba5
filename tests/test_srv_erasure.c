/*
 * test_srv_erasure.c - erasure of what patrond holds in memory, through the
 * server's own owner list (app_owners.c): after customers_erase the erased
 * customer's recently-shown list is empty, the served model no longer uses
 * its factor row, and the experiment set in memory no longer pins it,
 * while the other customer keeps all three. (test_erasure.c checks the
 * store's databases.)
 */
#include <errno.h>
#include <string.h>

#include "app.h"
#include "customers_erase.h"
#include "testexperiment.h"
#include "testutil.h"

#define T0 1718000000000LL
#define GONE "erase-me-7f3e"
#define KEPT "keep-me-51c0"

static void fill(store_t *s)
{
    store_item_t items[2] = { { .item_id = "i1", .title = "One", .category = "c",
                                .price = 10, .unit_cost = 4, .in_stock = 1 }, { .item_id = "i2", .title = "Two", .category = "c", .price = 20, .unit_cost = 5, .in_stock = 1 } };
    store_event_t ev[2] = {
        { "ev-g1", GONE, "i1", STORE_EVENT_PURCHASE, T0, 1, 10, NULL },
        { "ev-k1", KEPT, "i2", STORE_EVENT_PURCHASE, T0, 1, 20, NULL },
    };
    store_model_hdr_t h = { .factors = 2, .n_users = 2, .n_items = 2 };
    float uf[4] = { 1, 2, 3, 4 }, itf[4] = { 1, 0, 0, 1 }, pop[2] = { 1, 1 };
    experiment_forced_t forced[2] = { { GONE, "b" }, { KEPT, "a" } };
    experiment_t def;
    uint8_t out[2];
    const char *why[2];

    CHECK_EQ_INT(store_upsert_items(s, items, 2, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 2, out, why), 0);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    def = test_two_arms("exp-1", "default", "a", "b", T0);
    def.forced = forced;
    def.n_forced = 2;
    CHECK_EQ_INT(expstore_save(s, &def), 0);
}

/* Whether the experiment set in memory pins customer_id. */
static int pinned(app_t *a, const char *customer_id)
{
    exp_snapshot_t *x = exp_slot_get(&a->experiments);
    int found = 0;
    for (size_t i = 0; i < x->defs.n; i++)
        for (size_t j = 0; j < x->defs.defs[i].n_forced; j++)
            found |= strcmp(x->defs.defs[i].forced[j].customer_id, customer_id) == 0;
    exp_snapshot_unref(x);
    return found;
}

int main(void)
{
    store_t *s = NULL;
    app_t a;
    model_opts_t opts;
    model_t *m;
    custdata_erased_t erased;
    uint32_t shown[2] = { 0, 1 }, got[4];
    uint64_t version = 0;
    char err[256];

    if (store_open(test_tmpdir("srv-erasure"), 64u << 20, &s) != 0)
        return 1;
    fill(s);
    model_opts_default(&opts);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(app_init(&a, s, &opts), 0);
    CHECK_EQ_INT(app_reload(&a, &version), 0);
    CHECK_EQ_INT(version, 1);
    CHECK_EQ_INT(exp_slot_load(&a.experiments, err, sizeof err), 0);
    shown_record(a.shown, GONE, shown, 2, T0);
    shown_record(a.shown, KEPT, shown, 1, T0);
    CHECK(pinned(&a, GONE) && pinned(&a, KEPT));

    CHECK_EQ_INT(customers_erase(s, a.owners, a.n_owners, GONE, &erased, NULL), 0);
    CHECK(erased.had_index && erased.index == 0);
    CHECK_EQ_INT(shown_since(a.shown, GONE, 0, got, 4), 0);
    CHECK_EQ_INT(shown_since(a.shown, KEPT, 0, got, 4), 1);
    m = model_slot_get(&a.models);
    CHECK(m != NULL);
    if (m) {
        CHECK(model_user_erased(m, 0));
        CHECK(!model_user_erased(m, 1));
        model_unref(m);
    }
    CHECK(!pinned(&a, GONE));
    CHECK(pinned(&a, KEPT));

    /* Memory is forgotten even when the store never knew the customer (a
     * visitor who was only shown a list); the answer is still -ENOENT. */
    shown_record(a.shown, "visitor", shown, 2, T0);
    CHECK_EQ_INT(customers_erase(s, a.owners, a.n_owners, "visitor", &erased, NULL), -ENOENT);
    CHECK_EQ_INT(shown_since(a.shown, "visitor", 0, got, 4), 0);

    app_destroy(&a);
    store_close(s);
    TEST_MAIN_END();
}
