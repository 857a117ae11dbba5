/*
 * test_expcodec.c - the stored form of experiment definitions
 * (patron.store.v1.Experiment): every field survives a round trip, fields a
 * newer release adds are skipped, and a damaged record or one out of this
 * build's bounds is refused with -EBADMSG (never a crash or an overflow).
 */
#include <errno.h>
#include <patron/store/v1/experiments.pb-c.h>

#include "expcodec.h"
#include "testutil.h"

static void sample(experiment_t *e, experiment_forced_t *forced)
{
    memset(e, 0, sizeof *e);
    strcpy(e->id, "checkout-v2");
    strcpy(e->salt, "s1");
    strcpy(e->layer, "ranking");
    e->traffic_fraction = 0.25;
    e->start_ms = 1700000000000;
    e->stop_ms = 1800000000000;
    e->n_arms = 3;
    strcpy(e->arms[0].id, "control");
    e->arms[0].weight = 0.5;
    strcpy(e->arms[1].id, "varied");
    e->arms[1].weight = 0.25;
    e->arms[1].model_version = 7;
    e->arms[1].popularity_blend = 0.125;
    e->arms[1].diversity = 0.3;
    e->arms[1].max_per_category = 2;
    strcpy(e->arms[2].id, "no-coupons");
    e->arms[2].weight = 0.25;
    e->arms[2].coupons_off = 1;
    e->arms[2].coupon_lambda = 1.5;
    strcpy(forced[0].customer_id, "qa-1");
    strcpy(forced[0].arm_id, "varied");
    strcpy(forced[1].customer_id, "qa-2");
    strcpy(forced[1].arm_id, "control");
    e->forced = forced;
    e->n_forced = 2;
}

static void test_round_trip(void)
{
    experiment_forced_t forced[2];
    experiment_t e, d;
    unsigned char *buf = NULL;
    size_t len = 0;

    sample(&e, forced);
    CHECK_EQ_INT(expcodec_encode(&e, &buf, &len), 0);
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), 0);
    CHECK_STREQ(d.id, "checkout-v2");
    CHECK_STREQ(d.salt, "s1");
    CHECK_STREQ(d.layer, "ranking");
    CHECK(d.traffic_fraction == 0.25);
    CHECK(d.start_ms == e.start_ms && d.stop_ms == e.stop_ms);
    CHECK_EQ_INT(d.n_arms, 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_STREQ(d.arms[i].id, e.arms[i].id);
        CHECK(d.arms[i].weight == e.arms[i].weight);
        CHECK(d.arms[i].model_version == e.arms[i].model_version);
        CHECK(d.arms[i].popularity_blend == e.arms[i].popularity_blend);
        CHECK(d.arms[i].coupons_off == e.arms[i].coupons_off);
        CHECK(d.arms[i].coupon_lambda == e.arms[i].coupon_lambda);
        CHECK(d.arms[i].diversity == e.arms[i].diversity);
        CHECK(d.arms[i].max_per_category == e.arms[i].max_per_category);
    }
    CHECK_EQ_INT(d.n_forced, 2);
    if (d.forced) {
        CHECK_STREQ(d.forced[1].customer_id, "qa-2");
        CHECK_STREQ(d.forced[1].arm_id, "control");
    }
    free((void *)d.forced);

    /* Bytes that are no Experiment record are refused. */
    CHECK_EQ_INT(expcodec_decode("\xff\xff\xff", 3, &d), -EBADMSG);
    CHECK_EQ_INT(expcodec_decode(buf, len - 1, &d), -EBADMSG); /* cut in a field */
    free(buf);

    /* No pins: forced stays NULL. */
    e.n_forced = 0;
    CHECK_EQ_INT(expcodec_encode(&e, &buf, &len), 0);
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), 0);
    CHECK(d.forced == NULL && d.n_forced == 0);
    free(buf);
}

/* A record written by a later release: a field this release does not know
 * (number 99) appended to a known record decodes, the field skipped. */
static void test_unknown_field(void)
{
    experiment_forced_t forced[2];
    experiment_t e, d;
    unsigned char *buf = NULL, *longer;
    size_t len = 0;

    sample(&e, forced);
    CHECK_EQ_INT(expcodec_encode(&e, &buf, &len), 0);
    longer = malloc(len + 3);
    memcpy(longer, buf, len);
    longer[len] = 0x98; /* field 99, varint: (99 << 3) | 0 = 792 */
    longer[len + 1] = 0x06;
    longer[len + 2] = 0x01;
    CHECK_EQ_INT(expcodec_decode(longer, len + 3, &d), 0);
    CHECK_STREQ(d.arms[1].id, "varied");
    CHECK_EQ_INT(d.arms[1].max_per_category, 2);
    free((void *)d.forced);
    free(longer);
    free(buf);
}

/* Records that decode but break this build's bounds: -EBADMSG. */
static void test_out_of_bounds(void)
{
    Patron__Store__V1__Experiment m = PATRON__STORE__V1__EXPERIMENT__INIT;
    Patron__Store__V1__ExperimentArm arm = PATRON__STORE__V1__EXPERIMENT_ARM__INIT;
    Patron__Store__V1__ExperimentArm *arms[EXPERIMENT_MAX_ARMS + 1];
    char long_id[EXPERIMENT_MAX_ID + 2];
    unsigned char buf[4096];
    size_t len;
    experiment_t d;

    for (size_t i = 0; i <= EXPERIMENT_MAX_ARMS; i++)
        arms[i] = &arm;
    arm.id = "a";
    m.id = "x";
    m.n_arms = EXPERIMENT_MAX_ARMS + 1;
    m.arms = arms;
    len = patron__store__v1__experiment__pack(&m, buf);
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), -EBADMSG);
    m.n_arms = 1;
    memset(long_id, 'i', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    m.id = long_id;
    len = patron__store__v1__experiment__pack(&m, buf);
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), -EBADMSG);
    m.id = "x";
    len = patron__store__v1__experiment__pack(&m, buf);
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), 0);
    CHECK_STREQ(d.arms[0].id, "a");
}

int main(void)
{
    test_round_trip();
    test_unknown_field();
    test_out_of_bounds();
    TEST_MAIN_END();
}
