/*
 * test_model_import.c - the readers and checks of factors trained elsewhere
 * (model_import.h): well-formed Spark part files and .npy arrays read back
 * exactly; every malformed input (bad JSON, rows of another length, NaN,
 * a truncated or Fortran-ordered or big-endian .npy, an id twice, an id the
 * map lacks) is refused with a message naming the file and line or row;
 * and a publish places rows at the store's indices, refuses items the
 * catalog does not list and computes popularity from the events.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "model_import.h"
#include "store.h"
#include "testutil.h"

static char err[1024];

static void put(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void puts_file(const char *dir, const char *name, const char *text)
{
    put(dir, name, text, strlen(text));
}

/* A .npy file: header dict text (padded as numpy does), then data. */
static void put_npy(const char *dir, const char *name, int version, const char *dict,
                    const void *data, size_t len)
{
    unsigned char buf[4096];
    size_t pre = version == 1 ? 10 : 12, hl = strlen(dict) + 1;
    while ((pre + hl) % 64)
        hl++;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)version;
    buf[7] = 0;
    buf[8] = (unsigned char)(hl & 0xff);
    buf[9] = (unsigned char)(hl >> 8);
    if (version != 1)
        buf[10] = buf[11] = 0;
    memset(buf + pre, ' ', hl);
    memcpy(buf + pre, dict, strlen(dict));
    buf[pre + hl - 1] = '\n';
    memcpy(buf + pre + hl, data, len);
    put(dir, name, buf, pre + hl + len);
}

static char *sub(const char *dir, const char *name)
{
    static char path[4][1024];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

static void test_spark_reads_parts_in_order(void)
{
    const char *d = test_tmpdir("mi_spark");
    mi_rows_t r;
    mi_idmap_t map;
    char where[256];

    mkdir(sub(d, "f"), 0700);
    puts_file(sub(d, "f"), "part-00001-a.json", "{\"id\":7,\"features\":[0.5,-1]}\n");
    puts_file(sub(d, "f"), "part-00000-a.json",
              "{\"id\":3,\"features\":[1,2.25]}\n\n{\"features\":[3,4],\"id\":5}\n");
    puts_file(sub(d, "f"), "_SUCCESS", "");
    puts_file(sub(d, "f"), ".part-00000-a.json.crc", "junk");
    CHECK_EQ_INT(mi_read_spark(sub(d, "f"), NULL, &r, err, sizeof err), 0);
    CHECK_EQ_INT(r.n, 3);
    CHECK_EQ_INT(r.dim, 2);
    CHECK_STREQ(r.ids[0], "3");
    CHECK_STREQ(r.ids[1], "5");
    CHECK_STREQ(r.ids[2], "7");
    CHECK(r.v[1] == 2.25f && r.v[2] == 3 && r.v[5] == -1);
    mi_rows_where(&r, 1, where, sizeof where);
    CHECK(strstr(where, "part-00000-a.json: line 3") != NULL);
    CHECK_EQ_INT(mi_validate(&r, "customer factors", err, sizeof err), 0);
    mi_rows_free(&r);

    /* through an id map with a header line, split over part files */
    mkdir(sub(d, "map"), 0700);
    puts_file(sub(d, "map"), "part-00000.csv", "index,item_id\n3,apple\n5,pear\n");
    puts_file(sub(d, "map"), "part-00001.csv", "7,fig\n");
    CHECK_EQ_INT(mi_idmap_read(sub(d, "map"), &map, err, sizeof err), 0);
    CHECK_EQ_INT(mi_read_spark(sub(d, "f"), &map, &r, err, sizeof err), 0);
    CHECK_STREQ(r.ids[0], "apple");
    CHECK_STREQ(r.ids[2], "fig");
    mi_rows_free(&r);
    mi_idmap_free(&map);

    /* an id the map lacks */
    puts_file(sub(d, "map"), "part-00001.csv", "8,fig\n");
    CHECK_EQ_INT(mi_idmap_read(sub(d, "map"), &map, err, sizeof err), 0);
    CHECK_EQ_INT(mi_read_spark(sub(d, "f"), &map, &r, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "part-00001-a.json: line 1: id 7 is not in the id map") != NULL);
    mi_idmap_free(&map);

    /* an integer mapped twice */
    puts_file(sub(d, "map"), "part-00001.csv", "7,fig\n5,plum\n");
    CHECK_EQ_INT(mi_idmap_read(sub(d, "map"), &map, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "part-00001.csv: line 2: id 5 mapped twice (also") != NULL);
    CHECK(strstr(err, "part-00000.csv: line 3") != NULL);
    puts_file(sub(d, "map"), "part-00001.csv", "7\n");
    CHECK_EQ_INT(mi_idmap_read(sub(d, "map"), &map, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "part-00001.csv: line 1: expected INT,SHOP_ID") != NULL);
}

/* One bad line in an otherwise good part file; err must contain want. */
static void spark_refuses(const char *line, const char *want)
{
    const char *d = test_tmpdir("mi_spark_bad");
    char text[512];
    mi_rows_t r;
    snprintf(text, sizeof text, "{\"id\":1,\"features\":[1,2,3]}\n%s\n", line);
    puts_file(d, "part-00000", text);
    err[0] = '\0';
    CHECK_EQ_INT(mi_read_spark(d, NULL, &r, err, sizeof err), -EINVAL);
    if (!strstr(err, want))
        fprintf(stderr, "  for %s: got \"%s\", want \"%s\"\n", line, err, want);
    CHECK(strstr(err, want) != NULL);
    CHECK(strstr(err, "part-00000: line 2") != NULL);
    CHECK_EQ_INT(r.n, 0);
}

static void test_spark_malformed(void)
{
    const char *d;
    mi_rows_t r;

    spark_refuses("{\"id\":2,\"features\":[1,2", "not JSON");
    spark_refuses("[1,2,3]", "expected {\"id\": INT");
    spark_refuses("{\"id\":\"2\",\"features\":[1,2,3]}", "expected {\"id\": INT");
    spark_refuses("{\"id\":2.5,\"features\":[1,2,3]}", "expected {\"id\": INT");
    spark_refuses("{\"id\":2}", "\"features\" must be an array");
    spark_refuses("{\"id\":2,\"features\":[1,2]}", "2 features, expected 3 as in");
    spark_refuses("{\"id\":2,\"features\":[1,2,3,4]}", "4 features, expected 3");
    spark_refuses("{\"id\":2,\"features\":[1,\"NaN\",3]}", "features[1] is not finite");
    spark_refuses("{\"id\":2,\"features\":[1,2,NaN]}", "features[2] is not finite");
    spark_refuses("{\"id\":2,\"features\":[1,2,1e39]}", "features[2] is not finite");
    spark_refuses("{\"id\":2,\"features\":[1,true,3]}", "features[1] is not a number");
    spark_refuses("{\"id\":2,\"features\":[]}", "\"features\" has 0 values");

    /* only bookkeeping files, or no rows */
    d = test_tmpdir("mi_spark_empty");
    puts_file(d, "_SUCCESS", "");
    CHECK_EQ_INT(mi_read_spark(d, NULL, &r, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "no part files") != NULL);
    puts_file(d, "part-00000", "\n");
    CHECK_EQ_INT(mi_read_spark(d, NULL, &r, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "no factor rows") != NULL);
    CHECK(mi_read_spark(sub(d, "missing"), NULL, &r, err, sizeof err) == -ENOENT);
    CHECK(strstr(err, "missing: No such file") != NULL);
}

static void test_validate_duplicates(void)
{
    const char *d = test_tmpdir("mi_dup");
    mi_rows_t r;
    puts_file(d, "part-00000", "{\"id\":4,\"features\":[1]}\n{\"id\":9,\"features\":[1]}\n");
    puts_file(d, "part-00001", "{\"id\":4,\"features\":[2]}\n");
    CHECK_EQ_INT(mi_read_spark(d, NULL, &r, err, sizeof err), 0);
    CHECK_EQ_INT(mi_validate(&r, "item factors", err, sizeof err), -EINVAL);
    CHECK(strstr(err, "item factors: ") == err);
    CHECK(strstr(err, "part-00001: line 1: id \"4\" twice (also ") != NULL);
    CHECK(strstr(err, "part-00000: line 1)") != NULL);
    mi_rows_free(&r);
}

static void test_npy(void)
{
    const char *d = test_tmpdir("mi_npy");
    const float f4[6] = { 1, 2, 3, 4, 5, 6 };
    const double f8[6] = { 1.5, 2, 3, 4, 5, -6 };
    float *v;
    uint32_t rows, cols;

    put_npy(d, "a.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "a.npy"), &v, &rows, &cols, err, sizeof err), 0);
    CHECK(rows == 3 && cols == 2 && v[5] == 6);
    free(v);
    put_npy(d, "b.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
            f8, sizeof f8);
    CHECK_EQ_INT(mi_read_npy(sub(d, "b.npy"), &v, &rows, &cols, err, sizeof err), 0);
    CHECK(rows == 2 && cols == 3 && v[0] == 1.5f && v[5] == -6);
    free(v);

    /* truncated data, trailing data, truncated header */
    put_npy(d, "c.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
            f4, sizeof f4 - 4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "c.npy: truncated: shape (3, 2) needs 24 bytes of data, the file "
                      "has 20") != NULL);
    put_npy(d, "c.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "trailing bytes") != NULL);
    put(d, "c.npy", "\x93NUMPY\x01\x00\x76\x00{'descr'", 17);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "truncated header") != NULL);
    put(d, "c.npy", "PK\x03\x04", 4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "not a NumPy .npy file") != NULL);

    /* refused layouts */
    put_npy(d, "c.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "fortran_order must be False") != NULL);
    put_npy(d, "c.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "dtype must be '<f4' or '<f8'") != NULL);
    put_npy(d, "c.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    put_npy(d, "c.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "shape must be 2-D") != NULL);
    put_npy(d, "c.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }",
            f4, sizeof f4);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "shape must be 2-D") != NULL);
    put_npy(d, "c.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }",
            f4, 0);
    CHECK_EQ_INT(mi_read_npy(sub(d, "c.npy"), &v, &rows, &cols, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "need 1..") != NULL);
}

static void test_implicit(void)
{
    const char *d = test_tmpdir("mi_implicit");
    const float f4[6] = { 1, 2, 3, 4, 5, 6 };
    float nan4[6] = { 1, 2, 3, 4, 5, 6 };
    mi_rows_t r;

    put_npy(d, "user_factors.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f4, sizeof f4);
    puts_file(d, "user_ids.txt", "ann\nbob\r\ncy\n");
    CHECK_EQ_INT(mi_read_implicit(d, "user", &r, err, sizeof err), 0);
    CHECK(r.n == 3 && r.dim == 2 && r.v[4] == 5);
    CHECK_STREQ(r.ids[1], "bob");
    CHECK_EQ_INT(mi_validate(&r, "customer factors", err, sizeof err), 0);
    mi_rows_free(&r);

    puts_file(d, "user_ids.txt", "ann\nbob\n");
    CHECK_EQ_INT(mi_read_implicit(d, "user", &r, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "user_ids.txt: 2 ids for the 3 rows of") != NULL);
    puts_file(d, "user_ids.txt", "ann\n\nbob\ncy\n");
    CHECK_EQ_INT(mi_read_implicit(d, "user", &r, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "user_ids.txt: line 2: empty id") != NULL);
    puts_file(d, "user_ids.txt", "ann\nbob\ncy\ndee\n");
    CHECK_EQ_INT(mi_read_implicit(d, "user", &r, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "line 4: more ids than the 3 factor rows") != NULL);
    CHECK_EQ_INT(mi_read_implicit(d, "item", &r, err, sizeof err), -ENOENT);
    CHECK(strstr(err, "item_factors.npy: No such file") != NULL);

    nan4[3] = NAN;
    put_npy(d, "user_factors.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", nan4, sizeof nan4);
    puts_file(d, "user_ids.txt", "ann\nbob\ncy\n");
    CHECK_EQ_INT(mi_read_implicit(d, "user", &r, err, sizeof err), 0);
    CHECK_EQ_INT(mi_validate(&r, "customer factors", err, sizeof err), -EINVAL);
    CHECK(strstr(err, "user_factors.npy: row 1: value 1 is not finite (id bob)") != NULL);
    mi_rows_free(&r);
}

/* A store with items a, b, c and purchases: x buys a and b, y buys a. */
static store_t *shop(const char *dir)
{
    store_t *s;
    store_item_t it[3] = { { .item_id = "a", .in_stock = 1 }, { .item_id = "b", .in_stock = 1 },
                           { .item_id = "c", .in_stock = 1 } };
    store_event_t ev[3] = {
        { .event_id = "1", .customer_id = "x", .item_id = "a", .type = STORE_EVENT_PURCHASE,
          .time_ms = 1700000000000, .quantity = 1 },
        { .event_id = "2", .customer_id = "x", .item_id = "b", .type = STORE_EVENT_PURCHASE,
          .time_ms = 1700000001000, .quantity = 1 },
        { .event_id = "3", .customer_id = "y", .item_id = "a", .type = STORE_EVENT_PURCHASE,
          .time_ms = 1700000002000, .quantity = 1 },
    };
    uint8_t out[3];
    const char *why[3];
    if (store_open(dir, 64u << 20, &s) != 0)
        exit(1);
    CHECK_EQ_INT(store_upsert_items(s, it, 3, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(store_record_events(s, ev, 3, out, why), 0);
    return s;
}

static void test_publish(void)
{
    const char *d = test_tmpdir("mi_publish");
    store_t *s = shop(sub(d, "store"));
    train_config_t c;
    mi_rows_t users, items;
    mi_report_t rep;
    model_t *m;
    uint32_t xi, bi;

    mkdir(sub(d, "spark"), 0700);
    mkdir(sub(d, "spark/u"), 0700);
    mkdir(sub(d, "spark/i"), 0700);
    puts_file(sub(d, "spark/u"), "part-0",
              "{\"id\":1,\"features\":[1,0]}\n{\"id\":2,\"features\":[0,1]}\n"
              "{\"id\":3,\"features\":[5,5]}\n");
    puts_file(sub(d, "spark/i"), "part-0",
              "{\"id\":10,\"features\":[1,2]}\n{\"id\":11,\"features\":[3,4]}\n");
    puts_file(d, "umap", "1,x\n2,y\n3,ghost\n");
    puts_file(d, "imap", "10,b\n11,a\n");
    train_config_default(&c);
    c.als.reg = 0.25f;
    {
        mi_idmap_t um, im;
        CHECK_EQ_INT(mi_idmap_read(sub(d, "umap"), &um, err, sizeof err), 0);
        CHECK_EQ_INT(mi_idmap_read(sub(d, "imap"), &im, err, sizeof err), 0);
        CHECK_EQ_INT(mi_read_spark(sub(d, "spark/u"), &um, &users, err, sizeof err), 0);
        CHECK_EQ_INT(mi_read_spark(sub(d, "spark/i"), &im, &items, err, sizeof err), 0);
        mi_idmap_free(&um);
        mi_idmap_free(&im);
    }
    CHECK_EQ_INT(mi_publish(s, &users, &items, &c, "spark:/x", &rep, err, sizeof err), 0);
    CHECK_EQ_INT(rep.hdr.version, 1);
    CHECK_EQ_INT(rep.users_imported, 2);
    CHECK_EQ_INT(rep.users_unknown, 1);
    CHECK_EQ_INT(rep.items_imported, 2);
    CHECK_EQ_INT(rep.items_without, 1);
    CHECK_EQ_INT(rep.events, 3);
    CHECK_EQ_INT(model_load(s, 0, NULL, &m), 0);
    CHECK_STREQ(m->hdr.source, "spark:/x");
    CHECK(m->hdr.reg == 0.25f && m->hdr.factors == 2 && m->hdr.n_items == 3);
    CHECK_EQ_INT(store_customer_index(s, "x", &xi), 0);
    CHECK_EQ_INT(store_item_index(s, "b", &bi), 0);
    CHECK(m->user_f[xi * 2] == 1 && m->user_f[xi * 2 + 1] == 0);
    CHECK(m->item_f[bi * 2] == 1 && m->item_f[bi * 2 + 1] == 2);
    /* popularity: a bought by two, b by one, c by none (recency: a second
     * apart, half-life 180 days) */
    CHECK(fabsf(m->item_pop[0] - 2) < 1e-4f && fabsf(m->item_pop[bi] - 1) < 1e-4f &&
          m->item_pop[2] == 0);
    /* Y'Y for fold-in: [1 2; 3 4] rows -> [[10, 14], [14, 20]] */
    CHECK(fabsf(m->gramian[0] - 10) < 1e-5f && fabsf(m->gramian[1] - 14) < 1e-5f &&
          fabsf(m->gramian[3] - 20) < 1e-5f);
    model_unref(m);

    /* customer and item factors of different lengths */
    items.dim = 1;
    CHECK_EQ_INT(mi_publish(s, &users, &items, &c, "", &rep, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "customer factors have 2 values per row, item factors 1") != NULL);
    items.dim = 2;
    /* an item the catalog does not list: nothing published */
    free(items.ids[1]);
    items.ids[1] = strdup("zebra");
    CHECK_EQ_INT(mi_publish(s, &users, &items, &c, "", &rep, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "item factors: ") == err);
    CHECK(strstr(err, "spark/i/part-0: line 2: item \"zebra\" is not in the catalog") != NULL);
    {
        uint64_t cur;
        CHECK_EQ_INT(store_current_model(s, &cur), 0);
        CHECK_EQ_INT(cur, 1);
    }
    mi_rows_free(&users);
    mi_rows_free(&items);
    store_close(s);
}

int main(void)
{
    test_spark_reads_parts_in_order();
    test_spark_malformed();
    test_validate_duplicates();
    test_npy();
    test_implicit();
    test_publish();
    TEST_MAIN_END();
}
