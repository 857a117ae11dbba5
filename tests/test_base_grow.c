/*
 * test_base_grow.c - growable arrays (base/grow.h): contents survive growth,
 * growth is geometric, and a request that cannot be met changes nothing.
 */
#include "testutil.h"

#include <errno.h>

#include "grow.h"

static void test_append_keeps_contents(void)
{
    uint64_t *v = NULL;
    size_t n = 0, cap = 0, reallocs = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        size_t before = cap;
        CHECK_EQ_INT(GROW(v, cap, n + 1), 0);
        reallocs += cap != before;
        v[n++] = i * 3;
    }
    long bad = 0;
    for (uint64_t i = 0; i < n; i++)
        bad += v[i] != i * 3;
    CHECK_EQ_INT(bad, 0);
    CHECK(cap >= n && cap < 2 * n + GROW_MIN_CAP);
    CHECK(reallocs <= 14); /* 16 -> 131072 by doubling */
    free(v);
}

static void test_capacity_rules(void)
{
    CHECK_EQ_INT(grow_capacity(0, 1, 8), GROW_MIN_CAP);
    CHECK_EQ_INT(grow_capacity(16, 16, 8), 16);
    CHECK_EQ_INT(grow_capacity(16, 17, 8), 32);
    CHECK_EQ_INT(grow_capacity(16, 1000, 8), 1024);
    CHECK_EQ_INT(grow_capacity(0, SIZE_MAX / 4 + 1, 8), 0); /* overflows */
    CHECK_EQ_INT(grow_capacity(0, 1, 0), 0);
    /* near the limit doubling clamps instead of wrapping */
    size_t lim = SIZE_MAX / 8;
    CHECK(grow_capacity(lim / 2 + 1, lim, 8) == lim);
}

static void test_failure_changes_nothing(void)
{
    int *v = NULL;
    size_t cap = 0;
    CHECK_EQ_INT(GROW(v, cap, 10), 0);
    v[9] = 42;
    int *before = v;
    size_t cap_before = cap;
    CHECK_EQ_INT(GROW(v, cap, SIZE_MAX / 2), -ENOMEM);  /* overflow */
    CHECK_EQ_INT(GROW(v, cap, SIZE_MAX / sizeof *v), -ENOMEM); /* no memory */
    CHECK(v == before && cap == cap_before && v[9] == 42);
    CHECK(grow_realloc(v, SIZE_MAX / 2, sizeof *v) == NULL);
    CHECK(v[9] == 42);
    CHECK(grow_realloc(v, 0, sizeof *v) == v);
    free(v);
}

int main(void)
{
    test_append_keeps_contents();
    test_capacity_rules();
    test_failure_changes_nothing();
    return test_failures ? 1 : 0;
}
