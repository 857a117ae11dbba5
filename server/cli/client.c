/* client.c - blocking unary calls over one channel (see client.h). */
#include "client.h"
#include "pemfile.h"

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
    grpc_metadata auth;   /* "authorization: Bearer $PATRON_TOKEN" */
    int has_auth;
};

/* TLS when $PATRON_TLS_CA names a PEM file of trusted roots, else
 * plaintext. NULL if the file cannot be read. */
static grpc_channel_credentials *channel_credentials(void)
{
    const char *ca = getenv("PATRON_TLS_CA");
    grpc_channel_credentials *creds;
    char *pem;

    if (!ca || !*ca)
        return grpc_insecure_credentials_create();
    if (pemfile_read(ca, &pem) != 0)
        return NULL;
    creds = grpc_ssl_credentials_create(pem, NULL, NULL, NULL);
    free(pem);
    return creds;
}

int client_open(const char *addr, client_t **out)
{
    client_t *c = calloc(1, sizeof *c);
    const char *token = getenv("PATRON_TOKEN");
    grpc_channel_credentials *creds;
    if (!c)
        return -ENOMEM;
    grpc_init();
    if (!(creds = channel_credentials())) {
        free(c);
        grpc_shutdown();
        return -ENOENT;
    }
    c->channel = grpc_channel_create(addr, creds, NULL);
    grpc_channel_credentials_release(creds);
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    if (token && *token) {
        char *v = malloc(strlen(token) + 8);
        if (v) {
            sprintf(v, "Bearer %s", token);
            c->auth.key = grpc_slice_from_static_string("authorization");
            c->auth.value = grpc_slice_from_copied_string(v);
            c->has_auth = 1;
            free(v);
        }
    }
    *out = c;
    return 0;
}

/* The initial metadata every call sends: the token, if any. */
static void initial_metadata(const client_t *c, grpc_op *op)
{
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    op->data.send_initial_metadata.count = c->has_auth ? 1 : 0;
    op->data.send_initial_metadata.metadata = c->has_auth ? (grpc_metadata *)&c->auth : NULL;
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
    if (c->has_auth)
        grpc_slice_unref(c->auth.value);
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

/* Runs one batch on the client's pluck queue and waits for it. */
static grpc_call_error run_batch(client_t *c, grpc_call *call, grpc_op *ops, size_t n)
{
    int tag;
    grpc_call_error err = grpc_call_start_batch(call, ops, n, &tag, NULL);
    if (err == GRPC_CALL_OK)
        grpc_completion_queue_pluck(c->cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    return err;
}

static grpc_call *new_call(client_t *c, const char *method, int timeout_ms)
{
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    grpc_slice mslice = grpc_slice_from_copied_string(method);
    grpc_call *call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                               c->cq, mslice, NULL, deadline, NULL);
    grpc_slice_unref(mslice);
    return call;
}

/* Sends one message on a call (streaming). Returns 0 or -EIO. */
static int send_one(client_t *c, grpc_call *call, const uint8_t *msg, size_t len)
{
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)msg, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&body, 1);
    grpc_op op;
    grpc_call_error err;
    grpc_slice_unref(body);
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = bb;
    err = run_batch(c, call, &op, 1);
    grpc_byte_buffer_destroy(bb);
    return err == GRPC_CALL_OK ? 0 : -EIO;
}

/* Sends (optionally) initial metadata and one last message, half-closes,
 * and collects the response and status into res. */
static int finish_call(client_t *c, grpc_call *call, int send_initial,
                       grpc_byte_buffer *last, client_result_t *res)
{
    grpc_metadata_array init_md, trail_md;
    grpc_byte_buffer *recv = NULL;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    size_t n = 0;
    grpc_call_error err;

    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    memset(ops, 0, sizeof ops);
    if (send_initial)
        initial_metadata(c, &ops[n++]);
    if (last) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = last;
    }
    ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[n++].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n++].data.recv_message.recv_message = &recv;
    ops[n].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[n].data.recv_status_on_client.trailing_metadata = &trail_md;
    ops[n].data.recv_status_on_client.status = &res->code;
    ops[n++].data.recv_status_on_client.status_details = &details;
    err = run_batch(c, call, ops, n);
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
    return err == GRPC_CALL_OK ? 0 : -EIO;
}

struct client_stream {
    client_t *c;
    grpc_call *call;
    int ended;   /* a send failed: the call is over, only its status is left */
};

int client_stream_start(client_t *c, const char *method, int timeout_ms,
                        client_stream_t **out)
{
    client_stream_t *st = calloc(1, sizeof *st);
    grpc_op op;

    if (!st)
        return -ENOMEM;
    st->c = c;
    st->call = new_call(c, method, timeout_ms);
    memset(&op, 0, sizeof op);
    initial_metadata(c, &op);
    if (!st->call || run_batch(c, st->call, &op, 1) != GRPC_CALL_OK) {
        if (st->call)
            grpc_call_unref(st->call);
        free(st);
        return -EIO;
    }
    *out = st;
    return 0;
}

int client_stream_send(client_stream_t *st, const uint8_t *msg, size_t len)
{
    /* A failed send means the call ended (e.g. an error status): stop
     * sending; client_stream_finish collects the status. */
    if (!st->ended && send_one(st->c, st->call, msg, len) != 0)
        st->ended = 1;
    return st->ended ? -EIO : 0;
}

int client_stream_finish(client_stream_t *st, client_result_t *res)
{
    int rc;

    memset(res, 0, sizeof *res);
    rc = finish_call(st->c, st->call, 0, NULL, res);
    grpc_call_unref(st->call);
    free(st);
    return rc;
}

int client_stream_unary(client_t *c, const char *method, client_next_fn next,
                        void *ctx, int timeout_ms, client_result_t *res)
{
    client_stream_t *st;
    uint8_t *msg;
    size_t len;
    int rc = client_stream_start(c, method, timeout_ms, &st);

    memset(res, 0, sizeof *res);
    if (rc != 0)
        return rc;
    while (next(ctx, &msg, &len)) {
        int sent = client_stream_send(st, msg, len);
        free(msg);
        if (sent != 0)
            break;
    }
    return client_stream_finish(st, res);
}

int client_unary(client_t *c, const char *method, const uint8_t *req,
                 size_t len, int timeout_ms, client_result_t *res)
{
    grpc_call *call = new_call(c, method, timeout_ms);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1);
    int rc;

    memset(res, 0, sizeof *res);
    grpc_slice_unref(body);
    rc = finish_call(c, call, 1, send, res);
    grpc_byte_buffer_destroy(send);
    grpc_call_unref(call);
    return rc;
}

int client_unary_stream(client_t *c, const char *method, const uint8_t *req,
                        size_t len, int timeout_ms, client_recv_fn on_message,
                        void *ctx, client_result_t *res)
{
    grpc_call *call = new_call(c, method, timeout_ms);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1), *recv = NULL;
    grpc_metadata_array init_md, trail_md;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[4];
    int rc = 0;

    memset(res, 0, sizeof *res);
    grpc_slice_unref(body);
    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    memset(ops, 0, sizeof ops);
    initial_metadata(c, &ops[0]);
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    if (run_batch(c, call, ops, 4) != GRPC_CALL_OK)
        rc = -EIO;
    grpc_byte_buffer_destroy(send);
    /* Messages until the server ends the stream (recv stays NULL). */
    while (rc == 0) {
        grpc_op op;
        client_result_t msg = { 0 };
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &recv;
        if (run_batch(c, call, &op, 1) != GRPC_CALL_OK || !recv)
            break;
        take_body(recv, &msg);
        grpc_byte_buffer_destroy(recv);
        recv = NULL;
        if (msg.body && on_message(ctx, msg.body, msg.len) != 0) {
            free(msg.body);
            grpc_call_cancel(call, NULL);
            break;
        }
        free(msg.body);
    }
    if (rc == 0) {
        memset(ops, 0, sizeof ops);
        ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[0].data.recv_status_on_client.trailing_metadata = &trail_md;
        ops[0].data.recv_status_on_client.status = &res->code;
        ops[0].data.recv_status_on_client.status_details = &details;
        if (run_batch(c, call, ops, 1) == GRPC_CALL_OK) {
            char *d = grpc_slice_to_c_string(details);
            snprintf(res->details, sizeof res->details, "%s", d);
            gpr_free(d);
        } else {
            rc = -EIO;
        }
    }
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trail_md);
    grpc_call_unref(call);
    return rc;
}
