/*
 * test_srv_cli_badrecord.c - the real `patron` binary ($PATRON_BIN, set by
 * ctest) on a store with one damaged record: every command that meets it
 * fails (exit 1) with a message naming the record's table and key
 * (cli_error -> store_strerror), never a bare "Bad message".
 *
 * The store is made by `patron import`; the damaged records are written
 * beside it with the store's generic-table API (the coupon offer log) or
 * raw LMDB puts (the store's own databases, lmdbraw.h), one at a time, and
 * put back before the next case.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmdbraw.h"
#include "store.h"
#include "testcli.h"
#include "testutil.h"

static char dir[512];

/* Three items, two customers with purchases a year ago and recent views. */
static void make_store(void)
{
    char items[600], events[600], args[2048], out[4096];
    store_t *s;
    store_attrs_t at = { 0 };

    snprintf(dir, sizeof dir, "%s", test_tmpdir("cli-badrecord"));
    snprintf(items, sizeof items, "%s/items.csv", dir);
    snprintf(events, sizeof events, "%s/events.csv", dir);
    write_file(items, "item_id,title,category,price,unit_cost,in_stock\n"
                      "i1,One,a,1.5,1,1\ni2,Two,a,2.5,1,1\ni3,Three,b,3.5,1,1\n");
    write_file(events, "event_id,customer_id,item_id,type,timestamp,quantity,unit_price\n"
                       "e1,c1,i1,purchase,2025-01-02T10:00:00Z,1,1.5\n"
                       "e2,c1,i2,view,2025-01-03T10:00:00Z,1,2.5\n"
                       "e3,c2,i2,purchase,2025-01-04T10:00:00Z,1,2.5\n"
                       "e4,c2,i3,purchase,2025-01-05T10:00:00Z,2,3.5\n");
    snprintf(args, sizeof args, "import --data '%s/db' --items '%s' --events '%s'", dir,
             items, events);
    CHECK_EQ_INT(run(args, out, sizeof out), 0);
    strcat(dir, "/db");
    if (store_open(dir, 0, &s) != 0) {
        fprintf(stderr, "cannot open the imported store %s\n", dir);
        exit(1);
    }
    snprintf(at.region, sizeof at.region, "north");
    CHECK_EQ_INT(store_set_attrs(s, "c1", &at), 0);
    store_close(s);
}

/* Runs `patron CMD --data DIR REST` and checks it fails naming the record. */
static void expect_named(const char *cmd, const char *rest, const char *named)
{
    char args[2048], out[8192];
    int st;

    snprintf(args, sizeof args, "%s --data '%s' %s", cmd, dir, rest);
    st = run(args, out, sizeof out);
    if (st != 1 || !strstr(out, named) || strstr(out, "Bad message")) {
        fprintf(stderr, "patron %s: exit %d, wanted 1 and \"%s\"; output:\n%s\n", args, st,
                named, out);
        test_failures++;
    }
}

/* A garbage row in the coupon offer log (generic table "coffer"): the
 * uplift commands read every row. (compact's pruning keeps unreadable rows
 * for a person to look at, so it does not fail on one.) */
static void test_offer_log(void)
{
    static const char *named = "table coffer, key \"req-bad\": not a patron.store.v1.Offer";
    store_t *s;

    if (store_open(dir, 0, &s) != 0)
        exit(1);
    CHECK_EQ_INT(store_table_put(s, "coffer", "req-bad", 7, "garbage", 7), 0);
    store_close(s);
    expect_named("train-uplift", "", named);
    expect_named("eval-uplift", "", named);
    if (store_open(dir, 0, &s) != 0)
        exit(1);
    CHECK_EQ_INT(store_table_del(s, "coffer", "req-bad", 7), 0);
    store_close(s);
}

/* Customer c1's attributes (the store's own "attrs" database). */
static void test_attributes(void)
{
    char saved[256];
    long n = raw_read(dir, "attrs", "c1", 2, saved, sizeof saved);

    CHECK(n > 0);
    CHECK_EQ_INT(raw_write(dir, "attrs", "c1", 2, "\xff\xff\xff", 3), 0);
    expect_named("segments", "", "table attrs, key \"c1\"");
    CHECK_EQ_INT(raw_write(dir, "attrs", "c1", 2, saved, (size_t)(n > 0 ? n : 0)), 0);
}

/* Item i1 (index 0 in the store's own "items" database): segments loads
 * the catalog. */
static void test_item(void)
{
    static const char *named = "table items, key \"\\x00\\x00\\x00\\x00\"";
    static const unsigned char key[4] = { 0, 0, 0, 0 };
    char saved[512];
    long n = raw_read(dir, "items", key, 4, saved, sizeof saved);

    CHECK(n > 0);
    CHECK_EQ_INT(raw_write(dir, "items", key, 4, "\xff\xff\xff", 3), 0);
    expect_named("segments", "", named);
    CHECK_EQ_INT(raw_write(dir, "items", key, 4, saved, (size_t)(n > 0 ? n : 0)), 0);
}

int main(void)
{
    char out[8192];

    test_patron_bin();
    make_store();
    test_offer_log();
    test_attributes();
    test_item();
    /* Repaired: the same commands succeed again. */
    {
        char args[1024];
        snprintf(args, sizeof args, "segments --data '%s'", dir);
        CHECK_EQ_INT(run(args, out, sizeof out), 0);
        snprintf(args, sizeof args, "compact --data '%s' --offers-older-than-days 1", dir);
        CHECK_EQ_INT(run(args, out, sizeof out), 0);
    }
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
