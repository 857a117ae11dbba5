/*
 * strcheck.c - the wire walk behind strcheck.h.
 */
#include "strcheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define MAX_DEPTH 32

static int varint(const uint8_t *buf, size_t len, size_t *i, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *i < len; shift += 7) {
        uint8_t b = buf[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

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

static int walk(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                char *path, size_t cap, int depth)
{
    size_t i = 0;

    while (i < len) {
        uint64_t tag, n;
        const ProtobufCFieldDescriptor *f;
        if (varint(buf, len, &i, &tag))
            return 0;
        switch (tag & 7) {
        case 0: if (varint(buf, len, &i, &n)) return 0; continue;
        case 1: i += 8; continue;
        case 5: i += 4; continue;
        case 2: break;
        default: return 0; /* groups or garbage: unpack decides */
        }
        if (varint(buf, len, &i, &n) || n > len - i)
            return 0;
        f = protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
        if (f && f->type == PROTOBUF_C_TYPE_STRING &&
            !utf8_valid((const char *)buf + i, (size_t)n)) {
            snprintf(path, cap, "%s", f->name);
            return -EILSEQ;
        }
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < MAX_DEPTH &&
            walk(f->descriptor, buf + i, (size_t)n, path, cap, depth + 1) != 0) {
            prepend(path, cap, f->name);
            return -EILSEQ;
        }
        i += (size_t)n;
    }
    return 0;
}

int strcheck(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
             char *path, size_t cap)
{
    if (cap)
        path[0] = '\0';
    return walk(d, buf, len, path, cap, 0);
}
