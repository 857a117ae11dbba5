/*
 * test_store_migrate.c - store_open converts a store of the previous
 * release (format 1, no meta "format_version") into patron.store.v1
 * records: every value reads back the same through the public APIs; a
 * record the migration cannot read aborts it with -EBADMSG naming the
 * record and leaves the old store untouched (one transaction); a migrated
 * store is not migrated again; rows of tables it does not know stay as
 * they were.
 *
 * The format 1 rows are written the way that release wrote them: memcpy
 * images of the structs (whose layouts have not changed: the
 * _Static_asserts below hold them to store_legacy.h), offer rows deflated,
 * experiment definitions in the tagged "PXE" format (a test-only encoder,
 * legacy_exp_encode, below).
 */
#include <errno.h>
#include <stddef.h>
#include <zlib.h>

#include "couponstore_internal.h"
#include "customers.h"
#include "expstore.h"
#include "lmdbraw.h"
#include "store_legacy.h"
#include "store_record.h"
#include "testutil.h"

/* The current structs are the previous release's layouts. */
#define SAME_LAYOUT(legacy, cur) \
    _Static_assert(sizeof(legacy) == sizeof(cur), #legacy " is the layout of " #cur)
/* The model header is format 1's plus the source string at its end. */
_Static_assert(offsetof(store_model_hdr_t, source) == sizeof(legacy_model_hdr_t),
               "store_model_hdr_t starts with legacy_model_hdr_t");
SAME_LAYOUT(legacy_attrs_t, store_attrs_t);
/* coupon_t and couponstore_offer_t are format 1's plus fields at their end
 * (a coupon's mode and period; the entitlements an offer granted), which a
 * migrated row leaves zero: the images written below are their prefixes. */
_Static_assert(offsetof(coupon_t, mode) == sizeof(legacy_coupon_t),
               "coupon_t starts with legacy_coupon_t");
_Static_assert(offsetof(couponstore_offer_t, n_entitled) >=
               offsetof(legacy_offer_t, reason) + LEGACY_REASON,
               "couponstore_offer_t starts with legacy_offer_t");
SAME_LAYOUT(legacy_budget_t, couponstore_budget_t);
SAME_LAYOUT(legacy_uplift_model_t, uplift_model_t);
_Static_assert(offsetof(legacy_coupon_t, campaign_budget) ==
               offsetof(coupon_t, campaign_budget), "coupon_t layout");
_Static_assert(offsetof(legacy_offer_t, numbers) == offsetof(couponstore_offer_t, numbers),
               "offer layout");
_Static_assert(offsetof(legacy_offer_t, reason) == offsetof(couponstore_offer_t, reason),
               "offer layout");
_Static_assert(offsetof(legacy_budget_t, pacer) == offsetof(couponstore_budget_t, pacer),
               "budget layout");
_Static_assert(offsetof(legacy_uplift_model_t, l2) == offsetof(uplift_model_t, cfg),
               "uplift model layout");

/* ---- writing format 1 ------------------------------------------------------------ */

/* The format 1 image of h (couponstore_held_t has grown a field since). */
static legacy_history_t *legacy_history(const couponstore_history_t *h)
{
    legacy_history_t *r = calloc(1, sizeof *r);
    if (!r)
        exit(2);
    r->version = h->version;
    r->welcome_pack = h->welcome_pack;
    r->n_held = h->n_held;
    r->n_grants = h->n_grants;
    r->n_redeems = h->n_redeems;
    for (size_t i = 0; i < LEGACY_MAX_HELD; i++) {
        const couponstore_held_t *x = &h->held[i];
        legacy_held_t *y = &r->held[i];
        memcpy(y->coupon_id, x->coupon_id, sizeof y->coupon_id);
        memcpy(y->campaign, x->campaign, sizeof y->campaign);
        y->granted = x->granted;
        y->active = x->active;
        y->uses_left = x->uses_left;
        y->stackable = x->stackable;
        y->reserved = x->reserved;
        y->valid_until_ms = x->valid_until_ms;
        y->last_grant_ms = x->last_grant_ms;
    }
    memcpy(r->grant_ms, h->grant_ms, sizeof r->grant_ms);
    memcpy(r->redeem_ms, h->redeem_ms, sizeof r->redeem_ms);
    return r;
}

static void put_table(const char *dir, const char *table, const char *key,
                      const void *val, size_t vlen)
{
    char k[512];
    size_t kl = raw_table_key(k, table, key, strlen(key));
    CHECK_EQ_INT(raw_write(dir, "tables", k, kl, val, vlen), 0);
}

/* The previous release's expcodec_encode, for this test only. */
typedef struct wbuf {
    unsigned char p[4096];
    size_t len;
} wbuf_t;

static void put_u(wbuf_t *w, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        w->p[w->len++] = (unsigned char)(v >> (8 * i));
}

static void put_str(wbuf_t *w, const char *s)
{
    size_t n = strlen(s);
    put_u(w, n, 2);
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void put_f64(wbuf_t *w, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_u(w, v, 8);
}

static void put_field(wbuf_t *w, int tag, uint64_t v, size_t bytes)
{
    put_u(w, (uint64_t)tag, 1);
    put_u(w, bytes, 1);
    put_u(w, v, bytes);
}

static uint64_t bits(double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    return v;
}

static void legacy_exp_encode(const experiment_t *e, wbuf_t *w)
{
    static const unsigned char magic[4] = { 'P', 'X', 'E', 1 };
    memcpy(w->p, magic, 4);
    w->len = 4;
    put_str(w, e->id);
    put_str(w, e->salt);
    put_str(w, e->layer);
    put_f64(w, e->traffic_fraction);
    put_u(w, (uint64_t)e->start_ms, 8);
    put_u(w, (uint64_t)e->stop_ms, 8);
    put_u(w, e->n_arms, 2);
    for (size_t i = 0; i < e->n_arms; i++) {
        const experiment_arm_t *a = &e->arms[i];
        put_str(w, a->id);
        put_u(w, 8, 2);
        put_field(w, 1, bits(a->weight), 8);
        put_field(w, 2, a->model_version, 8);
        put_field(w, 3, bits(a->popularity_blend), 8);
        put_field(w, 4, a->coupons_off != 0, 1);
        put_field(w, 5, bits(a->coupon_lambda), 8);
        put_field(w, 6, bits(a->diversity), 8);
        put_field(w, 7, a->max_per_category, 4);
        put_field(w, 42, 7, 2); /* a field that release skipped: so does the migration */
    }
    put_u(w, e->n_forced, 4);
    for (size_t i = 0; i < e->n_forced; i++) {
        put_str(w, e->forced[i].customer_id);
        put_str(w, e->forced[i].arm_id);
    }
}

/* Format 1's packed item record, for this test only. */
static size_t legacy_item(unsigned char *b, const store_item_t *it)
{
    const char *s[3] = { it->item_id, it->title, it->category };
    size_t n = 17;
    b[0] = it->in_stock ? 1 : 0;
    memcpy(b + 1, &it->price, 8);
    memcpy(b + 9, &it->unit_cost, 8);
    for (int i = 0; i < 3; i++) {
        uint16_t l = (uint16_t)strlen(s[i]);
        memcpy(b + n, &l, 2);
        memcpy(b + n + 2, s[i], l);
        n += 2u + l;
    }
    return n;
}

static const store_item_t ITEMS[2] = {
    { .item_id = "book-1", .title = "A \"quoted\" title", .category = "books",
      .price = 20, .unit_cost = 12, .in_stock = 1 },
    { .item_id = "toy-1", .title = "", .category = "toys",
      .price = 30.5, .unit_cost = 20.25, .in_stock = 0 },
};

/* ---- the values ---------------------------------------------------------------------- */

typedef struct legacy_world {
    legacy_model_hdr_t hdr;
    store_attrs_t attrs;
    coupon_t coupon;
    couponstore_budget_t budget;
    couponstore_history_t hist;
    couponstore_offer_t offer, offer_raw;
    vel_row_t vel;
    redeem_row_t redeem;
    uplift_model_t model;
    experiment_t exp;
    experiment_forced_t forced[1];
    struct { uint32_t arm_index; uint8_t forced, mixed; int64_t first_ms, last_ms;
             uint32_t exposures, items_shown, n_shown, shown[64]; } cust;
} legacy_world_t;

static void fill(legacy_world_t *w)
{
    memset(w, 0, sizeof *w);
    w->hdr = (legacy_model_hdr_t){ 1, 456, 2, 2, 1, 9, 0.5f, 40, 1.25, 0.1f, 0.5f,
                                   1, 2, 3, -1, 30, 123, 77 };
    w->attrs = (store_attrs_t){ 1600000000000, 12, 24, "south" };
    strcpy(w->coupon.id, "save2");
    strcpy(w->coupon.campaign, "spring");
    w->coupon.type = COUPON_FIXED;
    w->coupon.n_benefits = 1;
    w->coupon.benefit[0].kind = COUPON_BENEFIT_AMOUNT;
    w->coupon.benefit[0].amount = 2;
    w->coupon.valid_from_ms = 1000;
    w->coupon.valid_until_ms = 9000;
    w->coupon.n_categories = 1;
    w->coupon.categories[0] = 4;
    w->coupon.campaign_budget = 500;
    w->coupon.per_customer_limit = 1;
    w->budget.version = COUPONSTORE_VERSION;
    w->budget.budget = 500;
    w->budget.spent = 1.5;
    w->budget.committed = 0.5;
    w->budget.grants = 2;
    w->budget.redemptions = 1;
    w->budget.pacer = (uplift_pacer_t){ 500, 1000, 9000, 1.25, 0.5, 2000, { 1, 50, 8, 4 } };
    w->hist.version = COUPONSTORE_VERSION;
    w->hist.n_held = 1;
    w->hist.held[0] = (couponstore_held_t){ "save2", "spring", 1, 1, 1, 0, 2, 9000, 1500, 0 };
    w->hist.n_grants = 1;
    w->hist.grant_ms[0] = 1500;
    w->hist.n_redeems = 1;
    w->hist.redeem_ms[0] = 1600;
    w->offer.version = COUPONSTORE_VERSION;
    strcpy(w->offer.request_id, "req-1");
    strcpy(w->offer.customer_id, "alice");
    w->offer.time_ms = 1500;
    w->offer.x = (uplift_x_t){ 3, 4, 50, 12.5, 2, 0.3 };
    strcpy(w->offer.coupon_id, "save2");
    strcpy(w->offer.campaign, "spring");
    w->offer.assign_prob = 0.99;
    w->offer.max_cost = 2;
    w->offer.numbers = (coupon_option_t){ 0, 44, 0, 0.05, 0.07, 0.02, 1, 2, 2, 0.07,
                                          0.27, 0.14, 1, 0.13 };
    strcpy(w->offer.reason, "grant 'save2'");
    w->offer_raw = w->offer;
    strcpy(w->offer_raw.request_id, "req-raw");
    w->offer_raw.outcome = COUPON_NONE_HOLDOUT;
    w->offer_raw.numbers.index = -1;
    w->vel.n = 2;
    w->vel.h[0] = 11;
    w->vel.h[1] = 22;
    strcpy(w->redeem.customer_id, "alice");
    strcpy(w->redeem.coupon_id, "save2");
    strcpy(w->redeem.campaign, "spring");
    w->redeem.discount = 1.5;
    w->redeem.time_ms = 1600;
    uplift_model_init(&w->model, NULL);
    w->model.fitted = 1;
    w->model.beta_treated[3] = 0.75;
    w->model.n_control[2] = 12;
    strcpy(w->exp.id, "exp-1");
    strcpy(w->exp.salt, "pepper");
    strcpy(w->exp.layer, "ranking");
    w->exp.traffic_fraction = 0.5;
    w->exp.start_ms = 1000;
    w->exp.stop_ms = 99000;
    w->exp.n_arms = 2;
    strcpy(w->exp.arms[0].id, "control");
    w->exp.arms[0].weight = 0.5;
    strcpy(w->exp.arms[1].id, "blend");
    w->exp.arms[1] = (experiment_arm_t){ "blend", 0.5, 3, 0.25, 1, 1.5, 0.3, 2 };
    strcpy(w->forced[0].customer_id, "qa-1");
    strcpy(w->forced[0].arm_id, "blend");
    w->exp.forced = w->forced;
    w->exp.n_forced = 1;
    w->cust.arm_index = 1;
    w->cust.mixed = 1;
    w->cust.first_ms = 1200;
    w->cust.last_ms = 1700;
    w->cust.exposures = 3;
    w->cust.items_shown = 15;
    w->cust.n_shown = 2;
    w->cust.shown[0] = 7;
    w->cust.shown[1] = 9;
}

/* A fresh store, then every record rewritten as format 1 wrote it. */
static void write_format1(const char *dir, const legacy_world_t *w, int damaged)
{
    store_t *s;
    float uf[4] = { 1, 2, 3, 4 }, itf[2] = { 5, 6 }, pop[1] = { 7 };
    store_model_hdr_t h = { 0 };
    unsigned char mkey[9] = { 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    legacy_coupon_row_t crow;
    struct { uint32_t version; uint32_t n; uint64_t h[COUPONSTORE_MAX_ACCOUNTS]; } vrow;
    struct { uint32_t version; char customer_id[STORE_MAX_ID + 1];
             char coupon_id[COUPON_ID_MAX]; char campaign[COUPON_ID_MAX];
             double discount; int64_t time_ms; } rrow;
    unsigned char z[2048];
    uLongf zn = sizeof z;
    wbuf_t e;
    int64_t req_time = 1700;
    char ckey[64];

    memcpy(&h, &w->hdr, sizeof w->hdr);
    if (store_open(dir, 64u << 20, &s) != 0)
        exit(1);
    CHECK_EQ_INT(store_publish_model(s, &h, uf, itf, pop), 0);
    CHECK_EQ_INT(store_upsert_items(s, ITEMS, 2, NULL, NULL, NULL, NULL), 0);
    store_close(s);
    for (uint32_t i = 0; i < 2; i++) {
        unsigned char ik[4] = { 0, 0, 0, (unsigned char)i }, rec[256];
        CHECK_EQ_INT(raw_write(dir, "items", ik, 4, rec, legacy_item(rec, &ITEMS[i])), 0);
    }
    CHECK_EQ_INT(raw_write(dir, "meta", "format_version", 14, NULL, 0), 0);
    CHECK_EQ_INT(raw_write(dir, "models", mkey, 9, &w->hdr, sizeof w->hdr), 0);
    CHECK_EQ_INT(raw_write(dir, "attrs", "alice", 5, &w->attrs, sizeof w->attrs), 0);
    {
        int64_t pts = 40;
        rfm_cutpoints_t cut = { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10, 11, 12 }, 99 };
        CHECK_EQ_INT(raw_write(dir, "points", "alice\0red-9", 11, &pts, sizeof pts), 0);
        CHECK_EQ_INT(raw_write(dir, "blobs", "rfm_cutpoints", 13, &cut, sizeof cut), 0);
    }
    memset(&crow, 0, sizeof crow);
    crow.version = 1;
    memcpy(&crow.c, &w->coupon, sizeof crow.c);
    put_table(dir, "coupon", "save2", &crow, sizeof crow);
    put_table(dir, "cbudget", "spring", &w->budget, sizeof w->budget);
    {
        legacy_history_t *lh = legacy_history(&w->hist);
        put_table(dir, "chist", "alice", lh, sizeof *lh);
        free(lh);
    }
    memset(&vrow, 0, sizeof vrow);
    vrow.version = 1;
    vrow.n = w->vel.n;
    memcpy(vrow.h, w->vel.h, sizeof vrow.h);
    put_table(dir, "cvel", "d:dev-1", &vrow, sizeof vrow);
    CHECK(compress2(z, &zn, (const Bytef *)&w->offer, sizeof(legacy_offer_t), Z_BEST_SPEED) ==
          Z_OK);
    put_table(dir, "coffer", "req-1", z, zn);
    put_table(dir, "coffer", "req-raw", &w->offer_raw, sizeof(legacy_offer_t));
    memset(&rrow, 0, sizeof rrow);
    rrow.version = 1;
    memcpy(rrow.customer_id, w->redeem.customer_id, sizeof rrow.customer_id);
    memcpy(rrow.coupon_id, w->redeem.coupon_id, sizeof rrow.coupon_id);
    memcpy(rrow.campaign, w->redeem.campaign, sizeof rrow.campaign);
    rrow.discount = w->redeem.discount;
    rrow.time_ms = w->redeem.time_ms;
    put_table(dir, "credeem", "red-1", &rrow, sizeof rrow);
    put_table(dir, "cmodel", "default", &w->model, sizeof w->model);
    legacy_exp_encode(&w->exp, &e);
    put_table(dir, "exp_defs", "exp-1", e.p, e.len);
    {
        char k[512];
        size_t kl = raw_table_key(k, "exp_req", "r1\0exp-1", 8);
        CHECK_EQ_INT(raw_write(dir, "tables", k, kl, &req_time, sizeof req_time), 0);
        memcpy(ckey, "exp-1\0alice", 11);
        kl = raw_table_key(k, "exp_cust", ckey, 11);
        CHECK_EQ_INT(raw_write(dir, "tables", k, kl, &w->cust, sizeof w->cust), 0);
    }
    put_table(dir, "unknown_t", "x", "kept as is", 10);
    if (damaged)
        put_table(dir, "cbudget", "broken", "short", 5);
}

/* ---- checks ---------------------------------------------------------------------------- */

static int summary_cb(void *ctx, const expstore_summary_t *sum)
{
    *(expstore_summary_t *)ctx = *sum;
    return 0;
}

static int item_cb(void *ctx, uint32_t idx, const store_item_t *it)
{
    int *seen = ctx;
    const store_item_t *want = &ITEMS[idx < 2 ? idx : 0];
    CHECK(idx < 2);
    CHECK_STREQ(it->item_id, want->item_id);
    CHECK_STREQ(it->title, want->title);
    CHECK_STREQ(it->category, want->category);
    CHECK(it->price == want->price && it->unit_cost == want->unit_cost &&
          it->in_stock == want->in_stock);
    (*seen)++;
    return 0;
}

static void check_values(store_t *s, const legacy_world_t *w)
{
    int seen = 0;
    store_model_hdr_t h;
    float *u, *it, *p;
    store_attrs_t a;
    coupon_t c;
    couponstore_budget_t b;
    couponstore_history_t *hist = malloc(sizeof *hist);
    couponstore_offer_t o;
    vel_row_t v;
    redeem_row_t r;
    uplift_model_t m;
    expstore_defs_t defs;
    expstore_summary_t sum;
    void *val;
    size_t vlen;
    uint64_t removed = 0;

    CHECK_EQ_INT(store_scan_items(s, item_cb, &seen), 0);
    CHECK_EQ_INT(seen, 2);
    CHECK_EQ_INT(store_load_model(s, 0, &h, &u, &it, &p), 0);
    CHECK(memcmp(&h, &w->hdr, sizeof w->hdr) == 0 && h.source[0] == '\0');
    CHECK(u && u[3] == 4 && it[1] == 6 && p[0] == 7);
    free(u);
    free(it);
    free(p);
    CHECK_EQ_INT(store_get_attrs(s, "alice", &a), 0);
    CHECK(memcmp(&a, &w->attrs, sizeof a) == 0);
    {
        int64_t total = 0;
        rfm_cutpoints_t cut;
        CHECK_EQ_INT(store_points_redeemed(s, "alice", &total), 0);
        CHECK_EQ_INT(total, 40);
        CHECK_EQ_INT(customers_load_cutpoints(s, &cut), 0);
        CHECK(cut.recency[0] == 1 && cut.frequency[3] == 8 && cut.monetary[2] == 11 &&
              cut.n == 99);
    }
    CHECK_EQ_INT(couponstore_get_coupon(s, "save2", &c), 0);
    CHECK(memcmp(&c, &w->coupon, sizeof c) == 0);
    CHECK_EQ_INT(couponstore_get_budget(s, "spring", &b), 0);
    CHECK(memcmp(&b, &w->budget, sizeof b) == 0);
    CHECK_EQ_INT(couponstore_get_history(s, "alice", hist), 0);
    CHECK(memcmp(hist, &w->hist, sizeof *hist) == 0);
    CHECK_EQ_INT(couponstore_get_offer(s, "req-1", &o), 0);
    CHECK(memcmp(&o, &w->offer, sizeof o) == 0);
    CHECK_EQ_INT(couponstore_get_offer(s, "req-raw", &o), 0);
    CHECK(memcmp(&o, &w->offer_raw, sizeof o) == 0);
    CHECK_EQ_INT(store_table_get(s, "cvel", "d:dev-1", 7, &val, &vlen), 0);
    CHECK_EQ_INT(couponstore_rec_decode(&CS_VELOCITY, "d:dev-1", 7, val, vlen, &v), 0);
    CHECK(v.n == 2 && v.h[0] == 11 && v.h[1] == 22);
    free(val);
    CHECK_EQ_INT(store_table_get(s, "credeem", "red-1", 5, &val, &vlen), 0);
    CHECK_EQ_INT(couponstore_rec_decode(&CS_REDEEM, "red-1", 5, val, vlen, &r), 0);
    CHECK(memcmp(&r, &w->redeem, sizeof r) == 0);
    free(val);
    CHECK_EQ_INT(couponstore_get_model(s, "default", &m), 0);
    CHECK(memcmp(&m, &w->model, sizeof m) == 0);
    CHECK_EQ_INT(expstore_load(s, &defs), 0);
    CHECK_EQ_INT(defs.n, 1);
    if (defs.n == 1) {
        const experiment_t *e = &defs.defs[0];
        CHECK_STREQ(e->id, "exp-1");
        CHECK_STREQ(e->salt, "pepper");
        CHECK_STREQ(e->layer, "ranking");
        CHECK(e->traffic_fraction == 0.5 && e->start_ms == 1000 && e->stop_ms == 99000);
        CHECK_EQ_INT(e->n_arms, 2);
        CHECK(memcmp(&e->arms[1], &w->exp.arms[1], sizeof e->arms[1]) == 0);
        CHECK(memcmp(&e->arms[0], &w->exp.arms[0], sizeof e->arms[0]) == 0);
        CHECK_EQ_INT(e->n_forced, 1);
        if (e->n_forced == 1) {
            CHECK_STREQ(e->forced[0].customer_id, "qa-1");
            CHECK_STREQ(e->forced[0].arm_id, "blend");
        }
    }
    expstore_defs_free(&defs);
    memset(&sum, 0, sizeof sum);
    CHECK_EQ_INT(expstore_customer_summaries(s, "alice", summary_cb, &sum), 0);
    CHECK_STREQ(sum.experiment_id, "exp-1");
    CHECK(sum.arm_index == 1 && sum.mixed && !sum.forced && sum.first_ms == 1200 &&
          sum.last_ms == 1700 && sum.exposures == 3 && sum.items_shown == 15 &&
          sum.n_shown == 2 && sum.shown[0] == 7 && sum.shown[1] == 9);
    /* The request row kept its time: pruning before it leaves it, after it removes it. */
    CHECK_EQ_INT(expstore_prune_requests(s, 1700, &removed), 0);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(expstore_prune_requests(s, 1701, &removed), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(store_table_get(s, "unknown_t", "x", 1, &val, &vlen), 0);
    CHECK(vlen == 10 && memcmp(val, "kept as is", 10) == 0);
    free(val);
    free(hist);
}

static void test_migrates_every_record(void)
{
    const char *dir = test_tmpdir("migrate-ok");
    legacy_world_t *w = malloc(sizeof *w);
    store_t *s;
    uint32_t from = 0;
    uint64_t records = 0, ver = 0;

    fill(w);
    write_format1(dir, w, 0);
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    CHECK_EQ_INT(store_migration(s, &from, &records), 1);
    CHECK_EQ_INT(from, 1);
    CHECK_EQ_INT(records, 17); /* header, 2 items, points, cut-points, attrs, 11 table
                                * rows (not unknown_t) */
    check_values(s, w);
    store_close(s);
    CHECK_EQ_INT(raw_read(dir, "meta", "format_version", 14, &ver, sizeof ver), 8);
    CHECK_EQ_INT(ver, STORE_FORMAT_VERSION);
    /* Opened again: nothing to do, same values. */
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    CHECK_EQ_INT(store_migration(s, NULL, NULL), 0);
    {
        coupon_t c;
        CHECK_EQ_INT(couponstore_get_coupon(s, "save2", &c), 0);
        CHECK(memcmp(&c, &w->coupon, sizeof c) == 0);
    }
    store_close(s);
    free(w);
}

/* One unreadable row: store_open fails naming it, and nothing changed. */
static void test_damaged_row_leaves_store_intact(void)
{
    const char *dir = test_tmpdir("migrate-bad");
    legacy_world_t *w = malloc(sizeof *w);
    unsigned char before[1024], after[1024];
    char k[64];
    size_t kl = raw_table_key(k, "coupon", "save2", 5);
    long nb, na;
    uint64_t ver = 0;
    store_t *s = NULL;

    fill(w);
    write_format1(dir, w, 1);
    nb = raw_read(dir, "tables", k, kl, before, sizeof before);
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), -EBADMSG);
    CHECK(s == NULL);
    CHECK(strstr(store_strerror(-EBADMSG), "table cbudget, key \"broken\"") != NULL);
    na = raw_read(dir, "tables", k, kl, after, sizeof after);
    CHECK(nb == 736 && na == nb && memcmp(before, after, (size_t)nb) == 0);
    CHECK_EQ_INT(raw_read(dir, "meta", "format_version", 14, &ver, sizeof ver), -1);
    /* Repaired (the row deleted), the migration goes through. */
    kl = raw_table_key(k, "cbudget", "broken", 6);
    CHECK_EQ_INT(raw_write(dir, "tables", k, kl, NULL, 0), 0);
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    check_values(s, w);
    store_close(s);
    free(w);
}

int main(void)
{
    test_migrates_every_record();
    test_damaged_row_leaves_store_intact();
    TEST_MAIN_END();
}
