/*
 * bench_catalog.c - what keeping the served catalog fresh costs: after each
 * UpsertItems the server rebuilds the catalog snapshot from the store
 * (catalog_slot_reload). Prints, for a 100,000-item catalog:
 *   - the full rebuild (read the items table, intern categories, sort by id
 *     and by price),
 *   - the items-table scan alone (what a copy-on-write patch would save),
 *   - a lower bound for a copy-on-write patch: copying the snapshot's
 *     arrays (strings shared, nothing re-sorted), which a patched snapshot
 *     needs at the least because snapshots are immutable,
 *   - catalog_patch itself for one item's new price and stock (what the
 *     server does after such an UpsertItems), and for 1,000 items.
 * Medians of 7 runs. Usage: bench_catalog [items]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "store.h"
#include "topk.h"
#include "monotime.h"

#define RUNS 7

static double now_ms(void)
{
    return monotime_seconds() * 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp_double);
    return v[RUNS / 2];
}

static int fill_store(store_t *s, uint32_t n)
{
    enum { BATCH = 10000 };
    static char ids[BATCH][24], titles[BATCH][32], cats[BATCH][16];
    store_item_t *it = calloc(BATCH, sizeof *it);
    int rc = it ? 0 : -ENOMEM;

    for (uint32_t base = 0; rc == 0 && base < n; base += BATCH) {
        uint32_t m = n - base < BATCH ? n - base : BATCH;
        for (uint32_t j = 0; j < m; j++) {
            uint32_t i = base + j;
            snprintf(ids[j], sizeof ids[j], "sku-%08u", (i * 2654435761u) % 100000000u);
            snprintf(titles[j], sizeof titles[j], "Item number %u", i);
            snprintf(cats[j], sizeof cats[j], "cat-%u", i % 300);
            it[j] = (store_item_t){ .item_id = ids[j], .title = titles[j], .category = cats[j],
                                    .price = 1 + (i * 7919u) % 10000 / 10.0,
                                    .unit_cost = 0.5, .in_stock = i % 17 != 0 };
        }
        rc = store_upsert_items(s, it, m, NULL, NULL, NULL, NULL);
    }
    free(it);
    return rc;
}

static int count_item(void *ctx, uint32_t idx, const store_item_t *it)
{
    (void)idx;
    (void)it;
    (*(uint32_t *)ctx)++;
    return 0;
}

/* Copies what an immutable patched snapshot must copy at the least. */
static int copy_arrays(const catalog_t *c)
{
    size_t n = c->n_items ? c->n_items : 1;
    size_t words = TOPK_BITSET_WORDS(c->n_items) + 1;
    void *p[8] = {
        malloc(n * sizeof(char *)), malloc(n * sizeof(char *)),
        malloc(n * sizeof(double)), malloc(n * sizeof(double)), malloc(n),
        malloc(n * sizeof(uint32_t) * 4), malloc(words * sizeof(uint64_t)), NULL };
    int rc = 0;
    for (int i = 0; i < 7; i++)
        if (!p[i])
            rc = -ENOMEM;
    if (rc == 0) {
        memcpy(p[0], c->ids, n * sizeof(char *));
        memcpy(p[1], c->titles, n * sizeof(char *));
        memcpy(p[2], c->price, n * sizeof(double));
        memcpy(p[3], c->unit_cost, n * sizeof(double));
        memcpy(p[4], c->in_stock, n);
        memcpy(p[5], c->item_cat, n * sizeof(uint32_t));
        memcpy((uint32_t *)p[5] + n, c->cat_items, n * sizeof(uint32_t));
        memcpy((uint32_t *)p[5] + 2 * n, c->by_price, n * sizeof(uint32_t));
        memcpy((uint32_t *)p[5] + 3 * n, c->by_id, n * sizeof(uint32_t));
        memcpy(p[6], c->out_of_stock, words * sizeof(uint64_t));
    }
    for (int i = 0; i < 7; i++)
        free(p[i]);
    return rc;
}

/* Times catalog_patch of k existing items (new prices, half out of stock). */
static int time_patch(const catalog_t *c, uint32_t k, double *ms)
{
    store_item_t *w = calloc(k, sizeof *w);
    uint32_t *idx = calloc(k, sizeof *idx);
    catalog_t *out = NULL;
    double t0;
    int rc = w && idx && k <= c->n_items ? 0 : -ENOMEM;

    for (uint32_t i = 0; rc == 0 && i < k; i++) {
        idx[i] = (i * 7919u) % c->n_items;
        w[i] = (store_item_t){ .item_id = c->ids[idx[i]], .title = c->titles[idx[i]],
                               .category = catalog_item_category(c, idx[i]), .price = c->price[idx[i]] + 1,
                               .unit_cost = c->unit_cost[idx[i]], .in_stock = (int)(i & 1) };
    }
    t0 = now_ms();
    if (rc == 0)
        rc = catalog_patch(c, w, idx, k, c->n_items, &out);
    *ms = now_ms() - t0;
    catalog_unref(out);
    free(w);
    free(idx);
    return rc;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
    char dir[] = "/tmp/bench_catalog.XXXXXX";
    double load[RUNS], scan[RUNS], copy[RUNS], patch1[RUNS], patch1k[RUNS];
    store_t *s = NULL;
    catalog_t *c = NULL;

    if (!mkdtemp(dir) || store_open(dir, 1u << 30, &s) != 0 || fill_store(s, n) != 0) {
        fprintf(stderr, "bench_catalog: cannot build a %u-item store in %s\n", n, dir);
        return 1;
    }
    for (int r = 0; r < RUNS; r++) {
        uint32_t seen = 0;
        double t0 = now_ms();
        if (catalog_load(s, &c) != 0)
            return 1;
        load[r] = now_ms() - t0;
        t0 = now_ms();
        if (store_scan_items(s, count_item, &seen) != 0 || seen != n)
            return 1;
        scan[r] = now_ms() - t0;
        t0 = now_ms();
        if (copy_arrays(c) != 0)
            return 1;
        copy[r] = now_ms() - t0;
        if (time_patch(c, 1, &patch1[r]) != 0 || time_patch(c, 1000, &patch1k[r]) != 0)
            return 1;
        catalog_unref(c);
    }
    printf("catalog snapshot, %u items (%s)\n", n, dir);
    printf("  rebuild from the store (catalog_load)      %8.2f ms\n", median(load));
    printf("    of which reading the items table         %8.2f ms\n", median(scan));
    printf("  copy-on-write patch, lower bound (copies)  %8.2f ms\n", median(copy));
    printf("  catalog_patch, 1 item's price and stock    %8.2f ms\n", median(patch1));
    printf("  catalog_patch, 1000 items                  %8.2f ms\n", median(patch1k));
    store_close(s);
    return 0;
}
