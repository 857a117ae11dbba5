/*
 * store_items.c - the item catalog and the id -> dense index lookups
 * (see store.h for the contract, store.c for the layout).
 */
#include "store_internal.h"
#include "store_record.h"

#include <patron/store/v1/store.pb-c.h>

#include <stdlib.h>
#include <string.h>

/* ---- items -------------------------------------------------------------------- */

/* items values are patron.store.v1.Item records, packed into and read from
 * fixed buffers (no allocation: the catalog load reads every item). */
typedef struct item_buf {
    unsigned char data[STORE_ITEM_REC_MAX];
    size_t len;
} item_buf_t;

size_t store_item_encode(const store_item_t *it, unsigned char buf[STORE_ITEM_REC_MAX])
{
    Patron__Store__V1__Item m = PATRON__STORE__V1__ITEM__INIT;
    m.item_id = (char *)it->item_id;
    m.title = (char *)(it->title ? it->title : "");
    m.category = (char *)(it->category ? it->category : "");
    m.price = it->price;
    m.unit_cost = it->unit_cost;
    m.in_stock = it->in_stock != 0;
    Patron__Store__V1__MemberPrice mp[STORE_MAX_MEMBER_PRICES];
    Patron__Store__V1__MemberPrice *mpp[STORE_MAX_MEMBER_PRICES];
    m.member_tier = (char *)(it->member_tier ? it->member_tier : "");
    m.release_ms = it->release_ms;
    for (size_t i = 0; i < it->n_member_prices; i++) { /* <= max: store_item_invalid */
        patron__store__v1__member_price__init(&mp[i]);
        mp[i].price_list = (char *)it->member_prices[i].price_list;
        mp[i].price = it->member_prices[i].price;
        mpp[i] = &mp[i];
    }
    m.n_member_prices = it->n_member_prices;
    m.member_prices = mpp;
    return protobuf_c_message_pack(&m.base, buf); /* fits: store_item_invalid */
}

/* What an unpacked item points into: an arena for protobuf-c (the message
 * and its strings) and its member prices, valid until the next
 * store_item_decode with it. */
struct store_item_strings {
    unsigned char arena[sizeof(Patron__Store__V1__Item) + STORE_MAX_ID +
                        2 * STORE_MAX_TEXT + STORE_MAX_TIER_NAME +
                        STORE_MAX_MEMBER_PRICES *
                            (sizeof(Patron__Store__V1__MemberPrice) + sizeof(void *) +
                             STORE_MAX_TIER_NAME + 48) +
                        1024]; /* + room for a newer release's fields */
    size_t used;
    store_member_price_t prices[STORE_MAX_MEMBER_PRICES];
};
typedef store_item_strings_t item_strings_t;

store_item_strings_t *store_item_strings_new(void)
{
    return malloc(sizeof(store_item_strings_t));
}

static void *arena_alloc(void *ctx, size_t n)
{
    item_strings_t *a = ctx;
    size_t at = (a->used + 15) & ~(size_t)15;
    if (at + n > sizeof a->arena)
        return NULL; /* then the record is larger than any valid item */
    a->used = at + n;
    return a->arena + at;
}

static void arena_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p;
}

/* -EBADMSG naming the item's key when v is no Item this build can hold. */
int store_item_decode(const MDB_val *k, const MDB_val *v, store_item_t *it,
                      store_item_strings_t *str)
{
    ProtobufCAllocator arena = { arena_alloc, arena_free, str };
    Patron__Store__V1__Item *m;
    str->used = 0;
    m = patron__store__v1__item__unpack(&arena, v->mv_size, v->mv_data);
    if (!m)
        return store_record_bad("items", k->mv_data, k->mv_size,
                                "not a patron.store.v1.Item record");
    it->item_id = m->item_id;
    it->title = m->title;
    it->category = m->category;
    it->price = m->price;
    it->unit_cost = m->unit_cost;
    it->in_stock = m->in_stock != 0;
    it->member_tier = m->member_tier;
    it->release_ms = m->release_ms;
    if (m->n_member_prices > STORE_MAX_MEMBER_PRICES)
        return store_record_bad("items", k->mv_data, k->mv_size,
                                "member_prices: more than 8 lists");
    for (size_t i = 0; i < m->n_member_prices; i++)
        str->prices[i] = (store_member_price_t){ m->member_prices[i]->price_list,
                                                 m->member_prices[i]->price };
    it->member_prices = str->prices;
    it->n_member_prices = m->n_member_prices;
    if (store_item_invalid(it))
        return store_record_bad("items", k->mv_data, k->mv_size, store_item_invalid(it));
    return 0;
}

/* At most STORE_MAX_MEMBER_PRICES prices, each on a named list given once. */
static const char *member_prices_invalid(const store_member_price_t *p, size_t n)
{
    if (n > STORE_MAX_MEMBER_PRICES)
        return "member_prices: at most 8 price lists";
    if (n && !p)
        return "member_prices: missing";
    for (size_t i = 0; i < n; i++) {
        if (!p[i].price_list || !id_check(p[i].price_list, STORE_MAX_TIER_NAME, ID_TOKEN))
            return "member_prices.price_list: must be a price list name, 1..31 of "
                   "A-Z a-z 0-9 _ . -";
        if (money_invalid(p[i].price))
            return "member_prices.price: must be finite and in 0..1e9";
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[i].price_list, p[j].price_list) == 0)
                return "member_prices.price_list: a price list given twice";
    }
    return NULL;
}

const char *store_item_invalid(const store_item_t *it)
{
    if (id_write_invalid(it->item_id))
        return "item_id: must be 1..256 bytes of UTF-8 without control characters";
    if (text_invalid(it->title))
        return "title: must be valid UTF-8 of at most 1024 bytes";
    if (text_invalid(it->category))
        return "category: must be valid UTF-8 of at most 1024 bytes";
    if (money_invalid(it->price))
        return "price: must be finite and in 0..1e9";
    if (money_invalid(it->unit_cost))
        return "unit_cost: must be finite and in 0..1e9";
    if (it->member_tier && it->member_tier[0] &&
        !id_check(it->member_tier, STORE_MAX_TIER_NAME, ID_TOKEN))
        return "member_tier: must be a tier name, 1..31 of A-Z a-z 0-9 _ . -";
    if (it->release_ms < 0 || it->release_ms > STORE_MAX_TIME_MS)
        return "release_unix_ms: must be 0 (released) or a time in ms up to year 9999";
    return member_prices_invalid(it->member_prices, it->n_member_prices);
}

int store_intern_id(MDB_txn *txn, MDB_dbi by_id, MDB_dbi by_idx, MDB_dbi meta,
                    const char *counter, const char *id, uint32_t *idx,
                    int *created)
{
    MDB_val k = val_str(id), v;
    uint64_t next;
    unsigned char ikey[4];
    int rc = mdb_get(txn, by_id, &k, &v);

    *created = 0;
    if (rc == 0) {
        if (v.mv_size != 4)
            return -EIO;
        memcpy(idx, v.mv_data, 4);
        return 0;
    }
    if (rc != MDB_NOTFOUND)
        return map_err(rc);
    if ((rc = store_meta_get_u64(txn, meta, counter, &next)) != 0)
        return rc;
    if (next >= UINT32_MAX)
        return -ENOSPC;
    *idx = (uint32_t)next;
    v = val_mem(idx, 4);
    if ((rc = map_err(mdb_put(txn, by_id, &k, &v, 0))) != 0)
        return rc;
    if (by_idx != (MDB_dbi)-1) {
        MDB_val ik = val_mem(ikey, 4);
        put_be32(ikey, *idx);
        if ((rc = map_err(mdb_put(txn, by_idx, &ik, &k, 0))) != 0)
            return rc;
    }
    *created = 1;
    return store_meta_put_u64(txn, meta, counter, next + 1);
}

static int upsert_items_once(store_t *s, const store_item_t *items, size_t n,
                             size_t *inserted, size_t *updated, size_t *bad_index,
                             const char **reason)
{
    MDB_txn *txn;
    size_t ins = 0, upd = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        const char *why = store_item_invalid(&items[i]);
        if (why) {
            if (bad_index)
                *bad_index = i;
            if (reason)
                *reason = why;
            return -EINVAL;
        }
    }
    if ((rc = store_txn_begin(s, 0, &txn)) != 0)
        return map_err(rc);
    for (size_t i = 0; i < n && rc == 0; i++) {
        item_buf_t buf;
        unsigned char ikey[4];
        uint32_t idx;
        int created;
        MDB_val k, v;

        rc = store_intern_id(txn, s->item_idx, (MDB_dbi)-1, s->meta, "next_item",
                             items[i].item_id, &idx, &created);
        if (rc)
            break;
        buf.len = store_item_encode(&items[i], buf.data);
        put_be32(ikey, idx);
        k = val_mem(ikey, 4);
        v = val_mem(buf.data, buf.len);
        rc = map_err(mdb_put(txn, s->items, &k, &v, 0));
        if (created)
            ins++;
        else
            upd++;
    }
    if (rc) {
        store_txn_abort(s, txn);
        return store_full_check(s, rc);
    }
    if ((rc = map_err(store_txn_commit(s, txn))) != 0)
        return store_full_check(s, rc);
    if (inserted)
        *inserted = ins;
    if (updated)
        *updated = upd;
    return 0;
}

int store_upsert_items(store_t *s, const store_item_t *items, size_t n,
                       size_t *inserted, size_t *updated, size_t *bad_index,
                       const char **reason)
{
    size_t seen;
    int rc;

    do {
        seen = store_map_size(s);
        rc = upsert_items_once(s, items, n, inserted, updated, bad_index, reason);
    } while (store_map_grown(s, rc, seen));
    return rc;
}

static int lookup_index(store_t *s, MDB_dbi dbi, const char *id, uint32_t *idx)
{
    MDB_txn *txn;
    MDB_val k, v;
    int rc;

    if (id_invalid(id))
        return -ENOENT;
    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    k = val_str(id);
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0 && v.mv_size == 4)
        memcpy(idx, v.mv_data, 4);
    else if (rc == 0)
        rc = EIO;
    store_txn_abort(s, txn);
    return map_err(rc);
}

int store_item_index(store_t *s, const char *item_id, uint32_t *idx)
{
    return lookup_index(s, s->item_idx, item_id, idx);
}

int store_customer_index(store_t *s, const char *customer_id, uint32_t *idx)
{
    return lookup_index(s, s->customer_idx, customer_id, idx);
}

typedef struct item_id_op {
    uint32_t idx;
    char *buf;
    size_t cap;
} item_id_op_t;

static int item_id_txn(store_t *s, MDB_txn *txn, void *ctx)
{
    item_id_op_t *op = ctx;
    unsigned char key[4];
    MDB_val k = val_mem(key, 4), v;
    store_item_t it;
    item_strings_t *str = store_item_strings_new();
    int rc;

    if (!str)
        return -ENOMEM;
    put_be32(key, op->idx);
    if ((rc = map_err(mdb_get(txn, s->items, &k, &v))) == 0 &&
        (rc = store_item_decode(&k, &v, &it, str)) == 0) {
        size_t n = strlen(it.item_id);
        if (n < op->cap)
            memcpy(op->buf, it.item_id, n + 1);
        else
            rc = -EINVAL;
    }
    free(str);
    return rc;
}

int store_item_id(store_t *s, uint32_t idx, char *buf, size_t cap)
{
    item_id_op_t op = { idx, buf, cap };
    if (!s || !buf || !cap)
        return -EINVAL;
    return store_with_txn(s, 0, item_id_txn, &op);
}

int store_scan_items(store_t *s, store_item_cb cb, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, op = MDB_FIRST;
    item_strings_t *str = store_item_strings_new();

    if (!str)
        return -ENOMEM;
    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0) {
        free(str);
        return map_err(rc);
    }
    if ((rc = mdb_cursor_open(txn, s->items, &cur)) != 0) {
        store_txn_abort(s, txn);
        free(str);
        return map_err(rc);
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        store_item_t it;
        op = MDB_NEXT;
        if (k.mv_size != 4) {
            rc = store_record_bad("items", k.mv_data, k.mv_size, "key: not an item index");
            break;
        }
        if ((rc = store_item_decode(&k, &v, &it, str)) != 0)
            break;
        if ((rc = cb(ctx, get_be32(k.mv_data), &it)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else if (rc > 0)
        rc = map_err(rc);
    mdb_cursor_close(cur);
    store_txn_abort(s, txn);
    free(str);
    return rc;
}
