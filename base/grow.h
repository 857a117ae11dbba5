/*
 * grow.h - growable arrays without a container type: the caller keeps its
 * own pointer, count and capacity (as with Git's ALLOC_GROW), and one
 * function does the geometric growth, the overflow check and the failure
 * path that every hand-grown array used to repeat.
 *
 *     item_t *v = NULL; size_t n = 0, cap = 0;
 *     if (GROW(v, cap, n + 1)) return -ENOMEM;
 *     v[n++] = x;
 *     ...
 *     free(v);
 *
 * On failure nothing changes: the old block and capacity stay valid, so the
 * caller frees as usual.
 */
#ifndef PATRON_BASE_GROW_H
#define PATRON_BASE_GROW_H

#include <stddef.h>

/* Smallest capacity grow_capacity hands out. */
#define GROW_MIN_CAP 16u

/* The capacity to grow cap to so it holds at least need elements of size
 * bytes: doubling (amortized O(1) appends), at least GROW_MIN_CAP; cap
 * itself if it is enough already; 0 if need * size overflows size_t. */
size_t grow_capacity(size_t cap, size_t need, size_t size);

/* realloc(p, n * size) with the multiplication checked; NULL (p untouched)
 * on overflow or allocation failure. For parallel arrays sharing one
 * capacity from grow_capacity. n = 0 returns p unchanged. */
void *grow_realloc(void *p, size_t n, size_t size);

/* Makes the array at *pp (a pointer to any object pointer, passed as void *)
 * hold at least need elements of size bytes, updating *cap. Returns 0, or
 * -ENOMEM (then *pp and *cap are unchanged). Use GROW. */
int grow_array(void *pp, size_t *cap, size_t need, size_t size);

/* GROW(p, cap, need): grow_array on a typed pointer lvalue p and a size_t
 * lvalue cap. */
#define GROW(p, cap, need) grow_array(&(p), &(cap), (need), sizeof *(p))

/* Grows k parallel arrays (columns of one table) sharing the capacity *cap:
 * ptrs[j] is the address of the j-th array's pointer, sizes[j] its element
 * size. Returns 0, or -ENOMEM with *cap unchanged; every array stays valid
 * (some may have grown already, which is harmless). */
int grow_parallel(size_t *cap, size_t need, size_t k, void *const ptrs[],
                  const size_t sizes[]);

#endif
