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

/* Columns of one table grow together and keep their rows. */
static void test_parallel(void)
{
    uint32_t *a = NULL;
    int64_t *b = NULL;
    uint8_t *c = NULL;
    size_t n = 0, cap = 0;
    void *const cols[] = { &a, &b, &c };
    const size_t sizes[] = { sizeof *a, sizeof *b, sizeof *c };
    for (uint32_t i = 0; i < 5000; i++) {
        CHECK_EQ_INT(grow_parallel(&cap, n + 1, 3, cols, sizes), 0);
        a[n] = i;
        b[n] = -(int64_t)i;
        c[n] = (uint8_t)i;
        n++;
    }
    long bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad += a[i] != i || b[i] != -(int64_t)i || c[i] != (uint8_t)i;
    CHECK_EQ_INT(bad, 0);
    CHECK(cap >= n && cap < 2 * n);
    size_t before = cap;
    CHECK_EQ_INT(grow_parallel(&cap, SIZE_MAX / 4, 3, cols, sizes), -ENOMEM);
    CHECK(cap == before && a[n - 1] == n - 1 && b[n - 1] == -(int64_t)(n - 1));
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    test_append_keeps_contents();
    test_capacity_rules();
    test_failure_changes_nothing();
    test_parallel();
    return test_failures ? 1 : 0;
}
