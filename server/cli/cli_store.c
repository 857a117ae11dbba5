/*
 * cli_store.c - the store's life cycle: creating one, backing it up while
 * patrond serves, restoring a backup (recsys/store/store_backup.h).
 *
 *   patron init    --data DIR [--map-size BYTES]
 *   patron backup  --data DIR --out BACKUP [--map-size BYTES]
 *   patron restore --from BACKUP --data DIR [--force]
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "bytesize.h"
#include "store.h"
#include "store_backup.h"

static int cmd_init(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "init", "--data DIR [--map-size BYTES]",
        "Creates an empty store in DIR (made 0700 if missing). patrond and the other\n"
        "commands refuse a directory without one, so a mistyped --data cannot start\n"
        "an empty store. An existing store is left as it is."
    };
    const char *data = NULL;
    uint64_t map_bytes = 0;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &data),
        CLI_MAP_SIZE(&map_bytes),
        CLI_END,
    };
    store_t *s;
    int rc, existed;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    existed = store_exists(data);
    if (cli_store_open(data, map_bytes, CLI_STORE_CREATE, &s) != 0)
        return CLI_FAIL;
    store_close(s);
    printf(existed == 1 ? "%s already holds a Patron store (left unchanged)\n"
                        : "created an empty Patron store in %s\n", data);
    return CLI_OK;
}

static void print_info(const char *verb, const char *where, const store_backup_info_t *b)
{
    char size[16], when[CLI_TIME_CAP];
    printf("%s %s: %" PRIu64 " events (event seq < %" PRIu64 "), %s, store format %u, "
           "siphash24 %016" PRIx64 ", taken at %s\n", verb, where, b->events,
           b->event_seq, bytesize_format(b->bytes, size, sizeof size), b->format_version,
           b->checksum, cli_time_format(b->created_ms, when));
}

static int cmd_backup(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "backup", "--data DIR --out BACKUP [--map-size BYTES]",
        "Online backup: copies one consistent snapshot of the store (LMDB's compacting\n"
        "copy of a read transaction) into the new directory BACKUP, with a MANIFEST\n"
        "(format version, size, SipHash-2-4 checksum, event count), fsynced, and renamed\n"
        "into place in one step. patrond may go on serving and ingesting meanwhile;\n"
        "events acknowledged before the backup starts are in it."
    };
    const char *data = NULL, *out = NULL;
    uint64_t map_bytes = 0;
    cli_opt_t opts[] = {
        CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &data),
        CLI_STR("out", "BACKUP", "the backup directory to create (must not exist)",
                CLI_REQUIRED, &out),
        CLI_MAP_SIZE(&map_bytes),
        CLI_END,
    };
    store_backup_info_t info;
    store_t *s;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    if (cli_store_open(data, map_bytes, 0, &s) != 0)
        return CLI_FAIL;
    rc = store_backup(s, out, &info);
    store_close(s);
    if (rc == -EEXIST) {
        fprintf(stderr, "patron: %s already exists: a backup never replaces anything; "
                "choose a new --out\n", out);
        return CLI_FAIL;
    }
    if (rc) {
        cli_error(rc, "backup of %s into %s failed (nothing was left at %s)", data, out, out);
        return CLI_FAIL;
    }
    print_info("backup", out, &info);
    return CLI_OK;
}

static int cmd_restore(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "restore", "--from BACKUP --data DIR [--force]",
        "Restores a backup made by `patron backup` into DIR (created if missing):\n"
        "checks the MANIFEST's format version and the data file's size and checksum,\n"
        "and installs the copy with one rename. Refuses a DIR that a process (patrond,\n"
        "a patron command) has open, and a DIR that already holds a store unless\n"
        "--force (which replaces it)."
    };
    const char *from = NULL, *data = NULL;
    int force = 0;
    cli_opt_t opts[] = {
        CLI_STR("from", "BACKUP", "the backup directory", CLI_REQUIRED, &from),
        CLI_STR("data", "DIR", "the store directory to restore into", CLI_REQUIRED, &data),
        CLI_FLAG("force", "replace the store DIR holds (never one that is open)", &force),
        CLI_END,
    };
    store_backup_info_t info;
    int rc;

    if ((rc = cli_parse(argc, argv, 1, &cmd, opts)) != CLI_PARSED)
        return rc;
    rc = store_restore(from, data, force, &info);
    if (rc == -EBUSY)
        fprintf(stderr, "patron: %s is open in another process (patrond or a patron "
                "command): stop it first; nothing was changed\n", data);
    else if (rc == -EEXIST)
        fprintf(stderr, "patron: %s already holds a Patron store: restore into an empty "
                "directory, or pass --force to replace it; nothing was changed\n", data);
    else if (rc)
        cli_error(rc, "restore of %s into %s refused (nothing was changed)", from, data);
    if (rc)
        return CLI_FAIL;
    print_info("restored", data, &info);
    return CLI_OK;
}

static const cli_command_t commands[] = {
    { "init", "create an empty store", cmd_init },
    { "backup", "online backup of a store (while patrond serves)", cmd_backup },
    { "restore", "restore a backup into a store directory", cmd_restore },
};

const cli_family_t cli_store_family = { "store", commands,
                                        sizeof commands / sizeof commands[0] };
