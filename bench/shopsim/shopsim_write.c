/*
 * shopsim_write.c - the simulator's output: items.csv, events.csv (patron
 * format) and online_retail.csv (the UCI layout), byte-identical for the
 * same arguments.
 */
#include "shopsim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "csv.h"

/* ---- output --------------------------------------------------------------- */

FILE *sim_open(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        fprintf(stderr, "shopsim: %s: %s\n", path, strerror(errno));
    return f;
}

int sim_close(FILE *f, const char *name)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "shopsim: writing %s failed\n", name);
        return -EIO;
    }
    return 0;
}

void sim_iso_time(int64_t t, char *buf, size_t n)
{
    int64_t y;
    unsigned m, d;
    int64_t days = t / SIM_DAY_S, sod = t % SIM_DAY_S;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

static void sim_retail_time(int64_t t, char *buf, size_t n)
{
    int64_t y;
    unsigned m, d;
    int64_t days = t / SIM_DAY_S, sod = t % SIM_DAY_S;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%u/%u/%lld %d:%02d", m, d, (long long)y, (int)(sod / 3600),
             (int)(sod / 60 % 60));
}

int sim_write_items(const sim_t *s)
{
    FILE *f = sim_open(s->cfg.out, "items.csv");
    if (!f)
        return -EIO;
    fputs("item_id,title,category,price,unit_cost,in_stock\n", f);
    for (uint32_t i = 0; i < s->cfg.items; i++) {
        const sim_item_t *it = &s->items[i];
        fprintf(f, "i%05u,", i);
        csv_write_field(f, it->title);
        fputc(',', f);
        csv_write_field(f, sim_categories[it->cat].name);
        fprintf(f, ",%.2f,%.2f,%d\n", it->price, it->unit_cost,
                it->stockout_day >= (int)s->cfg.days);
    }
    return sim_close(f, "items.csv");
}

static const char *sim_type_name(uint8_t type)
{
    static const char *const names[] = {"", "view", "cart", "purchase", "refund"};
    return names[type];
}

int sim_write_events(const sim_t *s, uint64_t counts[5])
{
    FILE *f = sim_open(s->cfg.out, "events.csv");
    if (!f)
        return -EIO;
    fputs("event_id,customer_id,item_id,type,timestamp,quantity,unit_price\n", f);
    uint64_t id = 0;
    for (size_t k = 0; k < s->nev; k++) {
        const sim_event_t *e = &s->ev[k];
        if (e->customer == SIM_NO_CUSTOMER || e->type > SIM_REFUND)
            continue;
        char ts[32];
        sim_iso_time(e->t, ts, sizeof ts);
        fprintf(f, "e%07llu,c%06u,i%05u,%s,%s,%d,%.2f\n", (unsigned long long)++id,
                e->customer, e->item, sim_type_name(e->type), ts, (int)e->qty, e->price);
        counts[e->type]++;
    }
    return sim_close(f, "events.csv");
}

static void sim_stock_code(uint32_t item, char *buf, size_t n)
{
    if (item % 9 == 4)
        snprintf(buf, n, "%u%c", SIM_FIRST_STOCK_CODE + item, 'A' + (int)(item / 9 % 3));
    else
        snprintf(buf, n, "%u", SIM_FIRST_STOCK_CODE + item);
}

static void sim_write_retail_row(FILE *f, const char *invoice, uint32_t item,
                                 const char *desc, int32_t qty, int64_t t,
                                 double price, const sim_customer_t *c, uint32_t ci)
{
    char code[32], date[32], upper[96];
    size_t k = 0;
    for (; desc[k] && k + 1 < sizeof upper; k++)
        upper[k] = (char)(desc[k] >= 'a' && desc[k] <= 'z' ? desc[k] - 32 : desc[k]);
    upper[k] = '\0';
    sim_stock_code(item, code, sizeof code);
    sim_retail_time(t, date, sizeof date);
    fprintf(f, "%s,%s,", invoice, code);
    csv_write_field(f, upper);
    fprintf(f, ",%d,%s,%.2f,", (int)qty, date, price);
    if (c)
        fprintf(f, "%u,", SIM_FIRST_CUSTOMER_NO + ci);
    else
        fputc(',', f);
    csv_write_field(f, c ? c->country : "United Kingdom");
    fputc('\n', f);
}

int sim_write_retail(sim_t *s)
{
    FILE *f = sim_open(s->cfg.out, "online_retail.csv");
    if (!f)
        return -EIO;
    fputs("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,"
          "CustomerID,Country\n", f);
    uint64_t next = SIM_FIRST_INVOICE, invoice = 0;
    uint32_t cur_session = UINT32_MAX;
    for (size_t k = 0; k < s->nev; k++) {
        const sim_event_t *e = &s->ev[k];
        const sim_customer_t *c = e->customer == SIM_NO_CUSTOMER ? NULL : &s->cust[e->customer];
        const char *title = s->items[e->item].title;
        char inv[32];
        if (e->type == SIM_PURCHASE) {
            if (e->session != cur_session) {
                invoice = next++;
                cur_session = e->session;
                s->invoices++;
            }
            snprintf(inv, sizeof inv, "%llu", (unsigned long long)invoice);
            sim_write_retail_row(f, inv, e->item, title, e->qty, e->t, e->price, c, e->customer);
        } else if (e->type == SIM_REFUND) {
            snprintf(inv, sizeof inv, "C%llu", (unsigned long long)next++);
            cur_session = UINT32_MAX;
            s->cancellations++;
            sim_write_retail_row(f, inv, e->item, title, -e->qty, e->t, e->price, c, e->customer);
        } else if (e->type == SIM_ADJUST) {
            snprintf(inv, sizeof inv, "%llu", (unsigned long long)next++);
            cur_session = UINT32_MAX;
            sim_write_retail_row(f, inv, e->item, e->note, e->qty, e->t, 0.0, NULL, 0);
        }
    }
    return sim_close(f, "online_retail.csv");
}
