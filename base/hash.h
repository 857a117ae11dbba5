/*
 * hash.h - the two string hashes Patron uses, one implementation each.
 *
 *  - FNV-1a, 64 bits (Fowler, Noll, Vo; draft-eastlake-fnv): fast and
 *    unkeyed, for hash tables over ids and for deriving pseudo-random
 *    positions from an id (usually then spread by splitmix64_mix, rng.h,
 *    since FNV-1a leaves ids differing in the last byte close together).
 *  - SipHash-2-4 (Aumasson and Bernstein 2012): a keyed PRF, well mixed,
 *    streaming so that a fixed prefix can be absorbed once and the state
 *    reused (experiment assignment does this).
 *
 * Values are pinned: stored buckets and experiment arms depend on them, so
 * both are tested against published vectors (tests/test_base_hash.c).
 */
#ifndef PATRON_BASE_HASH_H
#define PATRON_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_OFFSET 0xcbf29ce484222325ULL
#define FNV1A64_PRIME 0x100000001b3ULL

/* FNV-1a of n bytes, continuing from h (start with FNV1A64_OFFSET). */
uint64_t fnv1a64_update(uint64_t h, const void *data, size_t n);

/* FNV-1a of a NUL-terminated string (its bytes, not the NUL). s must not
 * be NULL. */
uint64_t fnv1a64_str(const char *s);

/* SipHash-2-4 streaming state; treat as opaque, copy freely (a copy is a
 * fork of the stream). */
typedef struct siphash {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;   /* pending bytes, little-endian */
    unsigned n_tail; /* 0..7 */
    uint64_t len;    /* bytes absorbed; its low byte goes into the last word */
} siphash_t;

/* Starts a stream under the 16-byte key. */
void siphash_init(siphash_t *s, const uint8_t key[16]);

/* Absorbs n bytes. */
void siphash_update(siphash_t *s, const void *data, size_t n);

/* The hash of everything absorbed; s itself is not changed, so the stream
 * can go on (or be finished again). */
uint64_t siphash_final(const siphash_t *s);

/* One-shot SipHash-2-4 of len bytes. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
