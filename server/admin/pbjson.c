/*
 * pbjson.c - proto3 JSON <-> protobuf-c messages (pbjson.h), walking the
 * message descriptors: each field is found at its offset, repeated fields
 * through their count at quantifier_offset, presence through has_ flags or
 * the oneof case. Messages built here use protobuf-c's default allocator
 * (malloc), so protobuf_c_message_free_unpacked frees them, whole or half
 * built.
 */
#include "pbjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "utf8.h"

#define PATH_CAP 256
#define NAME_CAP 128

#define MEMBER(type, msg, off) (*(type *)(void *)((char *)(msg) + (off)))

static int fail(char *err, size_t cap, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t cap, const char *path, const char *fmt, ...)
{
    char what[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (path && *path)
        snprintf(err, cap, "%s: %s", path, what);
    else
        snprintf(err, cap, "%s", what);
    return -EINVAL;
}

void pbjson_json_name(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    int upper = 0;

    if (!cap)
        return;
    for (; *name && o + 1 < cap; name++) {
        if (*name == '_') {
            upper = 1;
            continue;
        }
        out[o++] = upper && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        upper = 0;
    }
    out[o] = '\0';
}

static const char *type_name(json_object *v)
{
    return json_type_to_name(json_object_get_type(v));
}

/* ---- JSON -> message: scalars ----------------------------------------------- */

/* The integral value of a JSON number or decimal string as a sign and
 * magnitude, refusing fractions and what does not fit 64 bits. */
static int read_integer(json_object *v, int *neg, uint64_t *mag, const char *path, char *err,
                        size_t cap)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        *neg = i < 0;
        *mag = i < 0 ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
        if (i == INT64_MAX) /* json-c keeps larger positives as uint64 */
            *mag = json_object_get_uint64(v);
        return 0;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d != floor(d))
            return fail(err, cap, path, "expected an integer, got %s",
                        json_object_get_string(v));
        if (fabs(d) >= 18446744073709551616.0)
            return fail(err, cap, path, "integer %s out of range", json_object_get_string(v));
        *neg = d < 0;
        *mag = (uint64_t)fabs(d);
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v), *p = s;
        char *end;
        *neg = *p == '-';
        p += *neg;
        if (*p < '0' || *p > '9')
            return fail(err, cap, path, "expected an integer, got \"%.64s\"", s);
        errno = 0;
        *mag = strtoull(p, &end, 10);
        if (*end)
            return fail(err, cap, path, "expected an integer, got \"%.64s\"", s);
        if (errno == ERANGE)
            return fail(err, cap, path, "integer %.64s out of range", s);
        return 0;
    }
    return fail(err, cap, path, "expected an integer (number or decimal string), got %s",
                type_name(v));
}

static int read_signed(json_object *v, int64_t lo, int64_t hi, int64_t *out,
                       const char *path, char *err, size_t cap)
{
    int neg = 0;
    uint64_t mag = 0;
    int rc = read_integer(v, &neg, &mag, path, err, cap);

    if (rc)
        return rc;
    if (neg ? mag > (uint64_t)-(lo + 1) + 1 : mag > (uint64_t)hi)
        return fail(err, cap, path, "%s%" PRIu64 " out of range %" PRId64 "..%" PRId64,
                    neg ? "-" : "", mag, lo, hi);
    *out = neg ? (mag ? -(int64_t)(mag - 1) - 1 : 0) : (int64_t)mag;
    return 0;
}

static int read_unsigned(json_object *v, uint64_t hi, uint64_t *out, const char *path,
                         char *err, size_t cap)
{
    int neg = 0;
    uint64_t mag = 0;
    int rc = read_integer(v, &neg, &mag, path, err, cap);

    if (rc)
        return rc;
    if ((neg && mag) || mag > hi)
        return fail(err, cap, path, "%s%" PRIu64 " out of range 0..%" PRIu64, neg ? "-" : "",
                    mag, hi);
    *out = mag;
    return 0;
}

static int read_double(json_object *v, double *out, const char *path, char *err, size_t cap)
{
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        *out = json_object_get_double(v);
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end;
        if (strcmp(s, "NaN") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            *out = -INFINITY;
        else {
            errno = 0;
            *out = strtod(s, &end);
            /* strtod also takes "inf", "nan" and hex: only JSON numbers */
            if (!*s || *end || s[strspn(s, "-+.0123456789eE")] || errno == ERANGE)
                return fail(err, cap, path, "expected a number, got \"%.64s\"", s);
        }
        return 0;
    }
    return fail(err, cap, path, "expected a number, got %s", type_name(v));
}

static int read_enum(const ProtobufCEnumDescriptor *ed, json_object *v, int32_t *out,
                     const char *path, char *err, size_t cap)
{
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
        if (!ev)
            return fail(err, cap, path, "\"%.64s\" is not a value of %s", s, ed->name);
        *out = ev->value;
        return 0;
    }
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        int64_t i;
        int rc = read_signed(v, INT32_MIN, INT32_MAX, &i, path, err, cap);
        *out = (int32_t)i;
        return rc;
    }
    return fail(err, cap, path, "expected a %s name or number, got %s", ed->name,
                type_name(v));
}

static int read_string(json_object *v, char **out, const char *path, char *err, size_t cap)
{
    const char *s;
    size_t n, bad;

    if (!json_object_is_type(v, json_type_string))
        return fail(err, cap, path, "expected a string, got %s", type_name(v));
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if ((bad = utf8_check(s, n)) != n)
        return fail(err, cap, path, s[bad] ? "not valid UTF-8 (byte %zu)"
                                           : "contains a NUL character (byte %zu)", bad);
    if (!(*out = malloc(n + 1)))
        return -ENOMEM;
    memcpy(*out, s, n + 1);
    return 0;
}

static int read_bytes(json_object *v, ProtobufCBinaryData *out, const char *path, char *err,
                      size_t cap)
{
    const char *s;
    size_t n, bad;

    if (!json_object_is_type(v, json_type_string))
        return fail(err, cap, path, "expected a base64 string, got %s", type_name(v));
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (!(out->data = malloc(n / 4 * 3 + 3)))
        return -ENOMEM;
    if (base64_decode(s, n, out->data, &out->len, &bad) != 0) {
        free(out->data);
        out->data = NULL;
        out->len = 0;
        return fail(err, cap, path, "not base64 (at character %zu)", bad);
    }
    return 0;
}

static int read_message(const ProtobufCMessageDescriptor *d, json_object *obj,
                        ProtobufCMessage **out, const char *path, char *err, size_t cap);

/* One value of field f from v into the field's storage at p (the field
 * itself, or one element of a repeated field's array). */
static int read_value(const ProtobufCFieldDescriptor *f, json_object *v, void *p,
                      const char *path, char *err, size_t cap)
{
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    int rc = 0;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (!(rc = read_signed(v, INT32_MIN, INT32_MAX, &i, path, err, cap)))
            *(int32_t *)p = (int32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!(rc = read_signed(v, INT64_MIN, INT64_MAX, &i, path, err, cap)))
            *(int64_t *)p = i;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!(rc = read_unsigned(v, UINT32_MAX, &u, path, err, cap)))
            *(uint32_t *)p = (uint32_t)u;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!(rc = read_unsigned(v, UINT64_MAX, &u, path, err, cap)))
            *(uint64_t *)p = u;
        return rc;
    case PROTOBUF_C_TYPE_FLOAT:
        if ((rc = read_double(v, &d, path, err, cap)))
            return rc;
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return fail(err, cap, path, "%g out of range for a float", d);
        *(float *)p = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return read_double(v, (double *)p, path, err, cap);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return fail(err, cap, path, "expected true or false, got %s", type_name(v));
        *(protobuf_c_boolean *)p = json_object_get_boolean(v) ? 1 : 0;
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return read_enum(f->descriptor, v, (int32_t *)p, path, err, cap);
    case PROTOBUF_C_TYPE_STRING:
        return read_string(v, (char **)p, path, err, cap);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(v, (ProtobufCBinaryData *)p, path, err, cap);
    case PROTOBUF_C_TYPE_MESSAGE:
        return read_message(f->descriptor, v, (ProtobufCMessage **)p, path, err, cap);
    }
    return fail(err, cap, path, "field type %d is not supported", (int)f->type);
}

/* Bytes one element of field f takes in a repeated field's array. */
static size_t element_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return sizeof(uint32_t); /* the 32-bit integers and enums */
    }
}

static int read_repeated(const ProtobufCFieldDescriptor *f, json_object *v,
                         ProtobufCMessage *m, const char *path, char *err, size_t cap)
{
    size_t n, i, size = element_size(f);
    char sub[PATH_CAP];
    char *arr;

    if (!json_object_is_type(v, json_type_array))
        return fail(err, cap, path, "expected an array, got %s", type_name(v));
    if (!(n = json_object_array_length(v)))
        return 0;
    /* calloc: elements not yet read are 0/NULL, which free_unpacked skips */
    if (!(arr = calloc(n, size)))
        return -ENOMEM;
    MEMBER(void *, m, f->offset) = arr;
    MEMBER(size_t, m, f->quantifier_offset) = n;
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        int rc;
        snprintf(sub, sizeof sub, "%.200s[%zu]", path, i);
        if (json_object_is_type(e, json_type_null))
            return fail(err, cap, sub, "null is not allowed in a repeated field");
        if ((rc = read_value(f, e, arr + i * size, sub, err, cap)))
            return rc;
    }
    return 0;
}

/* The field of d a JSON key names, by JSON name or declared name. */
static const ProtobufCFieldDescriptor *field_by_key(const ProtobufCMessageDescriptor *d,
                                                    const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    char json[NAME_CAP];

    for (unsigned i = 0; !f && i < d->n_fields; i++) {
        pbjson_json_name(d->fields[i].name, json, sizeof json);
        if (strcmp(json, key) == 0)
            f = &d->fields[i];
    }
    return f;
}

/* Marks a singular field as present: its has_ flag or its oneof case.
 * Refuses a second member of a oneof. */
static int mark_present(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
                        ProtobufCMessage *m, const char *path, char *err, size_t cap)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = &MEMBER(uint32_t, m, f->quantifier_offset);
        if (*which && *which != f->id) {
            const ProtobufCFieldDescriptor *o = protobuf_c_message_descriptor_get_field(d, *which);
            return fail(err, cap, path, "%s and %s are one of a kind: set one", o ? o->name : "?",
                        f->name);
        }
        *which = f->id;
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
               f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
        MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
    }
    return 0;
}

static int read_field(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
                      json_object *v, ProtobufCMessage *m, const char *path, char *err,
                      size_t cap)
{
    int rc;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return read_repeated(f, v, m, path, err, cap);
    if ((rc = mark_present(d, f, m, path, err, cap)))
        return rc;
    /* a string field starts as protobuf-c's shared "" (or its default) */
    if (f->type == PROTOBUF_C_TYPE_STRING)
        MEMBER(char *, m, f->offset) = NULL;
    return read_value(f, v, (char *)m + f->offset, path, err, cap);
}

static void join_path(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%.200s%s%.*s", path, *path ? "." : "", 50, key);
}

static int read_fields(const ProtobufCMessageDescriptor *d, json_object *obj,
                       ProtobufCMessage *m, unsigned char *seen, const char *path, char *err,
                       size_t cap)
{
    char sub[PATH_CAP];

    json_object_object_foreach(obj, key, val) {
        const ProtobufCFieldDescriptor *f = field_by_key(d, key);
        unsigned idx;
        int rc;
        join_path(sub, sizeof sub, path, key);
        if (!f)
            return fail(err, cap, path, "unknown field \"%.*s\" in %s", NAME_CAP, key,
                        d->name);
        idx = (unsigned)(f - d->fields);
        if (seen[idx])
            return fail(err, cap, sub, "%s given twice", f->name);
        seen[idx] = 1;
        if (json_object_is_type(val, json_type_null))
            continue; /* null: the default */
        if ((rc = read_field(d, f, val, m, sub, err, cap)))
            return rc;
    }
    return 0;
}

static int read_message(const ProtobufCMessageDescriptor *d, json_object *obj,
                        ProtobufCMessage **out, const char *path, char *err, size_t cap)
{
    ProtobufCMessage *m;
    unsigned char *seen;
    int rc;

    *out = NULL;
    if (!json_object_is_type(obj, json_type_object))
        return fail(err, cap, path, "expected an object (%s), got %s", d->name, type_name(obj));
    if (!(m = malloc(d->sizeof_message)))
        return -ENOMEM;
    d->message_init(m);
    *out = m; /* owned by the caller from here on, even on failure */
    if (!(seen = calloc(d->n_fields ? d->n_fields : 1, 1)))
        return -ENOMEM;
    rc = read_fields(d, obj, m, seen, path, err, cap);
    free(seen);
    return rc;
}

int pbjson_from_object(const ProtobufCMessageDescriptor *d, json_object *obj,
                       ProtobufCMessage **out, char *err, size_t cap)
{
    int rc = read_message(d, obj, out, "", err, cap);

    if (rc == -ENOMEM)
        snprintf(err, cap, "out of memory");
    if (rc && *out) {
        protobuf_c_message_free_unpacked(*out, NULL);
        *out = NULL;
    }
    return rc;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

int pbjson_parse(const ProtobufCMessageDescriptor *d, const char *text, size_t len,
                 ProtobufCMessage **out, char *err, size_t cap)
{
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    size_t end;
    int rc;

    *out = NULL;
    if (blank(text, len)) {
        text = "{}";
        len = 2;
    }
    if (len > INT_MAX)
        return fail(err, cap, NULL, "JSON text of %zu bytes is too large", len);
    if (!(tok = json_tokener_new()))
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue) {
        json_object_put(obj);
        return fail(err, cap, NULL, "invalid JSON: unexpected end of text at byte %zu", len);
    }
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        return fail(err, cap, NULL, "invalid JSON at byte %zu: %s", end,
                    jerr == json_tokener_error_parse_utf8_string
                        ? "not valid UTF-8" : json_tokener_error_desc(jerr));
    }
    if (!blank(text + end, len - end)) {
        json_object_put(obj);
        return fail(err, cap, NULL, "invalid JSON at byte %zu: text after the value", end);
    }
    rc = pbjson_from_object(d, obj, out, err, cap);
    json_object_put(obj);
    return rc;
}

size_t pbjson_count_values(const char *text, size_t len)
{
    size_t n = 1;
    int in_string = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character, whatever it is */
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == ',' || c == '[' || c == '{') {
            n++;
        }
    }
    return n;
}

/* ---- message -> JSON ----------------------------------------------------------- */

/* The shortest %g form of d (digits from lo to hi) that reads back as d;
 * as float when is_float. */
static json_object *new_real(double d, int is_float)
{
    char buf[40];
    int digits = is_float ? 6 : 15, max = is_float ? 9 : 17;

    if (isnan(d))
        return json_object_new_string("NaN");
    if (isinf(d))
        return json_object_new_string(d > 0 ? "Infinity" : "-Infinity");
    if (d == 0 && signbit(d)) /* json-c reads "-0" as the integer 0 */
        return json_object_new_double_s(d, "-0.0");
    for (;; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, d);
        if (digits >= max || (is_float ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d))
            break;
    }
    return json_object_new_double_s(d, buf);
}

static json_object *new_int64_string(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return json_object_new_string(buf);
}

static json_object *new_uint64_string(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_object_new_string(buf);
}

static json_object *new_bytes(const ProtobufCBinaryData *b)
{
    char *s = malloc(base64_encoded_len(b->len) + 1);
    json_object *v;

    if (!s)
        return NULL;
    base64_encode(b->data, b->len, s);
    v = json_object_new_string(s);
    free(s);
    return v;
}

static json_object *new_enum(const ProtobufCEnumDescriptor *ed, int32_t v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);
    return ev ? json_object_new_string(ev->name) : json_object_new_int(v);
}

static int write_message(const ProtobufCMessage *m, json_object **out, const char *path,
                         char *err, size_t cap);

/* One value of field f stored at p as JSON, into *out. */
static int write_value(const ProtobufCFieldDescriptor *f, const void *p, json_object **out,
                       const char *path, char *err, size_t cap)
{
    const char *s;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *out = json_object_new_int(*(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *out = json_object_new_int64(*(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *out = new_int64_string(*(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *out = new_uint64_string(*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *out = new_real(*(const float *)p, 1);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *out = new_real(*(const double *)p, 0);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *out = json_object_new_boolean(*(const protobuf_c_boolean *)p);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        *out = new_enum(f->descriptor, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_STRING:
        s = *(const char *const *)p;
        if (!s)
            s = "";
        if (!utf8_valid(s, strlen(s)))
            return fail(err, cap, path, "not valid UTF-8");
        *out = json_object_new_string(s);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        *out = new_bytes(p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!*(const ProtobufCMessage *const *)p) {
            *out = json_object_new_object();
            break;
        }
        return write_message(*(const ProtobufCMessage *const *)p, out, path, err, cap);
    }
    return *out ? 0 : -ENOMEM;
}

/* Whether singular field f of m is written: with presence (oneof, has_,
 * a message or optional string pointer) when present, else when it is not
 * the default. */
static int is_written(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
    const char *p = (const char *)m + f->offset;

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return MEMBER(uint32_t, m, f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(const ProtobufCMessage *const *)p != NULL;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return 1;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (f->type == PROTOBUF_C_TYPE_STRING) /* as protobuf-c packs it */
            return *(const char *const *)p && *(const void *const *)p != f->default_value;
        if (f->quantifier_offset)
            return MEMBER(protobuf_c_boolean, m, f->quantifier_offset) != 0;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p != 0;
    case PROTOBUF_C_TYPE_FLOAT: /* -0 too is the default, as protobuf-c packs */
        return *(const float *)p != 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)p != 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p != 0;
    case PROTOBUF_C_TYPE_STRING:
        return *(const char *const *)p && **(const char *const *)p;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len != 0;
    default:
        return *(const uint32_t *)p != 0;
    }
}

static int write_repeated(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m,
                          json_object **out, const char *path, char *err, size_t cap)
{
    size_t n = MEMBER(size_t, m, f->quantifier_offset), size = element_size(f);
    const char *arr = MEMBER(const char *, m, f->offset);
    char sub[PATH_CAP];

    if (!(*out = json_object_new_array_ext((int)n)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *e = NULL;
        int rc;
        snprintf(sub, sizeof sub, "%.200s[%zu]", path, i);
        if ((rc = write_value(f, arr + i * size, &e, sub, err, cap)))
            return rc;
        if (json_object_array_add(*out, e) != 0) {
            json_object_put(e);
            return -ENOMEM;
        }
    }
    return 0;
}

static int write_fields(const ProtobufCMessage *m, json_object *obj, const char *path,
                        char *err, size_t cap)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char name[NAME_CAP], sub[PATH_CAP];

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_object *v = NULL;
        int rc;
        if (f->label == PROTOBUF_C_LABEL_REPEATED
                ? MEMBER(size_t, m, f->quantifier_offset) == 0
                : !is_written(f, m))
            continue;
        pbjson_json_name(f->name, name, sizeof name);
        join_path(sub, sizeof sub, path, name);
        rc = f->label == PROTOBUF_C_LABEL_REPEATED
                 ? write_repeated(f, m, &v, sub, err, cap)
                 : write_value(f, (const char *)m + f->offset, &v, sub, err, cap);
        if (!rc && v && json_object_object_add(obj, name, v) != 0)
            rc = -ENOMEM;
        else if (!rc)
            v = NULL; /* obj holds it */
        json_object_put(v);
        if (rc)
            return rc;
    }
    return 0;
}

static int write_message(const ProtobufCMessage *m, json_object **out, const char *path,
                         char *err, size_t cap)
{
    int rc;

    if (!(*out = json_object_new_object()))
        return -ENOMEM;
    if ((rc = write_fields(m, *out, path, err, cap))) {
        json_object_put(*out);
        *out = NULL;
    }
    return rc;
}

int pbjson_to_object(const ProtobufCMessage *m, json_object **out, char *err, size_t cap)
{
    int rc = write_message(m, out, "", err, cap);
    if (rc == -ENOMEM)
        snprintf(err, cap, "out of memory");
    return rc;
}

char *pbjson_text(json_object *obj, size_t *len)
{
    size_t n;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *copy;

    if (!s || !(copy = malloc(n + 1)))
        return NULL;
    memcpy(copy, s, n + 1);
    *len = n;
    return copy;
}

char *pbjson_format(const ProtobufCMessage *m, size_t *len, char *err, size_t cap)
{
    json_object *obj;
    char *text;

    if (pbjson_to_object(m, &obj, err, cap) != 0)
        return NULL;
    if (!(text = pbjson_text(obj, len)))
        snprintf(err, cap, "out of memory");
    json_object_put(obj);
    return text;
}
