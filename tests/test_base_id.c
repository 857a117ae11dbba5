/*
 * test_base_id.c - the id rule (base/id.h): bounds, classes, NULL.
 */
#include "testutil.h"

#include "id.h"

int main(void)
{
    CHECK_EQ_INT(id_check("c1", 8, 0), 2);
    CHECK_EQ_INT(id_check("", 8, 0), 0);
    CHECK_EQ_INT(id_check(NULL, 8, 0), 0);
    CHECK_EQ_INT(id_check("12345678", 8, 0), 8);
    CHECK_EQ_INT(id_check("123456789", 8, 0), 0);
    /* a full buffer of max + 1 bytes without its NUL is read no further */
    char buf[4] = { 'a', 'b', 'c', 'd' };
    CHECK_EQ_INT(id_check(buf, 3, 0), 0);
    CHECK_EQ_INT(id_check("tab\there", 16, 0), 8);
    CHECK_EQ_INT(id_check("tab\there", 16, ID_PRINTABLE), 0);
    CHECK_EQ_INT(id_check("del\x7f", 16, ID_PRINTABLE), 0);
    CHECK_EQ_INT(id_check("caf\xc3\xa9 au lait", 32, ID_PRINTABLE), 13);
    CHECK_EQ_INT(id_check("caf\xc3\xa9", 32, ID_TOKEN), 0);
    CHECK_EQ_INT(id_check("home-page_v2.1", 32, ID_TOKEN), 14);
    CHECK_EQ_INT(id_check("a b", 32, ID_TOKEN), 0);
    CHECK_EQ_INT(id_check("a/b", 32, ID_TOKEN | ID_PRINTABLE), 0);
    return test_failures ? 1 : 0;
}
