/*
 * referral_internal.h - what referral_store.c and referral_owner.c (the
 * custdata owner) share: the tables, the signup row in memory and its
 * codecs. Not for other modules.
 */
#ifndef PATRON_RECSYS_REFERRAL_INTERNAL_H
#define PATRON_RECSYS_REFERRAL_INTERNAL_H

#include "referral_store.h"

#define T_SIGN "rsign"
#define T_CODE "rcode"
#define T_FRIEND "rfriend"
#define T_FP "rfp"
#define FRIEND_KEY_MAX (STORE_MAX_ID + 1 + 8)
#define FP_KEY_MAX (2 + REFERRAL_FINGERPRINT_MAX + 1 + STORE_MAX_ID)
#define N_KINDS 3

_Static_assert(FP_KEY_MAX <= STORE_MAX_TABLE_KEY, "fingerprint keys fit the key limit");
_Static_assert(FRIEND_KEY_MAX <= STORE_MAX_TABLE_KEY, "friend keys fit the key limit");

static const char KINDS[N_KINDS] = { 'd', 'a', 'p' };

static const char RSTORE_KINDS[N_KINDS] = { 'd', 'a', 'p' };

/* A signup in memory. */
typedef struct signup {
    int64_t time_ms, recorded_ms;
    char referrer[STORE_MAX_ID + 1];
    char code[REFERRAL_CODE_LEN + 1];
    char fp[N_KINDS][REFERRAL_FINGERPRINT_MAX + 1]; /* device, address, payment */
} signup_t;

/* The signup row: decode (id names it in errors), read in tx or in a
 * read transaction of its own (-ENOENT when absent), write. */
int rstore_sign_decode(const char *id, const void *val, size_t vlen, signup_t *out);
int rstore_sign_get_tx(store_tx_t *tx, const char *id, signup_t *out);
int rstore_sign_get(store_t *s, const char *id, signup_t *out);
int rstore_sign_put(store_tx_t *tx, const char *id, const signup_t *g);

/* rfriend's key for (referrer, friend) into key[FRIEND_KEY_MAX]; its length. */
size_t rstore_friend_key(const char *referrer, const char *friend_id, unsigned char *key);

/* rfp's key for (kind, value, customer) into key[FP_KEY_MAX]; customer
 * NULL: the prefix of every account on the fingerprint. Its length. */
size_t rstore_fp_key(int kind, const char *value, const char *customer_id, char *key);

/* Writes / deletes the rfp rows of g's fingerprints for id. */
int rstore_fp_put(store_tx_t *tx, const signup_t *g, const char *id);
int rstore_fp_del(store_tx_t *tx, const signup_t *g, const char *id);

#endif
