/*
 * hash.c - FNV-1a and SipHash-2-4 (contract in hash.h).
 */
#include "hash.h"

#include <string.h>

uint64_t fnv1a64_update(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV1A64_PRIME;
    }
    return h;
}

uint64_t fnv1a64_str(const char *s)
{
    return fnv1a64_update(FNV1A64_OFFSET, s, strlen(s));
}

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void sip_round(siphash_t *s)
{
    s->v0 += s->v1; s->v1 = ROTL64(s->v1, 13); s->v1 ^= s->v0;
    s->v0 = ROTL64(s->v0, 32);
    s->v2 += s->v3; s->v3 = ROTL64(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = ROTL64(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = ROTL64(s->v1, 17); s->v1 ^= s->v2;
    s->v2 = ROTL64(s->v2, 32);
}

static void sip_compress(siphash_t *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

void siphash_init(siphash_t *s, const uint8_t key[16])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ULL; /* "somepseudorandomlygeneratedbytes" */
    s->v1 = k1 ^ 0x646f72616e646f6dULL;
    s->v2 = k0 ^ 0x6c7967656e657261ULL;
    s->v3 = k1 ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->n_tail = 0;
    s->len = 0;
}

void siphash_update(siphash_t *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->len += n;
    while (n > 0 && s->n_tail > 0) {
        s->tail |= (uint64_t)*p++ << (8 * s->n_tail);
        n--;
        if (++s->n_tail == 8) {
            sip_compress(s, s->tail);
            s->tail = 0;
            s->n_tail = 0;
        }
    }
    for (; n >= 8; n -= 8, p += 8)
        sip_compress(s, load_le64(p));
    for (; n > 0; n--)
        s->tail |= (uint64_t)*p++ << (8 * s->n_tail++);
}

uint64_t siphash_final(const siphash_t *in)
{
    siphash_t s = *in;
    sip_compress(&s, s.tail | ((s.len & 0xff) << 56));
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
    siphash_t s;
    siphash_init(&s, key);
    siphash_update(&s, data, len);
    return siphash_final(&s);
}
