/*
 * cli_data.c - the data commands of `patron`: loading a store and keeping
 * it small.
 *
 *   patron import  --data DIR | --addr HOST:PORT
 *                  [--items F] [--events F] [--format patron|online-retail]
 *   patron compact --data DIR [--customer-data-older-than-days D]
 *                  [--older-than-days D] [--offers-older-than-days D]
 *                  [--exposure-ids-older-than-days D]
 *   patron vacuum  --data DIR   (offline: rewrites the file without freed pages)
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "couponstore.h"
#include "customers_erase.h"
#include "expstore.h"
#include "cli_import_addr.h"
#include "importer.h"
#include "owners.h"
#include "store.h"
#include "triggers.h"
#include "wallclock.h"


/* ---- import -------------------------------------------------------------------- */

static void print_problem(void *ctx, uint64_t line, const char *msg)
{
    fprintf(stderr, "%s:%llu: %s\n", (const char *)ctx, (unsigned long long)line, msg);
}

static int parse_format(void *dest, const char *v)
{
    import_format_t *f = dest;
    if (strcmp(v, "patron") == 0)
        *f = IMPORT_PATRON;
    else if (strcmp(v, "online-retail") == 0)
        *f = IMPORT_ONLINE_RETAIL;
    else {
        fprintf(stderr, "patron import: --format must be patron or online-retail\n");
        return -1;
    }
    return 0;
}

static void print_import_report(const import_report_t *rep)
{
    printf("rows %llu: items inserted %llu, updated %llu; events accepted %llu, "
           "duplicate %llu, rejected %llu; malformed rows %llu, rows without "
           "customer %llu, cancellations %llu\n",
           (unsigned long long)rep->rows, (unsigned long long)rep->items_inserted,
           (unsigned long long)rep->items_updated,
           (unsigned long long)rep->events_accepted,
           (unsigned long long)rep->events_duplicate,
           (unsigned long long)rep->events_rejected,
           (unsigned long long)rep->malformed,
           (unsigned long long)rep->missing_customer,
           (unsigned long long)rep->cancellations);
}

static int cmd_import(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "import", "--data DIR | --addr HOST:PORT [--items F] [--events F] "
        "[--format patron|online-retail]",
        "Loads items and/or events from CSV files (layouts: `patron help formats`)\n"
        "into the store (--data, created if new), or sends them to a running\n"
        "patrond (--addr): items through Admin/UpsertItems, events streamed over\n"
        "Events/StreamEvents, with progress (rows/s, ETA) and the server's\n"
        "summary on stderr. Rows that cannot be read are reported with their line\n"
        "and skipped."
    };
    const char *data = NULL, *addr = NULL, *items = NULL, *events = NULL;
    import_format_t fmt = IMPORT_PATRON;
    uint64_t map_bytes = 0;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", 0, &data),
        CLI_STR("addr", "HOST:PORT", "send to this running patrond instead of a store",
                0, &addr),
        CLI_MAP_SIZE(&map_bytes),
        CLI_STR("items", "FILE", "items CSV", 0, &items),
        CLI_STR("events", "FILE", "events CSV", 0, &events),
        CLI_CALL("format", "NAME", "events layout: patron (default) or online-retail",
                 parse_format, &fmt),
        CLI_END,
    };
    import_report_t rep = { 0 };
    store_t *s;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (!items && !events) {
        fprintf(stderr, "patron import: needs --items and/or --events\n");
        return CLI_USAGE;
    }
    if (!data == !addr) {
        fprintf(stderr, "patron import: needs exactly one of --data DIR and --addr HOST:PORT\n");
        return CLI_USAGE;
    }
    if (addr) {
        rc = cli_import_addr(addr, items, events, fmt, &rep);
        print_import_report(&rep);
        return rc ? CLI_FAIL : CLI_OK;
    }
    if (cli_store_open(data, map_bytes, CLI_STORE_CREATE, &s) != 0)
        return CLI_FAIL;
    if (items)
        rc = import_items_csv(s, items, &rep, print_problem, (void *)items);
    else
        rc = 0;
    if (rc == 0 && events)
        rc = import_events_csv(s, events, fmt, &rep, print_problem, (void *)events);
    store_close(s);
    print_import_report(&rep);
    if (rc) {
        cli_error(rc, "import failed");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---- compact ------------------------------------------------------------------- */

typedef struct compact_args {
    double customer_days, views_days, offers_days, exposure_ids_days, triggers_days;
} compact_args_t;

/* Every durable owner of customer data (owners.h, the registry
 * DeleteCustomer and ExportCustomer walk) runs its retention with one
 * horizon; prints what each removed. *failed names the owner that failed. */
static int retain_customer_data(store_t *s, int64_t before_ms, double days,
                                const char **failed)
{
    custdata_owner_t o[OWNERS_DURABLE];
    uint64_t per[OWNERS_DURABLE] = { 0 }, total = 0;
    size_t n = owners_durable(o);
    int rc = customers_retain(s, o, n, before_ms, &total, per, failed);

    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (o[i].retain)
            printf("%s: deleted %llu %s older than %g days\n", o[i].name,
                   (unsigned long long)per[i], o[i].retain_what, days);
        else
            printf("%s: nothing removed by age (see patron compact --help)\n", o[i].name);
    }
    return 0;
}

/* Each horizon is measured from now (from the newest event would surprise a
 * live shop). */
static int compact_store(store_t *s, const compact_args_t *a, const char **failed)
{
    uint64_t removed = 0, added = 0, pruned = 0;
    int64_t now_ms = wall_ms();
    int rc = 0;

    if (a->customer_days > 0 &&
        (rc = retain_customer_data(s, now_ms - (int64_t)(a->customer_days * CIVIL_DAY_MS),
                                   a->customer_days, failed)) != 0)
        return rc;
    if (a->views_days > 0) {
        rc = store_compact_views(s, now_ms - (int64_t)(a->views_days * CIVIL_DAY_MS),
                                 &removed, &added);
        if (rc == 0)
            printf("compacted %llu old view events into %llu (purchases, carts and "
                   "refunds untouched)\n", (unsigned long long)removed,
                   (unsigned long long)added);
    }
    if (rc == 0 && a->offers_days > 0) {
        rc = couponstore_prune_offers(
            s, now_ms - (int64_t)(a->offers_days * CIVIL_DAY_MS), &pruned);
        if (rc == 0)
            printf("deleted %llu coupon offer log rows older than %g days (budgets, "
                   "grants and redemptions untouched)\n", (unsigned long long)pruned,
                   a->offers_days);
    }
    if (rc == 0 && a->exposure_ids_days > 0) {
        rc = expstore_prune_requests(
            s, now_ms - (int64_t)(a->exposure_ids_days * CIVIL_DAY_MS), &pruned);
        if (rc == 0)
            printf("forgot %llu experiment request ids older than %g days (results "
                   "untouched; a retry of those would count again)\n",
                   (unsigned long long)pruned, a->exposure_ids_days);
    }
    if (rc == 0 && a->triggers_days > 0) {
        rc = triggers_prune(s, now_ms - (int64_t)(a->triggers_days * CIVIL_DAY_MS), &pruned);
        if (rc == 0)
            printf("deleted %llu fired triggers older than %g days (their dedup marks are "
                   "kept, so none fires again; a consumer whose cursor is older skips "
                   "them)\n", (unsigned long long)pruned, a->triggers_days);
    }
    return rc;
}

static int cmd_compact(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "compact", "--data DIR [--customer-data-older-than-days D]\n"
                   "                      [--older-than-days D] [--offers-older-than-days D]\n"
                   "                      [--exposure-ids-older-than-days D]\n"
                   "                      [--triggers-older-than-days D]",
        "Retention and compaction; each horizon is D days before now, give at least one.\n"
        "--customer-data-older-than-days runs the retention of every owner of customer\n"
        "data (the registry DeleteCustomer and ExportCustomer walk) with one horizon:\n"
        "  coupons      delete offer log rows decided before it (budgets, grants and\n"
        "               redemptions are kept: they are the campaign's accounts);\n"
        "  experiments  forget exposure request ids logged before it (the per-customer\n"
        "               results are kept; a retry of such a request would count again);\n"
        "  triggers     delete fired triggers logged before it (Triggers/Subscribe's\n"
        "               log; the dedup marks stay, so nothing fires twice);\n"
        "  store        keeps its events, attributes and points (they are the training\n"
        "               data, profiles and balances): aggregate old views with\n"
        "               --older-than-days, erase a customer with DeleteCustomer.\n"
        "The other options run one part on its own horizon (with the first, both run)."
    };
    const char *data = NULL;
    compact_args_t a = { 0 };
    uint64_t map_bytes = 0;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &data),
        CLI_MAP_SIZE(&map_bytes),
        CLI_NUM("customer-data-older-than-days", "D",
                "every owner's retention: customer rows older than D days", 1e-6, 1e6,
                &a.customer_days),
        CLI_NUM("older-than-days", "D", "aggregate views older than D days", 0, 36500,
                &a.views_days),
        CLI_NUM("offers-older-than-days", "D", "delete offer log rows older than D days",
                1e-6, 1e6, &a.offers_days),
        CLI_NUM("exposure-ids-older-than-days", "D",
                "forget experiment request ids older than D days", 1e-6, 1e6,
                &a.exposure_ids_days),
        CLI_NUM("triggers-older-than-days", "D",
                "delete fired triggers logged more than D days ago", 1e-6, 1e6,
                &a.triggers_days),
        CLI_END,
    };
    const char *failed = NULL;
    store_t *s;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (a.customer_days <= 0 && a.views_days <= 0 && a.offers_days <= 0 &&
        a.exposure_ids_days <= 0 && a.triggers_days <= 0) {
        fprintf(stderr, "patron compact: give --customer-data-older-than-days (every "
                "owner's retention), --older-than-days (views), --offers-older-than-days "
                "(coupon offer log), --exposure-ids-older-than-days (experiment "
                "request ids) and/or --triggers-older-than-days (fired triggers), > 0\n");
        return CLI_USAGE;
    }
    if (cli_store_open(data, map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = compact_store(s, &a, &failed);
    if (rc && failed)
        cli_error(rc, "compaction failed in the retention of %s", failed);
    else if (rc)
        cli_error(rc, "compaction failed");
    store_close(s);
    if (rc)
        return CLI_FAIL;
    return CLI_OK;
}

/* ---- vacuum -------------------------------------------------------------------- */

static int cmd_vacuum(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "vacuum", "--data DIR",
        "Offline: rewrites the store's file without its freed pages (erased\n"
        "customers, compacted views). Stop patrond first."
    };
    const char *data = NULL;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &data),
        CLI_END,
    };
    uint64_t before = 0, after = 0;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    if ((rc = store_vacuum(data, &before, &after)) != 0) {
        if (rc == -EBUSY)
            fprintf(stderr, "patron: %s is open in another process (patrond or a "
                    "patron command): stop it first, vacuum works offline\n", data);
        else if (rc == -ENOENT)
            fprintf(stderr, "patron: no store in %s\n", data);
        else
            cli_error(rc, "vacuum failed (the store is unchanged)");
        return CLI_FAIL;
    }
    printf("vacuumed %s: data file %.1f MB -> %.1f MB; freed pages (erased "
           "customers, compacted views) are gone from disk\n", data,
           (double)before / 1e6, (double)after / 1e6);
    return CLI_OK;
}

static const cli_command_t commands[] = {
    { "import", "load items and events from CSV into a store", cmd_import },
    { "compact", "retention of customer data, aggregate old views", cmd_compact },
    { "vacuum", "offline: shrink the store's file", cmd_vacuum },
};

const cli_family_t cli_data_family = { "data", commands,
                                       sizeof commands / sizeof commands[0] };
