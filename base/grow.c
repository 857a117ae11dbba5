/*
 * grow.c - geometric growth of caller-owned arrays (contract in grow.h).
 */
#include "grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t grow_capacity(size_t cap, size_t need, size_t size)
{
    if (size == 0 || need > SIZE_MAX / size)
        return 0;
    if (need <= cap)
        return cap;
    size_t limit = SIZE_MAX / size, c = cap < GROW_MIN_CAP ? GROW_MIN_CAP : cap;
    while (c < need)
        c = c > limit / 2 ? limit : c * 2;
    return c;
}

void *grow_realloc(void *p, size_t n, size_t size)
{
    if (n == 0)
        return p;
    if (size && n > SIZE_MAX / size)
        return NULL;
    return realloc(p, n * size);
}

int grow_array(void *pp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = grow_capacity(*cap, need, size);
    if (c == 0)
        return -ENOMEM;
    /* *pp is some T *; every object pointer has void *'s representation on
     * the platforms Patron builds for (POSIX requires it), and memcpy keeps
     * the access free of type punning. */
    void *old, *grown;
    memcpy(&old, pp, sizeof old);
    if (!(grown = realloc(old, c * size)))
        return -ENOMEM;
    memcpy(pp, &grown, sizeof grown);
    *cap = c;
    return 0;
}
