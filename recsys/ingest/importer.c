/*
 * importer.c - loads patron and UCI Online Retail CSV files into the store.
 *
 * Rows are parsed by csv.c one at a time and written in batches of
 * IMPORT_BATCH (one store transaction, i.e. one fsync, per batch: importing
 * 100k events costs 20 commits, not 100k). Batched rows keep their strings in
 * a per-batch arena, as offsets until the flush (the arena may move while it
 * grows), and their line numbers, so a row the store rejects is reported
 * with the line it came from.
 *
 * Columns are found by header name (case, spaces and underscores ignored),
 * so reordered or extra columns work, and the Online Retail II spelling
 * (Invoice, Price, Customer ID) is accepted next to the original one.
 *
 * The shared machinery (arena, map, input, batches) and the patron formats
 * live here; UCI Online Retail in importer_retail.c (importer_impl.h).
 */
#include "importer_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "csv.h"
#include "grow.h"
#include "hash.h"

void imp_problem(importer_t *im, uint64_t line, const char *fmt, ...)
{
    if (!im->problem)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    im->problem(im->ctx, line, msg);
}

/* ---- string arena --------------------------------------------------------- */

/* Copies s (NUL-terminated) and stores its offset in *off. */
int imp_arena_add(imp_arena_t *a, const char *s, size_t *off)
{
    size_t n = strlen(s) + 1;
    if (GROW(a->p, a->cap, a->len + n) != 0)
        return -ENOMEM;
    memcpy(a->p + a->len, s, n);
    *off = a->len;
    a->len += n;
    return 0;
}

/* Like imp_arena_add, but an empty string is stored as IMPORT_NULL_OFF. */
static int imp_arena_add_opt(imp_arena_t *a, const char *s, size_t *off)
{
    if (!s || !*s) {
        *off = IMPORT_NULL_OFF;
        return 0;
    }
    return imp_arena_add(a, s, off);
}

const char *imp_arena_str(const imp_arena_t *a, size_t off)
{
    return off == IMPORT_NULL_OFF ? NULL : a->p + off;
}

/* ---- string -> u32 hash map (open addressing, linear probing) ------------- */

static int imp_map_grow(imp_map_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    imp_slot_t *slots = malloc(cap * sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < cap; i++)
        slots[i].key = IMPORT_NULL_OFF;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == IMPORT_NULL_OFF)
            continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].key != IMPORT_NULL_OFF)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* Finds key; if absent inserts it with value `fresh` and sets *added. On
 * success *slot points at the entry (valid until the next insertion). */
int imp_map_upsert(imp_map_t *m, const char *key, uint32_t fresh,
                   imp_slot_t **slot, int *added)
{
    if ((m->n + 1) * 4 > m->cap * 3) { /* keep load factor under 3/4 */
        int rc = imp_map_grow(m);
        if (rc < 0)
            return rc;
    }
    uint64_t h = fnv1a64_str(key);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key != IMPORT_NULL_OFF) {
        if (m->slots[j].hash == h && strcmp(m->keys.p + m->slots[j].key, key) == 0) {
            *slot = &m->slots[j];
            *added = 0;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    int rc = imp_arena_add(&m->keys, key, &m->slots[j].key);
    if (rc < 0)
        return rc;
    m->slots[j].hash = h;
    m->slots[j].val = fresh;
    m->n++;
    *slot = &m->slots[j];
    *added = 1;
    return 0;
}

void imp_map_free(imp_map_t *m)
{
    free(m->keys.p);
    free(m->slots);
}

/* ---- input file and header ------------------------------------------------ */

/* Lower-cases and drops spaces/underscores: "Customer ID" -> "customerid". */
static void imp_norm_name(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 1 < n; in++)
        if (*in != ' ' && *in != '_' && *in != '\t')
            out[k++] = (char)tolower((unsigned char)*in);
    out[k] = '\0';
}

static int imp_find_columns(importer_t *im, imp_input_t *in, char **fields,
                            size_t n, const imp_colspec_t *spec, int nspec)
{
    in->ncols = n;
    for (int c = 0; c < nspec; c++) {
        in->col[c] = -1;
        for (size_t i = 0; i < n && in->col[c] < 0; i++) {
            char name[64];
            imp_norm_name(fields[i], name, sizeof name);
            for (int a = 0; a < 2 && spec[c].names[a]; a++)
                if (strcmp(name, spec[c].names[a]) == 0)
                    in->col[c] = (int)i;
        }
        if (in->col[c] < 0 && spec[c].required) {
            imp_problem(im, csv_line(in->csv), "header: missing column '%s'",
                        spec[c].names[0]);
            return -EINVAL;
        }
    }
    return 0;
}

void imp_close(imp_input_t *in)
{
    csv_reader_free(in->csv);
    if (in->f)
        fclose(in->f);
    in->csv = NULL;
    in->f = NULL;
}

/* Opens path and reads its header. Returns 1 when rows may follow, 0 for an
 * empty file (nothing to import), or a negative errno. */
int imp_open(importer_t *im, imp_input_t *in, const char *path,
             const imp_colspec_t *spec, int nspec)
{
    memset(in, 0, sizeof *in);
    in->f = fopen(path, "rb");
    if (!in->f)
        return errno ? -errno : -EIO;
    in->csv = csv_reader_new(in->f);
    if (!in->csv) {
        imp_close(in);
        return -ENOMEM;
    }
    char **fields;
    size_t n;
    int rc = csv_next(in->csv, &fields, &n);
    if (rc == -EBADMSG) {
        imp_problem(im, csv_line(in->csv), "header: %s", csv_errmsg(in->csv));
        rc = -EINVAL;
    }
    if (rc == 1)
        rc = imp_find_columns(im, in, fields, n, spec, nspec) ? -EINVAL : 1;
    if (rc <= 0)
        imp_close(in);
    return rc;
}

/* Reads the next data row. Returns 1 with fields, 0 at the end, or a
 * negative errno; rows with a CSV syntax error or the wrong number of fields
 * are counted as malformed, reported and skipped. */
int imp_next_row(importer_t *im, imp_input_t *in, char ***fields)
{
    for (;;) {
        size_t n;
        int rc = csv_next(in->csv, fields, &n);
        if (rc != 1 && rc != -EBADMSG)
            return rc;
        im->rep->rows++;
        long pos = ftell(in->f);
        if (pos > 0)
            im->rep->bytes_read = (uint64_t)pos;
        if (rc == -EBADMSG) {
            im->rep->malformed++;
            imp_problem(im, csv_line(in->csv), "%s", csv_errmsg(in->csv));
        } else if (n != in->ncols) {
            im->rep->malformed++;
            imp_problem(im, csv_line(in->csv), "expected %zu fields, got %zu",
                        in->ncols, n);
        } else {
            return 1;
        }
    }
}

/* The field for column c, or "" if the file has no such column. */
const char *imp_field(const imp_input_t *in, char **fields, int c)
{
    return in->col[c] < 0 ? "" : fields[in->col[c]];
}

/* ---- field parsers that report -------------------------------------------- */

int imp_double(importer_t *im, uint64_t line, const char *name,
               const char *v, double dflt, double *out)
{
    if (!*v) {
        *out = dflt;
        return 0;
    }
    if (csv_parse_double(v, out) == 0)
        return 0;
    imp_problem(im, line, "%s: not a number: \"%.40s\"", name, v);
    return -EINVAL;
}

int imp_i32(importer_t *im, uint64_t line, const char *name,
            const char *v, int32_t *out)
{
    int64_t x;
    if (csv_parse_i64(v, &x) < 0 || x < INT32_MIN || x > INT32_MAX) {
        imp_problem(im, line, "%s: not an integer in range: \"%.40s\"", name, v);
        return -EINVAL;
    }
    *out = (int32_t)x;
    return 0;
}

int imp_time(importer_t *im, uint64_t line, const char *name,
             const char *v, int64_t *out)
{
    if (csv_parse_time_ms(v, out) == 0)
        return 0;
    imp_problem(im, line, "%s: not a valid time: \"%.40s\"", name, v);
    return -EINVAL;
}

/* ---- item batches --------------------------------------------------------- */

int imp_item_batch_add(item_batch_t *b, const store_item_t *it, uint64_t line)
{
    size_t k = b->n;
    int rc = imp_arena_add(&b->strs, it->item_id, &b->off[k][0]);
    if (rc == 0)
        rc = imp_arena_add_opt(&b->strs, it->title, &b->off[k][1]);
    if (rc == 0)
        rc = imp_arena_add_opt(&b->strs, it->category, &b->off[k][2]);
    if (rc < 0)
        return rc;
    b->it[k] = *it;
    b->line[k] = line;
    b->n++;
    return 0;
}

static void imp_item_batch_drop(item_batch_t *b, size_t k)
{
    memmove(&b->it[k], &b->it[k + 1], (b->n - k - 1) * sizeof b->it[0]);
    memmove(&b->off[k], &b->off[k + 1], (b->n - k - 1) * sizeof b->off[0]);
    memmove(&b->line[k], &b->line[k + 1], (b->n - k - 1) * sizeof b->line[0]);
    b->n--;
}

/* Upserts the batch. Rows were validated when added; should the store still
 * refuse one, it is reported, dropped and the rest retried. */
int imp_item_batch_flush(importer_t *im, item_batch_t *b)
{
    while (b->n > 0) {
        for (size_t k = 0; k < b->n; k++) {
            b->it[k].item_id = imp_arena_str(&b->strs, b->off[k][0]);
            b->it[k].title = imp_arena_str(&b->strs, b->off[k][1]);
            b->it[k].category = imp_arena_str(&b->strs, b->off[k][2]);
        }
        size_t ins = 0, upd = 0, bad = b->n;
        const char *reason = NULL;
        int rc = im->sink->upsert_items(im->sink->ctx, b->it, b->n, &ins, &upd,
                                        &bad, &reason);
        if (rc == 0) {
            im->rep->items_inserted += ins;
            im->rep->items_updated += upd;
            break;
        }
        if (rc != -EINVAL || bad >= b->n)
            return rc;
        im->rep->malformed++;
        imp_problem(im, b->line[bad], "%s", reason ? reason : "invalid item");
        imp_item_batch_drop(b, bad);
    }
    b->n = 0;
    b->strs.len = 0;
    return 0;
}

/* ---- event batches -------------------------------------------------------- */

static int imp_event_batch_add(event_batch_t *b, const store_event_t *ev, uint64_t line)
{
    size_t k = b->n;
    int rc = imp_arena_add(&b->strs, ev->event_id, &b->off[k][0]);
    if (rc == 0)
        rc = imp_arena_add(&b->strs, ev->customer_id, &b->off[k][1]);
    if (rc == 0)
        rc = imp_arena_add(&b->strs, ev->item_id, &b->off[k][2]);
    if (rc < 0)
        return rc;
    b->ev[k] = *ev;
    b->line[k] = line;
    b->n++;
    return 0;
}

int imp_event_batch_flush(importer_t *im, event_batch_t *b)
{
    if (b->n == 0)
        return 0;
    for (size_t k = 0; k < b->n; k++) {
        b->ev[k].event_id = b->strs.p + b->off[k][0];
        b->ev[k].customer_id = b->strs.p + b->off[k][1];
        b->ev[k].item_id = b->strs.p + b->off[k][2];
    }
    int rc = im->sink->record_events(im->sink->ctx, b->ev, b->line, b->n,
                                     b->outcome, b->reason);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < b->n; k++) {
        if (b->outcome[k] == STORE_ACCEPTED) {
            im->rep->events_accepted++;
        } else if (b->outcome[k] == STORE_DUPLICATE) {
            im->rep->events_duplicate++;
        } else if (b->outcome[k] == IMPORT_FORWARDED) {
            im->rep->events_forwarded++;
        } else {
            im->rep->events_rejected++;
            imp_problem(im, b->line[k], "%s",
                        b->reason[k] ? b->reason[k] : "rejected by the store");
        }
    }
    b->n = 0;
    b->strs.len = 0;
    return 0;
}

/* Adds an event, flushing first when the batch is full. */
int imp_event_batch_push(importer_t *im, event_batch_t *b,
                         const store_event_t *ev, uint64_t line)
{
    /* The API's window (store_event_time_invalid): a row dated before 2000
     * or in the future would poison training and recency like an API event. */
    const char *why = store_event_time_invalid(ev->time_ms, im->now_ms,
                                               STORE_DEFAULT_EVENT_SKEW_MS);
    if (why) {
        im->rep->events_rejected++;
        imp_problem(im, line, "%s", why);
        return 0;
    }
    if (b->n == IMPORT_BATCH) {
        int rc = imp_event_batch_flush(im, b);
        if (rc < 0)
            return rc;
    }
    return imp_event_batch_add(b, ev, line);
}

/* ---- patron items --------------------------------------------------------- */

enum { PI_ID, PI_TITLE, PI_CATEGORY, PI_PRICE, PI_COST, PI_STOCK, PI_NCOLS };
static const imp_colspec_t patron_item_cols[PI_NCOLS] = {
    {{"itemid", NULL}, 1},   {{"title", NULL}, 0},    {{"category", NULL}, 0},
    {{"price", NULL}, 1},    {{"unitcost", NULL}, 0}, {{"instock", NULL}, 0},
};

static int imp_bool(importer_t *im, uint64_t line, const char *name,
                    const char *v, int *out)
{
    if (!*v || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0) {
        *out = 0;
        return 0;
    }
    imp_problem(im, line, "%s: must be 1/0 or true/false: \"%.40s\"", name, v);
    return -EINVAL;
}

/* Parses one items row into *it (pointing into fields). */
static int patron_item_parse(importer_t *im, const imp_input_t *in, char **f,
                             uint64_t line, store_item_t *it)
{
    const char *price = imp_field(in, f, PI_PRICE);
    it->item_id = imp_field(in, f, PI_ID);
    it->title = imp_field(in, f, PI_TITLE);
    it->category = imp_field(in, f, PI_CATEGORY);
    if (!*price) {
        imp_problem(im, line, "price: missing");
        return -EINVAL;
    }
    if (imp_double(im, line, "price", price, 0, &it->price) < 0 ||
        imp_double(im, line, "unit_cost", imp_field(in, f, PI_COST), 0, &it->unit_cost) < 0 ||
        imp_bool(im, line, "in_stock", imp_field(in, f, PI_STOCK), &it->in_stock) < 0)
        return -EINVAL;
    const char *why = store_item_invalid(it);
    if (why) {
        imp_problem(im, line, "%s", why);
        return -EINVAL;
    }
    return 0;
}

static int import_patron_items(importer_t *im, imp_input_t *in, item_batch_t *b)
{
    char **f;
    int rc;
    while ((rc = imp_next_row(im, in, &f)) == 1) {
        uint64_t line = csv_line(in->csv);
        store_item_t it = {0};
        if (patron_item_parse(im, in, f, line, &it) < 0) {
            im->rep->malformed++;
            continue;
        }
        if (b->n == IMPORT_BATCH && (rc = imp_item_batch_flush(im, b)) < 0)
            return rc;
        if ((rc = imp_item_batch_add(b, &it, line)) < 0)
            return rc;
    }
    return rc < 0 ? rc : imp_item_batch_flush(im, b);
}

int import_items_to(const importer_sink_t *sink, const char *path,
                    import_report_t *rep, import_problem_fn problem, void *ctx)
{
    if (!sink || !path || !rep)
        return -EINVAL;
    importer_t im = {sink, rep, problem, ctx, 0};
    imp_input_t in;
    int rc = imp_open(&im, &in, path, patron_item_cols, PI_NCOLS);
    if (rc <= 0)
        return rc;
    item_batch_t *b = calloc(1, sizeof *b);
    rc = b ? import_patron_items(&im, &in, b) : -ENOMEM;
    if (b)
        free(b->strs.p);
    free(b);
    imp_close(&in);
    return rc;
}

/* ---- patron events -------------------------------------------------------- */

enum { PE_ID, PE_CUSTOMER, PE_ITEM, PE_TYPE, PE_TIME, PE_QTY, PE_PRICE, PE_NCOLS };
static const imp_colspec_t patron_event_cols[PE_NCOLS] = {
    {{"eventid", NULL}, 1},  {{"customerid", NULL}, 1}, {{"itemid", NULL}, 1},
    {{"type", NULL}, 1},     {{"timestamp", NULL}, 1},  {{"quantity", NULL}, 0},
    {{"unitprice", NULL}, 0},
};

static int imp_event_type(importer_t *im, uint64_t line, const char *v, int *out)
{
    for (int t = STORE_EVENT_VIEW; t <= STORE_EVENT_TYPE_MAX; t++) {
        if (strcasecmp(v, store_event_type_name(t)) == 0) {
            *out = t;
            return 0;
        }
    }
    imp_problem(im, line,
                "type: must be view, cart, purchase, refund, not_interested, signup, review, "
                "check_in, share, referral_signup or survey: \"%.40s\"", v);
    return -EINVAL;
}

static int patron_event_parse(importer_t *im, const imp_input_t *in, char **f,
                              uint64_t line, store_event_t *ev)
{
    const char *qty = imp_field(in, f, PE_QTY);
    ev->event_id = imp_field(in, f, PE_ID);
    ev->customer_id = imp_field(in, f, PE_CUSTOMER);
    ev->item_id = imp_field(in, f, PE_ITEM);
    ev->quantity = 0; /* empty: the store's default of 1 */
    if (imp_event_type(im, line, imp_field(in, f, PE_TYPE), &ev->type) < 0 ||
        imp_time(im, line, "timestamp", imp_field(in, f, PE_TIME), &ev->time_ms) < 0 ||
        (*qty && imp_i32(im, line, "quantity", qty, &ev->quantity) < 0) ||
        imp_double(im, line, "unit_price", imp_field(in, f, PE_PRICE), 0,
                   &ev->unit_price) < 0)
        return -EINVAL;
    return 0;
}

static int import_patron_events(importer_t *im, imp_input_t *in, event_batch_t *b)
{
    char **f;
    int rc;
    while ((rc = imp_next_row(im, in, &f)) == 1) {
        uint64_t line = csv_line(in->csv);
        store_event_t ev = {0};
        if (patron_event_parse(im, in, f, line, &ev) < 0) {
            im->rep->malformed++;
            continue;
        }
        if ((rc = imp_event_batch_push(im, b, &ev, line)) < 0)
            return rc;
    }
    return rc < 0 ? rc : imp_event_batch_flush(im, b);
}

/* Unix milliseconds now. */
static int64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int import_events_to(const importer_sink_t *sink, const char *path,
                     import_format_t fmt, import_report_t *rep,
                     import_problem_fn problem, void *ctx)
{
    if (!sink || !path || !rep || (fmt != IMPORT_PATRON && fmt != IMPORT_ONLINE_RETAIL))
        return -EINVAL;
    importer_t im = {sink, rep, problem, ctx, wall_now_ms()};
    event_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    int rc;
    if (fmt == IMPORT_ONLINE_RETAIL) {
        rc = import_online_retail(&im, path, b);
    } else {
        imp_input_t in;
        rc = imp_open(&im, &in, path, patron_event_cols, PE_NCOLS);
        if (rc > 0) {
            rc = import_patron_events(&im, &in, b);
            imp_close(&in);
        }
    }
    free(b->strs.p);
    free(b);
    return rc;
}

/* ---- the store sink ------------------------------------------------------- */

static int store_sink_items(void *ctx, const store_item_t *it, size_t n,
                            size_t *inserted, size_t *updated, size_t *bad,
                            const char **reason)
{
    return store_upsert_items(ctx, it, n, inserted, updated, bad, reason);
}

static int store_sink_events(void *ctx, const store_event_t *ev, const uint64_t *line,
                             size_t n, uint8_t *outcome, const char **reason)
{
    (void)line;
    return store_record_events(ctx, ev, n, outcome, reason);
}

int import_items_csv(store_t *s, const char *path, import_report_t *rep,
                     import_problem_fn problem, void *ctx)
{
    if (!s)
        return -EINVAL;
    importer_sink_t sink = {store_sink_items, store_sink_events, s};
    return import_items_to(&sink, path, rep, problem, ctx);
}

int import_events_csv(store_t *s, const char *path, import_format_t fmt,
                      import_report_t *rep, import_problem_fn problem, void *ctx)
{
    if (!s)
        return -EINVAL;
    importer_sink_t sink = {store_sink_items, store_sink_events, s};
    return import_events_to(&sink, path, fmt, rep, problem, ctx);
}
