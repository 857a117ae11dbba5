/* shown.c - recently shown items per customer, in memory (shown.h). */
#include "shown.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define STRIPES 64

typedef struct slot {
    uint64_t key;                       /* hash of the customer id; 0 = empty */
    uint32_t next;                      /* ring position */
    uint32_t items[SHOWN_PER_CUSTOMER];
    int64_t at[SHOWN_PER_CUSTOMER];     /* 0 = unused */
} slot_t;

struct shown {
    slot_t *slots;
    size_t n;
    pthread_mutex_t locks[STRIPES];
};

/* FNV-1a, 64 bits: ids are the shop's, collisions only merge two customers'
 * best-effort history. Never 0. */
static uint64_t hash_id(const char *id)
{
    uint64_t h = fnv1a64_str(id);
    return h ? h : 1;
}

shown_t *shown_new(size_t slots)
{
    shown_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->n = slots ? slots : 65536;
    if (!(s->slots = calloc(s->n, sizeof *s->slots))) {
        free(s);
        return NULL;
    }
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&s->locks[i], NULL);
    return s;
}

void shown_free(shown_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&s->locks[i]);
    free(s->slots);
    free(s);
}

void shown_record(shown_t *s, const char *customer_id, const uint32_t *items,
                  size_t n, int64_t now_ms)
{
    uint64_t key = hash_id(customer_id);
    size_t at = key % s->n;
    slot_t *sl = &s->slots[at];
    pthread_mutex_t *mu = &s->locks[at % STRIPES];

    pthread_mutex_lock(mu);
    if (sl->key != key) { /* empty, or another customer's: take it over */
        memset(sl, 0, sizeof *sl);
        sl->key = key;
    }
    for (size_t i = 0; i < n; i++) {
        sl->items[sl->next] = items[i];
        sl->at[sl->next] = now_ms;
        sl->next = (sl->next + 1) % SHOWN_PER_CUSTOMER;
    }
    pthread_mutex_unlock(mu);
}

size_t shown_since(shown_t *s, const char *customer_id, int64_t since_ms,
                   uint32_t *out, size_t cap)
{
    uint64_t key = hash_id(customer_id);
    size_t at = key % s->n, got = 0;
    slot_t *sl = &s->slots[at];
    pthread_mutex_t *mu = &s->locks[at % STRIPES];

    pthread_mutex_lock(mu);
    if (sl->key == key) {
        for (uint32_t k = 1; k <= SHOWN_PER_CUSTOMER && got < cap; k++) {
            uint32_t j = (sl->next + SHOWN_PER_CUSTOMER - k) % SHOWN_PER_CUSTOMER;
            size_t d;
            if (!sl->at[j] || sl->at[j] < since_ms)
                continue;
            for (d = 0; d < got && out[d] != sl->items[j]; d++)
                ;
            if (d == got)
                out[got++] = sl->items[j];
        }
    }
    pthread_mutex_unlock(mu);
    return got;
}

int shown_forget(shown_t *s, const char *customer_id)
{
    uint64_t key = hash_id(customer_id);
    size_t at = key % s->n;
    slot_t *sl = &s->slots[at];
    pthread_mutex_t *mu = &s->locks[at % STRIPES];
    int had;

    pthread_mutex_lock(mu);
    if ((had = sl->key == key) != 0)
        memset(sl, 0, sizeof *sl);
    pthread_mutex_unlock(mu);
    return had;
}
