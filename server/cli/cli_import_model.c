/*
 * cli_import_model.c - `patron import-model`: factors trained elsewhere
 * (Spark MLlib ALS, the Python implicit library) published as the store's
 * next model version (model_import.h reads, checks and publishes).
 *
 *   patron import-model --data DIR (--spark DIR | --implicit DIR)
 *                       [--user-map PATH] [--item-map PATH]
 *                       [--reg X] [--alpha X] [--alpha0 X] [--nu X]
 *                       [--half-life-days X]
 *
 * The fold-in settings (--reg ... --nu, the event weights and half-life)
 * are recorded in the model header: serving folds in customers the import
 * has no factors for, or whose events are newer, with them.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_import.h"
#include "store.h"
#include "train.h"

typedef struct import_args {
    const char *data, *spark, *implicit, *user_map, *item_map;
    uint64_t map_bytes;
    train_config_t train;
} import_args_t;

/* Reads the customer and item tables of the chosen format. */
static int read_tables(const import_args_t *a, mi_rows_t *users, mi_rows_t *items,
                       char *err, size_t cap)
{
    mi_idmap_t umap = { 0 }, imap = { 0 };
    char *udir = NULL, *idir = NULL;
    size_t sz;
    int rc = 0;

    if (a->implicit) {
        if ((rc = mi_read_implicit(a->implicit, "user", users, err, cap)) == 0)
            rc = mi_read_implicit(a->implicit, "item", items, err, cap);
        return rc;
    }
    sz = strlen(a->spark) + 16;
    if (!(udir = malloc(sz)) || !(idir = malloc(sz))) {
        free(udir);
        return -ENOMEM;
    }
    snprintf(udir, sz, "%s/userFactors", a->spark);
    snprintf(idir, sz, "%s/itemFactors", a->spark);
    if (a->user_map)
        rc = mi_idmap_read(a->user_map, &umap, err, cap);
    if (rc == 0 && a->item_map)
        rc = mi_idmap_read(a->item_map, &imap, err, cap);
    if (rc == 0)
        rc = mi_read_spark(udir, a->user_map ? &umap : NULL, users, err, cap);
    if (rc == 0)
        rc = mi_read_spark(idir, a->item_map ? &imap : NULL, items, err, cap);
    mi_idmap_free(&umap);
    mi_idmap_free(&imap);
    free(udir);
    free(idir);
    return rc;
}

static int import_model(const import_args_t *a)
{
    mi_rows_t users = { 0 }, items = { 0 };
    mi_report_t rep;
    char err[1024] = "", source[STORE_MODEL_SOURCE_MAX], abs[PATH_MAX];
    const char *dir = a->spark ? a->spark : a->implicit;
    store_t *s = NULL;
    int rc;

    if (snprintf(source, sizeof source, "%s:%s", a->spark ? "spark" : "implicit",
                 realpath(dir, abs) ? abs : dir) >= (int)sizeof source) {
        fprintf(stderr, "patron: import-model: %s: path too long\n", dir);
        return CLI_USAGE;
    }
    rc = read_tables(a, &users, &items, err, sizeof err);
    if (rc == 0 && cli_store_open(a->data, a->map_bytes, 0, &s) != 0) {
        mi_rows_free(&users);
        mi_rows_free(&items);
        return CLI_FAIL;
    }
    if (rc == 0)
        rc = mi_publish(s, &users, &items, &a->train, source, &rep, err, sizeof err);
    if (rc && err[0])
        fprintf(stderr, "patron: import-model: %s\n", err);
    else if (rc)
        cli_error(rc, "import-model failed");
    store_close(s);
    mi_rows_free(&users);
    mi_rows_free(&items);
    if (rc)
        return CLI_FAIL;
    if (rep.users_unknown)
        fprintf(stderr, "patron: warning: %u customers of the import have no events in "
                "the store: skipped\n", rep.users_unknown);
    if (rep.items_without)
        fprintf(stderr, "patron: warning: %u catalog items have no imported factors: "
                "ranked by popularity only\n", rep.items_without);
    printf("published model version %llu from %s: %u customers x %u items, %u factors "
           "(%u customer and %u item rows imported), popularity from %llu events\n",
           (unsigned long long)rep.hdr.version, source, rep.hdr.n_users, rep.hdr.n_items,
           rep.hdr.factors, rep.users_imported, rep.items_imported,
           (unsigned long long)rep.events);
    return CLI_OK;
}

int cli_import_model(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "import-model",
        "--data DIR (--spark DIR | --implicit DIR) [--user-map PATH] [--item-map PATH] "
        "[fold-in flags]",
        "Publishes factors trained elsewhere as the store's next model version (a\n"
        "running patrond picks it up on ReloadModel or SIGHUP, like a trained one).\n"
        "--spark DIR holds userFactors/ and itemFactors/ as Spark's df.write.json\n"
        "writes them; --implicit DIR holds user_factors.npy, item_factors.npy,\n"
        "user_ids.txt and item_ids.txt (`patron help formats`). Item ids must be in\n"
        "the catalog; customers without events in the store are skipped. Popularity\n"
        "is computed from the store's events. The fold-in flags should be the\n"
        "settings the factors were trained with: customers without imported factors,\n"
        "or with newer events, are folded in with them."
    };
    static import_args_t a;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &a.data),
        CLI_MAP_SIZE(&a.map_bytes),
        CLI_STR("spark", "DIR", "Spark ALS output: DIR/userFactors, DIR/itemFactors", 0,
                &a.spark),
        CLI_STR("implicit", "DIR", "implicit output: *_factors.npy and *_ids.txt", 0,
                &a.implicit),
        CLI_STR("user-map", "PATH", "Spark: customer id map, lines INT,CUSTOMER_ID "
                "(default: the integer is the id)", 0, &a.user_map),
        CLI_STR("item-map", "PATH", "Spark: item id map, lines INT,ITEM_ID "
                "(default: the integer is the id)", 0, &a.item_map),
        CLI_FLT("reg", "X", "fold-in: L2 regularization", 0, 1e6, &a.train.als.reg),
        CLI_FLT("alpha", "X", "fold-in: confidence of observed pairs", 0, 1e6,
                &a.train.als.alpha),
        CLI_FLT("alpha0", "X", "fold-in: weight of unobserved pairs", 0, 1e6,
                &a.train.als.alpha0),
        CLI_FLT("nu", "X", "fold-in: frequency-scaled regularization exponent", 0, 4,
                &a.train.als.nu),
        CLI_FLT("half-life-days", "X", "events lose half their weight every X days "
                "(0: never)", 0, 1e6, &a.train.half_life_days),
        CLI_END,
    };
    int rc;

    memset(&a, 0, sizeof a);
    train_config_default(&a.train);
    rc = cli_parse(argc, argv, 1, &cmd, opts);
    if (rc != CLI_PARSED)
        return rc;
    if (!a.spark == !a.implicit) {
        fprintf(stderr, "patron: import-model: give exactly one of --spark DIR and "
                "--implicit DIR\n");
        return CLI_USAGE;
    }
    if (a.implicit && (a.user_map || a.item_map)) {
        fprintf(stderr, "patron: import-model: --user-map/--item-map are for --spark "
                "(implicit's id lists name the shop's ids)\n");
        return CLI_USAGE;
    }
    return import_model(&a);
}
