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
 * Online Retail needs two passes because items must exist before events
 * that name them: pass 1 collects one item per StockCode, pass 2 turns rows
 * into events. An item's title and price come from the last row with a
 * positive UnitPrice (stock adjustments in the real file have price 0 and a
 * note such as "damaged" as their Description); an item with no such row
 * keeps its last non-empty Description and price 0.
 */
#include "importer.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "grow.h"
#include "hash.h"

/* Rows per store transaction: large enough that fsync cost is amortised,
 * small enough that a batch is a few hundred KiB. */
#define IMPORT_BATCH 5000
#define IMPORT_NULL_OFF ((size_t)-1)
#define IMPORT_MAX_COLS 8

typedef struct importer {
    store_t *s;
    import_report_t *rep;
    import_problem_fn problem;
    void *ctx;
} importer_t;

static void imp_problem(importer_t *im, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void imp_problem(importer_t *im, uint64_t line, const char *fmt, ...)
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

typedef struct imp_arena {
    char *p;
    size_t len, cap;
} imp_arena_t;

/* Copies s (NUL-terminated) and stores its offset in *off. */
static int arena_add(imp_arena_t *a, const char *s, size_t *off)
{
    size_t n = strlen(s) + 1;
    if (GROW(a->p, a->cap, a->len + n) != 0)
        return -ENOMEM;
    memcpy(a->p + a->len, s, n);
    *off = a->len;
    a->len += n;
    return 0;
}

/* Like arena_add, but an empty string is stored as IMPORT_NULL_OFF. */
static int arena_add_opt(imp_arena_t *a, const char *s, size_t *off)
{
    if (!s || !*s) {
        *off = IMPORT_NULL_OFF;
        return 0;
    }
    return arena_add(a, s, off);
}

static const char *arena_str(const imp_arena_t *a, size_t off)
{
    return off == IMPORT_NULL_OFF ? NULL : a->p + off;
}

/* ---- string -> u32 hash map (open addressing, linear probing) ------------- */

typedef struct imp_slot {
    uint64_t hash;
    size_t key; /* offset in keys; IMPORT_NULL_OFF = empty slot */
    uint32_t val;
} imp_slot_t;

typedef struct imp_map {
    imp_arena_t keys;
    imp_slot_t *slots;
    size_t cap, n;
} imp_map_t;

static int map_grow(imp_map_t *m)
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
static int map_upsert(imp_map_t *m, const char *key, uint32_t fresh,
                      imp_slot_t **slot, int *added)
{
    if ((m->n + 1) * 4 > m->cap * 3) { /* keep load factor under 3/4 */
        int rc = map_grow(m);
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
    int rc = arena_add(&m->keys, key, &m->slots[j].key);
    if (rc < 0)
        return rc;
    m->slots[j].hash = h;
    m->slots[j].val = fresh;
    m->n++;
    *slot = &m->slots[j];
    *added = 1;
    return 0;
}

static void map_free(imp_map_t *m)
{
    free(m->keys.p);
    free(m->slots);
}

/* ---- input file and header ------------------------------------------------ */

typedef struct imp_input {
    FILE *f;
    csv_reader_t *csv;
    size_t ncols;                  /* fields in the header */
    int col[IMPORT_MAX_COLS];      /* field index of each wanted column, -1 absent */
} imp_input_t;

/* A wanted column: accepted header names (normalised) and whether required. */
typedef struct imp_colspec {
    const char *names[2];
    int required;
} imp_colspec_t;

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

static void imp_close(imp_input_t *in)
{
    csv_reader_free(in->csv);
    if (in->f)
        fclose(in->f);
    in->csv = NULL;
    in->f = NULL;
}

/* Opens path and reads its header. Returns 1 when rows may follow, 0 for an
 * empty file (nothing to import), or a negative errno. */
static int imp_open(importer_t *im, imp_input_t *in, const char *path,
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
static int imp_next_row(importer_t *im, imp_input_t *in, char ***fields)
{
    for (;;) {
        size_t n;
        int rc = csv_next(in->csv, fields, &n);
        if (rc != 1 && rc != -EBADMSG)
            return rc;
        im->rep->rows++;
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
static const char *imp_field(const imp_input_t *in, char **fields, int c)
{
    return in->col[c] < 0 ? "" : fields[in->col[c]];
}

/* ---- field parsers that report -------------------------------------------- */

static int imp_double(importer_t *im, uint64_t line, const char *name,
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

static int imp_i32(importer_t *im, uint64_t line, const char *name,
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

static int imp_time(importer_t *im, uint64_t line, const char *name,
                    const char *v, int64_t *out)
{
    if (csv_parse_time_ms(v, out) == 0)
        return 0;
    imp_problem(im, line, "%s: not a valid time: \"%.40s\"", name, v);
    return -EINVAL;
}

/* ---- item batches --------------------------------------------------------- */

typedef struct item_batch {
    store_item_t it[IMPORT_BATCH];
    size_t off[IMPORT_BATCH][3]; /* item_id, title, category in strs */
    uint64_t line[IMPORT_BATCH];
    size_t n;
    imp_arena_t strs;
} item_batch_t;

static int item_batch_add(item_batch_t *b, const store_item_t *it, uint64_t line)
{
    size_t k = b->n;
    int rc = arena_add(&b->strs, it->item_id, &b->off[k][0]);
    if (rc == 0)
        rc = arena_add_opt(&b->strs, it->title, &b->off[k][1]);
    if (rc == 0)
        rc = arena_add_opt(&b->strs, it->category, &b->off[k][2]);
    if (rc < 0)
        return rc;
    b->it[k] = *it;
    b->line[k] = line;
    b->n++;
    return 0;
}

static void item_batch_drop(item_batch_t *b, size_t k)
{
    memmove(&b->it[k], &b->it[k + 1], (b->n - k - 1) * sizeof b->it[0]);
    memmove(&b->off[k], &b->off[k + 1], (b->n - k - 1) * sizeof b->off[0]);
    memmove(&b->line[k], &b->line[k + 1], (b->n - k - 1) * sizeof b->line[0]);
    b->n--;
}

/* Upserts the batch. Rows were validated when added; should the store still
 * refuse one, it is reported, dropped and the rest retried. */
static int item_batch_flush(importer_t *im, item_batch_t *b)
{
    while (b->n > 0) {
        for (size_t k = 0; k < b->n; k++) {
            b->it[k].item_id = arena_str(&b->strs, b->off[k][0]);
            b->it[k].title = arena_str(&b->strs, b->off[k][1]);
            b->it[k].category = arena_str(&b->strs, b->off[k][2]);
        }
        size_t ins = 0, upd = 0, bad = b->n;
        const char *reason = NULL;
        int rc = store_upsert_items(im->s, b->it, b->n, &ins, &upd, &bad, &reason);
        if (rc == 0) {
            im->rep->items_inserted += ins;
            im->rep->items_updated += upd;
            break;
        }
        if (rc != -EINVAL || bad >= b->n)
            return rc;
        im->rep->malformed++;
        imp_problem(im, b->line[bad], "%s", reason ? reason : "invalid item");
        item_batch_drop(b, bad);
    }
    b->n = 0;
    b->strs.len = 0;
    return 0;
}

/* ---- event batches -------------------------------------------------------- */

typedef struct event_batch {
    store_event_t ev[IMPORT_BATCH];
    size_t off[IMPORT_BATCH][3]; /* event_id, customer_id, item_id in strs */
    uint64_t line[IMPORT_BATCH];
    uint8_t outcome[IMPORT_BATCH];
    const char *reason[IMPORT_BATCH];
    size_t n;
    imp_arena_t strs;
} event_batch_t;

static int event_batch_add(event_batch_t *b, const store_event_t *ev, uint64_t line)
{
    size_t k = b->n;
    int rc = arena_add(&b->strs, ev->event_id, &b->off[k][0]);
    if (rc == 0)
        rc = arena_add(&b->strs, ev->customer_id, &b->off[k][1]);
    if (rc == 0)
        rc = arena_add(&b->strs, ev->item_id, &b->off[k][2]);
    if (rc < 0)
        return rc;
    b->ev[k] = *ev;
    b->line[k] = line;
    b->n++;
    return 0;
}

static int event_batch_flush(importer_t *im, event_batch_t *b)
{
    if (b->n == 0)
        return 0;
    for (size_t k = 0; k < b->n; k++) {
        b->ev[k].event_id = b->strs.p + b->off[k][0];
        b->ev[k].customer_id = b->strs.p + b->off[k][1];
        b->ev[k].item_id = b->strs.p + b->off[k][2];
    }
    int rc = store_record_events(im->s, b->ev, b->n, b->outcome, b->reason);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < b->n; k++) {
        if (b->outcome[k] == STORE_ACCEPTED) {
            im->rep->events_accepted++;
        } else if (b->outcome[k] == STORE_DUPLICATE) {
            im->rep->events_duplicate++;
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
static int event_batch_push(importer_t *im, event_batch_t *b,
                            const store_event_t *ev, uint64_t line)
{
    if (b->n == IMPORT_BATCH) {
        int rc = event_batch_flush(im, b);
        if (rc < 0)
            return rc;
    }
    return event_batch_add(b, ev, line);
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
        if (b->n == IMPORT_BATCH && (rc = item_batch_flush(im, b)) < 0)
            return rc;
        if ((rc = item_batch_add(b, &it, line)) < 0)
            return rc;
    }
    return rc < 0 ? rc : item_batch_flush(im, b);
}

int import_items_csv(store_t *s, const char *path, import_report_t *rep,
                     import_problem_fn problem, void *ctx)
{
    if (!s || !path || !rep)
        return -EINVAL;
    importer_t im = {s, rep, problem, ctx};
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
    static const char *const names[] = {"view", "cart", "purchase", "refund"};
    for (int t = 0; t < 4; t++) {
        if (strcasecmp(v, names[t]) == 0) {
            *out = STORE_EVENT_VIEW + t;
            return 0;
        }
    }
    imp_problem(im, line, "type: must be view, cart, purchase or refund: \"%.40s\"", v);
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
        if ((rc = event_batch_push(im, b, &ev, line)) < 0)
            return rc;
    }
    return rc < 0 ? rc : event_batch_flush(im, b);
}

/* ---- online retail -------------------------------------------------------- */

enum { OR_INVOICE, OR_CODE, OR_DESC, OR_QTY, OR_DATE, OR_PRICE, OR_CUSTOMER,
       OR_COUNTRY, OR_NCOLS };
static const imp_colspec_t retail_cols[OR_NCOLS] = {
    {{"invoiceno", "invoice"}, 1},     {{"stockcode", NULL}, 1},
    {{"description", NULL}, 1},        {{"quantity", NULL}, 1},
    {{"invoicedate", NULL}, 1},        {{"unitprice", "price"}, 1},
    {{"customerid", NULL}, 1},         {{"country", NULL}, 0},
};

/* What pass 1 learnt about one StockCode. */
typedef struct retail_item {
    size_t code, title;  /* offsets in the code map's keys / in titles */
    int title_rank;      /* 2: title from a priced row, 1: unpriced, 0: none */
    double price;
    uint64_t line;       /* last row that set something */
} retail_item_t;

typedef struct retail_catalogue {
    imp_map_t codes;     /* StockCode -> index in items */
    retail_item_t *items;
    size_t n, cap;
    imp_arena_t titles;
} retail_catalogue_t;

static int catalogue_entry(retail_catalogue_t *c, const char *code, retail_item_t **out)
{
    imp_slot_t *slot;
    int added;
    int rc = map_upsert(&c->codes, code, (uint32_t)c->n, &slot, &added);
    if (rc < 0)
        return rc;
    if (added) {
        if (GROW(c->items, c->cap, c->n + 1) != 0)
            return -ENOMEM;
        c->items[c->n++] = (retail_item_t){.code = slot->key, .title = IMPORT_NULL_OFF};
    }
    *out = &c->items[slot->val];
    return 0;
}

/* Folds one row into the catalogue; see the rule at the top of the file. */
static int catalogue_learn(retail_catalogue_t *c, const char *code,
                           const char *desc, double price, uint64_t line)
{
    retail_item_t *it;
    int rc = catalogue_entry(c, code, &it);
    if (rc < 0)
        return rc;
    int rank = !*desc ? 0 : price > 0 ? 2 : 1;
    if (rank > 0 && rank >= it->title_rank) {
        const char *cur = arena_str(&c->titles, it->title);
        if ((!cur || strcmp(cur, desc) != 0) && (rc = arena_add(&c->titles, desc, &it->title)) < 0)
            return rc;
        it->title_rank = rank;
        it->line = line;
    }
    if (price > 0) {
        it->price = price;
        it->line = line;
    } else if (it->line == 0) {
        it->line = line;
    }
    return 0;
}

static void catalogue_free(retail_catalogue_t *c)
{
    map_free(&c->codes);
    free(c->items);
    free(c->titles.p);
}

/* Pass 1: learn items from every row whose StockCode, Quantity, InvoiceDate
 * and UnitPrice parse, with or without a customer (a guest's purchase still
 * describes a real item). Nothing is counted or reported here; pass 2 does
 * that for every row. */
static int retail_learn_items(imp_input_t *in, retail_catalogue_t *c)
{
    char **f;
    size_t n;
    int rc;
    while ((rc = csv_next(in->csv, &f, &n)) == 1 || rc == -EBADMSG) {
        double price;
        int64_t qty, when;
        if (rc != 1 || n != in->ncols || !*f[in->col[OR_CODE]] ||
            csv_parse_i64(f[in->col[OR_QTY]], &qty) < 0 ||
            csv_parse_time_ms(f[in->col[OR_DATE]], &when) < 0 ||
            csv_parse_double(f[in->col[OR_PRICE]], &price) < 0)
            continue;
        rc = catalogue_learn(c, f[in->col[OR_CODE]], f[in->col[OR_DESC]], price,
                             csv_line(in->csv));
        if (rc < 0)
            return rc;
    }
    return rc;
}

static int retail_upsert_items(importer_t *im, retail_catalogue_t *c, item_batch_t *b)
{
    for (size_t i = 0; i < c->n; i++) {
        const retail_item_t *ri = &c->items[i];
        store_item_t it = {.item_id = c->codes.keys.p + ri->code,
                           .title = arena_str(&c->titles, ri->title),
                           .price = ri->price, .in_stock = 1};
        const char *why = store_item_invalid(&it);
        if (why) { /* its rows will be rejected as unknown items in pass 2 */
            imp_problem(im, ri->line, "StockCode %.40s: %s", it.item_id, why);
            continue;
        }
        int rc = 0;
        if (b->n == IMPORT_BATCH && (rc = item_batch_flush(im, b)) < 0)
            return rc;
        if ((rc = item_batch_add(b, &it, ri->line)) < 0)
            return rc;
    }
    return item_batch_flush(im, b);
}

/* "17850.0" -> "17850" (the UCI file passed through a float column); any
 * other id is kept as it is. Edits v in place. */
static void retail_norm_customer(char *v)
{
    size_t digits = strspn(v, "0123456789");
    if (digits == 0 || v[digits] != '.')
        return;
    if (v[digits + 1 + strspn(v + digits + 1, "0")] == '\0')
        v[digits] = '\0';
}

/* Event id "<InvoiceNo>:<StockCode>:<n>": n counts rows with the same prefix,
 * so ids are unique within the file and stable when it is re-imported. The
 * count covers every row with the right field count, valid or not, so fixing
 * one bad row does not renumber the others. */
static int retail_event_id(imp_map_t *seen, const char *inv, const char *code,
                           char *id, size_t n)
{
    int len = snprintf(id, n, "%s:%s", inv, code);
    if (len < 0 || (size_t)len >= n - 12)
        return -E2BIG;
    imp_slot_t *slot;
    int added, rc = map_upsert(seen, id, 0, &slot, &added);
    if (rc < 0)
        return rc;
    slot->val++;
    snprintf(id + len, n - (size_t)len, ":%u", slot->val);
    return 0;
}

/* Parses one row into *ev (id in idbuf). Returns 0, 1 if the row is valid
 * but has no customer, -EINVAL if malformed (reported), or -ENOMEM. */
static int retail_event_parse(importer_t *im, const imp_input_t *in, char **f,
                              uint64_t line, imp_map_t *seen, char *idbuf,
                              size_t idlen, store_event_t *ev)
{
    const char *inv = imp_field(in, f, OR_INVOICE), *code = imp_field(in, f, OR_CODE);
    char *cust = f[in->col[OR_CUSTOMER]];
    int rc = retail_event_id(seen, inv, code, idbuf, idlen);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0 || !*inv || !*code) {
        imp_problem(im, line, "InvoiceNo/StockCode: missing or too long");
        return -EINVAL;
    }
    const char *price = imp_field(in, f, OR_PRICE);
    int32_t qty;
    if (imp_i32(im, line, "Quantity", imp_field(in, f, OR_QTY), &qty) < 0 ||
        imp_time(im, line, "InvoiceDate", imp_field(in, f, OR_DATE), &ev->time_ms) < 0)
        return -EINVAL;
    if (qty == 0 || qty == INT32_MIN) { /* 0 would mean 1 to the store */
        imp_problem(im, line, "Quantity: must be a nonzero integer");
        return -EINVAL;
    }
    if (!*price) {
        imp_problem(im, line, "UnitPrice: missing");
        return -EINVAL;
    }
    if (imp_double(im, line, "UnitPrice", price, 0, &ev->unit_price) < 0)
        return -EINVAL;
    retail_norm_customer(cust);
    if (!*cust)
        return 1;
    int cancel = inv[0] == 'C' || inv[0] == 'c';
    ev->event_id = idbuf;
    ev->customer_id = cust;
    ev->item_id = code;
    ev->type = cancel ? STORE_EVENT_REFUND : STORE_EVENT_PURCHASE;
    /* A cancellation's Quantity is negative; the refund's is positive. A
     * negative quantity elsewhere goes to the store, which rejects it. */
    ev->quantity = cancel && qty < 0 ? -qty : qty;
    return 0;
}

static int retail_import_events(importer_t *im, imp_input_t *in, event_batch_t *b)
{
    imp_map_t seen = {0};
    char **f, idbuf[STORE_MAX_ID + 1];
    int rc;
    while ((rc = imp_next_row(im, in, &f)) == 1) {
        uint64_t line = csv_line(in->csv);
        store_event_t ev = {0};
        rc = retail_event_parse(im, in, f, line, &seen, idbuf, sizeof idbuf, &ev);
        if (rc == -ENOMEM)
            break;
        if (rc == -EINVAL) {
            im->rep->malformed++;
        } else if (rc == 1) {
            im->rep->missing_customer++;
            imp_problem(im, line, "CustomerID: missing");
        } else {
            im->rep->cancellations += ev.type == STORE_EVENT_REFUND;
            if ((rc = event_batch_push(im, b, &ev, line)) < 0)
                break;
        }
    }
    map_free(&seen);
    return rc < 0 ? rc : event_batch_flush(im, b);
}

static int import_online_retail(importer_t *im, const char *path, event_batch_t *eb)
{
    imp_input_t in;
    retail_catalogue_t cat = {0};
    item_batch_t *ib = NULL;
    int rc = imp_open(im, &in, path, retail_cols, OR_NCOLS);
    if (rc <= 0)
        return rc;
    rc = retail_learn_items(&in, &cat);
    if (rc == 0 && !(ib = calloc(1, sizeof *ib)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = retail_upsert_items(im, &cat, ib);
    imp_close(&in);
    if (rc == 0 && (rc = imp_open(im, &in, path, retail_cols, OR_NCOLS)) > 0) {
        rc = retail_import_events(im, &in, eb);
        imp_close(&in);
    }
    if (ib)
        free(ib->strs.p);
    free(ib);
    catalogue_free(&cat);
    return rc;
}

int import_events_csv(store_t *s, const char *path, import_format_t fmt,
                      import_report_t *rep, import_problem_fn problem, void *ctx)
{
    if (!s || !path || !rep || (fmt != IMPORT_PATRON && fmt != IMPORT_ONLINE_RETAIL))
        return -EINVAL;
    importer_t im = {s, rep, problem, ctx};
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
