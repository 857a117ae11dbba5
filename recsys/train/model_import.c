/*
 * model_import.c - reading Spark and implicit factor files into factor
 * tables, checking them and publishing them as a model version (see
 * model_import.h for the layouts and the contract).
 *
 * The files are read whole before anything is written, and the publish is
 * one store transaction (store_publish_model): a bad file publishes
 * nothing, and a running patrond keeps serving the previous version.
 */
#include "model_import.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "grow.h"

/* Longest shop id accepted (the store's own limit is lower; it refuses
 * longer ones as unknown). */
#define MI_MAX_ID 1024

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    if (cap) {
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- factor tables --------------------------------------------------------------- */

void mi_rows_free(mi_rows_t *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n; i++)
        free(r->ids[i]);
    for (size_t f = 0; f < r->n_files; f++)
        free(r->files[f]);
    free(r->v);
    free(r->ids);
    free(r->files);
    free(r->file_of);
    free(r->pos_of);
    memset(r, 0, sizeof *r);
}

void mi_rows_where(const mi_rows_t *r, uint32_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s: %s %" PRIu64, r->files[r->file_of[i]],
             r->pos_is_line ? "line" : "row", r->pos_of[i]);
}

static int add_file(mi_rows_t *r, const char *path)
{
    char **files = realloc(r->files, (r->n_files + 1) * sizeof *files);
    if (!files)
        return -ENOMEM;
    r->files = files;
    if (!(files[r->n_files] = strdup(path)))
        return -ENOMEM;
    r->n_files++;
    return 0;
}

/* Appends a row (id copied, values copied) from the newest file. */
static int add_row(mi_rows_t *r, const char *id, const float *v, uint64_t pos)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        float *nv;
        char **ni;
        uint32_t *nf;
        uint64_t *np;
        if (cap > UINT32_MAX)
            return -E2BIG;
        if (!(nv = realloc(r->v, cap * r->dim * sizeof *nv)))
            return -ENOMEM;
        r->v = nv;
        if (!(ni = realloc(r->ids, cap * sizeof *ni)))
            return -ENOMEM;
        r->ids = ni;
        if (!(nf = realloc(r->file_of, cap * sizeof *nf)))
            return -ENOMEM;
        r->file_of = nf;
        if (!(np = realloc(r->pos_of, cap * sizeof *np)))
            return -ENOMEM;
        r->pos_of = np;
        r->cap = cap;
    }
    if (!(r->ids[r->n] = strdup(id)))
        return -ENOMEM;
    memcpy(r->v + (size_t)r->n * r->dim, v, r->dim * sizeof *v);
    r->file_of[r->n] = (uint32_t)(r->n_files - 1);
    r->pos_of[r->n] = pos;
    r->n++;
    return 0;
}

/* ---- part-file directories ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* The files a Spark writer leaves in dir, sorted (part-00000 first); path
 * itself when it is a regular file. Names starting with _ or . are
 * bookkeeping (_SUCCESS, .part-00000.crc). */
static int list_parts(const char *path, char ***out, size_t *n, char *err, size_t cap)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **l = NULL;
    size_t len = 0;

    *out = NULL;
    *n = 0;
    if (stat(path, &st) != 0)
        return fail(err, cap, -errno, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (!(l = malloc(sizeof *l)) || !(l[0] = strdup(path))) {
            free(l);
            return -ENOMEM;
        }
        *out = l;
        *n = 1;
        return 0;
    }
    if (!(d = opendir(path)))
        return fail(err, cap, -errno, "%s: %s", path, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char **nl;
        size_t sz;
        if (e->d_name[0] == '_' || e->d_name[0] == '.')
            continue;
        if (!(nl = realloc(l, (len + 1) * sizeof *nl))) {
            free_list(l, len);
            closedir(d);
            return -ENOMEM;
        }
        l = nl;
        sz = strlen(path) + strlen(e->d_name) + 2;
        if (!(l[len] = malloc(sz))) {
            free_list(l, len);
            closedir(d);
            return -ENOMEM;
        }
        snprintf(l[len++], sz, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (len == 0) {
        free(l);
        return fail(err, cap, -EINVAL, "%s: no part files", path);
    }
    qsort(l, len, sizeof *l, cmp_str);
    *out = l;
    *n = len;
    return 0;
}

/* Reads every line of every part file under path, calling fn(ctx, file,
 * line number, text without the newline) for non-blank lines. */
typedef int (*line_fn)(void *ctx, const char *file, uint64_t line, char *text,
                       char *err, size_t cap);

static int each_line(const char *path, line_fn fn, void *ctx, char *err, size_t cap)
{
    char **parts;
    size_t n_parts;
    int rc = list_parts(path, &parts, &n_parts, err, cap);
    char *buf = NULL;
    size_t bufcap = 0;

    for (size_t p = 0; p < n_parts && rc == 0; p++) {
        FILE *f = fopen(parts[p], "r");
        uint64_t line = 0;
        ssize_t got;
        if (!f) {
            rc = fail(err, cap, -errno, "%s: %s", parts[p], strerror(errno));
            break;
        }
        while (rc == 0 && (got = getline(&buf, &bufcap, f)) >= 0) {
            size_t len = (size_t)got;
            line++;
            while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                buf[--len] = '\0';
            if (len == 0)
                continue;
            if (strlen(buf) != len)
                rc = fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": a NUL byte",
                          parts[p], line);
            else
                rc = fn(ctx, parts[p], line, buf, err, cap);
        }
        if (rc == 0 && ferror(f))
            rc = fail(err, cap, -EIO, "%s: read error", parts[p]);
        fclose(f);
    }
    free(buf);
    free_list(parts, n_parts);
    return rc;
}

/* ---- id maps ------------------------------------------------------------------- */

typedef struct idmap_build {
    mi_idmap_t *m;
    size_t cap;
    const char *last_file;
    uint64_t *lines;      /* where each key came from, for duplicates */
    char **files;
} idmap_build_t;

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;
    if (!*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int idmap_line(void *ctx, const char *file, uint64_t line, char *text,
                      char *err, size_t cap)
{
    idmap_build_t *b = ctx;
    mi_idmap_t *m = b->m;
    char *comma = strchr(text, ',');
    const char *id;
    int64_t key;

    if (!comma)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": expected INT,SHOP_ID",
                    file, line);
    *comma = '\0';
    id = comma + 1;
    if (parse_i64(text, &key) != 0) {
        if (line == 1)
            return 0; /* a header line (df.write.option("header", true)) */
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": \"%s\" is not an integer id",
                    file, line, text);
    }
    if (!*id || strlen(id) > MI_MAX_ID)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": shop id must be 1..%d "
                    "characters", file, line, MI_MAX_ID);
    if (m->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        int64_t *nk = realloc(m->keys, nc * sizeof *nk);
        char **ni;
        uint64_t *nl;
        char **nf;
        if (!nk)
            return -ENOMEM;
        m->keys = nk;
        if (!(ni = realloc(m->ids, nc * sizeof *ni)))
            return -ENOMEM;
        m->ids = ni;
        if (!(nl = realloc(b->lines, nc * sizeof *nl)))
            return -ENOMEM;
        b->lines = nl;
        if (!(nf = realloc(b->files, nc * sizeof *nf)))
            return -ENOMEM;
        b->files = nf;
        b->cap = nc;
    }
    if (!(m->ids[m->n] = strdup(id)))
        return -ENOMEM;
    m->keys[m->n] = key;
    b->lines[m->n] = line;
    b->files[m->n] = NULL;
    if (!b->last_file || strcmp(b->last_file, file) != 0) {
        /* one copy per file, referenced by its rows */
        if (!(b->files[m->n] = strdup(file))) {
            free(m->ids[m->n]);
            return -ENOMEM;
        }
        b->last_file = b->files[m->n];
    }
    m->n++;
    return 0;
}

/* Sorts keys (with ids, lines, file pointers) by key: a permutation. */
typedef struct keyed {
    int64_t key;
    size_t at;
} keyed_t;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed_t *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->at > y->at) - (x->at < y->at);
}

/* The file of entry i: the nearest file pointer at or before it. */
static const char *idmap_file(const idmap_build_t *b, size_t i)
{
    while (!b->files[i])
        i--;
    return b->files[i];
}

static int idmap_sort(idmap_build_t *b, char *err, size_t cap)
{
    mi_idmap_t *m = b->m;
    keyed_t *k = malloc((m->n ? m->n : 1) * sizeof *k);
    int64_t *keys = malloc((m->n ? m->n : 1) * sizeof *keys);
    char **ids = malloc((m->n ? m->n : 1) * sizeof *ids);
    int rc = 0;

    if (!k || !keys || !ids) {
        free(k);
        free(keys);
        free(ids);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->n; i++)
        k[i] = (keyed_t){ m->keys[i], i };
    qsort(k, m->n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < m->n; i++) {
        keys[i] = k[i].key;
        ids[i] = m->ids[k[i].at];
        if (i && k[i].key == k[i - 1].key && rc == 0)
            rc = fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": id %" PRId64
                      " mapped twice (also %s: line %" PRIu64 ")",
                      idmap_file(b, k[i].at), b->lines[k[i].at], k[i].key,
                      idmap_file(b, k[i - 1].at), b->lines[k[i - 1].at]);
    }
    free(m->keys);
    free(m->ids);
    m->keys = keys;
    m->ids = ids;
    free(k);
    return rc;
}

int mi_idmap_read(const char *path, mi_idmap_t *out, char *err, size_t cap)
{
    idmap_build_t b = { .m = out };
    int rc;

    memset(out, 0, sizeof *out);
    rc = each_line(path, idmap_line, &b, err, cap);
    if (rc == 0 && out->n == 0)
        rc = fail(err, cap, -EINVAL, "%s: the id map is empty", path);
    if (rc == 0)
        rc = idmap_sort(&b, err, cap);
    for (size_t i = 0; i < out->n; i++)
        free(b.files[i]);
    free(b.files);
    free(b.lines);
    if (rc)
        mi_idmap_free(out);
    return rc;
}

void mi_idmap_free(mi_idmap_t *m)
{
    if (!m)
        return;
    free_list(m->ids, m->n);
    free(m->keys);
    memset(m, 0, sizeof *m);
}

static const char *idmap_find(const mi_idmap_t *m, int64_t key)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->keys[lo] == key ? m->ids[lo] : NULL;
}

/* ---- Spark JSON lines ------------------------------------------------------------- */

typedef struct spark_ctx {
    mi_rows_t *r;
    const mi_idmap_t *map;
    const char *file;     /* the file rows are being added from */
    float *row;           /* scratch: one row */
    uint64_t first_line;  /* where the row that fixed dim came from */
    char *first_file;
} spark_ctx_t;

/* One feature as a float, or a message. */
static const char *feature_value(json_object *e, float *out)
{
    double d;
    if (json_object_is_type(e, json_type_string)) {
        const char *s = json_object_get_string(e);
        if (!strcmp(s, "NaN") || !strcmp(s, "Infinity") || !strcmp(s, "-Infinity"))
            return "is not finite";
        return "is not a number";
    }
    if (!json_object_is_type(e, json_type_double) && !json_object_is_type(e, json_type_int))
        return "is not a number";
    d = json_object_get_double(e);
    if (!isfinite(d) || fabs(d) > 3.4e38)
        return "is not finite";
    *out = (float)d;
    return NULL;
}

static int spark_features(spark_ctx_t *c, const char *file, uint64_t line,
                          json_object *feats, char *err, size_t cap)
{
    size_t len;
    if (!feats || !json_object_is_type(feats, json_type_array))
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": \"features\" must be an "
                    "array of numbers", file, line);
    len = json_object_array_length(feats);
    if (len == 0 || len > 4096)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": \"features\" has %zu "
                    "values (1..4096 accepted)", file, line, len);
    if (c->r->dim == 0) {
        c->r->dim = (uint32_t)len;
        if (!(c->row = malloc(len * sizeof *c->row)) || !(c->first_file = strdup(file)))
            return -ENOMEM;
        c->first_line = line;
    } else if (len != c->r->dim) {
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": %zu features, expected %u "
                    "as in %s: line %" PRIu64, file, line, len, c->r->dim,
                    c->first_file, c->first_line);
    }
    for (size_t i = 0; i < len; i++) {
        const char *why = feature_value(json_object_array_get_idx(feats, i), &c->row[i]);
        if (why)
            return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": features[%zu] %s",
                        file, line, i, why);
    }
    return 0;
}

static int spark_line(void *ctx, const char *file, uint64_t line, char *text,
                      char *err, size_t cap)
{
    spark_ctx_t *c = ctx;
    enum json_tokener_error jerr = json_tokener_success;
    json_object *o = json_tokener_parse_verbose(text, &jerr), *id = NULL, *feats = NULL;
    char num[32];
    const char *shop;
    int64_t key;
    int rc;

    if (!o)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": not JSON (%s)", file, line,
                    json_tokener_error_desc(jerr));
    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_int)) {
        json_object_put(o);
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": expected {\"id\": INT, "
                    "\"features\": [...]}", file, line);
    }
    key = json_object_get_int64(id);
    json_object_object_get_ex(o, "features", &feats);
    rc = spark_features(c, file, line, feats, err, cap);
    json_object_put(o);
    if (rc)
        return rc;
    if (c->map) {
        if (!(shop = idmap_find(c->map, key)))
            return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": id %" PRId64
                        " is not in the id map", file, line, key);
    } else {
        snprintf(num, sizeof num, "%" PRId64, key);
        shop = num;
    }
    if (!c->file || strcmp(c->file, file) != 0) {
        if ((rc = add_file(c->r, file)) != 0)
            return rc;
        c->file = c->r->files[c->r->n_files - 1];
    }
    return add_row(c->r, shop, c->row, line);
}

int mi_read_spark(const char *dir, const mi_idmap_t *map, mi_rows_t *out,
                  char *err, size_t cap)
{
    spark_ctx_t c = { .r = out, .map = map };
    int rc;

    memset(out, 0, sizeof *out);
    out->pos_is_line = 1;
    rc = each_line(dir, spark_line, &c, err, cap);
    if (rc == 0 && out->n == 0)
        rc = fail(err, cap, -EINVAL, "%s: no factor rows", dir);
    free(c.row);
    free(c.first_file);
    if (rc)
        mi_rows_free(out);
    return rc;
}

/* ---- NumPy .npy ------------------------------------------------------------------ */

/* The value text after 'key': in a header dict, or NULL. */
static const char *npy_field(const char *hdr, const char *key)
{
    char pat[32];
    const char *p;
    snprintf(pat, sizeof pat, "'%s'", key);
    if (!(p = strstr(hdr, pat)))
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p++ != ':')
        return NULL;
    while (*p == ' ')
        p++;
    return p;
}

/* Parses "(R, C)" into rows and cols; other ranks are refused. */
static const char *npy_shape(const char *p, uint64_t *rows, uint64_t *cols)
{
    uint64_t d[3];
    int n = 0;
    char *end;
    if (!p || *p++ != '(')
        return "no shape";
    while (*p == ' ')
        p++;
    while (*p != ')') {
        if (n == 3 || *p < '0' || *p > '9')
            return "shape must be 2-D (rows, factors)";
        d[n++] = strtoull(p, &end, 10);
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        while (*p == ' ')
            p++;
    }
    if (n != 2)
        return "shape must be 2-D (rows, factors)";
    *rows = d[0];
    *cols = d[1];
    return NULL;
}

typedef struct npy_hdr {
    size_t item;          /* 4 or 8 */
    uint64_t rows, cols;
    size_t data_off;
} npy_hdr_t;

static const char *npy_parse_header(const unsigned char *b, size_t len, npy_hdr_t *h)
{
    size_t hl, off;
    char *text;
    const char *p, *why = NULL;

    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return "not a NumPy .npy file (no \\x93NUMPY magic)";
    if (b[6] == 1) {
        hl = (size_t)b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if (b[6] == 2 || b[6] == 3) {
        if (len < 12)
            return "truncated header";
        hl = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else {
        return "unsupported .npy format version (1.0, 2.0 and 3.0 are read)";
    }
    if (hl > len - off)
        return "truncated header";
    if (!(text = malloc(hl + 1)))
        return "out of memory";
    memcpy(text, b + off, hl);
    text[hl] = '\0';
    p = npy_field(text, "descr");
    if (!p)
        why = "header has no 'descr'";
    else if (!strncmp(p, "'<f4'", 5))
        h->item = 4;
    else if (!strncmp(p, "'<f8'", 5))
        h->item = 8;
    else
        why = "dtype must be '<f4' or '<f8' (little-endian float32/float64)";
    if (!why) {
        p = npy_field(text, "fortran_order");
        if (!p || strncmp(p, "False", 5) != 0)
            why = "fortran_order must be False (save a C-ordered array: "
                  "np.ascontiguousarray)";
    }
    if (!why)
        why = npy_shape(npy_field(text, "shape"), &h->rows, &h->cols);
    free(text);
    h->data_off = off + hl;
    return why;
}

static int read_file(const char *path, unsigned char **buf, size_t *len,
                     char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    size_t got;

    *buf = NULL;
    if (!f)
        return fail(err, cap, -errno, "%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(err, cap, -EINVAL, "%s: not a regular file", path);
    }
    if (!(*buf = malloc((size_t)st.st_size + 1))) {
        fclose(f);
        return -ENOMEM;
    }
    got = fread(*buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (got != (size_t)st.st_size) {
        free(*buf);
        *buf = NULL;
        return fail(err, cap, -EIO, "%s: read error", path);
    }
    *len = got;
    return 0;
}

int mi_read_npy(const char *path, float **v, uint32_t *rows, uint32_t *cols,
                char *err, size_t cap)
{
    unsigned char *b;
    size_t len = 0, want;
    npy_hdr_t h = { 0 };
    const char *why;
    int rc = read_file(path, &b, &len, err, cap);

    *v = NULL;
    if (rc)
        return rc;
    if ((why = npy_parse_header(b, len, &h)) != NULL) {
        free(b);
        return fail(err, cap, -EINVAL, "%s: %s", path, why);
    }
    if (h.rows == 0 || h.cols == 0 || h.rows > UINT32_MAX || h.cols > 4096) {
        free(b);
        return fail(err, cap, -EINVAL, "%s: shape (%" PRIu64 ", %" PRIu64 "): need 1.."
                    "%u rows and 1..4096 factors", path, h.rows, h.cols, UINT32_MAX);
    }
    want = (size_t)(h.rows * h.cols) * h.item;
    if (len - h.data_off != want) {
        rc = fail(err, cap, -EINVAL, "%s: %s: shape (%" PRIu64 ", %" PRIu64 ") needs %zu "
                  "bytes of data, the file has %zu", path,
                  len - h.data_off < want ? "truncated" : "trailing bytes",
                  h.rows, h.cols, want, len - h.data_off);
        free(b);
        return rc;
    }
    if (!(*v = malloc(want / h.item * sizeof **v))) {
        free(b);
        return -ENOMEM;
    }
    for (size_t i = 0; i < want / h.item; i++) {
        if (h.item == 4) {
            memcpy(&(*v)[i], b + h.data_off + i * 4, 4);
        } else {
            double d;
            memcpy(&d, b + h.data_off + i * 8, 8);
            (*v)[i] = fabs(d) > 3.4e38 && isfinite(d) ? (float)INFINITY : (float)d;
        }
    }
    free(b);
    *rows = (uint32_t)h.rows;
    *cols = (uint32_t)h.cols;
    return 0;
}

/* ---- implicit: npy + id list ----------------------------------------------------- */

typedef struct ids_ctx {
    mi_rows_t *r;
    const float *v;
    uint32_t rows;
} ids_ctx_t;

static int ids_line(void *ctx, const char *file, uint64_t line, char *text,
                    char *err, size_t cap)
{
    ids_ctx_t *c = ctx;
    if (c->r->n >= c->rows)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": more ids than the %u "
                    "factor rows", file, line, c->rows);
    if (line != (uint64_t)c->r->n + 1)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": empty id", file,
                    (uint64_t)c->r->n + 1);
    if (strlen(text) > MI_MAX_ID)
        return fail(err, cap, -EINVAL, "%s: line %" PRIu64 ": id longer than %d",
                    file, line, MI_MAX_ID);
    return add_row(c->r, text, c->v + (size_t)c->r->n * c->r->dim, c->r->n);
}

int mi_read_implicit(const char *dir, const char *name, mi_rows_t *out,
                     char *err, size_t cap)
{
    size_t sz = strlen(dir) + strlen(name) + 32;
    char *npy = malloc(sz), *ids = malloc(sz);
    ids_ctx_t c = { .r = out };
    struct stat st;
    int rc;

    memset(out, 0, sizeof *out);
    if (!npy || !ids) {
        free(npy);
        free(ids);
        return -ENOMEM;
    }
    snprintf(npy, sz, "%s/%s_factors.npy", dir, name);
    snprintf(ids, sz, "%s/%s_ids.txt", dir, name);
    rc = mi_read_npy(npy, (float **)&c.v, &c.rows, &out->dim, err, cap);
    if (rc == 0 && stat(ids, &st) == 0 && S_ISDIR(st.st_mode))
        rc = fail(err, cap, -EINVAL, "%s: must be a file", ids);
    if (rc == 0)
        rc = add_file(out, npy);
    if (rc == 0)
        rc = each_line(ids, ids_line, &c, err, cap);
    if (rc == 0 && out->n != c.rows)
        rc = fail(err, cap, -EINVAL, "%s: %u ids for the %u rows of %s", ids, out->n,
                  c.rows, npy);
    free((float *)c.v);
    free(npy);
    free(ids);
    if (rc)
        mi_rows_free(out);
    return rc;
}

/* ---- checks ---------------------------------------------------------------------- */

typedef struct row_id {
    const char *id;
    uint32_t row;
} row_id_t;

static int cmp_row_id(const void *a, const void *b)
{
    const row_id_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

int mi_validate(const mi_rows_t *r, const char *what, char *err, size_t cap)
{
    char here[512], there[512];
    row_id_t *order;
    int rc = 0;

    if (r->n == 0 || r->dim == 0)
        return fail(err, cap, -EINVAL, "%s: no rows", what);
    for (uint32_t i = 0; i < r->n; i++)
        for (uint32_t d = 0; d < r->dim; d++)
            if (!isfinite(r->v[(size_t)i * r->dim + d])) {
                mi_rows_where(r, i, here, sizeof here);
                return fail(err, cap, -EINVAL, "%s: %s: value %u is not finite (%s %s)",
                            what, here, d, "id", r->ids[i]);
            }
    if (!(order = malloc(r->n * sizeof *order)))
        return -ENOMEM;
    for (uint32_t i = 0; i < r->n; i++)
        order[i] = (row_id_t){ r->ids[i], i };
    qsort(order, r->n, sizeof *order, cmp_row_id);
    for (uint32_t i = 1; i < r->n && rc == 0; i++)
        if (!strcmp(order[i].id, order[i - 1].id)) {
            mi_rows_where(r, order[i].row, here, sizeof here);
            mi_rows_where(r, order[i - 1].row, there, sizeof there);
            rc = fail(err, cap, -EINVAL, "%s: %s: id \"%s\" twice (also %s)", what, here,
                      order[i].id, there);
        }
    free(order);
    return rc;
}

/* ---- publishing ------------------------------------------------------------------ */

/* Places items' rows at the store's item indices; an unknown item fails. */
static int place_items(store_t *s, const mi_rows_t *items, uint32_t n_items,
                       float *item_f, mi_report_t *rep, char *err, size_t cap)
{
    char here[512];
    uint32_t *hit = calloc(n_items ? n_items : 1, sizeof *hit);
    if (!hit)
        return -ENOMEM;
    for (uint32_t i = 0; i < items->n; i++) {
        uint32_t idx;
        int rc = store_item_index(s, items->ids[i], &idx);
        if (rc == -ENOENT || (rc == 0 && idx >= n_items)) {
            mi_rows_where(items, i, here, sizeof here);
            free(hit);
            return fail(err, cap, -EINVAL, "item factors: %s: item \"%s\" is not in the "
                        "catalog", here, items->ids[i]);
        }
        if (rc) {
            free(hit);
            return rc;
        }
        memcpy(item_f + (size_t)idx * items->dim, items->v + (size_t)i * items->dim,
               items->dim * sizeof *item_f);
        hit[idx] = 1;
        rep->items_imported++;
    }
    for (uint32_t j = 0; j < n_items; j++)
        rep->items_without += !hit[j];
    free(hit);
    return 0;
}

/* Places customers' rows at the store's customer indices; customers the
 * store has no events of are counted and skipped. */
static int place_users(store_t *s, const mi_rows_t *users, uint32_t n_users,
                       float *user_f, mi_report_t *rep)
{
    for (uint32_t i = 0; i < users->n; i++) {
        uint32_t idx;
        int rc = store_customer_index(s, users->ids[i], &idx);
        if (rc == -ENOENT || (rc == 0 && idx >= n_users)) {
            rep->users_unknown++;
            continue;
        }
        if (rc)
            return rc;
        memcpy(user_f + (size_t)idx * users->dim, users->v + (size_t)i * users->dim,
               users->dim * sizeof *user_f);
        rep->users_imported++;
    }
    return 0;
}

/* Popularity and the recency reference, as train_run computes them. */
static int popularity(store_t *s, const train_config_t *c, uint32_t n_items, float *pop,
                      mi_report_t *rep)
{
    csr_t ui = { 0 };
    int64_t newest = 0;
    int rc = train_build_matrix(s, c, NULL, NULL, &ui, &rep->events, &newest);

    memset(pop, 0, (size_t)n_items * sizeof *pop);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if (ui.n_cols > n_items) {
        /* items registered since the counts were read: not in this model */
        float *all = calloc(ui.n_cols, sizeof *all);
        if (!all) {
            csr_free(&ui);
            return -ENOMEM;
        }
        train_popularity(&ui, c->w_purchase, all);
        memcpy(pop, all, (size_t)n_items * sizeof *pop);
        free(all);
    } else {
        train_popularity(&ui, c->w_purchase, pop);
    }
    rep->hdr.newest_event_ms = newest;
    csr_free(&ui);
    return 0;
}

static void fill_header(const train_config_t *c, const char *source, uint32_t dim,
                        uint32_t n_users, uint32_t n_items, store_model_hdr_t *h)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    h->trained_at_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    h->factors = dim;
    h->n_users = n_users;
    h->n_items = n_items;
    h->iterations = 0;
    h->reg = c->als.reg;
    h->alpha = c->als.alpha;
    h->alpha0 = c->als.alpha0;
    h->nu = c->als.nu;
    h->final_loss = 0;
    h->w_view = c->w_view;
    h->w_cart = c->w_cart;
    h->w_purchase = c->w_purchase;
    h->w_refund = c->w_refund;
    h->w_not_interested = c->w_not_interested;
    h->half_life_days = c->half_life_days;
    snprintf(h->source, sizeof h->source, "%s", source ? source : "");
}

int mi_publish(store_t *s, const mi_rows_t *users, const mi_rows_t *items,
               const train_config_t *c, const char *source, mi_report_t *rep,
               char *err, size_t cap)
{
    uint32_t n_users, n_items, f = items->dim;
    float *user_f = NULL, *item_f = NULL, *pop = NULL;
    int rc;

    memset(rep, 0, sizeof *rep);
    if ((rc = mi_validate(users, "customer factors", err, cap)) != 0 ||
        (rc = mi_validate(items, "item factors", err, cap)) != 0)
        return rc;
    if (users->dim != items->dim)
        return fail(err, cap, -EINVAL, "customer factors have %u values per row, item "
                    "factors %u", users->dim, items->dim);
    /* Every event stored from here on is news to the model (train_run). */
    if ((rc = store_event_seq(s, &rep->hdr.train_seq)) != 0 ||
        (rc = store_counts(s, &n_users, &n_items)) != 0)
        return rc;
    if (n_items == 0)
        return fail(err, cap, -EINVAL, "the catalog is empty: import the items first");
    user_f = calloc((size_t)(n_users ? n_users : 1) * f, sizeof *user_f);
    item_f = calloc((size_t)n_items * f, sizeof *item_f);
    pop = malloc((size_t)n_items * sizeof *pop);
    if (!user_f || !item_f || !pop)
        rc = -ENOMEM;
    if (rc == 0)
        rc = place_items(s, items, n_items, item_f, rep, err, cap);
    if (rc == 0)
        rc = place_users(s, users, n_users, user_f, rep);
    if (rc == 0)
        rc = popularity(s, c, n_items, pop, rep);
    if (rc == 0) {
        fill_header(c, source, f, n_users, n_items, &rep->hdr);
        rc = store_publish_model(s, &rep->hdr, user_f, item_f, pop);
    }
    free(user_f);
    free(item_f);
    free(pop);
    return rc;
}
