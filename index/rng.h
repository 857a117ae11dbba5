/*
 * rng.h - the one small deterministic generator every module seeds from:
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014). Same seed, same sequence, on every machine;
 * not for secrets (request ids use the kernel's CSPRNG).
 */
#ifndef PATRON_INDEX_RNG_H
#define PATRON_INDEX_RNG_H

#include <stdint.h>

/* Advances *state and returns the next 64 random bits. */
static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The same mixing as a pure function of x (a hash of x). */
static inline uint64_t splitmix64_mix(uint64_t x)
{
    return splitmix64(&x);
}

#endif
