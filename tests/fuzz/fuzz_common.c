/* fuzz_common.c - target selection, framing and per-target counts shared by
 * the drivers (fuzz_common.h). */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-target counts of this process, printed at exit. A fuzzing process
 * runs one input at a time on one thread (libFuzzer, fuzz_replay), so
 * plain counters suffice. */
typedef struct fuzz_stats {
    size_t n;
    const char *const *names;
    uint64_t *inputs, *ok;
    long only;          /* PATRON_FUZZ_ONLY's index, or -1 */
} fuzz_stats_t;

static fuzz_stats_t stats; /* process-wide: the one driver of this process */

static void print_stats(void)
{
    for (size_t i = 0; i < stats.n; i++)
        if (stats.inputs[i])
            fprintf(stderr, "fuzz-stats %s %llu %llu\n", stats.names[i],
                    (unsigned long long)stats.inputs[i], (unsigned long long)stats.ok[i]);
}

static void stats_init(void)
{
    const char *only;
    if (stats.names)
        return;
    stats.names = fuzz_targets(&stats.n);
    stats.inputs = calloc(stats.n, sizeof *stats.inputs);
    stats.ok = calloc(stats.n, sizeof *stats.ok);
    if (!stats.inputs || !stats.ok) {
        fprintf(stderr, "fuzz: out of memory\n");
        abort();
    }
    stats.only = -1;
    if ((only = getenv("PATRON_FUZZ_ONLY")) && *only) {
        if ((stats.only = fuzz_target_index(only)) < 0) {
            fprintf(stderr, "fuzz: PATRON_FUZZ_ONLY=%s names no target of this driver\n",
                    only);
            exit(2);
        }
    }
    atexit(print_stats);
}

long fuzz_target_index(const char *name)
{
    size_t n;
    const char *const *names = fuzz_targets(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (long)i;
    return -1;
}

int fuzz_pick(const uint8_t *data, size_t size, size_t *target, const uint8_t **body,
              size_t *len)
{
    stats_init();
    if (size == 0)
        return -1;
    *target = stats.only >= 0 ? (size_t)stats.only : data[0] % stats.n;
    *body = data + 1;
    *len = size - 1;
    stats.inputs[*target]++;
    return 0;
}

void fuzz_accepted(size_t target)
{
    if (target < stats.n)
        stats.ok[target]++;
}

int fuzz_next_frame(const uint8_t **p, const uint8_t *end, const uint8_t **msg, size_t *len)
{
    uint64_t n = 0;
    unsigned shift = 0;
    const uint8_t *q = *p;

    if (q >= end)
        return 0;
    while (q < end && shift < 64) {
        uint8_t b = *q++;
        n |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    *msg = q;
    *len = n < (uint64_t)(end - q) ? (size_t)n : (size_t)(end - q);
    *p = q + *len;
    return 1;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: fuzz invariant broken: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
