/*
 * test_base_hash.c - FNV-1a and SipHash-2-4 against their published vectors
 * (base/hash.h): stored buckets and experiment arms depend on these values.
 */
#include "testutil.h"

#include "hash.h"

static void test_fnv1a_vectors(void)
{
    /* FNV test suite (Noll, fnv/test_fnv.c) for FNV-1a 64 */
    CHECK(fnv1a64_str("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a64_str("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(fnv1a64_str("foobar") == 0x85944171f73967e8ULL);
    /* streaming equals one shot; bytes after a NUL count with _update */
    uint64_t h = fnv1a64_update(FNV1A64_OFFSET, "foo", 3);
    CHECK(fnv1a64_update(h, "bar", 3) == fnv1a64_str("foobar"));
    CHECK(fnv1a64_update(FNV1A64_OFFSET, "a\0b", 3) != fnv1a64_str("a"));
}

static void test_siphash_vectors(void)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    /* the reference vectors of the SipHash paper (Appendix A / vectors.h) */
    CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    CHECK(siphash24(key, msg, 1) == 0x74f839c593dc67fdULL);
    CHECK(siphash24(key, msg, 8) == 0x93f5f5799a932462ULL);
    CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
    CHECK(siphash24(key, msg, 63) == 0x958a324ceb064572ULL);
}

/* Absorbing in pieces of any size gives the one-shot value, and finishing
 * does not disturb the stream (experiment assignment forks saved states). */
static void test_siphash_streaming(void)
{
    uint8_t key[16] = { 0 }, msg[63];
    for (int i = 0; i < 63; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    uint64_t want = siphash24(key, msg, sizeof msg);
    for (size_t step = 1; step <= 17; step++) {
        siphash_t s;
        siphash_init(&s, key);
        for (size_t at = 0; at < sizeof msg; at += step) {
            size_t n = sizeof msg - at < step ? sizeof msg - at : step;
            siphash_update(&s, msg + at, n);
            CHECK(siphash_final(&s) == siphash24(key, msg, at + n));
        }
        CHECK(siphash_final(&s) == want);
    }
}

int main(void)
{
    test_fnv1a_vectors();
    test_siphash_vectors();
    test_siphash_streaming();
    return test_failures ? 1 : 0;
}
