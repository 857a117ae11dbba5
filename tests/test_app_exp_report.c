/*
 * test_app_exp_report.c - GetExperimentResults as a use case
 * (recsys/app/exp_report.h) over a real store: per-arm counts and
 * conversion, the difference to control only for the other arms, margins
 * from the catalog's unit costs, and the warnings: an unbalanced split is a
 * sample ratio mismatch, a balanced but small one is read too early.
 */
#include <errno.h>
#include <math.h>

#include "catalog.h"
#include "exp_report.h"
#include "expstore.h"
#include "testexperiment.h"
#include "monotime.h"
#include "testutil.h"

#define T0 1718000000000LL
#define DAY 86400000LL

static experiment_t two_arms(const char *id)
{
    return test_two_arms(id, "default", "control", "treatment", T0);
}

/* n customers of experiment exp in arm; the first `buyers` of them buy
 * one 10.00 item (unit cost 4.00) a day after their exposure. */
static void expose(store_t *s, const char *exp, uint32_t arm, int n, int buyers)
{
    for (int i = 0; i < n; i++) {
        char cust[32], req[48], ev_id[48];
        uint8_t o;
        const char *why;
        snprintf(cust, sizeof cust, "%s-%u-%d", exp, arm, i);
        snprintf(req, sizeof req, "req-%s", cust);
        snprintf(ev_id, sizeof ev_id, "ev-%s", cust);
        expstore_exposure_t x = { req, cust, exp, arm, 0, T0, NULL, 0 };
        CHECK_EQ_INT(expstore_log(s, &x), 0);
        if (i < buyers) {
            store_event_t e = { ev_id, cust, "i1", STORE_EVENT_PURCHASE, T0 + DAY, 1, 10, NULL };
            CHECK_EQ_INT(store_record_events(s, &e, 1, &o, &why), 0);
        }
    }
}

int main(void)
{
    store_item_t item = { .item_id = "i1", .title = NULL, .category = "kitchen",
                          .price = 10, .unit_cost = 4, .in_stock = 1 };
    experiment_t e = two_arms("balanced"), skew = two_arms("skewed");
    exp_report_t *rep = calloc(1, sizeof *rep);
    catalog_t *cat = NULL;
    store_t *s = NULL;
    const exp_metric_t *conv, *margin;

    CHECK_EQ_INT(store_open(test_tmpdir("app-report"), 64u << 20, &s), 0);
    if (!s || !rep)
        return 1;
    CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(catalog_load(s, &cat), 0);
    expose(s, "balanced", 0, 20, 4);   /* control converts 20% */
    expose(s, "balanced", 1, 20, 10);  /* treatment 50% */
    expose(s, "skewed", 0, 60, 6);
    expose(s, "skewed", 1, 20, 2);

    /* A deadline already passed stops the scan over exposed customers. */
    CHECK_EQ_INT(exp_report(s, &e, cat, 14 * DAY, 28 * DAY, monotime_seconds() - 1, rep),
                 -ETIMEDOUT);
    CHECK_EQ_INT(exp_report(s, &e, cat, 14 * DAY, 28 * DAY, monotime_seconds() + 60, rep), 0);
    CHECK_EQ_INT(exp_report(s, &e, cat, 14 * DAY, 28 * DAY, 0, rep), 0);
    CHECK_EQ_INT(rep->n_arms, 2);
    CHECK_EQ_INT(rep->arms[0].customers, 20);
    CHECK_EQ_INT(rep->arms[1].exposures, 20);
    CHECK(fabs(rep->arms[0].conversion_rate - 0.2) < 1e-12);
    CHECK(fabs(rep->arms[1].conversion_rate - 0.5) < 1e-12);
    CHECK(fabs(rep->arms[1].expected_share - 0.5) < 1e-12);
    conv = &rep->arms[0].metrics[0];
    CHECK_STREQ(conv->name, "conversion");
    CHECK(!conv->has_diff); /* control against itself: nothing */
    conv = &rep->arms[1].metrics[0];
    CHECK(conv->has_diff && conv->has_cuped);
    CHECK(fabs(conv->vs_control.estimate - 0.3) < 1e-12);
    CHECK(fabs(conv->vs_control.relative - 1.5) < 1e-12);
    CHECK(conv->vs_control.ci_lo < 0.3 && 0.3 < conv->vs_control.ci_hi);
    CHECK(conv->vs_control.p > 0 && conv->vs_control.p < 0.1);
    CHECK(conv->vs_control.always_valid_p >= conv->vs_control.p);
    margin = &rep->arms[1].metrics[2];
    CHECK_STREQ(margin->name, "margin_per_customer");
    CHECK(fabs(margin->value - 0.5 * 6.0) < 1e-9); /* half bought, 10 - 4 each */
    CHECK_STREQ(rep->arms[1].metrics[3].name, "click_through");
    CHECK(rep->srm_checked && !rep->sample_ratio_mismatch);
    CHECK(rep->planned_customers_per_arm > 20);
    CHECK(rep->underpowered);
    CHECK(strstr(rep->warning, "read before the planned size") != NULL);

    /* 60 against 20 under a 50/50 split: the check that comes first. */
    CHECK_EQ_INT(exp_report(s, &skew, cat, 14 * DAY, 28 * DAY, 0, rep), 0);
    CHECK(rep->sample_ratio_mismatch);
    CHECK(rep->srm_p < 0.001);
    CHECK(strncmp(rep->warning, "SAMPLE RATIO MISMATCH", 21) == 0);

    /* No catalog: margins equal revenue (no costs known). */
    CHECK_EQ_INT(exp_report(s, &e, NULL, 14 * DAY, 28 * DAY, 0, rep), 0);
    CHECK(fabs(rep->arms[1].metrics[2].value - 0.5 * 10.0) < 1e-9);
    catalog_unref(cat);
    free(rep);
    store_close(s);
    TEST_MAIN_END();
}
