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

/* Reallocates the array whose pointer is at pp to n elements of size. */
static int resize(void *pp, size_t n, size_t size)
{
    /* *pp is some T *; every object pointer has void *'s representation on
     * the platforms Patron builds for (POSIX requires it), and memcpy keeps
     * the access free of type punning. */
    void *old, *grown;
    memcpy(&old, pp, sizeof old);
    if (!(grown = grow_realloc(old, n, size)))
        return -ENOMEM;
    memcpy(pp, &grown, sizeof grown);
    return 0;
}

int grow_parallel(size_t *cap, size_t need, size_t k, void *const ptrs[],
                  const size_t sizes[])
{
    size_t biggest = 0, c;
    if (need <= *cap)
        return 0;
    for (size_t j = 0; j < k; j++)
        biggest = sizes[j] > biggest ? sizes[j] : biggest;
    if ((c = grow_capacity(*cap, need, biggest)) == 0)
        return -ENOMEM;
    for (size_t j = 0; j < k; j++)
        if (resize(ptrs[j], c, sizes[j]) != 0)
            return -ENOMEM;
    *cap = c;
    return 0;
}

int grow_array(void *pp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = grow_capacity(*cap, need, size);
    if (c == 0)
        return -ENOMEM;
    if (resize(pp, c, size) != 0)
        return -ENOMEM;
    *cap = c;
    return 0;
}
