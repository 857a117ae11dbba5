/*
 * prescan.h - limits checked on the wire bytes before a request is decoded.
 *
 * protobuf_c_message_unpack allocates every element of every repeated field
 * before a handler can look at a count: one 16 MiB RecordEvents of empty
 * events (2 bytes each on the wire, ~140 once decoded) peaked at 1.16 GB
 * (issue 20 item 7). prescan walks the bytes instead - tags, varints and
 * length-delimited fields, descending into message fields - counting the
 * elements of each repeated field, without allocating, and stops at the
 * first count over the limit.
 */
#ifndef PATRON_SERVER_PRESCAN_H
#define PATRON_SERVER_PRESCAN_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#define PRESCAN_MAX_DEPTH 16   /* nested messages deeper are refused */

typedef struct prescan_limits {
    size_t max_repeated;   /* elements of one repeated field in one message */
    size_t max_total;      /* repeated elements in the whole request */
} prescan_limits_t;

/* Walks buf (len bytes) as a message of type d. Returns 0 when every count
 * is within lim; -E2BIG when one is not, with *field the name of the
 * repeated field (or "" for the total) and *count the elements counted so
 * far (> the limit); -EINVAL when the bytes are not a well-formed message
 * (truncated field, varint over 10 bytes, bad wire type, too deep), with
 * *field naming the field being read or "" for a tag. *field points into
 * the descriptor (static). Unknown fields are skipped. */
int prescan(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
            const prescan_limits_t *lim, const char **field, size_t *count);

/* The same walk, also checking every string field (nested messages and map
 * entries included) for valid UTF-8 without NUL bytes (base/utf8.h): when
 * the counts are within lim and the bytes well formed, -EILSEQ if a string
 * is not valid, with the first such field's dotted path (e.g.
 * "items.title") in path[0..cap). One pass over the request serves both
 * checks (decode in codec.c). */
int prescan_request(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                    const prescan_limits_t *lim, const char **field, size_t *count,
                    char *path, size_t cap);

#endif
