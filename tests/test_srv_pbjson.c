/*
 * test_srv_pbjson.c - the proto3 JSON converter of the HTTP/JSON gateway
 * (server/admin/pbjson.h).
 *
 * Round-trip property, for every request and response type patrond serves
 * (from the method table, through the gateway's own descriptor lookup) and
 * the proto2 google.protobuf.FileDescriptorProto (required and optional
 * fields, bytes, every integer width): random wire bytes generated from the
 * descriptor are unpacked, written as JSON, read back and packed again; the
 * bytes must equal the first packing and the JSON the first JSON.
 *
 * Then the mapping's edge cases by value: 64-bit integers as strings and
 * numbers at their limits and one past, fractions, enums by name and
 * number, nested and repeated paths in errors, bytes in base64, unknown
 * and doubled fields, wrong JSON types, invalid JSON and invalid UTF-8,
 * default values omitted, shortest floats.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "gwcall.h"
#include "methods.h"
#include "pbjson.h"
#include "testutil.h"

#define ROUNDS 300
#define MAX_DEPTH 4

/* ---- random wire bytes from a descriptor -------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n)
{
    if (!n)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_varint(buf_t *b, uint64_t v)
{
    uint8_t x;
    do {
        x = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            x |= 0x80;
        put(b, &x, 1);
    } while (v);
}

static uint64_t rnd64(void)
{
    return (uint64_t)test_rng_u32() << 32 | test_rng_u32();
}

/* Integers of every size, the limits and zero more often than uniform. */
static uint64_t rnd_int(void)
{
    switch (test_rng_u32() % 8) {
    case 0: return 0;
    case 1: return UINT64_MAX;          /* -1 as signed */
    case 2: return (uint64_t)INT64_MAX;
    case 3: return (uint64_t)INT64_MIN;
    case 4: return test_rng_u32() % 1000;
    case 5: return rnd64() >> (test_rng_u32() % 64);
    default: return rnd64();
    }
}

static double rnd_double(void)
{
    switch (test_rng_u32() % 10) {
    case 0: return 0.0;
    case 1: return -0.0;
    case 2: return NAN;
    case 3: return test_rng_u32() % 2 ? INFINITY : -INFINITY;
    case 4: return 1e308 * test_rng_uniform();
    case 5: return 5e-324 * (test_rng_u32() % 100);
    case 6: return (double)(test_rng_u32() % 100000) / 100.0;
    default: return test_rng_uniform() * pow(10, (int)(test_rng_u32() % 40) - 20);
    }
}

/* Valid UTF-8 with ASCII, JSON's escapes, 2-, 3- and 4-byte sequences. */
static void rnd_utf8(buf_t *s)
{
    static const char *const pieces[] = {
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f",
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "<", "&",
    };
    unsigned n = test_rng_u32() % 12;
    for (unsigned i = 0; i < n; i++) {
        const char *p = pieces[test_rng_u32() % (sizeof pieces / sizeof pieces[0])];
        put(s, p, strlen(p));
    }
}

static void gen_message(const ProtobufCMessageDescriptor *d, buf_t *b, int depth);

static void gen_value(const ProtobufCFieldDescriptor *f, buf_t *b, int depth)
{
    uint64_t v = rnd_int();
    uint32_t u32;
    double dv;
    float fv;
    buf_t sub = { 0 };

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
        put_varint(b, (uint64_t)(int64_t)(int32_t)v);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
        put_varint(b, v);
        break;
    case PROTOBUF_C_TYPE_UINT32:
        put_varint(b, (uint32_t)v);
        break;
    case PROTOBUF_C_TYPE_SINT32:
        put_varint(b, (uint32_t)v); /* zigzag of some int32 */
        break;
    case PROTOBUF_C_TYPE_SINT64:
        put_varint(b, v);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        put_varint(b, v & 1);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        /* mostly named values, sometimes a number without a name */
        int32_t e = test_rng_u32() % 5 ? ed->values[test_rng_u32() % ed->n_values].value
                                       : 1000 + (int32_t)(test_rng_u32() % 100);
        put_varint(b, (uint64_t)(int64_t)e);
        break;
    }
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
        u32 = (uint32_t)v;
        put(b, &u32, 4);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        fv = (float)rnd_double();
        put(b, &fv, 4);
        break;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
        put(b, &v, 8);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        dv = rnd_double();
        put(b, &dv, 8);
        break;
    case PROTOBUF_C_TYPE_STRING:
        rnd_utf8(&sub);
        goto delimited;
    case PROTOBUF_C_TYPE_BYTES:
        for (unsigned i = test_rng_u32() % 20; i; i--) {
            uint8_t x = (uint8_t)test_rng_u32();
            put(&sub, &x, 1);
        }
        goto delimited;
    case PROTOBUF_C_TYPE_MESSAGE:
        gen_message(f->descriptor, &sub, depth + 1);
    delimited:
        put_varint(b, sub.n);
        put(b, sub.p, sub.n);
        free(sub.p);
        break;
    }
}

static unsigned wire_type(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return 2;
    default:
        return 0;
    }
}

/* Each field present with probability 1/2 (required ones always, messages
 * less often the deeper), repeated ones 1-3 times. */
static void gen_message(const ProtobufCMessageDescriptor *d, buf_t *b, int depth)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        unsigned times = f->label == PROTOBUF_C_LABEL_REPEATED ? 1 + test_rng_u32() % 3 : 1;
        if (f->label != PROTOBUF_C_LABEL_REQUIRED && test_rng_u32() % 2)
            continue;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= MAX_DEPTH &&
            f->label != PROTOBUF_C_LABEL_REQUIRED)
            continue;
        while (times--) {
            put_varint(b, (uint64_t)f->id << 3 | wire_type(f->type));
            gen_value(f, b, depth);
        }
    }
}

/* ---- the round-trip property --------------------------------------------------- */

static uint8_t *packed(const ProtobufCMessage *m, size_t *n)
{
    uint8_t *p;
    *n = protobuf_c_message_get_packed_size(m);
    p = malloc(*n ? *n : 1);
    if (!p)
        abort();
    protobuf_c_message_pack(m, p);
    return p;
}

static int round_trip(const ProtobufCMessageDescriptor *d)
{
    buf_t wire = { 0 };
    ProtobufCMessage *m1, *m2 = NULL;
    char err[512], *j1, *j2 = NULL;
    uint8_t *b1, *b2 = NULL;
    size_t n1, n2 = 0, l1, l2 = 0;
    int ok = 1;

    gen_message(d, &wire, 0);
    m1 = protobuf_c_message_unpack(d, NULL, wire.n, wire.p);
    free(wire.p);
    if (!m1) {
        fprintf(stderr, "%s: generated bytes do not unpack\n", d->name);
        return 0;
    }
    b1 = packed(m1, &n1);
    j1 = pbjson_format(m1, &l1, err, sizeof err);
    if (!j1) {
        fprintf(stderr, "%s: to JSON: %s\n", d->name, err);
        ok = 0;
    } else if (pbjson_parse(d, j1, l1, &m2, err, sizeof err) != 0) {
        fprintf(stderr, "%s: from JSON: %s\n%s\n", d->name, err, j1);
        ok = 0;
    } else {
        b2 = packed(m2, &n2);
        j2 = pbjson_format(m2, &l2, err, sizeof err);
        if (n1 != n2 || memcmp(b1, b2, n1) != 0) {
            fprintf(stderr, "%s: bytes differ after JSON (%zu vs %zu)\n%s\n", d->name, n1,
                    n2, j1);
            ok = 0;
        }
        if (!j2 || l1 != l2 || strcmp(j1, j2) != 0) {
            fprintf(stderr, "%s: JSON not stable\n%s\n%s\n", d->name, j1, j2 ? j2 : err);
            ok = 0;
        }
    }
    if (m2)
        protobuf_c_message_free_unpacked(m2, NULL);
    protobuf_c_message_free_unpacked(m1, NULL);
    free(b1);
    free(b2);
    free(j1);
    free(j2);
    return ok;
}

static void test_round_trip_every_api_type(void)
{
    size_t types = 0;

    for (size_t i = 0; i < patron_api.n_methods; i++) {
        const rpc_method_t *m = &patron_api.methods[i];
        const ProtobufCMessageDescriptor *in, *out;
        if (m->kind == RPC_BIDI_STREAM)
            continue; /* reflection: not served over HTTP */
        /* every other method's types are known to the gateway */
        if (gwcall_types(m->path, &in, &out) != 0) {
            fprintf(stderr, "no descriptors for %s\n", m->path);
            CHECK(0);
            continue;
        }
        for (int r = 0; r < ROUNDS; r++) {
            CHECK(round_trip(in));
            CHECK(round_trip(out));
        }
        types += 2;
    }
    CHECK(types >= 40);
    for (int r = 0; r < ROUNDS; r++)
        CHECK(round_trip(&google__protobuf__file_descriptor_proto__descriptor));
}

/* ---- edge cases by value ---------------------------------------------------------- */

static const ProtobufCMessageDescriptor *type_of(const char *path, int response)
{
    const ProtobufCMessageDescriptor *in = NULL, *out = NULL;
    CHECK(gwcall_types(path, &in, &out) == 0);
    return response ? out : in;
}

#define EVENTS_PATH "/patron.v1.Events/RecordEvents"

/* Parses json as type d and writes it back; NULL (err set) if refused. */
static char *reformat(const ProtobufCMessageDescriptor *d, const char *json, char *err,
                      size_t cap)
{
    ProtobufCMessage *m;
    size_t len;
    char *out;

    if (pbjson_parse(d, json, strlen(json), &m, err, cap) != 0)
        return NULL;
    out = pbjson_format(m, &len, err, cap);
    protobuf_c_message_free_unpacked(m, NULL);
    return out;
}

static void expect_json(const ProtobufCMessageDescriptor *d, const char *in, const char *want)
{
    char err[512];
    char *got = reformat(d, in, err, sizeof err);
    if (!got)
        fprintf(stderr, "refused %s: %s\n", in, err);
    CHECK_STREQ(got, want);
    free(got);
}

static void expect_refused(const ProtobufCMessageDescriptor *d, const char *in,
                           const char *needle)
{
    char err[512] = "";
    char *got = reformat(d, in, err, sizeof err);
    if (got || !strstr(err, needle))
        fprintf(stderr, "for %s: wanted an error with \"%s\", got %s / \"%s\"\n", in, needle,
                got ? got : "(refused)", err);
    CHECK(got == NULL);
    CHECK(strstr(err, needle) != NULL);
    free(got);
}

static void test_integers(void)
{
    const ProtobufCMessageDescriptor *ev = type_of(EVENTS_PATH, 0);
    const ProtobufCMessageDescriptor *opt = &google__protobuf__uninterpreted_option__descriptor;

    /* int64 as string or number, written as a string */
    expect_json(ev, "{\"events\":[{\"timeUnixMs\":\"1700000000000\"}]}",
                "{\"events\":[{\"timeUnixMs\":\"1700000000000\"}]}");
    expect_json(ev, "{\"events\":[{\"time_unix_ms\":1700000000000}]}",
                "{\"events\":[{\"timeUnixMs\":\"1700000000000\"}]}");
    expect_json(ev, "{\"events\":[{\"timeUnixMs\":\"9223372036854775807\"}]}",
                "{\"events\":[{\"timeUnixMs\":\"9223372036854775807\"}]}");
    expect_json(ev, "{\"events\":[{\"timeUnixMs\":\"-9223372036854775808\"}]}",
                "{\"events\":[{\"timeUnixMs\":\"-9223372036854775808\"}]}");
    expect_json(ev, "{\"events\":[{\"timeUnixMs\":-9223372036854775808}]}",
                "{\"events\":[{\"timeUnixMs\":\"-9223372036854775808\"}]}");
    expect_json(ev, "{\"events\":[{\"timeUnixMs\":1.7e12}]}",
                "{\"events\":[{\"timeUnixMs\":\"1700000000000\"}]}");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":\"9223372036854775808\"}]}",
                   "events[0].timeUnixMs: 9223372036854775808 out of range");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":9223372036854775808}]}",
                   "out of range");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":1e30}]}", "out of range");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":\"99999999999999999999999\"}]}",
                   "out of range");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":1.5}]}", "expected an integer");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":\"12x\"}]}", "expected an integer");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":\" 12\"}]}", "expected an integer");
    expect_refused(ev, "{\"events\":[{\"timeUnixMs\":true}]}", "expected an integer");
    /* int32: numbers, in range */
    expect_json(ev, "{\"events\":[{\"quantity\":\"7\"}]}", "{\"events\":[{\"quantity\":7}]}");
    expect_json(ev, "{\"events\":[{\"quantity\":-2147483648}]}",
                "{\"events\":[{\"quantity\":-2147483648}]}");
    expect_refused(ev, "{\"events\":[{\"quantity\":2147483648}]}",
                   "events[0].quantity: 2147483648 out of range -2147483648..2147483647");
    /* uint64 to its top, not below zero */
    expect_json(opt, "{\"positiveIntValue\":\"18446744073709551615\"}",
                "{\"positiveIntValue\":\"18446744073709551615\"}");
    expect_json(opt, "{\"positiveIntValue\":18446744073709551615}",
                "{\"positiveIntValue\":\"18446744073709551615\"}");
    expect_refused(opt, "{\"positiveIntValue\":\"18446744073709551616\"}", "out of range");
    expect_refused(opt, "{\"positiveIntValue\":-1}", "positiveIntValue: -1 out of range");
    /* proto2 optional: a present zero is written */
    expect_json(opt, "{\"positiveIntValue\":0}", "{\"positiveIntValue\":\"0\"}");
}

static void test_floats(void)
{
    const ProtobufCMessageDescriptor *ev = type_of(EVENTS_PATH, 0);
    const ProtobufCMessageDescriptor *rec = type_of("/patron.v1.Recommender/Recommend", 1);

    expect_json(ev, "{\"events\":[{\"unitPrice\":0.1}]}", "{\"events\":[{\"unitPrice\":0.1}]}");
    expect_json(ev, "{\"events\":[{\"unitPrice\":\"2.5\"}]}",
                "{\"events\":[{\"unitPrice\":2.5}]}");
    expect_json(ev, "{\"events\":[{\"unitPrice\":\"NaN\"}]}",
                "{\"events\":[{\"unitPrice\":\"NaN\"}]}");
    expect_json(ev, "{\"events\":[{\"unitPrice\":\"-Infinity\"}]}",
                "{\"events\":[{\"unitPrice\":\"-Infinity\"}]}");
    expect_json(ev, "{\"events\":[{\"unitPrice\":3}]}", "{\"events\":[{\"unitPrice\":3}]}");
    expect_refused(ev, "{\"events\":[{\"unitPrice\":\"inf\"}]}", "expected a number");
    expect_refused(ev, "{\"events\":[{\"unitPrice\":\"0x10\"}]}", "expected a number");
    expect_refused(ev, "{\"events\":[{\"unitPrice\":[1]}]}", "expected a number, got array");
    /* a float score in its shortest form, not 0.10000000149011612 */
    expect_json(rec, "{\"items\":[{\"itemId\":\"i\",\"score\":0.1}]}",
                "{\"items\":[{\"itemId\":\"i\",\"score\":0.1}]}");
    expect_refused(rec, "{\"items\":[{\"score\":1e39}]}", "items[0].score: 1e+39 out of range");
}

static void test_enums_and_defaults(void)
{
    const ProtobufCMessageDescriptor *ev = type_of(EVENTS_PATH, 0);

    expect_json(ev, "{\"events\":[{\"type\":\"EVENT_TYPE_VIEW\"}]}",
                "{\"events\":[{\"type\":\"EVENT_TYPE_VIEW\"}]}");
    expect_json(ev, "{\"events\":[{\"type\":3}]}",
                "{\"events\":[{\"type\":\"EVENT_TYPE_PURCHASE\"}]}");
    expect_json(ev, "{\"events\":[{\"type\":77}]}", "{\"events\":[{\"type\":77}]}");
    expect_refused(ev, "{\"events\":[{\"type\":\"VIEW\"}]}",
                   "events[0].type: \"VIEW\" is not a value of patron.v1.EventType");
    expect_refused(ev, "{\"events\":[{\"type\":1.5}]}", "expected an integer");
    /* defaults are not written; null is the default */
    expect_json(ev, "{\"events\":[{\"type\":0,\"quantity\":0,\"itemId\":\"\",\"unitPrice\":0}]}",
                "{\"events\":[{}]}");
    expect_json(ev, "{\"events\":[{\"itemId\":null}]}", "{\"events\":[{}]}");
    expect_json(ev, "{\"events\":null}", "{}");
    expect_json(ev, "{\"events\":[]}", "{}");
    expect_json(ev, "", "{}");
    expect_json(ev, " \n", "{}");
}

static void test_strings_and_bytes(void)
{
    const ProtobufCMessageDescriptor *ev = type_of(EVENTS_PATH, 0);
    const ProtobufCMessageDescriptor *fdr =
        &grpc__reflection__v1__file_descriptor_response__descriptor;

    expect_json(ev, "{\"events\":[{\"itemId\":\"caf\\u00e9 \\\"x\\\" \\ud83d\\ude00\"}]}",
                "{\"events\":[{\"itemId\":\"caf\xc3\xa9 \\\"x\\\" \xf0\x9f\x98\x80\"}]}");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"a\\u0000b\"}]}",
                   "events[0].itemId: contains a NUL character");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"ok\xff\xfe\"}]}",
                   "not valid UTF-8");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"\xc0\xaf\"}]}", "not valid UTF-8");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"\xed\xa0\x80\"}]}", "not valid UTF-8");
    expect_refused(ev, "{\"events\":[{\"itemId\":5}]}", "events[0].itemId: expected a string");
    /* bytes: base64 out, either alphabet and optional padding in */
    expect_json(fdr, "{\"fileDescriptorProto\":[\"AAEC/w==\",\"\"]}",
                "{\"fileDescriptorProto\":[\"AAEC/w==\",\"\"]}");
    expect_json(fdr, "{\"fileDescriptorProto\":[\"AAEC_w\"]}",
                "{\"fileDescriptorProto\":[\"AAEC/w==\"]}");
    expect_json(fdr, "{\"file_descriptor_proto\":[\"aGk=\"]}",
                "{\"fileDescriptorProto\":[\"aGk=\"]}");
    expect_refused(fdr, "{\"fileDescriptorProto\":[\"a*b=\"]}",
                   "fileDescriptorProto[0]: not base64 (at character 1)");
    expect_refused(fdr, "{\"fileDescriptorProto\":[\"abcde\"]}", "not base64");
    expect_refused(fdr, "{\"fileDescriptorProto\":[null]}", "null is not allowed");
}

static void test_shapes_and_names(void)
{
    const ProtobufCMessageDescriptor *ev = type_of(EVENTS_PATH, 0);

    expect_refused(ev, "{\"events\":[{},{\"colour\":1}]}",
                   "events[1]: unknown field \"colour\" in patron.v1.Event");
    expect_refused(ev, "{\"evnts\":[]}", "unknown field \"evnts\"");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"a\",\"item_id\":\"b\"}]}",
                   "item_id given twice");
    expect_refused(ev, "{\"events\":{}}", "events: expected an array, got object");
    expect_refused(ev, "{\"events\":[5]}", "events[0]: expected an object (patron.v1.Event)");
    expect_refused(ev, "[]", "expected an object");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"a\"}", "unexpected end of text");
    expect_refused(ev, "{\"events\":[{\"itemId\":\"a\",}]}", "invalid JSON at byte 25");
    expect_refused(ev, "{} {}", "invalid JSON at byte 3");
    expect_refused(ev, "{\"events\":[]} /* c */", "invalid JSON at byte");
}

static void test_count_values(void)
{
    static const char *const texts[] = {
        "{}", "[1,2,3]", "{\"a\":[{},{}],\"b\":\"x,[{\\\",y\"}", "", "[[[]]]",
    };
    static const size_t bound[] = { 2, 4, 7, 1, 4 };

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        CHECK_EQ_INT(pbjson_count_values(texts[i], strlen(texts[i])), bound[i]);
}

static void test_json_names(void)
{
    char out[64];

    pbjson_json_name("time_unix_ms", out, sizeof out);
    CHECK_STREQ(out, "timeUnixMs");
    pbjson_json_name("p50_ms", out, sizeof out);
    CHECK_STREQ(out, "p50Ms");
    pbjson_json_name("k", out, sizeof out);
    CHECK_STREQ(out, "k");
}

int main(void)
{
    test_rng_seed(20261204);
    test_json_names();
    test_count_values();
    test_integers();
    test_floats();
    test_enums_and_defaults();
    test_strings_and_bytes();
    test_shapes_and_names();
    test_round_trip_every_api_type();
    TEST_MAIN_END();
}
