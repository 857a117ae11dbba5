/*
 * rng.h - the one small deterministic generator every module seeds from:
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014). Same seed, same sequence, on every machine;
 * not for secrets (request ids use the kernel's CSPRNG).
 */
#ifndef PATRON_BASE_RNG_H
#define PATRON_BASE_RNG_H

#include <stdint.h>

/* Advances *state and returns the next 64 random bits. */
static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) from the next draw, 53 bits. */
static inline double splitmix64_unit(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* The same mixing as a pure function of x (a hash of x). */
static inline uint64_t splitmix64_mix(uint64_t x)
{
    return splitmix64(&x);
}

/* xoshiro256** (Blackman and Vigna 2018), seeded through SplitMix64: the
 * simulators' generator, for long streams of draws. */
typedef struct xoshiro {
    uint64_t s[4];
} xoshiro_t;

static inline void xoshiro_seed(xoshiro_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t xoshiro_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t xoshiro_next(xoshiro_t *r)
{
    uint64_t *s = r->s;
    uint64_t out = xoshiro_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = xoshiro_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1), 53 bits. */
static inline double xoshiro_unit(xoshiro_t *r)
{
    return (double)(xoshiro_next(r) >> 11) * 0x1.0p-53;
}

#endif
