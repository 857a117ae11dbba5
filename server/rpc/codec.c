/* codec.c - protobuf-c decoding/encoding and error replies (codec.h). */
#include "codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "prescan.h"
#include "store_record.h"

/* The largest repeated field any method accepts is 100,000 (RecordEvents'
 * events, UpsertItems' items); the handlers then apply their own, often
 * smaller, limits on the decoded counts. */
static const prescan_limits_t REQUEST_LIMITS = { 100000, 1000000 };

ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d,
                         const uint8_t *req, size_t len, rpc_reply_t *out)
{
    const char *field;
    char bad[128];
    size_t count;
    ProtobufCMessage *m;
    int rc = prescan_request(d, req, len, &REQUEST_LIMITS, &field, &count, bad,
                             sizeof bad);

    if (rc == -E2BIG) {
        if (field[0])
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED,
                     "%s: at most %zu per message, got more than that (%zu counted "
                     "before decoding)", field, REQUEST_LIMITS.max_repeated, count);
        else
            rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED,
                     "request: at most %zu repeated elements in all, got more than "
                     "that (%zu counted before decoding)", REQUEST_LIMITS.max_total, count);
        return NULL;
    }
    if (rc == -EILSEQ) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT,
                 "%s: must be valid UTF-8 without NUL bytes", bad);
        return NULL;
    }
    if (rc != 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "request body is not a valid %s%s%s",
                 d->name, field[0] ? ": malformed field " : "", field);
        return NULL;
    }
    m = protobuf_c_message_unpack(d, NULL, len, req);
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
    const char *why = store_strerror(rc);
    if (rc == -ENOSPC || rc == -EDQUOT) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED,
                 "%s: disk full (%s): nothing was written; free space on the "
                 "data directory's file system and retry", what, why);
        plog(LOG_ERROR, "%s: disk full (%s)", what, why);
        return;
    }
    if (rc == -EFBIG) { /* the store's map limit: store_strerror names it */
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "%s: %s (nothing was written; "
                 "reads are still served)", what, why);
        plog(LOG_ERROR, "%s: %s", what, why);
        return;
    }
    if (rc == -ETIMEDOUT) { /* the call's deadline passed (app_customers_begin) */
        rpc_fail(out, GRPC_STATUS_DEADLINE_EXCEEDED, "%s: the deadline passed", what);
        return;
    }
    if (rc == -ENOMEM)
        code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    /* store_strerror: for an unreadable record (-EBADMSG) it names the table
     * and key, which the operator needs to repair it; else strerror. */
    rpc_fail(out, code, "%s: %s", what, why);
    plog(LOG_ERROR, "%s: %s", what, why);
}


void rpc_new_request_id(char id[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16] = { 0 };
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        memcpy(raw, &ts, sizeof ts < sizeof raw ? sizeof ts : sizeof raw);
    }
    for (int i = 0; i < 16; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[32] = '\0';
}

void tag_provenance(const rpc_call_info_t *ci, const Patron__V1__Provenance *p)
{
    rpc_tags_set(ci, p->request_id, (unsigned long long)p->model_version, p->experiment_id,
                 p->arm_id);
}
