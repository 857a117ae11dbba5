/*
 * referrals.c - referral codes, qualifying orders and the referrer's
 * allocation (referrals.h).
 */
#include "referrals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "hash.h"

/* Crockford's base32: no I, L, O, U (read as 1, 1, 0; U never). */
static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/* The salt keeps codes from being the plain FNV of the id (an id is not
 * guessable from its code by hashing candidate ids without it). Fixed: a
 * code must stay the customer's across releases. */
static const char SALT[] = "patron.referral.v1:";

static const char *const state_names[] = {
    [REFERRAL_PENDING] = "pending", [REFERRAL_PAID] = "paid", [REFERRAL_RING] = "ring",
    [REFERRAL_CAPPED] = "capped",   [REFERRAL_SELF] = "self",
};

const char *referral_state_name(int state)
{
    return state >= REFERRAL_PENDING && state <= REFERRAL_SELF ? state_names[state] : NULL;
}

void referral_code_of(const char *customer_id, char *out)
{
    uint64_t h = fnv1a64_update(fnv1a64_str(SALT), customer_id, strlen(customer_id));
    h ^= h >> 29; /* FNV's low bits mix poorly: fold the high ones in */
    for (int i = 0; i < REFERRAL_CODE_LEN; i++)
        out[i] = ALPHABET[(h >> (5 * i)) & 31];
    out[REFERRAL_CODE_LEN] = '\0';
}

static int symbol(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == 'O')
        c = '0';
    if (c == 'I' || c == 'L')
        c = '1';
    for (int k = 0; k < 32; k++)
        if (ALPHABET[k] == c)
            return ALPHABET[k];
    return -1;
}

int referral_code_normalize(const char *code, char *out)
{
    if (!code || strlen(code) != REFERRAL_CODE_LEN)
        return -EINVAL;
    for (int i = 0; i < REFERRAL_CODE_LEN; i++) {
        int c = symbol(code[i]);
        if (c < 0)
            return -EINVAL;
        out[i] = (char)c;
    }
    out[REFERRAL_CODE_LEN] = '\0';
    return 0;
}

/* Whether a refund of p's item follows p within [p, until]. */
static int refunded_within(const store_event_rec_t *ev, size_t n, size_t p, int64_t until)
{
    for (size_t j = p + 1; j < n && ev[j].time_ms <= until; j++)
        if (ev[j].type == STORE_EVENT_REFUND && ev[j].item == ev[p].item)
            return 1;
    return 0;
}

int64_t referral_qualifying_order(const store_event_rec_t *ev, size_t n,
                                  uint32_t window_days, int64_t now_ms, size_t *order)
{
    int64_t window = (int64_t)window_days * CIVIL_DAY_MS;
    for (size_t p = 0; p < n; p++) {
        int64_t due = ev[p].time_ms + window;
        if (ev[p].type != STORE_EVENT_PURCHASE || due > now_ms)
            continue;
        if (!refunded_within(ev, n, p, due)) {
            *order = p;
            return due;
        }
    }
    return 0;
}

static int by_reward(const void *a, const void *b)
{
    const referral_candidate_t *x = a, *y = b;
    if (x->reward_ms != y->reward_ms)
        return x->reward_ms < y->reward_ms ? -1 : 1;
    return strcmp(x->friend_id, y->friend_id);
}

/* The cap period a reward time falls in (one number per period). */
static int64_t period_of(referral_cap_period_t p, int64_t t)
{
    int64_t y;
    unsigned m, d;
    if (p == REFERRAL_CAP_EVER)
        return 0;
    civil_from_days(civil_day_of_ms(t), &y, &m, &d);
    return p == REFERRAL_CAP_YEAR ? y : y * 12 + m;
}

void referral_allocate(referral_candidate_t *c, size_t n, const referral_config_t *cfg)
{
    int64_t period = INT64_MIN;
    uint32_t paid = 0;
    qsort(c, n, sizeof *c, by_reward);
    for (size_t i = 0; i < n; i++) {
        if (c[i].self) {
            c[i].state = REFERRAL_SELF;
        } else if (c[i].ring) {
            c[i].state = REFERRAL_RING;
        } else if (!c[i].reward_ms) {
            c[i].state = REFERRAL_PENDING;
        } else {
            int64_t p = period_of(cfg->cap_period, c[i].reward_ms);
            if (p != period) {
                period = p;
                paid = 0;
            }
            if (cfg->cap_period != REFERRAL_CAP_NONE && paid >= cfg->cap) {
                c[i].state = REFERRAL_CAPPED;
            } else {
                c[i].state = REFERRAL_PAID;
                paid++;
            }
        }
    }
}
