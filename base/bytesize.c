/*
 * bytesize.c - byte counts with binary suffixes (see bytesize.h).
 */
#include "bytesize.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char units[] = "KMGT";

int bytesize_parse(const char *s, uint64_t *out)
{
    char *end;
    double v, mult = 1;
    const char *u;

    if (!s || !isdigit((unsigned char)*s))
        return -1;
    v = strtod(s, &end);
    if (*end && (u = strchr(units, toupper((unsigned char)*end))) != NULL) {
        mult = ldexp(1.0, 10 * (int)(u - units + 1));
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
    } else if (strchr(s, '.') || strchr(s, 'e') || strchr(s, 'E')) {
        return -1; /* bytes are whole */
    }
    if (*end || !isfinite(v) || v * mult < 1 || v * mult > ldexp(1.0, 63))
        return -1;
    *out = (uint64_t)(v * mult);
    return 0;
}

char *bytesize_format(uint64_t n, char *buf, size_t cap)
{
    static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = -1;
    double v = (double)n;

    while (i + 1 < (int)(sizeof names / sizeof *names) && v >= 1024) {
        v /= 1024;
        i++;
    }
    if (i < 0)
        snprintf(buf, cap, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, cap, "%.1f %s", v, names[i]);
    return buf;
}
