/*
 * fuzz_handlers.c - libFuzzer driver for the request handlers, with no
 * network: the first input byte picks a method of patron_api (fuzz_api.h),
 * the rest is its request, handed to the method's handler as the transport
 * would (transport.h) against a real app_t serving a temp store built by
 * fuzz_fixture.c (a trained model, coupons, customer attributes and an
 * experiment). Every method is driven:
 *   unary             handler(app, ci, bytes) -> reply
 *   client streaming  (StreamEvents) open, message per frame, finish, close
 *   server streaming  (SelectAudience, SelectCampaignAudience, Health/Watch)
 *                     start, next until done or parked (then the client
 *                     leaves, as a cancel), close
 *   bidi streaming    (server reflection) open, message per frame (each may
 *                     answer), finish, close
 * (frames: fuzz_next_frame). Writing and erasing handlers write to the temp
 * store; it is thrown away and copied afresh from the fixture every
 * RESET_EVERY inputs, so the store stays small and runs stay comparable.
 * With PATRON_FUZZ_WORKDIR=DIR the store is served from DIR instead, never
 * reset and kept at exit: tests/fuzz/seeds.sh reads stored records from it.
 * PATRON_FUZZ_VERBOSE=1 prints every reply's status (to see what a seed
 * reaches).
 *
 * What must hold beyond "no crash, no leak, no undefined behaviour, no
 * hang": every reply either has a non-OK status with a message, or is OK
 * with a body that decodes as the method's response type and whose strings
 * are valid UTF-8 without NUL (a typed client must be able to read every
 * answer: issue 20 item 7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "fuzz_api.h"
#include "fuzz_common.h"
#include "fuzz_fixture.h"
#include "methods.h"
#include "prescan.h"
#include "store_record.h"

#define RESET_EVERY 500          /* inputs between fresh copies of the store */
#define MAP_BYTES (64u << 20)    /* the temp store's LMDB map */
#define CALL_DEADLINE_MS 10000   /* each call's deadline: scans stop there */

/* The driver's state: one process serves one app at a time (libFuzzer runs
 * inputs one after another on one thread). */
typedef struct harness {
    char fixture[512];  /* the store as fuzz_fixture_build left it */
    char work[512];     /* the copy being served */
    store_t *store;
    app_t app;
    callstats_t *stats;
    unsigned since_reset;
    int open;
    int keep;           /* PATRON_FUZZ_WORKDIR: one store, kept */
    int verbose;        /* PATRON_FUZZ_VERBOSE: print every reply's status */
} harness_t;

static harness_t h; /* process-wide: LLVMFuzzerTestOneInput has no context */

const char *const *fuzz_targets(size_t *n)
{
    return fuzz_method_names(n);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "fuzz_handlers: %s: %s\n", what, store_strerror(rc));
    exit(2);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[1 << 16];
    size_t n;
    if (!in || !out)
        die(from, -errno);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            die(to, -EIO);
    if (ferror(in) || fclose(out) != 0)
        die(to, -EIO);
    fclose(in);
}

static void close_app(void)
{
    if (!h.open)
        return;
    app_destroy(&h.app);
    store_close(h.store);
    free(h.stats);
    h.store = NULL;
    h.stats = NULL;
    h.open = 0;
}

/* Serves a fresh copy of the fixture, as patrond's main does at start. */
static void open_app(void)
{
    char from[600], to[600];
    model_opts_t opts;
    int rc;

    close_app();
    snprintf(from, sizeof from, "%s/data.mdb", h.fixture);
    snprintf(to, sizeof to, "%s/data.mdb", h.work);
    copy_file(from, to);
    if ((rc = store_open(h.work, MAP_BYTES, &h.store)) != 0)
        die("opening the store copy", rc);
    model_opts_default(&opts);
    memset(&h.app, 0, sizeof h.app);
    if ((rc = app_init(&h.app, h.store, &opts)) != 0)
        die("app_init", rc);
    h.app.api = &patron_api;
    if (!(h.stats = calloc(patron_api.n_methods + 1, sizeof *h.stats)))
        die("stats", -ENOMEM);
    h.app.stats = h.stats;
    h.app.started_ms = 1;
    if ((rc = app_reload(&h.app, NULL)) != 0)
        die("loading the model", rc);
    if ((rc = app_load_experiments(&h.app)) != 0)
        die("loading the experiments", rc);
    h.since_reset = 0;
    h.open = 1;
}

static void remove_store(const char *dir)
{
    char p[600];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/patron.lock", dir);
    unlink(p);
    rmdir(dir);
}

static void cleanup(void)
{
    close_app();
    if (!h.keep)
        remove_store(h.work);
    remove_store(h.fixture);
}

static void make_dir(char *path, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(path, cap, "%s/patron-fuzz-%s-XXXXXX", base ? base : "/tmp", tag);
    if (!mkdtemp(path))
        die(path, -errno);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *keep;
    int rc;
    size_t n;

    fuzz_methods(&n);
    h.verbose = getenv("PATRON_FUZZ_VERBOSE") != NULL;
    make_dir(h.fixture, sizeof h.fixture, "fixture");
    if ((keep = getenv("PATRON_FUZZ_WORKDIR")) && *keep) {
        snprintf(h.work, sizeof h.work, "%s", keep);
        if (mkdir(h.work, 0700) != 0 && errno != EEXIST)
            die(h.work, -errno);
        h.keep = 1;
    } else {
        make_dir(h.work, sizeof h.work, "work");
    }
    atexit(cleanup);
    if ((rc = fuzz_fixture_build(h.fixture)) != 0)
        die("building the fixture", rc);
    open_app();
    return 0;
}

/* A reply must say why it failed, or carry a response a client can read.
 * Frees the body. Returns whether it was OK. */
static int check_reply(const fuzz_method_t *fm, rpc_reply_t *out)
{
    static const prescan_limits_t any = { SIZE_MAX, SIZE_MAX };
    const char *field;
    char path[128];
    size_t count;
    ProtobufCMessage *m;
    int ok = out->code == GRPC_STATUS_OK, rc;

    if (h.verbose)
        fprintf(stderr, "%s: status %d %s\n", fm->name, out->code, out->message);
    if (!ok) {
        FUZZ_ASSERT(out->message[0] != '\0', "%s: status %d without a message", fm->name,
                    out->code);
    } else if (out->body) {
        rc = prescan_request(fm->out, out->body, out->len, &any, &field, &count, path,
                             sizeof path);
        FUZZ_ASSERT(rc == 0, "%s: the response is not a readable %s (%d at %s)", fm->name,
                    fm->out->name, rc, rc == -EILSEQ ? path : field);
        m = protobuf_c_message_unpack(fm->out, NULL, out->len, out->body);
        FUZZ_ASSERT(m != NULL, "%s: the response does not decode as %s", fm->name,
                    fm->out->name);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    free(out->body);
    memset(out, 0, sizeof *out);
    return ok;
}

static int run_unary(const fuzz_method_t *fm, const rpc_call_info_t *ci,
                     const uint8_t *b, size_t len)
{
    rpc_reply_t out = { 0 };
    fm->m->handler(&h.app, ci, b, len, &out);
    return check_reply(fm, &out);
}

/* Client and bidirectional streaming: one message per frame until one
 * fails, then finish. */
static int run_client_stream(const fuzz_method_t *fm, const rpc_call_info_t *ci,
                             const uint8_t *b, size_t len)
{
    const rpc_stream_ops_t *ops = fm->m->stream;
    const uint8_t *end = b + len, *msg;
    rpc_reply_t out = { 0 };
    size_t mlen;
    int ok = 1;
    void *st = ops->open(&h.app, ci);

    FUZZ_ASSERT(st != NULL, "%s: open failed", fm->name);
    while (ok && fuzz_next_frame(&b, end, &msg, &mlen)) {
        ops->message(st, msg, mlen, &out);
        ok = check_reply(fm, &out);
    }
    if (ok) {
        ops->finish(st, &out);
        ok = check_reply(fm, &out);
    }
    ops->close(st);
    return ok;
}

static int run_server_stream(const fuzz_method_t *fm, const rpc_call_info_t *ci,
                             const uint8_t *b, size_t len)
{
    const rpc_stream_ops_t *ops = fm->m->stream;
    rpc_reply_t out = { 0 };
    void *st = ops->start(&h.app, ci, b, len, &out);
    int ok, more;

    if (!st) {
        check_reply(fm, &out);
        return 0;
    }
    FUZZ_ASSERT(out.code == GRPC_STATUS_OK, "%s: started with status %d", fm->name, out.code);
    /* A step that yields (audiences matching customers) is asked again,
     * as the transport would. */
    while ((more = ops->next(st, &out)) == RPC_STREAM_MESSAGE || more == RPC_STREAM_YIELD)
        FUZZ_ASSERT(check_reply(fm, &out), "%s: next gave a message with status %d",
                    fm->name, out.code);
    if (more == RPC_STREAM_WAIT) {
        /* nothing to send until something changes (Health/Watch): this
         * client goes away, as a cancel, with no further next() */
        ok = 1;
        free(out.body);
    } else {
        ok = check_reply(fm, &out);
    }
    ops->close(st);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n, target, len;
    const uint8_t *body;
    const fuzz_method_t *fm = fuzz_methods(&n);
    rpc_call_info_t ci = { .worker = 0 };
    int ok;

    if (fuzz_pick(data, size, &target, &body, &len) != 0)
        return 0;
    if (!h.open || (++h.since_reset > RESET_EVERY && !h.keep))
        open_app();
    fm += target;
    ci.deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                               gpr_time_from_millis(CALL_DEADLINE_MS, GPR_TIMESPAN));
    switch (fm->m->kind) {
    case RPC_UNARY: ok = run_unary(fm, &ci, body, len); break;
    case RPC_SERVER_STREAM: ok = run_server_stream(fm, &ci, body, len); break;
    default: ok = run_client_stream(fm, &ci, body, len); break;
    }
    if (ok)
        fuzz_accepted(target);
    return 0;
}
