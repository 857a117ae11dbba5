/* client.c - blocking unary calls over one channel (see client.h). */
#include "client.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client {
    grpc_channel *channel;
    grpc_completion_queue *cq;
};

int client_open(const char *addr, client_t **out)
{
    client_t *c = calloc(1, sizeof *c);
    grpc_channel_credentials *creds;
    if (!c)
        return -ENOMEM;
    grpc_init();
    creds = grpc_insecure_credentials_create();
    c->channel = grpc_channel_create(addr, creds, NULL);
    grpc_channel_credentials_release(creds);
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    *out = c;
    return 0;
}

void client_close(client_t *c)
{
    if (!c)
        return;
    grpc_channel_destroy(c->channel);
    grpc_completion_queue_shutdown(c->cq);
    while (grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME),
                                       NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(c->cq);
    free(c);
    grpc_shutdown();
}

static void take_body(grpc_byte_buffer *bb, client_result_t *res)
{
    grpc_byte_buffer_reader r;
    grpc_slice s;
    if (!bb || !grpc_byte_buffer_reader_init(&r, bb))
        return;
    s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    res->len = GRPC_SLICE_LENGTH(s);
    res->body = malloc(res->len ? res->len : 1);
    if (res->body)
        memcpy(res->body, GRPC_SLICE_START_PTR(s), res->len);
    grpc_slice_unref(s);
}

int client_unary(client_t *c, const char *method, const uint8_t *req,
                 size_t len, int timeout_ms, client_result_t *res)
{
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    grpc_slice mslice = grpc_slice_from_copied_string(method);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1), *recv = NULL;
    grpc_metadata_array init_md, trail_md;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    grpc_call *call;
    grpc_call_error err;
    int tag;

    memset(res, 0, sizeof *res);
    grpc_slice_unref(body);
    call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                    mslice, NULL, deadline, NULL);
    grpc_slice_unref(mslice);
    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
    ops[5].data.recv_status_on_client.status = &res->code;
    ops[5].data.recv_status_on_client.status_details = &details;
    err = grpc_call_start_batch(call, ops, 6, &tag, NULL);
    if (err == GRPC_CALL_OK)
        grpc_completion_queue_pluck(c->cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_byte_buffer_destroy(send);
    if (err == GRPC_CALL_OK) {
        char *d = grpc_slice_to_c_string(details);
        snprintf(res->details, sizeof res->details, "%s", d);
        gpr_free(d);
        if (res->code == GRPC_STATUS_OK)
            take_body(recv, res);
    }
    if (recv)
        grpc_byte_buffer_destroy(recv);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trail_md);
    grpc_call_unref(call);
    return err == GRPC_CALL_OK ? 0 : -EIO;
}
