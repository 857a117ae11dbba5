/*
 * test_shown.c - recently shown items: most recent first, no duplicates,
 * the time window, bounded history per customer, and a customer whose slot
 * another customer took over starts empty rather than inheriting items;
 * shown_forget (erasure) empties the customer's slot and no other.
 */
#include "shown.h"
#include "testutil.h"

int main(void)
{
    shown_t *s = shown_new(1); /* one slot: every customer shares it */
    uint32_t a[3] = { 7, 8, 9 }, b[2] = { 8, 10 }, out[SHOWN_PER_CUSTOMER], many[100];
    size_t n;

    if (!s)
        return 1;
    CHECK_EQ_INT(shown_since(s, "alice", 0, out, 10), 0);
    shown_record(s, "alice", a, 3, 1000);
    shown_record(s, "alice", b, 2, 2000);
    n = shown_since(s, "alice", 0, out, 10);
    CHECK_EQ_INT(n, 4);
    CHECK(out[0] == 10 && out[1] == 8 && out[2] == 9 && out[3] == 7);
    n = shown_since(s, "alice", 1500, out, 10); /* only the second showing */
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(shown_since(s, "alice", 0, out, 2), 2); /* cap respected */
    shown_record(s, "bob", a, 1, 3000);                  /* takes the slot */
    CHECK_EQ_INT(shown_since(s, "alice", 0, out, 10), 0);
    CHECK_EQ_INT(shown_since(s, "bob", 0, out, 10), 1);
    for (uint32_t i = 0; i < 100; i++)
        many[i] = i;
    shown_record(s, "bob", many, 100, 4000);
    n = shown_since(s, "bob", 0, out, SHOWN_PER_CUSTOMER);
    CHECK_EQ_INT(n, SHOWN_PER_CUSTOMER); /* the last 64 only */
    CHECK_EQ_INT(out[0], 99);
    CHECK_EQ_INT(shown_forget(s, "alice"), 0); /* bob holds the slot */
    CHECK_EQ_INT(shown_since(s, "bob", 0, out, 10), 10);
    CHECK_EQ_INT(shown_forget(s, "bob"), 1);
    CHECK_EQ_INT(shown_since(s, "bob", 0, out, 10), 0);
    CHECK_EQ_INT(shown_forget(s, "bob"), 0);
    shown_free(s);
    TEST_MAIN_END();
}
