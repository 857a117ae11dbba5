/*
 * importer_retail.c - UCI Online Retail (I and II) into the store.
 *
 * Items must exist before events that name them, so two passes: pass 1
 * collects one item per StockCode, pass 2 turns rows into events. An item's
 * title and price come from the last row with a positive UnitPrice (stock
 * adjustments in the real file have price 0 and a note such as "damaged" as
 * their Description); an item with no such row keeps its last non-empty
 * Description and price 0.
 */
#include "importer_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grow.h"

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
    int rc = imp_map_upsert(&c->codes, code, (uint32_t)c->n, &slot, &added);
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
        const char *cur = imp_arena_str(&c->titles, it->title);
        if ((!cur || strcmp(cur, desc) != 0) && (rc = imp_arena_add(&c->titles, desc, &it->title)) < 0)
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
    imp_map_free(&c->codes);
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
                           .title = imp_arena_str(&c->titles, ri->title),
                           .price = ri->price, .in_stock = 1};
        const char *why = store_item_invalid(&it);
        if (why) { /* its rows will be rejected as unknown items in pass 2 */
            imp_problem(im, ri->line, "StockCode %.40s: %s", it.item_id, why);
            continue;
        }
        int rc = 0;
        if (b->n == IMPORT_BATCH && (rc = imp_item_batch_flush(im, b)) < 0)
            return rc;
        if ((rc = imp_item_batch_add(b, &it, ri->line)) < 0)
            return rc;
    }
    return imp_item_batch_flush(im, b);
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
    int added, rc = imp_map_upsert(seen, id, 0, &slot, &added);
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
            if ((rc = imp_event_batch_push(im, b, &ev, line)) < 0)
                break;
        }
    }
    imp_map_free(&seen);
    return rc < 0 ? rc : imp_event_batch_flush(im, b);
}

int import_online_retail(importer_t *im, const char *path, event_batch_t *eb)
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
