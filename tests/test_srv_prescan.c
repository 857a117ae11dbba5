/*
 * test_srv_prescan.c - the wire walker that counts repeated fields before
 * a request is decoded: counts per field and in all (nested, packed),
 * the field named when a limit is passed, and malformed input (truncated
 * fields, over-long varints, bad wire types, nesting) refused without
 * reading past the buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "patron/v1/coupons.pb-c.h"
#include "patron/v1/events.pb-c.h"
#include "prescan.h"
#include "testutil.h"

static const prescan_limits_t LIM = { 10, 25 };

static int scan(const ProtobufCMessageDescriptor *d, const uint8_t *b, size_t n,
                const char **field, size_t *count)
{
    /* a heap copy of exactly n bytes: ASan catches any read past the end */
    uint8_t *copy = malloc(n ? n : 1);
    int rc;
    CHECK(copy != NULL);
    memcpy(copy, b, n);
    rc = prescan(d, copy, n, &LIM, field, count);
    free(copy);
    return rc;
}

static const ProtobufCMessageDescriptor *EVENTS = &patron__v1__record_events_request__descriptor;

/* n empty events: 0x0a 0x00 each (the 1.16 GB request of issue 20 item 7). */
static void test_empty_events(void)
{
    uint8_t b[64];
    const char *field;
    size_t count;

    for (int i = 0; i < 32; i++) {
        b[2 * i] = 0x0a;
        b[2 * i + 1] = 0x00;
    }
    CHECK_EQ_INT(scan(EVENTS, b, 20, &field, &count), 0);          /* 10 events */
    CHECK_EQ_INT(scan(EVENTS, b, 22, &field, &count), -E2BIG);     /* 11 */
    CHECK_STREQ(field, "events");
    CHECK_EQ_INT(count, 11);
    CHECK_EQ_INT(scan(EVENTS, b, 0, &field, &count), 0);
}

/* An event with fields of every wire type the walker skips over. */
static void test_full_event(void)
{
    Patron__V1__Event ev = PATRON__V1__EVENT__INIT, *evs[3] = { &ev, &ev, &ev };
    Patron__V1__RecordEventsRequest r = PATRON__V1__RECORD_EVENTS_REQUEST__INIT;
    uint8_t b[512];
    const char *field;
    size_t count, n;

    ev.event_id = "e1";
    ev.customer_id = "c1";
    ev.item_id = "i1";
    ev.type = PATRON__V1__EVENT_TYPE__EVENT_TYPE_PURCHASE;
    ev.time_unix_ms = INT64_MIN; /* a 10-byte varint */
    ev.quantity = -1;
    ev.unit_price = 1.5;        /* fixed64 */
    r.n_events = 3;
    r.events = evs;
    n = patron__v1__record_events_request__pack(&r, b);
    CHECK(n < sizeof b);
    CHECK_EQ_INT(scan(EVENTS, b, n, &field, &count), 0);
    /* every truncation is malformed, none reads past the end */
    for (size_t cut = 1; cut < n; cut++) {
        int rc = scan(EVENTS, b, cut, &field, &count);
        CHECK(rc == 0 || rc == -EINVAL);
        if (rc == 0) { /* only at an event's boundary */
            Patron__V1__RecordEventsRequest *m =
                patron__v1__record_events_request__unpack(NULL, cut, b);
            CHECK(m != NULL);
            patron__v1__record_events_request__free_unpacked(m, NULL);
        }
    }
    CHECK_EQ_INT(scan(EVENTS, b, n - 1, &field, &count), -EINVAL);
}

static void test_malformed(void)
{
    static const uint8_t long_varint[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    static const uint8_t huge_len[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const uint8_t group[] = { 0x0b, 0x0c };             /* wire types 3, 4 */
    static const uint8_t field0[] = { 0x02, 0x00 };            /* field number 0 */
    static const uint8_t fixed32_cut[] = { 0x0d, 0x01, 0x02 };
    static const uint8_t unknown_ok[] = { 0xf8, 0x01, 0x05, 0xfd, 0x01, 1, 2, 3, 4 };
    const char *field;
    size_t count;

    CHECK_EQ_INT(scan(EVENTS, long_varint, sizeof long_varint, &field, &count), -EINVAL);
    CHECK_EQ_INT(scan(EVENTS, huge_len, sizeof huge_len, &field, &count), -EINVAL);
    CHECK_STREQ(field, "events");
    CHECK_EQ_INT(scan(EVENTS, group, sizeof group, &field, &count), -EINVAL);
    CHECK_EQ_INT(scan(EVENTS, field0, sizeof field0, &field, &count), -EINVAL);
    CHECK_EQ_INT(scan(EVENTS, fixed32_cut, sizeof fixed32_cut, &field, &count), -EINVAL);
    /* unknown fields 31 (varint) and 31 (fixed32) are skipped */
    CHECK_EQ_INT(scan(EVENTS, unknown_ok, sizeof unknown_ok, &field, &count), 0);
}

/* Packed enums count per element; the total limit spans fields and nesting. */
static void test_packed_and_total(void)
{
    const ProtobufCMessageDescriptor *coupon = &patron__v1__coupon__descriptor;
    uint8_t b[64];
    const char *field;
    size_t count, n = 0;

    b[n++] = 0x5a; /* field 11 eligible_stages, length-delimited (packed) */
    b[n++] = 11;
    for (int i = 0; i < 10; i++)
        b[n++] = 1;
    b[n++] = 0x81; /* a two-byte varint: the 11th element */
    b[n++] = 0x01;
    b[1] = 12;
    CHECK_EQ_INT(scan(coupon, b, n, &field, &count), -E2BIG);
    CHECK_STREQ(field, "eligible_stages");
    CHECK_EQ_INT(count, 11);
    b[1] = 10; /* ten elements, but the varint run may not end mid-varint: */
    CHECK_EQ_INT(scan(coupon, b, 12, &field, &count), 0);
    b[1] = 11;
    CHECK_EQ_INT(scan(coupon, b, 13, &field, &count), -EINVAL);
    /* 9 stages + 9 segments + 9 tiers = 27 > 25 in all, none over 10 */
    n = 0;
    b[n++] = 0x5a;
    b[n++] = 9;
    for (int i = 0; i < 9; i++)
        b[n++] = 2;
    for (int i = 0; i < 18; i++) {
        b[n++] = i < 9 ? 0x4a : 0x52; /* fields 9 and 10, empty strings */
        b[n++] = 0;
    }
    CHECK_EQ_INT(scan(coupon, b, n, &field, &count), -E2BIG);
    CHECK_STREQ(field, "");
    CHECK_EQ_INT(count, 26);
}

int main(void)
{
    test_empty_events();
    test_full_event();
    test_malformed();
    test_packed_and_total();
    TEST_MAIN_END();
}
