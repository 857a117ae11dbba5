/*
 * app_programme.c - the loyalty programme served (app.h): which one is in
 * force at start (the newest stored version, else the --profiles file, else
 * the defaults), and SetProgramme's path from text to served snapshot:
 * parse with the settings file's own parser, compare-and-set in the store
 * (programme_store.h), swap the snapshot in (programme.h).
 */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "programme_store.h"
#include "store_record.h"
#include "wallclock.h"

/* How a text is named in parse errors: "programme:LINE: setting: what". */
#define TEXT_NAME "programme"

programme_t *app_programme(app_t *a)
{
    return programme_slot_get(&a->programme);
}

/* Parses text and serves it as these facts; err says what is wrong. */
static int serve_text(app_t *a, const char *name, const char *text, size_t len,
                      const programme_version_t *facts, programme_t **out, char *err,
                      size_t cap)
{
    settings_t *s = malloc(sizeof *s); /* large (every rule table): not on the stack */
    programme_t *p = NULL;
    int rc;

    if (!s)
        return -ENOMEM;
    if ((rc = settings_parse(name, text, len, s, err, cap)) == 0 &&
        (rc = programme_new(s, text, len, facts->version, facts->set_ms, facts->set_by,
                            facts->rollback_of, &p)) == 0) {
        programme_slot_set(&a->programme, programme_ref(p));
    }
    free(s);
    if (out)
        *out = p;
    else
        programme_unref(p);
    return rc;
}

int app_programme_init(app_t *a)
{
    const programme_version_t none = { .version = 0 };
    char err[256];
    return serve_text(a, "defaults", "", 0, &none, NULL, err, sizeof err) ? -ENOMEM : 0;
}

/* The newest stored version in force; the file at path (may be NULL) is
 * not used, and a warning says so when its text differs. */
static int start_stored(app_t *a, uint64_t head, const char *path, char *err, size_t cap)
{
    programme_version_t v;
    char name[64];
    char *file = NULL;
    size_t flen = 0;
    int rc;

    if ((rc = programme_store_get(a->store, head, &v)) != 0) {
        snprintf(err, cap, "reading programme version %llu: %s", (unsigned long long)head,
                 store_strerror(rc));
        return rc;
    }
    snprintf(name, sizeof name, "stored programme version %llu", (unsigned long long)head);
    if ((rc = serve_text(a, name, v.text, v.len, &v, NULL, err, cap)) == 0) {
        plog(LOG_INFO, "programme: stored version %llu in force (set at unix ms %lld by %s; "
             "versions set over RPC win over --profiles)", (unsigned long long)v.version,
             (long long)v.set_ms, v.set_by[0] ? v.set_by : "(no --auth-file)");
        if (path && settings_read_file(path, &file, &flen, err, cap) == 0 &&
            (flen != v.len || memcmp(file, v.text, flen) != 0))
            plog(LOG_WARN, "programme: %s differs from stored version %llu and is not used; "
                 "to serve it, send its text with Admin/SetProgramme",
                 path, (unsigned long long)v.version);
        err[0] = '\0';
    }
    free(file);
    programme_version_clear(&v);
    return rc;
}

/* The --profiles file (path) in force as version 0. */
static int start_file(app_t *a, const char *path, char *err, size_t cap)
{
    const programme_version_t facts = { .version = 0 };
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = settings_read_file(path, &text, &len, err, cap)) != 0)
        return rc;
    if ((rc = serve_text(a, path, text, len, &facts, NULL, err, cap)) == 0)
        plog(LOG_INFO, "programme: settings from %s in force (version 0: no version stored "
             "yet; the first Admin/SetProgramme makes version 1)", path);
    free(text);
    return rc;
}

int app_programme_start(app_t *a, const char *path, char *err, size_t cap)
{
    uint64_t head = 0;
    int rc = programme_store_head(a->store, &head);

    if (rc) {
        snprintf(err, cap, "reading the stored programme: %s", store_strerror(rc));
        return rc;
    }
    if (head)
        return start_stored(a, head, path, err, cap);
    if (path)
        return start_file(a, path, err, cap);
    plog(LOG_INFO, "programme: the defaults in force (version 0: no --profiles file, no "
         "version stored)");
    return 0;
}

int app_programme_set(app_t *a, const app_programme_edit_t *e, programme_t **out, char *err,
                      size_t cap)
{
    settings_t *s = malloc(sizeof *s);
    programme_write_t w = { .text = e->text, .len = e->len, .now_ms = wall_ms(),
                            .set_by = e->set_by, .rollback_of = e->rollback_of };
    programme_t *p = NULL;
    uint64_t version = 0;
    int rc;

    *out = NULL;
    if (!s)
        return -ENOMEM;
    /* Validated before anything is stored: a bad text changes nothing. */
    if ((rc = settings_parse(TEXT_NAME, e->text, e->len, s, err, cap)) != 0)
        goto out;
    pthread_mutex_lock(&a->programme_mu);
    rc = programme_store_put(a->store, e->expected_version, &w, &version);
    if (rc == -ESTALE)
        snprintf(err, cap, "expected_version: %llu is not the current version %llu "
                 "(read it again with GetProgramme)",
                 (unsigned long long)e->expected_version, (unsigned long long)version);
    else if (rc == 0 && (rc = programme_new(s, e->text, e->len, version, w.now_ms, e->set_by,
                                            e->rollback_of, &p)) == 0)
        programme_slot_set(&a->programme, programme_ref(p));
    pthread_mutex_unlock(&a->programme_mu);
    if (rc == 0)
        plog(LOG_INFO, "programme: version %llu in force, set by %s%s",
             (unsigned long long)version, e->set_by && *e->set_by ? e->set_by
             : "(no --auth-file)", e->rollback_of ? " (a rollback)" : "");
    else if (rc == -ENOMEM && version)
        plog(LOG_ERROR, "programme: version %llu stored but not served (out of memory); "
             "it is served after a restart", (unsigned long long)version);
out:
    free(s);
    *out = p;
    return rc;
}
