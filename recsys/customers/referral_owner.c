/*
 * referral_owner.c - the referral programme's custdata owner
 * (referral_store.h): erasing, merging and exporting signups, links,
 * codes and fingerprints.
 */
#include "referral_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "store_links.h"

/* The rfriend rows under a referrer: keys and friend ids. */
typedef struct gathered {
    unsigned char (*key)[FRIEND_KEY_MAX];
    size_t *klen;
    char (*friend_id)[STORE_MAX_ID + 1];
    size_t n, cap;
} gathered_t;

static int gather(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    gathered_t *g = ctx;
    if (klen > FRIEND_KEY_MAX || vlen == 0 || vlen > STORE_MAX_ID)
        return 0;
    if (grow_parallel(&g->cap, g->n + 1, 3, (void *const[]){ &g->key, &g->klen, &g->friend_id },
                      (const size_t[]){ sizeof *g->key, sizeof *g->klen, sizeof *g->friend_id }))
        return -ENOMEM;
    memcpy(g->key[g->n], key, klen);
    g->klen[g->n] = klen;
    memcpy(g->friend_id[g->n], val, vlen);
    g->friend_id[g->n++][vlen] = '\0';
    return 0;
}

static void gathered_free(gathered_t *g)
{
    free(g->key);
    free(g->klen);
    free(g->friend_id);
}

static int friends_of(store_tx_t *tx, const char *referrer, gathered_t *g)
{
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t n = strlen(referrer) + 1;
    memcpy(prefix, referrer, n);
    return store_tx_scan(tx, T_FRIEND, prefix, n, gather, g);
}

static int del_quiet(store_tx_t *tx, const char *table, const void *key, size_t klen)
{
    int rc = store_tx_del(tx, table, key, klen);
    return rc == -ENOENT ? 0 : rc;
}

/* Deletes the row linking id to its referrer (stored under the referrer
 * as resolved at signup, moved by merges since: try the referrer as
 * recorded and as resolved now). */
static int unlink_from_referrer(store_tx_t *tx, const signup_t *g, const char *id,
                                uint64_t *rows)
{
    unsigned char key[FRIEND_KEY_MAX];
    char now[STORE_MAX_ID + 1];
    int rc;
    if (!g->referrer[0])
        return 0;
    if ((rc = del_quiet(tx, T_FRIEND, key, rstore_friend_key(g->referrer, id, key))) != 0 ||
        (rc = store_tx_resolve_customer(tx, g->referrer, now)) < 0)
        return rc;
    (*rows)++;
    return del_quiet(tx, T_FRIEND, key, rstore_friend_key(now, id, key));
}

/* ---- erase ------------------------------------------------------------------------ */

/* The friends of id lose their link: rows deleted, their signups keep no
 * referrer (nor its code). */
static int forget_friends(store_tx_t *tx, const char *id, uint64_t *rows)
{
    gathered_t g = { 0 };
    int rc = friends_of(tx, id, &g);
    for (size_t i = 0; rc == 0 && i < g.n; i++) {
        signup_t f;
        if ((rc = store_tx_del(tx, T_FRIEND, g.key[i], g.klen[i])) != 0)
            break;
        (*rows)++;
        if ((rc = rstore_sign_get_tx(tx, g.friend_id[i], &f)) == -ENOENT) {
            rc = 0;
            continue;
        }
        if (rc == 0 && f.referrer[0]) {
            f.referrer[0] = '\0';
            f.code[0] = '\0';
            rc = rstore_sign_put(tx, g.friend_id[i], &f);
            (*rows)++;
        }
    }
    gathered_free(&g);
    return rc;
}

static int erase_owner(void *ctx, store_tx_t *tx, const char *id, custdata_erased_t *out)
{
    char code[REFERRAL_CODE_LEN + 1], have[STORE_MAX_ID + 1];
    size_t vlen;
    signup_t g;
    int rc;
    (void)ctx;

    if ((rc = rstore_sign_get_tx(tx, id, &g)) == 0) {
        if ((rc = rstore_fp_del(tx, &g, id)) || (rc = unlink_from_referrer(tx, &g, id, &out->rows)) ||
            (rc = store_tx_del(tx, T_SIGN, id, strlen(id))))
            return rc;
        out->rows++;
    } else if (rc != -ENOENT) {
        return rc;
    }
    referral_code_of(id, code);
    rc = store_tx_get(tx, T_CODE, code, REFERRAL_CODE_LEN, have, STORE_MAX_ID, &vlen);
    if (rc == 0 && vlen == strlen(id) && memcmp(have, id, vlen) == 0) {
        if ((rc = store_tx_del(tx, T_CODE, code, REFERRAL_CODE_LEN)) != 0)
            return rc;
        out->rows++;
    } else if (rc != 0 && rc != -ENOENT) {
        return rc;
    }
    return forget_friends(tx, id, &out->rows);
}

/* ---- merge ------------------------------------------------------------------------ */

/* from's signup moves to into when into has none; else it is dropped. */
static int merge_signup(store_tx_t *tx, const char *from, const char *into, uint64_t *rows)
{
    unsigned char key[FRIEND_KEY_MAX];
    signup_t g, have;
    int rc = rstore_sign_get_tx(tx, from, &g), keep;
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if ((rc = rstore_sign_get_tx(tx, into, &have)) != 0 && rc != -ENOENT)
        return rc;
    keep = rc == -ENOENT;
    if ((rc = rstore_fp_del(tx, &g, from)) || (rc = unlink_from_referrer(tx, &g, from, rows)) ||
        (rc = store_tx_del(tx, T_SIGN, from, strlen(from))))
        return rc;
    (*rows)++;
    if (!keep)
        return 0;
    if ((rc = rstore_sign_put(tx, into, &g)) || (rc = rstore_fp_put(tx, &g, into)))
        return rc;
    if (g.referrer[0]) {
        char now[STORE_MAX_ID + 1];
        if ((rc = store_tx_resolve_customer(tx, g.referrer, now)) < 0)
            return rc;
        rc = store_tx_put(tx, T_FRIEND, key, rstore_friend_key(now, into, key), into,
                          strlen(into));
    }
    return rc;
}

/* from's friends become into's. */
static int merge_friends(store_tx_t *tx, const char *from, const char *into, uint64_t *rows)
{
    unsigned char key[FRIEND_KEY_MAX];
    gathered_t g = { 0 };
    int rc = friends_of(tx, from, &g);
    for (size_t i = 0; rc == 0 && i < g.n; i++) {
        const char *f = g.friend_id[i];
        if ((rc = store_tx_del(tx, T_FRIEND, g.key[i], g.klen[i])) == 0)
            rc = store_tx_put(tx, T_FRIEND, key, rstore_friend_key(into, f, key), f, strlen(f));
        (*rows)++;
    }
    gathered_free(&g);
    return rc;
}

static int merge_owner(void *ctx, store_tx_t *tx, const char *from, const char *into,
                       int64_t now_ms, custdata_merged_t *out)
{
    int rc;
    (void)ctx, (void)now_ms;
    if ((rc = merge_signup(tx, from, into, &out->rows)) != 0)
        return rc;
    return merge_friends(tx, from, into, &out->rows);
}

static int holds_owner(void *ctx, store_tx_t *tx, const char *id)
{
    signup_t g;
    int rc = rstore_sign_get_tx(tx, id, &g);
    (void)ctx;
    return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

/* ---- export ----------------------------------------------------------------------- */

typedef struct export_ctx {
    custdata_emit_fn emit;
    void *sink;
} export_ctx_t;

static int export_friend(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    export_ctx_t *e = ctx;
    char id[STORE_MAX_ID + 1];
    (void)key, (void)klen;
    if (vlen == 0 || vlen > STORE_MAX_ID)
        return 0;
    memcpy(id, val, vlen);
    id[vlen] = '\0';
    return e->emit(e->sink, CUSTDATA_REFERRED, id);
}

static int export_owner(void *ctx, store_t *s, const char *id, custdata_emit_fn emit,
                        void *sink)
{
    export_ctx_t e = { emit, sink };
    unsigned char prefix[STORE_MAX_ID + 1];
    size_t n = strlen(id) + 1;
    signup_t g;
    int rc = rstore_sign_get(s, id, &g);
    (void)ctx;
    if (rc == 0) {
        referral_export_signup_t x = { g.time_ms, g.recorded_ms, g.referrer, g.code,
                                       g.fp[0], g.fp[1], g.fp[2] };
        rc = emit(sink, CUSTDATA_REFERRAL_SIGNUP, &x);
    } else if (rc == -ENOENT) {
        rc = 0;
    }
    if (rc)
        return rc;
    memcpy(prefix, id, n);
    return store_table_scan(s, T_FRIEND, prefix, n, export_friend, &e);
}

custdata_owner_t referral_custdata_owner(void)
{
    return (custdata_owner_t){ .name = "referrals", .erase = erase_owner,
                               .merge = merge_owner, .holds = holds_owner,
                               .export_rows = export_owner };
}
