/*
 * testutil.h - the few helpers every unit test uses: CHECK macros that report
 * file:line and keep going, and a fresh temporary directory per test.
 */
#ifndef PATRON_TESTS_TESTUTIL_H
#define PATRON_TESTS_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                    \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", \
                    __FILE__, __LINE__, #a, #b, a_, b_);                      \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

#define CHECK_STREQ(a, b)                                                     \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",           \
                    b_ ? b_ : "(null)");                                      \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

/* Makes a fresh empty directory under $TMPDIR (or /tmp); returns a static
 * buffer that stays valid until the next call. */
static inline const char *test_tmpdir(const char *tag)
{
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/patron-%s-XXXXXX", base ? base : "/tmp",
             tag);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        exit(2);
    }
    return path;
}

/* Writes text to dir/name and returns the path (a static buffer, valid
 * until the next call); exits 2 when the file cannot be written. */
static inline const char *test_write_file(const char *dir, const char *name, const char *text)
{
    static char path[700];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "w")))
        exit(2);
    fputs(text, f);
    if (fclose(f) != 0)
        exit(2);
    return path;
}

/* A small deterministic generator (xorshift64*, Vigna 2016). Each test
 * seeds it once at the start of main, so its draws never change. */
static inline uint64_t *test_rng_state(void)
{
    static uint64_t state = 1;
    return &state;
}

static inline void test_rng_seed(uint64_t seed)
{
    *test_rng_state() = seed ? seed : 1;
}

static inline uint32_t test_rng_u32(void)
{
    uint64_t *s = test_rng_state();
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 32);
}

/* Uniform in [-1, 1). */
static inline float test_rng_uniform(void)
{
    return (float)(test_rng_u32() >> 8) / 16777216.0f * 2.0f - 1.0f;
}

#define TEST_MAIN_END()                                                       \
    do {                                                                      \
        if (test_failures) {                                                  \
            fprintf(stderr, "%d check(s) failed\n", test_failures);           \
            return 1;                                                         \
        }                                                                     \
        printf("all checks passed\n");                                        \
        return 0;                                                             \
    } while (0)

#endif
