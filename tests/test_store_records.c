/*
 * test_store_records.c - the one record policy (store_record.h): every
 * kind of stored record survives its codec with every field; a record that
 * cannot be decoded, or breaks a bound of this build, is -EBADMSG with a
 * message naming the table and key (not -EIO, not garbage); and the
 * store-wide format version is written on create and a newer one refused.
 */
#include <errno.h>
#include <patron/store/v1/coupons.pb-c.h>
#include <patron/store/v1/triggers.pb-c.h>
#include <pthread.h>

#include "couponstore_internal.h"
#include "lmdbraw.h"
#include "store_record.h"
#include "testutil.h"

#define HAS(msg) (strstr(store_strerror(-EBADMSG), (msg)) != NULL)

/* Encodes row with r, decodes it into back (size bytes), compares bytes. */
static void round_trip(const couponstore_rec_t *r, const void *row, void *back, size_t size)
{
    void *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(r->encode(row, &buf, &len), 0);
    memset(back, 0x5a, size);
    CHECK_EQ_INT(couponstore_rec_decode(r, "k", 1, buf, len, back), 0);
    CHECK(memcmp(row, back, size) == 0);
    /* One byte short is no record of the kind (the last field is cut). */
    if (len > 1)
        CHECK_EQ_INT(couponstore_rec_decode(r, "k", 1, buf, len - 1, back), -EBADMSG);
    free(buf);
}

static void test_coupon_records(void)
{
    coupon_t c, c2;
    couponstore_budget_t b, b2;
    couponstore_history_t *h = calloc(2, sizeof *h);
    couponstore_offer_t o, o2;
    vel_row_t v, v2;
    redeem_row_t rr, rr2;
    uplift_model_t m, m2;

    memset(&c, 0, sizeof c);
    strcpy(c.id, "pack-1");
    strcpy(c.campaign, "spring");
    c.type = COUPON_WELCOME_PACK;
    c.n_benefits = 2;
    c.benefit[0] = (coupon_benefit_t){ COUPON_BENEFIT_PERCENT, 0, 0.1, 5, 0, 0 };
    c.benefit[1] = (coupon_benefit_t){ COUPON_BENEFIT_THRESHOLD, 3, 0.2, 0, 30, 20 };
    c.valid_from_ms = 1700000000000;
    c.valid_until_ms = 1800000000000;
    c.tier_mask = 5;
    c.segment_mask = 6;
    c.stage_mask = 7;
    c.n_categories = 2;
    c.categories[0] = 3;
    c.categories[1] = 9;
    c.n_items = 1;
    c.items[0] = 42;
    c.mode = COUPON_GUARANTEED;
    c.period = COUPON_PERIOD_ONCE;
    c.min_basket = 12.5;
    c.campaign_budget = 1000;
    c.per_customer_limit = 2;
    c.stackable = 1;
    round_trip(&CS_COUPON, &c, &c2, sizeof c);

    memset(&b, 0, sizeof b);
    b.version = COUPONSTORE_VERSION;
    b.budget = 500;
    b.spent = 1.5;
    b.committed = 2.25;
    b.grants = 7;
    b.redemptions = 3;
    b.pacer = (uplift_pacer_t){ 500, 10, 20, 1.5, 0.25, 15, { 1, 50, 8, 4 } };
    round_trip(&CS_BUDGET, &b, &b2, sizeof b);

    h->version = COUPONSTORE_VERSION;
    h->welcome_pack = 1;
    h->n_held = 2;
    strcpy(h->held[0].coupon_id, "a");
    strcpy(h->held[0].campaign, "x");
    h->held[0] = (couponstore_held_t){ "a", "x", 3, 1, 2, 1, 4.5, 99, 77, 0 };
    h->held[1] = (couponstore_held_t){ "b", "y", 1, 0, 0, 0, 0, 5, 6, 1 };
    h->n_grants = 40; /* the ring wrapped: every slot in use */
    for (int i = 0; i < COUPONSTORE_MAX_GRANTS; i++)
        h->grant_ms[i] = 1000 + i;
    h->n_redeems = 3;
    for (int i = 0; i < 3; i++)
        h->redeem_ms[i] = 2000 + i;
    round_trip(&CS_HISTORY, h, h + 1, sizeof *h);

    memset(&o, 0, sizeof o);
    o.version = COUPONSTORE_VERSION;
    strcpy(o.request_id, "req-1");
    strcpy(o.customer_id, "alice");
    o.time_ms = 1234;
    o.x = (uplift_x_t){ 3.5, 2, 80, 40, 2, 0.25 };
    strcpy(o.coupon_id, "pack-1");
    strcpy(o.campaign, "spring");
    o.outcome = COUPON_GRANT_EXPLORE;
    o.assign_prob = 0.05;
    o.max_cost = 8;
    o.numbers = (coupon_option_t){ 1, 40, 30, 0.1, 0.2, 0.1, 5, 6, 3, 0.5, 0.6, 1.5, 1.25, 0.3 };
    strcpy(o.reason, "grant 'pack-1' (explore)");
    o.n_entitled = 2;
    strcpy(o.entitled[0], "bday");
    strcpy(o.entitled[1], "gold-perk");
    round_trip(&CS_OFFER, &o, &o2, sizeof o);

    memset(&v, 0, sizeof v);
    v.n = 70; /* more accounts than hashes kept */
    for (int i = 0; i < COUPONSTORE_MAX_ACCOUNTS; i++)
        v.h[i] = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    round_trip(&CS_VELOCITY, &v, &v2, sizeof v);

    memset(&rr, 0, sizeof rr);
    strcpy(rr.customer_id, "alice");
    strcpy(rr.coupon_id, "pack-1");
    strcpy(rr.campaign, "spring");
    rr.discount = 2.5;
    rr.time_ms = 4321;
    round_trip(&CS_REDEEM, &rr, &rr2, sizeof rr);

    CHECK_EQ_INT(uplift_model_init(&m, NULL), 0);
    m.fitted = 1;
    for (int i = 0; i < UPLIFT_DIM; i++) {
        m.beta_treated[i] = 0.1 * i;
        m.beta_control[i] = -0.2 * i;
        m.beta_response[i] = 0.3 * i;
    }
    for (int i = 0; i < UPLIFT_N_SEGMENTS; i++) {
        m.n_treated[i] = 10 + i;
        m.n_control[i] = 20 + i;
    }
    round_trip(&CS_MODEL, &m, &m2, sizeof m);
    free(h);
}

/* Undecodable or out-of-bounds records name their table and key. */
static void test_coupon_record_errors(void)
{
    static const couponstore_rec_t *const kinds[] = { &CS_COUPON, &CS_BUDGET, &CS_HISTORY,
                                                      &CS_VELOCITY, &CS_OFFER, &CS_REDEEM,
                                                      &CS_MODEL };
    couponstore_history_t *h = malloc(sizeof *h);
    Patron__Store__V1__CouponHistory hm = PATRON__STORE__V1__COUPON_HISTORY__INIT;
    Patron__Store__V1__HeldCoupon held = PATRON__STORE__V1__HELD_COUPON__INIT;
    Patron__Store__V1__HeldCoupon *hp[COUPONSTORE_MAX_HELD + 1];
    Patron__Store__V1__Coupon cm = PATRON__STORE__V1__COUPON__INIT;
    unsigned char buf[8192];
    char expect[128];
    size_t len;

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        CHECK_EQ_INT(couponstore_rec_decode(kinds[i], "key-7", 5, "\xff\xff\xff", 3, h),
                     -EBADMSG);
        snprintf(expect, sizeof expect, "table %s, key \"key-7\"", kinds[i]->table);
        CHECK(HAS(expect));
        CHECK(HAS(kinds[i]->desc->name));
    }
    for (size_t i = 0; i <= COUPONSTORE_MAX_HELD; i++)
        hp[i] = &held;
    hm.n_held = COUPONSTORE_MAX_HELD + 1;
    hm.held = hp;
    len = patron__store__v1__coupon_history__pack(&hm, buf);
    CHECK_EQ_INT(couponstore_rec_decode(&CS_HISTORY, "bob", 3, buf, len, h), -EBADMSG);
    CHECK(HAS("table chist, key \"bob\": held"));
    cm.id = "c";
    cm.type = 99;
    len = patron__store__v1__coupon__pack(&cm, buf);
    CHECK_EQ_INT(couponstore_rec_decode(&CS_COUPON, "c", 1, buf, len, h), -EBADMSG);
    CHECK(HAS("type: unknown"));
    memset(expect, 'x', 100);
    expect[100] = '\0';
    cm.type = 0;
    cm.id = expect; /* longer than COUPON_ID_MAX */
    len = patron__store__v1__coupon__pack(&cm, buf);
    CHECK_EQ_INT(couponstore_rec_decode(&CS_COUPON, "c", 1, buf, len, h), -EBADMSG);
    CHECK(HAS("id: too long"));
    /* Binary keys are shown escaped. */
    CHECK_EQ_INT(store_record_bad("exp_cust", "e\0c\"", 4, "what"), -EBADMSG);
    CHECK(HAS("table exp_cust, key \"e\\x00c\\x22\": what"));
    free(h);
}

/* Damaged attributes and model headers in a real store: -EBADMSG naming them. */
/* A field numbered 0 is refused even spelled with a padded tag, which
 * protobuf-c alone accepts but cannot write back (found by fuzz_records). */
static void test_field_zero_refused(void)
{
    const unsigned char padded[] = { 0x80, 0x00, 0x32 }, fine[] = { 0x08, 0x07 };
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    CHECK_EQ_INT(store_record_unpack(&patron__store__v1__trigger_mark__descriptor, "tmark", "k", 1,
                                     padded, sizeof padded, &m),
                 -EBADMSG);
    CHECK(m == NULL);
    CHECK_EQ_INT(store_record_unpack(&patron__store__v1__trigger_mark__descriptor, "tmark", "k", 1,
                                     fine, sizeof fine, &m),
                 0);
    store_record_free(m);
}

static void test_store_level(void)
{
    const char *dir = test_tmpdir("records-store");
    store_t *s;
    store_attrs_t a = { 1700000000000, 2, 29, "north" }, back;
    store_model_hdr_t hdr = { 0 }, hb;
    float uf[4] = { 1, 2, 3, 4 }, itf[2] = { 5, 6 }, pop[1] = { 7 }, *u, *it, *p;
    unsigned char key[9] = { 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    uint64_t ver = 0;

    if (store_open(dir, 64u << 20, &s) != 0)
        exit(1);
    CHECK_EQ_INT(store_set_attrs(s, "alice", &a), 0);
    CHECK_EQ_INT(store_get_attrs(s, "alice", &back), 0);
    CHECK(back.signup_ms == a.signup_ms && back.birth_month == 2 && back.birth_day == 29);
    CHECK_STREQ(back.region, "north");
    hdr.factors = 2;
    hdr.n_users = 2;
    hdr.n_items = 1;
    hdr.iterations = 9;
    hdr.reg = 0.5f;
    hdr.alpha = 40;
    hdr.final_loss = 1.25;
    hdr.alpha0 = 0.1f;
    hdr.nu = 0.5f;
    hdr.w_view = 1;
    hdr.w_cart = 2;
    hdr.w_purchase = 3;
    hdr.w_refund = -1;
    hdr.half_life_days = 30;
    hdr.newest_event_ms = 123;
    hdr.train_seq = 77;
    hdr.trained_at_ms = 456;
    CHECK_EQ_INT(store_publish_model(s, &hdr, uf, itf, pop), 0);
    CHECK_EQ_INT(store_load_model(s, 0, &hb, &u, &it, &p), 0);
    CHECK(memcmp(&hb, &hdr, sizeof hdr) == 0);
    CHECK(u && memcmp(u, uf, sizeof uf) == 0 && it[1] == 6 && p[0] == 7);
    free(u);
    free(it);
    free(p);
    store_close(s);

    /* The version key of a new store. */
    CHECK_EQ_INT(raw_read(dir, "meta", "format_version", 14, &ver, sizeof ver), 8);
    CHECK_EQ_INT(ver, STORE_FORMAT_VERSION);

    {
        store_item_t item = { .item_id = "book-1", .title = "Title", .category = "books",
                              .price = 20, .unit_cost = 12, .in_stock = 1 };
        CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
        CHECK_EQ_INT(store_upsert_items(s, &item, 1, NULL, NULL, NULL, NULL), 0);
        store_close(s);
    }
    CHECK_EQ_INT(raw_write(dir, "items", "\0\0\0\0", 4, "\x0a\xff", 2), 0);
    CHECK_EQ_INT(raw_write(dir, "attrs", "alice", 5, "\xff\x01", 2), 0);
    CHECK_EQ_INT(raw_write(dir, "models", key, 9, "\x07", 1), 0);
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    {
        char id[64];
        CHECK_EQ_INT(store_item_id(s, 0, id, sizeof id), -EBADMSG);
        CHECK(HAS("table items, key \"\\x00\\x00\\x00\\x00\": not a patron.store.v1.Item"));
    }
    CHECK_EQ_INT(store_get_attrs(s, "alice", &back), -EBADMSG);
    CHECK(HAS("table attrs, key \"alice\""));
    CHECK_EQ_INT(store_load_model(s, 0, &hb, &u, &it, &p), -EBADMSG);
    CHECK(HAS("table models, key \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00\""));
    store_close(s);

    /* A store written by a newer release is refused, untouched. */
    ver = STORE_FORMAT_VERSION + 1;
    CHECK_EQ_INT(raw_write(dir, "meta", "format_version", 14, &ver, sizeof ver), 0);
    s = NULL;
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), -EPROTONOSUPPORT);
    CHECK(s == NULL);
    CHECK(strstr(store_strerror(-EPROTONOSUPPORT), "store format 3 is newer than this build "
                                                   "reads (2)") != NULL);
    ver = 0;
    CHECK_EQ_INT(raw_read(dir, "meta", "format_version", 14, &ver, sizeof ver), 8);
    CHECK_EQ_INT(ver, STORE_FORMAT_VERSION + 1);
}

/* Group commit runs a writer's function on whichever thread leads the
 * round; the message of an unreadable record must still reach the thread
 * that asked. */
typedef struct bad_writer {
    store_t *s;
    char key[24];            /* "writer-" and any int */
    int wrong;
} bad_writer_t;

static int fail_naming(store_tx_t *tx, void *ctx)
{
    const bad_writer_t *w = ctx;
    (void)tx;
    return store_record_bad("t", w->key, strlen(w->key), "unreadable");
}

static void *bad_writes(void *arg)
{
    bad_writer_t *w = arg;
    char expect[64];
    snprintf(expect, sizeof expect, "table t, key \"%s\": unreadable", w->key);
    for (int i = 0; i < 200; i++)
        if (store_table_atomic(w->s, fail_naming, w) != -EBADMSG ||
            strcmp(store_strerror(-EBADMSG), expect) != 0)
            w->wrong++;
    return NULL;
}

static void test_error_reaches_the_calling_thread(void)
{
    store_t *s;
    pthread_t th[8];
    bad_writer_t w[8];
    if (store_open(test_tmpdir("records-threads"), 64u << 20, &s) != 0)
        exit(1);
    for (int i = 0; i < 8; i++) {
        w[i].s = s;
        snprintf(w[i].key, sizeof w[i].key, "writer-%d", i);
        w[i].wrong = 0;
        pthread_create(&th[i], NULL, bad_writes, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].wrong, 0);
    }
    store_close(s);
}

int main(void)
{
    test_error_reaches_the_calling_thread();
    test_coupon_records();
    test_coupon_record_errors();
    test_store_level();
    test_field_zero_refused();
    TEST_MAIN_END();
}
