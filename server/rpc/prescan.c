/*
 * prescan.c - a protobuf wire-format walker counting repeated fields
 * (prescan.h). Wire types: 0 varint, 1 fixed64, 2 length-delimited,
 * 5 fixed32; groups (3, 4) are not used by proto3 and are refused.
 */
#include "prescan.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

typedef struct walk {
    const prescan_limits_t *lim;
    size_t total;
    const char *field;
    size_t count;
    char *path;       /* NULL: strings are not checked */
    size_t cap;
    int bad_string;   /* path names the first string field that is not valid */
} walk_t;

/* Prepends "name." to the path built so far by the inner levels. */
static void prepend(char *path, size_t cap, const char *name)
{
    size_t n = strlen(name), have = strnlen(path, cap);
    if (n + 1 + have + 1 > cap)
        return;
    memmove(path + n + (have ? 1 : 0), path, have + 1);
    memcpy(path, name, n);
    if (have)
        path[n] = '.';
}

/* Notes the first string field (in wire order) that is not valid UTF-8
 * without NUL bytes; the walk goes on, so limits and malformed bytes found
 * later still take precedence. */
static void check_string(walk_t *w, const ProtobufCFieldDescriptor *f, const uint8_t *p,
                         size_t n)
{
    if (w->path && !w->bad_string && f->type == PROTOBUF_C_TYPE_STRING &&
        !utf8_valid((const char *)p, n)) {
        snprintf(w->path, w->cap, "%s", f->name);
        w->bad_string = 1;
    }
}

/* Reads a varint at *p (< end). Returns 0, or -EINVAL if truncated or
 * longer than 10 bytes. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return -EINVAL;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -EINVAL;
}

/* Elements in a packed run of a repeated scalar field. */
static int packed_count(const ProtobufCFieldDescriptor *f, const uint8_t *p, size_t n,
                        size_t *out)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        *out = n / 4;
        return n % 4 ? -EINVAL : 0;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        *out = n / 8;
        return n % 8 ? -EINVAL : 0;
    default: /* varints: one byte without the continuation bit ends each */
        *out = 0;
        for (size_t i = 0; i < n; i++)
            *out += !(p[i] & 0x80);
        return n && (p[n - 1] & 0x80) ? -EINVAL : 0;
    }
}

/* Adds n elements of field f (counted[i] so far in this message). */
static int add(walk_t *w, const ProtobufCFieldDescriptor *f, size_t *counted, size_t n)
{
    *counted += n;
    w->total += n;
    if (*counted > w->lim->max_repeated) {
        w->field = f->name;
        w->count = *counted;
        return -E2BIG;
    }
    if (w->total > w->lim->max_total) {
        w->field = "";
        w->count = w->total;
        return -E2BIG;
    }
    return 0;
}

static int walk_message(walk_t *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, unsigned depth);

/* One length-delimited value of field f (NULL: unknown) at p..p+n. */
static int walk_delimited(walk_t *w, const ProtobufCFieldDescriptor *f, size_t *counted,
                          const uint8_t *p, size_t n, unsigned depth)
{
    size_t elems = 1;
    int rc;

    if (!f)
        return 0;
    if (f->label == PROTOBUF_C_LABEL_REPEATED && f->type != PROTOBUF_C_TYPE_MESSAGE &&
        f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES &&
        (rc = packed_count(f, p, n, &elems)) != 0) {
        w->field = f->name;
        return rc;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED && (rc = add(w, f, counted, elems)) != 0)
        return rc;
    check_string(w, f, p, n);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        int was_bad = w->bad_string;
        rc = walk_message(w, f->descriptor, p, p + n, depth + 1);
        if (!was_bad && w->bad_string)
            prepend(w->path, w->cap, f->name);
        return rc;
    }
    return 0;
}

static int walk_message(walk_t *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, unsigned depth)
{
    size_t counted[256];
    uint64_t key, v;
    int rc;

    if (depth > PRESCAN_MAX_DEPTH || d->n_fields > 256) {
        w->field = d->name;
        return -EINVAL;
    }
    memset(counted, 0, d->n_fields * sizeof counted[0]);
    while (p < end) {
        if (read_varint(&p, end, &key) != 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX) {
            w->field = "";
            return -EINVAL;
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
        size_t *c = f ? &counted[f - d->fields] : NULL;
        w->field = f ? f->name : "";
        switch (key & 7) {
        case 0:
            if (read_varint(&p, end, &v) != 0)
                return -EINVAL;
            break;
        case 1: case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return -EINVAL;
            p += n;
            break;
        }
        case 2:
            if (read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
                return -EINVAL;
            if ((rc = walk_delimited(w, f, c, p, (size_t)v, depth)) != 0)
                return rc;
            p += v;
            continue; /* counted inside */
        default:
            return -EINVAL;
        }
        if (f && f->label == PROTOBUF_C_LABEL_REPEATED && (rc = add(w, f, c, 1)) != 0)
            return rc;
    }
    return 0;
}

int prescan_request(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                    const prescan_limits_t *lim, const char **field, size_t *count,
                    char *path, size_t cap)
{
    walk_t w = { lim, 0, "", 0, cap ? path : NULL, cap, 0 };
    int rc;

    if (w.path)
        w.path[0] = '\0';
    rc = len ? walk_message(&w, d, buf, buf + len, 0) : 0;
    *field = w.field;
    *count = w.count;
    if (rc == 0 && w.bad_string)
        return -EILSEQ;
    return rc;
}

int prescan(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
            const prescan_limits_t *lim, const char **field, size_t *count)
{
    return prescan_request(d, buf, len, lim, field, count, NULL, 0);
}
