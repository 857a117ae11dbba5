/*
 * store_models.c - published model versions (header and factor blobs)
 * (see store.h for the contract, store.c for the layout).
 */
#include "store_internal.h"
#include "store_record.h"

#include <patron/store/v1/store.pb-c.h>
#include <stdio.h>
#include <stdlib.h>

/* The factor parts are raw floats in host order, and the header says
 * FACTOR_LAYOUT_F32_LE_ROW_MAJOR: a big-endian build would need to swap. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "stored factor blobs are little-endian binary32");
_Static_assert(sizeof(float) == 4, "stored factor blobs are binary32");

/* ---- the header record ------------------------------------------------------- */

int store_model_hdr_encode(const store_model_hdr_t *h, void **buf, size_t *len)
{
    Patron__Store__V1__ModelHeader m = PATRON__STORE__V1__MODEL_HEADER__INIT;
    m.version = h->version;
    m.trained_at_ms = h->trained_at_ms;
    m.factors = h->factors;
    m.n_users = h->n_users;
    m.n_items = h->n_items;
    m.iterations = h->iterations;
    m.reg = h->reg;
    m.alpha = h->alpha;
    m.final_loss = h->final_loss;
    m.alpha0 = h->alpha0;
    m.nu = h->nu;
    m.w_view = h->w_view;
    m.w_cart = h->w_cart;
    m.w_purchase = h->w_purchase;
    m.w_refund = h->w_refund;
    m.w_not_interested = h->w_not_interested;
    m.half_life_days = h->half_life_days;
    m.newest_event_ms = h->newest_event_ms;
    m.train_seq = h->train_seq;
    m.layout = PATRON__STORE__V1__FACTOR_LAYOUT__FACTOR_LAYOUT_F32_LE_ROW_MAJOR;
    m.source = (char *)h->source;
    return store_record_pack(&m.base, buf, len);
}

int store_model_hdr_decode(const MDB_val *k, const MDB_val *v, store_model_hdr_t *h)
{
    Patron__Store__V1__ModelHeader *m;
    int rc = store_record_unpack(&patron__store__v1__model_header__descriptor, "models",
                                 k->mv_data, k->mv_size, v->mv_data, v->mv_size,
                                 (ProtobufCMessage **)&m);
    if (rc)
        return rc;
    if (m->layout != PATRON__STORE__V1__FACTOR_LAYOUT__FACTOR_LAYOUT_F32_LE_ROW_MAJOR ||
        !m->factors) {
        store_record_free(&m->base);
        return store_record_bad("models", k->mv_data, k->mv_size,
                                "model header: unknown factor layout or no factors");
    }
    memset(h, 0, sizeof *h);
    h->version = m->version;
    h->trained_at_ms = m->trained_at_ms;
    h->factors = m->factors;
    h->n_users = m->n_users;
    h->n_items = m->n_items;
    h->iterations = m->iterations;
    h->reg = m->reg;
    h->alpha = m->alpha;
    h->final_loss = m->final_loss;
    h->alpha0 = m->alpha0;
    h->nu = m->nu;
    h->w_view = m->w_view;
    h->w_cart = m->w_cart;
    h->w_purchase = m->w_purchase;
    h->w_refund = m->w_refund;
    h->w_not_interested = m->w_not_interested;
    h->half_life_days = m->half_life_days;
    h->newest_event_ms = m->newest_event_ms;
    h->train_seq = m->train_seq;
    snprintf(h->source, sizeof h->source, "%s", m->source ? m->source : "");
    store_record_free(&m->base);
    return 0;
}

/* ---- models ------------------------------------------------------------------- */

MDB_val store_model_key(unsigned char key[9], uint64_t version, int part)
{
    put_be64(key, version);
    key[8] = (unsigned char)part;
    return val_mem(key, 9);
}

void store_set_model_keep(store_t *s, store_model_keep_fn keep, void *ctx)
{
    s->keep_model = keep;
    s->keep_model_ctx = ctx;
}

/* Deletes the parts of every version older than the STORE_MODELS_KEPT
 * newest that s->keep_model does not keep. */
static int drop_old_models(store_t *s, MDB_txn *txn, uint64_t newest)
{
    store_tx_t tx = { s, txn };
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t checked = 0;
    int rc, keep = 0;

    if (newest <= STORE_MODELS_KEPT)
        return 0;
    if ((rc = mdb_cursor_open(txn, s->models, &cur)) != 0)
        return map_err(rc);
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        unsigned char at[9];
        uint64_t version;
        if (k.mv_size != 9 || (version = get_be64(k.mv_data)) > newest - STORE_MODELS_KEPT)
            break;
        if (version != checked) {
            checked = version;
            keep = s->keep_model ? s->keep_model(&tx, s->keep_model_ctx, version) : 0;
            if (keep < 0) {
                mdb_cursor_close(cur);
                return keep;
            }
        }
        if (keep) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        memcpy(at, k.mv_data, sizeof at);
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        k = val_mem(at, sizeof at);
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

static int publish_once(store_t *s, store_model_hdr_t *hdr, const float *user_f,
                        const float *item_f, const float *item_pop, const void *extra,
                        size_t extra_len)
{
    MDB_txn *txn;
    uint64_t cur = 0;
    unsigned char key[9];
    void *hdr_buf = NULL;
    const void *data[MODEL_PARTS] = { NULL, user_f, item_f, item_pop };
    size_t len[MODEL_PARTS] = {
        0,
        (size_t)hdr->n_users * hdr->factors * sizeof(float),
        (size_t)hdr->n_items * hdr->factors * sizeof(float),
        (size_t)hdr->n_items * sizeof(float),
    };
    int rc;

    if (!hdr->factors || (!user_f && len[1]) || (!item_f && len[2]) ||
        (!item_pop && len[3]))
        return -EINVAL;
    if ((rc = store_txn_begin(s, 0, &txn)) != 0)
        return map_err(rc);
    rc = store_meta_get_u64(txn, s->meta, "model_current", &cur);
    hdr->version = cur + 1;
    if (rc == 0 && (rc = store_model_hdr_encode(hdr, &hdr_buf, &len[0])) == 0)
        data[0] = hdr_buf;
    for (int p = 0; p < MODEL_PARTS && rc == 0; p++) {
        MDB_val k = store_model_key(key, hdr->version, p);
        MDB_val v = val_mem(data[p], len[p]);
        rc = map_err(mdb_put(txn, s->models, &k, &v, 0));
    }
    if (rc == 0 && extra) {
        MDB_val k = store_model_key(key, hdr->version, MODEL_PART_EXTRA);
        MDB_val v = val_mem(extra, extra_len);
        rc = map_err(mdb_put(txn, s->models, &k, &v, 0));
    }
    if (rc == 0)
        rc = store_meta_put_u64(txn, s->meta, "model_current", hdr->version);
    if (rc == 0)
        rc = drop_old_models(s, txn, hdr->version);
    free(hdr_buf);
    if (rc) {
        store_txn_abort(s, txn);
        hdr->version = cur;
        return store_full_check(s, rc);
    }
    return store_full_check(s, map_err(store_txn_commit(s, txn)));
}

int store_publish_model(store_t *s, store_model_hdr_t *hdr, const float *user_f,
                        const float *item_f, const float *item_pop)
{
    return store_publish_model_extra(s, hdr, user_f, item_f, item_pop, NULL, 0);
}

int store_publish_model_extra(store_t *s, store_model_hdr_t *hdr, const float *user_f,
                              const float *item_f, const float *item_pop,
                              const void *extra, size_t extra_len)
{
    size_t seen;
    int rc;

    do {
        seen = store_map_size(s);
        rc = publish_once(s, hdr, user_f, item_f, item_pop, extra, extra_len);
    } while (store_map_grown(s, rc, seen));
    return rc;
}

int store_load_model_extra(store_t *s, uint64_t version, void **buf, size_t *len)
{
    MDB_txn *txn;
    unsigned char key[9];
    MDB_val k, v;
    int rc;

    *buf = NULL;
    *len = 0;
    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    if (version == 0)
        rc = store_meta_get_u64(txn, s->meta, "model_current", &version);
    if (rc == 0 && version == 0)
        rc = -ENOENT;
    if (rc == 0) {
        k = store_model_key(key, version, MODEL_PART_EXTRA);
        rc = mdb_get(txn, s->models, &k, &v);
        rc = rc == MDB_NOTFOUND ? -ENOENT : map_err(rc);
    }
    if (rc == 0 && !(*buf = malloc(v.mv_size ? v.mv_size : 1)))
        rc = -ENOMEM;
    if (rc == 0) {
        memcpy(*buf, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    store_txn_abort(s, txn);
    return rc;
}

int store_tx_model_exists(store_tx_t *tx, uint64_t version)
{
    unsigned char key[9];
    MDB_val k = store_model_key(key, version, MODEL_PART_HDR), v;
    int rc = mdb_get(tx->txn, tx->s->models, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? map_err(rc) : 1;
}

int store_current_model(store_t *s, uint64_t *version)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return map_err(rc);
    rc = store_meta_get_u64(txn, s->meta, "model_current", version);
    store_txn_abort(s, txn);
    if (rc == 0 && *version == 0)
        rc = -ENOENT;
    return rc;
}

static int copy_part(MDB_txn *txn, MDB_dbi dbi, uint64_t version, int part,
                     size_t expect, float **out)
{
    unsigned char key[9];
    MDB_val k = store_model_key(key, version, part), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return store_record_bad("models", key, sizeof key, "factor part missing");
    if (rc)
        return map_err(rc);
    if (v.mv_size != expect)
        return store_record_bad("models", key, sizeof key,
                                "factor part not the size its header gives");
    *out = malloc(expect ? expect : 1);
    if (!*out)
        return -ENOMEM;
    memcpy(*out, v.mv_data, expect);
    return 0;
}

int store_load_model(store_t *s, uint64_t version, store_model_hdr_t *hdr,
                     float **user_f, float **item_f, float **item_pop)
{
    MDB_txn *txn;
    unsigned char key[9];
    MDB_val k, v;
    int rc;

    *user_f = *item_f = *item_pop = NULL;
    if ((rc = store_txn_begin(s, MDB_RDONLY, &txn)) != 0)
        return map_err(rc);
    if (version == 0)
        rc = store_meta_get_u64(txn, s->meta, "model_current", &version);
    if (rc == 0 && version == 0)
        rc = -ENOENT;
    if (rc == 0) {
        k = store_model_key(key, version, MODEL_PART_HDR);
        rc = map_err(mdb_get(txn, s->models, &k, &v));
    }
    if (rc == 0)
        rc = store_model_hdr_decode(&k, &v, hdr);
    if (rc == 0) {
        rc = copy_part(txn, s->models, version, MODEL_PART_USER,
                       (size_t)hdr->n_users * hdr->factors * sizeof(float), user_f);
    }
    if (rc == 0)
        rc = copy_part(txn, s->models, version, MODEL_PART_ITEM,
                       (size_t)hdr->n_items * hdr->factors * sizeof(float), item_f);
    if (rc == 0)
        rc = copy_part(txn, s->models, version, MODEL_PART_POP,
                       (size_t)hdr->n_items * sizeof(float), item_pop);
    store_txn_abort(s, txn);
    if (rc) {
        free(*user_f);
        free(*item_f);
        free(*item_pop);
        *user_f = *item_f = *item_pop = NULL;
    }
    return rc;
}
