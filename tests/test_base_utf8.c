/*
 * test_base_utf8.c - the UTF-8 rule (base/utf8.h): well-formed sequences
 * of every length pass; NUL, stray continuation bytes, overlongs,
 * surrogates, code points above U+10FFFF and truncated sequences fail at
 * the right offset. Also the id rule built on it (base/id.h).
 */
#include <string.h>

#include "testutil.h"

#include "id.h"
#include "utf8.h"

static size_t check(const char *s)
{
    return utf8_check(s, strlen(s));
}

int main(void)
{
    CHECK_EQ_INT(utf8_check(NULL, 0), 0);
    CHECK(utf8_valid("plain ascii", 11));
    CHECK(utf8_valid("caf\xc3\xa9", 5));                  /* U+00E9 */
    CHECK(utf8_valid("\xe2\x82\xac", 3));                 /* U+20AC */
    CHECK(utf8_valid("\xef\xbf\xbf", 3));                 /* U+FFFF */
    CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));             /* U+1F600 */
    CHECK(utf8_valid("\xf4\x8f\xbf\xbf", 4));             /* U+10FFFF */
    CHECK_EQ_INT(utf8_check("c000821\0evil", 12), 7);     /* NUL */
    CHECK_EQ_INT(check("\xff\xfe"), 0);                   /* issue 20's title */
    CHECK_EQ_INT(check("ab\x80"), 2);                     /* stray continuation */
    CHECK_EQ_INT(check("\xc0\xaf"), 0);                   /* overlong '/' */
    CHECK_EQ_INT(check("\xc1\xbf"), 0);
    CHECK_EQ_INT(check("\xe0\x80\xaf"), 0);               /* overlong, 3 bytes */
    CHECK_EQ_INT(check("\xf0\x80\x80\xaf"), 0);           /* overlong, 4 bytes */
    CHECK_EQ_INT(check("x\xed\xa0\x80"), 1);              /* surrogate U+D800 */
    CHECK_EQ_INT(check("\xf4\x90\x80\x80"), 0);           /* U+110000 */
    CHECK_EQ_INT(check("\xf5\x80\x80\x80"), 0);
    CHECK_EQ_INT(check("ok\xe2\x82"), 2);                 /* truncated */
    CHECK_EQ_INT(check("\xe2\x28\xa1"), 0);               /* bad continuation */
    /* ids: printable ids must also be valid UTF-8 */
    CHECK_EQ_INT(id_check("caf\xc3\xa9", 32, ID_PRINTABLE), 5);
    CHECK_EQ_INT(id_check("c\xff", 32, ID_PRINTABLE), 0);
    CHECK_EQ_INT(id_check("c\xff", 32, 0), 2);
    return test_failures ? 1 : 0;
}
