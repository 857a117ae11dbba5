/*
 * test_expcodec.c - the stored form of experiment definitions: every field
 * survives a round trip, fields a newer release adds are skipped, and any
 * damaged record is refused (never a crash or a huge allocation).
 */
#include <errno.h>

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

    /* Every truncation and a wrong magic are refused. */
    for (size_t n = 0; n < len; n++)
        CHECK_EQ_INT(expcodec_decode(buf, n, &d), -EIO);
    buf[3] = 2; /* a format version this release does not know */
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), -EIO);
    free(buf);

    /* No pins: forced stays NULL. */
    e.n_forced = 0;
    CHECK_EQ_INT(expcodec_encode(&e, &buf, &len), 0);
    CHECK_EQ_INT(expcodec_decode(buf, len, &d), 0);
    CHECK(d.forced == NULL && d.n_forced == 0);
    free(buf);
}

/* A record written by a later release, by hand: one arm with a field this
 * release does not know (tag 99) between known ones. */
static void test_unknown_field_and_damage(void)
{
    static const unsigned char rec[] = {
        'P', 'X', 'E', 1,
        1, 0, 'x', 0, 0, 0, 0,               /* id "x", salt "", layer "" */
        0, 0, 0, 0, 0, 0, 0xf0, 0x3f,        /* traffic 1.0 */
        0, 0, 0, 0, 0, 0, 0, 0,              /* start 0 */
        0, 0, 0, 0, 0, 0, 0, 0,              /* stop 0 */
        1, 0,                                /* one arm */
        1, 0, 'a', 3, 0,                     /* "a", 3 fields */
        1, 8, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,  /* weight 1.0 */
        99, 3, 1, 2, 3,                      /* unknown: skipped */
        7, 4, 5, 0, 0, 0,                    /* max_per_category 5 */
        0, 0, 0, 0,                          /* no pins */
    };
    unsigned char bad[sizeof rec];
    experiment_t d;

    CHECK_EQ_INT(expcodec_decode(rec, sizeof rec, &d), 0);
    CHECK_STREQ(d.arms[0].id, "a");
    CHECK(d.arms[0].weight == 1.0);
    CHECK_EQ_INT(d.arms[0].max_per_category, 5);
    CHECK(d.arms[0].diversity == 0); /* missing: 0 */
    /* A pin count far past the bytes left is refused before allocating. */
    memcpy(bad, rec, sizeof rec);
    bad[sizeof rec - 1] = 0x7f;
    CHECK_EQ_INT(expcodec_decode(bad, sizeof rec, &d), -EIO);
    /* Too many arms, and a string longer than the field. */
    memcpy(bad, rec, sizeof rec);
    bad[35] = 17;
    CHECK_EQ_INT(expcodec_decode(bad, sizeof rec, &d), -EIO);
    memcpy(bad, rec, sizeof rec);
    bad[5] = 0xff; /* id length 255 + 256 * 0 > the bytes that follow */
    CHECK_EQ_INT(expcodec_decode(bad, sizeof rec, &d), -EIO);
    /* Trailing bytes mean the record is not what it says. */
    {
        unsigned char longer[sizeof rec + 1];
        memcpy(longer, rec, sizeof rec);
        longer[sizeof rec] = 0;
        CHECK_EQ_INT(expcodec_decode(longer, sizeof longer, &d), -EIO);
    }
}

int main(void)
{
    test_round_trip();
    test_unknown_field_and_damage();
    TEST_MAIN_END();
}
