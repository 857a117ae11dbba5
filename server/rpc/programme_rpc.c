/*
 * programme_rpc.c - the programme's Admin methods (programme_rpc.h): the
 * text and facts of a version to and from ProgrammeVersion messages, and
 * the store's and the parser's errors to gRPC statuses: a text the
 * settings file's parser refuses is INVALID_ARGUMENT naming the line
 * ("text: programme:12: tier: ..."), a stale expected_version
 * FAILED_PRECONDITION; either way nothing changes.
 */
#include "programme_rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "patron/v1/admin.pb-c.h"
#include "programme_store.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100

/* m describes the version v (text: v->text, may be NULL); in_force set by
 * the caller. Strings borrow from v. */
static void version_msg(const programme_version_t *v, Patron__V1__ProgrammeVersion *m)
{
    patron__v1__programme_version__init(m);
    m->version = v->version;
    m->text = v->text ? v->text : "";
    m->text_bytes = v->len;
    m->set_unix_ms = v->set_ms;
    m->set_by = (char *)v->set_by;
    m->rollback_of = v->rollback_of;
}

/* The facts of a served snapshot, borrowing its text. */
static programme_version_t facts_of(const programme_t *p)
{
    programme_version_t v = { .version = p->version, .set_ms = p->set_ms,
                              .rollback_of = p->rollback_of, .text = p->text, .len = p->len };
    memcpy(v.set_by, p->set_by, sizeof v.set_by);
    return v;
}

/* Answers with p as the response's programme (in force). */
static void reply_programme(const programme_t *p, ProtobufCMessage *resp,
                            Patron__V1__ProgrammeVersion **field, rpc_reply_t *out)
{
    programme_version_t v = facts_of(p);
    Patron__V1__ProgrammeVersion m;
    version_msg(&v, &m);
    m.in_force = 1;
    *field = &m;
    encode(resp, out);
}

void h_get_programme(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__GetProgrammeRequest *r = (Patron__V1__GetProgrammeRequest *)decode(
        &patron__v1__get_programme_request__descriptor, req, len, out);
    Patron__V1__GetProgrammeResponse resp = PATRON__V1__GET_PROGRAMME_RESPONSE__INIT;
    Patron__V1__ProgrammeVersion m;
    programme_t *p;
    programme_version_t v;
    int rc;

    (void)ci;
    if (!r)
        return;
    p = app_programme(a);
    if (r->version == 0 || r->version == p->version) {
        reply_programme(p, &resp.base, &resp.programme, out);
    } else if ((rc = programme_store_get(a->store, r->version, &v)) == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "version: %" PRIu64 " is not stored", r->version);
    } else if (rc) {
        fail_errno(out, rc, "reading the programme version");
    } else {
        version_msg(&v, &m);
        resp.programme = &m;
        encode(&resp.base, out);
        programme_version_clear(&v);
    }
    programme_unref(p);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Stores and serves e, answering with the new version in resp; the errors
 * as the file comment says. */
static void set_and_reply(app_t *a, const app_programme_edit_t *e, ProtobufCMessage *resp,
                          Patron__V1__ProgrammeVersion **field, rpc_reply_t *out)
{
    programme_t *p = NULL;
    char err[512];
    int rc = app_programme_set(a, e, &p, err, sizeof err);

    if (rc == -EINVAL)
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "text: %s (nothing was changed)", err);
    else if (rc == -ESTALE)
        rpc_fail(out, GRPC_STATUS_FAILED_PRECONDITION, "%s", err);
    else if (rc)
        fail_errno(out, rc, "storing the programme (the one in force stays)");
    else
        reply_programme(p, resp, field, out);
    programme_unref(p);
}

void h_set_programme(void *app, const rpc_call_info_t *ci, const uint8_t *req, size_t len,
                     rpc_reply_t *out)
{
    Patron__V1__SetProgrammeRequest *r = (Patron__V1__SetProgrammeRequest *)decode(
        &patron__v1__set_programme_request__descriptor, req, len, out);
    Patron__V1__SetProgrammeResponse resp = PATRON__V1__SET_PROGRAMME_RESPONSE__INIT;
    app_programme_edit_t e;

    if (!r)
        return;
    e = (app_programme_edit_t){ .expected_version = r->expected_version, .text = r->text,
                                .len = strlen(r->text), .set_by = ci ? ci->caller : NULL };
    set_and_reply(app, &e, &resp.base, &resp.programme, out);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

void h_rollback_programme(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                          size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__RollbackProgrammeRequest *r = (Patron__V1__RollbackProgrammeRequest *)decode(
        &patron__v1__rollback_programme_request__descriptor, req, len, out);
    Patron__V1__RollbackProgrammeResponse resp = PATRON__V1__ROLLBACK_PROGRAMME_RESPONSE__INIT;
    app_programme_edit_t e;
    programme_version_t v;
    int rc;

    if (!r)
        return;
    if (r->to_version == 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "to_version: a stored version (1 or more) "
                 "required");
    } else if ((rc = programme_store_get(a->store, r->to_version, &v)) == -ENOENT) {
        rpc_fail(out, GRPC_STATUS_NOT_FOUND, "to_version: %" PRIu64 " is not stored",
                 r->to_version);
    } else if (rc) {
        fail_errno(out, rc, "reading the programme version");
    } else {
        e = (app_programme_edit_t){ .expected_version = r->expected_version, .text = v.text,
                                    .len = v.len, .set_by = ci ? ci->caller : NULL,
                                    .rollback_of = v.version };
        set_and_reply(a, &e, &resp.base, &resp.programme, out);
        programme_version_clear(&v);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- ListProgrammeVersions ----------------------------------------------------------- */

typedef struct page {
    Patron__V1__ProgrammeVersion *msgs;
    Patron__V1__ProgrammeVersion **ptrs;
    programme_version_t *facts;  /* the messages borrow set_by from here */
    size_t n;
    uint64_t in_force;
} page_t;

static int add_version(void *ctx, const programme_version_t *v)
{
    page_t *pg = ctx;
    pg->facts[pg->n] = *v;
    version_msg(&pg->facts[pg->n], &pg->msgs[pg->n]);
    pg->msgs[pg->n].in_force = v->version == pg->in_force;
    pg->ptrs[pg->n] = &pg->msgs[pg->n];
    pg->n++;
    return 0;
}

/* "": the newest; else "v<N>" as next_page_token wrote it. */
static int token_parse(const char *s, uint64_t *from)
{
    char *end;
    if (!*s) {
        *from = 0;
        return 0;
    }
    if (s[0] != 'v' || s[1] < '1' || s[1] > '9')
        return -1;
    errno = 0;
    *from = strtoull(s + 1, &end, 10);
    return *end || errno ? -1 : 0;
}

void h_list_programme_versions(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                               size_t len, rpc_reply_t *out)
{
    app_t *a = app;
    Patron__V1__ListProgrammeVersionsRequest *r =
        (Patron__V1__ListProgrammeVersionsRequest *)decode(
            &patron__v1__list_programme_versions_request__descriptor, req, len, out);
    Patron__V1__ListProgrammeVersionsResponse resp =
        PATRON__V1__LIST_PROGRAMME_VERSIONS_RESPONSE__INIT;
    page_t pg = { 0 };
    programme_t *p;
    uint64_t from = 0, next = 0;
    char token[24];
    size_t n;
    int rc;

    (void)ci;
    if (!r)
        return;
    if (r->page_size > PAGE_MAX || token_parse(r->page_token, &from) != 0) {
        rpc_fail(out, GRPC_STATUS_INVALID_ARGUMENT, "%s",
                 r->page_size > PAGE_MAX ? "page_size: at most 100 (0: 20)"
                 : "page_token: not a token ListProgrammeVersions returned (\"\" for the "
                   "first page)");
        goto out;
    }
    n = r->page_size ? r->page_size : PAGE_DEFAULT;
    p = app_programme(a);
    pg.in_force = p->version;
    programme_unref(p);
    if (!(pg.msgs = calloc(n, sizeof *pg.msgs)) || !(pg.ptrs = calloc(n, sizeof *pg.ptrs)) ||
        !(pg.facts = calloc(n, sizeof *pg.facts))) {
        rpc_fail(out, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if ((rc = programme_store_list(a->store, from, n, add_version, &pg, &next)) != 0) {
        fail_errno(out, rc, "listing the programme versions");
        goto out;
    }
    resp.versions = pg.ptrs;
    resp.n_versions = pg.n;
    if (next) {
        snprintf(token, sizeof token, "v%" PRIu64, next);
        resp.next_page_token = token;
    }
    encode(&resp.base, out);
out:
    free(pg.msgs);
    free(pg.ptrs);
    free(pg.facts);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
