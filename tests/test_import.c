/*
 * test_import.c - the CSV reader, the field parsers and the importer.
 *
 * Covers: RFC 4180 edge cases and line numbers (the importer's error reports
 * depend on them), strict number and time parsing with known instants,
 * patron items/events import with bad rows (exact counters, reported lines,
 * what the store holds) and idempotent re-import, an Online Retail fixture
 * with a cancellation, missing CustomerIDs and malformed rows, and the shop
 * simulator: same seed -> identical files, and its output imports cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "csv.h"
#include "importer.h"
#include "store.h"
#include "testutil.h"

extern char **environ;

/* ---- helpers -------------------------------------------------------------- */

static csv_reader_t *reader_over(const char *text, FILE **f)
{
    *f = fmemopen((void *)text, strlen(text), "r");
    if (!*f)
        return NULL;
    return csv_reader_new(*f);
}

static void write_file(const char *dir, const char *name, const char *text,
                       char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

/* Collects problem reports: their lines (in report order) and messages. */
#define MAX_PROBLEMS 64
typedef struct problems {
    size_t n;
    uint64_t line[MAX_PROBLEMS];
    char msg[MAX_PROBLEMS][160];
} problems_t;

static void on_problem(void *ctx, uint64_t line, const char *msg)
{
    problems_t *p = ctx;
    if (p->n < MAX_PROBLEMS) {
        p->line[p->n] = line;
        snprintf(p->msg[p->n], sizeof p->msg[0], "%s", msg);
    }
    p->n++;
}

/* The message reported for `line`, or NULL. */
static const char *problem_at(const problems_t *p, uint64_t line)
{
    for (size_t i = 0; i < p->n && i < MAX_PROBLEMS; i++)
        if (p->line[i] == line)
            return p->msg[i];
    return NULL;
}

/* Events of one customer, as store_customer_events delivers them. */
#define MAX_EVENTS 32
typedef struct events {
    size_t n;
    store_event_rec_t ev[MAX_EVENTS];
} events_t;

static int collect_event(void *ctx, const store_event_rec_t *ev)
{
    events_t *e = ctx;
    if (e->n < MAX_EVENTS)
        e->ev[e->n] = *ev;
    e->n++;
    return 0;
}

static int count_event(void *ctx, const store_event_rec_t *ev)
{
    (void)ev;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void customer_events(store_t *s, const char *customer, events_t *out)
{
    uint32_t idx;
    memset(out, 0, sizeof *out);
    int rc = store_customer_index(s, customer, &idx);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0)
        CHECK_EQ_INT(store_customer_events(s, idx, collect_event, out), 0);
}

typedef struct item_probe {
    const char *id;
    char title[128];
    double price;
    int in_stock, found;
} item_probe_t;

static int probe_item(void *ctx, uint32_t idx, const store_item_t *it)
{
    item_probe_t *p = ctx;
    (void)idx;
    if (strcmp(it->item_id, p->id) == 0) {
        snprintf(p->title, sizeof p->title, "%s", it->title ? it->title : "");
        p->price = it->price;
        p->in_stock = it->in_stock;
        p->found = 1;
    }
    return 0;
}

static item_probe_t find_item(store_t *s, const char *id)
{
    item_probe_t p = {.id = id};
    CHECK_EQ_INT(store_scan_items(s, probe_item, &p), 0);
    CHECK(p.found);
    return p;
}

/* ---- CSV reader ----------------------------------------------------------- */

/* Reads the next record and checks its line and fields ("|"-joined). */
static void expect_record(csv_reader_t *r, uint64_t line, const char *joined)
{
    char **f, buf[256] = "";
    size_t n;
    int rc = csv_next(r, &f, &n);
    CHECK_EQ_INT(rc, 1);
    if (rc != 1)
        return;
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(buf, "|");
        strncat(buf, f[i], sizeof buf - strlen(buf) - 2);
    }
    CHECK_STREQ(buf, joined);
    CHECK_EQ_INT(csv_line(r), line);
}

static void expect_end(csv_reader_t *r)
{
    char **f;
    size_t n;
    CHECK_EQ_INT(csv_next(r, &f, &n), 0);
    CHECK_EQ_INT(csv_next(r, &f, &n), 0); /* and stays at the end */
}

static void test_csv_case(const char *text, const char *const *records,
                          const uint64_t *lines, size_t n)
{
    FILE *f;
    csv_reader_t *r = reader_over(text, &f);
    CHECK(r != NULL);
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        expect_record(r, lines[i], records[i]);
    expect_end(r);
    csv_reader_free(r);
    fclose(f);
}

static void test_csv_basic(void)
{
    /* empty fields, trailing comma, no final newline */
    test_csv_case("a,b,c\n1,,3\n,\nx", (const char *[]){"a|b|c", "1||3", "|", "x"},
                  (uint64_t[]){1, 2, 3, 4}, 4);
    /* quoting: embedded comma, doubled quote, empty quoted field */
    test_csv_case("\"x,y\",\"he said \"\"hi\"\"\",\"\",z\n",
                  (const char *[]){"x,y|he said \"hi\"||z"}, (uint64_t[]){1}, 1);
    /* newline inside quotes: the next record's line accounts for it */
    test_csv_case("\"line1\nline2\",b\nnext,row\n",
                  (const char *[]){"line1\nline2|b", "next|row"}, (uint64_t[]){1, 3}, 2);
    /* CRLF (kept inside quotes), lone CR, blank lines skipped but counted */
    test_csv_case("a,b\r\n\"q\r\nq\",d\r\n\r\n\ne,f\rg\n",
                  (const char *[]){"a|b", "q\r\nq|d", "e|f", "g"},
                  (uint64_t[]){1, 2, 6, 7}, 4);
    /* UTF-8 byte order mark is not part of the first field */
    test_csv_case("\xEF\xBB\xBFitem_id,x\n", (const char *[]){"item_id|x"},
                  (uint64_t[]){1}, 1);
    /* a quote inside an unquoted field is literal */
    test_csv_case("12\" stand,b\n", (const char *[]){"12\" stand|b"}, (uint64_t[]){1}, 1);
}

static void test_csv_errors(void)
{
    char **f;
    size_t n;
    FILE *fp;

    /* unterminated quote: error at the line where the record started */
    csv_reader_t *r = reader_over("ok,1\nx,2\nbad,\"open\nmore\nstill\n", &fp);
    CHECK(r != NULL);
    expect_record(r, 1, "ok|1");
    expect_record(r, 2, "x|2");
    CHECK_EQ_INT(csv_next(r, &f, &n), -EBADMSG);
    CHECK_EQ_INT(csv_line(r), 3);
    CHECK(strstr(csv_errmsg(r), "unterminated") != NULL);
    expect_end(r);
    csv_reader_free(r);
    fclose(fp);

    /* text after a closing quote: error, then reading resumes on the next line */
    r = reader_over("\"a\"x,b\nc,d\n", &fp);
    CHECK_EQ_INT(csv_next(r, &f, &n), -EBADMSG);
    CHECK_EQ_INT(csv_line(r), 1);
    CHECK(strstr(csv_errmsg(r), "closing quote") != NULL);
    expect_record(r, 2, "c|d");
    expect_end(r);
    csv_reader_free(r);
    fclose(fp);

    /* no line-length limit: a 200 kB quoted field with a comma in it */
    size_t big = 200000;
    char *text = malloc(big + 16);
    text[0] = '"';
    memset(text + 1, 'z', big);
    text[1 + big / 2] = ',';
    strcpy(text + 1 + big, "\",end\n");
    r = reader_over(text, &fp);
    CHECK_EQ_INT(csv_next(r, &f, &n), 1);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(strlen(f[0]), big);
    CHECK(f[0][big / 2] == ',');
    CHECK_STREQ(f[1], "end");
    csv_reader_free(r);
    fclose(fp);
    free(text);
}

/* ---- field parsers -------------------------------------------------------- */

static void test_parse_numbers(void)
{
    double d = 7;
    int64_t i = 7;
    CHECK(csv_parse_double("1.5", &d) == 0 && d == 1.5);
    CHECK(csv_parse_double("-2.25", &d) == 0 && d == -2.25);
    CHECK(csv_parse_double("3e2", &d) == 0 && d == 300);
    const char *bad_d[] = {"", " 1", "1 ", "1x", "abc", "inf", "nan", "1e400", "0x10", "1,5"};
    for (size_t k = 0; k < sizeof bad_d / sizeof *bad_d; k++) {
        d = 7;
        CHECK(csv_parse_double(bad_d[k], &d) == -EINVAL && d == 7);
    }
    CHECK(csv_parse_i64("42", &i) == 0 && i == 42);
    CHECK(csv_parse_i64("-7", &i) == 0 && i == -7);
    CHECK(csv_parse_i64("9223372036854775807", &i) == 0 && i == INT64_MAX);
    const char *bad_i[] = {"", "9223372036854775808", "1.0", "12a", " 3", "+", "-"};
    for (size_t k = 0; k < sizeof bad_i / sizeof *bad_i; k++) {
        i = 7;
        CHECK(csv_parse_i64(bad_i[k], &i) == -EINVAL && i == 7);
    }
}

static void expect_time(const char *s, int64_t ms)
{
    int64_t got = -1;
    int rc = csv_parse_time_ms(s, &got);
    if (rc != 0 || got != ms)
        fprintf(stderr, "time \"%s\": rc %d, got %lld, want %lld\n", s, rc,
                (long long)got, (long long)ms);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(got, ms);
}

static void test_parse_time(void)
{
    expect_time("0", 0);
    expect_time("1740824531", 1740824531000LL);
    expect_time("1970-01-01T00:00:00Z", 0);
    expect_time("2025-03-01T10:22:11Z", 1740824531000LL);
    expect_time("2025-03-01T10:22:11", 1740824531000LL);
    expect_time("2025-03-01 10:22:11", 1740824531000LL);
    expect_time("2025-03-01T10:22:11.250Z", 1740824531250LL);
    expect_time("2025-03-01T11:22:11+01:00", 1740824531000LL);
    expect_time("2000-02-29T12:00:00Z", 951825600000LL);   /* 400-year leap */
    expect_time("2024-02-29 23:59:59", 1709251199000LL);
    expect_time("2038-01-19T03:14:08Z", 2147483648000LL);  /* past int32 */
    expect_time("9999-12-31T23:59:59Z", 253402300799000LL);
    expect_time("12/1/2010 8:26", 1291191960000LL);       /* Online Retail */
    expect_time("12/01/2010 08:26", 1291191960000LL);
    expect_time("2/29/2012 14:05", 1330524300000LL);
    expect_time("12/1/2010 8:26:00", 1291191960000LL);

    const char *bad[] = {
        "", "abc", "-5", " 1700000000", "1700000000 ", "17e8",
        "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", /* not leap years */
        "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z",
        "2024-01-01", "2024-01-01T10:00", "2024-1-01T00:00:00Z",
        "2024-01-01T00:00:00ZZ", "2024-01-01T00:00:00+1", "2024-01-01X00:00:00",
        "1969-12-31T23:59:59Z", "13/1/2010 8:26", "12/32/2010 8:26",
        "2/30/2012 8:26", "12/1/10 8:26", "12/1/2010 24:00", "12/1/2010 8:6",
        "12/1/2010", "12/1/2010 8:26 PM",
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int64_t got = 7;
        int rc = csv_parse_time_ms(bad[k], &got);
        if (rc != -EINVAL)
            fprintf(stderr, "time \"%s\" accepted as %lld\n", bad[k], (long long)got);
        CHECK(rc == -EINVAL && got == 7);
    }
}

/* ---- patron import -------------------------------------------------------- */

static const char patron_items[] =
    "item_id,title,category,price,unit_cost,in_stock\n"
    "i1,\"Mug, blue\",Kitchen,4.50,2.00,1\n"
    "i2,Lamp,Lighting,20,12,0\n"
    "i3,Broken,Kitchen,abc,1,1\n"                    /* line 4: bad price */
    "i4,\"Cake stand 8\"\"\",Kitchen,12.99,6,1\n"
    "i5,Negative,Kitchen,-1,0,1\n";                  /* line 6: store_item_invalid */

static const char patron_events[] =
    "event_id,customer_id,item_id,type,timestamp,quantity,unit_price\r\n"
    "e1,c1,i1,view,2025-03-01T10:22:11Z,1,4.50\r\n"
    "e2,c1,i1,purchase,2025-03-01T10:25:00Z,2,4.50\r\n"
    "e3,c2,i2,cart,1740824531,,20\r\n"               /* empty quantity = 1 */
    "e4,c2,i9,view,2025-03-01T11:00:00Z,1,20\r\n"    /* line 5: unknown item */
    "e5,c2,i2,teleport,2025-03-01T11:00:00Z,1,20\r\n" /* line 6: bad type */
    "e6,c1,i1,refund,\"2025-03-02 09:00:00\",1,4.50\r\n"
    "e7,c3,i1,view,2025-03-03T00:00:00Z,-3,4.5\r\n"  /* line 8: store rejects */
    "e8,c3,i1,view,2025-03-03T00:00:00Z,1\r\n"       /* line 9: 6 fields */
    "e9,c3,i4,view,2025-02-30T00:00:00Z,1,1\r\n";    /* line 10: bad date */

/* A fresh store in DIR/store (map size map_bytes); NULL after a failed
 * check. */
static store_t *open_store_in(const char *dir, size_t map_bytes)
{
    char path[700];
    store_t *s = NULL;
    snprintf(path, sizeof path, "%s/store", dir);
    CHECK_EQ_INT(store_open(path, map_bytes, &s), 0);
    return s;
}

/* Every counter of got equals want's (fields not named in want are 0). */
#define CHECK_REPORT(got, ...) check_report(__LINE__, (got), (import_report_t){ __VA_ARGS__ })

static void check_report(int line, const import_report_t *got, import_report_t want)
{
    static const struct {
        const char *name;
        size_t off;
    } f[] = {
        { "rows", offsetof(import_report_t, rows) },
        { "items_inserted", offsetof(import_report_t, items_inserted) },
        { "items_updated", offsetof(import_report_t, items_updated) },
        { "events_accepted", offsetof(import_report_t, events_accepted) },
        { "events_duplicate", offsetof(import_report_t, events_duplicate) },
        { "events_rejected", offsetof(import_report_t, events_rejected) },
        { "malformed", offsetof(import_report_t, malformed) },
        { "missing_customer", offsetof(import_report_t, missing_customer) },
        { "cancellations", offsetof(import_report_t, cancellations) },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        uint64_t g, w;
        memcpy(&g, (const char *)got + f[i].off, sizeof g);
        memcpy(&w, (const char *)&want + f[i].off, sizeof w);
        if (g != w) {
            fprintf(stderr, "%s:%d: report.%s is %llu, want %llu\n", __FILE__, line,
                    f[i].name, (unsigned long long)g, (unsigned long long)w);
            test_failures++;
        }
    }
}

static void test_patron_import(void)
{
    const char *dir = test_tmpdir("import");
    char items_path[600], events_path[600];
    write_file(dir, "items.csv", patron_items, items_path, sizeof items_path);
    write_file(dir, "events.csv", patron_events, events_path, sizeof events_path);
    store_t *s = open_store_in(dir, 1 << 26);
    if (!s)
        return;

    import_report_t rep = {0};
    problems_t pr = {0};
    CHECK_EQ_INT(import_items_csv(s, items_path, &rep, on_problem, &pr), 0);
    CHECK_REPORT(&rep, .rows = 5, .items_inserted = 3, .malformed = 2);
    CHECK_EQ_INT(pr.n, 2);
    CHECK(problem_at(&pr, 4) && strstr(problem_at(&pr, 4), "price"));
    CHECK(problem_at(&pr, 6) && strstr(problem_at(&pr, 6), "price"));
    CHECK_STREQ(find_item(s, "i1").title, "Mug, blue");
    CHECK_STREQ(find_item(s, "i4").title, "Cake stand 8\"");
    CHECK_EQ_INT(find_item(s, "i2").in_stock, 0);
    CHECK(find_item(s, "i4").price == 12.99);
    uint32_t idx;
    CHECK_EQ_INT(store_item_index(s, "i3", &idx), -ENOENT);

    memset(&rep, 0, sizeof rep);
    memset(&pr, 0, sizeof pr);
    CHECK_EQ_INT(import_events_csv(s, events_path, IMPORT_PATRON, &rep, on_problem, &pr), 0);
    CHECK_REPORT(&rep, .rows = 9, .events_accepted = 4, .events_rejected = 2, .malformed = 3);
    CHECK_EQ_INT(pr.n, 5);
    CHECK(problem_at(&pr, 5) && strstr(problem_at(&pr, 5), "item_id"));
    CHECK(problem_at(&pr, 6) && strstr(problem_at(&pr, 6), "type"));
    CHECK(problem_at(&pr, 8) && strstr(problem_at(&pr, 8), "quantity"));
    CHECK(problem_at(&pr, 9) && strstr(problem_at(&pr, 9), "fields"));
    CHECK(problem_at(&pr, 10) && strstr(problem_at(&pr, 10), "timestamp"));

    events_t c1, c2;
    customer_events(s, "c1", &c1);
    CHECK_EQ_INT(c1.n, 3);
    if (c1.n == 3) {
        CHECK_EQ_INT(c1.ev[0].type, STORE_EVENT_VIEW);
        CHECK_EQ_INT(c1.ev[0].time_ms, 1740824531000LL);
        CHECK_EQ_INT(c1.ev[1].type, STORE_EVENT_PURCHASE);
        CHECK_EQ_INT(c1.ev[1].quantity, 2);
        CHECK(c1.ev[1].unit_price == 4.5);
        CHECK_EQ_INT(c1.ev[2].type, STORE_EVENT_REFUND);
        CHECK_EQ_INT(c1.ev[2].time_ms, 1740906000000LL);
    }
    customer_events(s, "c2", &c2);
    CHECK_EQ_INT(c2.n, 1);
    CHECK_EQ_INT(c2.ev[0].type, STORE_EVENT_CART);
    CHECK_EQ_INT(c2.ev[0].quantity, 1);
    CHECK_EQ_INT(c2.ev[0].time_ms, 1740824531000LL);
    CHECK_EQ_INT(store_customer_index(s, "c3", &idx), -ENOENT); /* all its rows bad */

    /* re-import: nothing applied twice, the same rows still reported */
    memset(&rep, 0, sizeof rep);
    memset(&pr, 0, sizeof pr);
    CHECK_EQ_INT(import_items_csv(s, items_path, &rep, NULL, NULL), 0);
    CHECK_REPORT(&rep, .rows = 5, .items_updated = 3, .malformed = 2);
    memset(&rep, 0, sizeof rep);
    CHECK_EQ_INT(import_events_csv(s, events_path, IMPORT_PATRON, &rep, on_problem, &pr), 0);
    CHECK_REPORT(&rep, .rows = 9, .events_duplicate = 4, .events_rejected = 2, .malformed = 3);
    CHECK_EQ_INT(pr.n, 5);
    uint64_t total = 0;
    CHECK_EQ_INT(store_scan_events(s, count_event, &total), 0);
    CHECK_EQ_INT(total, 4);

    /* file and header errors */
    char path[700];
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    CHECK_EQ_INT(import_items_csv(s, path, &rep, NULL, NULL), -ENOENT);
    memset(&pr, 0, sizeof pr);
    write_file(dir, "nohdr.csv", "item_id,title\ni1,x\n", path, sizeof path);
    CHECK_EQ_INT(import_items_csv(s, path, &rep, on_problem, &pr), -EINVAL);
    CHECK(problem_at(&pr, 1) && strstr(problem_at(&pr, 1), "price"));
    write_file(dir, "empty.csv", "", path, sizeof path);
    memset(&rep, 0, sizeof rep);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_PATRON, &rep, NULL, NULL), 0);
    CHECK_EQ_INT(rep.rows, 0);
    store_close(s);
}

/* ---- online retail -------------------------------------------------------- */

static const char retail_csv[] =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
    "536366,22633,\"HAND WARMER, UNION JACK\",6,12/1/2010 8:28,1.85,17850,United Kingdom\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,,United Kingdom\n"
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,12/1/2010 9:41,2.55,17850.0,United Kingdom\n"
    "536380,22633,HAND WARMER,lots,12/1/2010 9:45,1.85,13047,United Kingdom\n"
    "536381,22633,HAND WARMER,1,12/1/2010 9:50,1.85,13047\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
    "536382,84879,damaged,-10,12/2/2010 10:00,0,,United Kingdom\n";

static void test_online_retail_import(void)
{
    const char *dir = test_tmpdir("retail");
    char path[600];
    write_file(dir, "online_retail.csv", retail_csv, path, sizeof path);
    store_t *s = open_store_in(dir, 1 << 26);
    if (!s)
        return;

    import_report_t rep = {0};
    problems_t pr = {0};
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_ONLINE_RETAIL, &rep, on_problem, &pr), 0);
    CHECK_REPORT(&rep, .rows = 9, .items_inserted = 4, .events_accepted = 5, .malformed = 2,
                 .missing_customer = 2, .cancellations = 1);
    CHECK_EQ_INT(pr.n, 4);
    CHECK(problem_at(&pr, 5) && strstr(problem_at(&pr, 5), "CustomerID"));
    CHECK(problem_at(&pr, 7) && strstr(problem_at(&pr, 7), "Quantity"));
    CHECK(problem_at(&pr, 8) && strstr(problem_at(&pr, 8), "fields"));
    CHECK(problem_at(&pr, 10) && strstr(problem_at(&pr, 10), "CustomerID"));

    /* items: the priced row's description wins over the "damaged" adjustment,
     * and a malformed row (line 7) does not rename the item */
    CHECK_STREQ(find_item(s, "22633").title, "HAND WARMER, UNION JACK");
    CHECK_STREQ(find_item(s, "84879").title, "ASSORTED COLOUR BIRD ORNAMENT");
    CHECK(find_item(s, "84879").price == 1.69);
    CHECK(find_item(s, "71053").price == 3.39);

    /* "17850.0" and "17850" are one customer */
    uint32_t idx;
    CHECK_EQ_INT(store_customer_index(s, "17850.0", &idx), -ENOENT);
    CHECK_EQ_INT(store_customer_index(s, "13047", &idx), -ENOENT);
    events_t c;
    customer_events(s, "17850", &c);
    CHECK_EQ_INT(c.n, 5);
    int purchases = 0, refunds = 0, qty_sum = 0;
    for (size_t k = 0; k < c.n && k < MAX_EVENTS; k++) {
        purchases += c.ev[k].type == STORE_EVENT_PURCHASE;
        if (c.ev[k].type == STORE_EVENT_REFUND) {
            refunds++;
            CHECK_EQ_INT(c.ev[k].quantity, 2); /* positive, from -2 */
            CHECK_EQ_INT(c.ev[k].time_ms, 1291196460000LL); /* 12/1/2010 9:41 */
            CHECK(c.ev[k].unit_price == 2.55);
        } else {
            qty_sum += c.ev[k].quantity;
        }
    }
    CHECK_EQ_INT(purchases, 4);
    CHECK_EQ_INT(refunds, 1);
    CHECK_EQ_INT(qty_sum, 6 + 6 + 6 + 1);
    CHECK_EQ_INT(c.ev[0].time_ms, 1291191960000LL);
    CHECK_EQ_INT(c.ev[c.n - 1].type, STORE_EVENT_REFUND); /* latest */

    /* re-import: all duplicates (the two 536365/85123A rows have distinct ids) */
    memset(&rep, 0, sizeof rep);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_ONLINE_RETAIL, &rep, NULL, NULL), 0);
    CHECK_REPORT(&rep, .rows = 9, .items_updated = 4, .events_duplicate = 5, .malformed = 2,
                 .missing_customer = 2, .cancellations = 1);

    /* the Online Retail II header spelling works too */
    write_file(dir, "retail2.csv",
               "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
               "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n",
               path, sizeof path);
    memset(&rep, 0, sizeof rep);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_ONLINE_RETAIL, &rep, NULL, NULL), 0);
    CHECK_EQ_INT(rep.events_accepted, 1);
    customer_events(s, "13085", &c);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.ev[0].time_ms, 1259653500000LL);
    store_close(s);
}

/* ---- the shop simulator --------------------------------------------------- */

/* bench/shopsim next to this test's build directory, or NULL. */
static const char *shopsim_path(char *buf, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return NULL;
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    snprintf(buf, n, "%s/../bench/shopsim", self);
    return access(buf, X_OK) == 0 ? buf : NULL;
}

static int run_shopsim(const char *exe, const char *out, const char *seed)
{
    char log[700];
    snprintf(log, sizeof log, "%s.log", out);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *argv[] = {(char *)exe, "--out", (char *)out, "--customers", "300", "--items",
                    "80", "--days", "120", "--seed", (char *)seed, NULL};
    pid_t pid;
    int status = -1;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* 1 if the two files have identical bytes. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa), cb = getc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static uint64_t count_lines_starting(const char *path, char first)
{
    FILE *f = fopen(path, "rb");
    uint64_t n = 0;
    int c, at_start = 1;
    if (!f)
        return 0;
    while ((c = getc(f)) != EOF) {
        n += at_start && (first == 0 || c == first);
        at_start = c == '\n';
    }
    fclose(f);
    return n;
}

static uint64_t count_lines_containing(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    char line[512];
    uint64_t n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void test_shopsim(void)
{
    char exe[PATH_MAX + 32];
    if (!shopsim_path(exe, sizeof exe)) {
        printf("test_shopsim: skipped (bench/shopsim not built)\n");
        return;
    }
    const char *dir = test_tmpdir("shopsim");
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    CHECK_EQ_INT(run_shopsim(exe, a, "7"), 0);
    CHECK_EQ_INT(run_shopsim(exe, b, "7"), 0);
    CHECK_EQ_INT(run_shopsim(exe, c, "8"), 0);
    const char *files[] = {"items.csv", "events.csv", "online_retail.csv",
                           "programme_events.csv"};
    for (int k = 0; k < 4; k++) {
        char pa[700], pb[700], pc[700];
        snprintf(pa, sizeof pa, "%s/%s", a, files[k]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[k]);
        snprintf(pc, sizeof pc, "%s/%s", c, files[k]);
        CHECK(same_file(pa, pb));
        CHECK(!same_file(pa, pc));
    }

    /* its output imports cleanly: every row accepted, only the retail file's
     * deliberate gaps (guest invoices, stock adjustments) reported */
    char path[700];
    store_t *s = open_store_in(dir, 1 << 27);
    if (!s)
        return;
    import_report_t rep = {0};
    snprintf(path, sizeof path, "%s/items.csv", a);
    CHECK_EQ_INT(import_items_csv(s, path, &rep, NULL, NULL), 0);
    CHECK_EQ_INT(rep.items_inserted, 80);
    CHECK_EQ_INT(rep.malformed, 0);
    memset(&rep, 0, sizeof rep);
    snprintf(path, sizeof path, "%s/events.csv", a);
    uint64_t lines = count_lines_starting(path, 0);
    CHECK(lines > 1000);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_PATRON, &rep, NULL, NULL), 0);
    CHECK_EQ_INT(rep.rows, lines - 1);
    CHECK_EQ_INT(rep.events_accepted, lines - 1);
    CHECK_EQ_INT(rep.events_rejected + rep.malformed + rep.events_duplicate, 0);

    /* the programme events (signup, check_in, review, share) too; every
     * customer who shopped signed up once */
    memset(&rep, 0, sizeof rep);
    snprintf(path, sizeof path, "%s/programme_events.csv", a);
    lines = count_lines_starting(path, 0);
    CHECK(lines > 100);
    uint32_t shoppers = 0, customers = 0, items = 0;
    CHECK_EQ_INT(store_counts(s, &shoppers, &items), 0);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_PATRON, &rep, NULL, NULL), 0);
    CHECK_EQ_INT(rep.events_accepted, lines - 1);
    CHECK_EQ_INT(rep.events_rejected + rep.malformed + rep.events_duplicate, 0);
    CHECK_EQ_INT(store_counts(s, &customers, &items), 0);
    CHECK_EQ_INT(customers, shoppers);
    CHECK_EQ_INT(count_lines_containing(path, ",signup,"), shoppers);

    memset(&rep, 0, sizeof rep);
    problems_t pr = {0};
    snprintf(path, sizeof path, "%s/online_retail.csv", a);
    lines = count_lines_starting(path, 0);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_ONLINE_RETAIL, &rep, on_problem, &pr), 0);
    CHECK_EQ_INT(rep.rows, lines - 1);
    CHECK_EQ_INT(rep.malformed + rep.events_rejected, 0);
    CHECK(rep.missing_customer > 0);
    CHECK_EQ_INT(rep.events_accepted + rep.missing_customer, lines - 1);
    CHECK_EQ_INT(rep.cancellations, count_lines_starting(path, 'C'));
    CHECK_EQ_INT(pr.n, rep.missing_customer);
    store_close(s);
}

/* Imports apply the API's event-time window (store_event_time_invalid):
 * before 2000-01-01 or beyond now + STORE_DEFAULT_EVENT_SKEW_MS is skipped,
 * counted as rejected and reported with its line; the edge inside is kept. */
static void test_event_time_window(void)
{
    const char *dir = test_tmpdir("import-window");
    char text[1024], path[700];
    time_t now = time(NULL);
    long long skew_s = STORE_DEFAULT_EVENT_SKEW_MS / 1000;
    snprintf(text, sizeof text,
             "event_id,customer_id,item_id,type,timestamp,quantity,unit_price\n"
             "e1,c1,i1,view,1740824531,,\n"              /* 2025: kept */
             "e2,c1,i1,view,946684799,,\n"               /* 1999-12-31T23:59:59Z */
             "e3,c1,i1,view,%lld,,\n"                    /* 2 days ahead */
             "e4,c1,i1,view,%lld,,\n"                    /* an hour ahead: inside */
             "e5,c1,i1,purchase,2200-01-01T00:00:00Z,1,5\n", /* the poisoned year */
             (long long)now + 2 * skew_s, (long long)now + 3600);
    write_file(dir, "events.csv", text, path, sizeof path);
    store_t *s = open_store_in(dir, 1 << 26);
    if (!s)
        return;
    import_report_t rep = {0};
    problems_t pr = {0};
    char items[700];
    write_file(dir, "items.csv", patron_items, items, sizeof items);
    CHECK_EQ_INT(import_items_csv(s, items, &rep, NULL, NULL), 0);
    memset(&rep, 0, sizeof rep);
    CHECK_EQ_INT(import_events_csv(s, path, IMPORT_PATRON, &rep, on_problem, &pr), 0);
    CHECK_REPORT(&rep, .rows = 5, .events_accepted = 2, .events_rejected = 3);
    CHECK(problem_at(&pr, 3) && strstr(problem_at(&pr, 3), "before 2000-01-01"));
    CHECK(problem_at(&pr, 4) && strstr(problem_at(&pr, 4), "future"));
    CHECK(problem_at(&pr, 6) && strstr(problem_at(&pr, 6), "future"));
    events_t c1;
    customer_events(s, "c1", &c1);
    CHECK_EQ_INT(c1.n, 2);
    store_close(s);
}

/* What csv_write_field writes, csv_next reads back unchanged; plain fields
 * stay unquoted. */
static void test_csv_write_round_trip(void)
{
    static const char *const fields[] = {
        "plain", "with, comma", "say \"hi\"", "two\nlines", "cr\r", "", "\"", ",,",
    };
    enum { N = sizeof fields / sizeof fields[0] };
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    for (size_t i = 0; i < N; i++) {
        if (i)
            fputc(',', f);
        csv_write_field(f, fields[i]);
    }
    fputc('\n', f);
    rewind(f);
    char head[8] = { 0 };
    CHECK(fread(head, 1, 7, f) == 7);
    CHECK(memcmp(head, "plain,\"", 7) == 0); /* unquoted, then a quoted one */
    rewind(f);
    csv_reader_t *r = csv_reader_new(f);
    char **got;
    size_t n = 0;
    CHECK_EQ_INT(csv_next(r, &got, &n), 1);
    CHECK_EQ_INT(n, N);
    for (size_t i = 0; i < N && i < n; i++)
        CHECK_STREQ(got[i], fields[i]);
    CHECK_EQ_INT(csv_next(r, &got, &n), 0);
    csv_reader_free(r);
    fclose(f);
}

int main(void)
{
    test_csv_basic();
    test_csv_write_round_trip();
    test_csv_errors();
    test_parse_numbers();
    test_parse_time();
    test_patron_import();
    test_online_retail_import();
    test_event_time_window();
    test_shopsim();
    TEST_MAIN_END();
}
