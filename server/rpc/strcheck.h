/*
 * strcheck.h - every string field of a request, checked on the wire before
 * decoding: valid UTF-8 without NUL bytes (base/utf8.h). proto3 requires
 * UTF-8 (a typed client fails to deserialize a reply echoing anything else)
 * and protobuf-c hands strings over NUL-terminated, so "c1\0evil" would be
 * read as "c1". Nested messages and map entries are walked too.
 */
#ifndef PATRON_SERVER_STRCHECK_H
#define PATRON_SERVER_STRCHECK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* 0 if every string field of the message d in buf[0..len) is valid (or the
 * bytes are malformed: unpacking reports that); -EILSEQ with the field's
 * dotted path (e.g. "items.title") in path[0..cap) otherwise. */
int strcheck(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
             char *path, size_t cap);

#endif
