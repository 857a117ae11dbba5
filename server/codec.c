/* codec.c - protobuf-c decoding/encoding and error replies (codec.h). */
#include "codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d,
                         const uint8_t *req, size_t len, rpc_reply_t *out)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, req);
    if (!m)
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "request body is not a valid %s", d->name);
    return m;
}

void encode(const ProtobufCMessage *m, rpc_reply_t *out)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    out->body = malloc(len ? len : 1);
    if (!out->body) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    out->len = protobuf_c_message_pack(m, out->body);
}

/* Maps a negative errno from recsys to a status, and logs it. */
void fail_errno(rpc_reply_t *out, int rc, const char *what)
{
    grpc_status_code code = GRPC_STATUS_INTERNAL;
    if (rc == -ENOSPC || rc == -ENOMEM)
        code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    rpc_fail(out, code, "%s: %s", what, strerror(-rc));
    plog(LOG_ERROR, "%s: %s", what, strerror(-rc)); /* no customer data */
}

