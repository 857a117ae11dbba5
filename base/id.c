/*
 * id.c - identifier validation (contract in id.h).
 */
#include "id.h"

#include <string.h>

#include "utf8.h"

static int byte_ok(unsigned char c, unsigned flags)
{
    if ((flags & ID_PRINTABLE) && (c < 0x20 || c == 0x7f))
        return 0;
    if (flags & ID_TOKEN)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    return 1;
}

size_t id_check(const char *id, size_t max, unsigned flags)
{
    if (!id)
        return 0;
    size_t n = strnlen(id, max + 1);
    if (n == 0 || n > max)
        return 0;
    if (flags)
        for (size_t i = 0; i < n; i++)
            if (!byte_ok((unsigned char)id[i], flags))
                return 0;
    if ((flags & ID_PRINTABLE) && !utf8_valid(id, n))
        return 0;
    return n;
}
