/*
 * test_srv_strcheck.c - the wire check of request strings (strcheck.h):
 * valid requests pass; invalid UTF-8 or a NUL in a string field, nested or
 * top-level, fails naming the dotted path; malformed bytes are left to
 * protobuf_c_message_unpack.
 */
#include <errno.h>
#include <stdlib.h>

#include "testutil.h"

#include "patron/v1/events.pb-c.h"
#include "patron/v1/profiles.pb-c.h"
#include "strcheck.h"

/* Packs one RecordEvents request whose only event has this customer id. */
static uint8_t *pack_events(const char *customer, size_t *len)
{
    Patron__V1__RecordEventsRequest r = PATRON__V1__RECORD_EVENTS_REQUEST__INIT;
    Patron__V1__Event e = PATRON__V1__EVENT__INIT, *ep = &e;
    uint8_t *buf;

    e.event_id = "e1";
    e.customer_id = (char *)customer;
    e.item_id = "i1";
    e.time_unix_ms = 1700000000000;
    r.n_events = 1;
    r.events = &ep;
    *len = protobuf_c_message_get_packed_size(&r.base);
    buf = malloc(*len);
    protobuf_c_message_pack(&r.base, buf);
    return buf;
}

int main(void)
{
    const ProtobufCMessageDescriptor *d = &patron__v1__record_events_request__descriptor;
    char path[64];
    size_t len;
    uint8_t *buf;

    buf = pack_events("caf\xc3\xa9", &len);
    CHECK_EQ_INT(strcheck(d, buf, len, path, sizeof path), 0);
    free(buf);
    buf = pack_events("c\xff\xfe", &len);
    CHECK_EQ_INT(strcheck(d, buf, len, path, sizeof path), -EILSEQ);
    CHECK_STREQ(path, "events.customer_id");
    free(buf);
    /* "c1\0evil": protobuf-c would hand over "c1". Patch a placeholder. */
    buf = pack_events("c1Xevil", &len);
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == 'X')
            buf[i] = 0;
    CHECK_EQ_INT(strcheck(d, buf, len, path, sizeof path), -EILSEQ);
    CHECK_STREQ(path, "events.customer_id");
    free(buf);
    {
        /* top level */
        Patron__V1__GetProfileRequest g = PATRON__V1__GET_PROFILE_REQUEST__INIT;
        uint8_t b[64];
        g.customer_id = "\xed\xa0\x80";
        len = protobuf_c_message_pack(&g.base, b);
        CHECK_EQ_INT(strcheck(&patron__v1__get_profile_request__descriptor, b, len,
                              path, sizeof path), -EILSEQ);
        CHECK_STREQ(path, "customer_id");
    }
    {
        /* truncated / garbage: not this check's business */
        const uint8_t junk[] = { 0x0a, 0x7f, 0x01 };
        CHECK_EQ_INT(strcheck(d, junk, sizeof junk, path, sizeof path), 0);
        CHECK_EQ_INT(strcheck(d, NULL, 0, path, sizeof path), 0);
    }
    TEST_MAIN_END();
}
