/*
 * shown.h - what each customer was recently shown, in memory, so a
 * storefront can ask for lists that do not repeat what the customer just
 * saw ("exclude recently shown").
 *
 * Best effort by design: bounded memory (a fixed table of slots, each
 * holding the last SHOWN_PER_CUSTOMER items of one customer; a new customer
 * hashing to a taken slot replaces it), forgotten on restart, no I/O on the
 * request path. Durable impression logs are the experiments' exposures.
 * Thread-safe: slots are guarded by striped locks.
 */
#ifndef PATRON_RECSYS_SHOWN_H
#define PATRON_RECSYS_SHOWN_H

#include <stddef.h>
#include <stdint.h>

#define SHOWN_PER_CUSTOMER 64

typedef struct shown shown_t;

/* A table of `slots` customers (0 = 65536). Returns NULL when out of memory. */
shown_t *shown_new(size_t slots);
void shown_free(shown_t *s); /* NULL-safe */

/* Records that items[0..n) were shown to customer_id at now_ms. */
void shown_record(shown_t *s, const char *customer_id, const uint32_t *items,
                  size_t n, int64_t now_ms);

/* Writes to out (cap entries) the items shown to customer_id at or after
 * since_ms, most recent first, without duplicates; returns the count. */
size_t shown_since(shown_t *s, const char *customer_id, int64_t since_ms,
                   uint32_t *out, size_t cap);

/* Forgets everything shown to customer_id (right to erasure); returns 1 if
 * the customer had a slot, else 0. */
int shown_forget(shown_t *s, const char *customer_id);

#endif
