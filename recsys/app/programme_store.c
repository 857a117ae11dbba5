/*
 * programme_store.c - the programme's versions (programme_store.h): one
 * ProgrammeVersion record per version in table prog, keyed by the version
 * big-endian (so key order is version order), and the newest version in
 * progmeta, both written in one transaction.
 */
#include "programme_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigendian.h"
#include "patron/store/v1/programme.pb-c.h"
#include "store_record.h"

#define T_VERSIONS "prog"
#define T_META "progmeta"
#define META_HEAD "head"

void programme_version_clear(programme_version_t *v)
{
    if (!v)
        return;
    free(v->text);
    memset(v, 0, sizeof *v);
}

static int head_tx(store_tx_t *tx, uint64_t *head)
{
    unsigned char b[8];
    size_t len = 0;
    int rc = store_tx_get(tx, T_META, META_HEAD, strlen(META_HEAD), b, sizeof b, &len);

    *head = 0;
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if (len != 8)
        return store_record_bad(T_META, META_HEAD, strlen(META_HEAD), "not a version");
    *head = get_be64(b);
    return 0;
}

/* Reads go through read transactions (store_table_get), never the
 * writers' lock: GetProgramme and listing do not queue behind writes. */
int programme_store_head(store_t *s, uint64_t *version)
{
    void *val = NULL;
    size_t len = 0;
    int rc = store_table_get(s, T_META, META_HEAD, strlen(META_HEAD), &val, &len);

    *version = 0;
    if (rc == -ENOENT)
        return 0;
    if (rc == 0 && len != 8)
        rc = store_record_bad(T_META, META_HEAD, strlen(META_HEAD), "not a version");
    if (rc == 0)
        *version = get_be64(val);
    free(val);
    return rc;
}

/* Fills *out from a decoded record; with_text copies the text. */
static int from_record(const Patron__Store__V1__ProgrammeVersion *r, const unsigned char *key,
                       int with_text, programme_version_t *out)
{
    const char *text = r->text ? r->text : "";

    memset(out, 0, sizeof *out);
    if (r->version != get_be64(key) ||
        !store_record_copy_str(out->set_by, sizeof out->set_by, r->set_by))
        return store_record_bad(T_VERSIONS, key, 8, "version or set_by out of bounds");
    out->version = r->version;
    out->set_ms = r->set_ms;
    out->rollback_of = r->rollback_of;
    out->len = strlen(text);
    if (with_text && !(out->text = strdup(text)))
        return -ENOMEM;
    return 0;
}

/* Version `version` (with its text or not) into *out. */
static int get_version(store_t *s, uint64_t version, int with_text, programme_version_t *out)
{
    unsigned char key[8];
    ProtobufCMessage *m = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (version == 0)
        return -ENOENT;
    put_be64(key, version);
    rc = store_table_get_record(s, T_VERSIONS, key, sizeof key,
                                &patron__store__v1__programme_version__descriptor, &m);
    if (rc == 0)
        rc = from_record((const Patron__Store__V1__ProgrammeVersion *)m, key, with_text, out);
    store_record_free(m);
    if (rc)
        programme_version_clear(out);
    return rc;
}

int programme_store_get(store_t *s, uint64_t version, programme_version_t *out)
{
    return get_version(s, version, 1, out);
}

typedef struct put_op {
    uint64_t expected;
    const programme_write_t *w;
    uint64_t *version;
} put_op_t;

static int put_fn(store_tx_t *tx, void *ctx)
{
    put_op_t *op = ctx;
    Patron__Store__V1__ProgrammeVersion r = PATRON__STORE__V1__PROGRAMME_VERSION__INIT;
    unsigned char key[8], head_b[8];
    uint64_t head;
    int rc;

    if ((rc = head_tx(tx, &head)) != 0)
        return rc;
    *op->version = head;
    if (head != op->expected)
        return -ESTALE;
    r.version = head + 1;
    r.text = (char *)op->w->text;
    r.set_ms = op->w->now_ms;
    r.set_by = (char *)(op->w->set_by ? op->w->set_by : "");
    r.rollback_of = op->w->rollback_of;
    put_be64(key, r.version);
    if ((rc = store_tx_put_record(tx, T_VERSIONS, key, sizeof key, &r.base)) != 0)
        return rc;
    put_be64(head_b, r.version);
    if ((rc = store_tx_put(tx, T_META, META_HEAD, strlen(META_HEAD), head_b, sizeof head_b)))
        return rc;
    *op->version = r.version;
    return 0;
}

int programme_store_put(store_t *s, uint64_t expected, const programme_write_t *w,
                        uint64_t *version)
{
    put_op_t op = { .expected = expected, .w = w, .version = version };
    uint64_t head = 0;
    int rc;

    if (w->len > SETTINGS_MAX_TEXT || memchr(w->text, '\0', w->len) ||
        strlen(w->set_by ? w->set_by : "") > PROGRAMME_MAX_BY || w->rollback_of > expected)
        return -EINVAL;
    /* The record's text is a C string: the bytes must be copied with a NUL. */
    char *text = malloc(w->len + 1);
    programme_write_t copy = *w;
    if (!text)
        return -ENOMEM;
    memcpy(text, w->text, w->len);
    text[w->len] = '\0';
    copy.text = text;
    op.w = &copy;
    op.version = &head;
    rc = store_table_atomic(s, put_fn, &op);
    free(text);
    *version = head;
    return rc;
}

int programme_store_list(store_t *s, uint64_t from, size_t limit,
                         programme_store_visit_fn cb, void *ctx, uint64_t *next)
{
    programme_version_t v;
    uint64_t head, at;
    size_t n = 0;
    int rc;

    *next = 0;
    if ((rc = programme_store_head(s, &head)) != 0)
        return rc;
    /* Versions are never deleted and 1..head all exist: no scan needed. */
    at = from == 0 || from > head ? head : from;
    for (; at > 0 && n < limit; at--, n++) {
        if ((rc = get_version(s, at, 0, &v)) != 0)
            return rc == -ENOENT ? store_record_bad(T_VERSIONS, "", 0, "a version is missing")
                                 : rc;
        if ((rc = cb(ctx, &v)) != 0)
            return rc;
    }
    *next = at;
    return 0;
}
