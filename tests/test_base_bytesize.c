/*
 * test_base_bytesize.c - sizes as operators write them (--map-size) and
 * as messages show them.
 */
#include <string.h>

#include "bytesize.h"
#include "testutil.h"

static void check_parse(const char *s, uint64_t want)
{
    uint64_t got = 0;
    CHECK_EQ_INT(bytesize_parse(s, &got), 0);
    CHECK(got == want);
}

int main(void)
{
    uint64_t v;
    char buf[16];

    check_parse("4096", 4096);
    check_parse("1K", 1024);
    check_parse("512M", 512ull << 20);
    check_parse("64G", 64ull << 30);
    check_parse("64g", 64ull << 30);
    check_parse("64GiB", 64ull << 30);
    check_parse("64GB", 64ull << 30);
    check_parse("1.5T", 3ull << 39);
    check_parse("0.5K", 512);
    static const char *const bad[] = { "", "G", "-1G", "0", "1.5", "12X", "1Gx",
                                       "1GiBB", " 1G", "9999999T", "1e3" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ_INT(bytesize_parse(bad[i], &v), -1);
    CHECK_EQ_INT(bytesize_parse(NULL, &v), -1);

    CHECK(strcmp(bytesize_format(512, buf, sizeof buf), "512 B") == 0);
    CHECK(strcmp(bytesize_format(1024, buf, sizeof buf), "1.0 KiB") == 0);
    CHECK(strcmp(bytesize_format(1ull << 30, buf, sizeof buf), "1.0 GiB") == 0);
    CHECK(strcmp(bytesize_format(64ull << 30, buf, sizeof buf), "64.0 GiB") == 0);
    CHECK(strcmp(bytesize_format(3ull << 29, buf, sizeof buf), "1.5 GiB") == 0);
    CHECK(strcmp(bytesize_format(UINT64_MAX, buf, sizeof buf), "16.0 EiB") == 0);
    TEST_MAIN_END();
}
