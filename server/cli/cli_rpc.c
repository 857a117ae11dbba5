/*
 * cli_rpc.c - the one unary call helper of the `patron` commands (cli.h).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "status_names.h"

/* Long enough for reports over a large store; the server bounds its work. */
#define RPC_TIMEOUT_MS 30000

ProtobufCMessage *cli_rpc(client_t *c, const char *method, const ProtobufCMessage *msg,
                          const ProtobufCMessageDescriptor *resp_desc)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    client_result_t res = { 0 };
    ProtobufCMessage *out = NULL;

    if (!buf) {
        fprintf(stderr, "patron: out of memory\n");
        return NULL;
    }
    protobuf_c_message_pack(msg, buf);
    if (client_unary(c, method, buf, len, RPC_TIMEOUT_MS, &res) != 0)
        fprintf(stderr, "patron: could not start %s\n", method);
    else if (res.code != GRPC_STATUS_OK)
        fprintf(stderr, "patron: %s failed: %s: %s\n", method, status_name((int)res.code),
                res.details);
    else if (!(out = protobuf_c_message_unpack(resp_desc, NULL, res.len, res.body)))
        fprintf(stderr, "patron: the server's answer is not a valid %s\n", resp_desc->name);
    free(res.body);
    free(buf);
    return out;
}

ProtobufCMessage *cli_call(const char *addr, const char *method,
                           const ProtobufCMessage *msg,
                           const ProtobufCMessageDescriptor *resp_desc)
{
    client_t *c;
    ProtobufCMessage *out;

    if (client_open(addr, &c) != 0) {
        fprintf(stderr, "patron: cannot connect to %s\n", addr);
        return NULL;
    }
    out = cli_rpc(c, method, msg, resp_desc);
    client_close(c);
    return out;
}
