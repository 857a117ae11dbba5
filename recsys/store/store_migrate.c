/*
 * store_migrate.c - the store-wide format version and the migration from
 * the previous release's format (see store.h, store_open).
 *
 * meta["format_version"] (u64) says how every record of the store is
 * encoded:
 *   1  (no key: the releases before it existed) values are memcpy images of
 *      C structs (store_legacy.h), items a packed layout, experiment
 *      definitions a tagged format.
 *   2  every record is a patron.store.v1 message (proto/patron/store/v1);
 *      factor blobs are raw floats behind the ModelHeader record.
 * store_open writes the version into a new store, refuses a newer one, and
 * converts a format 1 store: every record, then the version key, in ONE
 * write transaction, so a crash (or an unreadable record, reported as
 * -EBADMSG naming it) leaves the old store exactly as it was.
 * Events, the id tables and the meta counters kept their
 * layouts (fixed binary fields: the event record is what training scans by
 * the hundred million), so they are not touched.
 */
#include "store_internal.h"
#include "store_legacy.h"
#include "store_record.h"

#include <patron/store/v1/store.pb-c.h>
#include <stdio.h>
#include <stdlib.h>

#define FORMAT_KEY "format_version"

/* ---- models and attributes ------------------------------------------------------ */

static int conv_model_hdr(const char *table, const void *key, size_t klen,
                          const void *val, size_t vlen, void **out, size_t *olen)
{
    legacy_model_hdr_t h;
    store_model_hdr_t n;
    if (vlen != sizeof h)
        return store_record_bad(table, key, klen, "not a format 1 model header (size)");
    memcpy(&h, val, sizeof h);
    memset(&n, 0, sizeof n);
    n.version = h.version;
    n.trained_at_ms = h.trained_at_ms;
    n.factors = h.factors;
    n.n_users = h.n_users;
    n.n_items = h.n_items;
    n.iterations = h.iterations;
    n.reg = h.reg;
    n.alpha = h.alpha;
    n.final_loss = h.final_loss;
    n.alpha0 = h.alpha0;
    n.nu = h.nu;
    n.w_view = h.w_view;
    n.w_cart = h.w_cart;
    n.w_purchase = h.w_purchase;
    n.w_refund = h.w_refund;
    n.half_life_days = h.half_life_days;
    n.newest_event_ms = h.newest_event_ms;
    n.train_seq = h.train_seq;
    return store_model_hdr_encode(&n, out, olen);
}

static int conv_attrs(const char *table, const void *key, size_t klen, const void *val,
                      size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__CustomerAttributes m = PATRON__STORE__V1__CUSTOMER_ATTRIBUTES__INIT;
    legacy_attrs_t a;
    if (vlen != sizeof a)
        return store_record_bad(table, key, klen, "not a format 1 attributes row (size)");
    memcpy(&a, val, sizeof a);
    if (!memchr(a.region, '\0', sizeof a.region))
        return store_record_bad(table, key, klen, "format 1 region not terminated");
    m.signup_ms = a.signup_ms;
    m.birth_month = a.birth_month;
    m.birth_day = a.birth_day;
    m.region = a.region;
    return store_record_pack(&m.base, out, olen);
}

/* Format 1 item: u8 in_stock | f64 price | f64 unit_cost | u16 id_len | id |
 * u16 title_len | title | u16 cat_len | category (host order). Strings are
 * malloc'd into *dst (NULL on a short record). */
static int item_str(const unsigned char **p, const unsigned char *end, char **dst)
{
    uint16_t n;
    *dst = NULL;
    if (end - *p < 2)
        return -1;
    memcpy(&n, *p, 2);
    *p += 2;
    if ((size_t)(end - *p) < n || !(*dst = malloc((size_t)n + 1)))
        return -1;
    memcpy(*dst, *p, n);
    (*dst)[n] = '\0';
    *p += n;
    return 0;
}

static int conv_item(const char *table, const void *key, size_t klen, const void *val,
                     size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__Item m = PATRON__STORE__V1__ITEM__INIT;
    const unsigned char *p = val, *end = p + vlen;
    char *id = NULL, *title = NULL, *cat = NULL;
    int rc;

    if (vlen < 17)
        return store_record_bad(table, key, klen, "not a format 1 item (size)");
    m.in_stock = p[0] != 0;
    memcpy(&m.price, p + 1, 8);
    memcpy(&m.unit_cost, p + 9, 8);
    p += 17;
    if (item_str(&p, end, &id) || item_str(&p, end, &title) || item_str(&p, end, &cat) ||
        p != end) {
        rc = store_record_bad(table, key, klen, "not a format 1 item (strings)");
    } else {
        m.item_id = id;
        m.title = title;
        m.category = cat;
        rc = store_record_pack(&m.base, out, olen);
    }
    free(id);
    free(title);
    free(cat);
    return rc;
}

/* Format 1 points ledger value: an i64 in host order. */
static int conv_points(const char *table, const void *key, size_t klen, const void *val,
                       size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__PointsRedemption m = PATRON__STORE__V1__POINTS_REDEMPTION__INIT;
    if (vlen != sizeof m.points)
        return store_record_bad(table, key, klen, "not a format 1 points value (size)");
    memcpy(&m.points, val, sizeof m.points);
    return store_record_pack(&m.base, out, olen);
}

/* Format 1 RFM cut-points blob: double recency[4], frequency[4],
 * monetary[4], u64 n (recsys/customers' rfm_cutpoints_t). */
static int conv_cutpoints(const char *table, const void *key, size_t klen,
                          const void *val, size_t vlen, void **out, size_t *olen)
{
    Patron__Store__V1__RfmCutpoints m = PATRON__STORE__V1__RFM_CUTPOINTS__INIT;
    double v[12];
    if (vlen != sizeof v + sizeof m.customers)
        return store_record_bad(table, key, klen, "not format 1 cut-points (size)");
    memcpy(v, val, sizeof v);
    memcpy(&m.customers, (const char *)val + sizeof v, sizeof m.customers);
    m.n_recency = m.n_frequency = m.n_monetary = 4;
    m.recency = v;
    m.frequency = v + 4;
    m.monetary = v + 8;
    return store_record_pack(&m.base, out, olen);
}

/* ---- walking a database ---------------------------------------------------------- */

/* Which converter a key of a database needs (NULL: keep the value); sets
 * the table name and the key within it for messages. */
typedef legacy_conv_fn (*pick_fn)(const MDB_val *k, char *table, size_t cap,
                                  const void **key, size_t *klen);

static legacy_conv_fn pick_model(const MDB_val *k, char *table, size_t cap,
                                 const void **key, size_t *klen)
{
    snprintf(table, cap, "models");
    *key = k->mv_data;
    *klen = k->mv_size;
    return k->mv_size == 9 && ((const unsigned char *)k->mv_data)[8] == MODEL_PART_HDR
               ? conv_model_hdr : NULL;
}

static legacy_conv_fn pick_item(const MDB_val *k, char *table, size_t cap,
                                const void **key, size_t *klen)
{
    snprintf(table, cap, "items");
    *key = k->mv_data;
    *klen = k->mv_size;
    return conv_item;
}

static legacy_conv_fn pick_points(const MDB_val *k, char *table, size_t cap,
                                  const void **key, size_t *klen)
{
    snprintf(table, cap, "points");
    *key = k->mv_data;
    *klen = k->mv_size;
    return conv_points;
}

static legacy_conv_fn pick_blob(const MDB_val *k, char *table, size_t cap,
                                const void **key, size_t *klen)
{
    snprintf(table, cap, "blobs");
    *key = k->mv_data;
    *klen = k->mv_size;
    return k->mv_size == 13 && memcmp(k->mv_data, "rfm_cutpoints", 13) == 0 ? conv_cutpoints
                                                                           : NULL;
}

static legacy_conv_fn pick_attrs(const MDB_val *k, char *table, size_t cap,
                                 const void **key, size_t *klen)
{
    snprintf(table, cap, "attrs");
    *key = k->mv_data;
    *klen = k->mv_size;
    return conv_attrs;
}

/* tables keys are "table NUL key". */
static legacy_conv_fn pick_table(const MDB_val *k, char *table, size_t cap,
                                 const void **key, size_t *klen)
{
    const char *nul = memchr(k->mv_data, '\0', k->mv_size);
    size_t tl = nul ? (size_t)(nul - (const char *)k->mv_data) : 0;
    legacy_conv_fn fn;
    if (!nul || tl >= cap)
        return NULL; /* not a table row this build knows */
    memcpy(table, k->mv_data, tl);
    table[tl] = '\0';
    *key = nul + 1;
    *klen = k->mv_size - tl - 1;
    fn = store_legacy_coupon_conv(table);
    return fn ? fn : store_legacy_exp_conv(table);
}

/* Converted records waiting to be written: LMDB does not take a write
 * through a cursor that changes a value's size in the middle of a walk, so
 * convert_db gathers a batch, closes its cursor, writes the batch and goes
 * on after the last key. */
enum { BATCH = 512 };

typedef struct batch {
    MDB_val key[BATCH], val[BATCH];
    size_t n;
} batch_t;

static void batch_clear(batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->key[i].mv_data);
        free(b->val[i].mv_data);
    }
    b->n = 0;
}

/* Converts up to BATCH records from `from` (NULL: the first key; else the
 * key after it); *done when the walk reached the end. */
static int convert_some(MDB_txn *txn, MDB_dbi dbi, pick_fn pick, const MDB_val *from,
                        batch_t *b, int *done)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &cur), op = MDB_FIRST;
    if (rc)
        return map_err(rc);
    if (from) {
        k = *from;
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) == 0 &&
            k.mv_size == from->mv_size && memcmp(k.mv_data, from->mv_data, k.mv_size) == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        op = MDB_GET_CURRENT;
    }
    *done = 0;
    while (rc == 0 && b->n < BATCH && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        char table[64];
        const void *key;
        size_t klen;
        /* cppcheck-suppress AssignmentIntegerToAddress ; pick returns a legacy_conv_fn */
        legacy_conv_fn conv = pick(&k, table, sizeof table, &key, &klen);
        op = MDB_NEXT;
        if (!conv)
            continue;
        if (!(b->key[b->n].mv_data = malloc(k.mv_size))) {
            rc = -ENOMEM;
            break;
        }
        memcpy(b->key[b->n].mv_data, k.mv_data, k.mv_size);
        b->key[b->n].mv_size = k.mv_size;
        b->val[b->n].mv_data = NULL;
        b->n++;
        rc = conv(table, key, klen, v.mv_data, v.mv_size, &b->val[b->n - 1].mv_data,
                  &b->val[b->n - 1].mv_size);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        *done = 1;
        rc = 0;
    }
    return rc < 0 ? rc : map_err(rc);
}

/* Rewrites every value of dbi that pick gives a converter (the keys stay). */
static int convert_db(MDB_txn *txn, MDB_dbi dbi, pick_fn pick, uint64_t *count)
{
    batch_t *b = calloc(1, sizeof *b);
    MDB_val last = { 0, NULL };
    int rc = b ? 0 : -ENOMEM, done = 0;

    while (rc == 0 && !done) {
        rc = convert_some(txn, dbi, pick, last.mv_data ? &last : NULL, b, &done);
        for (size_t i = 0; rc == 0 && i < b->n; i++)
            rc = map_err(mdb_put(txn, dbi, &b->key[i], &b->val[i], 0));
        if (rc == 0 && b->n) {
            free(last.mv_data);
            last = b->key[b->n - 1];
            b->key[b->n - 1].mv_data = NULL; /* now owned by last */
            *count += b->n;
        }
        if (b)
            batch_clear(b);
    }
    free(last.mv_data);
    free(b);
    return rc;
}

/* ---- the version ----------------------------------------------------------------- */

/* 1 when no database holds anything: a store being created. */
static int store_is_new(store_t *s, MDB_txn *txn, int *fresh)
{
    MDB_dbi dbis[] = { s->meta, s->item_idx, s->items, s->customer_idx, s->customer_ids,
                       s->events, s->event_ids, s->models, s->attrs, s->points, s->blobs,
                       s->tables };
    *fresh = 1;
    for (size_t i = 0; i < sizeof dbis / sizeof dbis[0]; i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, dbis[i], &st);
        if (rc)
            return map_err(rc);
        if (st.ms_entries)
            *fresh = 0;
    }
    return 0;
}

static int migrate_from_1(store_t *s, MDB_txn *txn, uint64_t *count)
{
    int rc = convert_db(txn, s->models, pick_model, count);
    if (rc == 0)
        rc = convert_db(txn, s->items, pick_item, count);
    if (rc == 0)
        rc = convert_db(txn, s->points, pick_points, count);
    if (rc == 0)
        rc = convert_db(txn, s->blobs, pick_blob, count);
    if (rc == 0)
        rc = convert_db(txn, s->attrs, pick_attrs, count);
    if (rc == 0)
        rc = convert_db(txn, s->tables, pick_table, count);
    return rc;
}

static int check_version(store_t *s, MDB_txn *txn, uint64_t *have)
{
    int rc = store_meta_get_u64(txn, s->meta, FORMAT_KEY, have);
    if (rc == 0 && *have > STORE_FORMAT_VERSION) {
        store_set_error("store format %llu is newer than this build reads (%d): "
                        "open it with the Patron release that wrote it or a newer one",
                        (unsigned long long)*have, STORE_FORMAT_VERSION);
        rc = -EPROTONOSUPPORT;
    }
    return rc;
}

static int format_open_once(store_t *s)
{
    MDB_txn *txn;
    uint64_t have = 0;
    int rc, fresh = 0;

    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    rc = check_version(s, txn, &have);
    store_txn_abort(s, txn);
    if (rc || have == STORE_FORMAT_VERSION)
        return rc;
    /* Create or convert, under the write lock: look again inside it. */
    if ((rc = store_txn_begin(s, 0, &txn)) != 0)
        return map_err(rc);
    rc = check_version(s, txn, &have);
    if (rc == 0 && have != STORE_FORMAT_VERSION) {
        s->migrated_from = have ? have : 1;
        if ((rc = store_is_new(s, txn, &fresh)) == 0 && !fresh)
            rc = migrate_from_1(s, txn, &s->migrated);
        else
            s->migrated_from = 0;
        if (rc == 0)
            rc = store_meta_put_u64(txn, s->meta, FORMAT_KEY, STORE_FORMAT_VERSION);
    }
    if (rc) {
        store_txn_abort(s, txn);
        s->migrated_from = s->migrated = 0;
        return rc;
    }
    return map_err(store_txn_commit(s, txn));
}

int store_format_open(store_t *s)
{
    size_t seen;
    int rc;

    /* A conversion rewrites every record in one transaction: it may need
     * the map to grow, then it runs again from the start. */
    do {
        seen = store_map_size(s);
        rc = format_open_once(s);
    } while (store_map_grown(s, rc, seen));
    return rc;
}

int store_migration(const store_t *s, uint32_t *from, uint64_t *records)
{
    if (from)
        *from = (uint32_t)s->migrated_from;
    if (records)
        *records = s->migrated;
    return s->migrated_from != 0;
}
