/*
 * utf8.c - UTF-8 validation (contract in utf8.h), after the well-formed
 * byte sequences table of Unicode 15, section 3.9 (table 3-7).
 */
#include "utf8.h"

/* Length of the well-formed sequence at p (at most `left` bytes), 0 if
 * ill-formed. */
static size_t seq_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c >= 0x01 && c <= 0x7f)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;          /* no overlong */
        if (c == 0xed) hi = 0x9f;          /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;          /* no overlong */
        if (c == 0xf4) hi = 0x8f;          /* nothing above U+10FFFF */
    } else {
        return 0;                          /* NUL, 0x80..0xc1, 0xf5..0xff */
    }
    if (left < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

size_t utf8_check(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = seq_len(p + i, n - i);
        if (!len)
            return i;
        i += len;
    }
    return n;
}

int utf8_valid(const char *s, size_t n)
{
    return utf8_check(s, n) == n;
}
