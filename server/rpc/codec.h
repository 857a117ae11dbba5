/*
 * codec.h - what every handler does at its edges: decode a protobuf request
 * (a malformed body becomes INVALID_ARGUMENT naming the message type),
 * encode a response, and turn a recsys errno into a status.
 */
#ifndef PATRON_SERVER_CODEC_H
#define PATRON_SERVER_CODEC_H

#include <protobuf-c/protobuf-c.h>

#include "patron/v1/common.pb-c.h"
#include "transport.h"

/* Unpacks req; on failure sets out's status and returns NULL. Free the
 * result with protobuf_c_message_free_unpacked. */
ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d, const uint8_t *req,
                         size_t len, rpc_reply_t *out);

/* Packs m into out->body (malloc'd, taken over by the transport). */
void encode(const ProtobufCMessage *m, rpc_reply_t *out);

/* Maps a negative errno to a status ("what: strerror") and logs it:
 * -ENOSPC/-EDQUOT (the disk is full; the message says so), -EFBIG (the
 * store reached its --map-size: "store full: ...") and -ENOMEM are
 * RESOURCE_EXHAUSTED, -ETIMEDOUT (the call's deadline passed, not logged)
 * DEADLINE_EXCEEDED, anything else INTERNAL. */
void fail_errno(rpc_reply_t *out, int rc, const char *what);

/* Records a response's provenance (request id, model version, experiment,
 * arm) as the call's access-log tags (rpc_tags_set): every handler that
 * answers with a Provenance calls it before encoding. */
void tag_provenance(const rpc_call_info_t *ci, const Patron__V1__Provenance *p);

/* A new request id: 32 hex characters from the kernel's CSPRNG (the format
 * of every Provenance.request_id). */
void rpc_new_request_id(char id[33]);

#endif
