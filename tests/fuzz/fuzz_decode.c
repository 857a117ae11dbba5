/*
 * fuzz_decode.c - libFuzzer driver for the request decoders: the wire
 * pre-scan (prescan.c: repeated-field limits, UTF-8 and NUL checks) and
 * protobuf-c's unpack, through codec.c's decode(), for the request type of
 * every method of patron_api (fuzz_api.h; the first input byte picks the
 * method). A client- or bidirectional-streaming method's input is a
 * sequence of messages (fuzz_next_frame), each decoded in turn.
 *
 * What must hold beyond "no crash, no leak, no undefined behaviour":
 * - a refused body has a status and a message saying why;
 * - strcheck() agrees with decode() on the strings of an accepted body;
 * - an accepted body re-encodes into bytes decode() accepts again, and
 *   those re-encode to the same bytes (nothing decoded is lost or
 *   invented between the edge and a handler).
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz_api.h"
#include "fuzz_common.h"
#include "strcheck.h"

const char *const *fuzz_targets(size_t *n)
{
    return fuzz_method_names(n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t n;
    fuzz_methods(&n);
    return 0;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);
    FUZZ_ASSERT(b != NULL, "out of memory packing %zu bytes", n);
    *len = protobuf_c_message_pack(m, b);
    FUZZ_ASSERT(*len == n, "packed %zu bytes, get_packed_size said %zu", *len, n);
    return b;
}

/* Decodes one message of type d; returns whether it was accepted. */
static int decode_one(const fuzz_method_t *fm, const uint8_t *b, size_t len)
{
    rpc_reply_t out;
    char path[128];
    ProtobufCMessage *m, *again;
    uint8_t *b1, *b2;
    size_t l1, l2;

    memset(&out, 0, sizeof out);
    m = decode(fm->in, b, len, &out);
    if (!m) {
        FUZZ_ASSERT(out.code != GRPC_STATUS_OK && out.message[0],
                    "%s: refused without a status", fm->name);
        return 0;
    }
    FUZZ_ASSERT(out.code == GRPC_STATUS_OK, "%s: decoded with status %d", fm->name,
                out.code);
    FUZZ_ASSERT(strcheck(fm->in, b, len, path, sizeof path) == 0,
                "%s: decode accepted a string strcheck refuses (%s)", fm->name, path);

    b1 = pack(m, &l1);
    again = decode(fm->in, b1, l1, &out);
    FUZZ_ASSERT(again != NULL, "%s: re-encoded request refused: %s", fm->name, out.message);
    b2 = pack(again, &l2);
    FUZZ_ASSERT(l1 == l2 && memcmp(b1, b2, l1) == 0,
                "%s: re-encoding is not stable (%zu vs %zu bytes)", fm->name, l1, l2);
    free(b1);
    free(b2);
    protobuf_c_message_free_unpacked(again, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n, target, len;
    const uint8_t *body, *msg, *end;
    const fuzz_method_t *fm = fuzz_methods(&n);
    int all = 1;

    if (fuzz_pick(data, size, &target, &body, &len) != 0)
        return 0;
    fm += target;
    if (fm->m->kind == RPC_CLIENT_STREAM || fm->m->kind == RPC_BIDI_STREAM) {
        end = body + len;
        while (fuzz_next_frame(&body, end, &msg, &len))
            all &= decode_one(fm, msg, len);
    } else {
        all = decode_one(fm, body, len);
    }
    if (all)
        fuzz_accepted(target);
    return 0;
}
